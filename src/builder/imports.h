/*
 * imports.h - what the packed modules import, read by the compile server's
 * SCAN op (src/launcher/py/server_scan.py, one ast pass per source): the
 * warning for imports that resolve to nothing packed, and which top-level
 * packages need real files on disk (KP_MOD_EXTRACT). Only sources from
 * outside the standard library are scanned.
 */
#ifndef KILN_IMPORTS_H
#define KILN_IMPORTS_H

#include "cache.h"
#include "collect.h"
#include "server.h"

typedef struct {
    const bytecode_cache *cache;
    char *key; /* target CPython and scanner, from the INFO reply */
    size_t scanned; /* scans asked of the compile servers */
} scan_keys;

void scan_keys_init(scan_keys *k, const bytecode_cache *cache,
                    uint32_t hexversion, const char *scanner);
void scan_keys_free(scan_keys *k);
/* Asks server s for m's scan (m->bytes holds its source). A scan that
   fails is a warning and leaves m->scan NULL; -1 when the server is gone
   (message printed). */
int scan_request(kserver *s, module_item *m);
/* m's scan from the cache, else from server s (then cached). */
int scan_now(kserver *s, scan_keys *k, module_item *m);
/* Pushes onto tops (as new strings, once each) the top-level names that
   a scan imports absolutely. */
void scan_top_names(const char *scan, vec *tops);
/* work = misses (to compile) + the sources that still need a scan and
   are not cached (want_scan set); the compile workers do both. */
void scan_plan(scan_keys *k, const vec *sources, const vec *misses,
               vec *work);
/* Caches the scans that the workers made. */
void scan_save(const scan_keys *k, const vec *sources);

/* Prints one warning block for the unguarded imports of non-stdlib
   modules that resolve neither to a packed module nor to one the target
   always has (importable: its built-in and frozen modules, comma-separated
   names); stdlib and dynload say which of them kiln left
   out of the stdlib. main is what -m runs, else NULL: what a module does
   under `if __name__ == "__main__"` counts only in the script and main.
   verbose lists them all, with lines. A top-level name that an installed
   distribution provides is named with it: providers(ctx, names) gets the
   '\n'-joined names and returns "NAME\tDIST,...\n" lines (dist.h). */
typedef char *(*providers_fn)(void *ctx, const char *names);
void imports_warn(const collection *c, const char *main,
                  const char *importable, const char *stdlib,
                  const char *dynload, int verbose, providers_fn providers,
                  void *ctx);
/* Checks the names forced either way (--extract, --no-extract): each must
   be the top-level name of a packed module from outside the stdlib, and
   in one list only. -1 with a message otherwise; origin says where the
   names come from (NULL: the command line). */
int extract_check(const collection *c, const vec *force, const vec *never,
                  const char *origin);
/* Sets needs_files from the scans, and extract on every module of each
   top-level package from outside the stdlib that needs files or is
   forced, unless never names it. main as for imports_warn. verbose says
   which and why. */
void extract_plan(collection *c, const char *main, const vec *force,
                  const vec *never, int verbose);

#endif
