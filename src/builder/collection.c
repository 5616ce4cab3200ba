/*
 * collection.c - the collection (collection.h): what is packed, made one
 * list of unique names and paths, checked against the output, freed.
 */
#include "collection.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kpack.h"

/* Does a packed path other than self's live in a folder named path, or
(exact) is it path? */
static int path_taken(const collection *c, const char *path,
                      const module_item *self, int exact)
{
    size_t len = strlen(path);

    for (size_t i = 0; i < c->modules.n + c->files.n; i++) {
        const char *other =
            i < c->modules.n
                ? (c->modules.v[i] == self
                       ? ""
                       : ((module_item *)c->modules.v[i])->relpath)
                : ((file_item *)c->files.v[i - c->modules.n])->relpath;
        if (strncmp(other, path, len) == 0 &&
            (other[len] == '/' || (exact && other[len] == '\0')))
            return 1;
    }
    return 0;
}

int collection_place_script(collection *c)
{
    module_item *main = collection_find(c, "__main__");
    char *renamed;

    if (!main || !path_taken(c, main->relpath, main, 0))
        return 0;
    renamed = xprintf("%s.py", main->relpath);
    if (path_taken(c, renamed, main, 1)) {
        error("the script %s would be packed as %s, but a packed package "
              "has that name, and %s is taken too; rename the script",
              main->disk, main->relpath, renamed);
        free(renamed);
        return -1;
    }
    free(main->relpath);
    main->relpath = renamed;
    return 0;
}

static void module_free(void *p)
{
    module_item *m = p;
    free(m->name);
    free(m->relpath);
    free(m->disk);
    free(m->out.bytes);
    free(m->out.code);
    free(m->out.error);
    free(m->out.scan);
    free(m->out.preload);
    free(m);
}

void collection_add_made(collection *c, const char *relpath, uint8_t *bytes,
                         size_t len)
{
    file_item *f = xmalloc(sizeof *f);
    *f = (file_item){xstrdup(relpath), NULL, bytes, len, FROM_STDLIB,
                     {0, 0, 0, 0}};
    vec_push(&c->files, f);
}

static void file_free(void *p)
{
    file_item *f = p;
    free(f->relpath);
    free(f->disk);
    free(f->bytes);
    free(f);
}

static void dir_free(void *p)
{
    walked_dir *d = p;
    free(d->path);
    free(d);
}

void collection_free(collection *c)
{
    vec_free(&c->modules, module_free);
    vec_free(&c->files, file_free);
    vec_free(&c->dirs, dir_free);
    vec_free(&c->extension_suffixes, free);
}

/* The first part of a dotted name or a path, as a new string. */
static char *top_level(const char *s, const char *seps)
{
    return xprintf("%.*s", (int)strcspn(s, seps), s);
}

static int provided_by_app(const vec *app_tops, const char *top)
{
    for (size_t i = 0; i < app_tops->n; i++)
        if (strcmp(app_tops->v[i], top) == 0)
            return 1;
    return 0;
}

typedef struct {
    const char *key;
    size_t seq;
    void *item;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Keeps the first item of each key, in insertion order of priority. */
static void dedupe(vec *items, size_t key_offset, void (*free_item)(void *))
{
    keyed *k = xmalloc(items->n * sizeof *k);
    const char *kept = NULL; /* the key of the last item kept */
    size_t n = 0;

    for (size_t i = 0; i < items->n; i++)
        k[i] = (keyed){*(const char **)((char *)items->v[i] + key_offset), i,
                       items->v[i]};
    qsort(k, items->n, sizeof *k, keyed_cmp);
    for (size_t i = 0; i < items->n; i++) {
        if (kept && strcmp(k[i].key, kept) == 0) {
            free_item(k[i].item); /* its key too: compare with kept only */
        } else {
            kept = k[i].key;
            items->v[n++] = k[i].item;
        }
    }
    items->n = n;
    free(k);
}

/* Adds the top-level names of the modules from `from` to tops. */
static void add_tops(const collection *c, int from, vec *tops)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        if (m->from == from && strcmp(m->name, "__main__") != 0) {
            char *top = top_level(m->name, ".");
            if (provided_by_app(tops, top))
                free(top);
            else
                vec_push(tops, top);
        }
    }
}

void collection_resolve(collection *c)
{
    vec tops = {0}, warned = {0}, std_tops = {0}, site_dropped = {0};
    size_t n = 0;

    add_tops(c, FROM_APP, &tops);
    for (size_t i = 0; i < c->modules.n && std_tops.n == 0; i++)
        if (((module_item *)c->modules.v[i])->from == FROM_SITE)
            add_tops(c, FROM_STDLIB, &std_tops);
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        char *top = top_level(m->name, ".");
        if (m->from == FROM_STDLIB && provided_by_app(&tops, top)) {
            if (!provided_by_app(&warned, top)) {
                warning("the app's module '%s' shadows the standard "
                        "library's", top);
                vec_push(&warned, xstrdup(top));
            }
            module_free(m);
        } else if (m->from == FROM_SITE && provided_by_app(&std_tops, top) &&
                   !provided_by_app(&tops, top)) {
            /* The stdlib comes first on sys.path: python never imports a
               distribution's copy (an old backport, say). */
            if (!provided_by_app(&site_dropped, top)) {
                warning("%s is not packed: the standard library's module "
                        "'%s' comes first on sys.path", m->disk ? m->disk
                        : m->relpath, top);
                vec_push(&site_dropped, xstrdup(top));
            }
            module_free(m);
        } else {
            c->modules.v[n++] = m;
        }
        free(top);
    }
    c->modules.n = n;
    n = 0;
    for (size_t i = 0; i < c->files.n; i++) {
        file_item *f = c->files.v[i];
        char *top = top_level(f->relpath, "/");
        /* Stdlib data lives in stdlib packages, app data in app ones; a
           shadowed package takes its data with it. */
        if ((f->from == FROM_STDLIB && provided_by_app(&warned, top)) ||
            (f->from == FROM_SITE && provided_by_app(&site_dropped, top)))
            file_free(f);
        else
            c->files.v[n++] = f;
        free(top);
    }
    c->files.n = n;
    dedupe(&c->modules, offsetof(module_item, name), module_free);
    dedupe(&c->files, offsetof(file_item, relpath), file_free);
    vec_free(&tops, free);
    vec_free(&warned, free);
    vec_free(&std_tops, free);
    vec_free(&site_dropped, free);
}

static int in_comma_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        p = p[len] ? p + len + 1 : NULL;
    }
    return 0;
}

void collection_drop_builtins(collection *c, const char *builtins)
{
    size_t n = 0;

    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        if (in_comma_list(builtins, m->name)) {
            if (m->from != FROM_STDLIB)
                warning("%s is not packed: module '%s' is built into the "
                        "target Python, which imports its own", m->disk,
                        m->name);
            module_free(m);
        } else {
            c->modules.v[n++] = m;
        }
    }
    c->modules.n = n;
}

module_item *collection_find(const collection *c, const char *name)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        if (strcmp(m->name, name) == 0)
            return m;
    }
    return NULL;
}

int module_read(module_item *m)
{
    if (m->out.bytes)
        return 0;
    return read_collected(m->disk, &m->id, &m->out.bytes, &m->out.bytes_len);
}

/* The packed file that is the output (same device and inode), or NULL. */
static const char *packed_as(const collection *c, const struct stat *out)
{
    struct stat st;

    for (size_t i = 0; i < c->modules.n + c->files.n; i++) {
        const char *disk =
            i < c->modules.n
                ? ((module_item *)c->modules.v[i])->disk
                : ((file_item *)c->files.v[i - c->modules.n])->disk;
        if (disk && stat(disk, &st) == 0 && st.st_dev == out->st_dev &&
            st.st_ino == out->st_ino)
            return disk;
    }
    return NULL;
}

/* The packed folder that holds the real folder dir, or NULL. */
static const char *packed_dir_above(const collection *c, const char *dir)
{
    char *p = xstrdup(dir);
    const char *found = NULL;
    struct stat st;

    for (;;) {
        char *slash = strrchr(p, '/');
        int known = stat(p, &st) == 0;
        for (size_t i = 0; known && !found && i < c->dirs.n; i++) {
            const walked_dir *d = c->dirs.v[i];
            if (d->dev == st.st_dev && d->ino == st.st_ino)
                found = d->path;
        }
        if (found || !slash || slash == p)
            break;
        *slash = '\0';
    }
    free(p);
    return found;
}

int collection_check_output(const collection *c, const char *output)
{
    char *dir = dir_name(output), *real = realpath(dir, NULL);
    const char *what;
    struct stat st;
    int rc = 0;

    if (stat(output, &st) == 0 && (what = packed_as(c, &st)))
        rc = error("the output %s would overwrite %s, a file that this "
                   "build packs; nothing was written: choose another -o",
                   output, what);
    else if (real && (what = packed_dir_above(c, real)))
        rc = error("the output %s would be written inside %s, a folder that "
                   "this build packs; nothing was written: choose an -o "
                   "outside it", output, what);
    free(real);
    free(dir);
    return rc;
}
