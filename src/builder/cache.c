/*
 * cache.c - the bytecode cache of `kiln build`. One file per entry, named by
 * a 128-bit hash of what determines the bytecode (or the import scan); each
 * file holds a magic, the hash of its contents and the marshalled code (or
 * the scan's text), and is written to a temporary name first, then renamed,
 * so a crash never leaves an entry that passes for complete. Entries are
 * opened relative to the folder's held descriptor (privdir.h), which was
 * checked with every folder above it.
 */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fdio.h"
#include "privdir.h"
#include "util.h"

#define ENTRY_MAGIC "KILNBC01"
#define HEAD_SIZE 16

void cache_open(bytecode_cache *c, int verbose)
{
    const char *env = getenv("KILN_CACHE_DIR");
    char why[1024], *path = NULL;

    c->dir = NULL;
    c->fd = -1;
    if (env && strcmp(env, "") == 0)
        return; /* KILN_CACHE_DIR= turns the cache off */
    if (env)
        path = xstrdup(env);
    else if (privdir_user_cache("bytecode", &path, why, sizeof why) != 0) {
        /* No home, or another user's (sudo -E): nothing to fix, and a
           warning on every root build would teach users to ignore them. */
        if (verbose)
            fprintf(stderr, "kiln: no bytecode cache: %s; set "
                            "KILN_CACHE_DIR to use one\n", why);
        return;
    }
    c->fd = privdir_open(path, PRIVDIR_CREATE | PRIVDIR_PRIVATE, &c->dir,
                         why, sizeof why);
    if (c->fd < 0)
        warning("no bytecode cache: %s", why);
    free(path);
}

void cache_close(bytecode_cache *c)
{
    if (c->dir)
        close(c->fd);
    free(c->dir);
    c->dir = NULL;
    c->fd = -1;
}

#define NAME_SIZE 33

/* An entry's file name, in out: the hash of the key's head (the kind of
   entry and what besides the source determines it), the packed path or
   module name, and the source. */
static void entry_name(char out[NAME_SIZE], const void *head,
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
    snprintf(out, NAME_SIZE, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* 0 and *data (NUL-terminated, caller frees) when the entry name is there
   and intact; -1 otherwise. */
static int entry_read(const bytecode_cache *c, const char *name,
                      uint8_t **data, size_t *len)
{
    struct stat st;
    uint8_t head[HEAD_SIZE], *buf;
    uint64_t check;
    int fd = openat(c->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                     O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size < HEAD_SIZE ||
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

/* A name for a temporary file that no other writer picks. */
static void temp_name(char *out, size_t size, const char *name)
{
    static unsigned long long counter;
    unsigned long long r;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = ((unsigned long long)getpid() << 32) ^
            (unsigned long long)time(NULL) ^ ++counter;
    snprintf(out, size, "%s.tmp-%016llx", name, r);
}

/* Writes the entry name atomically; failures only cost speed, so are
   silent. */
static void entry_write(const bytecode_cache *c, const char *name,
                        const uint8_t *data, size_t len)
{
    char tmp[NAME_SIZE + 32];
    uint8_t head[HEAD_SIZE];
    uint64_t check = XXH3_64bits(data, len);
    int fd, ok;

    temp_name(tmp, sizeof tmp, name);
    fd = openat(c->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    memcpy(head, ENTRY_MAGIC, 8);
    memcpy(head + 8, &check, 8);
    ok = fd_write_full(fd, head, HEAD_SIZE) == 0 &&
         fd_write_full(fd, data, len) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || renameat(c->fd, tmp, c->fd, name) != 0)
        unlinkat(c->fd, tmp, 0);
}

int cache_get(const bytecode_cache *c, uint32_t hexversion, int optimize,
              const char *relpath, const uint8_t *source, size_t source_len,
              uint8_t **code, size_t *code_len)
{
    uint32_t head[2] = {hexversion, (uint32_t)optimize};
    char name[NAME_SIZE];

    if (!c->dir)
        return -1;
    entry_name(name, head, sizeof head, relpath, source, source_len);
    return entry_read(c, name, code, code_len);
}

void cache_put(const bytecode_cache *c, uint32_t hexversion, int optimize,
               const char *relpath, const uint8_t *source, size_t source_len,
               const uint8_t *code, size_t code_len)
{
    uint32_t head[2] = {hexversion, (uint32_t)optimize};
    char name[NAME_SIZE];

    if (!c->dir)
        return;
    entry_name(name, head, sizeof head, relpath, source, source_len);
    entry_write(c, name, code, code_len);
}

int cache_get_scan(const bytecode_cache *c, const char *key,
                   const char *name, const uint8_t *source,
                   size_t source_len, char **scan)
{
    char *head, file[NAME_SIZE];
    uint8_t *data;
    size_t len;
    int rc;

    if (!c->dir)
        return -1;
    head = xprintf("scan %s", key);
    entry_name(file, head, strlen(head), name, source, source_len);
    free(head);
    rc = entry_read(c, file, &data, &len);
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
    char *head, file[NAME_SIZE];

    if (!c->dir)
        return;
    head = xprintf("scan %s", key);
    entry_name(file, head, strlen(head), name, source, source_len);
    free(head);
    entry_write(c, file, (const uint8_t *)scan, strlen(scan));
}
