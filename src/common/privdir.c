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
#include <limits.h>
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

/* How many symlinks one walk follows, as the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40

/* path made absolute: joined to the working folder (getcwd(), which has
   no symlink in it) when relative; trailing slashes dropped. malloc'd, or
   NULL with why. */
static char *absolute(const char *path, char *why, size_t whylen)
{
    size_t len = strlen(path);
    char *cwd = NULL, *out = NULL;

    while (len > 1 && path[len - 1] == '/')
        len--;
    if (path[0] != '/' && !(cwd = getcwd(NULL, 0))) {
        snprintf(why, whylen, "cannot resolve %s: %s", path,
                 strerror(errno));
        return NULL;
    }
    out = malloc((cwd ? strlen(cwd) + 1 : 0) + len + 1);
    if (out)
        sprintf(out, "%s%s%.*s", cwd ? cwd : "", cwd ? "/" : "", (int)len,
                path);
    else
        snprintf(why, whylen, "out of memory");
    free(cwd);
    return out;
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

/* A walk down a path, component by component, never resolving a name
   twice: the folder reached (checked unless it is the last) and its path,
   which has no symlink in it; what is left to walk; the last symlink
   followed, for messages, and how many were. */
typedef struct {
    int fd;
    char *at;
    char *rest;
    size_t pos;
    char *link;
    int links;
    int flags;
    char *target; /* the path as given, made absolute, for messages */
} walker;

/* path, and the symlink that led there, for messages. malloc'd. */
static char *shown(const walker *w, const char *path)
{
    size_t n = strlen(path) + (w->link ? strlen(w->link) + 32 : 1);
    char *out = malloc(n);

    if (out && w->link)
        snprintf(out, n, "%s (through the symlink %s)", path, w->link);
    else if (out)
        memcpy(out, path, n);
    return out;
}

/* Checks the folder the walk reached; last: nothing is left to walk. */
static int walk_check(const walker *w, int last, char *why, size_t whylen)
{
    char *name = shown(w, w->at);
    int rc = -1;

    if (!name)
        snprintf(why, whylen, "out of memory");
    else
        rc = check(w->fd, name, last, (w->flags & PRIVDIR_PRIVATE) != 0,
                   w->target, why, whylen);
    free(name);
    return rc;
}

/* Moves the walk to the folder fd, whose path is path (both taken). */
static void move_to(walker *w, int fd, char *path)
{
    close(w->fd);
    free(w->at);
    w->fd = fd;
    w->at = path;
}

/* Follows the symlink open as lfd (O_PATH), named path, in the walk's
   folder, which passed the checks. The link must be root's or this
   user's, as whoever owns it can point it elsewhere (anyone can make one
   in sticky /tmp); what it holds is walked next, from "/" when absolute,
   else from the folder that holds it; last: nothing follows it. 0, or -1
   with why. */
static int follow(walker *w, int lfd, uid_t owner, const char *path,
                  int last, char *why, size_t whylen)
{
    char buf[PATH_MAX], *name = shown(w, path), *rest = NULL, *top = NULL;
    ssize_t n = -1;
    int root = -1, rc = -1;

    if (!name)
        goto oom;
    if (owner != 0 && owner != geteuid()) {
        snprintf(why, whylen, "%s%s%s%s is a symlink owned by uid %u, who "
                 "could point it elsewhere, so it is refused; use a folder "
                 "elsewhere", name, last ? "" : ", above ",
                 last ? "" : w->target, last ? "" : ",", (unsigned)owner);
        goto done;
    }
    if (++w->links > MAX_LINKS) {
        snprintf(why, whylen, "%s: more than %d symlinks on the way to %s; "
                 "give its real path", name, MAX_LINKS, w->target);
        goto done;
    }
    n = readlinkat(lfd, "", buf, sizeof buf);
    if (n <= 0 || n >= (ssize_t)sizeof buf) {
        snprintf(why, whylen, "cannot read the symlink %s: %s", name,
                 n < 0 ? strerror(errno) : "empty or too long");
        goto done;
    }
    buf[n] = '\0';
    rest = malloc((size_t)n + strlen(w->rest + w->pos) + 2);
    if (!rest || !(top = strdup("/")))
        goto oom;
    sprintf(rest, "%s/%s", buf, w->rest + w->pos);
    if (buf[0] == '/') {
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
            snprintf(why, whylen, "cannot open /: %s", strerror(errno));
            goto done;
        }
        move_to(w, root, top); /* "/" was checked when the walk began */
        top = NULL;
    }
    free(w->rest);
    w->rest = rest;
    w->pos = 0;
    rest = NULL;
    free(w->link);
    w->link = strdup(path);
    if (!w->link)
        goto oom;
    rc = 0;
    goto done;
oom:
    snprintf(why, whylen, "out of memory");
done:
    free(top);
    free(rest);
    free(name);
    return rc;
}

/* The walk's parent folder (".."): the folder above, on the path that has
   no symlink in it. 0, or -1 with why. */
static int go_up(walker *w, char *why, size_t whylen)
{
    int fd = openat(w->fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *up = strdup(w->at), *slash = up ? strrchr(up, '/') : NULL;

    if (fd < 0 || !slash) {
        snprintf(why, whylen, "cannot open the folder above %s: %s", w->at,
                 fd < 0 ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
        free(up);
        return -1;
    }
    slash[slash == up] = '\0'; /* "/a" -> "/", "/a/b" -> "/a" */
    move_to(w, fd, up);
    return 0;
}

/* Opens the component c below the walk's folder (O_PATH, not following
   it), making it with create. The descriptor, or -1 with why. */
static int open_below(const walker *w, const char *c, const char *path,
                      char *why, size_t whylen)
{
    int fd = openat(w->fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT && (w->flags & PRIVDIR_CREATE)) {
        if (mkdirat(w->fd, c, 0700) != 0 && errno != EEXIST) {
            snprintf(why, whylen, "cannot create %s: %s", path,
                     strerror(errno));
            return -1;
        }
        fd = openat(w->fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
    return fd;
}

/* One step of the walk: the component c; last when nothing follows it.
   A folder is checked as a folder above; a symlink is followed. */
static int step(walker *w, const char *c, int last, char *why,
                size_t whylen)
{
    char *path = NULL;
    struct stat st;
    int fd = -1, rc = -1;

    if (strcmp(c, ".") == 0)
        return 0;
    if (strcmp(c, "..") == 0)
        return go_up(w, why, whylen) != 0 ? -1
               : last                     ? 0
                                          : walk_check(w, 0, why, whylen);
    path = join(strcmp(w->at, "/") == 0 ? "" : w->at, c);
    if (!path) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    fd = open_below(w, c, path, why, whylen);
    if (fd < 0)
        goto done;
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "cannot check %s: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISLNK(st.st_mode)) {
        rc = follow(w, fd, st.st_uid, path, last, why, whylen);
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a folder", path);
        goto done;
    }
    move_to(w, fd, path);
    fd = -1;
    path = NULL;
    rc = last ? 0 : walk_check(w, 0, why, whylen);
done:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

/* Walks what is left of the path, one component at a time. 0, or -1 with
   why. */
static int walk(walker *w, char *why, size_t whylen)
{
    char c[NAME_MAX + 1];

    for (;;) {
        const char *p = w->rest + w->pos, *end;

        while (*p == '/')
            p++;
        if (!*p)
            return 0;
        end = strchr(p, '/');
        if (!end)
            end = p + strlen(p);
        for (w->pos = (size_t)(end - w->rest); w->rest[w->pos] == '/';
             w->pos++)
            ;
        if ((size_t)(end - p) > NAME_MAX) {
            snprintf(why, whylen, "cannot open %.*s in %s: %s",
                     (int)(end - p), p, w->at, strerror(ENAMETOOLONG));
            return -1;
        }
        memcpy(c, p, (size_t)(end - p));
        c[end - p] = '\0';
        if (step(w, c, w->rest[w->pos] == '\0', why, whylen) != 0)
            return -1;
    }
}

int privdir_open(const char *path, int flags, char **real, char *why,
                 size_t whylen)
{
    walker w = {.fd = -1, .flags = flags};
    int dfd = -1;

    *real = NULL;
    w.target = absolute(path, why, whylen);
    if (!w.target)
        return -1;
    w.rest = strdup(w.target);
    w.at = strdup("/");
    w.fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (!w.rest || !w.at || w.fd < 0) {
        snprintf(why, whylen, "cannot open /: %s",
                 w.fd < 0 ? strerror(errno) : "out of memory");
        goto done;
    }
    /* Every folder is checked as a folder above when the walk enters it,
       the last one once the walk ends, as the cache itself. */
    if ((w.rest[strspn(w.rest, "/")] && walk_check(&w, 0, why, whylen)) ||
        walk(&w, why, whylen) != 0 || walk_check(&w, 1, why, whylen) != 0)
        goto done;
    /* The O_PATH descriptor cannot list the folder; "." is the same
       folder, not a name looked up again. */
    dfd = openat(w.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        snprintf(why, whylen, "cannot open %s: %s", w.at, strerror(errno));
    else {
        *real = w.at;
        w.at = NULL;
    }
done:
    if (w.fd >= 0)
        close(w.fd);
    free(w.at);
    free(w.rest);
    free(w.link);
    free(w.target);
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
    struct passwd *pw;
    struct stat st;
    int n;

    *path = NULL;
    if (xdg && xdg[0] != '/')
        xdg = NULL;
    if (home && home[0] != '/')
        home = NULL;
    /* No HOME (env -i, some services): the home the password database
       gives this user, as Python's expanduser() does. */
    if (!xdg && !home && (pw = getpwuid(geteuid())) && pw->pw_dir &&
        pw->pw_dir[0] == '/')
        home = pw->pw_dir;
    if (!xdg && !home) {
        snprintf(why, whylen, "neither XDG_CACHE_HOME nor HOME is set, and "
                 "uid %u has no home folder", (unsigned)geteuid());
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
    struct stat st;
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
    /* A read-only folder (the extract cache's) is made writable first;
       one that is not ours stays as it is, and its entries stay too
       (root too changes only its own: removal never chmods another's). */
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid())
        fchmod(fd, 0700);
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
