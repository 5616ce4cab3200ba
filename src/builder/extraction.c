/*
 * extraction.c - plans what is extracted to disk at run time
 * (extraction.h).
 */
#include "extraction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpack.h"
#include "scan.h"
#include "util.h"

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
   __file__: venv copies its activate scripts from venv/scripts; from 3.13
   on, ensurepip (packed by interpreters only) takes pip's version and
   wheel from the name of its bundled file, which importlib.resources.
   as_file() changes for a packed one. The stdlib is not scanned (tests
   and __main__ code would flag much of it), so they are named here. */
static const struct {
    const char *top;
    uint32_t since; /* the first CPython that needs it */
} stdlib_reads_files[] = {{"venv", 0}, {"ensurepip", 0x030D0000}};

/* Marks the stdlib's top-level package or module top for extraction; 1
   when it is packed. */
static int extract_stdlib_top(collection *c, const char *top)
{
    int packed = 0;

    for (size_t j = 0; j < c->modules.n; j++) {
        module_item *m = c->modules.v[j];
        if (m->from == FROM_STDLIB && has_top(m, top, strlen(top)))
            packed = m->out.extract = 1;
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
        const char *top = stdlib_reads_files[i].top;
        if (c->hexversion < stdlib_reads_files[i].since)
            continue;
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
        if (m->from != FROM_APP || !m->out.extract || !m->out.needs_files ||
            strcmp(m->name, "__main__") == 0 ||
            (seen && has_top(m, seen, len)))
            continue;
        seen = m->name;
        len = top_len(m->name);
        fprintf(stderr, "kiln: note: the app's package %.*s gets real files "
                "at run time, as %s line %d uses __file__ in a path: they "
                "are a read-only copy in kiln's extract cache, so what it "
                "writes beside __file__ (a database, a log) fails there, "
                "where python3 would write beside its source; give such "
                "files a path of their own\n", (int)len, m->name, m->name,
                m->out.needs_files);
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
            m->out.extract = 1;
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
    const char *p = m->out.scan;
    scan_entry e;

    while (scan_next(&p, &e))
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
                what, t->name, m->name, m->out.needs_files, no);
    else if (c_needs_files(m))
        fprintf(stderr, "kiln: %s %s: the C code of extension module %s "
                        "names __file__%s\n", what, t->name, m->name, no);
    else
        fprintf(stderr, "kiln: %s %s: extension module %s line %d uses "
                        "__file__ in a path (in the .py beside it)%s\n",
                what, t->name, m->name, m->out.needs_files, no);
}

void extract_plan(collection *c, const char *main, const vec *force,
                  const vec *never, int verbose)
{
    size_t n;
    top_package *tops = list_tops(c, &n);

    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        const char *p = m->out.scan;
        scan_entry e;

        if (!module_checked(m, main) || module_test_only(m) ||
            module_build_script(m))
            continue;
        while (!m->out.needs_files && scan_next(&p, &e))
            if (e.kind == 'F' && entry_runs(&e, m, main))
                m->out.needs_files = e.line > 0 ? e.line : 1;
        for (size_t j = 0; m->out.needs_files && j < n; j++)
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
                m->out.extract = 1;
        }
    }
    free_tops(tops, n);
    extract_stdlib(c, force, never, verbose);
}

