/*
 * cache.c - the bytecode cache of `kiln build`. One file per entry, named by
 * a 128-bit hash of what determines the bytecode; each file holds a magic,
 * the hash of its contents and the marshalled code, and is written to a
 * temporary name first, then renamed, so a crash never leaves an entry that
 * passes for complete.
 */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fdio.h"
#include "privdir.h"
#include "util.h"

#define ENTRY_MAGIC "KILNBC01"
#define HEAD_SIZE 16

void cache_open(bytecode_cache *c)
{
    const char *env = getenv("KILN_CACHE_DIR");
    char why[512];

    c->dir = NULL;
    if (env && strcmp(env, "") == 0)
        return; /* KILN_CACHE_DIR= turns the cache off */
    c->dir = env ? xstrdup(env) : privdir_user_cache("bytecode");
    if (c->dir && privdir_make(c->dir, why, sizeof why) != 0) {
        warning("no bytecode cache: %s", why);
        free(c->dir);
        c->dir = NULL;
    }
}

void cache_close(bytecode_cache *c)
{
    free(c->dir);
    c->dir = NULL;
}

static char *entry_path(const bytecode_cache *c, uint32_t hexversion,
                        int optimize, const char *relpath,
                        const uint8_t *source, size_t source_len)
{
    XXH3_state_t st;
    uint32_t head[2] = {hexversion, (uint32_t)optimize};
    XXH128_hash_t h;

    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, head, sizeof head);
    XXH3_128bits_update(&st, relpath, strlen(relpath) + 1);
    XXH3_128bits_update(&st, source, source_len);
    h = XXH3_128bits_digest(&st);
    return xprintf("%s/%016llx%016llx", c->dir, (unsigned long long)h.high64,
                   (unsigned long long)h.low64);
}

int cache_get(const bytecode_cache *c, uint32_t hexversion, int optimize,
              const char *relpath, const uint8_t *source, size_t source_len,
              uint8_t **code, size_t *code_len)
{
    char *path;
    struct stat st;
    uint8_t head[HEAD_SIZE], *buf;
    uint64_t check;
    int fd;

    if (!c->dir)
        return -1;
    path = entry_path(c, hexversion, optimize, relpath, source, source_len);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || st.st_size < HEAD_SIZE ||
        fd_read_full(fd, head, HEAD_SIZE) != 0 ||
        memcmp(head, ENTRY_MAGIC, 8) != 0) {
        close(fd);
        return -1;
    }
    buf = xmalloc((size_t)st.st_size - HEAD_SIZE);
    if (fd_read_full(fd, buf, (size_t)st.st_size - HEAD_SIZE) != 0) {
        free(buf);
        close(fd);
        return -1;
    }
    close(fd);
    memcpy(&check, head + 8, 8);
    if (XXH3_64bits(buf, (size_t)st.st_size - HEAD_SIZE) != check) {
        free(buf);
        return -1;
    }
    *code = buf;
    *code_len = (size_t)st.st_size - HEAD_SIZE;
    return 0;
}

void cache_put(const bytecode_cache *c, uint32_t hexversion, int optimize,
               const char *relpath, const uint8_t *source, size_t source_len,
               const uint8_t *code, size_t code_len)
{
    char *path, *tmp;
    uint8_t head[HEAD_SIZE];
    uint64_t check = XXH3_64bits(code, code_len);
    int fd, ok;

    if (!c->dir)
        return;
    path = entry_path(c, hexversion, optimize, relpath, source, source_len);
    tmp = xprintf("%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd >= 0) {
        memcpy(head, ENTRY_MAGIC, 8);
        memcpy(head + 8, &check, 8);
        ok = fd_write_full(fd, head, HEAD_SIZE) == 0 &&
             fd_write_full(fd, code, code_len) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(tmp);
    free(path);
}
