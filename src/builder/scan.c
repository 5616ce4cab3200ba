/*
 * scan.c - import scans (scan.h): asks the compile servers or the cache
 * for them, makes those of extension modules, and reads them.
 */
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf.h"
#include "kpack.h"
#include "reply.h"
#include "strbuf.h"
#include "util.h"

/* ---- scanning ----------------------------------------------------------- */

void scan_keys_init(scan_keys *k, const bytecode_cache *cache,
                    uint32_t hexversion, const char *scanner)
{
    k->cache = cache;
    k->key = xprintf("%08x %s", (unsigned)hexversion, scanner);
    k->scanned = 0;
}

void scan_keys_free(scan_keys *k)
{
    free(k->key);
    k->key = NULL;
}

/* Does the build scan this module? */
static int scan_wanted(const module_item *m)
{
    return m->from != FROM_STDLIB && m->disk &&
           !(m->flags & (KP_MOD_EXTENSION | KP_MOD_NAMESPACE));
}

/* The cache key of a module's scan: relative imports depend on whether
   it is a package. */
static char *module_key(const scan_keys *k, const module_item *m)
{
    return xprintf("%s %d", k->key, (m->flags & KP_MOD_PACKAGE) != 0);
}

static int cached_scan(const scan_keys *k, module_item *m)
{
    char *key = module_key(k, m);
    int rc = cache_get_scan(k->cache, key, m->name, m->out.bytes,
                            m->out.bytes_len, &m->out.scan);
    free(key);
    return rc;
}

static void cache_scan(const scan_keys *k, const module_item *m)
{
    char *key = module_key(k, m);
    cache_put_scan(k->cache, key, m->name, m->out.bytes, m->out.bytes_len,
                   m->out.scan);
    free(key);
}

int scan_request(kserver *s, module_item *m)
{
    uint32_t status;
    uint8_t *out;
    size_t len;

    if (server_call(s, KC_OP_SCAN, (m->flags & KP_MOD_PACKAGE) ? 1 : 0,
                    m->name, m->out.bytes, m->out.bytes_len, &status, &out,
                    &len) != 0)
        return -1;
    if (status == KC_OK && strlen((char *)out) == len) {
        m->out.scan = (char *)out;
        return 0;
    }
    warning("cannot scan the imports of %s: %s", m->disk,
            status == KC_OK ? "a NUL byte in the reply" : (char *)out);
    free(out);
    return 0;
}

int scan_now(kserver *s, scan_keys *k, module_item *m)
{
    if (m->out.scan || cached_scan(k, m) == 0)
        return 0;
    k->scanned++;
    if (scan_request(s, m) != 0)
        return -1;
    if (m->out.scan)
        cache_scan(k, m);
    return 0;
}

void scan_plan(scan_keys *k, const vec *sources, const vec *misses,
               vec *work)
{
    for (size_t i = 0; i < misses->n; i++)
        vec_push(work, misses->v[i]);
    for (size_t i = 0; i < sources->n; i++) {
        module_item *m = sources->v[i];
        if (!scan_wanted(m) || m->out.scan || cached_scan(k, m) == 0)
            continue;
        m->out.want_scan = 1;
        k->scanned++;
        if (m->out.code) /* not a miss: scan only */
            vec_push(work, m);
    }
}

void scan_save(const scan_keys *k, const vec *sources)
{
    for (size_t i = 0; i < sources->n; i++) {
        module_item *m = sources->v[i];
        if (m->out.want_scan && m->out.scan)
            cache_scan(k, m);
        m->out.want_scan = 0;
    }
}

/* ---- reading scans ------------------------------------------------------ */

/* The entry at *p, which moves past it; 0 at the end. Lines of another
   form are skipped. */
int scan_next(const char **p, scan_entry *e)
{
    reply_line l;

    while (reply_next(p, &l)) {
        const char *line = l.line, *end = line + l.len;
        char *q;
        long guard;

        e->kind = line[0];
        if (!strchr("IAXRFH", e->kind) || line[1] != ' ')
            continue;
        guard = strtol(line + 2, &q, 10);
        if (*q != ' ' || guard < 0)
            continue;
        e->guarded = (int)(guard & 3);
        e->in_function = (guard & IN_FUNCTION) != 0;
        e->fallback = (guard & FALLBACK) != 0;
        e->line = (int)strtol(q + 1, &q, 10);
        e->name = q + (*q == ' ');
        e->len = (size_t)(end - e->name);
        if ((strchr("IAXR", e->kind) != NULL) == (e->len > 0))
            return 1;
    }
    return 0;
}

void scan_top_names(const char *scan, vec *tops)
{
    const char *p = scan;
    scan_entry e;

    while (scan_next(&p, &e)) {
        size_t len = strcspn(e.name, ".\n");
        int seen = 0;
        if (!strchr("IA", e.kind) || len == 0)
            continue; /* len 0: relative, above the top-level package */
        for (size_t i = 0; !seen && i < tops->n; i++)
            seen = strncmp(tops->v[i], e.name, len) == 0 &&
                   ((char *)tops->v[i])[len] == '\0';
        if (!seen)
            vec_push(tops, xprintf("%.*s", (int)len, e.name));
    }
}

/* Is m the module that python runs: the script, or what -m names (main;
   NULL when it is not -m)? */
static int is_main(const module_item *m, const char *main)
{
    size_t len = main ? strlen(main) : 0;

    if (strcmp(m->name, "__main__") == 0)
        return 1;
    return main && !(m->flags & KP_MOD_PACKAGE) &&
           strncmp(m->name, main, len) == 0 &&
           (m->name[len] == '\0' || strcmp(m->name + len, ".__main__") == 0);
}

/* Is one of the parts of the dotted name (from its second, or from its
   first with top) one of parts, or does it start with one ending in '*'? */
static int has_part(const char *name, const char *const *parts, int top)
{
    for (const char *part = top ? name : strchr(name, '.'); part;
         part = strchr(part, '.')) {
        size_t len = strcspn(part += *part == '.', ".");
        for (const char *const *w = parts; *w; w++) {
            size_t n = strlen(*w);
            if ((*w)[n - 1] == '*' ? len >= n - 1 && !strncmp(part, *w, n - 1)
                                   : len == n && !strncmp(part, *w, n))
                return 1;
        }
    }
    return 0;
}

/* Is m checked? A library's own tests (modules inside a package named
   test, tests or testsuite, or test_*), the __main__ modules of packages
   that the app does not run, and files that no import statement can name
   (pip/__pip-runner__.py) are not part of the app. */
int module_checked(const module_item *m, const char *main)
{
    static const char *const tests[] = {"test", "tests", "testsuite",
                                        "__main__", "test_*", NULL};

    if (m->from == FROM_STDLIB || strchr(m->name, '-'))
        return 0;
    if (is_main(m, main))
        return 1;
    return !has_part(m->name, tests, 0);
}

/* Is m only there for tests (pytest's conftest, test helpers)? Such
   modules decide no extraction and pack nothing. */
int module_test_only(const module_item *m)
{
    static const char *const parts[] = {"conftest", "testutils",
                                        "_testutils", "test_utils",
                                        "_test_utils", NULL};
    return has_part(m->name, parts, 1);
}

/* Is m a build script (setup.py, a cffi build script `*build`, `build_*`)
   that came along with a package? It runs when the package is built, not
   imported: it decides no extraction and packs nothing. */
int module_build_script(const module_item *m)
{
    static const char *const parts[] = {"setup", "setup_package",
                                        "_build_utils", "build_utils",
                                        "build_*", "_build_*", NULL};
    const char *last = strrchr(m->name, '.');
    size_t len;

    if (has_part(m->name, parts, 0))
        return 1;
    last = last ? last + 1 : m->name;
    len = strlen(last);
    return len > 5 && strcmp(last + len - 5, "build") == 0 && last != m->name;
}

/* Is m test, build-script or backend code (`*.testing`, matplotlib's
   `backend_*`)? Its missing imports are ranked last and pack nothing. */
int module_noise(const module_item *m)
{
    static const char *const parts[] = {"testing", "_testing", "backend_*",
                                        "benchmarks", NULL};
    return module_test_only(m) || module_build_script(m) ||
           has_part(m->name, parts, 0);
}

/* Does an entry's code run? Code under `if __name__ == "__main__"` runs
   only in the module that python runs. */
int entry_runs(const scan_entry *e, const module_item *m,
                      const char *main)
{
    if (e->guarded != MAIN_ONLY)
        return e->guarded == UNGUARDED;
    return is_main(m, main);
}

/* Does an entry's code run at all, maybe guarded? */
int entry_may_run(const scan_entry *e, const module_item *m,
                         const char *main)
{
    return e->guarded != MAIN_ONLY || is_main(m, main);
}

/* ---- extension modules -------------------------------------------------- */

/* Modules that C code imports whatever is installed: cffi's out-of-line
   modules load _cffi_backend, numpy's C API its multiarray module. */
static const char *const known_c_imports[] = {
    "_cffi_backend", "numpy.core._multiarray_umath", "numpy.core.multiarray",
    "numpy._core._multiarray_umath", NULL};

/* What scan_collect() makes for an extension module: its .py twin, if it
   has one (item.disk), to scan. */
typedef struct {
    module_item item;
    module_item *ext;
} twin_item;

/* The .py twin of an extension module (mypyc compiles a module and keeps
   its source beside it: mypy/build.py beside mypy/build.*.so), a regular
   file, or NULL. */
static char *twin_path(const module_item *m)
{
    const char *base = base_name(m->disk);
    char *dir = dir_name(m->disk);
    char *path = xprintf("%s/%.*s.py", dir, (int)strcspn(base, "."), base);
    struct stat st;

    free(dir);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        return path;
    free(path);
    return NULL;
}

/* Is the extension module the __init__ of its package? */
static int extension_is_package(const module_item *m)
{
    return strncmp(base_name(m->disk), "__init__.", 9) == 0;
}

/* Queues m's scan for the servers unless the cache has it. */
static void want_scan(scan_keys *k, module_item *m, vec *work)
{
    if (cached_scan(k, m) == 0)
        return;
    m->out.want_scan = 1;
    k->scanned++;
    vec_push(work, m);
}

int scan_collect(scan_keys *k, collection *c, vec *work, vec *twins)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        twin_item *t;

        if (m->from == FROM_STDLIB || !m->disk || m->out.scan)
            continue;
        if (module_read(m) != 0)
            return -1;
        if (!(m->flags & KP_MOD_EXTENSION)) {
            if (scan_wanted(m))
                want_scan(k, m, work);
            continue;
        }
        t = xmalloc(sizeof *t);
        *t = (twin_item){{.name = m->name, .from = m->from}, m};
        t->item.flags = extension_is_package(m) ? KP_MOD_PACKAGE : 0;
        vec_push(twins, t);
        if (!(t->item.disk = twin_path(m)))
            continue;
        if (read_file(t->item.disk, &t->item.out.bytes,
                      &t->item.out.bytes_len))
            return -1;
        want_scan(k, &t->item, work);
    }
    return 0;
}

/* A sorted list of names, for bsearch. */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The top-level names the site folders hold (DISTS op installed=1),
   sorted. */
static void installed_names(vec *names, dists_fn ask, void *ctx)
{
    char *reply = ask(ctx, "installed=1\n");
    const char *at = reply;
    reply_line l;

    while (reply_next(&at, &l))
        if (reply_is(&l, "installed") && l.value_len > 0)
            vec_push(names, reply_value(&l));
    free(reply);
    if (names->n)
        qsort(names->v, names->n, sizeof *names->v, str_cmp);
}

/* Is s[0:len) in the sorted names? */
static int in_sorted(const vec *names, const char *s, size_t len)
{
    size_t lo = 0, hi = names->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = names->v[mid];
        int c = strncmp(s, name, len);
        if (c == 0 && name[len])
            c = -1;
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* Is s[0:len) a dotted name of identifiers? */
static int dotted_name(const char *s, size_t len)
{
    for (size_t at = 0, n; at <= len; at += n + 1) {
        n = strcspn(s + at, ".");
        if (at + n > len)
            n = len - at;
        if (!is_identifier(s + at, n))
            return 0;
    }
    return 1;
}

/* Does the string s (len bytes) of m's C code name a module it imports?
   Module names are plain C strings there (PyImport_ImportModule(
   "_cffi_backend"), PyCapsule_Import("pkg._C_API")), among thousands of
   others. A dotted name counts when it is a well-known one, or when its
   top-level name is one the site folders hold, other than m's own, and it
   has a '_' or a '.' (a bare word such as "py" may be anything). */
static int c_import(const module_item *m, const vec *installed,
                    const char *s, size_t len)
{
    size_t top = strcspn(s, "."), own = strcspn(m->name, ".");

    if (len < 2 || len > 200 || !dotted_name(s, len) ||
        (top == own && strncmp(s, m->name, top) == 0))
        return 0;
    for (const char *const *k = known_c_imports; *k; k++)
        if (strcmp(*k, s) == 0)
            return 1;
    return (memchr(s, '_', len) || top < len) && in_sorted(installed, s, top);
}

/* Does the image name __file__ for its module's own code? Cython's module
   set-up copies a spec's "origin" to "__file__" (next to
   "submodule_search_locations") in every module it makes, which says
   nothing. */
static int c_names_file(const module_item *m, const elf_rodata *ro)
{
    size_t n = elf_rodata_count(m->out.bytes, ro, "__file__", 8);

    if (n && elf_rodata_count(m->out.bytes, ro, "\0origin\0", 8) &&
        elf_rodata_count(m->out.bytes, ro, "submodule_search_locations", 26))
        n--;
    return n > 0;
}

/* Appends to out the scan lines of what m's C code holds: "I 0 0 NAME"
   for each module it imports; "F 0 0" when it names __file__, has no twin
   to tell more and sits in a package (mypyc's top-level library serves
   other modules). Nothing when the image cannot be read (a warning says
   so). */
static void scan_c_code(const module_item *m, const vec *installed,
                        int has_twin, strbuf *out)
{
    elf_rodata ro;
    elf_cursor at = {0, 0};
    vec names = {0};
    char err[ELF_ERRLEN];
    const char *s;
    size_t len;

    if (elf_read_rodata(m->out.bytes, m->out.bytes_len, &ro, err,
                        sizeof err) != 0) {
        warning("%s: cannot read the strings of extension module '%s' "
                "(%s): what its C code imports is not checked", m->disk,
                m->name, err);
        return;
    }
    while ((s = elf_rodata_next(m->out.bytes, &ro, &at, &len))) {
        int seen = 0;
        if (!c_import(m, installed, s, len))
            continue;
        for (size_t i = 0; !seen && i < names.n; i++)
            seen = strcmp(names.v[i], s) == 0;
        if (!seen)
            vec_push(&names, (void *)s);
    }
    for (size_t i = 0; i < names.n; i++)
        strbuf_addf(out, "I 0 0 %s\n", (const char *)names.v[i]);
    vec_free(&names, NULL);
    if (!has_twin && (strchr(m->name, '.') || extension_is_package(m)) &&
        c_names_file(m, &ro))
        strbuf_addstr(out, "F 0 0\n");
}

void scan_extensions(vec *twins, dists_fn ask, void *ctx)
{
    vec installed = {0};

    if (twins->n)
        installed_names(&installed, ask, ctx);
    for (size_t i = 0; i < twins->n; i++) {
        twin_item *t = twins->v[i];
        strbuf scan = STRBUF_INIT;

        if (t->item.out.scan)
            strbuf_addstr(&scan, t->item.out.scan);
        scan_c_code(t->ext, &installed, t->item.disk != NULL, &scan);
        t->ext->out.scan = strbuf_detach(&scan);
        free(t->item.out.scan);
        free(t->item.out.bytes);
        free(t->item.disk);
        free(t);
    }
    twins->n = 0;
    vec_free(twins, NULL);
    vec_free(&installed, free);
}

