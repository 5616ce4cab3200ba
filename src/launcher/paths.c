/*
 * paths.c - where a kiln interpreter says it is, as python3's getpath
 * computes it: sys.executable from argv[0], and the installation prefix,
 * which is the real executable's folder, or in a venv the folder of the
 * kiln interpreter its pyvenv.cfg leads to.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <patchlevel.h> /* PY_MAJOR_VERSION, PY_MINOR_VERSION */

#include "kpack.h"
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
   getpath.py does: key case-insensitively, both sides stripped. 0 when the
   line is another key's, or the value does not fit. */
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
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return 0;
    }
    return 1;
}

/* Reads home and executable (the first of each) from the pyvenv.cfg in
   python's folder or the one above it, where getpath.py looks. 1 when
   there is one with a home key. */
static int read_venv_cfg(const char *python, char home[PATH_MAX],
                         char executable[PATH_MAX])
{
    char dir[PATH_MAX], cfg[PATH_MAX + 16], line[PATH_MAX + 64];
    FILE *f = NULL;

    home[0] = executable[0] = '\0';
    if (dir_of(python, dir, sizeof dir) != 0)
        return 0;
    for (int up = 0; up < 2 && !f; up++) {
        snprintf(cfg, sizeof cfg, "%s%spyvenv.cfg", dir,
                 strcmp(dir, "/") ? "/" : "");
        f = fopen(cfg, "re");
        if (!f && dir_of(dir, dir, sizeof dir) != 0)
            return 0;
    }
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        int c;
        if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
            /* longer than any path: skip the rest of it */
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        if (!home[0] && cfg_value(line, "home", home, PATH_MAX))
            continue;
        if (!executable[0])
            cfg_value(line, "executable", executable, PATH_MAX);
    }
    fclose(f);
    return home[0] != '\0';
}

static int is_symlink(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* A venv made by a kiln interpreter leads back to a kiln executable; a
   CPython's venv may hold a kiln interpreter too, whose base it is not. */
static int is_kiln_executable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int yes = fd >= 0 && kp_fd_has_trailer(fd);

    if (fd >= 0)
        close(fd);
    return yes;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The interpreter python, a venv's, was made from, into base: the
   symlink's target, or for a copy home/<its name>, pyvenv.cfg's
   executable (which venv writes), or home/<executable's name> if the venv
   was moved. 0 when python is not a venv's, or no candidate is a kiln
   executable. */
/* 3.10's venv writes no "executable =": a venv made with --copies by a
   kiln interpreter named py holds a copy named py beside its python, and
   the base is home/py. Tries home/NAME for each kiln executable NAME in
   the folder of python. */
static int base_by_copy(const char *python, const char *home,
                        char base[PATH_MAX])
{
    char dir[PATH_MAX], path[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int found = 0;

    if (dir_of(python, dir, sizeof dir) != 0 || !(d = opendir(dir)))
        return 0;
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
                (int)sizeof path ||
            !is_kiln_executable(path) ||
            snprintf(base, PATH_MAX, "%s/%s", home, de->d_name) >= PATH_MAX)
            continue;
        found = strcmp(base, python) != 0 && is_kiln_executable(base);
    }
    closedir(d);
    return found;
}

static int venv_base(const char *python, char base[PATH_MAX])
{
    char home[PATH_MAX], cfg_exe[PATH_MAX];
    char candidates[4][PATH_MAX];
    size_t n = 0;

    if (!read_venv_cfg(python, home, cfg_exe))
        return 0;
    if (is_symlink(python) && realpath(python, candidates[n]))
        n++;
    if (snprintf(candidates[n], PATH_MAX, "%s/%s", home,
                 base_name(python)) < PATH_MAX)
        n++;
    if (cfg_exe[0]) {
        snprintf(candidates[n++], PATH_MAX, "%s", cfg_exe);
        if (snprintf(candidates[n], PATH_MAX, "%s/%s", home,
                     base_name(cfg_exe)) < PATH_MAX)
            n++;
    }
    for (size_t i = 0; i < n; i++)
        if (candidates[i][0] == '/' && strcmp(candidates[i], python) != 0 &&
            is_kiln_executable(candidates[i])) {
            memcpy(base, candidates[i], PATH_MAX);
            return 1;
        }
    return !cfg_exe[0] && base_by_copy(python, home, base);
}

/* A venv of a venv (of a venv...) leads back this many steps at most. */
#define MAX_VENV_DEPTH 8

int kiln_prefix(const char *exe, const char *python_path,
                char prefix[PATH_MAX], char base_executable[PATH_MAX])
{
    char python[PATH_MAX], real[PATH_MAX];

    snprintf(base_executable, PATH_MAX, "%s", exe);
    if (!python_path)
        return dir_of(exe, prefix, PATH_MAX);
    if (snprintf(python, sizeof python, "%s", python_path) >=
        (int)sizeof python)
        return -1;
    for (int depth = 0; depth < MAX_VENV_DEPTH; depth++) {
        if (!venv_base(python, base_executable))
            break;
        memcpy(python, base_executable, PATH_MAX);
    }
    if (!realpath(base_executable, real))
        snprintf(real, sizeof real, "%s", exe);
    return dir_of(real, prefix, PATH_MAX);
}

int kiln_disk_stdlib(const char *prefix, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/lib/python%d.%d",
                     strcmp(prefix, "/") ? prefix : "", PY_MAJOR_VERSION,
                     PY_MINOR_VERSION);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
