/*
 * privdir.c - private per-user folders (see privdir.h).
 *
 * As OpenSSH's StrictModes: a folder is only as safe as every folder above
 * it, since whoever can write one of those can swap what is below. So the
 * whole path is checked, on descriptors, walking down from "/".
 */
#include "privdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How deep privdir_remove_at() goes (its buffers are on the stack). */
#define REMOVE_DEPTH 64

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 2);

    if (out) {
        memcpy(out, a, la);
        out[la] = '/';
        memcpy(out + la + 1, b, lb + 1);
    }
    return out;
}

/* Appends the components of tail to real (taken): the folders that do not
   exist yet. "." is skipped; ".." is refused, as it cannot be resolved. */
static char *append_missing(char *real, const char *path, const char *tail,
                            char *why, size_t whylen)
{
    char *copy = strdup(tail), *save = NULL, *out = real, *next, *c;

    if (!copy)
        goto oom;
    for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            snprintf(why, whylen, "%s has '..' below a folder that does "
                     "not exist; give the path without it", path);
            goto fail;
        }
        next = join(strcmp(out, "/") == 0 ? "" : out, c);
        if (!next)
            goto oom;
        free(out);
        out = next;
    }
    free(copy);
    return out;
oom:
    snprintf(why, whylen, "out of memory");
fail:
    free(copy);
    free(out);
    return NULL;
}

/* The absolute path of path: its longest existing part resolved by
   realpath() (so /home -> /var/home is followed once, here), then the
   missing rest as given. malloc'd, or NULL with why. */
static char *resolve(const char *path, char *why, size_t whylen)
{
    size_t len = strlen(path), end;
    char *head = strdup(path), *real = NULL;

    if (!head) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    while (len > 1 && head[len - 1] == '/')
        head[--len] = '\0';
    for (end = len;;) {
        const char *h = end ? head : path[0] == '/' ? "/" : ".";
        real = realpath(h, NULL);
        /* ENOTDIR: a file in the way, which the walk names. */
        if (real || (errno != ENOENT && errno != ENOTDIR) || end == 0)
            break;
        while (end > 0 && head[end - 1] != '/')
            end--; /* drop the last component */
        while (end > 0 && head[end - 1] == '/')
            end--;
        head[end] = '\0';
    }
    if (!real) {
        snprintf(why, whylen, "cannot resolve %s: %s", path,
                 strerror(errno));
        free(head);
        return NULL;
    }
    memcpy(head, path, len); /* head[end:len] is the missing part again */
    head[len] = '\0';
    real = append_missing(real, path, head + end, why, whylen);
    free(head);
    return real;
}

/* Is gid this user's own group: the euid's primary group, with no other
   member, listed or by primary group? A folder above the cache that only
   such a group can write is safe: umask 002 makes ~/.cache so on Ubuntu
   and Fedora. Debian's OpenSSH judges group-writability the same way. */
static int group_is_private(gid_t gid)
{
    uid_t me = geteuid();
    struct passwd *pw = getpwuid(me), *p;
    struct group *gr;
    char name[256];
    int ok = 1;

    if (!pw || pw->pw_gid != gid || strlen(pw->pw_name) >= sizeof name)
        return 0;
    strcpy(name, pw->pw_name); /* getpwent() may reuse pw */
    gr = getgrgid(gid);
    if (!gr)
        return 0;
    for (char **m = gr->gr_mem; *m && ok; m++)
        ok = strcmp(*m, name) == 0;
    setpwent();
    while (ok && (p = getpwent()))
        ok = p->pw_gid != gid || p->pw_uid == me;
    endpwent();
    return ok;
}

/* Checks the folder open as fd, named name. The last one (last) must, with
   private, be this user's and writable by no one else; every other one,
   above the folder `below`, owned by root or this user and not writable by
   group (but this user's own) or others unless sticky. 0, or -1 with
   why. */
static int check(int fd, const char *name, int last, int private,
                 const char *below, char *why, size_t whylen)
{
    struct stat st;
    uid_t me = geteuid();
    unsigned mode;

    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot check %s: %s", name, strerror(errno));
        return -1;
    }
    mode = st.st_mode & 07777;
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a folder", name);
        return -1;
    }
    if (last && private) {
        if (st.st_uid != me)
            snprintf(why, whylen, "%s is owned by uid %u, not by you (uid "
                     "%u), so it is refused", name, (unsigned)st.st_uid,
                     (unsigned)me);
        else if (mode & 022)
            snprintf(why, whylen, "%s is writable by another user (mode "
                     "%04o), so it is refused; chmod go-w it", name, mode);
        else if (me != 0 && (mode & 0700) != 0700)
            snprintf(why, whylen, "%s is not readable and writable by you "
                     "(mode %04o); chmod u+rwx it", name, mode);
        else
            return 0;
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != me) {
        snprintf(why, whylen, "%s%s%s%s is owned by uid %u, who could swap "
                 "what is below it, so it is refused; use a folder elsewhere",
                 name, last ? "" : ", above ", last ? "" : below,
                 last ? "" : ",", (unsigned)st.st_uid);
        return -1;
    }
    if ((mode & S_ISVTX) || !(mode & 022) ||
        (!(mode & 002) && group_is_private(st.st_gid)))
        return 0;
    snprintf(why, whylen, "%s%s%s%s is writable by %s (mode %04o, not "
             "sticky), so it is refused; chmod go-w it, or use a folder "
             "elsewhere", name, last ? "" : ", above ", last ? "" : below,
             last ? "" : ",",
             mode & 002 ? "another user" : "its group, not yours alone", mode);
    return -1;
}

/* Opens the component name below fd, making it with create; O_PATH. */
static int step(int fd, const char *name, const char *path, int create,
                char *why, size_t whylen)
{
    int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                    O_CLOEXEC);

    if (next < 0 && errno == ENOENT && create) {
        if (mkdirat(fd, name, 0700) != 0 && errno != EEXIST) {
            snprintf(why, whylen, "cannot create %s: %s", path,
                     strerror(errno));
            return -1;
        }
        next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                    O_CLOEXEC);
    }
    if (next < 0 && errno == ENOTDIR)
        snprintf(why, whylen, "%s is not a folder", path);
    else if (next < 0 && errno == ELOOP)
        snprintf(why, whylen, "%s became a symlink while kiln checked it",
                 path);
    else if (next < 0)
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
    return next;
}

/* Walks full (absolute, resolved) down from "/"; the folder's descriptor
   (O_PATH), or -1 with why. */
static int walk(char *full, const char *target, int flags, char *why,
                size_t whylen)
{
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), next;
    int private = (flags & PRIVDIR_PRIVATE) != 0;
    char *p = full, *slash, saved;

    while (*p == '/')
        p++;
    if (fd < 0) {
        snprintf(why, whylen, "cannot open /: %s", strerror(errno));
        return -1;
    }
    if (check(fd, "/", *p == '\0', private, target, why, whylen) != 0)
        goto fail;
    while (*p) {
        slash = strchr(p, '/');
        if (!slash)
            slash = p + strlen(p);
        saved = *slash;
        *slash = '\0'; /* full is now the path of this component */
        next = step(fd, p, full, flags & PRIVDIR_CREATE, why, whylen);
        close(fd);
        fd = next;
        if (fd >= 0 && check(fd, full, saved == '\0', private, target,
                             why, whylen) != 0) {
            *slash = saved;
            goto fail;
        }
        *slash = saved;
        if (fd < 0)
            return -1;
        for (p = slash; *p == '/'; p++)
            ;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int privdir_open(const char *path, int flags, char **real, char *why,
                 size_t whylen)
{
    char *full = resolve(path, why, whylen);
    char *target = full ? strdup(full) : NULL;
    int fd = -1, dfd = -1;

    if (full && !target)
        snprintf(why, whylen, "out of memory");
    if (target)
        fd = walk(full, target, flags, why, whylen);
    free(target);
    if (fd >= 0) {
        /* The O_PATH descriptor cannot list the folder; "." is the same
           folder, not a name looked up again. */
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            snprintf(why, whylen, "cannot open %s: %s", full,
                     strerror(errno));
        close(fd);
    }
    if (dfd < 0) {
        free(full);
        full = NULL;
    }
    *real = full;
    return dfd;
}

/* 1 with why when dir (the variable var) exists and is not this user's. */
static int foreign(const char *var, const char *dir, char *why,
                   size_t whylen)
{
    struct stat st;

    if (stat(dir, &st) != 0 || st.st_uid == geteuid())
        return 0;
    snprintf(why, whylen, "%s (%s) belongs to uid %u, not to you (uid %u)",
             var, dir, (unsigned)st.st_uid, (unsigned)geteuid());
    return 1;
}

int privdir_user_cache(const char *sub, char **path, char *why,
                       size_t whylen)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    struct stat st;
    int n;

    *path = NULL;
    if (xdg && xdg[0] != '/')
        xdg = NULL;
    if (home && home[0] != '/')
        home = NULL;
    if (!xdg && !home) {
        snprintf(why, whylen, "neither XDG_CACHE_HOME nor HOME is set");
        return -1;
    }
    /* XDG_CACHE_HOME decides when it exists; else HOME (sudo -E keeps
       both of the user's). */
    if (xdg && stat(xdg, &st) == 0 ? foreign("XDG_CACHE_HOME", xdg, why,
                                             whylen)
                                   : home && foreign("HOME", home, why,
                                                     whylen))
        return 1;
    n = snprintf(NULL, 0, xdg ? "%s/kiln/%s" : "%s/.cache/kiln/%s",
                 xdg ? xdg : home, sub);
    *path = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!*path) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    snprintf(*path, (size_t)n + 1, xdg ? "%s/kiln/%s" : "%s/.cache/kiln/%s",
             xdg ? xdg : home, sub);
    return 0;
}

static int remove_in(int dirfd, const char *name, int depth);

/* Removes what the folder fd holds; 0 or -1. */
static int empty_dir(int fd, int depth)
{
    _Alignas(8) char buf[1024];
    ssize_t n;
    int rc = 0;

    while ((n = getdents64(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            unsigned short reclen;
            const char *name = buf + off + offsetof(struct dirent64, d_name);
            memcpy(&reclen, buf + off + offsetof(struct dirent64, d_reclen),
                   sizeof reclen);
            off += reclen;
            if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
                remove_in(fd, name, depth) != 0)
                rc = -1;
        }
    }
    return n < 0 ? -1 : rc;
}

static int remove_in(int dirfd, const char *name, int depth)
{
    int fd, rc = -1;

    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    if (depth >= REMOVE_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                 O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* Entries removed while listing may hide others: list again. */
    for (int round = 0; round < 3 && rc != 0; round++) {
        if (lseek(fd, 0, SEEK_SET) != 0 || empty_dir(fd, depth + 1) != 0)
            break;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            rc = 0;
        else if (errno != ENOTEMPTY && errno != EEXIST)
            break;
    }
    close(fd);
    return rc;
}

int privdir_remove_at(int dirfd, const char *name)
{
    return remove_in(dirfd, name, 0);
}

unsigned long long privdir_pid_ns(void)
{
    struct stat st;

    return stat("/proc/self/ns/pid", &st) == 0
               ? (unsigned long long)st.st_ino : 0;
}
