/*
 * paths.c - where a kiln interpreter says it is, as python3's getpath
 * computes it: sys.executable from argv[0], and the installation prefix,
 * which is the real executable's folder, or in a venv the folder of the
 * interpreter named by pyvenv.cfg.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <patchlevel.h> /* PY_MAJOR_VERSION, PY_MINOR_VERSION */

#include "paths.h"

/* Lexical normalization of an absolute path, as os.path.normpath: drops
   "." and empty parts and folds "..", in place. */
static void normalize_path(char *path)
{
    char *out = path, *in = path;

    while (*in) {
        size_t len;
        while (*in == '/')
            in++;
        len = strcspn(in, "/");
        if (len == 0)
            break;
        if (len == 1 && in[0] == '.') {
            /* skip */
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > path && *--out != '/')
                ;
        } else {
            *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in += len;
    }
    if (out == path)
        *out++ = '/';
    *out = '\0';
}

char *kiln_invoked_path(const char *argv0)
{
    char buf[PATH_MAX], cwd[PATH_MAX];
    const char *path = getenv("PATH");

    if (!argv0 || !*argv0)
        return NULL;
    buf[0] = '\0';
    if (argv0[0] == '/') {
        snprintf(buf, sizeof buf, "%s", argv0);
    } else if (strchr(argv0, '/')) {
        if (!getcwd(cwd, sizeof cwd) ||
            snprintf(buf, sizeof buf, "%s/%s", cwd, argv0) >= (int)sizeof buf)
            return NULL;
    } else {
        while (path && *path && !buf[0]) {
            size_t len = strcspn(path, ":");
            if (len == 0 || snprintf(buf, sizeof buf, "%.*s/%s", (int)len,
                                     path, argv0) >= (int)sizeof buf ||
                access(buf, X_OK) != 0)
                buf[0] = '\0';
            path += len + (path[len] == ':');
        }
    }
    if (buf[0] != '/')
        return NULL; /* not found, or found through a relative PATH entry */
    normalize_path(buf);
    return strdup(buf);
}

/* The folder part of path into buf ("/" for a file at the root); buf may
   be path. */
static int dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash && slash != path ? (size_t)(slash - path) : 1;

    if (len >= size)
        return -1;
    memmove(buf, path, len);
    buf[len] = '\0';
    return 0;
}

/* The value of key in a pyvenv.cfg line ("key = value"), matched as
   getpath.py does: key case-insensitively, both sides stripped. */
static int cfg_value(const char *line, const char *key, char *buf,
                     size_t size)
{
    const char *eq = strchr(line, '='), *end;
    size_t klen = strlen(key);
    int n;

    if (!eq)
        return 0;
    while (*line == ' ' || *line == '\t')
        line++;
    end = eq;
    while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - line) != klen || strncasecmp(line, key, klen) != 0)
        return 0;
    for (eq++; *eq == ' ' || *eq == '\t'; eq++)
        ;
    end = eq + strcspn(eq, "\r\n");
    while (end > eq && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = snprintf(buf, size, "%.*s", (int)(end - eq), eq);
    return n >= 0 && (size_t)n < size;
}

/* Reads home and executable from the pyvenv.cfg in the invoked path's
   folder or the one above it, as getpath.py looks. 1 when there is one
   with a home key. */
static int read_venv_cfg(const char *invoked, char home[PATH_MAX],
                         char executable[PATH_MAX])
{
    char dir[PATH_MAX], cfg[PATH_MAX + 16], line[PATH_MAX + 64];
    int found = 0;

    home[0] = executable[0] = '\0';
    if (dir_of(invoked, dir, sizeof dir) != 0)
        return 0;
    for (int up = 0; up < 2 && !found; up++) {
        FILE *f;
        snprintf(cfg, sizeof cfg, "%s%spyvenv.cfg", dir,
                 strcmp(dir, "/") ? "/" : "");
        f = fopen(cfg, "re");
        if (f) {
            found = 1;
            while (fgets(line, sizeof line, f))
                if (!cfg_value(line, "home", home, PATH_MAX))
                    cfg_value(line, "executable", executable, PATH_MAX);
            fclose(f);
        }
        if (dir_of(dir, dir, sizeof dir) != 0)
            break;
    }
    return home[0] != '\0';
}

static int is_symlink(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int is_executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

int kiln_prefix(const char *exe, const char *invoked, char prefix[PATH_MAX],
                char base_executable[PATH_MAX])
{
    char home[PATH_MAX], cfg_exe[PATH_MAX], real[PATH_MAX];
    char guess[2 * PATH_MAX];
    const char *base = exe;

    if (invoked && read_venv_cfg(invoked, home, cfg_exe)) {
        /* The interpreter the venv was made from: a symlinked venv's
           python resolves to it; a copy's is named by pyvenv.cfg
           (venv writes "executable") or sits in home under its name. */
        snprintf(guess, sizeof guess, "%s/%s", home, strrchr(invoked, '/') + 1);
        if (is_symlink(invoked) && realpath(invoked, real))
            base = real;
        else if (cfg_exe[0] == '/' && is_executable_file(cfg_exe))
            base = cfg_exe;
        else if (is_executable_file(guess) && strlen(guess) < PATH_MAX)
            base = guess;
        else
            base = NULL; /* home itself, then */
        if (!base || !realpath(base, real)) {
            snprintf(prefix, PATH_MAX, "%s", home);
            snprintf(base_executable, PATH_MAX, "%s", exe);
            return 0;
        }
        snprintf(base_executable, PATH_MAX, "%s", base);
        return dir_of(real, prefix, PATH_MAX);
    }
    snprintf(base_executable, PATH_MAX, "%s", exe);
    return dir_of(exe, prefix, PATH_MAX);
}

int kiln_disk_stdlib(const char *prefix, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/lib/python%d.%d",
                     strcmp(prefix, "/") ? prefix : "", PY_MAJOR_VERSION,
                     PY_MINOR_VERSION);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
