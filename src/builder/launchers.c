/*
 * launchers.c - the launchers kiln packs with (launchers.h). make builds
 * kiln-launcher-NAME for each CPython installation: NAME is X.Y for the
 * first installation of a version, X.Y.Z for another. Each launcher
 * answers the compile-server op B with the installation it was linked
 * from, or with why that installation no longer matches it.
 */
#include "launchers.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "default_target.h" /* KILN_DEFAULT_TARGET, from make */
#include "reply.h"
#include "util.h"

#define PREFIX_NAME "kiln-launcher-"

typedef struct {
    char *name; /* after "kiln-launcher-" */
    char *path;
} launcher_ref;

/* What op B says: where the launcher came from, or why it cannot serve. */
typedef struct {
    char *python, *prefix, *version; /* version: "3.11.2" */
    char *refusal;                   /* the installation changed */
} built_from;

static void launcher_ref_free(void *p)
{
    launcher_ref *l = p;
    free(l->name);
    free(l->path);
    free(l);
}

static void built_from_free(built_from *b)
{
    free(b->python);
    free(b->prefix);
    free(b->version);
    free(b->refusal);
    memset(b, 0, sizeof *b);
}

/* The folders kiln looks in, in order: $KILN_LAUNCHER_DIR, then
   ../lib/kiln and the folder of kiln itself. */
static void search_dirs(vec *dirs)
{
    char self[PATH_MAX];
    const char *env = getenv("KILN_LAUNCHER_DIR");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (env && *env)
        vec_push(dirs, xstrdup(env));
    if (n > 0) {
        char *dir;
        self[n] = '\0';
        dir = dir_name(self);
        vec_push(dirs, xprintf("%s/../lib/kiln", dir));
        vec_push(dirs, dir);
    }
}

static int by_name(const void *a, const void *b)
{
    const launcher_ref *x = *(launcher_ref *const *)a;
    const launcher_ref *y = *(launcher_ref *const *)b;
    int dx = strcmp(x->name, KILN_DEFAULT_TARGET) == 0;
    int dy = strcmp(y->name, KILN_DEFAULT_TARGET) == 0;

    return dx != dy ? dy - dx : strverscmp(x->name, y->name);
}

/* Every launcher of the search folders (the first folder wins a name),
   the default first, then by version. */
static void list_launchers(vec *out, vec *dirs)
{
    search_dirs(dirs);
    for (size_t i = 0; i < dirs->n; i++) {
        DIR *d = opendir(dirs->v[i]);
        struct dirent *de;

        while (d && (de = readdir(d))) {
            const char *name = de->d_name + strlen(PREFIX_NAME);
            char *path;
            int known = 0;

            if (strncmp(de->d_name, PREFIX_NAME, strlen(PREFIX_NAME)) != 0 ||
                !isdigit((unsigned char)*name))
                continue;
            for (size_t j = 0; j < out->n && !known; j++)
                known = strcmp(((launcher_ref *)out->v[j])->name, name) == 0;
            path = xprintf("%s/%s", (char *)dirs->v[i], de->d_name);
            if (known || access(path, X_OK) != 0) {
                free(path);
                continue;
            }
            launcher_ref *l = xmalloc(sizeof *l);
            l->name = xstrdup(name);
            l->path = path;
            vec_push(out, l);
        }
        if (d)
            closedir(d);
    }
    qsort(out->v, out->n, sizeof *out->v, by_name);
}

/* Op B of the server s. -1 only when the server is gone (said why). */
static int ask_built_from(kserver *s, built_from *b)
{
    uint32_t status;
    uint8_t *out;
    size_t len;
    char *build;

    memset(b, 0, sizeof *b);
    if (server_call(s, KC_OP_BUILT, 0, "the installation check", "", 0,
                    &status, &out, &len) != 0)
        return -1;
    if (status != KC_OK) {
        b->refusal = (char *)out;
        return 0;
    }
    b->python = reply_get((char *)out, "python");
    b->prefix = reply_get((char *)out, "prefix");
    build = reply_get((char *)out, "build");
    if (build) {
        build[strcspn(build, " ")] = '\0';
        b->version = build;
    }
    free(out);
    if (!b->python || !b->prefix || !b->version)
        b->refusal = xprintf("the launcher %s gave an incomplete "
                             "description of its installation; rebuild it "
                             "with 'make'", s->launcher);
    return 0;
}

/* Starts l in s and asks it op B. -1 after a message. */
static int start(const launcher_ref *l, kserver *s, built_from *b)
{
    if (server_start(s, l->path) != 0)
        return -1;
    if (ask_built_from(s, b) != 0) {
        server_stop(s);
        return -1;
    }
    return 0;
}

static void print_known(const vec *found, const vec *dirs)
{
    if (found->n == 0) {
        fprintf(stderr, "  kiln found no launcher; it looked in:\n");
        for (size_t i = 0; i < dirs->n; i++)
            fprintf(stderr, "    %s\n", (char *)dirs->v[i]);
        fprintf(stderr, "  build them with 'make' in kiln's source tree, or "
                        "set KILN_LAUNCHER_DIR\n");
        return;
    }
    fprintf(stderr, "  kiln has launchers for:");
    for (size_t i = 0; i < found->n; i++)
        fprintf(stderr, " %s", ((launcher_ref *)found->v[i])->name);
    fprintf(stderr, " ('kiln targets' lists them); 'make PYTHONS=\"...\"' "
                    "builds others\n");
}

static int is_version(const char *s)
{
    int dots = 0;

    if (!isdigit((unsigned char)*s))
        return 0;
    for (; *s; s++) {
        if (*s == '.' && isdigit((unsigned char)s[1]))
            dots++;
        else if (!isdigit((unsigned char)*s))
            return 0;
    }
    return dots == 1 || dots == 2;
}

/* realpath() as a new string, or NULL. */
static char *real(const char *path)
{
    char buf[PATH_MAX];
    return realpath(path, buf) ? xstrdup(buf) : NULL;
}

/* The value of "key = value" in a pyvenv.cfg, as a new string. */
static char *cfg_value(const char *text, const char *key)
{
    size_t klen = strlen(key);

    for (const char *at = text; *at; at += strcspn(at, "\n"), at += !!*at) {
        const char *p = at;
        size_t n;

        if (strncmp(p, key, klen) != 0)
            continue;
        p += klen;
        p += strspn(p, " \t");
        if (*p != '=')
            continue;
        p++;
        p += strspn(p, " \t");
        n = strcspn(p, "\r\n");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        return xprintf("%.*s", (int)n, p);
    }
    return NULL;
}

static int is_elf(const char *path)
{
    char head[4] = {0};
    FILE *f = fopen(path, "rb");
    int elf = f && fread(head, 1, 4, f) == 4 && memcmp(head, "\177ELF", 4) == 0;

    if (f)
        fclose(f);
    return elf;
}

/* The installation of the python at path, as its real prefix in
   *prefix; a venv's python gives its base installation's, and *venv. */
static int installation_of(const char *path, char **prefix,
                           venv_info *venv)
{
    char *bin = dir_name(path), *root = dir_name(bin);
    char *cfg = xprintf("%s/pyvenv.cfg", root), *home = NULL;
    char *exe = real(path), *up = NULL;
    uint8_t *text = NULL;
    size_t len;
    struct stat st;
    int rc = -1;

    *prefix = NULL;
    if (!exe || stat(exe, &st) != 0 || !S_ISREG(st.st_mode)) {
        error("--python %s: %s", path,
              exe ? "not a file" : strerror(errno));
        goto done;
    }
    if (!is_elf(exe)) {
        error("--python %s: not a python executable but a script (a pyenv "
              "shim?); name the python it runs (for a shim, the path that "
              "'pyenv which %s' prints)", path, base_name(path));
        goto done;
    }
    if (access(cfg, F_OK) == 0 && read_file(cfg, &text, &len) == 0) {
        home = cfg_value((char *)text, "home");
        if (!home) {
            error("--python %s: %s names no 'home', the folder of the "
                  "python the venv was made from", path, cfg);
            goto done;
        }
        char *sys_site = cfg_value((char *)text,
                                   "include-system-site-packages");
        venv->root = real(root);
        venv->system_site = sys_site && strcmp(sys_site, "true") == 0;
        free(sys_site);
        up = xprintf("%s/..", home);
    } else {
        free(bin);
        bin = dir_name(exe);
        up = xprintf("%s/..", bin);
    }
    *prefix = real(up);
    if (!*prefix)
        error("--python %s: cannot resolve its installation's folder %s: "
              "%s", path, up, strerror(errno));
    else
        rc = 0;
done:
    free(bin);
    free(root);
    free(cfg);
    free(home);
    free(exe);
    free(up);
    free(text);
    return rc;
}

/* Does launcher l, whose op B said b, serve spec? */
static int serves(const char *spec, const char *prefix,
                  const launcher_ref *l, const built_from *b)
{
    char *mine;
    int same;

    if (!prefix)
        return strcmp(l->name, spec) == 0 ||
               (b->version && strcmp(b->version, spec) == 0);
    mine = b->prefix ? real(b->prefix) : NULL;
    same = mine && strcmp(mine, prefix) == 0;
    free(mine);
    return same;
}

/* Could l serve spec, before asking it? Its name starts with spec's X.Y
   (a path: any launcher). */
static int may_serve(const char *spec, const char *prefix,
                     const launcher_ref *l)
{
    size_t xy;

    if (prefix)
        return 1;
    if (strcmp(l->name, spec) == 0)
        return 1;
    xy = strchr(spec, '.') - spec + 1;
    xy += strspn(spec + xy, "0123456789");
    return strncmp(l->name, spec, xy) == 0 &&
           (l->name[xy] == '\0' || l->name[xy] == '.');
}

int launchers_select(const char *spec, kserver *s, char **launcher,
                     venv_info *venv)
{
    vec found = {0}, dirs = {0};
    char *prefix = NULL;
    built_from b = {0};
    char *stale = NULL; /* a launcher that could not say what it serves */
    int rc = -1, exact = 0;

    memset(venv, 0, sizeof *venv);
    *launcher = NULL;
    if (!spec)
        spec = KILN_DEFAULT_TARGET;
    if (strchr(spec, '/')) {
        if (installation_of(spec, &prefix, venv) != 0)
            return -1;
    } else if (!is_version(spec)) {
        return error("--python takes a version (3.12 or 3.12.1) or the "
                     "path of a python, not '%s'", spec);
    }
    list_launchers(&found, &dirs);
    /* A launcher named spec first: it answers a version without a look
       at the others. */
    for (size_t i = 0; !prefix && i < found.n && !exact; i++)
        if (strcmp(((launcher_ref *)found.v[i])->name, spec) == 0) {
            launcher_ref *l = found.v[i];
            found.v[i] = found.v[0];
            found.v[0] = l;
            exact = 1;
        }
    for (size_t i = 0; i < found.n && !*launcher; i++) {
        launcher_ref *l = found.v[i];
        if (!may_serve(spec, prefix, l))
            continue;
        if (start(l, s, &b) != 0)
            goto done;
        if (serves(spec, prefix, l, &b)) {
            *launcher = xstrdup(l->path);
            s->launcher = *launcher;
            break;
        }
        if (b.refusal && !stale) {
            stale = b.refusal;
            b.refusal = NULL;
        }
        server_stop(s);
        built_from_free(&b);
    }
    if (!*launcher) {
        if (prefix)
            error("no launcher for the CPython installation %s (of %s)",
                  prefix, spec);
        else
            error("no launcher for CPython %s", spec);
        if (stale)
            fprintf(stderr, "  one launcher cannot tell: %s\n", stale);
        print_known(&found, &dirs);
        goto done;
    }
    if (b.refusal) {
        error("%s", b.refusal);
        server_stop(s);
        free(*launcher);
        *launcher = NULL;
        goto done;
    }
    rc = 0;
done:
    if (rc != 0)
        venv_info_free(venv);
    built_from_free(&b);
    free(stale);
    free(prefix);
    vec_free(&found, launcher_ref_free);
    vec_free(&dirs, free);
    return rc;
}

/* "3.11..." -> 11; 0 for another major. */
static int minor_of(const char *name)
{
    return strncmp(name, "3.", 2) == 0 ? atoi(name + 2) : 0;
}

int launchers_start_toml_reader(kserver *s, char **launcher)
{
    vec found = {0}, dirs = {0};
    built_from b;
    int rc = -1;

    *launcher = NULL;
    list_launchers(&found, &dirs);
    for (size_t i = 0; i < found.n && rc != 0; i++) {
        launcher_ref *l = found.v[i];
        if (minor_of(l->name) < 11 || start(l, s, &b) != 0)
            continue;
        if (!b.refusal) {
            *launcher = xstrdup(l->path);
            s->launcher = *launcher;
            rc = 0;
        } else {
            server_stop(s);
        }
        built_from_free(&b);
    }
    if (rc != 0) {
        error("CPython 3.10 cannot read pyproject.toml (it has no "
              "tomllib), and kiln has no working launcher for 3.11 or "
              "later to read it with");
        print_known(&found, &dirs);
    }
    vec_free(&found, launcher_ref_free);
    vec_free(&dirs, free);
    return rc;
}

void venv_info_free(venv_info *venv)
{
    free(venv->root);
    venv->root = NULL;
}

/* ---- kiln targets ------------------------------------------------------ */

/* The pythons of this machine kiln knows where to look for, by real
   prefix: /usr/bin/python3.1X and pyenv's. */
static void machine_pythons(vec *out)
{
    const char *root = getenv("PYENV_ROOT");
    const char *home = getenv("HOME");
    char *pyenv = root && *root ? xprintf("%s/versions/*/bin/python3.1[0-9]",
                                          root)
                  : home ? xprintf("%s/.pyenv/versions/*/bin/python3.1[0-9]",
                                   home)
                         : NULL;
    const char *patterns[] = {"/usr/bin/python3.1[0-9]",
                              "/usr/local/bin/python3.1[0-9]", pyenv};
    glob_t g;

    for (size_t i = 0; i < 3; i++) {
        if (!patterns[i] || glob(patterns[i], 0, NULL, &g) != 0)
            continue;
        for (size_t j = 0; j < g.gl_pathc; j++)
            vec_push(out, xstrdup(g.gl_pathv[j]));
        globfree(&g);
    }
    free(pyenv);
}

int launchers_print(void)
{
    vec found = {0}, dirs = {0}, prefixes = {0}, pythons = {0};
    int broken = 0, header = 0;

    list_launchers(&found, &dirs);
    printf("%-8s %-8s %-44s %s\n", "NAME", "VERSION", "PYTHON",
           "LAUNCHER");
    for (size_t i = 0; i < found.n; i++) {
        launcher_ref *l = found.v[i];
        kserver s = {.pid = -1};
        built_from b;
        int dflt = strcmp(l->name, KILN_DEFAULT_TARGET) == 0;

        if (start(l, &s, &b) != 0) {
            printf("%-8s %-8s %-44s %s: broken (see above)\n", l->name, "?",
                   "?", l->path);
            broken = 1;
            continue;
        }
        server_stop(&s);
        if (b.refusal) {
            printf("%-8s %-8s %-44s %s: stale\n    %s\n", l->name, "?", "?",
                   l->path, b.refusal);
            broken = 1;
        } else {
            printf("%-8s %-8s %-44s %s%s\n", l->name, b.version, b.python,
                   l->path, dflt ? " (default)" : "");
            vec_push(&prefixes, real(b.prefix));
        }
        built_from_free(&b);
    }
    if (found.n == 0)
        print_known(&found, &dirs);
    machine_pythons(&pythons);
    for (size_t i = 0; i < pythons.n; i++) {
        char *bin = dir_name(pythons.v[i]), *up = xprintf("%s/..", bin);
        char *prefix = real(up);
        int has = 0;

        for (size_t j = 0; prefix && j < prefixes.n && !has; j++)
            has = prefixes.v[j] && strcmp(prefixes.v[j], prefix) == 0;
        if (prefix && !has) {
            if (!header++)
                printf("\nWithout a launcher (make PYTHONS=\"... PATH\" "
                       "builds one):\n");
            printf("  %s\n", (char *)pythons.v[i]);
            vec_push(&prefixes, xstrdup(prefix)); /* python3.1X twice */
        }
        free(prefix);
        free(up);
        free(bin);
    }
    vec_free(&found, launcher_ref_free);
    vec_free(&dirs, free);
    vec_free(&prefixes, free);
    vec_free(&pythons, free);
    return broken;
}
