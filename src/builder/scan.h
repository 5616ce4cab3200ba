/*
 * scan.h - the import scans of packed modules: the compile server's SCAN
 * op (src/builder/py/server_scan.py, one ast pass per source), cached;
 * for extension modules, their .py twin and the strings of their C code.
 * Also how a scan is read, entry by entry, and which modules count when
 * imports are checked. Only modules from outside the stdlib are scanned.
 */
#ifndef KILN_SCAN_H
#define KILN_SCAN_H

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
/* Asks server s for m's scan (m->out.bytes holds its source). A scan
   that fails is a warning and leaves m->out.scan NULL; -1 when the server
   is gone (message printed). */
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

/* ---- reading scans ------------------------------------------------------ */

/* Guards: GUARDED code expects the import to fail on some systems (an
   except ImportError); CONDITIONAL code runs on other platforms or
   versions only, maybe (a test kiln cannot evaluate). */
enum { UNGUARDED = 0, GUARDED = 1, MAIN_ONLY = 2, CONDITIONAL = 3 };

/* Added to the guard: inside a def; in a handler of ImportError. */
enum { IN_FUNCTION = 4, FALLBACK = 8 };

typedef struct {
    char kind;   /* 'I', 'A', 'X', 'R', 'F' or 'H' (see server_scan.py) */
    int guarded; /* UNGUARDED, GUARDED, MAIN_ONLY or CONDITIONAL */
    int in_function; /* inside a def: runs when called */
    int fallback;    /* in a handler of ImportError: runs when it failed */
    int line;        /* 0: found in an extension module's C code */
    const char *name; /* inside the scan, len bytes */
    size_t len;
} scan_entry;

/* The entry at *p, which moves past it; 0 at the end. */
int scan_next(const char **p, scan_entry *e);
/* Does an entry's code run? Code under `if __name__ == "__main__"` runs
   only in the module that python runs (the script, or main: what -m
   names, else NULL). */
int entry_runs(const scan_entry *e, const module_item *m, const char *main);
/* Does an entry's code run at all, maybe guarded? */
int entry_may_run(const scan_entry *e, const module_item *m,
                  const char *main);

/* Which modules count: a library's tests, the __main__ modules of
   packages the app does not run and files no import can name are not
   checked; test helpers, build scripts and backends are noise. */
int module_checked(const module_item *m, const char *main);
int module_test_only(const module_item *m);
int module_build_script(const module_item *m);
int module_noise(const module_item *m);

#endif
