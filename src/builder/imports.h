/*
 * imports.h - what the packed modules import, read by the compile server's
 * SCAN op (src/builder/py/server_scan.py, one ast pass per source) and,
 * for extension modules, from their .py twin and the strings of their C
 * code: the installed distributions that the app's imports need (followed
 * before the build compiles), the warning for imports that resolve to
 * nothing packed, and which top-level packages need real files on disk
 * (KP_MOD_EXTRACT). Only modules from outside the standard library are
 * scanned.
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

/* Requests to the compile server's DISTS op (docs/format.md): the reply, a
   malloc'ed string, empty when the server cannot answer. */
typedef char *(*dists_fn)(void *ctx, const char *request);
/* Gets every module from outside the stdlib that has no scan yet one,
   reading its source (or image): from the cache, or else it goes onto work
   (want_scan set) for the compile servers. An extension module is scanned
   through its .py twin (a mypyc-compiled module keeps its source beside
   it), made as an item of twins for the servers. -1 when a file cannot be
   read (message printed). */
int scan_collect(scan_keys *k, collection *c, vec *work, vec *twins);
/* Once the servers have run work (and scan_save() has cached it): gives
   each extension module its scan, its twin's and what its read-only data
   names: the modules its C code imports, among the installed top-level
   names (ask) and well-known ones (_cffi_backend), and __file__, as an F
   line, when it has no twin. Frees twins. */
void scan_extensions(vec *twins, dists_fn ask, void *ctx);
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
/* Prints a note for each package from the app's own folders that
   extract_plan() extracted by itself: its extracted files are read-only,
   so what it writes beside __file__ fails at run time. */
void extract_note(const collection *c);
/* Whether the whole stdlib gets real files (KP_STDLIB_FILES), and sets
   extract on its modules then: mode 1 or 0 as given (--stdlib-files,
   --no-stdlib-files), -1 when a packed package reads the stdlib's files
   (jedi). verbose says why. */
int stdlib_files_plan(collection *c, int mode, int verbose);

#endif
