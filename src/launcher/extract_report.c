/*
 * extract_report.c - at exit, each process names what was written into the
 * extractions it used: what root wrote (modes do not stop root), and
 * packed files changed in place, which the next run would write again.
 * Anything changed after the stamp was written has a later mtime.
 */
#include "extract_report.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "locks.h"

/* The extractions this process used, for the check at exit: their folder,
   their set (owned) and their stamp's mtime. pid is the process that
   recorded them. Guarded by KILN_LOCK_REPORT. */
typedef struct {
    char *path;
    kiln_top_set set;
    unsigned long long stamped;
    int files; /* check the packed files too (not the stdlib's: too many) */
} watched_dir;
static watched_dir *watched;
static size_t n_watched;
static const kp_pack *watched_pack;
static pid_t watched_pid;

void kiln_extract_watch(const kp_pack *pack, const kiln_top_set *set,
                        const char *path, int files)
{
    watched_dir *grown, *w;
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ok;

    if (fd < 0)
        return;
    ok = fstatat(fd, KILN_EXTRACT_STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0;
    close(fd);
    if (!ok)
        return;
    kiln_lock(KILN_LOCK_REPORT);
    grown = realloc(watched, (n_watched + 1) * sizeof *watched);
    if (!grown)
        goto done;
    watched = grown;
    w = &watched[n_watched];
    w->path = strdup(path);
    w->set.tops = calloc(set->n ? set->n : 1, sizeof *w->set.tops);
    w->set.n = 0;
    w->stamped = kiln_mtime_ns(&st);
    w->files = files;
    for (size_t i = 0; w->set.tops && i < set->n; i++)
        if ((w->set.tops[i] = strdup(set->tops[i])))
            w->set.n++;
    if (!w->path || !w->set.tops || w->set.n != set->n) {
        for (size_t i = 0; i < w->set.n; i++)
            free(w->set.tops[i]);
        free(w->set.tops);
        free(w->path);
        goto done;
    }
    n_watched++;
    if (!watched_pid)
        watched_pid = getpid();
    watched_pack = pack;
done:
    kiln_unlock(KILN_LOCK_REPORT);
}

/* Is rel a packed file, or a folder of packed files? */
static int is_packed(const kp_pack *pack, const char *rel)
{
    size_t len = strlen(rel);
    char *prefix = kiln_asprintf("%s/", rel);
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
        warning("files were written into kiln's extract cache, which holds "
                "a read-only copy of the packed files%s; they are not kept "
                "(a new build extracts to a new folder, and a changed file "
                "is written again): write them elsewhere, not beside a "
                "packed module's __file__:",
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
        S_ISDIR(st.st_mode) && kiln_mtime_ns(&st) > r->w->stamped &&
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
            (!rel[0] && strcmp(de->d_name, KILN_EXTRACT_STAMP) == 0))
            continue;
        packed = rel[0] ? kiln_asprintf("%s/%s", rel, de->d_name)
                        : kiln_asprintf("%s", de->d_name);
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
        S_ISREG(st.st_mode) && kiln_mtime_ns(&st) > r->w->stamped)
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
        kiln_each_dir(watched_pack, &watched[i].set, report_dir, &r);
        if (watched[i].files)
            kiln_each_file(watched_pack, &watched[i].set, report_file, &r);
        close(r.fd);
        shown = r.shown;
    }
    if (shown > 10)
        fprintf(stderr, "  ... and %d more\n", shown - 10);
}

void kiln_extract_report(void)
{
    kiln_lock(KILN_LOCK_REPORT);
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
    kiln_unlock(KILN_LOCK_REPORT);
}
