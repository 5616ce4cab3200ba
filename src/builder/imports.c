/*
 * imports.c - from the import scans, asks for the installed distributions
 * the app's imports need (imports_follow) and warns about imports that
 * resolve to nothing packed, ranked (imports_warn).
 */
#include "imports.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kpack.h"
#include "reach.h"
#include "reply.h"
#include "strbuf.h"
#include "util.h"

#define MAX_SHOWN_NAMES 15 /* lines of the warning, without -v */
#define MAX_SHOWN_IMPORTERS 3

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

/* Appends "key=name[0:len)\n" to req unless it is there. */
static void add_request(strbuf *req, const char *key, const char *name,
                        size_t len)
{
    char *line = xprintf("%s=%.*s\n", key, (int)len, name);

    if (!strbuf_has_line(req, line))
        strbuf_addstr(req, line);
    free(line);
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
        if (known &&
            !(dists = reply_lookup(known, "provider", list + from, w)))
            dists = reply_lookup(known, "module", list + from, w);
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
    const char *p = m->out.scan, *at;
    scan_entry e;

    while (scan_next(&p, &e)) {
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
    const char *p = m->out.scan;
    scan_entry e;

    while (scan_next(&p, &e)) {
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
        const char *p = m->out.scan;
        scan_entry e;

        if (!module_checked(m, main) || module_noise(m) || !is_reached(ix, m))
            continue;
        while (scan_next(&p, &e)) {
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
static void packed_metadata(const collection *c, strbuf *req)
{
    for (size_t i = 0; i < c->files.n; i++) {
        const char *rel = ((const file_item *)c->files.v[i])->relpath;
        size_t top = strcspn(rel, "/");
        if (rel[top] == '/' &&
            ((top > 10 && strncmp(rel + top - 10, ".dist-info", 10) == 0) ||
             (top > 9 && strncmp(rel + top - 9, ".egg-info", 9) == 0)))
            add_request(req, "packed", rel, top);
    }
}

/* What holds f's name, from the providers reply known: the first
   distribution, or the name itself for a module installed without
   metadata; NULL when nothing does. */
static char *holder_of(const finding *f, const char *known)
{
    char *dists = reply_lookup(known, "provider", f->name, f->len);

    if (dists) {
        dists[strcspn(dists, ",")] = '\0';
        return dists;
    }
    if ((dists = reply_lookup(known, "module", f->name, f->len))) {
        free(dists);
        return xprintf("%.*s", (int)f->len, f->name);
    }
    return NULL;
}

/* Adds "follow=HOLDER\tWHY" for f to req, once per holder; 1 when it
   does. */
static int add_follow(strbuf *req, const finding *f, const char *known)
{
    char *holder = holder_of(f, known), *line;
    int added;

    if (!holder)
        return 0;
    line = xprintf("follow=%s\t", holder);
    added = !strbuf_has_line(req, line);
    if (added)
        strbuf_addf(req, "%s%s %s\n", line,
                    f->line == 0               ? "imported by the C code of"
                    : f->guarded == GUARDED ? "an optional import of"
                                               : "imported by",
                    shown_name(f->by));
    free(line);
    free(holder);
    return added;
}

char *imports_follow(const collection *c, const char *main,
                     const char *importable, dists_fn ask, void *ctx,
                     vec *asked)
{
    strbuf req = STRBUF_INIT;
    name_index ix;
    finding *f;
    char *known, *follow = NULL;
    size_t n, wanted = 0;

    index_build(&ix, c, importable);
    reach(&ix, c, main);
    n = follow_candidates(&ix, c, main, asked, &f);
    for (size_t i = 0; i < n; i++) {
        add_request(&req, "provides", f[i].name, f[i].len);
        vec_push(asked, xprintf("%.*s", (int)f[i].len, f[i].name));
    }
    known = n ? ask(ctx, req.buf) : xstrdup("");
    strbuf_release(&req);
    packed_metadata(c, &req);
    for (size_t i = 0; i < n; i++)
        if (!needless_fallback(&ix, f[i].by, f[i].name, f[i].len, known))
            wanted += add_follow(&req, &f[i], known);
    if (wanted)
        follow = strbuf_detach(&req);
    strbuf_release(&req);
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
    if (module_noise(m) || gui_toolkit(name, len))
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
        const char *p = m->out.scan;
        scan_entry e;

        if (!module_checked(m, main))
            continue;
        while (scan_next(&p, &e)) {
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
    strbuf req = STRBUF_INIT;
    char *res;

    for (size_t i = 0; i < n; i++)
        add_request(&req, "provides", f[w[i].from].name, f[w[i].from].len);
    res = req.len && ask ? ask(ctx, req.buf) : xstrdup("");
    strbuf_release(&req);
    return res;
}

/* What to do about a missing name: the --package that packs it, checked
   (the distribution holds it), or nothing known. */
static void print_hint(const finding *f, const char *known,
                       const char *stdlib, const char *dynload)
{
    char *dists = reply_lookup(known, "provider", f->name, f->len);
    char *plain = dists ? NULL
                        : reply_lookup(known, "module", f->name, f->len);

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

