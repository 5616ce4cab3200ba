/*
 * kpack_write.c - the writer of the kiln packed-resources format. Blobs go
 * to the data section as they are added (in memory, or straight to a file
 * through a small buffer), each hashed as it streams by; entries are kept
 * until kp_writer_finish*() sorts them and lays out the index.
 */
#include "kpack.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "kpack_layout.h"

#define W_BUFSIZE (1u << 16) /* file mode: bytes gathered per write */

typedef struct {
    char *name, *path;
    uint32_t flags;
    kp_blob a, b;
} w_entry;

typedef struct {
    w_entry *v;
    size_t n, cap;
} w_table;

struct kp_writer {
    w_table modules, files;
    int fd;           /* -1: the data section is kept in buf */
    uint64_t at;      /* file mode: offset of the payload in the file */
    uint8_t *buf;     /* memory: the data section; file: bytes to write */
    size_t buf_len, buf_cap;
    uint64_t written; /* file mode: data bytes already in the file */
    int in_blob, failed;
    uint64_t blob_start, blob_len;
    XXH3_state_t *hash;
    char err[KP_ERRLEN];
    uint32_t py_magic, py_version, run, optimize;
    char *main_name;
    uint64_t launcher_check; /* file mode: of the bytes before `at` */
};

static kp_writer *writer_new(int fd, uint64_t at)
{
    kp_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = fd;
    w->at = at;
    w->run = KP_RUN_INTERPRETER; /* no entry point: a python3 */
    w->main_name = strdup("");
    w->hash = XXH3_createState();
    if (!w->main_name || !w->hash) {
        kp_writer_free(w);
        return NULL;
    }
    return w;
}

kp_writer *kp_writer_new(void)
{
    return writer_new(-1, 0);
}

kp_writer *kp_writer_new_fd(int fd, uint64_t at)
{
    return fd < 0 ? NULL : writer_new(fd, at);
}

static void table_free(w_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].path != t->v[i].name)
            free(t->v[i].path);
        free(t->v[i].name);
    }
    free(t->v);
}

void kp_writer_free(kp_writer *w)
{
    if (!w)
        return;
    table_free(&w->modules);
    table_free(&w->files);
    free(w->buf);
    free(w->main_name);
    if (w->hash)
        XXH3_freeState(w->hash);
    free(w);
}

const char *kp_writer_error(const kp_writer *w)
{
    return w && w->err[0] ? w->err : "out of memory";
}

/* Records why the writer failed; it stays failed. Returns -1. */
static int wfail(kp_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int wfail(kp_writer *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    w->failed = 1;
    return -1;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 64;
    void *nb;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    nb = realloc(*buf, n * elem);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = n;
    return 0;
}

/* pwrite of all len bytes; -1 with errno set. */
static int pwrite_full(int fd, const uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Offset in the file of a data-section offset (file mode). */
static uint64_t data_in_file(const kp_writer *w, uint64_t off)
{
    return w->at + KP_HEADER_SIZE + off;
}

static int put_at(kp_writer *w, const uint8_t *p, size_t len, uint64_t off)
{
    if (pwrite_full(w->fd, p, len, off) != 0)
        return wfail(w, "cannot write the payload at file offset %llu: %s",
                     (unsigned long long)off, strerror(errno));
    return 0;
}

static int flush(kp_writer *w)
{
    if (w->fd < 0 || !w->buf_len)
        return 0;
    if (put_at(w, w->buf, w->buf_len, data_in_file(w, w->written)))
        return -1;
    w->written += w->buf_len;
    w->buf_len = 0;
    return 0;
}

/* Data-section bytes so far. */
static uint64_t data_pos(const kp_writer *w)
{
    return w->fd < 0 ? w->buf_len : w->written + w->buf_len;
}

/* Appends bytes to the data section: to memory, or through the buffer to
   the file (big pieces go straight through). */
static int emit(kp_writer *w, const void *p, size_t len)
{
    if (!len)
        return 0;
    if (w->fd >= 0 && w->buf_len + len > W_BUFSIZE) {
        if (flush(w))
            return -1;
        if (len >= W_BUFSIZE) {
            if (put_at(w, p, len, data_in_file(w, w->written)))
                return -1;
            w->written += len;
            return 0;
        }
    }
    if (w->fd < 0 && len > SIZE_MAX - w->buf_len)
        return wfail(w, "out of memory for a data section over %zu bytes",
                     w->buf_len);
    if (grow((void **)&w->buf, &w->buf_cap, w->buf_len + len, 1))
        return wfail(w, "out of memory for a %zu-byte data section",
                     w->buf_len + len);
    memcpy(w->buf + w->buf_len, p, len);
    w->buf_len += len;
    return 0;
}

/* Zeros up to the next multiple of KP_DATA_ALIGN. */
static int pad(kp_writer *w)
{
    static const uint8_t zeros[KP_DATA_ALIGN];
    uint64_t pos = data_pos(w);
    return emit(w, zeros, (size_t)((KP_DATA_ALIGN - pos % KP_DATA_ALIGN) %
                                   KP_DATA_ALIGN));
}

int kp_writer_blob_begin(kp_writer *w)
{
    if (w->failed)
        return -1;
    if (w->in_blob)
        return wfail(w, "a blob was begun inside another");
    if (pad(w))
        return -1;
    XXH3_64bits_reset(w->hash);
    w->blob_start = data_pos(w);
    w->blob_len = 0;
    w->in_blob = 1;
    return 0;
}

int kp_writer_blob_append(kp_writer *w, const void *buf, size_t len)
{
    if (w->failed)
        return -1;
    if (!w->in_blob)
        return wfail(w, "bytes appended outside a blob");
    /* Checked before the bytes are touched. */
    if ((uint64_t)len > KP_BLOB_MAX - w->blob_len)
        return wfail(w, "a blob of %llu bytes or more is over the format's "
                     "limit of %llu bytes (a blob's size is 32-bit)",
                     (unsigned long long)w->blob_len + len,
                     (unsigned long long)KP_BLOB_MAX);
    if (len)
        kp_xxh3_update(w->hash, buf, len);
    if (emit(w, buf, len))
        return -1;
    w->blob_len += len;
    return 0;
}

int kp_writer_blob_end(kp_writer *w, kp_blob *out)
{
    if (w->failed)
        return -1;
    if (!w->in_blob)
        return wfail(w, "a blob was ended that was not begun");
    w->in_blob = 0;
    out->offset = w->blob_start;
    out->size = (uint32_t)w->blob_len;
    out->check = (uint32_t)XXH3_64bits_digest(w->hash);
    return 0;
}

int kp_writer_add_data(kp_writer *w, const void *buf, size_t len,
                       kp_blob *out)
{
    if (kp_writer_blob_begin(w) || kp_writer_blob_append(w, buf, len))
        return -1;
    return kp_writer_blob_end(w, out);
}

static int table_add(w_table *t, const char *name, const char *path,
                     uint32_t flags, kp_blob a, kp_blob b)
{
    w_entry *e;

    if (grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v))
        return -1;
    e = &t->v[t->n];
    e->name = strdup(name);
    e->path = path ? strdup(path) : e->name;
    if (!e->name || !e->path) {
        free(e->name);
        return -1;
    }
    e->flags = flags;
    e->a = a;
    e->b = b;
    t->n++;
    return 0;
}

/* Names kp_open() would refuse (kpack.h) are refused here, named; the
   writer is not failed by them. */
static int bad_name(kp_writer *w, const char *what, const char *name,
                    const char *part, const char *problem)
{
    char shown[KP_SHOWN];

    kp_escape(name, strlen(name), shown, sizeof shown);
    snprintf(w->err, sizeof w->err, "%s '%s': its %s %s", what, shown, part,
             problem);
    return -1;
}

int kp_writer_add_module(kp_writer *w, const char *name, const char *path,
                         uint32_t flags, kp_blob a, kp_blob b)
{
    const char *problem = kp_module_name_problem(name, strlen(name));

    if (problem)
        return bad_name(w, "module", name, "name", problem);
    problem = path ? kp_path_problem(path, strlen(path)) : NULL;
    if (problem)
        return bad_name(w, "module", name, "path", problem);
    if (flags & ~(uint32_t)KP_MOD_ALL) {
        snprintf(w->err, sizeof w->err, "module '%s': unknown flags 0x%x",
                 name, flags);
        return -1;
    }
    if (flags_problem(flags, 0)) {
        snprintf(w->err, sizeof w->err, "module '%s': flags 0x%x make %s",
                 name, flags, flags_problem(flags, 0));
        return -1;
    }
    if (table_add(&w->modules, name, path, flags, a, b))
        return wfail(w, "out of memory for module '%s'", name);
    return 0;
}

int kp_writer_add_file(kp_writer *w, const char *path, kp_blob data)
{
    kp_blob none = {0, 0, 0};
    const char *problem = kp_path_problem(path, strlen(path));

    if (problem)
        return bad_name(w, "file", path, "path", problem);
    if (table_add(&w->files, path, NULL, 0, data, none))
        return wfail(w, "out of memory for file '%s'", path);
    return 0;
}

void kp_writer_set_target(kp_writer *w, uint32_t py_magic, uint32_t py_version)
{
    w->py_magic = py_magic;
    w->py_version = py_version;
}

int kp_writer_set_run(kp_writer *w, uint32_t run, const char *main_name,
                      uint32_t optimize)
{
    char *copy;

    if ((run & ~(uint32_t)KP_HEADER_FLAGS_ALL) ||
        (run & KP_RUN_MASK) < KP_RUN_SCRIPT ||
        (run & KP_RUN_MASK) > KP_RUN_INTERPRETER || optimize > 2)
        return -1;
    copy = strdup(main_name ? main_name : "");
    if (!copy)
        return -1;
    free(w->main_name);
    w->main_name = copy;
    w->run = run;
    w->optimize = optimize;
    return 0;
}

/* ---- the index ---------------------------------------------------------- */

static int entry_cmp(const void *x, const void *y)
{
    return strcmp(((const w_entry *)x)->name, ((const w_entry *)y)->name);
}

/* Appends s to the string section and returns its offset. */
static uint32_t put_string(uint8_t *strings, size_t *used, const char *s)
{
    size_t n = strlen(s) + 1;
    uint32_t at = (uint32_t)*used;
    memcpy(strings + *used, s, n);
    *used += n;
    return at;
}

static void write_table(uint8_t *out, const w_table *t, uint8_t *strings,
                        size_t *used)
{
    for (size_t i = 0; i < t->n; i++) {
        const w_entry *e = &t->v[i];
        uint8_t *raw = out + i * KP_ENTRY_SIZE;
        uint32_t name_off = put_string(strings, used, e->name);
        uint32_t path_off = e->path == e->name
                                ? name_off
                                : put_string(strings, used, e->path);
        memset(raw, 0, KP_ENTRY_SIZE);
        put32(raw + E_NAME_OFF, name_off);
        put32(raw + E_NAME_LEN, (uint32_t)strlen(e->name));
        put32(raw + E_PATH_OFF, path_off);
        put32(raw + E_PATH_LEN, (uint32_t)strlen(e->path));
        put32(raw + E_FLAGS, e->flags);
        put64(raw + E_A_OFF, e->a.offset);
        put32(raw + E_A_SIZE, e->a.size);
        put32(raw + E_A_CHECK, e->a.check);
        put64(raw + E_B_OFF, e->b.offset);
        put32(raw + E_B_SIZE, e->b.size);
        put32(raw + E_B_CHECK, e->b.check);
    }
}

static size_t table_strings(const w_table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        n += strlen(t->v[i].name) + 1;
        if (t->v[i].path != t->v[i].name)
            n += strlen(t->v[i].path) + 1;
    }
    return n;
}

static int check_unique(const w_table *t, const char *what, char *err,
                        size_t errlen)
{
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->v[i - 1].name, t->v[i].name) == 0)
            return fail(err, errlen, "%s '%s' is packed twice", what,
                        t->v[i].name);
    return 0;
}

/* The index as one buffer: the header, then the module table, the file
   table and the strings (*len bytes). The header places the tables at
   tables_off and the data section at data_off (payload offsets). */
static uint8_t *lay_out_index(kp_writer *w, uint64_t tables_off,
                              uint64_t data_off, size_t *len, char *err,
                              size_t errlen)
{
    size_t mods = w->modules.n * KP_ENTRY_SIZE;
    size_t files = w->files.n * KP_ENTRY_SIZE;
    size_t strings_size = table_strings(&w->modules) +
                          table_strings(&w->files) + strlen(w->main_name) + 1;
    size_t used = 0;
    uint8_t *b, *strings;
    uint32_t main_off;
    kp_pack view;

    if (w->modules.n > UINT32_MAX || w->files.n > UINT32_MAX ||
        strings_size > UINT32_MAX) {
        fail(err, errlen, "too many entries for one payload");
        return NULL;
    }
    if (w->modules.n)
        qsort(w->modules.v, w->modules.n, sizeof *w->modules.v, entry_cmp);
    if (w->files.n)
        qsort(w->files.v, w->files.n, sizeof *w->files.v, entry_cmp);
    if (check_unique(&w->modules, "module", err, errlen) ||
        check_unique(&w->files, "file", err, errlen))
        return NULL;
    *len = KP_HEADER_SIZE + mods + files + strings_size;
    b = calloc(1, *len);
    if (!b) {
        fail(err, errlen, "out of memory for a %zu-byte index", *len);
        return NULL;
    }
    strings = b + KP_HEADER_SIZE + mods + files;
    main_off = put_string(strings, &used, w->main_name);
    write_table(b + KP_HEADER_SIZE, &w->modules, strings, &used);
    write_table(b + KP_HEADER_SIZE + mods, &w->files, strings, &used);

    memcpy(b + H_MAGIC, KP_MAGIC, 8);
    put32(b + H_VERSION, KP_FORMAT_VERSION);
    put32(b + H_HEADER_SIZE, KP_HEADER_SIZE);
    put32(b + H_PY_MAGIC, w->py_magic);
    put32(b + H_PY_VERSION, w->py_version);
    put32(b + H_FLAGS, w->run);
    put32(b + H_OPTIMIZE, w->optimize);
    put32(b + H_MODULE_COUNT, (uint32_t)w->modules.n);
    put32(b + H_FILE_COUNT, (uint32_t)w->files.n);
    put64(b + H_MODULES_OFF, tables_off);
    put64(b + H_FILES_OFF, tables_off + mods);
    put64(b + H_STRINGS_OFF, tables_off + mods + files);
    put64(b + H_STRINGS_SIZE, strings_size);
    put64(b + H_DATA_OFF, data_off);
    put64(b + H_DATA_SIZE, data_pos(w));
    put32(b + H_MAIN_OFF, main_off);
    put32(b + H_MAIN_LEN, (uint32_t)strlen(w->main_name));
    put64(b + H_LAUNCHER_CHECK, w->launcher_check);

    /* The check covers the bytes, wherever the tables end up. */
    view.module_count = (uint32_t)w->modules.n;
    view.file_count = (uint32_t)w->files.n;
    view.strings = strings;
    view.strings_size = strings_size;
    put64(b + H_INDEX_CHECK, index_check(b, &view, KP_HEADER_SIZE,
                                         KP_HEADER_SIZE + mods));
    return b;
}

static int not_finishable(const kp_writer *w, int want_fd, char *err,
                          size_t errlen)
{
    if (w->failed)
        return fail(err, errlen, "%s", w->err);
    if (w->in_blob)
        return fail(err, errlen, "a blob was begun and not ended");
    if ((w->fd >= 0) != want_fd)
        return fail(err, errlen, "%s for a writer to %s", want_fd
                    ? "kp_writer_finish_fd" : "kp_writer_finish",
                    w->fd >= 0 ? "a file" : "memory");
    return 0;
}

/* Memory: header, tables, strings, then the data section. */
int kp_writer_finish(kp_writer *w, uint8_t **out, size_t *out_len, char *err,
                     size_t errlen)
{
    size_t ix_len, strings_end, data_off, total;
    uint8_t *ix, *b;

    if (not_finishable(w, 0, err, errlen))
        return -1;
    /* The data section goes after the index, whose size is known before
       it is laid out: header, tables, strings. */
    strings_end = KP_HEADER_SIZE +
                  (w->modules.n + w->files.n) * KP_ENTRY_SIZE +
                  table_strings(&w->modules) + table_strings(&w->files) +
                  strlen(w->main_name) + 1;
    data_off = (strings_end + KP_DATA_ALIGN - 1) &
               ~(size_t)(KP_DATA_ALIGN - 1);
    ix = lay_out_index(w, KP_HEADER_SIZE, data_off, &ix_len, err, errlen);
    if (!ix)
        return -1;
    total = data_off + w->buf_len;
    b = calloc(1, total);
    if (!b) {
        free(ix);
        return fail(err, errlen, "out of memory for a %zu-byte payload",
                    total);
    }
    memcpy(b, ix, ix_len);
    if (w->buf_len)
        memcpy(b + data_off, w->buf, w->buf_len);
    free(ix);
    *out = b;
    *out_len = total;
    return 0;
}

/* File: the header, the data section already written after it, then the
   tables and strings; the header is written last. */
int kp_writer_finish_fd(kp_writer *w, uint64_t *size, char *err,
                        size_t errlen)
{
    uint64_t tables_off;
    size_t ix_len;
    uint8_t *ix;
    int rc = -1;

    if (not_finishable(w, 1, err, errlen))
        return -1;
    if (flush(w)) /* the data first: a write error is named as one */
        return fail(err, errlen, "%s", w->err);
    if (w->at > 0 && kp_launcher_hash(w->fd, w->at, &w->launcher_check))
        return fail(err, errlen, "cannot read back the launcher (the first "
                    "%llu bytes) to checksum it: %s",
                    (unsigned long long)w->at, strerror(errno));
    tables_off = KP_HEADER_SIZE +
                 ((data_pos(w) + KP_DATA_ALIGN - 1) &
                  ~(uint64_t)(KP_DATA_ALIGN - 1));
    ix = lay_out_index(w, tables_off, KP_HEADER_SIZE, &ix_len, err, errlen);
    if (!ix)
        return -1;
    if (pad(w) || flush(w) ||
        put_at(w, ix + KP_HEADER_SIZE, ix_len - KP_HEADER_SIZE,
               w->at + tables_off) ||
        put_at(w, ix, KP_HEADER_SIZE, w->at)) {
        fail(err, errlen, "%s", w->err);
        goto done;
    }
    *size = tables_off + ix_len - KP_HEADER_SIZE;
    rc = 0;
done:
    free(ix);
    return rc;
}
