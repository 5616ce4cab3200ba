/*
 * cache.c - the bytecode cache of `kiln build`. One file per entry, named by
 * a 128-bit hash of what determines the bytecode (or the import scan); each
 * file holds a magic, the hash of its contents and the marshalled code (or
 * the scan's text), and is written to a temporary name first, then renamed,
 * so a crash never leaves an entry that passes for complete.
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

/* An entry's file: the hash of the key's head (the kind of entry and what
   besides the source determines it), the packed path or module name, and
   the source. */
static char *entry_path(const bytecode_cache *c, const void *head,
                        size_t head_len, const char *name,
                        const uint8_t *source, size_t source_len)
{
    XXH3_state_t st;
    XXH128_hash_t h;

    XXH3_128bits_reset(&st);
    XXH3_128bits_update(&st, head, head_len);
    XXH3_128bits_update(&st, name, strlen(name) + 1);
    XXH3_128bits_update(&st, source, source_len);
    h = XXH3_128bits_digest(&st);
    return xprintf("%s/%016llx%016llx", c->dir, (unsigned long long)h.high64,
                   (unsigned long long)h.low64);
}

/* 0 and *data (NUL-terminated, caller frees) when the entry is there and
   intact; -1 otherwise. Takes path. */
static int entry_read(char *path, uint8_t **data, size_t *len)
{
    struct stat st;
    uint8_t head[HEAD_SIZE], *buf;
    uint64_t check;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    free(path);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || st.st_size < HEAD_SIZE ||
        fd_read_full(fd, head, HEAD_SIZE) != 0 ||
        memcmp(head, ENTRY_MAGIC, 8) != 0) {
        close(fd);
        return -1;
    }
    buf = xmalloc((size_t)st.st_size - HEAD_SIZE + 1);
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
    buf[st.st_size - HEAD_SIZE] = '\0';
    *data = buf;
    *len = (size_t)st.st_size - HEAD_SIZE;
    return 0;
}

/* Writes an entry atomically; failures only cost speed, so are silent.
   Takes path. */
static void entry_write(char *path, const uint8_t *data, size_t len)
{
    char *tmp = xprintf("%s.tmp-XXXXXX", path);
    uint8_t head[HEAD_SIZE];
    uint64_t check = XXH3_64bits(data, len);
    int fd = mkstemp(tmp), ok;

    if (fd >= 0) {
        memcpy(head, ENTRY_MAGIC, 8);
        memcpy(head + 8, &check, 8);
        ok = fd_write_full(fd, head, HEAD_SIZE) == 0 &&
             fd_write_full(fd, data, len) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(tmp);
    free(path);
}

int cache_get(const bytecode_cache *c, uint32_t hexversion, int optimize,
              const char *relpath, const uint8_t *source, size_t source_len,
              uint8_t **code, size_t *code_len)
{
    uint32_t head[2] = {hexversion, (uint32_t)optimize};

    if (!c->dir)
        return -1;
    return entry_read(entry_path(c, head, sizeof head, relpath, source,
                                 source_len),
                      code, code_len);
}

void cache_put(const bytecode_cache *c, uint32_t hexversion, int optimize,
               const char *relpath, const uint8_t *source, size_t source_len,
               const uint8_t *code, size_t code_len)
{
    uint32_t head[2] = {hexversion, (uint32_t)optimize};

    if (c->dir)
        entry_write(entry_path(c, head, sizeof head, relpath, source,
                               source_len),
                    code, code_len);
}

int cache_get_scan(const bytecode_cache *c, const char *key,
                   const char *name, const uint8_t *source,
                   size_t source_len, char **scan)
{
    char *head;
    uint8_t *data;
    size_t len;
    int rc;

    if (!c->dir)
        return -1;
    head = xprintf("scan %s", key);
    rc = entry_read(entry_path(c, head, strlen(head), name, source,
                               source_len),
                    &data, &len);
    free(head);
    if (rc == 0 && strlen((char *)data) != len) {
        free(data);
        return -1;
    }
    if (rc == 0)
        *scan = (char *)data;
    return rc;
}

void cache_put_scan(const bytecode_cache *c, const char *key,
                    const char *name, const uint8_t *source,
                    size_t source_len, const char *scan)
{
    char *head;

    if (!c->dir)
        return;
    head = xprintf("scan %s", key);
    entry_write(entry_path(c, head, strlen(head), name, source, source_len),
                (const uint8_t *)scan, strlen(scan));
    free(head);
}
