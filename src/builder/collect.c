/*
 * collect.c - walks the stdlib, lib-dynload and the app's folders and lists
 * the modules and data files to pack (collection.h). Directory walks skip,
 * with a warning, symlink loops, dangling symlinks and (outside the
 * stdlib) symlinks that lead out of the folder walked; unreadable entries
 * are errors naming them.
 */
#include "collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpack.h"

typedef struct ancestor {
    dev_t dev;
    ino_t ino;
    const char *path;
    const struct ancestor *up;
} ancestor;

typedef struct {
    collection *c;
    int from;
    int tk;           /* stdlib: is _tkinter available? */
    int interpreter;  /* stdlib: for a python3 command line (keeps ensurepip) */
    const char *only; /* if set, the one top-level entry to walk */
    const char *root; /* real path that symlinks must stay in; NULL: any */
} walker;

enum { IN_ROOT = 0, IN_PACKAGE = 1, IN_DATA = 2 };

static void add_module(collection *c, int from, const char *name,
                       const char *relpath, const char *disk,
                       const file_id *id, uint32_t flags)
{
    module_item *m = calloc(1, sizeof *m);
    if (!m) {
        error("out of memory");
        exit(1);
    }
    m->name = xstrdup(name);
    m->relpath = xstrdup(relpath);
    m->disk = disk ? xstrdup(disk) : NULL;
    if (id)
        m->id = *id;
    m->flags = flags;
    m->from = from;
    vec_push(&c->modules, m);
}

static void add_file(collection *c, int from, const char *relpath,
                     const char *disk, const file_id *id)
{
    file_item *f = xmalloc(sizeof *f);
    *f = (file_item){xstrdup(relpath), xstrdup(disk), NULL, 0, from, *id};
    vec_push(&c->files, f);
}

/* The identity of the file at path now, for a file that no walk listed
   (a script, an __init__.py, a library); unknown when it cannot be read,
   and the read then says why. */
static file_id id_now(const char *path)
{
    struct stat st, lst;
    file_id id = {0};

    if (lstat(path, &lst) == 0 && stat(path, &st) == 0)
        id = file_id_of(&st, S_ISLNK(lst.st_mode));
    return id;
}

static void add_dir(collection *c, const char *path, const struct stat *st)
{
    walked_dir *d = xmalloc(sizeof *d);
    *d = (walked_dir){st->st_dev, st->st_ino, xstrdup(path)};
    vec_push(&c->dirs, d);
}

/* For a symlink at full: 0 with its target's stat in st when it may be
   followed; 1 after a warning when it is skipped (looping, dangling, or
   leading outside the walk's root); -1 after an error. */
static int follow_link(const walker *w, const char *full, struct stat *st)
{
    if (stat(full, st) != 0) {
        if (errno == ELOOP)
            warning("skipping %s: a symlink loop (%s)", full,
                    strerror(errno));
        else if (errno == ENOENT)
            warning("skipping %s: broken symlink", full);
        else
            return error_errno("cannot read %s", full);
        return 1;
    }
    return w->root && leaves_root(full, w->root);
}

/* The stat of the entry name of the folder dir (open as fd), through a
   symlink: 0, with *link set when it is one; 1 when it is skipped (after a
   warning), -1 after an error. */
static int entry_stat(const walker *w, int fd, const char *full,
                      const char *name, struct stat *st, int *link)
{
    if (fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
        return error_errno("cannot read %s", full);
    *link = S_ISLNK(st->st_mode);
    return *link ? follow_link(w, full, st) : 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory, without . and .. */
static int list_dir(const char *path, vec *names)
{
    DIR *d = opendir(path);
    struct dirent *de;

    if (!d)
        return error_errno("cannot read directory %s", path);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            vec_push(names, xstrdup(de->d_name));
    closedir(d);
    if (names->n) /* an empty folder has no array at all */
        qsort(names->v, names->n, sizeof *names->v, name_cmp);
    return 0;
}

/* list_dir() of the folder disk that the walk checked (up: its device
   and inode), with a descriptor of it in *fd (closed by the caller), to
   look its entries up in it, not through disk again: a folder swapped
   (for a symlink to another) since the check is refused, not listed. */
static int list_walked(const char *disk, const ancestor *up, vec *names,
                       int *fd)
{
    struct stat st;
    int again;
    DIR *d;
    struct dirent *de;

    *fd = open(disk, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) != 0)
        return error_errno("cannot read directory %s", disk);
    if (st.st_dev != up->dev || st.st_ino != up->ino)
        return error("cannot read directory %s: it changed while kiln "
                     "collected it (it is another folder now); nothing was "
                     "written: build again once nothing changes the folders "
                     "it packs", disk);
    again = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
    d = again >= 0 ? fdopendir(again) : NULL;
    if (!d) {
        if (again >= 0)
            close(again);
        return error_errno("cannot read directory %s", disk);
    }
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            vec_push(names, xstrdup(de->d_name));
    closedir(d);
    if (names->n)
        qsort(names->v, names->n, sizeof *names->v, name_cmp);
    return 0;
}

static int is_regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A module name part: non-empty and free of dots (sysconfig's data module
   has dashes in its name, so identifiers alone are too strict). */
static int is_module_part(const char *s, size_t len)
{
    return len > 0 && !memchr(s, '.', len) && !memchr(s, ' ', len);
}

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

/* Directories a walk never enters. */
static int skip_dir(const walker *w, const char *disk, const char *name,
                    int where)
{
    static const char *const everywhere[] = {"__pycache__", NULL};
    static const char *const stdlib_tests[] = {"test", "tests", "idle_test",
                                               NULL};
    static const char *const stdlib_root[] = {
        "idlelib", "ensurepip", "turtledemo", "site-packages",
        "dist-packages", "lib-dynload", NULL};
    static const char *const app_root[] = {"site-packages", "dist-packages",
                                           "node_modules", NULL};

    if (name[0] == '.' || in_list(name, everywhere))
        return 1;
    if (w->from == FROM_STDLIB) {
        if (in_list(name, stdlib_tests))
            return 1;
        if (where == IN_ROOT && w->interpreter &&
            strcmp(name, "ensurepip") == 0)
            return 0; /* python -m venv runs it */
        if (where == IN_ROOT &&
            (in_list(name, stdlib_root) ||
             (!w->tk && strcmp(name, "tkinter") == 0)))
            return 1;
        return 0;
    }
    if (where == IN_ROOT) {
        char *venv = xprintf("%s/pyvenv.cfg", disk);
        int is_venv = is_regular(venv);
        free(venv);
        return is_venv || in_list(name, app_root);
    }
    return 0;
}

/* A distribution's metadata at the top of an app folder: a .dist-info or
   .egg-info folder, or a single-file .egg-info. */
static int is_dist_metadata(const walker *w, const char *name, int where)
{
    return w->from == FROM_APP && where == IN_ROOT &&
           (ends_with(name, ".dist-info") || ends_with(name, ".egg-info"));
}

static const char *extension_suffix(const collection *c, const char *name)
{
    for (size_t i = 0; i < c->extension_suffixes.n; i++)
        if (ends_with(name, c->extension_suffixes.v[i]))
            return c->extension_suffixes.v[i];
    return NULL;
}

static int walk(walker *w, const char *disk, const char *rel,
                const char *prefix, int where, const ancestor *up);

/* Is the __init__.py of the folder dir (the walk saw it as dirst) one
   that the walk packs: a regular file, or a symlink to one that stays
   inside the walk's root? Looked up in the folder the walk checked; its
   identity in *id. A symlink that leaves makes the folder no package (the
   walk of the folder warns when it meets it), as a missing one does. */
static int package_init(const walker *w, const char *dir,
                        const struct stat *dirst, file_id *id)
{
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), ok = 0;
    char *init = xprintf("%s/__init__.py", dir), *real = NULL;
    struct stat st, lst;

    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dirst->st_dev &&
        st.st_ino == dirst->st_ino &&
        fstatat(fd, "__init__.py", &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
        fstatat(fd, "__init__.py", &st, 0) == 0 && S_ISREG(st.st_mode))
        ok = !S_ISLNK(lst.st_mode) || !w->root ||
             ((real = realpath(init, NULL)) && is_inside(real, w->root));
    if (ok)
        *id = file_id_of(&st, S_ISLNK(lst.st_mode));
    if (fd >= 0)
        close(fd);
    free(real);
    free(init);
    return ok;
}

/* The module file that `import` finds for base (a path without suffix):
   base + an extension suffix, or base.py; NULL if there is none. */
static char *module_file(const collection *c, const char *base)
{
    for (size_t i = 0; i <= c->extension_suffixes.n; i++) {
        char *file = xprintf("%s%s", base,
                             i < c->extension_suffixes.n
                                 ? (const char *)c->extension_suffixes.v[i]
                                 : ".py");
        if (is_regular(file))
            return file;
        free(file);
    }
    return NULL;
}

static int walk_dir(walker *w, const char *full, const char *relname,
                    const char *prefix, const char *name, int where,
                    const struct stat *st, const ancestor *up)
{
    ancestor me = {st->st_dev, st->st_ino, full, up};
    char *init, *modname, *subprefix, *file = NULL;
    file_id id;
    int rc = 0;

    for (const ancestor *a = up; a; a = a->up)
        if (a->dev == st->st_dev && a->ino == st->st_ino) {
            warning("skipping %s: a symlink loop, it leads back to %s", full,
                    a->path);
            return 0;
        }
    if (skip_dir(w, full, name, where))
        return 0;
    if (where == IN_DATA || is_dist_metadata(w, name, where)) {
        add_dir(w->c, full, st);
        return walk(w, full, relname, prefix, IN_DATA, &me);
    }

    init = xprintf("%s/__init__.py", full);
    modname = xprintf("%s%s", prefix, name);
    subprefix = xprintf("%s.", modname);
    if (is_module_part(name, strlen(name)) &&
        package_init(w, full, st, &id)) {
        char *relinit = xprintf("%s/__init__.py", relname);
        add_module(w->c, w->from, modname, relinit, init, &id,
                   KP_MOD_PACKAGE);
        free(relinit);
        add_dir(w->c, full, st);
        rc = walk(w, full, relname, subprefix, IN_PACKAGE, &me);
    } else if (w->from != FROM_STDLIB && is_identifier(name, strlen(name)) &&
               !(file = module_file(w->c, full))) {
        /* Not a folder the output must stay out of: any folder with a
           name like an identifier is one (--path . -o dist/app), and a
           new file there overwrites nothing packed. */
        add_module(w->c, w->from, modname, relname, NULL, NULL,
                   KP_MOD_NAMESPACE);
        rc = walk(w, full, relname, subprefix, IN_PACKAGE, &me);
    } else if (where == IN_PACKAGE) {
        /* Data, or beside a module of its name (_rust.abi3.so and _rust/
           of .pyi stubs), which import takes before a namespace folder. */
        add_dir(w->c, full, st);
        rc = walk(w, full, relname, prefix, IN_DATA, &me);
    }
    free(init);
    free(modname);
    free(subprefix);
    free(file);
    return rc;
}

static void walk_file(walker *w, const char *full, const char *relname,
                      const char *prefix, const char *name, int where,
                      const file_id *id)
{
    const char *suffix;
    size_t len = strlen(name);

    if (ends_with(name, ".pyc") || ends_with(name, ".pyo"))
        return;
    if (w->from == FROM_STDLIB && where == IN_ROOT && !w->tk &&
        strcmp(name, "turtle.py") == 0)
        return; /* turtle needs tkinter */
    if (where == IN_DATA || is_dist_metadata(w, name, where)) {
        add_file(w->c, w->from, relname, full, id);
    } else if (strcmp(name, "__init__.py") == 0) {
        return; /* the package's own module */
    } else if ((suffix = extension_suffix(w->c, name)) &&
               is_module_part(name, len - strlen(suffix))) {
        char *modname = xprintf("%s%.*s", prefix,
                                (int)(len - strlen(suffix)), name);
        add_module(w->c, w->from, modname, relname, full, id,
                   KP_MOD_EXTENSION);
        free(modname);
    } else if (suffix && strstr(name, ".cpython-")) {
        /* python imports it under no name; loaded, it would crash */
        warning("skipping %s: an extension module built for another "
                "CPython (this one imports *%s)", full,
                (const char *)w->c->extension_suffixes.v[0]);
    } else if (ends_with(name, ".py") && is_module_part(name, len - 3)) {
        char *modname = xprintf("%s%.*s", prefix, (int)(len - 3), name);
        add_module(w->c, w->from, modname, relname, full, id, 0);
        free(modname);
    } else if (where == IN_PACKAGE) {
        add_file(w->c, w->from, relname, full, id);
    }
}

static int walk(walker *w, const char *disk, const char *rel,
                const char *prefix, int where, const ancestor *up)
{
    vec names = {0};
    int fd = -1, rc = list_walked(disk, up, &names, &fd);

    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const char *name = names.v[i];
        char *full;

        if (w->only && !up->up && strcmp(name, w->only) != 0)
            continue; /* only the one entry of the first folder */
        full = xprintf("%s/%s", disk, name);
        char *relname = *rel ? xprintf("%s/%s", rel, name) : xstrdup(name);
        struct stat st;
        int link = 0, got = entry_stat(w, fd, full, name, &st, &link);

        if (got < 0) {
            rc = -1;
        } else if (got == 0 && S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, full, relname, prefix, name, where, &st, up);
        } else if (got == 0 && S_ISREG(st.st_mode) && name[0] != '.' &&
                   !(st.st_dev == w->c->output_dev &&
                     st.st_ino == w->c->output_ino)) {
            file_id id = file_id_of(&st, link);
            walk_file(w, full, relname, prefix, name, where, &id);
        }
        free(full);
        free(relname);
    }
    if (fd >= 0)
        close(fd);
    vec_free(&names, free);
    return rc;
}

static int walk_root(collection *c, const char *dir, int from, int tk,
                     int interpreter, const char *only)
{
    walker w = {c, from, tk, interpreter, only, NULL};
    struct stat st;
    char *real = NULL;
    int rc;

    if (stat(dir, &st) != 0)
        return error_errno("cannot read %s", dir);
    if (!S_ISDIR(st.st_mode))
        return error("%s is not a directory", dir);
    if (from != FROM_STDLIB && !(real = realpath(dir, NULL)))
        return error_errno("cannot read %s", dir);
    w.root = real;
    ancestor root = {st.st_dev, st.st_ino, dir, NULL};
    rc = walk(&w, dir, "", "", IN_ROOT, &root);
    free(real);
    return rc;
}

int collect_app_path(collection *c, const char *dir)
{
    return walk_root(c, dir, FROM_APP, 1, 0, NULL);
}

int collect_app_entry(collection *c, const char *dir, const char *top)
{
    char *candidate = xprintf("%s/%s", dir, top);
    char *init = xprintf("%s/%s/__init__.py", dir, top);
    struct stat st;
    const char *entry = NULL;
    char *file;
    int is_dir = stat(candidate, &st) == 0 && S_ISDIR(st.st_mode), rc = 0;

    /* As python's FileFinder: a package folder, then an extension module,
       then a .py module, then a namespace folder. */
    if (is_dir && is_regular(init))
        entry = top;
    free(init);
    if (!entry && (file = module_file(c, candidate))) {
        free(candidate);
        candidate = file;
        entry = base_name(candidate);
    }
    if (!entry && is_dir)
        entry = top;
    if (entry)
        rc = walk_root(c, dir, FROM_APP, 1, 0, entry);
    free(candidate);
    return entry ? (rc == 0 ? 1 : -1) : 0;
}

/* a/b/c as a.b.c */
static char *dotted(const char *relpath)
{
    char *name = xstrdup(relpath);
    for (char *p = name; *p; p++)
        if (*p == '/')
            *p = '.';
    return name;
}

int collect_site_entry(collection *c, const char *dir, const char *relpath,
                       int kind)
{
    const char *slash = strrchr(relpath, '/');
    char *parent = xprintf("%.*s", slash ? (int)(slash - relpath) : 0,
                           relpath);
    char *name = dotted(relpath), *parent_name = dotted(parent);
    char *prefix = *parent ? xprintf("%s.", parent_name) : xstrdup("");
    char *from = *parent ? xprintf("%s/%s", dir, parent) : xstrdup(dir);
    char *init = xprintf("%s/__init__.py", relpath);
    char *init_disk = xprintf("%s/%s", dir, init);
    char *entry = xprintf("%s/%s", dir, relpath), *root = realpath(dir, NULL);
    walker w = {c, FROM_SITE, 1, 0, slash ? slash + 1 : relpath, root};
    struct stat st;
    int rc = 0;

    if (!root) {
        rc = error_errno("cannot read %s", dir);
    } else if (leaves_root(entry, root)) {
        /* a symlink on the way out of the site folder: skipped */
    } else if (kind == SITE_NAMESPACE) {
        add_module(c, FROM_SITE, name, relpath, NULL, NULL,
                   KP_MOD_NAMESPACE);
    } else if (kind == SITE_INIT) {
        file_id id = id_now(init_disk);
        if (stat(entry, &st) == 0)
            add_dir(c, entry, &st);
        if (is_regular(init_disk) && !leaves_root(init_disk, root))
            add_module(c, FROM_SITE, name, init, init_disk, &id,
                       KP_MOD_PACKAGE);
        else if (!is_regular(init_disk))
            rc = error("%s is missing or not a file", init_disk);
    } else if (stat(from, &st) != 0) {
        rc = error_errno("cannot read %s", from);
    } else {
        ancestor root = {st.st_dev, st.st_ino, from, NULL};
        rc = walk(&w, from, parent, prefix, IN_PACKAGE, &root);
    }
    free(parent);
    free(name);
    free(parent_name);
    free(prefix);
    free(from);
    free(init);
    free(init_disk);
    free(entry);
    free(root);
    return rc;
}

int collect_stdlib(collection *c, const char *dir, int tk, int interpreter)
{
    return walk_root(c, dir, FROM_STDLIB, tk, interpreter, NULL);
}

int collect_script(collection *c, const char *script)
{
    file_id id = id_now(script);
    struct stat st;

    if (stat(script, &st) != 0)
        return error_errno("cannot read script %s", script);
    if (!S_ISREG(st.st_mode))
        return error("script %s is not a regular file", script);
    add_module(c, FROM_APP, "__main__", base_name(script), script, &id, 0);
    return 0;
}

int collect_dynload(collection *c, const char *dir, int with_tests)
{
    static const char *const test_only[] = {
        "_testbuffer", "_testcapi", "_testclinic", "_testimportmultiple",
        "_testinternalcapi", "_testmultiphase", "_ctypes_test",
        "_xxtestfuzz", "xxlimited", "xxlimited_35", NULL};
    vec names = {0};
    int rc = list_dir(dir, &names);

    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const char *name = names.v[i];
        size_t stem = strcspn(name, ".");
        char *modname, *full;

        if (!extension_suffix(c, name) || !is_module_part(name, stem))
            continue;
        modname = xprintf("%.*s", (int)stem, name);
        if (with_tests || !in_list(modname, test_only)) {
            full = xprintf("%s/%s", dir, name);
            file_id id = id_now(full);
            add_module(c, FROM_STDLIB, modname, name, full, &id,
                       KP_MOD_EXTENSION);
            free(full);
        }
        free(modname);
    }
    vec_free(&names, free);
    return rc;
}

void collection_add_file(collection *c, int from, const char *relpath,
                         const char *disk)
{
    file_id id = id_now(disk);

    add_file(c, from, relpath, disk, &id);
}
