/*
 * pack.c - writes the executable (pack.h): the launcher, padding to a
 * page, the modules and files packed by kpack's writer, the trailer.
 */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "kpack.h"

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
        return error_errno("cannot read the launcher %s", launcher);
    while ((n = read(in, buf, COPY_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error_errno("cannot read the launcher %s at offset %llu",
                        launcher, (unsigned long long)*len);
            goto done;
        }
        if (fd_write_full(fd, buf, (size_t)n) != 0) {
            error_errno("cannot write %s at offset %llu", tmp,
                        (unsigned long long)*len);
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
        error_errno("cannot create the output in %s", dir);
        free(f->tmp);
        f->tmp = NULL;
        goto done;
    }
    set_pending(f->tmp);
    if (copy_launcher(f->fd, launcher, f->tmp, buf, &len) != 0)
        goto done;
    pad = (size_t)((4096 - len % 4096) % 4096);
    if (fd_write_full(f->fd, zeros, pad) != 0) {
        error_errno("cannot write %s at offset %llu", f->tmp,
                    (unsigned long long)len);
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
        error_errno("cannot write %s", f->tmp);
        close(fd);
        return -1;
    }
    if (close(fd) != 0)
        return error_errno("cannot write %s", f->tmp);
    if (rename(f->tmp, output) != 0)
        return error_errno("cannot rename %s to %s", f->tmp, output);
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
            error_errno("cannot read %s at offset %llu", path,
                        (unsigned long long)done);
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
        uint32_t flags = m->flags | (m->out.extract ? KP_MOD_EXTRACT : 0) |
                         (m->from == FROM_STDLIB ? KP_MOD_STDLIB : 0);
        const char *what = m->disk ? m->disk : m->relpath;

        if (m->flags & KP_MOD_EXTENSION) {
            if (add_bytes(w, what, dest, m->out.bytes, m->out.bytes_len, &a) ||
                (m->out.preload && add_bytes(w, what, dest, m->out.preload,
                                         strlen(m->out.preload), &b)))
                return -1;
            files[(*nf)++] = (packed_file){m->relpath, a};
        } else if (m->disk) {
            if (add_bytes(w, what, dest, m->out.code, m->out.code_len, &a))
                return -1;
            flags |= KP_MOD_CODE;
            if (o->source) {
                if (add_bytes(w, what, dest, m->out.bytes, m->out.bytes_len,
                              &b))
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

int pack_write(const char *output, const char *launcher,
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
