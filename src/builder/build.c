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
#include "pack.h"
#include "pytarget.h"
#include "server.h"

#define MAX_SHOWN_ERRORS 20

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
static int follow_imports(kserver *s, scan_keys *k, collection *c,
                          const build_options *o, const target_info *t,
                          const char *launcher, double start)
{
    char *importable = target_importable(t);
    vec asked = {0};
    int rc = 0;

    for (int round = 0; rc == 0; round++) {
        vec work = {0}, twins = {0};
        char *req = NULL;

        rc = scan_collect(k, c, &work, &twins);
        if (rc == 0 && work.n)
            rc = compile_all(launcher, s, &work, -1, start, o->quiet);
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
        collection_drop_builtins(c, t->builtins);
    }
    vec_free(&asked, free);
    free(importable);
    return rc;
}

static void phase(const build_options *o, double *last, const char *what)
{
    double t = now_seconds();
    if (o->verbose)
        fprintf(stderr, "kiln: %-28s %7.3f s\n", what, t - *last);
    *last = t;
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

int kiln_build(build_options *o)
{
    double start = now_seconds(), last = start;
    vec owned = {0}, jobs = {0}, misses = {0}, work = {0};
    bytecode_cache cache = {0};
    scan_keys keys = {0};
    collection c = {0};
    target_info t = {0};
    kserver server = {.pid = -1};
    char *launcher = NULL, *output = NULL;
    uint64_t payload_len = 0;
    size_t n_files = 0, n_ext = 0;
    int rc = 1;

    if (target_start(o->python, &server, &launcher, &t) != 0 ||
        options_load_config(&server, o, &owned) != 0)
        goto done;
    phase(o, &last, "started the compile server");
    cache_open(&cache, o->verbose);
    scan_keys_init(&keys, &cache, t.hexversion, t.scanner);
    options_defaults(o);
    if (!!o->script + !!o->module + !!o->interpreter != 1) {
        error(o->script || o->module || o->interpreter
                  ? "give only one of a script, -m MODULE and --interpreter"
                  : "nothing to build: give a script, -m MODULE or "
                    "--interpreter (or [tool.kiln] in pyproject.toml); see "
                    "'kiln build --help'");
        rc = 2;
        goto done;
    }
    output = o->output ? xstrdup(o->output) : default_output(o);
    if (same_file(output, o->script) || same_file(output, launcher)) {
        error("the output %s would overwrite an input; choose another -o",
              output);
        goto done;
    }
    if (same_file(output, o->config ? o->config : "pyproject.toml")) {
        error("the output %s would overwrite %s, the config file this build "
              "reads; nothing was written: choose another -o, or another "
              "output in [tool.kiln]", output,
              o->config ? o->config : "./pyproject.toml");
        goto done;
    }
    note_previous_output(&c, output);
    vec_push(&c.extension_suffixes, xstrdup(t.ext_suffix));
    vec_push(&c.extension_suffixes, xstrdup(".abi3.so"));
    vec_push(&c.extension_suffixes, xstrdup(".so"));
    if (o->script && collect_script(&c, o->script) != 0)
        goto done;
    for (size_t i = 0; i < o->paths.n; i++)
        if (collect_app_path(&c, o->paths.v[i]) != 0)
            goto done;
    if (o->script && collect_neighbours(&server, &keys, &c, o->script) != 0)
        goto done;
    if (collect_dists(&server, &c, &o->packages, &o->site_dirs,
                      o->verbose) != 0)
        goto done;
    /* A python child runs python -m venv too: ensurepip stays. */
    if (collect_stdlib(&c, t.stdlib, target_has_tkinter(&t),
                       o->interpreter || o->python_child) != 0 ||
        collect_dynload(&c, t.dynload, o->interpreter) != 0)
        goto done;
    if (target_add_lib2to3_grammars(&server, &c, &t) != 0)
        goto done;
    collection_resolve(&c);
    collection_drop_builtins(&c, t.builtins);
    phase(o, &last, "collected");
    if (follow_imports(&server, &keys, &c, o, &t, launcher, start) != 0 ||
        collection_place_script(&c) != 0)
        goto done;
    phase(o, &last, "scanned and followed imports");
    if (check_entry(&c, o) != 0 ||
        extract_check(&c, &o->extract, &o->no_extract, o->extract_origin) ||
        read_sources(&c, &jobs) != 0)
        goto done;
    phase(o, &last, "read the sources");
    if (extlibs_bundle(&c, o->verbose) != 0 ||
        collection_check_output(&c, output) != 0)
        goto done;
    phase(o, &last, "found bundled libraries");
    for (size_t i = 0; i < jobs.n; i++) {
        module_item *m = jobs.v[i];
        if (cache_get(&cache, t.hexversion, o->optimize, m->relpath,
                      m->out.bytes, m->out.bytes_len, &m->out.code,
                      &m->out.code_len) != 0)
            vec_push(&misses, m);
    }
    scan_plan(&keys, &jobs, &misses, &work);
    phase(o, &last, "looked up the bytecode cache");
    if (work.n && compile_all(launcher, &server, &work, o->optimize, start,
                              o->quiet) != 0)
        goto done;
    if (report_errors(&jobs) != 0)
        goto done;
    for (size_t i = 0; i < misses.n; i++) {
        module_item *m = misses.v[i];
        cache_put(&cache, t.hexversion, o->optimize, m->relpath, m->out.bytes,
                  m->out.bytes_len, m->out.code, m->out.code_len);
    }
    if (o->verbose)
        fprintf(stderr, "kiln: %zu of %zu modules compiled, the rest from "
                        "the cache\n"
                        "kiln: %zu modules scanned for imports, the others "
                        "from the cache\n", misses.n, jobs.n, keys.scanned);
    scan_save(&keys, &jobs);
    phase(o, &last, "compiled");
    {
        char *importable = target_importable(&t);
        imports_warn(&c, o->module, importable, t.stdlib, t.dynload,
                     o->verbose, ask_dists, &server);
        free(importable);
    }
    extract_plan(&c, o->module, &o->extract, &o->no_extract, o->verbose);
    o->stdlib_files = stdlib_files_plan(&c, o->stdlib_files, o->verbose);
    if (!o->quiet)
        extract_note(&c);
    phase(o, &last, "checked the imports");
    if (pack_write(output, launcher, &c, o, &t, &payload_len,
                   &n_files) != 0)
        goto done;
    phase(o, &last, "packed and wrote the output");
    for (size_t i = 0; i < c.modules.n; i++) {
        const module_item *m = c.modules.v[i];
        n_ext += (m->flags & KP_MOD_EXTENSION) != 0;
    }
    if (!o->quiet)
        fprintf(stderr, "kiln: wrote %s: CPython %s, %zu modules (%zu "
                        "extensions), %zu files, %.1f MB payload, in %.2f s\n",
                output, t.version, c.modules.n, n_ext, n_files,
                (double)payload_len / 1e6, now_seconds() - start);
    rc = 0;
done:
    server_stop(&server);
    free(output);
    free(launcher);
    vec_free(&jobs, NULL);
    vec_free(&misses, NULL);
    vec_free(&work, NULL);
    scan_keys_free(&keys);
    vec_free(&owned, free);
    cache_close(&cache);
    collection_free(&c);
    target_free(&t);
    return rc;
}
