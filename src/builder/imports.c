/*
 * imports.c - reads the compile server's import scans (format in
 * src/launcher/py/server_scan.py), warns about imports that resolve to
 * nothing packed and decides which top-level packages are extracted to
 * disk at run time because they read files beside their __file__.
 */
#include "imports.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

enum { UNGUARDED = 0, GUARDED = 1, MAIN_ONLY = 2 };

typedef struct {
    char kind;   /* 'I', 'A', 'F' or 'H' (see server_scan.py) */
    int guarded; /* UNGUARDED, GUARDED or MAIN_ONLY */
    int line;
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

        *p = *end ? end + 1 : end;
        e->kind = line[0];
        if (!strchr("IAFH", e->kind) || line[1] != ' ')
            continue;
        e->guarded = (int)strtol(line + 2, &q, 10);
        if (*q != ' ')
            continue;
        e->line = (int)strtol(q + 1, &q, 10);
        e->name = q + (*q == ' ');
        e->len = (size_t)(end - e->name);
        if ((e->kind == 'I' || e->kind == 'A') == (e->len > 0))
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
        if (e.kind == 'F' || e.kind == 'H' || len == 0)
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

/* Is m checked? A library's own tests (modules inside a package named
   test or tests, or test_*), the __main__ modules of packages that the
   app does not run, and files that no import statement can name
   (pip/__pip-runner__.py) are not part of the app. */
static int checked(const module_item *m, const char *main)
{
    if (m->from == FROM_STDLIB || strchr(m->name, '-'))
        return 0;
    if (is_main(m, main))
        return 1;
    for (const char *part = strchr(m->name, '.'); part;
         part = strchr(part, '.')) {
        size_t len = strcspn(++part, ".");
        if ((len == 4 && strncmp(part, "test", 4) == 0) ||
            (len == 5 && strncmp(part, "tests", 5) == 0) ||
            (len == 8 && strncmp(part, "__main__", 8) == 0) ||
            strncmp(part, "test_", 5) == 0)
            return 0;
    }
    return 1;
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

/* ---- what is packed ----------------------------------------------------- */

typedef struct {
    const char *name;
    const module_item *m; /* NULL: built into the target */
    int hooked; /* a package with an import hook: names below are its own */
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
        ix->v[ix->n++] = (packed_name){m->name, m, 0};
    }
    /* __main__ is always in sys.modules, whatever runs. */
    ix->v[ix->n++] = (packed_name){"__main__", NULL, 0};
    for (const char *p = builtins; *p;) {
        size_t len = strcspn(p, ",");
        if (len) {
            char *name = xprintf("%.*s", (int)len, p);
            vec_push(&ix->owned, name);
            ix->v[ix->n++] = (packed_name){name, NULL, 0};
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
    const packed_name *p;

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
        end += strcspn(e->name + end, ".\n");
        if (end > e->len)
            end = e->len;
        p = index_find(ix, e->name, end);
        if (!p)
            return end;
        if (p->hooked || !is_package(p) || end == e->len)
            return 0;
    }
}

/* ---- the warning -------------------------------------------------------- */

/* Modules of other platforms: code that imports them runs only there, so
   they are never named (Windows' and macOS's stdlib, pywin32, PyPy). */
static int other_platform(const char *name, size_t len)
{
    static const char *const names[] = {
        "winreg", "_winreg", "msvcrt", "_winapi", "nt", "winsound",
        "_overlapped", "msilib", "_msi", "_scproxy", "__pypy__", "win32api",
        "win32con", "win32file", "win32event", "win32pipe", "win32process",
        "win32security", "pywintypes", "pythoncom", "win32com", NULL};
    size_t top = strcspn(name, ".\n");

    if (top > len)
        top = len;
    for (const char *const *n = names; *n; n++)
        if (strlen(*n) == top && strncmp(*n, name, top) == 0)
            return 1;
    return 0;
}

typedef struct {
    const char *name; /* inside a scan, len bytes */
    size_t len;
    const module_item *by;
    int line;
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

/* Prints the importers of f[0..n), which all name the same import. */
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
        if (verbose)
            fprintf(stderr, ":%d", f[i].line);
        shown++;
    }
    if (total > shown)
        fprintf(stderr, " and %zu more", total - shown);
}

/* Asks providers about the missing names of f (the server answers for
   top-level names, and for parts of namespace packages named like their
   distribution). */
static char *ask_providers(const finding *f, size_t n, providers_fn providers,
                           void *ctx)
{
    char *names = xstrdup(""), *tmp, *res;

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && name_cmp(&f[i], &f[i - 1]) == 0)
            continue;
        tmp = xprintf("%s%.*s\n", names, (int)f[i].len, f[i].name);
        free(names);
        names = tmp;
    }
    res = *names && providers ? providers(ctx, names) : xstrdup("");
    free(names);
    return res;
}

/* The distributions providers named for f's name, or NULL. */
static char *provider_of(const char *known, const finding *f)
{
    for (const char *line = known; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > f->len && memcmp(line, f->name, f->len) == 0 &&
            line[f->len] == '\t')
            return xprintf("%.*s", (int)(len - f->len - 1),
                           line + f->len + 1);
        line += len + (end != NULL);
    }
    return NULL;
}

void imports_warn(const collection *c, const char *main,
                  const char *builtins, const char *stdlib,
                  const char *dynload, int verbose, providers_fn providers,
                  void *ctx)
{
    name_index ix;
    finding *f = NULL;
    size_t n = 0, cap = 0, names = 0, shown = 0;
    char *known, *dists;

    index_build(&ix, c, builtins);
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        const char *p = m->scan;
        scan_entry e;

        if (!checked(m, main))
            continue;
        while (next_entry(&p, &e)) {
            size_t len;
            if ((e.kind != 'I' && e.kind != 'A') ||
                !entry_runs(&e, m, main) ||
                (len = unresolved_length(&ix, &e)) == 0 ||
                other_platform(e.name, len))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                f = xrealloc(f, cap * sizeof *f);
            }
            f[n++] = (finding){e.name, len, m, e.line};
        }
    }
    index_free(&ix);
    if (n == 0)
        return;
    qsort(f, n, sizeof *f, finding_cmp);
    for (size_t i = 0; i < n; i++)
        names += i == 0 || name_cmp(&f[i], &f[i - 1]) != 0;
    known = ask_providers(f, n, providers, ctx);
    warning("%zu import%s resolve%s to nothing packed:", names,
            names == 1 ? "" : "s", names == 1 ? "s" : "");
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && name_cmp(&f[j], &f[i]) == 0; j++)
            ;
        if (!verbose && names > MAX_SHOWN_NAMES &&
            shown == MAX_SHOWN_NAMES - 1)
            break;
        fprintf(stderr, "  %.*s (imported by ", (int)f[i].len, f[i].name);
        print_importers(f + i, j - i, verbose);
        dists = provider_of(known, &f[i]);
        if (left_out_of_stdlib(stdlib, dynload, f[i].name, f[i].len))
            fprintf(stderr, "): left out of the packed standard library\n");
        else if (dists)
            fprintf(stderr, "): %s install%s it; add --package %.*s\n",
                    dists, strchr(dists, ',') ? "" : "s",
                    (int)strcspn(dists, ","), dists);
        else
            fprintf(stderr, ")\n");
        free(dists);
        shown++;
    }
    if (shown < names)
        fprintf(stderr, "  ... and %zu more (kiln build -v lists all)\n",
                names - shown);
    free(known);
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

        if (!in_names(other, name) && find_top(tops, n, name))
            continue;
        where = origin ? xprintf("%s %s", origin, key)
                       : xprintf("--%s %s", key, name);
        if (in_names(other, name)) {
            error("%s: '%s' is given to both --extract and --no-extract",
                  where, name);
        } else if (stdlib_top(c, name)) {
            error("%s: '%s' is in the standard library, which is not "
                  "extracted on request (kiln extracts the part that needs "
                  "files, venv, by itself)", where, name);
        } else {
            error("%s: nothing packed outside the standard library has the "
                  "top-level name '%s'", where, name);
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

static void extract_stdlib(collection *c, int verbose)
{
    for (size_t i = 0; i < sizeof stdlib_reads_files / sizeof *stdlib_reads_files; i++) {
        const char *top = stdlib_reads_files[i];
        int packed = 0;
        for (size_t j = 0; j < c->modules.n; j++) {
            module_item *m = c->modules.v[j];
            if (m->from == FROM_STDLIB && has_top(m, top, strlen(top)))
                packed = m->extract = 1;
        }
        if (verbose && packed)
            fprintf(stderr, "kiln: extracting %s: the standard library's %s "
                            "reads its data files from disk\n", top, top);
    }
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

        if (!checked(m, main))
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
            fprintf(stderr, "kiln: %s %s: %s line %d uses __file__ in a "
                            "path%s\n",
                    extract ? "extracting" : "not extracting", t->name,
                    t->reason->name, t->reason->needs_files,
                    denied ? ", but --no-extract says no" : "");
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
    extract_stdlib(c, verbose);
}
