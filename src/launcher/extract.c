/*
 * extract.c - the extract-once cache (see extract.h).
 *
 * The folder for a package is named by a hash of its packed paths and
 * blob checks (and the layout's version: how files are written), so a new
 * build gets a new folder and an unchanged one reuses it. Files are written
 * to a temporary folder, .NAME.TAG (TAG: the writer's pid, pid namespace
 * and a random number), with a stamp file last that lists every file with
 * its size and mtime, and the folder is renamed into place: a crash
 * half-way leaves no folder that passes for complete. The first use in a
 * process checks the files against the stamp (lstat only) and redoes the
 * folder when one was deleted or changed, and removes the temporary
 * folders of writers that died. All of it is done relative to the cache's
 * descriptor, which privdir checked with every folder above it.
 *
 * The fallback, a private kiln-extract-TAG folder in $TMPDIR, is removed at
 * exit; on SIGTERM or SIGHUP by a handler installed when it is made (C, so
 * Python code sees no handler: the signal module read SIG_DFL at start-up);
 * and otherwise (SIGKILL, a crash, os._exit) by the next run that makes
 * one, once its process is gone.
 */
#include "extract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Changes when extracted files are written differently, so that older
   folders are not reused. 2: modes 0644 and 0755, not 0600 and 0700;
   3: the stamp lists the files. */
#define EXTRACT_LAYOUT "kiln-extract-3"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "fdio.h"
#include "privdir.h"

#define STAMP ".kiln-complete"
#define STAMP_MAX (64 << 20)
#define TEMP_PREFIX "kiln-extract-"
/* A writer's temporary folder this old is stale, whoever made it: writing
   takes seconds. */
#define WRITER_MAX_AGE (24 * 3600)

/* The fallback folder, once made: its path, its descriptor, the folder
   that holds it and its name there (for the signal handler), and the pid
   that made it (0 once removed): a forked child must not remove it. */
static char *temp_path;
static int temp_fd = -1, temp_parent = -1;
static char temp_name[96];
static volatile sig_atomic_t temp_owner;
static const int temp_signals[] = {SIGTERM, SIGHUP};
static int swept; /* the cache's dead writers were removed */

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *out;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!out)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* Calls fn for every packed file of top: the file `top` itself, or those
   under top/. Stops at the first non-zero result. */
static int each_file(const kp_pack *pack, const char *top,
                     int (*fn)(const kp_pack *, const kp_entry *, void *),
                     void *arg)
{
    size_t len = strlen(top);
    char *prefix = xasprintf("%s/", top);
    long single = kp_find_file(pack, top, len);
    kp_entry e;
    int rc = 0;

    if (!prefix)
        return -1;
    if (single >= 0) {
        kp_file_at(pack, (uint32_t)single, &e);
        rc = fn(pack, &e, arg);
    }
    for (uint32_t i = kp_files_lower_bound(pack, prefix, len + 1);
         rc == 0 && i < pack->file_count; i++) {
        kp_file_at(pack, i, &e);
        if (e.path_len <= len || memcmp(e.path, prefix, len + 1) != 0)
            break;
        rc = fn(pack, &e, arg);
    }
    free(prefix);
    return rc;
}

static int hash_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    uint32_t meta[2] = {e->a.size, e->a.check};
    (void)pack;
    XXH3_64bits_update(arg, e->path, e->path_len + 1);
    XXH3_64bits_update(arg, meta, sizeof meta);
    return 0;
}

static unsigned long long mtime_ns(const struct stat *st)
{
    return (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
           (unsigned long long)st->st_mtim.tv_nsec;
}

/* TAG: pid-pidns-random, for the names of temporary folders. */
static void make_tag(char *out, size_t size)
{
    static unsigned long long counter;
    unsigned long long r;

    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned long long)time(NULL) ^ ((unsigned long long)clock()
                                              << 20) ^ ++counter;
    snprintf(out, size, "%ld-%llu-%016llx", (long)getpid(), privdir_pid_ns(),
             r);
}

/* Does the temporary folder named ...TAG, last changed at mtime, belong to
   no live process? Its pid, in this pid namespace, is gone (or is ours: a
   process that had our pid before); with max_age, any folder older than
   that is stale too. A pid from another namespace (a container sharing
   the folder) says nothing. */
static int is_stale(const char *tag, time_t mtime, long max_age)
{
    long pid;
    unsigned long long ns, r;
    int end = 0;

    if (max_age > 0 && time(NULL) - mtime > max_age)
        return 1;
    if (sscanf(tag, "%ld-%llu-%llx%n", &pid, &ns, &r, &end) != 3 ||
        tag[end] != '\0' || pid <= 0 || ns == 0 || ns != privdir_pid_ns())
        return 0;
    if (pid == (long)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Calls fn(dir, name, tag) for each folder in dir of this user whose name
   is prefix + TAG (prefix NULL: "." + anything + "." + TAG) and that
   is_stale() says is stale. */
static void sweep(int dir, const char *prefix, long max_age)
{
    int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    struct stat st;
    const char *tag;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while ((de = readdir(d))) {
        if (prefix)
            tag = strncmp(de->d_name, prefix, strlen(prefix)) == 0
                      ? de->d_name + strlen(prefix) : NULL;
        else
            tag = de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 &&
                          strcmp(de->d_name, "..") != 0
                      ? strrchr(de->d_name, '.') + 1 : NULL;
        if (!tag || strcmp(de->d_name, temp_name) == 0 ||
            fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
            continue;
        if (is_stale(tag, st.st_mtime, max_age))
            privdir_remove_at(dir, de->d_name);
    }
    closedir(d);
}

/* The stamp as it is being written. */
typedef struct {
    int dir;           /* the temporary folder being filled */
    const char *shown; /* its path, for messages */
    char *stamp;
    size_t len, cap;
    char *err;
    size_t errlen;
} writer;

static int stamp_add(writer *w, const char *s, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = (w->cap ? w->cap * 2 : 4096) + n;
        char *grown = realloc(w->stamp, cap);
        if (!grown) {
            snprintf(w->err, w->errlen, "out of memory");
            return -1;
        }
        w->stamp = grown;
        w->cap = cap;
    }
    memcpy(w->stamp + w->len, s, n);
    w->len += n;
    return 0;
}

/* Makes the folders above the relative path in dir. */
static int make_parents(int dir, const char *path)
{
    char *copy = strdup(path);
    int rc = copy ? 0 : -1;

    for (char *s = copy ? strchr(copy, '/') : NULL; s && rc == 0;
         s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdirat(dir, copy, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    free(copy);
    return rc;
}

/* Writes one file, and its line in the stamp: "SIZE MTIME_NS PATH\n". */
static int write_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    writer *w = arg;
    const uint8_t *bytes = kp_blob_bytes(pack, &e->a);
    /* The modes of an installed package: code that copies a file keeps
       its mode (venv's activate scripts). The cache folder, 0700, keeps
       them private. */
    mode_t mode = 0644;
    struct stat st;
    char line[64];
    int fd = -1, rc = -1, n;

    if (kp_blob_verify(pack, &e->a) != 0) {
        snprintf(w->err, w->errlen, "the packed file %s is damaged "
                 "(checksum mismatch); rebuild or re-download the "
                 "executable", e->path);
        return -1;
    }
    /* Programs and libraries keep a mode that lets them run. */
    if (e->a.size >= 4 && (memcmp(bytes, "\177ELF", 4) == 0 ||
                           memcmp(bytes, "#!", 2) == 0))
        mode = 0755;
    if (make_parents(w->dir, e->path) != 0 ||
        (fd = openat(w->dir, e->path, O_WRONLY | O_CREAT | O_EXCL |
                                          O_NOFOLLOW | O_CLOEXEC,
                     mode)) < 0 ||
        fd_write_full(fd, bytes, e->a.size) != 0)
        goto done;
    rc = close(fd);
    fd = -1;
    if (rc != 0 || fstatat(w->dir, e->path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        rc = -1;
        goto done;
    }
    n = snprintf(line, sizeof line, "%lu %llu ", (unsigned long)e->a.size,
                 mtime_ns(&st));
    if (stamp_add(w, line, (size_t)n) != 0 ||
        stamp_add(w, e->path, e->path_len) != 0 || stamp_add(w, "\n", 1))
        return -1;
    return 0;
done:
    snprintf(w->err, w->errlen, "cannot write %s/%s: %s", w->shown, e->path,
             strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int write_stamp(writer *w)
{
    int fd = openat(w->dir, STAMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                       O_CLOEXEC, 0600);
    int ok = fd >= 0 && fd_write_full(fd, w->stamp, w->len) == 0;

    if ((fd >= 0 && close(fd) != 0) || !ok) {
        snprintf(w->err, w->errlen, "cannot write %s/" STAMP ": %s",
                 w->shown, strerror(errno));
        return -1;
    }
    return 0;
}

/* The stamp as it is being checked against the files. */
typedef struct {
    int dir;
    const char *at, *end;
} checker;

/* A decimal number followed by a space. */
static int read_number(checker *k, unsigned long long *out)
{
    int digits = 0;

    *out = 0;
    for (; k->at < k->end && *k->at >= '0' && *k->at <= '9'; k->at++)
        if (++digits > 19)
            return -1;
        else
            *out = *out * 10 + (unsigned long long)(*k->at - '0');
    if (!digits || k->at == k->end || *k->at != ' ')
        return -1;
    k->at++;
    return 0;
}

/* The stamp's next line is this file's, and the file is still what was
   written: a regular file of that size and mtime. */
static int check_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    checker *k = arg;
    unsigned long long size, mtime;
    struct stat st;

    (void)pack;
    if (read_number(k, &size) != 0 || read_number(k, &mtime) != 0 ||
        (size_t)(k->end - k->at) < (size_t)e->path_len + 1 ||
        memcmp(k->at, e->path, e->path_len) != 0 ||
        k->at[e->path_len] != '\n' || size != e->a.size)
        return -1;
    k->at += e->path_len + 1;
    if (fstatat(k->dir, e->path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || (unsigned long long)st.st_size != size ||
        mtime_ns(&st) != mtime)
        return -1;
    return 0;
}

/* The stamp of the folder dir, malloc'd; NULL if missing or too big. */
static char *read_stamp(int dir, size_t *len)
{
    int fd = openat(dir, STAMP, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                    O_CLOEXEC);
    struct stat st;
    char *buf = NULL;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        st.st_size <= STAMP_MAX && (buf = malloc((size_t)st.st_size)) &&
        fd_read_full(fd, buf, (size_t)st.st_size) != 0) {
        free(buf);
        buf = NULL;
    }
    close(fd);
    *len = buf ? (size_t)st.st_size : 0;
    return buf;
}

/* Is base/name a complete, intact extraction of top? */
static int is_complete(const kp_pack *pack, const char *top, int base,
                       const char *name)
{
    static const char head[] = EXTRACT_LAYOUT "\n";
    int dir = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                     O_CLOEXEC);
    struct stat st;
    char *stamp = NULL;
    size_t len = 0;
    int ok = 0;

    if (dir < 0)
        return 0;
    if (fstat(dir, &st) == 0 && st.st_uid == geteuid() &&
        !(st.st_mode & 022) && (stamp = read_stamp(dir, &len)) &&
        len >= sizeof head - 1 && memcmp(stamp, head, sizeof head - 1) == 0) {
        checker k = {dir, stamp + sizeof head - 1, stamp + len};
        ok = each_file(pack, top, check_file, &k) == 0 && k.at == k.end;
    }
    free(stamp);
    close(dir);
    return ok;
}

/* Moves the finished folder tmp to name in base. When name is taken: kept
   if another process completed it meanwhile, else swapped (so it never
   goes missing for a process using it; the old one ends as tmp), else,
   where the file system cannot swap, removed first. 0 or -1. */
static int install(const kp_pack *pack, const char *top, int base,
                   const char *tmp, const char *name)
{
    if (renameat(base, tmp, base, name) == 0)
        return 0;
    if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR &&
        errno != EISDIR)
        return -1;
    if (is_complete(pack, top, base, name) ||
        renameat2(base, tmp, base, name, RENAME_EXCHANGE) == 0)
        return 0;
    if (privdir_remove_at(base, name) != 0)
        return -1;
    return renameat(base, tmp, base, name);
}

/* Makes base/name a complete extraction of top, unless it is one; shown
   is base's path. 0, or -1 with err. */
static int extract_into(const kp_pack *pack, const char *top, int base,
                        const char *shown, const char *name, char *err,
                        size_t errlen)
{
    char tmp[400], tag[80];
    writer w = {.dir = -1, .err = err, .errlen = errlen};
    int made = 0, rc = -1;

    if (is_complete(pack, top, base, name))
        return 0;
    make_tag(tag, sizeof tag);
    snprintf(tmp, sizeof tmp, ".%s.%s", name, tag);
    made = mkdirat(base, tmp, 0700) == 0;
    if (made)
        w.dir = openat(base, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                      O_CLOEXEC);
    if (w.dir < 0) {
        snprintf(err, errlen, "cannot create a folder in %s: %s", shown,
                 strerror(errno));
        goto done;
    }
    w.shown = shown;
    if (stamp_add(&w, EXTRACT_LAYOUT "\n", sizeof EXTRACT_LAYOUT) != 0 ||
        each_file(pack, top, write_file, &w) != 0 || write_stamp(&w) != 0)
        goto done;
    if (install(pack, top, base, tmp, name) != 0) {
        snprintf(err, errlen, "cannot move %s/%s to %s/%s: %s", shown, tmp,
                 shown, name, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (w.dir >= 0)
        close(w.dir);
    if (made) /* gone after a rename; the old folder after a swap */
        privdir_remove_at(base, tmp);
    free(w.stamp);
    return rc;
}

/* SIGTERM or SIGHUP: the fallback folder is removed (async-signal-safe:
   openat, getdents64, unlinkat), then the signal, whose action
   SA_RESETHAND made the default again, kills the process as it would
   have. A forked child that was not exec'd leaves its parent's alone. */
static void on_signal(int sig)
{
    int saved = errno;

    if (temp_owner == getpid())
        privdir_remove_at(temp_parent, temp_name);
    raise(sig);
    errno = saved;
}

/* Handles SIGTERM and SIGHUP where nothing else does (SIG_DFL): never
   over a handler of the app's, nor over SIG_IGN (nohup). */
static void catch_signals(void)
{
    struct sigaction sa, old;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof temp_signals / sizeof *temp_signals; i++)
        sigaddset(&sa.sa_mask, temp_signals[i]);
    for (size_t i = 0; i < sizeof temp_signals / sizeof *temp_signals; i++)
        if (sigaction(temp_signals[i], NULL, &old) == 0 &&
            !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
            sigaction(temp_signals[i], &sa, NULL);
}

/* Puts SIG_DFL back where our handler still is. */
static void release_signals(void)
{
    struct sigaction old;

    for (size_t i = 0; i < sizeof temp_signals / sizeof *temp_signals; i++)
        if (sigaction(temp_signals[i], NULL, &old) == 0 &&
            !(old.sa_flags & SA_SIGINFO) && old.sa_handler == on_signal)
            signal(temp_signals[i], SIG_DFL);
}

/* The folder that holds the fallback: $TMPDIR, else (or when it is not
   safe) /tmp, checked as the caches are. -1 with why. */
static int temp_parent_open(char **real, char *why, size_t whylen)
{
    const char *env = getenv("TMPDIR");
    int fd = -1;

    if (env && env[0] == '/')
        fd = privdir_open(env, 0, real, why, whylen);
    if (fd < 0)
        fd = privdir_open("/tmp", 0, real, why, whylen);
    return fd;
}

/* Makes the fallback folder, once: a private kiln-extract-TAG in the
   temporary folder, after removing those of dead processes there. 0, or
   -1 with err. */
static int temp_root(char *err, size_t errlen)
{
    char why[600], tag[80], *real = NULL;
    int parent, dir = -1, made;

    if (temp_fd >= 0)
        return 0;
    parent = temp_parent_open(&real, why, sizeof why);
    if (parent < 0) {
        snprintf(err, errlen, "no safe temporary folder: %s", why);
        return -1;
    }
    sweep(parent, TEMP_PREFIX, 0);
    make_tag(tag, sizeof tag);
    snprintf(temp_name, sizeof temp_name, TEMP_PREFIX "%s", tag);
    made = mkdirat(parent, temp_name, 0700) == 0;
    if (made)
        dir = openat(parent, temp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                            O_CLOEXEC);
    if (dir < 0 || !(temp_path = xasprintf("%s/%s", real, temp_name))) {
        snprintf(err, errlen, "cannot create a temporary folder in %s: %s",
                 real, dir < 0 ? strerror(errno) : "out of memory");
        if (dir >= 0)
            close(dir);
        if (made)
            privdir_remove_at(parent, temp_name);
        temp_name[0] = '\0';
        close(parent);
        free(real);
        return -1;
    }
    temp_fd = dir;
    temp_parent = parent;
    temp_owner = getpid();
    catch_signals();
    free(real);
    return 0;
}

char *kiln_extract(const kp_pack *pack, const char *top, char **warning,
                   char *err, size_t errlen)
{
    XXH3_state_t st;
    char name[300], why[1024];
    char *base = NULL, *real = NULL, *dir = NULL;
    int fd = -1, rc;

    *warning = NULL;
    err[0] = '\0';
    if (strlen(top) > 200 || strchr(top, '/')) {
        snprintf(err, errlen, "bad package name to extract: %s", top);
        return NULL;
    }
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, EXTRACT_LAYOUT, sizeof EXTRACT_LAYOUT);
    each_file(pack, top, hash_file, &st);
    snprintf(name, sizeof name, "%s-%016llx", top,
             (unsigned long long)XXH3_64bits_digest(&st));
    rc = privdir_user_cache("extract", &base, why, sizeof why);
    if (rc == 0) {
        fd = privdir_open(base, PRIVDIR_CREATE | PRIVDIR_PRIVATE, &real, why,
                          sizeof why);
        if (fd >= 0 && !swept++)
            sweep(fd, NULL, WRITER_MAX_AGE);
        if (fd >= 0 &&
            extract_into(pack, top, fd, real, name, why, sizeof why) == 0) {
            dir = xasprintf("%s/%s", real, name);
            goto done;
        }
    }
    /* rc 1: another user's home (sudo -E); the temporary folder is what
       should happen, so there is nothing to warn about. */
    if (rc != 1)
        *warning = xasprintf("cannot use the extract cache (%s); using a "
                             "private temporary folder instead", why);
    if (temp_root(err, errlen) == 0 &&
        extract_into(pack, top, temp_fd, temp_path, name, err, errlen) == 0)
        dir = xasprintf("%s/%s", temp_path, name);
done:
    if (!dir && !err[0])
        snprintf(err, errlen, "out of memory");
    if (fd >= 0)
        close(fd);
    free(base);
    free(real);
    return dir;
}

void kiln_extract_cleanup(void)
{
    if (temp_fd >= 0 && temp_owner == getpid())
        privdir_remove_at(temp_parent, temp_name);
    release_signals();
    temp_owner = 0;
    if (temp_fd >= 0) {
        close(temp_fd);
        close(temp_parent);
    }
    temp_fd = temp_parent = -1;
    free(temp_path);
    temp_path = NULL;
}
