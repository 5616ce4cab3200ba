/*
 * imports.c - reads the compile server's import scans (format in
 * src/builder/py/server_scan.py) and makes those of extension modules
 * (their .py twin, the strings of their C code); from them, finds what
 * the app reaches, asks for the installed distributions its imports need
 * (imports_follow), warns about imports that resolve to nothing packed,
 * ranked, and decides which top-level packages are extracted to disk at
 * run time because they read files beside their __file__.
 */
#include "imports.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf.h"
#include "kpack.h"
#include "util.h"

#define MAX_SHOWN_NAMES 15 /* lines of the warning, without -v */
#define MAX_SHOWN_IMPORTERS 3

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
    int rc = cache_get_scan(k->cache, key, m->name, m->bytes, m->bytes_len,
                            &m->scan);
    free(key);
    return rc;
}

static void cache_scan(const scan_keys *k, const module_item *m)
{
    char *key = module_key(k, m);
    cache_put_scan(k->cache, key, m->name, m->bytes, m->bytes_len, m->scan);
    free(key);
}

int scan_request(kserver *s, module_item *m)
{
    uint32_t status;
    uint8_t *out;
    size_t len;

    if (server_call(s, KC_OP_SCAN, (m->flags & KP_MOD_PACKAGE) ? 1 : 0,
                    m->name, m->bytes, m->bytes_len, &status, &out,
                    &len) != 0)
        return -1;
    if (status == KC_OK && strlen((char *)out) == len) {
        m->scan = (char *)out;
        return 0;
    }
    warning("cannot scan the imports of %s: %s", m->disk,
            status == KC_OK ? "a NUL byte in the reply" : (char *)out);
    free(out);
    return 0;
}

int scan_now(kserver *s, scan_keys *k, module_item *m)
{
    if (m->scan || cached_scan(k, m) == 0)
        return 0;
    k->scanned++;
    if (scan_request(s, m) != 0)
        return -1;
    if (m->scan)
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
        if (!scan_wanted(m) || m->scan || cached_scan(k, m) == 0)
            continue;
        m->want_scan = 1;
        k->scanned++;
        if (m->code) /* not a miss: scan only */
            vec_push(work, m);
    }
}

void scan_save(const scan_keys *k, const vec *sources)
{
    for (size_t i = 0; i < sources->n; i++) {
        module_item *m = sources->v[i];
        if (m->want_scan && m->scan)
            cache_scan(k, m);
        m->want_scan = 0;
    }
}

/* ---- reading scans ------------------------------------------------------ */

/* Guards: GUARDED code expects the import to fail on some systems (an
   except ImportError); CONDITIONAL code runs on other platforms or
   versions only, maybe (a test kiln cannot evaluate). */
enum { UNGUARDED = 0, GUARDED = 1, MAIN_ONLY = 2, CONDITIONAL = 3 };

/* Added to the guard: inside a def; in a handler of ImportError. */
enum { IN_FUNCTION = 4, FALLBACK = 8 };

typedef struct {
    char kind;   /* 'I', 'A', 'X', 'R', 'F' or 'H' (see server_scan.py) */
    int guarded; /* UNGUARDED, GUARDED, MAIN_ONLY or CONDITIONAL */
    int in_function; /* inside a def: runs when called */
    int fallback;    /* in a handler of ImportError: runs when it failed */
    int line;        /* 0: found in an extension module's C code */
    const char *name; /* inside the scan, len bytes */
    size_t len;
} scan_entry;

/* The entry at *p, which moves past it; 0 at the end. Lines of another
   form are skipped. */
static int next_entry(const char **p, scan_entry *e)
{
    while (*p && **p) {
        const char *line = *p, *end = line + strcspn(line, "\n");
        char *q;
        long guard;

        *p = *end ? end + 1 : end;
        e->kind = line[0];
        if (!e->kind || !strchr("IAXRFH", e->kind) || line[1] != ' ')
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

    while (next_entry(&p, &e)) {
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
static int checked(const module_item *m, const char *main)
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
static int test_only(const module_item *m)
{
    static const char *const parts[] = {"conftest", "testutils",
                                        "_testutils", "test_utils",
                                        "_test_utils", NULL};
    return has_part(m->name, parts, 1);
}

/* Is m a build script (setup.py, a cffi build script `*build`, `build_*`)
   that came along with a package? It runs when the package is built, not
   imported: it decides no extraction and packs nothing. */
static int build_script(const module_item *m)
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
static int noise_module(const module_item *m)
{
    static const char *const parts[] = {"testing", "_testing", "backend_*",
                                        "benchmarks", NULL};
    return test_only(m) || build_script(m) || has_part(m->name, parts, 0);
}

/* Does an entry's code run? Code under `if __name__ == "__main__"` runs
   only in the module that python runs. */
static int entry_runs(const scan_entry *e, const module_item *m,
                      const char *main)
{
    if (e->guarded != MAIN_ONLY)
        return e->guarded == UNGUARDED;
    return is_main(m, main);
}

/* Does an entry's code run at all, maybe guarded? */
static int entry_may_run(const scan_entry *e, const module_item *m,
                         const char *main)
{
    return e->guarded != MAIN_ONLY || is_main(m, main);
}

/* ---- what is packed ----------------------------------------------------- */

typedef struct {
    const char *name;
    const module_item *m; /* NULL: built into the target */
    int hooked; /* a package with an import hook: names below are its own */
    int reached; /* the app imports it, through some chain (reach()) */
} packed_name;

typedef struct {
    packed_name *v;
    size_t n;
    vec owned; /* names of built-in modules */
} name_index;

static int packed_name_cmp(const void *a, const void *b)
{
    return strcmp(((const packed_name *)a)->name,
                  ((const packed_name *)b)->name);
}

/* The packed name that equals the first len bytes of name, or NULL. */
static packed_name *index_find(const name_index *ix, const char *name,
                               size_t len)
{
    size_t lo = 0, hi = ix->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = ix->v[mid].name;
        int c = strncmp(name, s, len);
        if (c == 0 && s[len] != '\0')
            c = -1;
        if (c == 0)
            return &ix->v[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Marks the packages whose __init__ installs an import hook (an H entry),
   as setuptools' `extern` packages do for the names below them. */
static void mark_hooks(name_index *ix, const collection *c)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        const char *p = m->scan;
        packed_name *pkg;
        scan_entry e;
        int hook = 0;

        while (!hook && (m->flags & KP_MOD_PACKAGE) && next_entry(&p, &e))
            hook = e.kind == 'H';
        if (hook && (pkg = index_find(ix, m->name, strlen(m->name))))
            pkg->hooked = 1;
    }
}

static void index_build(name_index *ix, const collection *c,
                        const char *builtins)
{
    size_t cap = c->modules.n + 1;

    for (const char *p = builtins; *p; p++)
        cap += *p == ',';
    ix->v = xmalloc((cap + 1) * sizeof *ix->v);
    ix->n = 0;
    ix->owned = (vec){0};
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        ix->v[ix->n++] = (packed_name){m->name, m, 0, 0};
    }
    /* __main__ is always in sys.modules, whatever runs. */
    if (!collection_find(c, "__main__"))
        ix->v[ix->n++] = (packed_name){"__main__", NULL, 0, 0};
    for (const char *p = builtins; *p;) {
        size_t len = strcspn(p, ",");
        if (len) {
            char *name = xprintf("%.*s", (int)len, p);
            vec_push(&ix->owned, name);
            ix->v[ix->n++] = (packed_name){name, NULL, 0, 0};
        }
        p += len + (p[len] == ',');
    }
    qsort(ix->v, ix->n, sizeof *ix->v, packed_name_cmp);
    mark_hooks(ix, c);
}

static void index_free(name_index *ix)
{
    free(ix->v);
    vec_free(&ix->owned, free);
}

static int is_package(const packed_name *p)
{
    return p->m && (p->m->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE));
}

/* How many bytes of e's name resolve to nothing packed: 0 when it
   resolves. `import a.b.c` needs a, a.b and a.b.c; below a plain module
   (os.path) or a package with an import hook names are the module's
   business. X.a of `from X import a` is a submodule or an attribute, so
   it needs to be packed only when X is a namespace package, which has no
   attributes of its own. */
static size_t unresolved_length(const name_index *ix, const scan_entry *e)
{
    const packed_name *p = NULL;

    if (e->name[0] == '.')
        return e->len;
    if (e->kind == 'A') {
        const char *dot = memrchr(e->name, '.', e->len);
        if (!dot || index_find(ix, e->name, e->len))
            return 0;
        p = index_find(ix, e->name, (size_t)(dot - e->name));
        return p && p->m && (p->m->flags & KP_MOD_NAMESPACE) && !p->hooked
                   ? e->len
                   : 0;
    }
    for (size_t end = 0;; end++) {
        const packed_name *parent = end ? p : NULL;
        end += strcspn(e->name + end, ".\n");
        if (end > e->len)
            end = e->len;
        p = index_find(ix, e->name, end);
        /* pkg.__init__ is a regular package's __init__.py, as a module */
        if (!p && parent && end == e->len && end > 9 &&
            memcmp(e->name + end - 9, ".__init__", 9) == 0 &&
            !(parent->m->flags & (KP_MOD_NAMESPACE | KP_MOD_EXTENSION)))
            return 0;
        if (!p)
            return end;
        if (p->hooked || !is_package(p) || end == e->len)
            return 0;
    }
}

/* ---- what the app reaches ----------------------------------------------- */

/* An import of name[0:len), as unresolved_length() reads one. */
static scan_entry import_of(const char *name, size_t len)
{
    return (scan_entry){'I', UNGUARDED, 0, 0, 1, name, len};
}

/* Marks the packed modules that `import name[0:len)` runs (a, a.b, a.b.c;
   a.__init__ is the package a), queueing those reached first now. */
static void reach_name(name_index *ix, vec *queue, const char *name,
                       size_t len)
{
    for (size_t end = 0; end < len; end++) {
        packed_name *p;

        end += strcspn(name + end, ".\n");
        if (end > len)
            end = len;
        if (!(p = index_find(ix, name, end)))
            return;
        if (p->m && !p->reached) {
            p->reached = 1;
            vec_push(queue, p);
        }
        if (p->hooked || !is_package(p))
            return;
    }
}

/* Is name[0:len) the top-level name of a packed module from outside the
   stdlib? */
static int packed_top(const name_index *ix, const char *name, size_t len)
{
    const packed_name *p = index_find(ix, name, len);
    return p && p->m && p->m->from != FROM_STDLIB;
}

enum { NOT_LOADED, PLUGINS, COMMANDS };

/* Does a packed package load the plugins of an entry-point group, which
   is named after it (flake8.extension, pytest11, sphinx.html_themes), or
   is it commands (console_scripts: easy_install's scripts load theirs by
   name)? */
static int group_consumed(const name_index *ix, const char *group,
                          size_t len)
{
    size_t first = strcspn(group, ".]");

    if (first > len)
        first = len;
    if ((first == 15 && strncmp(group, "console_scripts", 15) == 0) ||
        (first == 11 && strncmp(group, "gui_scripts", 11) == 0))
        return COMMANDS;
    if (packed_top(ix, group, first))
        return PLUGINS;
    while (first > 0 && group[first - 1] >= '0' && group[first - 1] <= '9')
        first--;
    return first > 0 && packed_top(ix, group, first) ? PLUGINS : NOT_LOADED;
}

/* Is relpath the entry_points.txt of a distribution's metadata? */
static int is_entry_points(const char *relpath)
{
    const char *slash = strchr(relpath, '/');
    size_t len = slash ? (size_t)(slash - relpath) : 0;

    return slash && strcmp(slash + 1, "entry_points.txt") == 0 && len > 10 &&
           (strncmp(slash - 10, ".dist-info", 10) == 0 ||
            strncmp(slash - 9, ".egg-info", 9) == 0);
}

/* Is the command name[0:len) what the script runs: named like it, or
   quoted in its source (easy_install's scripts: load_entry_point(
   'coverage==6.5.0', 'console_scripts', 'python-coverage'))? */
static int runs_command(const module_item *script, const char *name,
                        size_t len)
{
    const char *base = base_name(script->relpath);
    size_t n = strcspn(base, ".");
    char *quoted;
    int found;

    if (n == len && strncmp(base, name, len) == 0)
        return 1;
    if (!script->bytes || strlen((const char *)script->bytes) !=
                              script->bytes_len)
        return 0;
    quoted = xprintf("'%.*s'", (int)len, name);
    found = strstr((const char *)script->bytes, quoted) != NULL;
    quoted[0] = quoted[len + 1] = '"';
    found = found || strstr((const char *)script->bytes, quoted) != NULL;
    free(quoted);
    return found;
}

/* Reaches the modules that entry points (text: an entry_points.txt, `name
   = module:attr [extras]` lines under `[group]` headers) name in groups a
   packed package consumes, and the command the script runs (script: NULL
   when there is none). */
static void reach_entry_text(name_index *ix, vec *queue, const char *text,
                             const module_item *script)
{
    int group = NOT_LOADED;

    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n"), name;
        const char *next = line + len + (line[len] == '\n'), *v;

        while (len && (*line == ' ' || *line == '\t'))
            line++, len--;
        name = strcspn(line, "= \t\n");
        v = memchr(line, '=', len);
        if (len && *line == '[')
            group = group_consumed(ix, line + 1, len - 1);
        else if (v && (group == PLUGINS ||
                       (group == COMMANDS && script &&
                        runs_command(script, line, name)))) {
            for (v++; *v == ' ' || *v == '\t'; v++)
                ;
            reach_name(ix, queue, v, strcspn(v, ": \t[\n\r"));
        }
        line = next;
    }
}

static void reach_entry_points(name_index *ix, vec *queue,
                               const collection *c)
{
    const module_item *script = collection_find(c, "__main__");

    for (size_t i = 0; i < c->files.n; i++) {
        const file_item *f = c->files.v[i];
        uint8_t *text = NULL;
        size_t len;

        if (!is_entry_points(f->relpath))
            continue;
        if (f->disk && read_collected(f->disk, &f->id, &text, &len) == 0)
            reach_entry_text(ix, queue, (const char *)text, script);
        free(text);
    }
}

/* Reaches what m imports at module level, required or optional, and the
   modules of its package that its strings name (an import by name from a
   table); not what a function imports (when it is called: such a feature
   may never be used), what runs on other systems only, a fallback, nor
   the strings of C code (mypyc's library names every module it
   compiles). */
static void reach_from(name_index *ix, vec *queue, const module_item *m,
                       const char *main)
{
    const char *p = m->scan;
    scan_entry e;

    while (next_entry(&p, &e))
        if (strchr("IAR", e.kind) && entry_may_run(&e, m, main) &&
            !e.in_function && e.guarded != CONDITIONAL && !e.fallback &&
            e.line > 0)
            reach_name(ix, queue, e.name, e.len);
}

/* Sets `reached` on the modules the app imports: from what it runs (the
   script, or the -m module and its __main__), the top-level modules packed
   from outside the stdlib (a distribution is packed because something
   imports it, maybe by name), and the entry points of the packed
   distributions in the groups of packed packages (flake8's plugins, loaded
   by name) and their commands, through every import. An interpreter
   reaches all. */
static void reach(name_index *ix, const collection *c, const char *main)
{
    vec queue = {0};
    packed_name *script = index_find(ix, "__main__", 8);

    if (!main && !(script && script->m)) {
        for (size_t i = 0; i < ix->n; i++)
            ix->v[i].reached = ix->v[i].m != NULL;
        return;
    }
    if (main) {
        char *sub = xprintf("%s.__main__", main);
        reach_name(ix, &queue, main, strlen(main));
        reach_name(ix, &queue, sub, strlen(sub));
        free(sub);
    }
    reach_name(ix, &queue, "__main__", 8);
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if (m->from != FROM_STDLIB && !strchr(m->name, '.'))
            reach_name(ix, &queue, m->name, strlen(m->name));
    }
    reach_entry_points(ix, &queue, c);
    for (size_t i = 0; i < queue.n; i++)
        reach_from(ix, &queue, ((packed_name *)queue.v[i])->m, main);
    vec_free(&queue, NULL);
}

static int is_reached(const name_index *ix, const module_item *m)
{
    const packed_name *p = index_find(ix, m->name, strlen(m->name));
    return p && p->reached;
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
    m->want_scan = 1;
    k->scanned++;
    vec_push(work, m);
}

int scan_collect(scan_keys *k, collection *c, vec *work, vec *twins)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        twin_item *t;

        if (m->from == FROM_STDLIB || !m->disk || m->scan)
            continue;
        if (!m->bytes &&
            read_collected(m->disk, &m->id, &m->bytes, &m->bytes_len) != 0)
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
        if (read_file(t->item.disk, &t->item.bytes, &t->item.bytes_len))
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

    for (char *line = reply; line && *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "installed=", 10) == 0 && len > 10)
            vec_push(names, xprintf("%.*s", (int)len - 10, line + 10));
        line += len + (line[len] == '\n');
    }
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
    size_t n = elf_rodata_count(m->bytes, ro, "__file__", 8);

    if (n && elf_rodata_count(m->bytes, ro, "\0origin\0", 8) &&
        elf_rodata_count(m->bytes, ro, "submodule_search_locations", 26))
        n--;
    return n > 0;
}

/* The scan lines of what m's C code holds: "I 0 0 NAME" for each module it
   imports; "F 0 0" when it names __file__, has no twin to tell more and
   sits in a package (mypyc's top-level library serves other modules).
   NULL when the image cannot be read (a warning says so). */
static char *scan_c_code(const module_item *m, const vec *installed,
                         int has_twin)
{
    elf_rodata ro;
    elf_cursor at = {0, 0};
    vec names = {0};
    char err[ELF_ERRLEN], *out, *tmp;
    const char *s;
    size_t len;

    if (elf_read_rodata(m->bytes, m->bytes_len, &ro, err, sizeof err) != 0) {
        warning("%s: cannot read the strings of extension module '%s' "
                "(%s): what its C code imports is not checked", m->disk,
                m->name, err);
        return NULL;
    }
    while ((s = elf_rodata_next(m->bytes, &ro, &at, &len))) {
        int seen = 0;
        if (!c_import(m, installed, s, len))
            continue;
        for (size_t i = 0; !seen && i < names.n; i++)
            seen = strcmp(names.v[i], s) == 0;
        if (!seen)
            vec_push(&names, (void *)s);
    }
    out = xstrdup("");
    for (size_t i = 0; i < names.n; i++) {
        tmp = xprintf("%sI 0 0 %s\n", out, (const char *)names.v[i]);
        free(out);
        out = tmp;
    }
    vec_free(&names, NULL);
    if (!has_twin && (strchr(m->name, '.') || extension_is_package(m)) &&
        c_names_file(m, &ro)) {
        tmp = xprintf("%sF 0 0\n", out);
        free(out);
        out = tmp;
    }
    return out;
}

void scan_extensions(vec *twins, dists_fn ask, void *ctx)
{
    vec installed = {0};

    if (twins->n)
        installed_names(&installed, ask, ctx);
    for (size_t i = 0; i < twins->n; i++) {
        twin_item *t = twins->v[i];
        char *code = scan_c_code(t->ext, &installed, t->item.disk != NULL);

        t->ext->scan = xprintf("%s%s", t->item.scan ? t->item.scan : "",
                               code ? code : "");
        free(code);
        free(t->item.scan);
        free(t->item.bytes);
        free(t->item.disk);
        free(t);
    }
    twins->n = 0;
    vec_free(twins, NULL);
    vec_free(&installed, free);
}

/* ---- the warning -------------------------------------------------------- */

/* Is the top-level name of name[0:len) one of names? */
static int top_in(const char *const *names, const char *name, size_t len)
{
    size_t top = strcspn(name, ".\n");

    if (top > len)
        top = len;
    for (const char *const *n = names; *n; n++)
        if (strlen(*n) == top && strncmp(*n, name, top) == 0)
            return 1;
    return 0;
}

/* Modules of other platforms: code that imports them runs only there, so
   they are never named (Windows' and macOS's stdlib, pywin32, IronPython's
   .NET, PyObjC, PyPy). */
static int other_platform(const char *name, size_t len)
{
    static const char *const names[] = {
        "winreg", "_winreg", "msvcrt", "_winapi", "nt", "winsound",
        "_overlapped", "msilib", "_msi", "_scproxy", "__pypy__", "win32api",
        "win32con", "win32file", "win32event", "win32pipe", "win32process",
        "win32security", "win32gui", "win32clipboard", "win32service",
        "win32serviceutil", "winerror", "pywintypes", "pythoncom", "win32com",
        "wmi", "comtypes", "clr", "System", "Foundation", "AppKit", "objc",
        "PyObjCTools", "CoreFoundation", "Quartz", NULL};
    return top_in(names, name, len);
}

/* Imports that are never named: other platforms' modules, and the test
   folders of a source tree (testsuite, tests), which no one installs. */
static int never_named(const char *name, size_t len)
{
    static const char *const tests[] = {"testsuite", "tests", NULL};
    return other_platform(name, len) || top_in(tests, name, len);
}

/* GUI toolkits: imports of them are other toolkits' backends
   (matplotlib's, IPython's input hooks), ranked last and never packed by
   kiln itself. */
static int gui_toolkit(const char *name, size_t len)
{
    static const char *const names[] = {
        "PyQt4", "PyQt5", "PyQt6", "PySide", "PySide2", "PySide6", "sip",
        "shiboken2", "shiboken6", "wx", "gtk", "gobject", "pygtk", "gi",
        "Tkinter", "tkinter", "_tkinter", "kivy", "pyglet", "OpenGL", NULL};
    return top_in(names, name, len);
}

/* Ranks of a missing import, shown in this order. */
enum { AT_START = 1, LATER = 2, NOISE = 3 };

typedef struct {
    const char *name; /* inside a scan, len bytes */
    size_t len;
    const module_item *by;
    int line;
    int rank;         /* AT_START, LATER or NOISE */
    const char *alt;  /* a fallback tried after it, alt_len bytes */
    size_t alt_len;
    int guarded;      /* the import's guard */
} finding;

/* How a module is named in messages: the script by its file name. */
static const char *shown_name(const module_item *m)
{
    return strcmp(m->name, "__main__") == 0 ? m->relpath : m->name;
}

static int name_cmp(const finding *a, const finding *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int finding_cmp(const void *pa, const void *pb)
{
    const finding *a = pa, *b = pb;
    int c = name_cmp(a, b);
    if (!c)
        c = strcmp(shown_name(a->by), shown_name(b->by));
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Is the dotted name a part of the target's stdlib that kiln left out? */
static int left_out_of_stdlib(const char *stdlib, const char *dynload,
                              const char *name, size_t len)
{
    char *rel = xprintf("%.*s", (int)len, name), *path;
    struct stat st;
    int found;

    for (char *s = rel; *s; s++)
        if (*s == '.')
            *s = '/';
    path = xprintf("%s/%s.py", stdlib, rel);
    found = stat(path, &st) == 0;
    free(path);
    path = xprintf("%s/%s", stdlib, rel);
    found = found || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    free(path);
    if (!found && !strchr(rel, '/')) {
        DIR *d = opendir(dynload);
        struct dirent *de;
        while (d && !found && (de = readdir(d)))
            found = strncmp(de->d_name, rel, len) == 0 &&
                    de->d_name[len] == '.';
        if (d)
            closedir(d);
    }
    free(rel);
    return found;
}

/* Prints the importers of f[0..n), which all name the same import; C
   code is said so. */
static void print_importers(const finding *f, size_t n, int verbose)
{
    size_t shown = 0, total = 0;

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && f[i].by == f[i - 1].by)
            continue; /* the first line is enough */
        total++;
        if (!verbose && shown == MAX_SHOWN_IMPORTERS)
            continue;
        fprintf(stderr, "%s%s", shown ? ", " : "", shown_name(f[i].by));
        if (f[i].line == 0)
            fprintf(stderr, " (C code)");
        else if (verbose)
            fprintf(stderr, ":%d", f[i].line);
        shown++;
    }
    if (total > shown)
        fprintf(stderr, " and %zu more", total - shown);
}

/* Appends "key=name[0:len)\n" to *req unless it is there. */
static void add_request(char **req, const char *key, const char *name,
                        size_t len)
{
    char *line = xprintf("\n%s=%.*s\n", key, (int)len, name);
    char *all = xprintf("\n%s", *req), *tmp;

    if (!strstr(all, line)) {
        tmp = xprintf("%s%s", *req, line + 1);
        free(*req);
        *req = tmp;
    }
    free(all);
    free(line);
}

/* The value of the reply line "key=NAME\tVALUE" for name[0:len), or
   NULL. */
static char *reply_value(const char *reply, const char *key,
                         const char *name, size_t len)
{
    size_t klen = strlen(key);

    for (const char *line = reply; line && *line;) {
        size_t n = strcspn(line, "\n");
        if (n > klen + len + 1 && strncmp(line, key, klen) == 0 &&
            line[klen] == '=' && strncmp(line + klen + 1, name, len) == 0 &&
            line[klen + 1 + len] == '\t')
            return xprintf("%.*s", (int)(n - klen - len - 2),
                           line + klen + len + 2);
        line += n + (line[n] == '\n');
    }
    return NULL;
}

/* Is name[0:len) one of the comma-separated names of list[0:n)? */
static int in_list(const char *list, size_t n, const char *name, size_t len)
{
    for (size_t at = 0, w; at < n; at += w + 1) {
        w = strcspn(list + at, ",|\n");
        if (at + w > n)
            w = n - at;
        if (w == len && strncmp(list + at, name, len) == 0)
            return 1;
    }
    return 0;
}

/* The first name of list[0:n) (comma-separated) that resolves to nothing
   and (known: a providers reply, or NULL) has no installed provider:
   *at and the unresolved length, 0 when every one is there. */
static size_t first_missing(const name_index *ix, const char *list, size_t n,
                            const char *known, const char **at)
{
    for (size_t from = 0, w; from < n; from += w + 1) {
        char *dists = NULL;
        scan_entry e;
        size_t len;
        w = strcspn(list + from, ",|\n");
        if (from + w > n)
            w = n - from;
        e = import_of(list + from, w);
        if ((len = unresolved_length(ix, &e)) == 0)
            continue;
        if (known && !(dists = reply_value(known, "provider", list + from, w)))
            dists = reply_value(known, "module", list + from, w);
        free(dists);
        if (!dists) {
            *at = list + from;
            return len;
        }
    }
    return 0;
}

/* Is name[0:len), imported by m, only the fallback of a try whose first
   choices all resolve or are installed (known)? */
static int needless_fallback(const name_index *ix, const module_item *m,
                             const char *name, size_t len, const char *known)
{
    const char *p = m->scan, *at;
    scan_entry e;

    while (next_entry(&p, &e)) {
        const char *bar = e.kind == 'X' ? memchr(e.name, '|', e.len) : NULL;
        if (bar && in_list(bar + 1, e.len - (size_t)(bar + 1 - e.name), name,
                           len) &&
            !first_missing(ix, e.name, (size_t)(bar - e.name), known, &at))
            return 1;
    }
    return 0;
}

/* The missing import of X entry e, a try one of whose first choices and
   one of whose fallbacks resolve to nothing: that choice, as a finding
   without rank or importer, with the fallback; 0 when it is fine. */
static int failed_alternatives(const name_index *ix, const scan_entry *e,
                               finding *f)
{
    const char *bar = memchr(e->name, '|', e->len), *choice, *alt;
    size_t tried = bar ? (size_t)(bar - e->name) : 0, len, alt_len;

    if (!bar || !(len = first_missing(ix, e->name, tried, NULL, &choice)) ||
        !(alt_len = first_missing(ix, bar + 1, e->len - tried - 1, NULL,
                                  &alt)))
        return 0;
    *f = (finding){choice, len, NULL, e->line, 0, alt, alt_len, 0};
    return 1;
}

/* ---- following imports -------------------------------------------------- */

/* Is name[0:len) a fallback that m's handler of ImportError imports
   itself (an X entry), not in a try of its own, nor in a handler? */
static int direct_fallback(const module_item *m, const char *name,
                           size_t len)
{
    const char *p = m->scan;
    scan_entry e;

    while (next_entry(&p, &e)) {
        const char *bar = e.kind == 'X' && !e.fallback
                              ? memchr(e.name, '|', e.len)
                              : NULL;
        if (bar && in_list(bar + 1, e.len - (size_t)(bar + 1 - e.name), name,
                           len))
            return 1;
    }
    return 0;
}

/* Does a module's import make kiln pack what provides it? Imports at
   module level, required or optional, of the modules that the app reaches,
   but not tests, build scripts, other platforms' and GUI toolkits'
   modules, what runs on other systems only, nor a fallback but the one a
   handler imports itself when its first choice is not there. */
static int to_follow(const name_index *ix, const module_item *m,
                     const scan_entry *e, const char *main, size_t *len)
{
    return (e->kind == 'I' || e->kind == 'A') && !e->in_function &&
           e->guarded != CONDITIONAL && entry_may_run(e, m, main) &&
           (*len = unresolved_length(ix, e)) > 0 && e->name[0] != '.' &&
           !never_named(e->name, *len) && !gui_toolkit(e->name, *len) &&
           (!e->fallback || direct_fallback(m, e->name, *len)) &&
           !needless_fallback(ix, m, e->name, *len, NULL);
}

/* The names to follow, as findings, one per name, without those asked
   already. */
static size_t follow_candidates(const name_index *ix, const collection *c,
                                const char *main, const vec *asked,
                                finding **out)
{
    size_t n = 0, cap = 0, len;

    *out = NULL;
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        const char *p = m->scan;
        scan_entry e;

        if (!checked(m, main) || noise_module(m) || !is_reached(ix, m))
            continue;
        while (next_entry(&p, &e)) {
            finding f;
            int known = 0;
            if (!to_follow(ix, m, &e, main, &len))
                continue;
            f = (finding){e.name, len, m, e.line, 0, NULL, 0, e.guarded};
            for (size_t j = 0; !known && j < n; j++)
                known = name_cmp(&(*out)[j], &f) == 0;
            for (size_t j = 0; !known && j < asked->n; j++)
                known = strlen(asked->v[j]) == len &&
                        strncmp(asked->v[j], e.name, len) == 0;
            if (known)
                continue;
            if (n == cap)
                *out = xrealloc(*out, (cap = cap ? 2 * cap : 16) *
                                          sizeof **out);
            (*out)[n++] = f;
        }
    }
    return n;
}

/* "packed=ENTRY" lines for the distribution metadata folders packed. */
static char *packed_metadata(const collection *c)
{
    char *req = xstrdup("");

    for (size_t i = 0; i < c->files.n; i++) {
        const char *rel = ((const file_item *)c->files.v[i])->relpath;
        size_t top = strcspn(rel, "/");
        if (rel[top] == '/' &&
            ((top > 10 && strncmp(rel + top - 10, ".dist-info", 10) == 0) ||
             (top > 9 && strncmp(rel + top - 9, ".egg-info", 9) == 0)))
            add_request(&req, "packed", rel, top);
    }
    return req;
}

/* What holds f's name, from the providers reply known: the first
   distribution, or the name itself for a module installed without
   metadata; NULL when nothing does. */
static char *holder_of(const finding *f, const char *known)
{
    char *dists = reply_value(known, "provider", f->name, f->len);

    if (dists) {
        dists[strcspn(dists, ",")] = '\0';
        return dists;
    }
    if ((dists = reply_value(known, "module", f->name, f->len))) {
        free(dists);
        return xprintf("%.*s", (int)f->len, f->name);
    }
    return NULL;
}

/* Adds "follow=HOLDER\tWHY" for f to *req, once per holder; 1 when it
   does. */
static int add_follow(char **req, const finding *f, const char *known)
{
    char *holder = holder_of(f, known), *line, *all, *tmp;
    int added;

    if (!holder)
        return 0;
    line = xprintf("\nfollow=%s\t", holder);
    all = xprintf("\n%s", *req);
    added = strstr(all, line) == NULL;
    if (added) {
        tmp = xprintf("%sfollow=%s\t%s %s\n", *req, holder,
                      f->line == 0               ? "imported by the C code of"
                      : f->guarded == GUARDED ? "an optional import of"
                                                 : "imported by",
                      shown_name(f->by));
        free(*req);
        *req = tmp;
    }
    free(all);
    free(line);
    free(holder);
    return added;
}

char *imports_follow(const collection *c, const char *main,
                     const char *importable, dists_fn ask, void *ctx,
                     vec *asked)
{
    name_index ix;
    finding *f;
    char *req = xstrdup(""), *known, *follow;
    size_t n, wanted = 0;

    index_build(&ix, c, importable);
    reach(&ix, c, main);
    n = follow_candidates(&ix, c, main, asked, &f);
    for (size_t i = 0; i < n; i++) {
        add_request(&req, "provides", f[i].name, f[i].len);
        vec_push(asked, xprintf("%.*s", (int)f[i].len, f[i].name));
    }
    known = n ? ask(ctx, req) : xstrdup("");
    free(req);
    req = packed_metadata(c);
    for (size_t i = 0; i < n; i++)
        if (!needless_fallback(&ix, f[i].by, f[i].name, f[i].len, known))
            wanted += add_follow(&req, &f[i], known);
    follow = wanted ? req : NULL;
    if (!wanted)
        free(req);
    free(known);
    free(f);
    index_free(&ix);
    return follow;
}

/* The rank of a missing import: at start-up when it runs at module level
   in a module the app reaches; last for tests, build scripts and other
   toolkits' backends. */
static int rank_of(const name_index *ix, const module_item *m,
                   const scan_entry *e, const char *name, size_t len)
{
    if (noise_module(m) || gui_toolkit(name, len))
        return NOISE;
    return !e->in_function && is_reached(ix, m) ? AT_START : LATER;
}

/* The imports of the checked modules that resolve to nothing packed, and
   the tries whose fallbacks do not either. */
static size_t collect_findings(const name_index *ix, const collection *c,
                               const char *main, finding **out)
{
    size_t n = 0, cap = 0;

    *out = NULL;
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        const char *p = m->scan;
        scan_entry e;

        if (!checked(m, main))
            continue;
        while (next_entry(&p, &e)) {
            finding f = {e.name, 0, m, e.line, 0, NULL, 0, e.guarded};
            if (!entry_runs(&e, m, main))
                continue;
            if (e.kind == 'X' ? !failed_alternatives(ix, &e, &f)
                              : (e.kind != 'I' && e.kind != 'A') ||
                                    (f.len = unresolved_length(ix, &e)) == 0)
                continue;
            if (never_named(f.name, f.len))
                continue;
            f.by = m;
            f.rank = rank_of(ix, m, &e, f.name, f.len);
            if (n == cap)
                *out = xrealloc(*out, (cap = cap ? 2 * cap : 16) *
                                          sizeof **out);
            (*out)[n++] = f;
        }
    }
    return n;
}

/* One name of the warning: findings [from, to), its best rank. */
typedef struct {
    size_t from, to;
    int rank;
} warned_name;

static const finding *sorted_findings; /* for warned_cmp */

static int warned_cmp(const void *pa, const void *pb)
{
    const warned_name *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    return name_cmp(&sorted_findings[a->from], &sorted_findings[b->from]);
}

/* The names of the sorted findings f[0..n), in the order shown. */
static warned_name *group_names(const finding *f, size_t n, size_t *count)
{
    warned_name *w = xmalloc(n * sizeof *w);

    *count = 0;
    for (size_t i = 0, j; i < n; i = j) {
        int rank = f[i].rank;
        for (j = i + 1; j < n && name_cmp(&f[j], &f[i]) == 0; j++)
            if (f[j].rank < rank)
                rank = f[j].rank;
        w[(*count)++] = (warned_name){i, j, rank};
    }
    sorted_findings = f;
    qsort(w, *count, sizeof *w, warned_cmp);
    return w;
}

/* Asks which installed distributions (or modules without metadata) hold
   the missing names. */
static char *ask_providers(const warned_name *w, size_t n, const finding *f,
                           dists_fn ask, void *ctx)
{
    char *req = xstrdup(""), *res;

    for (size_t i = 0; i < n; i++)
        add_request(&req, "provides", f[w[i].from].name, f[w[i].from].len);
    res = *req && ask ? ask(ctx, req) : xstrdup("");
    free(req);
    return res;
}

/* What to do about a missing name: the --package that packs it, checked
   (the distribution holds it), or nothing known. */
static void print_hint(const finding *f, const char *known,
                       const char *stdlib, const char *dynload)
{
    char *dists = reply_value(known, "provider", f->name, f->len);
    char *plain = dists ? NULL
                        : reply_value(known, "module", f->name, f->len);

    if (left_out_of_stdlib(stdlib, dynload, f->name, f->len))
        fprintf(stderr, "): left out of the packed standard library\n");
    else if (dists)
        fprintf(stderr, "): %s install%s it; add --package %.*s\n", dists,
                strchr(dists, ',') ? "" : "s", (int)strcspn(dists, ","),
                dists);
    else if (plain)
        fprintf(stderr, "): installed without distribution metadata%s%s%s; "
                        "add --package %.*s\n",
                *plain ? " (Debian's " : "", plain, *plain ? ")" : "",
                (int)f->len, f->name);
    else
        fprintf(stderr, ")\n");
    free(dists);
    free(plain);
}

static void print_rank(int rank)
{
    if (rank == LATER)
        fprintf(stderr, "  then, inside functions or in modules that the "
                        "app does not import itself:\n");
    else if (rank == NOISE)
        fprintf(stderr, "  last, in tests, build scripts and backends of "
                        "other toolkits:\n");
}

void imports_warn(const collection *c, const char *main,
                  const char *importable, const char *stdlib,
                  const char *dynload, int verbose, dists_fn ask, void *ctx)
{
    name_index ix;
    finding *f;
    warned_name *w;
    size_t n, names, shown = 0;
    int rank = AT_START;
    char *known;

    index_build(&ix, c, importable);
    reach(&ix, c, main);
    n = collect_findings(&ix, c, main, &f);
    index_free(&ix);
    if (n == 0)
        return;
    qsort(f, n, sizeof *f, finding_cmp);
    w = group_names(f, n, &names);
    known = ask_providers(w, names, f, ask, ctx);
    warning("%zu import%s resolve%s to nothing packed:", names,
            names == 1 ? "" : "s", names == 1 ? "s" : "");
    for (size_t i = 0; i < names; i++) {
        const finding *first = &f[w[i].from];
        if (!verbose && w[i].rank != AT_START && names > MAX_SHOWN_NAMES &&
            shown >= MAX_SHOWN_NAMES - 1)
            break;
        if (w[i].rank != rank)
            print_rank(rank = w[i].rank);
        fprintf(stderr, "  %.*s", (int)first->len, first->name);
        if (first->alt)
            fprintf(stderr, ", or instead %.*s", (int)first->alt_len,
                    first->alt);
        fprintf(stderr, " (imported by ");
        print_importers(first, w[i].to - w[i].from, verbose);
        print_hint(first, known, stdlib, dynload);
        shown++;
    }
    if (shown < names)
        fprintf(stderr, "  ... and %zu more (kiln build -v lists all)\n",
                names - shown);
    free(known);
    free(w);
    free(f);
}

/* ---- extraction --------------------------------------------------------- */

#define MAX_SHOWN_TOPS 10

typedef struct {
    char *name;                /* a top-level name outside the stdlib */
    const module_item *reason; /* its first module that needs files */
} top_package;

static size_t top_len(const char *name)
{
    return strcspn(name, ".");
}

static int has_top(const module_item *m, const char *top, size_t len)
{
    return top_len(m->name) == len && strncmp(m->name, top, len) == 0;
}

/* The top-level names of the modules from outside the stdlib, but the
   script's, in the order of the collection. */
static top_package *list_tops(const collection *c, size_t *n)
{
    top_package *tops = xmalloc((c->modules.n + 1) * sizeof *tops);
    int known;

    *n = 0;
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if (m->from == FROM_STDLIB || strcmp(m->name, "__main__") == 0)
            continue;
        known = 0;
        for (size_t j = 0; !known && j < *n; j++)
            known = has_top(m, tops[j].name, strlen(tops[j].name));
        if (!known)
            tops[(*n)++] = (top_package){
                xprintf("%.*s", (int)top_len(m->name), m->name), NULL};
    }
    return tops;
}

static void free_tops(top_package *tops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tops[i].name);
    free(tops);
}

static top_package *find_top(top_package *tops, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tops[i].name, name) == 0)
            return &tops[i];
    return NULL;
}

static int in_names(const vec *names, const char *name)
{
    for (size_t i = 0; i < names->n; i++)
        if (strcmp(names->v[i], name) == 0)
            return 1;
    return 0;
}

static int stdlib_top(const collection *c, const char *name)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if (m->from == FROM_STDLIB && has_top(m, name, strlen(name)))
            return 1;
    }
    return 0;
}

static void print_tops(const top_package *tops, size_t n)
{
    if (n == 0) {
        fprintf(stderr, "  nothing is packed besides the standard library\n");
        return;
    }
    fprintf(stderr, "  packed top-level names:");
    for (size_t i = 0; i < n && i < MAX_SHOWN_TOPS; i++)
        fprintf(stderr, " %s%s", tops[i].name,
                i + 1 < n && i + 1 < MAX_SHOWN_TOPS ? "," : "");
    if (n > MAX_SHOWN_TOPS)
        fprintf(stderr, " ... (%zu in all)", n);
    fputc('\n', stderr);
}

/* Checks the names given to one option (key is "extract" or
   "no-extract"). */
static int check_names(const collection *c, top_package *tops, size_t n,
                       const vec *names, const char *key, const vec *other,
                       const char *origin)
{
    for (size_t i = 0; i < names->n; i++) {
        const char *name = names->v[i];
        char *where;

        if (!in_names(other, name) &&
            (find_top(tops, n, name) || stdlib_top(c, name)))
            continue;
        where = origin ? xprintf("%s %s", origin, key)
                       : xprintf("--%s %s", key, name);
        if (in_names(other, name)) {
            error("%s: '%s' is given to both --extract and --no-extract",
                  where, name);
        } else {
            error("%s: nothing packed has the top-level name '%s'", where,
                  name);
            print_tops(tops, n);
        }
        free(where);
        return -1;
    }
    return 0;
}

int extract_check(const collection *c, const vec *force, const vec *never,
                  const char *origin)
{
    size_t n;
    top_package *tops = list_tops(c, &n);
    int rc = check_names(c, tops, n, force, "extract", never, origin) ||
             check_names(c, tops, n, never, "no-extract", force, origin);

    free_tops(tops, n);
    return rc ? -1 : 0;
}

/* Standard-library packages that read their own data files through
   __file__: venv copies its activate scripts from venv/scripts. The stdlib
   is not scanned (tests and __main__ code would flag much of it), so they
   are named here. */
static const char *const stdlib_reads_files[] = {"venv"};

/* Marks the stdlib's top-level package or module top for extraction; 1
   when it is packed. */
static int extract_stdlib_top(collection *c, const char *top)
{
    int packed = 0;

    for (size_t j = 0; j < c->modules.n; j++) {
        module_item *m = c->modules.v[j];
        if (m->from == FROM_STDLIB && has_top(m, top, strlen(top)))
            packed = m->extract = 1;
    }
    return packed;
}

/* The stdlib's packages named above, and those that --extract names,
   unless --no-extract does. */
static void extract_stdlib(collection *c, const vec *force, const vec *never,
                           int verbose)
{
    size_t n = sizeof stdlib_reads_files / sizeof *stdlib_reads_files;

    for (size_t i = 0; i < n; i++) {
        const char *top = stdlib_reads_files[i];
        if (in_names(never, top) || in_names(force, top))
            continue;
        if (extract_stdlib_top(c, top) && verbose)
            fprintf(stderr, "kiln: extracting %s: the standard library's %s "
                            "reads its data files from disk\n", top, top);
    }
    for (size_t i = 0; i < force->n; i++)
        if (extract_stdlib_top(c, force->v[i]) && verbose)
            fprintf(stderr, "kiln: extracting the standard library's %s: "
                            "--extract\n", (const char *)force->v[i]);
}

void extract_note(const collection *c)
{
    const char *seen = NULL;
    size_t len = 0;

    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if (m->from != FROM_APP || !m->extract || !m->needs_files ||
            strcmp(m->name, "__main__") == 0 || (seen && has_top(m, seen, len)))
            continue;
        seen = m->name;
        len = top_len(m->name);
        fprintf(stderr, "kiln: note: the app's package %.*s gets real files "
                "at run time, as %s line %d uses __file__ in a path: they "
                "are a read-only copy in kiln's extract cache, so what it "
                "writes beside __file__ (a database, a log) fails there, "
                "where python3 would write beside its source; give such "
                "files a path of their own\n", (int)len, m->name, m->name,
                m->needs_files);
    }
}

/* Packed packages that read the files of the modules they analyse, the
   stdlib's too, through their __file__: jedi parses each module's source
   and stats its file, and catches only FileNotFoundError, where a path
   inside the executable gives NotADirectoryError; astroid (pylint) parses
   each imported module's source file. */
static const char *const reads_stdlib_files[] = {"jedi", "astroid"};

int stdlib_files_plan(collection *c, int mode, int verbose)
{
    size_t n = sizeof reads_stdlib_files / sizeof *reads_stdlib_files;
    const char *why = NULL;

    for (size_t i = 0; mode < 0 && i < n; i++)
        for (size_t j = 0; !why && j < c->modules.n; j++) {
            const module_item *m = c->modules.v[j];
            if (m->from != FROM_STDLIB &&
                has_top(m, reads_stdlib_files[i],
                        strlen(reads_stdlib_files[i])))
                why = reads_stdlib_files[i];
        }
    if (mode < 0)
        mode = why != NULL;
    for (size_t j = 0; mode && j < c->modules.n; j++) {
        module_item *m = c->modules.v[j];
        if (m->from == FROM_STDLIB)
            m->extract = 1;
    }
    if (verbose && mode && why)
        fprintf(stderr, "kiln: extracting the whole standard library: %s "
                "reads the files of the modules it analyses "
                "(--no-stdlib-files: not)\n", why);
    else if (verbose && mode)
        fprintf(stderr, "kiln: extracting the whole standard library: "
                "--stdlib-files\n");
    return mode;
}

/* Does m's C code name __file__ (an F line 0)? */
static int c_needs_files(const module_item *m)
{
    const char *p = m->scan;
    scan_entry e;

    while (next_entry(&p, &e))
        if (e.kind == 'F' && e.line == 0)
            return 1;
    return 0;
}

/* Says why t's files are needed (-v). */
static void print_reason(const top_package *t, int extract, int denied)
{
    const module_item *m = t->reason;
    const char *what = extract ? "extracting" : "not extracting";
    const char *no = denied ? ", but --no-extract says no" : "";

    if (!(m->flags & KP_MOD_EXTENSION))
        fprintf(stderr, "kiln: %s %s: %s line %d uses __file__ in a path%s\n",
                what, t->name, m->name, m->needs_files, no);
    else if (c_needs_files(m))
        fprintf(stderr, "kiln: %s %s: the C code of extension module %s "
                        "names __file__%s\n", what, t->name, m->name, no);
    else
        fprintf(stderr, "kiln: %s %s: extension module %s line %d uses "
                        "__file__ in a path (in the .py beside it)%s\n",
                what, t->name, m->name, m->needs_files, no);
}

void extract_plan(collection *c, const char *main, const vec *force,
                  const vec *never, int verbose)
{
    size_t n;
    top_package *tops = list_tops(c, &n);

    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        const char *p = m->scan;
        scan_entry e;

        if (!checked(m, main) || test_only(m) || build_script(m))
            continue;
        while (!m->needs_files && next_entry(&p, &e))
            if (e.kind == 'F' && entry_runs(&e, m, main))
                m->needs_files = e.line > 0 ? e.line : 1;
        for (size_t j = 0; m->needs_files && j < n; j++)
            if (!tops[j].reason &&
                has_top(m, tops[j].name, strlen(tops[j].name)))
                tops[j].reason = m;
    }
    for (size_t i = 0; i < n; i++) {
        const top_package *t = &tops[i];
        int forced = in_names(force, t->name);
        int denied = in_names(never, t->name);
        int extract = forced || (t->reason && !denied);

        if (verbose && t->reason)
            print_reason(t, extract, denied);
        else if (verbose && forced)
            fprintf(stderr, "kiln: extracting %s: --extract\n", t->name);
        for (size_t j = 0; extract && j < c->modules.n; j++) {
            module_item *m = c->modules.v[j];
            if (m->from != FROM_STDLIB &&
                has_top(m, t->name, strlen(t->name)))
                m->extract = 1;
        }
    }
    free_tops(tops, n);
    extract_stdlib(c, force, never, verbose);
}
