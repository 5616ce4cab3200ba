/*
 * privdir.c - private per-user folders (see privdir.h).
 */
#include "privdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int privdir_make(const char *path, char *why, size_t whylen)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    struct stat st;
    int rc = 0;

    if (!p) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    memcpy(p, path, len + 1);
    for (char *s = p + 1; rc == 0 && *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(p);
    if (rc != 0 || stat(path, &st) != 0) {
        snprintf(why, whylen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, whylen, "%s is not a folder", path);
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 022)) {
        snprintf(why, whylen, "%s is %s another user; refusing it", path,
                 st.st_uid != geteuid() ? "owned by" : "writable by");
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(why, whylen, "cannot write to %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

char *privdir_user_cache(const char *sub)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *fmt = "%s/kiln/%s";
    char *out;
    int n;

    if (!xdg || xdg[0] != '/') {
        if (!home || home[0] != '/')
            return NULL;
        xdg = home;
        fmt = "%s/.cache/kiln/%s";
    }
    n = snprintf(NULL, 0, fmt, xdg, sub);
    out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (out)
        snprintf(out, (size_t)n + 1, fmt, xdg, sub);
    return out;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

int privdir_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
