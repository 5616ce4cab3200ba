/*
 * reach.c - the index of packed names and what the app reaches (reach.h).
 */
#include "reach.h"

#include <stdlib.h>
#include <string.h>

#include "kpack.h"
#include "util.h"

/* ---- what is packed ----------------------------------------------------- */

static int packed_name_cmp(const void *a, const void *b)
{
    return strcmp(((const packed_name *)a)->name,
                  ((const packed_name *)b)->name);
}

/* The packed name that equals the first len bytes of name, or NULL. */
packed_name *index_find(const name_index *ix, const char *name,
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
        const char *p = m->out.scan;
        packed_name *pkg;
        scan_entry e;
        int hook = 0;

        while (!hook && (m->flags & KP_MOD_PACKAGE) && scan_next(&p, &e))
            hook = e.kind == 'H';
        if (hook && (pkg = index_find(ix, m->name, strlen(m->name))))
            pkg->hooked = 1;
    }
}

void index_build(name_index *ix, const collection *c,
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

void index_free(name_index *ix)
{
    free(ix->v);
    vec_free(&ix->owned, free);
}

int is_package(const packed_name *p)
{
    return p->m && (p->m->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE));
}

/* How many bytes of e's name resolve to nothing packed: 0 when it
   resolves. `import a.b.c` needs a, a.b and a.b.c; below a plain module
   (os.path) or a package with an import hook names are the module's
   business. X.a of `from X import a` is a submodule or an attribute, so
   it needs to be packed only when X is a namespace package, which has no
   attributes of its own. */
size_t unresolved_length(const name_index *ix, const scan_entry *e)
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
scan_entry import_of(const char *name, size_t len)
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
    if (!script->out.bytes || strlen((const char *)script->out.bytes) !=
                              script->out.bytes_len)
        return 0;
    quoted = xprintf("'%.*s'", (int)len, name);
    found = strstr((const char *)script->out.bytes, quoted) != NULL;
    quoted[0] = quoted[len + 1] = '"';
    found = found || strstr((const char *)script->out.bytes, quoted) != NULL;
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
    const char *p = m->out.scan;
    scan_entry e;

    while (scan_next(&p, &e))
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
void reach(name_index *ix, const collection *c, const char *main)
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

int is_reached(const name_index *ix, const module_item *m)
{
    const packed_name *p = index_find(ix, m->name, strlen(m->name));
    return p && p->reached;
}

