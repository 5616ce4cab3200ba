/*
 * cache.h - the bytecode cache of `kiln build`: compiled code keyed by the
 * target CPython, the optimization level, the packed path and the source,
 * so that a rebuild compiles only what changed; and import scans (see
 * scan.h), keyed by the scanner, the module and its source.
 */
#ifndef KILN_CACHE_H
#define KILN_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *dir; /* its resolved path; NULL when the cache is off */
    int fd;    /* the folder, held: entries are opened relative to it */
} bytecode_cache;

/* Opens $KILN_CACHE_DIR, else $XDG_CACHE_HOME/kiln/bytecode, else
   ~/.cache/kiln/bytecode, creating it. A folder that another user owns or
   can write, or below one that another user owns or can write (not
   sticky), is refused with a warning naming it, and the build runs without
   cache. The default folder in a home that is not this user's (root with
   sudo -E) is not made: no cache, said only with verbose. */
void cache_open(bytecode_cache *c, int verbose);
void cache_close(bytecode_cache *c);
/* 0 and *code (caller frees) on a hit; -1 on a miss or a damaged entry. */
int cache_get(const bytecode_cache *c, uint32_t hexversion, int optimize,
              const char *relpath, const uint8_t *source, size_t source_len,
              uint8_t **code, size_t *code_len);
/* Stores an entry atomically; failures only cost speed, so are silent. */
void cache_put(const bytecode_cache *c, uint32_t hexversion, int optimize,
               const char *relpath, const uint8_t *source, size_t source_len,
               const uint8_t *code, size_t code_len);

/* A module's import scan: key names the scanner and what besides the module
   name and source the scan depends on. 0 and *scan (caller frees) on a
   hit. */
int cache_get_scan(const bytecode_cache *c, const char *key,
                   const char *name, const uint8_t *source,
                   size_t source_len, char **scan);
void cache_put_scan(const bytecode_cache *c, const char *key,
                    const char *name, const uint8_t *source,
                    size_t source_len, const char *scan);

#endif
