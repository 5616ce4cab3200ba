/*
 * installation.c - checks that the installation the launcher was linked
 * from has not changed since (installation.h). An update of the
 * distribution's python3.11 replaces its stdlib and its libpython3.11.a
 * together: a launcher linked before it would pack the new stdlib with
 * the old libpython, and the bytecode magic cannot tell (csv.py of one
 * release relies on a fix in the _sre of the same release).
 */
#include "installation.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "target.h" /* KILN_STDLIB_STAMP, KILN_LIBPYTHON, their _STAT */

/* "SIZE MTIME_NS" of path now, in buf; -1 with errno when it is gone. */
static int stat_line(const char *path, char *buf, size_t size)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return -1;
    snprintf(buf, size, "%lld %lld", (long long)st.st_size,
             (long long)st.st_mtim.tv_sec * 1000000000LL +
                 st.st_mtim.tv_nsec);
    return 0;
}

/* "N bytes, modified YYYY-MM-DD HH:MM:SS UTC" for a "SIZE MTIME_NS"
   line. */
static void describe(const char *line, char *buf, size_t size)
{
    long long bytes = 0, ns = 0;
    time_t secs;
    struct tm tm;
    char when[32] = "?";

    if (sscanf(line, "%lld %lld", &bytes, &ns) == 2) {
        secs = (time_t)(ns / 1000000000LL);
        if (gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    snprintf(buf, size, "%lld bytes, modified %s", bytes, when);
}

/* 0 when path still has the size and mtime of `then`; a gone file is
   only a change when must_exist. */
static int check_one(const char *exe, const char *path, const char *then,
                     int must_exist, char *msg, size_t size)
{
    char now[64], was[96], is[96];

    if (stat_line(path, now, sizeof now) != 0) {
        if (errno == ENOENT && !must_exist)
            return 0; /* libpython*-dev removed: the stdlib still tells */
        snprintf(msg, size,
                 "the launcher %s was linked with CPython %s from %s, but "
                 "%s is gone (%s): that installation was removed or "
                 "moved; rebuild the launchers with 'make' in kiln's "
                 "source tree",
                 exe, KILN_PY_BUILD, KILN_PY_PREFIX, path, strerror(errno));
        return -1;
    }
    if (strcmp(now, then) == 0)
        return 0;
    describe(then, was, sizeof was);
    describe(now, is, sizeof is);
    snprintf(msg, size,
             "the launcher %s was linked with CPython %s from %s, but that "
             "installation has changed since: %s was %s, and is now %s. "
             "Its stdlib would not match the libpython inside the "
             "launcher; rebuild the launchers with 'make' in kiln's "
             "source tree (then 'make install' if kiln is installed)",
             exe, KILN_PY_BUILD, KILN_PY_PREFIX, path, was, is);
    return -1;
}

int installation_check(const char *exe, char *msg, size_t size)
{
    if (check_one(exe, KILN_STDLIB_STAMP, KILN_STDLIB_STAMP_STAT, 1, msg,
                  size) != 0 ||
        check_one(exe, KILN_LIBPYTHON, KILN_LIBPYTHON_STAT, 0, msg,
                  size) != 0)
        return -1;
    return 0;
}
