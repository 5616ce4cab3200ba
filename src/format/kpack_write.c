/*
 * kpack_write.c - the writer of the kiln packed-resources format: entries
 * and blobs are collected, then sorted and laid out by kp_writer_finish().
 */
#include "kpack.h"

#include <stdlib.h>

#include "kpack_layout.h"

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
    uint8_t *data;
    size_t data_len, data_cap;
    uint32_t py_magic, py_version, run, optimize;
    char *main_name;
};

kp_writer *kp_writer_new(void)
{
    kp_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->run = KP_RUN_INTERPRETER; /* no entry point: a python3 */
        w->main_name = strdup("");
    }
    if (w && !w->main_name) {
        free(w);
        return NULL;
    }
    return w;
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
    free(w->data);
    free(w->main_name);
    free(w);
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

int kp_writer_add_data(kp_writer *w, const void *buf, size_t len,
                       kp_blob *out)
{
    size_t start = (w->data_len + KP_DATA_ALIGN - 1) & ~(size_t)(KP_DATA_ALIGN - 1);

    if (len > UINT32_MAX)
        return -1;
    if (grow((void **)&w->data, &w->data_cap, start + len + 1, 1))
        return -1;
    memset(w->data + w->data_len, 0, start - w->data_len);
    if (len)
        memcpy(w->data + start, buf, len);
    w->data_len = start + len;
    out->offset = start;
    out->size = (uint32_t)len;
    out->check = kp_checksum32(buf, len);
    return 0;
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

int kp_writer_add_module(kp_writer *w, const char *name, const char *path,
                         uint32_t flags, kp_blob a, kp_blob b)
{
    if (!*name || (flags & ~(uint32_t)KP_MOD_ALL))
        return -1;
    return table_add(&w->modules, name, path, flags, a, b);
}

int kp_writer_add_file(kp_writer *w, const char *path, kp_blob data)
{
    kp_blob none = {0, 0, 0};
    if (!*path)
        return -1;
    return table_add(&w->files, path, NULL, 0, data, none);
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

int kp_writer_finish(kp_writer *w, uint8_t **out, size_t *out_len, char *err,
                     size_t errlen)
{
    size_t modules_off = KP_HEADER_SIZE;
    size_t files_off = modules_off + w->modules.n * KP_ENTRY_SIZE;
    size_t strings_off = files_off + w->files.n * KP_ENTRY_SIZE;
    size_t strings_size = table_strings(&w->modules) +
                          table_strings(&w->files) + strlen(w->main_name) + 1;
    size_t data_off = (strings_off + strings_size + KP_DATA_ALIGN - 1) &
                      ~(size_t)(KP_DATA_ALIGN - 1);
    size_t total = data_off + w->data_len, used = 0;
    uint8_t *b, *strings;
    uint32_t main_off;
    kp_pack view;

    if (w->modules.n > UINT32_MAX || w->files.n > UINT32_MAX ||
        strings_size > UINT32_MAX)
        return fail(err, errlen, "too many entries for one payload");
    if (w->modules.n)
        qsort(w->modules.v, w->modules.n, sizeof *w->modules.v, entry_cmp);
    if (w->files.n)
        qsort(w->files.v, w->files.n, sizeof *w->files.v, entry_cmp);
    if (check_unique(&w->modules, "module", err, errlen) ||
        check_unique(&w->files, "file", err, errlen))
        return -1;
    b = calloc(1, total);
    if (!b)
        return fail(err, errlen, "out of memory for a %zu-byte payload",
                    total);
    strings = b + strings_off;
    main_off = put_string(strings, &used, w->main_name);
    write_table(b + modules_off, &w->modules, strings, &used);
    write_table(b + files_off, &w->files, strings, &used);
    if (w->data_len)
        memcpy(b + data_off, w->data, w->data_len);

    memcpy(b + H_MAGIC, KP_MAGIC, 8);
    put32(b + H_VERSION, KP_FORMAT_VERSION);
    put32(b + H_HEADER_SIZE, KP_HEADER_SIZE);
    put32(b + H_PY_MAGIC, w->py_magic);
    put32(b + H_PY_VERSION, w->py_version);
    put32(b + H_FLAGS, w->run);
    put32(b + H_OPTIMIZE, w->optimize);
    put32(b + H_MODULE_COUNT, (uint32_t)w->modules.n);
    put32(b + H_FILE_COUNT, (uint32_t)w->files.n);
    put64(b + H_MODULES_OFF, modules_off);
    put64(b + H_FILES_OFF, files_off);
    put64(b + H_STRINGS_OFF, strings_off);
    put64(b + H_STRINGS_SIZE, strings_size);
    put64(b + H_DATA_OFF, data_off);
    put64(b + H_DATA_SIZE, w->data_len);
    put32(b + H_MAIN_OFF, main_off);
    put32(b + H_MAIN_LEN, (uint32_t)strlen(w->main_name));

    view.module_count = (uint32_t)w->modules.n;
    view.file_count = (uint32_t)w->files.n;
    view.strings = strings;
    view.strings_size = strings_size;
    put64(b + H_INDEX_CHECK, index_check(b, &view, modules_off, files_off));
    *out = b;
    *out_len = total;
    return 0;
}
