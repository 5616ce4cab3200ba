/*
 * build.c - `kiln build`. Finds the launcher of the target CPython, asks it
 * about its stdlib, collects the app and the stdlib, compiles every source
 * through the launcher's compile server (one per core), packs the result
 * with kpack and writes launcher + payload + trailer atomically, blobs
 * streamed to the output as they are packed.
 */
#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "fdio.h"
#include "imports.h"
#include "kpack.h"
#include "server.h"

#define MAX_SHOWN_ERRORS 20

typedef struct {
    char *version, *stdlib, *dynload, *ext_suffix, *builtins, *scanner;
    char *frozen; /* frozen modules, importable without being packed */
    uint32_t hexversion, magic;
} target_info;

/* ---- the launcher ------------------------------------------------------- */

char *find_launcher(const char *python, vec *tried)
{
    char self[4096], *dir;
    const char *env = getenv("KILN_LAUNCHER_DIR");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (env && *env)
        vec_push(tried, xprintf("%s/kiln-launcher-%s", env, python));
    if (n > 0) {
        self[n] = '\0';
        dir = dir_name(self);
        vec_push(tried, xprintf("%s/../lib/kiln/kiln-launcher-%s", dir,
                                python));
        vec_push(tried, xprintf("%s/kiln-launcher-%s", dir, python));
        free(dir);
    }
    for (size_t i = 0; i < tried->n; i++)
        if (access(tried->v[i], X_OK) == 0)
            return xstrdup(tried->v[i]);
    return NULL;
}

static const char *info_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=')
            return line + klen + 1;
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return NULL;
}

static char *info_string(const char *text, const char *key)
{
    const char *v = info_value(text, key);
    return v ? xprintf("%.*s", (int)strcspn(v, "\n"), v) : NULL;
}

static int query_target(kserver *s, target_info *t)
{
    uint32_t status;
    uint8_t *out;
    size_t len;
    char *magic;
    unsigned bytes[4];

    if (server_call(s, KC_OP_INFO, 0, "info", "", 0, &status, &out, &len))
        return -1;
    if (status != KC_OK) {
        error("the launcher %s cannot describe its Python: %s", s->launcher,
              (char *)out);
        free(out);
        return -1;
    }
    t->version = info_string((char *)out, "version");
    t->stdlib = info_string((char *)out, "stdlib");
    t->dynload = info_string((char *)out, "dynload");
    t->ext_suffix = info_string((char *)out, "ext_suffix");
    t->builtins = info_string((char *)out, "builtins");
    t->frozen = info_string((char *)out, "frozen");
    t->scanner = info_string((char *)out, "scanner");
    magic = info_string((char *)out, "magic");
    t->hexversion = (uint32_t)strtoul(
        info_value((char *)out, "hexversion") ? info_value((char *)out,
                                                           "hexversion")
                                              : "0",
        NULL, 10);
    free(out);
    if (!t->version || !t->stdlib || !t->dynload || !t->ext_suffix ||
        !t->builtins || !t->scanner ||
        !magic || sscanf(magic, "%2x%2x%2x%2x", &bytes[0], &bytes[1],
                         &bytes[2], &bytes[3]) != 4) {
        free(magic);
        return error("the launcher %s gave an incomplete description of "
                     "its Python", s->launcher);
    }
    t->magic = bytes[0] | bytes[1] << 8 | bytes[2] << 16 |
               (uint32_t)bytes[3] << 24;
    free(magic);
    return 0;
}

static void target_free(target_info *t)
{
    free(t->version);
    free(t->stdlib);
    free(t->dynload);
    free(t->ext_suffix);
    free(t->builtins);
    free(t->frozen);
    free(t->scanner);
}

/* ---- pyproject.toml ----------------------------------------------------- */

static const char *keep(vec *owned, char *s)
{
    vec_push(owned, s);
    return s;
}

/* A path from pyproject.toml, relative to the file's folder. */
static const char *config_path(vec *owned, const char *dir, const char *v)
{
    return keep(owned, v[0] == '/' ? xstrdup(v) : xprintf("%s/%s", dir, v));
}

/* Merges [tool.kiln] into the options that the command line left unset.
   Relative paths are taken from the folder of pyproject.toml. */
static int load_config(kserver *s, build_options *o, vec *owned)
{
    const char *path = o->config ? o->config : "pyproject.toml";
    int from_cli = o->script || o->module || o->interpreter;
    int cli_paths = o->paths.n > 0, cli_packages = o->packages.n > 0;
    int cli_sites = o->site_dirs.n > 0;
    int cli_extract = o->extract.n || o->no_extract.n;
    uint32_t status;
    uint8_t *out;
    size_t len;
    char *dir, *line, *save = NULL;

    if (!o->config && access(path, F_OK) != 0)
        return 0;
    if (server_call(s, KC_OP_TOML, 0, path, "", 0, &status, &out, &len))
        return -1;
    if (status != KC_OK) {
        error("%s", (char *)out);
        free(out);
        return -1;
    }
    dir = dir_name(path);
    for (line = strtok_r((char *)out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        const char *key = line, *value;
        if (!eq)
            continue;
        *eq = '\0';
        value = eq + 1;
        if (strcmp(key, "script") == 0 && !from_cli)
            o->script = config_path(owned, dir, value);
        else if (strcmp(key, "module") == 0 && !from_cli)
            o->module = keep(owned, xstrdup(value));
        else if (strcmp(key, "interpreter") == 0 && !from_cli)
            o->interpreter = strcmp(value, "true") == 0;
        else if (strcmp(key, "path") == 0 && !cli_paths)
            vec_push(&o->paths, (void *)config_path(owned, dir, value));
        else if (strcmp(key, "packages") == 0 && !cli_packages)
            vec_push(&o->packages, (void *)keep(owned, xstrdup(value)));
        else if (strcmp(key, "site-packages") == 0 && !cli_sites)
            vec_push(&o->site_dirs, (void *)config_path(owned, dir, value));
        else if ((strcmp(key, "extract") == 0 ||
                  strcmp(key, "no-extract") == 0) && !cli_extract) {
            vec_push(key[0] == 'e' ? &o->extract : &o->no_extract,
                     (void *)keep(owned, xstrdup(value)));
            o->extract_origin = keep(owned, xprintf("%s [tool.kiln]", path));
        }
        else if (strcmp(key, "output") == 0 && !o->output)
            o->output = config_path(owned, dir, value);
        else if (strcmp(key, "source") == 0 && o->source < 0)
            o->source = strcmp(value, "true") == 0;
        else if (strcmp(key, "gc-freeze") == 0 && o->gc_freeze < 0)
            o->gc_freeze = strcmp(value, "true") == 0;
        else if (strcmp(key, "python-child") == 0 && o->python_child < 0)
            o->python_child = strcmp(value, "true") == 0;
        else if (strcmp(key, "unbuffered") == 0 && o->unbuffered < 0)
            o->unbuffered = strcmp(value, "true") == 0;
        else if (strcmp(key, "stdlib-files") == 0 && o->stdlib_files < 0)
            o->stdlib_files = strcmp(value, "true") == 0;
        else if (strcmp(key, "optimize") == 0 && o->optimize < 0) {
            o->optimize = atoi(value);
            if (o->optimize < 0 || o->optimize > 2) {
                free(dir);
                free(out);
                return error("%s: [tool.kiln] optimize must be 0, 1 or 2",
                             path);
            }
        }
    }
    free(dir);
    free(out);
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* The output, written in place: a temporary file in the output's folder
   (launcher, padding, payload streamed by the writer, trailer), renamed
   over the output at the end and removed on any failure. */
typedef struct {
    char *tmp;
    int fd;
    uint64_t payload_at; /* page aligned, after the launcher */
} out_file;

#define COPY_CHUNK (1u << 20)

/* The temporary file, for a signal that ends the build while it exists:
   SIGINT, SIGTERM and SIGHUP (unless ignored) remove it, then take their
   usual course. */
#define N_CLEANUP_SIGNALS 3
static const int cleanup_signals[N_CLEANUP_SIGNALS] = {SIGINT, SIGTERM,
                                                       SIGHUP};
static struct sigaction saved[N_CLEANUP_SIGNALS];
static const char *volatile pending_tmp;

static void remove_pending(int sig)
{
    if (pending_tmp)
        unlink(pending_tmp);
    for (int i = 0; i < N_CLEANUP_SIGNALS; i++)
        if (cleanup_signals[i] == sig)
            sigaction(sig, &saved[i], NULL);
    raise(sig);
}

/* Removes path on those signals from now on; NULL: no more. */
static void set_pending(const char *path)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = remove_pending;
    sigemptyset(&sa.sa_mask);
    if (path)
        pending_tmp = path;
    for (int i = 0; i < N_CLEANUP_SIGNALS; i++) {
        if (!path)
            sigaction(cleanup_signals[i], &saved[i], NULL);
        else if (sigaction(cleanup_signals[i], &sa, &saved[i]) == 0 &&
                 saved[i].sa_handler == SIG_IGN)
            sigaction(cleanup_signals[i], &saved[i], NULL); /* nohup */
    }
    if (!path)
        pending_tmp = NULL;
}

/* Appends the launcher to fd, in chunks; its size in *len. */
static int copy_launcher(int fd, const char *launcher, const char *tmp,
                         uint8_t *buf, uint64_t *len)
{
    int in = open(launcher, O_RDONLY | O_CLOEXEC), rc = -1;
    ssize_t n;

    *len = 0;
    if (in < 0)
        return error("cannot read the launcher %s: %s", launcher,
                     strerror(errno));
    while ((n = read(in, buf, COPY_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error("cannot read the launcher %s at offset %llu: %s", launcher,
                  (unsigned long long)*len, strerror(errno));
            goto done;
        }
        if (fd_write_full(fd, buf, (size_t)n) != 0) {
            error("cannot write %s at offset %llu: %s", tmp,
                  (unsigned long long)*len, strerror(errno));
            goto done;
        }
        *len += (uint64_t)n;
    }
    rc = 0;
done:
    close(in);
    return rc;
}

static int output_open(out_file *f, const char *output, const char *launcher,
                       uint8_t *buf)
{
    static const uint8_t zeros[4096];
    char *dir = dir_name(output);
    uint64_t len;
    size_t pad;
    int rc = -1;

    f->tmp = xprintf("%s/.%s.kiln-XXXXXX", dir, base_name(output));
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        error("cannot create the output in %s: %s", dir, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        goto done;
    }
    set_pending(f->tmp);
    if (copy_launcher(f->fd, launcher, f->tmp, buf, &len) != 0)
        goto done;
    pad = (size_t)((4096 - len % 4096) % 4096);
    if (fd_write_full(f->fd, zeros, pad) != 0) {
        error("cannot write %s at offset %llu: %s", f->tmp,
              (unsigned long long)len, strerror(errno));
        goto done;
    }
    f->payload_at = len + pad;
    rc = 0;
done:
    free(dir);
    return rc;
}

/* The trailer after the payload, then the file takes the output's name. */
static int output_commit(out_file *f, const char *output, uint64_t size)
{
    uint8_t trailer[KP_TRAILER_SIZE];
    mode_t mask = umask(0);
    int fd = f->fd;

    umask(mask);
    kp_trailer_write(trailer, f->payload_at, size);
    f->fd = -1;
    if (lseek(fd, (off_t)(f->payload_at + size), SEEK_SET) < 0 ||
        fd_write_full(fd, trailer, sizeof trailer) != 0 ||
        fchmod(fd, 0777 & ~mask) != 0) {
        error("cannot write %s: %s", f->tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) != 0)
        return error("cannot write %s: %s", f->tmp, strerror(errno));
    if (rename(f->tmp, output) != 0)
        return error("cannot rename %s to %s: %s", f->tmp, output,
                     strerror(errno));
    set_pending(NULL);
    free(f->tmp);
    f->tmp = NULL;
    return 0;
}

/* After a failure: no temporary file is left behind. */
static void output_abort(out_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp) {
        unlink(f->tmp);
        set_pending(NULL);
    }
    free(f->tmp);
    f->tmp = NULL;
}

/* ---- packing ------------------------------------------------------------ */

typedef struct {
    const char *relpath;
    kp_blob blob;
} packed_file;

static int packed_file_cmp(const void *a, const void *b)
{
    return strcmp(((const packed_file *)a)->relpath,
                  ((const packed_file *)b)->relpath);
}

/* The writer's error, with the file it writes to. */
static int writer_failed(kp_writer *w, const char *what, const char *dest)
{
    return error("cannot pack %s into %s: %s; nothing was written", what,
                 dest, kp_writer_error(w));
}

static int add_bytes(kp_writer *w, const char *what, const char *dest,
                     const void *buf, size_t len, kp_blob *out)
{
    if (kp_writer_add_data(w, buf, len, out) != 0)
        return writer_failed(w, what, dest);
    return 0;
}

/* Streams a data file, the one collected as id, into the writer in
   chunks of buf (COPY_CHUNK bytes): memory does not grow with the file. */
static int add_disk_file(kp_writer *w, const char *path, const file_id *id,
                         const char *dest, uint8_t *buf, kp_blob *out)
{
    struct stat st;
    int fd = open_collected(path, id, &st), rc = -1;
    uint64_t done = 0;
    ssize_t n;

    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_size > KP_BLOB_MAX) {
        error("cannot pack %s: it is %llu bytes, over the kiln format's "
              "limit of %llu bytes for one file (a blob's size is 32-bit); "
              "leave it out of the packed folders; nothing was written",
              path, (unsigned long long)st.st_size,
              (unsigned long long)KP_BLOB_MAX);
        goto done;
    }
    if (kp_writer_blob_begin(w) != 0)
        goto failed;
    while ((n = read(fd, buf, COPY_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error("cannot read %s at offset %llu: %s", path,
                  (unsigned long long)done, strerror(errno));
            goto done;
        }
        if (kp_writer_blob_append(w, buf, (size_t)n) != 0)
            goto failed;
        done += (uint64_t)n;
    }
    if (kp_writer_blob_end(w, out) != 0)
        goto failed;
    rc = 0;
    goto done;
failed:
    error("cannot pack %s (at its offset %llu) into %s: %s; nothing was "
          "written", path, (unsigned long long)done, dest,
          kp_writer_error(w));
done:
    close(fd);
    return rc;
}

static int pack_modules(kp_writer *w, const char *dest,
                        const collection *c, const build_options *o,
                        packed_file *files, size_t *nf)
{
    for (size_t i = 0; i < c->modules.n; i++) {
        module_item *m = c->modules.v[i];
        kp_blob a = {0, 0, 0}, b = {0, 0, 0};
        uint32_t flags = m->flags | (m->extract ? KP_MOD_EXTRACT : 0) |
                         (m->from == FROM_STDLIB ? KP_MOD_STDLIB : 0);
        const char *what = m->disk ? m->disk : m->relpath;

        if (m->flags & KP_MOD_EXTENSION) {
            if (add_bytes(w, what, dest, m->bytes, m->bytes_len, &a) ||
                (m->preload && add_bytes(w, what, dest, m->preload,
                                         strlen(m->preload), &b)))
                return -1;
            files[(*nf)++] = (packed_file){m->relpath, a};
        } else if (m->disk) {
            if (add_bytes(w, what, dest, m->code, m->code_len, &a))
                return -1;
            flags |= KP_MOD_CODE;
            if (o->source) {
                if (add_bytes(w, what, dest, m->bytes, m->bytes_len, &b))
                    return -1;
                flags |= KP_MOD_SOURCE;
                files[(*nf)++] = (packed_file){m->relpath, b};
            }
        }
        if (kp_writer_add_module(w, m->name, m->relpath, flags, a, b))
            return error("cannot pack module '%s': %s", m->name,
                         kp_writer_error(w));
    }
    return 0;
}

/* Packs the collection through w, a writer to the file dest; blobs go to
   the file as they are added. */
static int pack(kp_writer *w, const char *dest, const collection *c,
                const build_options *o, const target_info *t, uint8_t *buf,
                uint64_t *len, size_t *n_files)
{
    packed_file *files;
    size_t nf = 0;
    char err[KP_ERRLEN];
    int rc = -1;
    uint32_t run = o->interpreter ? KP_RUN_INTERPRETER
                   : o->module    ? KP_RUN_MODULE
                                  : KP_RUN_SCRIPT;

    if (!o->interpreter && o->gc_freeze)
        run |= KP_GC_FREEZE;
    if (!o->interpreter && o->python_child)
        run |= KP_PYTHON_CHILD;
    if (!o->interpreter && o->unbuffered)
        run |= KP_UNBUFFERED;
    if (o->stdlib_files > 0)
        run |= KP_STDLIB_FILES;
    files = xmalloc((c->modules.n + c->files.n) * sizeof *files);
    kp_writer_set_target(w, t->magic, t->hexversion);
    if (kp_writer_set_run(w, run,
                          o->interpreter ? "" : o->module ? o->module
                                                          : "__main__",
                          (uint32_t)o->optimize)) {
        error("out of memory while packing");
        goto done;
    }
    if (pack_modules(w, dest, c, o, files, &nf) != 0)
        goto done;
    for (size_t i = 0; i < c->files.n; i++) {
        file_item *f = c->files.v[i];
        kp_blob blob;

        if (f->disk ? add_disk_file(w, f->disk, &f->id, dest, buf, &blob)
                    : add_bytes(w, f->relpath, dest, f->bytes, f->len, &blob))
            goto done;
        files[nf++] = (packed_file){f->relpath, blob};
    }
    /* A path packed twice (the script and an app module, say) keeps its
       first blob. */
    qsort(files, nf, sizeof *files, packed_file_cmp);
    *n_files = 0;
    for (size_t i = 0; i < nf; i++) {
        if (i > 0 && strcmp(files[i].relpath, files[i - 1].relpath) == 0)
            continue;
        if (kp_writer_add_file(w, files[i].relpath, files[i].blob)) {
            error("cannot pack %s: %s", files[i].relpath, kp_writer_error(w));
            goto done;
        }
        ++*n_files;
    }
    if (kp_writer_finish_fd(w, len, err, sizeof err) != 0) {
        error("cannot pack into %s: %s; nothing was written", dest, err);
        goto done;
    }
    rc = 0;
done:
    free(files);
    return rc;
}

/* Builds the output: launcher, the payload streamed through a writer,
   trailer; atomically, or nothing at all. */
static int write_output(const char *output, const char *launcher,
                        const collection *c, const build_options *o,
                        const target_info *t, uint64_t *len, size_t *n_files)
{
    uint8_t *buf = xmalloc(COPY_CHUNK);
    out_file f = {NULL, -1, 0};
    kp_writer *w = NULL;
    int rc = -1;

    if (output_open(&f, output, launcher, buf) != 0)
        goto done;
    w = kp_writer_new_fd(f.fd, f.payload_at);
    if (!w) {
        error("out of memory while packing");
        goto done;
    }
    if (pack(w, f.tmp, c, o, t, buf, len, n_files) != 0 ||
        output_commit(&f, output, *len) != 0)
        goto done;
    rc = 0;
done:
    output_abort(&f);
    kp_writer_free(w);
    free(buf);
    return rc;
}

/* ---- lib2to3's grammars ------------------------------------------------ */

/* lib2to3 loads a pickled grammar when Grammar.txt is not a file on disk,
   as inside the executable; Debian ships no pickles, so the target Python
   makes them. */
static int add_lib2to3_grammars(kserver *s, collection *c, const char *stdlib)
{
    char *dir = xprintf("%s/lib2to3", stdlib), *line, *save = NULL;
    uint32_t status;
    uint8_t *out;
    size_t len;
    int rc = 0;

    if (!collection_find(c, "lib2to3.pgen2.driver")) {
        free(dir);
        return 0;
    }
    if (server_call(s, KC_OP_GRAMMAR, 0, dir, "", 0, &status, &out, &len)) {
        free(dir);
        return -1;
    }
    if (status != KC_OK)
        rc = error("cannot make lib2to3's grammars from %s: %s", dir,
                   (char *)out);
    for (line = strtok_r((char *)out, "\n", &save); rc == 0 && line;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '='), *relpath;
        size_t n = eq ? strlen(eq + 1) / 2 : 0;
        uint8_t *bytes = xmalloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            sscanf(eq + 1 + 2 * i, "%2hhx", &bytes[i]);
        if (!eq) {
            free(bytes);
            continue;
        }
        *eq = '\0';
        relpath = xprintf("lib2to3/%s", line);
        collection_add_made(c, relpath, bytes, n);
        free(relpath);
    }
    free(out);
    free(dir);
    return rc;
}

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
        if ((!m->bytes &&
             read_collected(m->disk, &m->id, &m->bytes, &m->bytes_len)) ||
            scan_now(s, k, m) != 0) {
            rc = -1;
            break;
        }
        scan_top_names(m->scan, &tops);
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
    char *importable = xprintf("%s,%s", t->builtins,
                               t->frozen ? t->frozen : "");
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
        if (!m->bytes &&
            read_collected(m->disk, &m->id, &m->bytes, &m->bytes_len) != 0)
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
        if (!m->error)
            continue;
        if (failed++ < MAX_SHOWN_ERRORS)
            fprintf(stderr, "kiln: %s\n", m->error);
    }
    if (failed > MAX_SHOWN_ERRORS)
        fprintf(stderr, "kiln: ... and %zu more\n", failed - MAX_SHOWN_ERRORS);
    if (failed)
        return error("%zu file%s failed to compile; nothing was written",
                     failed, failed == 1 ? "" : "s");
    return 0;
}

static int has_tkinter(const char *dynload)
{
    DIR *d = opendir(dynload);
    struct dirent *de;
    int found = 0;

    while (d && !found && (de = readdir(d)))
        found = strncmp(de->d_name, "_tkinter.", 9) == 0;
    if (d)
        closedir(d);
    return found;
}

int kiln_build(build_options *o)
{
    double start = now_seconds(), last = start;
    vec tried = {0}, owned = {0}, jobs = {0}, misses = {0}, work = {0};
    bytecode_cache cache = {0};
    scan_keys keys = {0};
    collection c = {0};
    target_info t = {0};
    kserver server = {.pid = -1};
    char *launcher, *output = NULL;
    uint64_t payload_len = 0;
    size_t n_files = 0, n_ext = 0;
    int rc = 1;

    launcher = find_launcher(o->python, &tried);
    if (!launcher) {
        error("no launcher for CPython %s; looked for:", o->python);
        for (size_t i = 0; i < tried.n; i++)
            fprintf(stderr, "  %s\n", (char *)tried.v[i]);
        fprintf(stderr, "  build it with 'make' in kiln's source tree, or "
                        "set KILN_LAUNCHER_DIR\n");
        vec_free(&tried, free);
        return 1;
    }
    vec_free(&tried, free);
    if (server_start(&server, launcher) != 0 || query_target(&server, &t) ||
        load_config(&server, o, &owned) != 0)
        goto done;
    phase(o, &last, "started the compile server");
    cache_open(&cache, o->verbose);
    scan_keys_init(&keys, &cache, t.hexversion, t.scanner);
    if (o->source < 0)
        o->source = 1;
    if (o->gc_freeze < 0)
        o->gc_freeze = 1;
    if (o->python_child < 0)
        o->python_child = 0;
    if (o->unbuffered < 0)
        o->unbuffered = 0;
    if (o->optimize < 0)
        o->optimize = 0;
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
    if (collect_stdlib(&c, t.stdlib, has_tkinter(t.dynload),
                       o->interpreter || o->python_child) != 0 ||
        collect_dynload(&c, t.dynload, o->interpreter) != 0)
        goto done;
    if (add_lib2to3_grammars(&server, &c, t.stdlib) != 0)
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
        if (cache_get(&cache, t.hexversion, o->optimize, m->relpath, m->bytes,
                      m->bytes_len, &m->code, &m->code_len) != 0)
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
        cache_put(&cache, t.hexversion, o->optimize, m->relpath, m->bytes,
                  m->bytes_len, m->code, m->code_len);
    }
    if (o->verbose)
        fprintf(stderr, "kiln: %zu of %zu modules compiled, the rest from "
                        "the cache\n"
                        "kiln: %zu modules scanned for imports, the others "
                        "from the cache\n", misses.n, jobs.n, keys.scanned);
    scan_save(&keys, &jobs);
    phase(o, &last, "compiled");
    {
        char *importable = xprintf("%s,%s", t.builtins,
                                   t.frozen ? t.frozen : "");
        imports_warn(&c, o->module, importable, t.stdlib, t.dynload,
                     o->verbose, ask_dists, &server);
        free(importable);
    }
    extract_plan(&c, o->module, &o->extract, &o->no_extract, o->verbose);
    o->stdlib_files = stdlib_files_plan(&c, o->stdlib_files, o->verbose);
    if (!o->quiet)
        extract_note(&c);
    phase(o, &last, "checked the imports");
    if (write_output(output, launcher, &c, o, &t, &payload_len,
                     &n_files) != 0)
        goto done;
    phase(o, &last, "packed and wrote the output");
    for (size_t i = 0; i < c.modules.n; i++)
        n_ext += (((module_item *)c.modules.v[i])->flags & KP_MOD_EXTENSION) != 0;
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
