/*
 * build.c - `kiln build`, phase by phase: starts the target's compile
 * server, collects the app, its distributions and the stdlib, scans and
 * follows imports, compiles every source (one server per core), checks
 * the imports, plans extraction and writes the executable (pack.h).
 */
#include "build.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "collect.h"
#include "compile.h"
#include "dist.h"
#include "extlibs.h"
#include "extraction.h"
#include "imports.h"
#include "kpack.h"
#include "launchers.h"
#include "pack.h"
#include "pytarget.h"
#include "server.h"

#define MAX_SHOWN_ERRORS 20

/* One build: its options, the target and its compile server, the cache
   and what is collected. */
typedef struct {
    build_options *o;
    target_info t;
    kserver server;
    char *launcher, *output;
    venv_info venv;   /* when --python names a venv's python */
    char *dist_lines; /* its lines of every DISTS request */
    vec owned; /* strings of the options read from pyproject.toml */
    bytecode_cache cache;
    scan_keys keys;
    collection c;
    vec jobs;   /* module_item*: the sources, to compile */
    vec misses; /* module_item*: those the bytecode cache lacks */
    double start, last;
} build;

/* ---- the script's neighbours ------------------------------------------- */

static int app_provides(const collection *c, const char *top, size_t len)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        const module_item *m = c->modules.v[i];
        if (m->from == FROM_APP && strncmp(m->name, top, len) == 0 &&
            (m->name[len] == '\0' || m->name[len] == '.'))
            return 1;
    }
    return 0;
}

/* python3 puts a script's folder first on sys.path: pack from it what the
   script imports, and what those modules import in turn. Imports are read
   from the sources (absolute imports only; dynamic ones are not seen). */
static int collect_neighbours(kserver *s, scan_keys *k, collection *c,
                              const char *script)
{
    char *dir = dir_name(script);
    vec tops = {0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];

        if (m->from != FROM_APP || !m->disk || (m->flags & KP_MOD_EXTENSION))
            continue;
        if (module_read(m) != 0 || scan_now(s, k, m) != 0) {
            rc = -1;
            break;
        }
        scan_top_names(m->out.scan, &tops);
        for (size_t j = 0; rc == 0 && j < tops.n; j++) {
            const char *top = tops.v[j];
            if (strcmp(top, "__main__") != 0 &&
                !app_provides(c, top, strlen(top)) &&
                collect_app_entry(c, dir, top) < 0)
                rc = -1;
        }
        vec_free(&tops, free);
    }
    free(dir);
    return rc;
}

/* ---- the build ---------------------------------------------------------- */

static char *ask_dists(void *server, const char *request)
{
    return dist_ask(server, request);
}

#define MAX_FOLLOW_ROUNDS 8

/* Scans what is packed from outside the stdlib (the compile servers, or
   the cache), then packs the installed distributions that its imports
   need (imports_follow), and again for what those bring. Not with
   --site-packages, whose folders are all the app gets, nor for an
   interpreter. */
static int follow_imports(build *b)
{
    const build_options *o = b->o;
    kserver *s = &b->server;
    scan_keys *k = &b->keys;
    collection *c = &b->c;
    char *importable = target_importable(&b->t);
    vec asked = {0};
    int rc = 0;

    for (int round = 0; rc == 0; round++) {
        vec work = {0}, twins = {0};
        char *req = NULL;

        rc = scan_collect(k, c, &work, &twins);
        if (rc == 0 && work.n)
            rc = compile_all(b->launcher, s, &work, -1, b->start, o->quiet);
        scan_save(k, &work);
        scan_extensions(&twins, ask_dists, s);
        vec_free(&work, NULL);
        if (rc == 0 && round < MAX_FOLLOW_ROUNDS && !o->site_dirs.n &&
            !o->interpreter)
            req = imports_follow(c, o->module, importable, ask_dists, s,
                                 &asked);
        if (!req)
            break;
        rc = collect_followed(s, c, req, o->verbose);
        free(req);
        collection_resolve(c);
        collection_drop_builtins(c, b->t.builtins);
    }
    vec_free(&asked, free);
    free(importable);
    return rc;
}

static int check_entry(const collection *c, const build_options *o)
{
    const module_item *m;
    char *main_name;

    if (!o->module)
        return 0;
    m = collection_find(c, o->module);
    if (!m) {
        error("module '%s' not found in the --path folders or the standard "
              "library", o->module);
        for (size_t i = 0; i < o->paths.n; i++)
            fprintf(stderr, "  searched: %s\n", (char *)o->paths.v[i]);
        if (o->paths.n == 0)
            fprintf(stderr, "  hint: give the folder that holds it with "
                            "--path DIR\n");
        return -1;
    }
    if (!(m->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE)))
        return 0;
    main_name = xprintf("%s.__main__", o->module);
    m = collection_find(c, main_name);
    free(main_name);
    if (!m)
        return error("'%s' is a package with no __main__ module, so it "
                     "cannot be run with -m", o->module);
    return 0;
}

/* A previous build's output (a kiln executable) is never packed. Any other
   file there is packed if it is an input, and then the build refuses to
   overwrite it (collection_check_output). */
static void note_previous_output(collection *c, const char *output)
{
    int fd = open(output, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO */
    struct stat st;

    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        kp_fd_has_trailer(fd)) {
        c->output_dev = st.st_dev;
        c->output_ino = st.st_ino;
    }
    if (fd >= 0)
        close(fd);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *default_output(const build_options *o)
{
    if (o->interpreter)
        return xprintf("python%s", o->python);
    if (o->module)
        return xstrdup(o->module);
    if (ends_with(o->script, ".py"))
        return xprintf("%.*s", (int)(strlen(base_name(o->script)) - 3),
                       base_name(o->script));
    return xstrdup(base_name(o->script));
}

static int read_sources(collection *c, vec *jobs)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        if (!m->disk)
            continue;
        if (module_read(m) != 0)
            return -1;
        if (!(m->flags & KP_MOD_EXTENSION))
            vec_push(jobs, m);
    }
    return 0;
}

static int report_errors(const vec *jobs)
{
    size_t failed = 0;
    for (size_t i = 0; i < jobs->n; i++) {
        const module_item *m = jobs->v[i];
        if (!m->out.error)
            continue;
        if (failed++ < MAX_SHOWN_ERRORS)
            fprintf(stderr, "kiln: %s\n", m->out.error);
    }
    if (failed > MAX_SHOWN_ERRORS)
        fprintf(stderr, "kiln: ... and %zu more\n", failed - MAX_SHOWN_ERRORS);
    if (failed)
        return error("%zu file%s failed to compile; nothing was written",
                     failed, failed == 1 ? "" : "s");
    return 0;
}

static void phase(build *b, const char *what)
{
    double t = now_seconds();
    if (b->o->verbose)
        fprintf(stderr, "kiln: %-28s %7.3f s\n", what, t - b->last);
    b->last = t;
}

/* The compile server of the target o->python names (NULL: the default),
   and what it says of its Python. */
static int start_target(build *b)
{
    if (launchers_select(b->o->python, &b->server, &b->launcher,
                         &b->venv) != 0 ||
        target_query(&b->server, &b->t) != 0)
        return -1;
    if (b->venv.root) {
        /* the venv's site folder is the one of its version */
        int minor = (int)(b->t.hexversion >> 16 & 0xff);
        b->dist_lines = xprintf("venv=%s/lib/python3.%d/site-packages\n"
                                "venv-system=%d\n", b->venv.root, minor,
                                b->venv.system_site);
        b->server.dist_lines = b->dist_lines;
    }
    return 0;
}

static void stop_target(build *b)
{
    server_stop(&b->server);
    free(b->launcher);
    b->launcher = NULL;
    free(b->dist_lines);
    b->dist_lines = NULL;
    venv_info_free(&b->venv);
    target_free(&b->t);
    memset(&b->t, 0, sizeof b->t);
}

/* The target, and the options of pyproject.toml, which may name the
   target (python = ...): read with the command line's target, or with
   another launcher when that one has no tomllib (3.10). */
static int start_with_config(build *b)
{
    build_options *o = b->o;
    const char *cli = o->python;
    kserver reader = {.pid = -1};
    char *reader_launcher = NULL;
    int rc;

    if (start_target(b) != 0)
        return -1;
    if (!o->config && access("pyproject.toml", F_OK) != 0)
        return 0;
    if (b->t.hexversion >= 0x030B0000) {
        rc = options_load_config(&b->server, o, &b->owned);
    } else {
        rc = launchers_start_toml_reader(&reader, &reader_launcher);
        if (rc == 0)
            rc = options_load_config(&reader, o, &b->owned);
        server_stop(&reader);
        free(reader_launcher);
    }
    if (rc != 0 || cli || !o->python)
        return rc;
    stop_target(b); /* [tool.kiln] names another python */
    return start_target(b);
}

/* The target's compile server, the options of pyproject.toml and the
   output. 1, or 2 for a command line that names no entry or several. */
static int start(build *b)
{
    build_options *o = b->o;

    if (start_with_config(b) != 0)
        return 1;
    phase(b, "started the compile server");
    cache_open(&b->cache, o->verbose);
    scan_keys_init(&b->keys, &b->cache, b->t.hexversion, b->t.scanner);
    options_defaults(o);
    if (!!o->script + !!o->module + !!o->interpreter != 1) {
        error(o->script || o->module || o->interpreter
                  ? "give only one of a script, -m MODULE and --interpreter"
                  : "nothing to build: give a script, -m MODULE or "
                    "--interpreter (or [tool.kiln] in pyproject.toml); see "
                    "'kiln build --help'");
        return 2;
    }
    b->output = o->output ? xstrdup(o->output) : default_output(o);
    if (same_file(b->output, o->script) ||
        same_file(b->output, b->launcher)) {
        error("the output %s would overwrite an input; choose another -o",
              b->output);
        return 1;
    }
    if (same_file(b->output, o->config ? o->config : "pyproject.toml")) {
        error("the output %s would overwrite %s, the config file this build "
              "reads; nothing was written: choose another -o, or another "
              "output in [tool.kiln]", b->output,
              o->config ? o->config : "./pyproject.toml");
        return 1;
    }
    return 0;
}

/* The script, the --path folders, the script's neighbours, the
   distributions, the stdlib and its extensions. */
static int collect_all(build *b)
{
    const build_options *o = b->o;
    collection *c = &b->c;

    note_previous_output(c, b->output);
    c->hexversion = b->t.hexversion;
    vec_push(&c->extension_suffixes, xstrdup(b->t.ext_suffix));
    vec_push(&c->extension_suffixes, xstrdup(".abi3.so"));
    vec_push(&c->extension_suffixes, xstrdup(".so"));
    if (o->script && collect_script(c, o->script) != 0)
        return -1;
    for (size_t i = 0; i < o->paths.n; i++)
        if (collect_app_path(c, o->paths.v[i]) != 0)
            return -1;
    if (o->script &&
        collect_neighbours(&b->server, &b->keys, c, o->script) != 0)
        return -1;
    if (collect_dists(&b->server, c, &o->packages, &o->site_dirs,
                      o->verbose) != 0)
        return -1;
    /* A python child runs python -m venv too: ensurepip stays. */
    if (collect_stdlib(c, b->t.stdlib, target_has_tkinter(&b->t),
                       o->interpreter || o->python_child) != 0 ||
        collect_dynload(c, b->t.dynload, o->interpreter) != 0)
        return -1;
    if (target_add_lib2to3_grammars(&b->server, c, &b->t) != 0)
        return -1;
    collection_resolve(c);
    collection_drop_builtins(c, b->t.builtins);
    return 0;
}

/* Compiles the sources that the cache lacks, and scans those not scanned
   yet, on the compile servers. */
static int compile_sources(build *b)
{
    const build_options *o = b->o;
    vec work = {0};
    int rc = -1;

    for (size_t i = 0; i < b->jobs.n; i++) {
        module_item *m = b->jobs.v[i];
        if (cache_get(&b->cache, b->t.hexversion, o->optimize, m->relpath,
                      m->out.bytes, m->out.bytes_len, &m->out.code,
                      &m->out.code_len) != 0)
            vec_push(&b->misses, m);
    }
    scan_plan(&b->keys, &b->jobs, &b->misses, &work);
    phase(b, "looked up the bytecode cache");
    if (work.n && compile_all(b->launcher, &b->server, &work, o->optimize,
                              b->start, o->quiet) != 0)
        goto done;
    if (report_errors(&b->jobs) != 0)
        goto done;
    for (size_t i = 0; i < b->misses.n; i++) {
        module_item *m = b->misses.v[i];
        cache_put(&b->cache, b->t.hexversion, o->optimize, m->relpath,
                  m->out.bytes, m->out.bytes_len, m->out.code,
                  m->out.code_len);
    }
    if (o->verbose)
        fprintf(stderr, "kiln: %zu of %zu modules compiled, the rest from "
                        "the cache\n"
                        "kiln: %zu modules scanned for imports, the others "
                        "from the cache\n", b->misses.n, b->jobs.n,
                b->keys.scanned);
    scan_save(&b->keys, &b->jobs);
    rc = 0;
done:
    vec_free(&work, NULL);
    return rc;
}

/* Warns about imports that resolve to nothing packed, and plans what is
   extracted at run time. */
static void check_imports(build *b)
{
    build_options *o = b->o;
    char *importable = target_importable(&b->t);

    imports_warn(&b->c, o->module, importable, b->t.stdlib, b->t.dynload,
                 o->verbose, ask_dists, &b->server);
    free(importable);
    extract_plan(&b->c, o->module, &o->extract, &o->no_extract, o->verbose);
    o->stdlib_files = stdlib_files_plan(&b->c, o->stdlib_files, o->verbose);
    if (!o->quiet)
        extract_note(&b->c);
}

static int write_output(build *b)
{
    uint64_t payload_len = 0;
    size_t n_files = 0, n_ext = 0;

    if (pack_write(b->output, b->launcher, &b->c, b->o, &b->t, &payload_len,
                   &n_files) != 0)
        return -1;
    phase(b, "packed and wrote the output");
    for (size_t i = 0; i < b->c.modules.n; i++) {
        const module_item *m = b->c.modules.v[i];
        n_ext += (m->flags & KP_MOD_EXTENSION) != 0;
    }
    if (!b->o->quiet)
        fprintf(stderr, "kiln: wrote %s: CPython %s, %zu modules (%zu "
                        "extensions), %zu files, %.1f MB payload, in %.2f s\n",
                b->output, b->t.version, b->c.modules.n, n_ext, n_files,
                (double)payload_len / 1e6, now_seconds() - b->start);
    return 0;
}

int kiln_build(build_options *o)
{
    build b = {.o = o, .server = {.pid = -1}};
    int rc;

    b.start = b.last = now_seconds();
    rc = start(&b);
    if (rc != 0)
        goto done;
    rc = 1;
    if (collect_all(&b) != 0)
        goto done;
    phase(&b, "collected");
    if (follow_imports(&b) != 0 ||
        collection_place_script(&b.c) != 0)
        goto done;
    phase(&b, "scanned and followed imports");
    if (check_entry(&b.c, o) != 0 ||
        extract_check(&b.c, &o->extract, &o->no_extract,
                      o->extract_origin) ||
        read_sources(&b.c, &b.jobs) != 0)
        goto done;
    phase(&b, "read the sources");
    if (extlibs_bundle(&b.c, o->verbose) != 0 ||
        collection_check_output(&b.c, b.output) != 0)
        goto done;
    phase(&b, "found bundled libraries");
    if (compile_sources(&b) != 0)
        goto done;
    phase(&b, "compiled");
    check_imports(&b);
    phase(&b, "checked the imports");
    if (write_output(&b) != 0)
        goto done;
    rc = 0;
done:
    stop_target(&b);
    free(b.output);
    vec_free(&b.jobs, NULL);
    vec_free(&b.misses, NULL);
    scan_keys_free(&b.keys);
    vec_free(&b.owned, free);
    cache_close(&b.cache);
    collection_free(&b.c);
    return rc;
}
