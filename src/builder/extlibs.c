/*
 * extlibs.c - packs the shared libraries that extension modules bundle.
 *
 * A wheel repaired by auditwheel keeps its libraries in <dist>.libs/ beside
 * the top-level package, renamed with a hash, with a DT_SONAME equal to the
 * new name, and the extension's DT_RUNPATH pointing there through $ORIGIN.
 * Other packages put them next to the extension. For each extension (not
 * the stdlib's, which only use host libraries), each DT_NEEDED name is
 * looked for, as a file of that name, in:
 *   1. the DT_RUNPATH entries of the object that needs it (DT_RPATH when it
 *      has no DT_RUNPATH) that start with $ORIGIN;
 *   2. the object's own folder;
 *   3. the *.libs folders in the root the module was collected from;
 * and only inside that root. A library found is read in turn, so a bundled
 * library's own bundled dependencies are found too. The preload list is
 * every library found, dependencies before the libraries that need them;
 * the launcher dlopen()s them from memory in that order before the
 * extension, and the dynamic loader then matches DT_NEEDED names to the
 * loaded libraries' DT_SONAME. Names found nowhere stay host libraries.
 */
#include "extlibs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf.h"
#include "kpack.h"
#include "strbuf.h"

enum { NEW = 0, RESOLVING = 1, RESOLVED = 2, UNUSABLE = 3 };

typedef struct lib {
    char *relpath; /* packed path, relative to the root */
    char *disk;
    char *soname, *rpath, *runpath; /* NULL when absent */
    vec needed;                     /* char*: DT_NEEDED names */
    vec order; /* struct lib*: to load before this one, dependencies first */
    int state;
    int packed; /* added to the collection's files */
} lib;

/* What a DT_NEEDED name is looked up from: an extension or a library. */
typedef struct {
    const char *disk;
    const char *rpath, *runpath;
    const char *who; /* for messages */
} needer;

typedef struct {
    collection *c;
    vec libs;         /* lib*, by relpath: one per packed path */
    char *root;       /* the root of the module being resolved */
    vec libs_dirs;    /* char*: the *.libs folders in root */
} finder;

static void lib_free(void *p)
{
    lib *l = p;
    free(l->relpath);
    free(l->disk);
    free(l->soname);
    free(l->rpath);
    free(l->runpath);
    vec_free(&l->needed, free);
    vec_free(&l->order, NULL);
    free(l);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISREG(sa.st_mode) &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The root a module was collected from: its disk path minus its packed
   path; NULL when the disk path does not end with it. */
static char *module_root(const module_item *m)
{
    size_t dl = strlen(m->disk), rl = strlen(m->relpath);

    if (dl <= rl + 1 || strcmp(m->disk + dl - rl, m->relpath) != 0 ||
        m->disk[dl - rl - 1] != '/')
        return NULL;
    return xprintf("%.*s", (int)(dl - rl - 1), m->disk);
}

/* parts joined by sep, as a new string. */
static char *join(char *const *parts, size_t n, const char *sep)
{
    strbuf out = STRBUF_INIT;

    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_addstr(&out, sep);
        strbuf_addstr(&out, parts[i]);
    }
    return strbuf_detach(&out);
}

/* The path below root that path names, with "." and ".." resolved as
   text; NULL when it is not below root. */
static char *below_root(const char *root, const char *path)
{
    size_t rl = strlen(root), n = 0;
    char *rest, *out, *part, *save = NULL;
    char **parts;

    if (strncmp(path, root, rl) != 0 || path[rl] != '/')
        return NULL;
    rest = xstrdup(path + rl);
    parts = xmalloc((strlen(rest) / 2 + 1) * sizeof *parts);
    for (part = strtok_r(rest, "/", &save); part;
         part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") != 0)
            parts[n++] = part;
        else if (n > 0)
            n--;
        else
            break; /* climbs out of the root */
    }
    out = !part && n > 0 ? join(parts, n, "/") : NULL;
    free(parts);
    free(rest);
    return out;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.libs folders in root, sorted, as auditwheel names them. */
static void find_libs_dirs(finder *f)
{
    DIR *d = opendir(f->root);
    struct dirent *de;

    while (d && (de = readdir(d))) {
        char *path;
        if (!ends_with(de->d_name, ".libs") || de->d_name[0] == '.')
            continue;
        path = xprintf("%s/%s", f->root, de->d_name);
        if (is_dir(path))
            vec_push(&f->libs_dirs, path);
        else
            free(path);
    }
    if (d)
        closedir(d);
    if (f->libs_dirs.n)
        qsort(f->libs_dirs.v, f->libs_dirs.n, sizeof *f->libs_dirs.v,
              name_cmp);
}

/* Folders to look in for what n needs, in order. */
static void search_dirs(const finder *f, const needer *n, vec *dirs)
{
    static const char *const origins[] = {"$ORIGIN", "${ORIGIN}"};
    char *origin = dir_name(n->disk);
    const char *list = n->runpath ? n->runpath : n->rpath;

    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ":");
        for (int i = 0; i < 2; i++) {
            size_t ol = strlen(origins[i]);
            if (len >= ol && strncmp(p, origins[i], ol) == 0 &&
                (len == ol || p[ol] == '/'))
                vec_push(dirs, xprintf("%s%.*s", origin, (int)(len - ol),
                                       p + ol));
        }
        p += len + (p[len] == ':');
    }
    vec_push(dirs, origin);
    for (size_t i = 0; i < f->libs_dirs.n; i++)
        vec_push(dirs, xstrdup(f->libs_dirs.v[i]));
}

static lib *lib_by_relpath(const finder *f, const char *relpath)
{
    for (size_t i = 0; i < f->libs.n; i++) {
        lib *l = f->libs.v[i];
        if (strcmp(l->relpath, relpath) == 0)
            return l;
    }
    return NULL;
}

/* Reads the library at disk; it is unusable when it is no shared object
   or when its DT_SONAME is not the name it is needed by, since the dynamic
   loader could not match the preloaded copy to that name. */
static lib *new_lib(finder *f, const char *relpath, const char *disk,
                    const char *name, const char *who)
{
    lib *l = calloc(1, sizeof *l);
    uint8_t *image;
    size_t len;
    elf_deps d;
    char err[ELF_ERRLEN];

    if (!l) {
        error("out of memory");
        exit(1);
    }
    l->relpath = xstrdup(relpath);
    l->disk = xstrdup(disk);
    vec_push(&f->libs, l);
    if (read_file(disk, &image, &len) != 0)
        return NULL;
    if (elf_read_deps(image, len, &d, err, sizeof err) != 0) {
        warning("%s, which %s needs, is not packed: it is not a shared "
                "library kiln can read (%s)", disk, who, err);
        l->state = UNUSABLE;
    } else if (!d.soname || strcmp(d.soname, name) != 0) {
        warning("%s, which %s needs as %s, is not packed: its DT_SONAME is "
                "%s%s%s, so the dynamic loader could not match a copy loaded "
                "from memory; %s stays a host library", disk, who, name,
                d.soname ? "'" : "", d.soname ? d.soname : "absent",
                d.soname ? "'" : "", name);
        l->state = UNUSABLE;
    } else {
        l->soname = xstrdup(d.soname);
        l->rpath = dup_or_null(d.rpath);
        l->runpath = dup_or_null(d.runpath);
        for (unsigned i = 0; i < d.needed_count; i++)
            vec_push(&l->needed, xstrdup(d.needed[i]));
    }
    free(image);
    return l;
}

/* The bundled library that n's DT_NEEDED name stands for, or NULL when the
   package bundles none (a host library). *failed on a read error. */
static lib *find_needed(finder *f, const needer *n, const char *name,
                        int *failed)
{
    vec dirs = {0};
    lib *found = NULL;

    if (strchr(name, '/'))
        return NULL; /* a path: the loader takes it as it is */
    search_dirs(f, n, &dirs);
    for (size_t i = 0; !found && !*failed && i < dirs.n; i++) {
        char *disk = xprintf("%s/%s", (char *)dirs.v[i], name);
        char *relpath = below_root(f->root, disk);
        char *canonical = relpath ? xprintf("%s/%s", f->root, relpath) : NULL;

        /* The packed path must name the very file found, whatever
           symlinks the text of the path went through, and that file must
           lie in the root; preload lists are split at newlines. */
        if (relpath && !strchr(relpath, '\n') && same_file(disk, canonical) &&
            !leaves_root(disk, f->root)) {
            found = lib_by_relpath(f, relpath);
            if (!found && !(found = new_lib(f, relpath, disk, name, n->who)))
                *failed = 1;
            else if (found->state == UNUSABLE)
                found = NULL;
        }
        free(disk);
        free(relpath);
        free(canonical);
    }
    vec_free(&dirs, free);
    return found;
}

static void push_once(vec *order, lib *l)
{
    for (size_t i = 0; i < order->n; i++)
        if (order->v[i] == l)
            return;
    vec_push(order, l);
}

static int resolve(finder *f, lib *l);

/* Appends to order the bundled libraries n needs, each after its own. */
static int add_needs(finder *f, const needer *n, vec *needed, vec *order)
{
    int failed = 0;

    for (size_t i = 0; i < needed->n && !failed; i++) {
        lib *dep = find_needed(f, n, needed->v[i], &failed);
        if (!dep)
            continue;
        if (dep->state == RESOLVING) {
            warning("%s and %s need each other: a library loaded from memory "
                    "cannot wait for one loaded after it, so %s looks for "
                    "%s on the host", n->disk, dep->disk, n->disk,
                    (char *)needed->v[i]);
            continue;
        }
        if (resolve(f, dep) != 0)
            return -1;
        for (size_t j = 0; j < dep->order.n; j++)
            push_once(order, dep->order.v[j]);
        push_once(order, dep);
    }
    return failed ? -1 : 0;
}

static int resolve(finder *f, lib *l)
{
    needer n = {l->disk, l->rpath, l->runpath, l->relpath};
    int rc;

    if (l->state == RESOLVED)
        return 0;
    l->state = RESOLVING;
    rc = add_needs(f, &n, &l->needed, &l->order);
    l->state = RESOLVED;
    return rc;
}

static int relpath_packed(const collection *c, const char *relpath)
{
    for (size_t i = 0; i < c->files.n; i++)
        if (strcmp(((file_item *)c->files.v[i])->relpath, relpath) == 0)
            return 1;
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if ((m->flags & KP_MOD_EXTENSION) && strcmp(m->relpath, relpath) == 0)
            return 1;
    }
    return 0;
}

static int bundle_module(finder *f, module_item *m, int verbose)
{
    vec order = {0}, needed = {0}, relpaths = {0};
    elf_deps d;
    char err[ELF_ERRLEN], *root = module_root(m);
    int rc;

    if (!root)
        return 0; /* not collected from a folder: nothing to search */
    if (elf_read_deps(m->out.bytes, m->out.bytes_len, &d, err,
                      sizeof err) != 0) {
        warning("%s: cannot read the libraries extension module '%s' needs "
                "(%s); it is packed without them", m->disk, m->name, err);
        free(root);
        return 0;
    }
    if (!f->root || strcmp(f->root, root) != 0) {
        free(f->root);
        vec_free(&f->libs_dirs, free);
        f->root = root;
        find_libs_dirs(f);
    } else {
        free(root);
    }
    for (unsigned i = 0; i < d.needed_count; i++)
        vec_push(&needed, (void *)d.needed[i]);
    needer n = {m->disk, d.rpath, d.runpath, m->name};
    rc = add_needs(f, &n, &needed, &order);
    for (size_t i = 0; rc == 0 && i < order.n; i++) {
        lib *l = order.v[i];
        if (!l->packed && !relpath_packed(f->c, l->relpath))
            collection_add_file(f->c, m->from, l->relpath, l->disk);
        l->packed = 1;
        vec_push(&relpaths, l->relpath);
    }
    if (rc == 0 && order.n) {
        m->out.preload = join((char *const *)relpaths.v, relpaths.n, "\n");
        if (verbose) {
            char *shown = join((char *const *)relpaths.v, relpaths.n, ", ");
            fprintf(stderr, "kiln: %s preloads %zu bundled librar%s: %s\n",
                    m->name, order.n, order.n == 1 ? "y" : "ies", shown);
            free(shown);
        }
    }
    vec_free(&order, NULL);
    vec_free(&needed, NULL);
    vec_free(&relpaths, NULL);
    return rc;
}

int extlibs_bundle(collection *c, int verbose)
{
    finder f = {.c = c};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        if ((m->flags & KP_MOD_EXTENSION) && m->from != FROM_STDLIB &&
            m->disk && m->out.bytes)
            rc = bundle_module(&f, m, verbose);
    }
    vec_free(&f.libs, lib_free);
    vec_free(&f.libs_dirs, free);
    free(f.root);
    return rc;
}
