/*
 * extract.c - the extract-once cache (see extract.h).
 *
 * The folder for a package is named by a hash of its packed paths and
 * blob checks (and the layout's version: how files are written), so a new
 * build gets a new folder and an unchanged one reuses it. Files are written
 * to a temporary folder, .NAME.TAG (TAG: the writer's pid, pid namespace
 * and a random number; sweep.c), with a stamp file last that lists every
 * file with its size and mtime, and the folder is renamed into place: a crash
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
 * extractions it used (extract_report.c).
 *
 * The standard library's extracted part (kiln build --stdlib-files, or
 * --extract of a stdlib name) shares one folder, stdlib-HASH, laid out as
 * the stdlib's own folder.
 *
 * When the cache cannot be used, the private temporary folder (tempdir.c)
 * holds the extractions instead.
 */
#include "extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Changes when extracted files are written differently, so that older
   folders are not reused. 2: modes 0644 and 0755, not 0600 and 0700;
   3: the stamp lists the files; 4 (never released): read-only files and
   folders; 5: read-only folders. */
#define EXTRACT_LAYOUT "kiln-extract-5"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "entries.h"
#include "extract_report.h"
#include "extract_set.h"
#include "fdio.h"
#include "locks.h"
#include "privdir.h"
#include "sweep.h"
#include "tempdir.h"

#define STAMP_MAX (64 << 20)
/* A writer's temporary folder this old is stale, whoever made it: writing
   takes seconds. */
#define WRITER_MAX_AGE (24 * 3600)

/* The cache's dead writers were removed (KILN_LOCK_EXTRACT). */
static int swept;

static int hash_file(const kp_pack *pack, const kp_entry *e, void *arg)
{
    uint32_t meta[2] = {e->a.size, e->a.check};
    (void)pack;
    XXH3_64bits_update(arg, e->path, e->path_len + 1);
    XXH3_64bits_update(arg, meta, sizeof meta);
    return 0;
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
                 kiln_mtime_ns(&st));
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
    int fd = openat(w->dir, KILN_EXTRACT_STAMP,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0444);
    int ok = fd >= 0 && fd_write_full(fd, w->stamp, w->len) == 0;

    if ((fd >= 0 && close(fd) != 0) || !ok) {
        snprintf(w->err, w->errlen,
                 "cannot write %s/" KILN_EXTRACT_STAMP ": %s", w->shown,
                 strerror(errno));
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
        kiln_mtime_ns(&st) != mtime)
        return -1;
    return 0;
}

/* The stamp of the folder dir, malloc'd; NULL if missing or too big. */
static char *read_stamp(int dir, size_t *len)
{
    int fd = openat(dir, KILN_EXTRACT_STAMP,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
static int is_complete(const kp_pack *pack, const kiln_top_set *set, int base,
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
        ok = kiln_each_file(pack, set, check_file, &k) == 0 && k.at == k.end;
    }
    free(stamp);
    close(dir);
    return ok;
}

/* Moves the finished folder tmp to name in base. When name is taken: kept
   if another process completed it meanwhile, else swapped (so it never
   goes missing for a process using it; the old one ends as tmp), else,
   where the file system cannot swap, removed first. 0 or -1. */
static int install(const kp_pack *pack, const kiln_top_set *set, int base,
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
static int extract_into(const kp_pack *pack, const kiln_top_set *set, int base,
                        const char *shown, const char *name, char *err,
                        size_t errlen)
{
    char tmp[400], tag[80];
    writer w = {.dir = -1, .err = err, .errlen = errlen};
    int made = 0, rc = -1;

    if (is_complete(pack, set, base, name))
        return 0;
    kiln_make_tag(tag, sizeof tag);
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
        kiln_each_file(pack, set, write_file, &w) != 0 ||
        write_stamp(&w) != 0 ||
        kiln_each_dir(pack, set, seal_dir, &w) != 0)
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

/* Extracts the set into the folder LABEL-HASH (see kiln_extract()), with
   KILN_LOCK_EXTRACT held. */
static char *extract_locked(const kp_pack *pack, const char *label,
                         const kiln_top_set *set, char **warning, char *err,
                         size_t errlen)
{
    XXH3_state_t st;
    char name[300], why[1024];
    char *base = NULL, *real = NULL, *dir = NULL;
    const char *temp;
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
    kiln_each_file(pack, set, hash_file, &st);
    snprintf(name, sizeof name, "%.200s-%016llx", label,
             (unsigned long long)XXH3_64bits_digest(&st));
    rc = privdir_user_cache("extract", &base, why, sizeof why);
    if (rc == 0) {
        fd = privdir_open(base, PRIVDIR_CREATE | PRIVDIR_PRIVATE, &real, why,
                          sizeof why);
        if (fd >= 0 && !swept++)
            kiln_sweep(fd, NULL, WRITER_MAX_AGE);
        if (fd >= 0 &&
            extract_into(pack, set, fd, real, name, why, sizeof why) == 0) {
            dir = kiln_asprintf("%s/%s", real, name);
            goto done;
        }
    }
    /* rc 1: another user's home (sudo -E); the temporary folder is what
       should happen, so there is nothing to warn about. */
    if (rc != 1)
        *warning = kiln_asprintf("cannot use the extract cache (%s); using "
                                 "a private temporary folder instead", why);
    temp = kiln_temp_folder(err, errlen);
    if (temp && extract_into(pack, set, kiln_temp_folder_fd(), temp, name,
                             err, errlen) == 0)
        dir = kiln_asprintf("%s/%s", temp, name);
done:
    if (!dir && !err[0])
        snprintf(err, errlen, "out of memory");
    if (dir)
        kiln_extract_watch(pack, set, dir, strcmp(label, "stdlib") != 0);
    if (fd >= 0)
        close(fd);
    free(base);
    free(real);
    return dir;
}

/* extract_locked(), one extraction at a time in the process: interpreters
   with a GIL of their own (3.12+) may ask for the same folder at once, and
   the second then finds it complete. */
static char *extract_set(const kp_pack *pack, const char *label,
                         const kiln_top_set *set, char **warning, char *err,
                         size_t errlen)
{
    char *dir;

    kiln_lock(KILN_LOCK_EXTRACT);
    dir = extract_locked(pack, label, set, warning, err, errlen);
    kiln_unlock(KILN_LOCK_EXTRACT);
    return dir;
}

char *kiln_extract(const kp_pack *pack, const char *top, char **warning,
                   char *err, size_t errlen)
{
    char *tops[1] = {(char *)top};
    kiln_top_set set = {tops, 1};

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
    kiln_top_set set = {NULL, 0};
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
    kiln_extract_report();
    kiln_temp_folder_remove();
}
