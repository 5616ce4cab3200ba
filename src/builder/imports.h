/*
 * imports.h - what the app's imports need, from the scans (scan.h): the
 * installed distributions to pack (followed before the build compiles),
 * and the warning for imports that resolve to nothing packed.
 */
#ifndef KILN_IMPORTS_H
#define KILN_IMPORTS_H

#include "collect.h"
#include "scan.h"

/* The DISTS request (follow= and packed= lines) that packs what the app
   needs and the site folders have: imports at module level of the modules
   that the app reaches (from what it runs and the entry points of packed
   distributions in a packed package's groups, through every import) that
   resolve to nothing packed, required or optional; not a fallback whose
   first choice is there, nor tests, build scripts, GUI toolkits. NULL when
   there is nothing to ask. asked (char*) keeps the names asked about, so
   that each is asked once. main and importable as for imports_warn. */
char *imports_follow(const collection *c, const char *main,
                     const char *importable, dists_fn ask, void *ctx,
                     vec *asked);

/* Prints one warning block for the unguarded imports of non-stdlib
   modules that resolve neither to a packed module nor to one the target
   always has (importable: its built-in and frozen modules, comma-separated
   names), and for guarded ones whose fallback does not either; stdlib and
   dynload say which of them kiln left out of the stdlib. main is what -m
   runs, else NULL: what a module does under `if __name__ == "__main__"`
   counts only in the script and main. Ranked: module-level imports of
   modules the app reaches first, in full; then the others; last tests,
   build scripts and other GUI toolkits' backends. verbose lists them all,
   with lines. A name that an installed distribution really holds is named
   with the --package that packs it (ask). */
void imports_warn(const collection *c, const char *main,
                  const char *importable, const char *stdlib,
                  const char *dynload, int verbose, dists_fn ask, void *ctx);

#endif
