/*
 * kpack.c - reader and writer of the kiln packed-resources format.
 *
 * Reading follows Lua's lundump.c: every count, offset and length is checked
 * against the bytes that are really there before it is used, and all checks
 * happen once, in kp_open(), so that lookups afterwards need none.
 */
#include "kpack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Header field offsets; see docs/format.md. */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HEADER_SIZE = 12, H_PY_MAGIC = 16,
    H_PY_VERSION = 20, H_FLAGS = 24, H_OPTIMIZE = 28, H_MODULE_COUNT = 32,
    H_FILE_COUNT = 36, H_MODULES_OFF = 40, H_FILES_OFF = 48,
    H_STRINGS_OFF = 56, H_STRINGS_SIZE = 64, H_DATA_OFF = 72,
    H_DATA_SIZE = 80, H_MAIN_OFF = 88, H_MAIN_LEN = 92, H_INDEX_CHECK = 96,
    H_RESERVED = 104
};
/* Entry field offsets. */
enum {
    E_NAME_OFF = 0, E_NAME_LEN = 4, E_PATH_OFF = 8, E_PATH_LEN = 12,
    E_FLAGS = 16, E_RESERVED0 = 20, E_A_OFF = 24, E_A_SIZE = 32,
    E_A_CHECK = 36, E_B_OFF = 40, E_B_SIZE = 48, E_B_CHECK = 52,
    E_RESERVED1 = 56
};
/* Trailer field offsets. */
enum { T_MAGIC = 0, T_OFFSET = 8, T_SIZE = 16, T_VERSION = 24, T_CHECK = 28 };

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

uint32_t kp_checksum32(const void *buf, size_t len)
{
    return (uint32_t)XXH3_64bits(buf, len);
}

/* Is [off, off+len) inside [0, size)? Overflow-safe. */
static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static uint64_t index_check(const uint8_t *base, const kp_pack *p,
                            uint64_t modules_off, uint64_t files_off)
{
    uint8_t header[KP_HEADER_SIZE];
    XXH3_state_t st;

    memcpy(header, base, KP_HEADER_SIZE);
    put64(header + H_INDEX_CHECK, 0);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, header, sizeof header);
    XXH3_64bits_update(&st, base + modules_off,
                       (size_t)p->module_count * KP_ENTRY_SIZE);
    XXH3_64bits_update(&st, base + files_off,
                       (size_t)p->file_count * KP_ENTRY_SIZE);
    XXH3_64bits_update(&st, p->strings, p->strings_size);
    return XXH3_64bits_digest(&st);
}

static void decode_entry(const kp_pack *p, const uint8_t *e, kp_entry *out)
{
    out->name = (const char *)p->strings + get32(e + E_NAME_OFF);
    out->name_len = get32(e + E_NAME_LEN);
    out->path = (const char *)p->strings + get32(e + E_PATH_OFF);
    out->path_len = get32(e + E_PATH_LEN);
    out->flags = get32(e + E_FLAGS);
    out->a.offset = get64(e + E_A_OFF);
    out->a.size = get32(e + E_A_SIZE);
    out->a.check = get32(e + E_A_CHECK);
    out->b.offset = get64(e + E_B_OFF);
    out->b.size = get32(e + E_B_SIZE);
    out->b.check = get32(e + E_B_CHECK);
}

/* A string reference must lie inside the string section, end with NUL and
   hold no NUL of its own. */
static int check_string(const kp_pack *p, uint32_t off, uint32_t len)
{
    if (!in_bounds(off, (uint64_t)len + 1, p->strings_size))
        return -1;
    if (p->strings[(size_t)off + len] != 0 || memchr(p->strings + off, 0, len))
        return -1;
    return 0;
}

static int compare_keys(const char *a, size_t alen, const char *b,
                        size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int check_table(const kp_pack *p, const uint8_t *table, uint32_t count,
                       const char *what, char *err, size_t errlen)
{
    kp_entry prev = {0}, e;

    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *raw = table + (size_t)i * KP_ENTRY_SIZE;
        uint32_t name_off = get32(raw + E_NAME_OFF);
        uint32_t path_off = get32(raw + E_PATH_OFF);

        if (check_string(p, name_off, get32(raw + E_NAME_LEN)) ||
            check_string(p, path_off, get32(raw + E_PATH_LEN)))
            return fail(err, errlen, "%s entry %u: name outside the string "
                        "section", what, i);
        if (get32(raw + E_RESERVED0) || get64(raw + E_RESERVED1))
            return fail(err, errlen, "%s entry %u: reserved field set", what,
                        i);
        decode_entry(p, raw, &e);
        if (e.flags & ~(uint32_t)KP_MOD_ALL)
            return fail(err, errlen, "%s entry %u (%s): unknown flags 0x%x",
                        what, i, e.name, e.flags);
        if (!in_bounds(e.a.offset, e.a.size, p->data_size) ||
            !in_bounds(e.b.offset, e.b.size, p->data_size))
            return fail(err, errlen, "%s entry %u (%s): data outside the data "
                        "section", what, i, e.name);
        if (e.name_len == 0)
            return fail(err, errlen, "%s entry %u: empty name", what, i);
        if (i > 0 && compare_keys(prev.name, prev.name_len, e.name,
                                  e.name_len) >= 0)
            return fail(err, errlen, "%s entry %u (%s): index not sorted",
                        what, i, e.name);
        prev = e;
    }
    return 0;
}

int kp_open(kp_pack *p, const void *buf, size_t len, char *err, size_t errlen)
{
    const uint8_t *b = buf;
    uint64_t modules_off, files_off, strings_off, data_off, table_bytes;
    uint32_t version, main_off, main_len;

    memset(p, 0, sizeof *p);
    if (len < KP_HEADER_SIZE)
        return fail(err, errlen, "payload is %zu bytes, shorter than its "
                    "%d-byte header", len, KP_HEADER_SIZE);
    if (memcmp(b + H_MAGIC, KP_MAGIC, 8) != 0)
        return fail(err, errlen, "bad payload magic at offset 0");
    version = get32(b + H_VERSION);
    if (version != KP_FORMAT_VERSION)
        return fail(err, errlen, "payload format version %u, this kiln reads "
                    "version %d", version, KP_FORMAT_VERSION);
    if (get32(b + H_HEADER_SIZE) != KP_HEADER_SIZE)
        return fail(err, errlen, "header size %u, expected %d",
                    get32(b + H_HEADER_SIZE), KP_HEADER_SIZE);
    for (int i = H_RESERVED; i < KP_HEADER_SIZE; i++)
        if (b[i])
            return fail(err, errlen, "reserved header byte %d is set", i);

    p->base = b;
    p->size = len;
    p->py_magic = get32(b + H_PY_MAGIC);
    p->py_version = get32(b + H_PY_VERSION);
    p->flags = get32(b + H_FLAGS);
    p->optimize = get32(b + H_OPTIMIZE);
    p->module_count = get32(b + H_MODULE_COUNT);
    p->file_count = get32(b + H_FILE_COUNT);
    modules_off = get64(b + H_MODULES_OFF);
    files_off = get64(b + H_FILES_OFF);
    strings_off = get64(b + H_STRINGS_OFF);
    p->strings_size = get64(b + H_STRINGS_SIZE);
    data_off = get64(b + H_DATA_OFF);
    p->data_size = get64(b + H_DATA_SIZE);
    main_off = get32(b + H_MAIN_OFF);
    main_len = get32(b + H_MAIN_LEN);

    table_bytes = (uint64_t)p->module_count * KP_ENTRY_SIZE;
    if (modules_off < KP_HEADER_SIZE || !in_bounds(modules_off, table_bytes, len))
        return fail(err, errlen, "module table (offset %llu, %u entries) "
                    "lies outside the %zu-byte payload",
                    (unsigned long long)modules_off, p->module_count, len);
    table_bytes = (uint64_t)p->file_count * KP_ENTRY_SIZE;
    if (files_off < KP_HEADER_SIZE || !in_bounds(files_off, table_bytes, len))
        return fail(err, errlen, "file table (offset %llu, %u entries) lies "
                    "outside the %zu-byte payload",
                    (unsigned long long)files_off, p->file_count, len);
    if (strings_off < KP_HEADER_SIZE || p->strings_size == 0 ||
        !in_bounds(strings_off, p->strings_size, len))
        return fail(err, errlen, "string section (offset %llu, %llu bytes) "
                    "lies outside the %zu-byte payload",
                    (unsigned long long)strings_off,
                    (unsigned long long)p->strings_size, len);
    if (data_off < KP_HEADER_SIZE || data_off % KP_DATA_ALIGN ||
        !in_bounds(data_off, p->data_size, len))
        return fail(err, errlen, "data section (offset %llu, %llu bytes) lies "
                    "outside the %zu-byte payload or is misaligned",
                    (unsigned long long)data_off,
                    (unsigned long long)p->data_size, len);
    p->modules = b + modules_off;
    p->files = b + files_off;
    p->strings = b + strings_off;
    p->data = b + data_off;

    if (index_check(b, p, modules_off, files_off) != get64(b + H_INDEX_CHECK))
        return fail(err, errlen, "index checksum mismatch: the header or "
                    "index (offsets 0-%llu) is damaged",
                    (unsigned long long)(strings_off + p->strings_size));
    if (check_string(p, main_off, main_len))
        return fail(err, errlen, "main module name outside the string "
                    "section");
    p->main_name = (const char *)p->strings + main_off;
    if ((p->flags & ~(uint32_t)KP_HEADER_FLAGS_ALL) ||
        (p->flags & KP_RUN_MASK) < KP_RUN_SCRIPT ||
        (p->flags & KP_RUN_MASK) > KP_RUN_INTERPRETER || p->optimize > 2)
        return fail(err, errlen, "unknown run mode %u or optimization level "
                    "%u in the header", p->flags, p->optimize);
    if (check_table(p, p->modules, p->module_count, "module", err, errlen) ||
        check_table(p, p->files, p->file_count, "file", err, errlen))
        return -1;
    return 0;
}

static long find(const kp_pack *p, const uint8_t *table, uint32_t count,
                 const char *key, size_t len)
{
    uint32_t lo = 0, hi = count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = table + (size_t)mid * KP_ENTRY_SIZE;
        int c = compare_keys((const char *)p->strings + get32(e + E_NAME_OFF),
                             get32(e + E_NAME_LEN), key, len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

long kp_find_module(const kp_pack *p, const char *name, size_t len)
{
    return find(p, p->modules, p->module_count, name, len);
}

long kp_find_file(const kp_pack *p, const char *path, size_t len)
{
    return find(p, p->files, p->file_count, path, len);
}

uint32_t kp_files_lower_bound(const kp_pack *p, const char *prefix,
                              size_t len)
{
    uint32_t lo = 0, hi = p->file_count;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const uint8_t *e = p->files + (size_t)mid * KP_ENTRY_SIZE;
        if (compare_keys((const char *)p->strings + get32(e + E_NAME_OFF),
                         get32(e + E_NAME_LEN), prefix, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void kp_module_at(const kp_pack *p, uint32_t i, kp_entry *out)
{
    decode_entry(p, p->modules + (size_t)i * KP_ENTRY_SIZE, out);
}

void kp_file_at(const kp_pack *p, uint32_t i, kp_entry *out)
{
    decode_entry(p, p->files + (size_t)i * KP_ENTRY_SIZE, out);
}

const uint8_t *kp_blob_bytes(const kp_pack *p, const kp_blob *blob)
{
    return p->data + blob->offset;
}

int kp_blob_verify(const kp_pack *p, const kp_blob *blob)
{
    if (blob->size == 0)
        return 0; /* absent or empty: nothing to damage */
    return kp_checksum32(p->data + blob->offset, blob->size) == blob->check
               ? 0
               : -1;
}

/* ---- trailer ---------------------------------------------------------- */

void kp_trailer_write(uint8_t out[KP_TRAILER_SIZE], uint64_t payload_offset,
                      uint64_t payload_size)
{
    memcpy(out + T_MAGIC, KP_TRAILER_MAGIC, 8);
    put64(out + T_OFFSET, payload_offset);
    put64(out + T_SIZE, payload_size);
    put32(out + T_VERSION, KP_FORMAT_VERSION);
    put32(out + T_CHECK, kp_checksum32(out, T_CHECK));
}

int kp_trailer_read(const uint8_t in[KP_TRAILER_SIZE], uint64_t file_size,
                    uint64_t *payload_offset, uint64_t *payload_size,
                    char *err, size_t errlen)
{
    uint64_t off, size;

    if (memcmp(in + T_MAGIC, KP_TRAILER_MAGIC, 8) != 0)
        return fail(err, errlen, "no kiln trailer in the last %d bytes: not "
                    "a kiln executable, or truncated", KP_TRAILER_SIZE);
    if (file_size < KP_TRAILER_SIZE)
        return fail(err, errlen, "file of %llu bytes is too short for a "
                    "trailer", (unsigned long long)file_size);
    if (get32(in + T_CHECK) != kp_checksum32(in, T_CHECK))
        return fail(err, errlen, "trailer checksum mismatch at offset %llu",
                    (unsigned long long)(file_size - KP_TRAILER_SIZE));
    if (get32(in + T_VERSION) != KP_FORMAT_VERSION)
        return fail(err, errlen, "trailer format version %u, this kiln reads "
                    "version %d", get32(in + T_VERSION), KP_FORMAT_VERSION);
    off = get64(in + T_OFFSET);
    size = get64(in + T_SIZE);
    if (file_size < KP_TRAILER_SIZE ||
        !in_bounds(off, size, file_size - KP_TRAILER_SIZE) ||
        off + size != file_size - KP_TRAILER_SIZE)
        return fail(err, errlen, "trailer places the payload at offset %llu "
                    "(%llu bytes), but the file is %llu bytes: truncated or "
                    "damaged", (unsigned long long)off,
                    (unsigned long long)size, (unsigned long long)file_size);
    *payload_offset = off;
    *payload_size = size;
    return 0;
}

int kp_fd_has_trailer(int fd)
{
    struct stat st;
    char magic[8];
    return fstat(fd, &st) == 0 && st.st_size >= KP_TRAILER_SIZE &&
           pread(fd, magic, 8, st.st_size - KP_TRAILER_SIZE) == 8 &&
           memcmp(magic, KP_TRAILER_MAGIC, 8) == 0;
}

int kp_map_file(int fd, const char *what, kp_pack *pack, void **map,
                size_t *map_len, char *err, size_t errlen)
{
    struct stat st;
    uint8_t tail[KP_TRAILER_SIZE];
    uint64_t off, size, start;
    char why[KP_ERRLEN];
    void *m;

    *map = NULL;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, "%s: %s", what, strerror(errno));
    if (st.st_size < KP_TRAILER_SIZE)
        return fail(err, errlen, "%s: not a kiln executable (%lld bytes, too "
                    "short for a trailer)", what, (long long)st.st_size);
    if (pread(fd, tail, sizeof tail, st.st_size - KP_TRAILER_SIZE) !=
        (ssize_t)sizeof tail)
        return fail(err, errlen, "%s: cannot read trailer: %s", what,
                    strerror(errno));
    if (kp_trailer_read(tail, (uint64_t)st.st_size, &off, &size, why,
                        sizeof why))
        return fail(err, errlen, "%s: %s", what, why);
    start = off & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    m = mmap(NULL, (size_t)(off - start + size), PROT_READ, MAP_PRIVATE, fd,
             (off_t)start);
    if (m == MAP_FAILED)
        return fail(err, errlen, "%s: cannot map payload: %s", what,
                    strerror(errno));
    if (kp_open(pack, (uint8_t *)m + (off - start), (size_t)size, why,
                sizeof why)) {
        munmap(m, (size_t)(off - start + size));
        return fail(err, errlen, "%s: payload at offset %llu: %s", what,
                    (unsigned long long)off, why);
    }
    *map = m;
    *map_len = (size_t)(off - start + size);
    return 0;
}

/* ---- writer ----------------------------------------------------------- */

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
