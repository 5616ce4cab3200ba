/*
 * util.c - small helpers of the kiln command: memory, growable arrays,
 * files and paths.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "strfmt.h"
#include <unistd.h>

#include "kpack.h" /* kp_escaped */

static void out_of_memory(size_t n)
{
    fprintf(stderr, "kiln: out of memory (asked for %zu bytes)\n", n);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

char *xescaped(const char *s, size_t len)
{
    char *out = kp_escaped(s, len);
    if (!out)
        out_of_memory(len * 4 + 1);
    return out;
}

char *xprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = str_vprintf(fmt, ap);
    va_end(ap);
    if (!s)
        out_of_memory(strlen(fmt));
    return s;
}

void vec_push(vec *a, void *item)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = item;
}

void vec_free(vec *a, void (*free_item)(void *))
{
    for (size_t i = 0; free_item && i < a->n; i++)
        free_item(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

file_id file_id_of(const struct stat *st, int link)
{
    return (file_id){st->st_dev, st->st_ino, !link, 1};
}

int open_collected(const char *path, const file_id *id, struct stat *st)
{
    int known = id && id->known, direct = known && id->direct;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
                            (direct ? O_NOFOLLOW : 0));
    const char *now = NULL; /* what the file is now, when it is wrong */

    if (fd < 0 && errno == ELOOP && direct)
        now = "a symlink";
    else if (fd < 0 || fstat(fd, st) != 0)
        goto failed;
    else if (!S_ISREG(st->st_mode))
        now = "not a regular file";
    else if (known && (st->st_dev != id->dev || st->st_ino != id->ino))
        now = "another file";
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        goto failed;
    else
        return fd;
    if (fd >= 0)
        close(fd);
    if (!known)
        return error("cannot read %s: %s", path, now);
    return error("cannot read %s: it changed since it was collected (it is "
                 "%s now); nothing was written: build again once nothing "
                 "changes the folders it packs", path, now);
failed:
    error_errno("cannot read %s", path);
    if (fd >= 0)
        close(fd);
    return -1;
}

int read_collected(const char *path, const file_id *id, uint8_t **out,
                   size_t *len)
{
    struct stat st;
    uint8_t *buf;
    size_t done = 0;
    int fd = open_collected(path, id, &st);

    if (fd < 0)
        return -1;
    buf = xmalloc((size_t)st.st_size + 1);
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            free(buf);
            close(fd);
            if (n == 0)
                return error("cannot read %s: file shrank while reading",
                             path);
            errno = e;
            return error_errno("cannot read %s", path);
        }
        done += (size_t)n;
    }
    close(fd);
    buf[done] = '\0';
    *out = buf;
    *len = done;
    return 0;
}

int read_file(const char *path, uint8_t **out, size_t *len)
{
    return read_collected(path, NULL, out, len);
}

int is_inside(const char *real, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return 1;
    return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* Are the real path real and every folder above it root's, and writable
   by no one else? */
static int root_only(const char *real)
{
    char *p = xstrdup(real), *slash = p;
    struct stat st;
    int ok = 1;

    while (ok && slash) {
        slash = strchr(slash + 1, '/');
        if (slash)
            *slash = '\0';
        ok = lstat(*p ? p : "/", &st) == 0 && st.st_uid == 0 &&
             !S_ISLNK(st.st_mode) && !(st.st_mode & (S_IWGRP | S_IWOTH));
        if (slash)
            *slash = '/';
    }
    free(p);
    return ok;
}

/* A symlink that the system's packages installed (Debian links a
   package's data into /usr/share): the link is root's, in a folder that
   only root can change, and it leads into /usr through folders only root
   can change. No other user could have made or redirected it. */
static int system_link(const char *path, const char *real)
{
    char *dir = dir_name(path), *real_dir = realpath(dir, NULL);
    struct stat st;
    int ok = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
             st.st_uid == 0 && real_dir && root_only(real_dir) &&
             is_inside(real, "/usr") && root_only(real);

    free(dir);
    free(real_dir);
    return ok;
}

int leaves_root(const char *path, const char *root)
{
    char *real = realpath(path, NULL), *real_root = realpath(root, NULL);
    int out = real && real_root && !is_inside(real, real_root) &&
              !system_link(path, real);
    struct stat st;

    if (out)
        warning("skipping %s: %s %s, outside %s; kiln packs only what lies "
                "inside the folders it is given", path,
                lstat(path, &st) == 0 && S_ISLNK(st.st_mode)
                    ? "a symlink to"
                    : "a symlinked folder on its path leads to",
                real, real_root);
    free(real);
    free(real_root);
    return out;
}

char *dir_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xprintf("%.*s", (int)(slash - path), path);
}

const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int is_identifier(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
