/*
 * tempdir.c - the private temporary folder, kiln-extract-TAG in $TMPDIR:
 * the extract cache's fallback, and where copies of packed files that are
 * not the cache's go (pkg_resources.resource_filename()). It is removed at
 * exit; on SIGTERM or SIGHUP by a handler installed when it is made (C, so
 * Python code sees no handler: the signal module read SIG_DFL at start-up);
 * and otherwise (SIGKILL, a crash, os._exit) by the next run that makes
 * one, once its process is gone.
 */
#include "tempdir.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract_set.h" /* kiln_asprintf */
#include "locks.h"
#include "privdir.h"
#include "sweep.h"

#define TEMP_PREFIX "kiln-extract-"

/* The folder, once made: its path, its descriptor, the folder
   that holds it and its name there (for the signal handler), and the pid
   that made it (0 once removed): a forked child must not remove it.
   Changed with KILN_LOCK_TEMPDIR held. */
static char *temp_path;
static int temp_fd = -1, temp_parent = -1;
static char temp_name[96];
static volatile sig_atomic_t temp_owner;
static const int temp_signals[] = {SIGTERM, SIGHUP};

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
    kiln_sweep(parent, TEMP_PREFIX, 0);
    kiln_make_tag(tag, sizeof tag);
    snprintf(temp_name, sizeof temp_name, TEMP_PREFIX "%s", tag);
    made = mkdirat(parent, temp_name, 0700) == 0;
    if (made)
        dir = openat(parent, temp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                            O_CLOEXEC);
    if (dir < 0 || !(temp_path = kiln_asprintf("%s/%s", real, temp_name))) {
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
    const char *path;

    kiln_lock(KILN_LOCK_TEMPDIR);
    path = temp_root(err, errlen) == 0 ? temp_path : NULL;
    kiln_unlock(KILN_LOCK_TEMPDIR);
    return path;
}

int kiln_temp_folder_fd(void)
{
    int fd;

    kiln_lock(KILN_LOCK_TEMPDIR);
    fd = temp_fd;
    kiln_unlock(KILN_LOCK_TEMPDIR);
    return fd;
}

void kiln_temp_folder_remove(void)
{
    kiln_lock(KILN_LOCK_TEMPDIR);
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
    kiln_unlock(KILN_LOCK_TEMPDIR);
}
