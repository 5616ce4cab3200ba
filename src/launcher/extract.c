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
 * Once the stamp is written every folder becomes 0555: what a program
 * writes beside an extracted __file__ (a database, a log) fails at once
 * instead of being lost with the folder. Files keep an installed package's
 * modes (0644, 0755), as copies of them should. Removing a folder makes it
 * writable first. At exit each process names what was written into the
 * extractions it used: what root wrote (modes do not stop root), and
 * packed files changed in place, which the next run would write again.
 * Anything changed after the stamp was written has a later mtime.
 *
 * The standard library's extracted part (kiln build --stdlib-files, or
 * --extract of a stdlib name) shares one folder, stdlib-HASH, laid out as
 * the stdlib's own folder.
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
   3: the stamp lists the files; 4 (never released): read-only files and
   folders; 5: read-only folders. */
#define EXTRACT_LAYOUT "kiln-extract-5"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "entries.h"
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

/* The top-level names whose files one folder holds, sorted, distinct. */
typedef struct {
    char **tops;
    size_t n;
} top_set;

/* The extractions this process used, for the check at exit: their folder,
   their set (owned) and their stamp's mtime. pid is the process that
   recorded them. */
typedef struct {
    char *path;
    top_set set;
    unsigned long long stamped;
    int files; /* check the packed files too (not the stdlib's: too many) */
} watched_dir;
static watched_dir *watched;
static size_t n_watched;
static const kp_pack *watched_pack;
static pid_t watched_pid;

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

typedef int (*file_fn)(const kp_pack *, const kp_entry *, void *);

/* Calls fn for every packed file of top: the file `top` itself, or those
   under top/. Stops at the first non-zero result. */
static int each_top_file(const kp_pack *pack, const char *top, file_fn fn,
                         void *arg)
{
    size_t len = strlen(top);
    char small[256], *prefix = len < sizeof small - 1 ? small
                                                      : malloc(len + 2);
    long single = kp_find_file(pack, top, len);
    kp_entry e;
    int rc = 0;

    if (!prefix)
        return -1;
    memcpy(prefix, top, len);
    prefix[len] = '/';
    prefix[len + 1] = '\0';
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
    if (prefix != small)
        free(prefix);
    return rc;
}

/* each_top_file() for every name of the set, in order. */
static int each_file(const kp_pack *pack, const top_set *set, file_fn fn,
                     void *arg)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < set->n; i++)
        rc = each_top_file(pack, set->tops[i], fn, arg);
    return rc;
}

/* The folders that hold the files of a set, each once: the root (""),
   then, file by file, the folders of its path not seen yet. Packed paths
   are sorted bytewise, so the files below one folder are contiguous. */
typedef struct {
    int (*fn)(const char *rel, void *arg);
    void *arg;
    const char *prev; /* the folder of the previous file */
    size_t prev_len;
} dir_walk;

static int walk_dir_of(const kp_pack *pack, const kp_entry *e, void *arg)
{
    dir_walk *w = arg;
    size_t len = ke_folder_len(e->path, e->path_len), same = 0;
    char *rel;
    int rc = 0;

    (void)pack;
    /* The longest folder that this file shares with the previous one. */
    for (size_t i = 0; i <= len && i <= w->prev_len; i++) {
        int end_a = i == len || e->path[i] == '/';
        int end_b = i == w->prev_len || w->prev[i] == '/';
        if (end_a && end_b)
            same = i;
        if (i == len || i == w->prev_len || e->path[i] != w->prev[i])
            break;
    }
    if (!w->prev)
        same = 0;
    rel = strndup(e->path, len);
    if (!rel)
        return -1;
    for (size_t i = same ? same + 1 : 0; rc == 0 && i <= len; i++)
        if (i == len || rel[i] == '/') {
            rel[i] = '\0';
            if (i > 0)
                rc = w->fn(rel, w->arg);
            rel[i] = i == len ? '\0' : '/';
        }
    free(rel);
    w->prev = e->path;
    w->prev_len = len;
    return rc;
}

static int each_dir(const kp_pack *pack, const top_set *set,
                    int (*fn)(const char *rel, void *arg), void *arg)
{
    dir_walk w = {fn, arg, NULL, 0};

    if (fn("", arg) != 0)
        return -1;
    return each_file(pack, set, walk_dir_of, &w);
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

/* A decimal number of 1 to 19 digits at s, in *out; what follows it, or
   NULL. */
static const char *tag_number(const char *s, unsigned long long *out)
{
    int n = 0;

    for (*out = 0; *s >= '0' && *s <= '9' && n < 19; s++, n++)
        *out = *out * 10 + (unsigned long long)(*s - '0');
    return n > 0 && !(*s >= '0' && *s <= '9') ? s : NULL;
}

/* Are the len bytes at s 16 lowercase hex digits, as %016llx writes? */
static int is_hex16(const char *s, size_t len)
{
    if (len != 16)
        return 0;
    for (size_t i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Is tag exactly what make_tag() writes, PID-NS-RANDOM? Its pid and pid
   namespace in *pid and *ns. */
static int parse_tag(const char *tag, long *pid, unsigned long long *ns)
{
    unsigned long long p;
    const char *s = tag_number(tag, &p);

    if (!s || *s != '-' || !(s = tag_number(s + 1, ns)) || *s != '-' ||
        !is_hex16(s + 1, strlen(s + 1)) || p == 0 || p > 0x7fffffff)
        return 0;
    *pid = (long)p;
    return 1;
}

/* The TAG of a writer's temporary folder, named .LABEL-HASH.TAG by
   extract_into() (HASH: 16 hex digits), or NULL for any other name: the
   cache holds nothing else with a dot first, but nothing else is ever
   removed. */
static const char *writer_tag(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : 0;

    if (name[0] != '.' || len < 19 || name[len - 17] != '-' ||
        !is_hex16(name + len - 16, 16))
        return NULL;
    return dot + 1;
}

/* Does the temporary folder named ...TAG, last changed at mtime, belong to
   no live process? Only a tag that make_tag() wrote says: its pid, in this
   pid namespace, is gone (or is ours: a process that had our pid before);
   with max_age, such a folder older than that is stale too. A pid from
   another namespace (a container sharing the folder) says nothing. */
static int is_stale(const char *tag, time_t mtime, long max_age)
{
    unsigned long long ns;
    long pid;

    if (!parse_tag(tag, &pid, &ns))
        return 0;
    if (max_age > 0 && time(NULL) - mtime > max_age)
        return 1;
    if (ns == 0 || ns != privdir_pid_ns())
        return 0;
    if (pid == (long)getpid())
        return 1;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Removes each folder in dir of this user whose name is prefix + TAG
   (prefix NULL: a writer's .LABEL-HASH.TAG) and that is_stale() says is
   stale; never a symlink, nor anything a symlink points to. */
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
            tag = writer_tag(de->d_name);
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
       them private; the folders are made read-only (seal_dir). */
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
                                       O_CLOEXEC, 0444);
    int ok = fd >= 0 && fd_write_full(fd, w->stamp, w->len) == 0;

    if ((fd >= 0 && close(fd) != 0) || !ok) {
        snprintf(w->err, w->errlen, "cannot write %s/" STAMP ": %s",
                 w->shown, strerror(errno));
        return -1;
    }
    return 0;
}

/* Makes one folder of the set read-only, once its files are written. */
static int seal_dir(const char *rel, void *arg)
{
    writer *w = arg;

    if (fchmodat(w->dir, rel[0] ? rel : ".", 0555, 0) == 0)
        return 0;
    snprintf(w->err, w->errlen, "cannot make %s/%s read-only: %s", w->shown,
             rel, strerror(errno));
    return -1;
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

/* Is base/name a complete, intact extraction of the set? */
static int is_complete(const kp_pack *pack, const top_set *set, int base,
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
        ok = each_file(pack, set, check_file, &k) == 0 && k.at == k.end;
    }
    free(stamp);
    close(dir);
    return ok;
}

/* Moves the finished folder tmp to name in base. When name is taken: kept
   if another process completed it meanwhile, else swapped (so it never
   goes missing for a process using it; the old one ends as tmp), else,
   where the file system cannot swap, removed first. 0 or -1. */
static int install(const kp_pack *pack, const top_set *set, int base,
                   const char *tmp, const char *name)
{
    if (renameat(base, tmp, base, name) == 0)
        return 0;
    if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR &&
        errno != EISDIR)
        return -1;
    if (is_complete(pack, set, base, name) ||
        renameat2(base, tmp, base, name, RENAME_EXCHANGE) == 0)
        return 0;
    if (privdir_remove_at(base, name) != 0)
        return -1;
    return renameat(base, tmp, base, name);
}

/* Makes base/name a complete extraction of the set, unless it is one;
   shown is base's path. 0, or -1 with err. */
static int extract_into(const kp_pack *pack, const top_set *set, int base,
                        const char *shown, const char *name, char *err,
                        size_t errlen)
{
    char tmp[400], tag[80];
    writer w = {.dir = -1, .err = err, .errlen = errlen};
    int made = 0, rc = -1;

    if (is_complete(pack, set, base, name))
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
        each_file(pack, set, write_file, &w) != 0 || write_stamp(&w) != 0 ||
        each_dir(pack, set, seal_dir, &w) != 0)
        goto done;
    if (install(pack, set, base, tmp, name) != 0) {
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

const char *kiln_temp_folder(char *err, size_t errlen)
{
    return temp_root(err, errlen) == 0 ? temp_path : NULL;
}

/* Remembers the extraction of the set at path and when its stamp was
   written, so that kiln_extract_cleanup() can tell what was written into
   it since. */
static void watch(const kp_pack *pack, const top_set *set, const char *path,
                  int files)
{
    watched_dir *grown, *w;
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ok;

    if (fd < 0)
        return;
    ok = fstatat(fd, STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0;
    close(fd);
    grown = ok ? realloc(watched, (n_watched + 1) * sizeof *watched) : NULL;
    if (!grown)
        return;
    watched = grown;
    w = &watched[n_watched];
    w->path = strdup(path);
    w->set.tops = calloc(set->n ? set->n : 1, sizeof *w->set.tops);
    w->set.n = 0;
    w->stamped = mtime_ns(&st);
    w->files = files;
    for (size_t i = 0; w->set.tops && i < set->n; i++)
        if ((w->set.tops[i] = strdup(set->tops[i])))
            w->set.n++;
    if (!w->path || !w->set.tops || w->set.n != set->n) {
        for (size_t i = 0; i < w->set.n; i++)
            free(w->set.tops[i]);
        free(w->set.tops);
        free(w->path);
        return;
    }
    n_watched++;
    if (!watched_pid)
        watched_pid = getpid();
    watched_pack = pack;
}

/* Is rel a packed file, or a folder of packed files? */
static int is_packed(const kp_pack *pack, const char *rel)
{
    size_t len = strlen(rel);
    char *prefix = xasprintf("%s/", rel);
    uint32_t i = prefix ? kp_files_lower_bound(pack, prefix, len + 1)
                        : pack->file_count;
    kp_entry e;
    int found = kp_find_file(pack, rel, len) >= 0;

    if (!found && i < pack->file_count) {
        kp_file_at(pack, i, &e);
        found = e.path_len > len + 1 && memcmp(e.path, prefix, len + 1) == 0;
    }
    free(prefix);
    return found;
}

/* The check at exit of one extraction: what was written into it. */
typedef struct {
    const watched_dir *w;
    int fd; /* its folder */
    int shown;
} reporter;

static void report(reporter *r, const char *rel, const char *name,
                   const char *what)
{
    if (!r->shown++)
        fprintf(stderr, "kiln: warning: files were written into kiln's "
                "extract cache, which holds a read-only copy of the packed "
                "files%s; they are not kept (a new build extracts to a new "
                "folder, and a changed file is written again): write them "
                "elsewhere, not beside a packed module's __file__:\n",
                geteuid() == 0 ? " (root ignores its modes)" : "");
    if (r->shown <= 10)
        fprintf(stderr, "  %s/%s%s%s%s\n", r->w->path, rel, rel[0] ? "/" : "",
                name, what);
}

/* A folder changed since the stamp: what it holds besides packed files. */
static int report_dir(const char *rel, void *arg)
{
    reporter *r = arg;
    const char *at = rel[0] ? rel : ".";
    struct stat st;
    struct dirent *de;
    DIR *dir = NULL;
    int fd;

    if (fstatat(r->fd, at, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode) && mtime_ns(&st) > r->w->stamped &&
        (fd = openat(r->fd, at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                    O_CLOEXEC)) >= 0 &&
        !(dir = fdopendir(fd)))
        close(fd);
    while (dir && (de = readdir(dir))) {
        char *packed;
        int ours;

        /* Python's own __pycache__ (an interpreter that imports an
           extracted source from the disk, as root) is no one's data. */
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, "__pycache__") == 0 ||
            (!rel[0] && strcmp(de->d_name, STAMP) == 0))
            continue;
        packed = rel[0] ? xasprintf("%s/%s", rel, de->d_name)
                        : xasprintf("%s", de->d_name);
        ours = !packed || is_packed(watched_pack, packed);
        free(packed);
        if (!ours)
            report(r, rel, de->d_name, "");
    }
    if (dir)
        closedir(dir);
    return 0;
}

/* A packed file changed since the stamp (written in place). */
static int report_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    reporter *r = arg;
    struct stat st;

    (void)pack;
    if (fstatat(r->fd, e->path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && mtime_ns(&st) > r->w->stamped)
        report(r, "", e->path, " (changed)");
    return 0;
}

/* Names, on stderr, what was written into the extractions this process
   used: files that are not packed, in folders changed since the stamp,
   and packed files changed in place (but the stdlib's: a program has no
   business there, and checking its 700 files would slow every exit). */
static void report_writes(void)
{
    int shown = 0;

    for (size_t i = 0; i < n_watched; i++) {
        reporter r = {&watched[i], open(watched[i].path, O_RDONLY |
                                        O_DIRECTORY | O_CLOEXEC), shown};
        if (r.fd < 0)
            continue;
        each_dir(watched_pack, &watched[i].set, report_dir, &r);
        if (watched[i].files)
            each_file(watched_pack, &watched[i].set, report_file, &r);
        close(r.fd);
        shown = r.shown;
    }
    if (shown > 10)
        fprintf(stderr, "  ... and %d more\n", shown - 10);
}

/* Extracts the set into the folder LABEL-HASH (see kiln_extract()). */
static char *extract_set(const kp_pack *pack, const char *label,
                         const top_set *set, char **warning, char *err,
                         size_t errlen)
{
    XXH3_state_t st;
    char name[300], why[1024];
    char *base = NULL, *real = NULL, *dir = NULL;
    int fd = -1, rc;

    *warning = NULL;
    err[0] = '\0';
    for (size_t i = 0; i < set->n; i++)
        if (strlen(set->tops[i]) > 200 || strchr(set->tops[i], '/')) {
            snprintf(err, errlen, "bad package name to extract: %s",
                     set->tops[i]);
            return NULL;
        }
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, EXTRACT_LAYOUT, sizeof EXTRACT_LAYOUT);
    each_file(pack, set, hash_file, &st);
    snprintf(name, sizeof name, "%.200s-%016llx", label,
             (unsigned long long)XXH3_64bits_digest(&st));
    rc = privdir_user_cache("extract", &base, why, sizeof why);
    if (rc == 0) {
        fd = privdir_open(base, PRIVDIR_CREATE | PRIVDIR_PRIVATE, &real, why,
                          sizeof why);
        if (fd >= 0 && !swept++)
            sweep(fd, NULL, WRITER_MAX_AGE);
        if (fd >= 0 &&
            extract_into(pack, set, fd, real, name, why, sizeof why) == 0) {
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
        extract_into(pack, set, temp_fd, temp_path, name, err, errlen) == 0)
        dir = xasprintf("%s/%s", temp_path, name);
done:
    if (!dir && !err[0])
        snprintf(err, errlen, "out of memory");
    if (dir)
        watch(pack, set, dir, strcmp(label, "stdlib") != 0);
    if (fd >= 0)
        close(fd);
    free(base);
    free(real);
    return dir;
}

char *kiln_extract(const kp_pack *pack, const char *top, char **warning,
                   char *err, size_t errlen)
{
    char *tops[1] = {(char *)top};
    top_set set = {tops, 1};

    return extract_set(pack, top, &set, warning, err, errlen);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *kiln_extract_stdlib(const kp_pack *pack, char **warning, char *err,
                          size_t errlen)
{
    const uint32_t both = KP_MOD_STDLIB | KP_MOD_EXTRACT;
    top_set set = {NULL, 0};
    char *dir = NULL;
    size_t kept = 0;
    kp_entry e;

    *warning = NULL;
    err[0] = '\0';
    set.tops = malloc((pack->module_count + 1) * sizeof *set.tops);
    for (uint32_t i = 0; set.tops && i < pack->module_count; i++) {
        kp_module_at(pack, i, &e);
        if ((e.flags & both) != both)
            continue;
        set.tops[set.n] = strndup(e.path, ke_top_len(e.path, e.path_len));
        if (!set.tops[set.n])
            goto done;
        set.n++;
    }
    if (!set.tops)
        goto done;
    qsort(set.tops, set.n, sizeof *set.tops, compare_names);
    for (size_t i = 0; i < set.n; i++)
        if (kept > 0 && strcmp(set.tops[kept - 1], set.tops[i]) == 0)
            free(set.tops[i]);
        else
            set.tops[kept++] = set.tops[i];
    set.n = kept;
    dir = extract_set(pack, "stdlib", &set, warning, err, errlen);
done:
    if (!dir && !err[0])
        snprintf(err, errlen, "out of memory");
    for (size_t i = 0; i < set.n; i++)
        free(set.tops[i]);
    free(set.tops);
    return dir;
}

void kiln_extract_cleanup(void)
{
    if (watched_pid == getpid())
        report_writes();
    for (size_t i = 0; i < n_watched; i++) {
        for (size_t j = 0; j < watched[i].set.n; j++)
            free(watched[i].set.tops[j]);
        free(watched[i].set.tops);
        free(watched[i].path);
    }
    free(watched);
    watched = NULL;
    n_watched = 0;
    watched_pid = 0;
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
