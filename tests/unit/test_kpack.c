/*
 * test_kpack.c - unit tests of the kiln packed-resources format (kpack_read.c, kpack_write.c).
 *
 * Round trip through the writer and reader, lookups, and rejection of
 * truncated, damaged and forged payloads, trailers and executables. Plain
 * C11 with a tiny harness: failed checks print file:line, the last line of
 * stdout is "N passed, N failed" (test cases), and the exit status is
 * non-zero when any case failed. Build and run with `make unit-test`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "kpack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- little-endian helpers and header layout (see kpack_layout.h) ------------ */

enum {
    H_VERSION = 8, H_HEADER_SIZE = 12, H_FLAGS = 24, H_MODULE_COUNT = 32,
    H_FILE_COUNT = 36, H_MODULES_OFF = 40, H_FILES_OFF = 48,
    H_STRINGS_OFF = 56, H_STRINGS_SIZE = 64, H_DATA_OFF = 72,
    H_MAIN_OFF = 88, H_INDEX_CHECK = 96, H_RESERVED = 104
};
enum {
    E_NAME_OFF = 0, E_NAME_LEN = 4, E_PATH_OFF = 8, E_PATH_LEN = 12,
    E_FLAGS = 16, E_RESERVED0 = 20, E_A_OFF = 24, E_RESERVED1 = 56
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Recomputes the index checksum of a payload whose header offsets are
   sane, so that damage behind the checksum reaches the other checks. */
static void reseal(uint8_t *b)
{
    uint8_t header[KP_HEADER_SIZE];
    XXH3_state_t st;

    memcpy(header, b, KP_HEADER_SIZE);
    wr64(header + H_INDEX_CHECK, 0);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, header, sizeof header);
    XXH3_64bits_update(&st, b + rd64(b + H_MODULES_OFF),
                       (size_t)rd32(b + H_MODULE_COUNT) * KP_ENTRY_SIZE);
    XXH3_64bits_update(&st, b + rd64(b + H_FILES_OFF),
                       (size_t)rd32(b + H_FILE_COUNT) * KP_ENTRY_SIZE);
    XXH3_64bits_update(&st, b + rd64(b + H_STRINGS_OFF),
                       (size_t)rd64(b + H_STRINGS_SIZE));
    wr64(b + H_INDEX_CHECK, XXH3_64bits_digest(&st));
}

/* A copy in an exactly-sized allocation, so ASan sees any overread. */
static uint8_t *dup_bytes(const uint8_t *buf, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c) {
        perror("malloc");
        exit(2);
    }
    if (len)
        memcpy(c, buf, len);
    return c;
}

/* ---- the sample payload ----------------------------------------------- */

typedef struct {
    const char *bytes; /* NULL: no blob */
    size_t len;
} span;

typedef struct {
    const char *name, *path;
    uint32_t flags;
    span a, b;
} sample_entry;

#define S(lit) {lit, sizeof(lit) - 1}
#define NONE {NULL, 0}

static const sample_entry sample_modules[] = {
    {"app.main", "app/main.py", KP_MOD_CODE | KP_MOD_SOURCE,
     S("\xe3\0\0\0code of app.main"), S("print('main')\n")},
    {"app", "app/__init__.py", KP_MOD_CODE | KP_MOD_SOURCE | KP_MOD_PACKAGE,
     S("\xe3package code"), S("")},
    {"app.ns", "app/ns", KP_MOD_PACKAGE | KP_MOD_NAMESPACE, NONE, NONE},
    {"app.fast", "app/fast.cpython-311-x86_64-linux-gnu.so",
     KP_MOD_EXTENSION, S("\x7f" "ELF\2\1\1\0 shared object bytes"), NONE},
    {"a", "a.py", KP_MOD_CODE, S("c"), NONE},
    {"app.mainx", "app/mainx.pyc", KP_MOD_CODE, S("sourceless code"), NONE},
    {"zz.top", "zz/top.py", KP_MOD_SOURCE, NONE, S("x = 1\n")},
};
#define N_MODULES (sizeof sample_modules / sizeof *sample_modules)

/* Sorted: README.txt, app/data.txt, app/data/config.json,
   app/data/empty.txt, app/data/sub/x.bin. */
static const sample_entry sample_files[] = {
    {"app/data/sub/x.bin", NULL, 0, S("\0\1\2\3\4\5\6\7\10\11"), NONE},
    {"README.txt", NULL, 0, S("read me\n"), NONE},
    {"app/data/config.json", NULL, 0, S("{\"debug\": false}\n"), NONE},
    {"app/data/empty.txt", NULL, 0, S(""), NONE},
    {"app/data.txt", NULL, 0, S("data file next to a data directory"), NONE},
};
#define N_FILES (sizeof sample_files / sizeof *sample_files)

#define SAMPLE_PY_MAGIC 0x0a0d0da7u   /* 3.11 bytecode magic */
#define SAMPLE_PY_VERSION 0x030b04f0u /* 3.11.4 */
#define SAMPLE_OPTIMIZE 2u

typedef struct {
    uint8_t *buf;
    size_t len;
    kp_blob mod_a[N_MODULES], mod_b[N_MODULES], file_a[N_FILES];
} sample;

static const kp_blob no_blob = {0, 0, 0};

static int add_blob(kp_writer *w, span s, kp_blob *out)
{
    *out = no_blob;
    return s.bytes ? kp_writer_add_data(w, s.bytes, s.len, out) : 0;
}

/* Builds the sample payload; returns 0 or -1 (after a failed check). */
static int make_sample(sample *s)
{
    kp_writer *w = kp_writer_new();
    char err[KP_ERRLEN] = "";
    int rc;

    memset(s, 0, sizeof *s);
    if (!CHECK(w != NULL))
        return -1;
    /* Blobs are added interleaved with files so that the data section has
       alignment padding between blobs of different entries. */
    for (size_t i = 0; i < N_MODULES || i < N_FILES; i++) {
        if (i < N_MODULES) {
            const sample_entry *m = &sample_modules[i];
            CHECK_IEQ(add_blob(w, m->a, &s->mod_a[i]), 0);
            CHECK_IEQ(add_blob(w, m->b, &s->mod_b[i]), 0);
            CHECK_IEQ(kp_writer_add_module(w, m->name, m->path, m->flags,
                                           s->mod_a[i], s->mod_b[i]), 0);
        }
        if (i < N_FILES) {
            const sample_entry *f = &sample_files[i];
            CHECK_IEQ(add_blob(w, f->a, &s->file_a[i]), 0);
            CHECK_IEQ(kp_writer_add_file(w, f->name, s->file_a[i]), 0);
        }
    }
    kp_writer_set_target(w, SAMPLE_PY_MAGIC, SAMPLE_PY_VERSION);
    CHECK_IEQ(kp_writer_set_run(w, KP_RUN_MODULE, "app.main",
                                SAMPLE_OPTIMIZE), 0);
    rc = kp_writer_finish(w, &s->buf, &s->len, err, sizeof err);
    kp_writer_free(w);
    if (!CHECK_MSG(rc == 0, "kp_writer_finish: %s", err))
        return -1;
    return 0;
}

static int open_sample(const sample *s, kp_pack *p)
{
    char err[KP_ERRLEN] = "";
    return CHECK_MSG(kp_open(p, s->buf, s->len, err, sizeof err) == 0,
                     "kp_open of the sample: %s", err)
               ? 0
               : -1;
}

static int blob_eq(kp_blob x, kp_blob y)
{
    return x.offset == y.offset && x.size == y.size && x.check == y.check;
}

/* The entry's blob holds exactly the expected bytes and verifies. */
static void check_blob(const kp_pack *p, const char *name, kp_blob got,
                       kp_blob want, span bytes)
{
    CHECK_MSG(blob_eq(got, want), "%s: blob {%llu, %u, %08x} != {%llu, %u, "
              "%08x}", name, (unsigned long long)got.offset, got.size,
              got.check, (unsigned long long)want.offset, want.size,
              want.check);
    if (!bytes.bytes)
        return;
    CHECK_MSG(got.size == bytes.len, "%s: blob size %u != %zu", name,
              got.size, bytes.len);
    CHECK_MSG(got.offset % KP_DATA_ALIGN == 0, "%s: blob offset %llu "
              "misaligned", name, (unsigned long long)got.offset);
    CHECK_MSG(got.check == kp_checksum32(bytes.bytes, bytes.len),
              "%s: blob check", name);
    CHECK_MSG(kp_blob_verify(p, &got) == 0, "%s: kp_blob_verify", name);
    CHECK_MSG(got.size == bytes.len &&
                  memcmp(kp_blob_bytes(p, &got), bytes.bytes, bytes.len) == 0,
              "%s: blob bytes differ", name);
}

/* Every blob of every entry of an opened payload, for damage tests. */
typedef struct {
    kp_blob blob;
    char name[64];
} blob_ref;

static size_t all_blobs(const kp_pack *p, blob_ref *out, size_t max)
{
    size_t n = 0;
    kp_entry e;

    for (uint32_t i = 0; i < p->module_count && n + 2 <= max; i++) {
        kp_module_at(p, i, &e);
        out[n].blob = e.a;
        snprintf(out[n++].name, sizeof out->name, "module %s a", e.name);
        out[n].blob = e.b;
        snprintf(out[n++].name, sizeof out->name, "module %s b", e.name);
    }
    for (uint32_t i = 0; i < p->file_count && n < max; i++) {
        kp_file_at(p, i, &e);
        out[n].blob = e.a;
        snprintf(out[n++].name, sizeof out->name, "file %s", e.name);
    }
    return n;
}

/* ---- round trip and lookups ------------------------------------------- */

static void test_round_trip_header(void)
{
    sample s;
    kp_pack p;

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    CHECK(p.base == s.buf);
    CHECK_EQ(p.size, s.len);
    CHECK_EQ(p.py_magic, SAMPLE_PY_MAGIC);
    CHECK_EQ(p.py_version, SAMPLE_PY_VERSION);
    CHECK_EQ(p.flags, KP_RUN_MODULE);
    CHECK_EQ(p.optimize, SAMPLE_OPTIMIZE);
    CHECK_EQ(p.module_count, N_MODULES);
    CHECK_EQ(p.file_count, N_FILES);
    CHECK_STR(p.main_name, "app.main");
    CHECK(p.modules >= s.buf + KP_HEADER_SIZE);
    CHECK(p.data + p.data_size <= s.buf + s.len);
    CHECK_EQ((size_t)(p.data - s.buf) % KP_DATA_ALIGN, 0);
    /* The magic is at the start of the bytes the writer produced. */
    CHECK(memcmp(s.buf, KP_MAGIC, 8) == 0);
    CHECK_EQ(rd32(s.buf + H_VERSION), KP_FORMAT_VERSION);
    free(s.buf);
}

static void test_round_trip_modules(void)
{
    sample s;
    kp_pack p;
    kp_entry e, prev = {0};
    int seen[N_MODULES] = {0};

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    for (uint32_t i = 0; i < p.module_count; i++) {
        size_t k;

        kp_module_at(&p, i, &e);
        CHECK_EQ(strlen(e.name), e.name_len);
        CHECK_EQ(strlen(e.path), e.path_len);
        if (i > 0)
            CHECK_MSG(strcmp(prev.name, e.name) < 0, "modules not sorted: "
                      "%s before %s", prev.name, e.name);
        prev = e;
        CHECK_IEQ(kp_find_module(&p, e.name, e.name_len), i);
        for (k = 0; k < N_MODULES; k++)
            if (strcmp(sample_modules[k].name, e.name) == 0)
                break;
        if (!CHECK_MSG(k < N_MODULES, "unexpected module %s", e.name))
            continue;
        seen[k]++;
        CHECK_STR(e.path, sample_modules[k].path);
        CHECK_EQ(e.flags, sample_modules[k].flags);
        check_blob(&p, e.name, e.a, s.mod_a[k], sample_modules[k].a);
        check_blob(&p, e.name, e.b, s.mod_b[k], sample_modules[k].b);
    }
    for (size_t k = 0; k < N_MODULES; k++)
        CHECK_MSG(seen[k] == 1, "module %s read back %d times",
                  sample_modules[k].name, seen[k]);
    free(s.buf);
}

static void test_round_trip_files(void)
{
    sample s;
    kp_pack p;
    kp_entry e, prev = {0};
    int seen[N_FILES] = {0};

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    for (uint32_t i = 0; i < p.file_count; i++) {
        size_t k;

        kp_file_at(&p, i, &e);
        CHECK_EQ(strlen(e.name), e.name_len);
        CHECK_STR(e.path, e.name);
        CHECK_EQ(e.path_len, e.name_len);
        CHECK_EQ(e.flags, 0);
        if (i > 0)
            CHECK_MSG(strcmp(prev.name, e.name) < 0, "files not sorted: "
                      "%s before %s", prev.name, e.name);
        prev = e;
        CHECK_IEQ(kp_find_file(&p, e.name, e.name_len), i);
        for (k = 0; k < N_FILES; k++)
            if (strcmp(sample_files[k].name, e.name) == 0)
                break;
        if (!CHECK_MSG(k < N_FILES, "unexpected file %s", e.name))
            continue;
        seen[k]++;
        check_blob(&p, e.name, e.a, s.file_a[k], sample_files[k].a);
        CHECK(blob_eq(e.b, no_blob));
    }
    for (size_t k = 0; k < N_FILES; k++)
        CHECK_MSG(seen[k] == 1, "file %s read back %d times",
                  sample_files[k].name, seen[k]);
    free(s.buf);
}

static long find_mod(const kp_pack *p, const char *name)
{
    return kp_find_module(p, name, strlen(name));
}

static long find_file(const kp_pack *p, const char *path)
{
    return kp_find_file(p, path, strlen(path));
}

static uint32_t lower_bound(const kp_pack *p, const char *prefix)
{
    return kp_files_lower_bound(p, prefix, strlen(prefix));
}

static void test_lookups(void)
{
    sample s;
    kp_pack p;
    kp_entry e;
    long i;

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    /* Sorted modules: a, app, app.fast, app.main, app.mainx, app.ns, zz.top */
    CHECK_IEQ(find_mod(&p, "a"), 0);
    CHECK_IEQ(find_mod(&p, "app"), 1);
    CHECK_IEQ(find_mod(&p, "app.main"), 3);
    CHECK_IEQ(find_mod(&p, "app.mainx"), 4);
    CHECK_IEQ(find_mod(&p, "zz.top"), 6);
    i = find_mod(&p, "app.ns");
    if (CHECK_IEQ(i, 5)) {
        kp_module_at(&p, (uint32_t)i, &e);
        CHECK_STR(e.name, "app.ns");
        CHECK_EQ(e.flags, KP_MOD_PACKAGE | KP_MOD_NAMESPACE);
    }
    /* Misses: prefixes of names, extensions of names, outside the range. */
    CHECK_IEQ(find_mod(&p, ""), -1);
    CHECK_IEQ(find_mod(&p, "ap"), -1);
    CHECK_IEQ(find_mod(&p, "app."), -1);
    CHECK_IEQ(find_mod(&p, "app.mai"), -1);
    CHECK_IEQ(find_mod(&p, "app.main."), -1);
    CHECK_IEQ(find_mod(&p, "app.mainxy"), -1);
    CHECK_IEQ(find_mod(&p, "APP"), -1);
    CHECK_IEQ(find_mod(&p, " "), -1);
    CHECK_IEQ(find_mod(&p, "zz.top2"), -1);
    CHECK_IEQ(find_mod(&p, "\xff"), -1);
    CHECK_IEQ(find_mod(&p, "README.txt"), -1); /* a file, not a module */
    /* The key is (ptr, len), not a C string. */
    CHECK_IEQ(kp_find_module(&p, "app.main", 3), 1);
    CHECK_IEQ(kp_find_module(&p, "app.mainx", 8), 3);
    CHECK_IEQ(kp_find_module(&p, "a\0pp", 4), -1);
    CHECK_IEQ(kp_find_module(&p, "app", 0), -1);

    /* Sorted files: README.txt, app/data.txt, app/data/config.json,
       app/data/empty.txt, app/data/sub/x.bin */
    CHECK_IEQ(find_file(&p, "README.txt"), 0);
    CHECK_IEQ(find_file(&p, "app/data.txt"), 1);
    CHECK_IEQ(find_file(&p, "app/data/config.json"), 2);
    CHECK_IEQ(find_file(&p, "app/data/empty.txt"), 3);
    CHECK_IEQ(find_file(&p, "app/data/sub/x.bin"), 4);
    CHECK_IEQ(find_file(&p, ""), -1);
    CHECK_IEQ(find_file(&p, "app/data"), -1);
    CHECK_IEQ(find_file(&p, "app/data/"), -1);
    CHECK_IEQ(find_file(&p, "app/data/sub"), -1);
    CHECK_IEQ(find_file(&p, "README.tx"), -1);
    CHECK_IEQ(find_file(&p, "README.txt2"), -1);
    CHECK_IEQ(find_file(&p, "/README.txt"), -1);
    CHECK_IEQ(find_file(&p, "app.main"), -1); /* a module, not a file */
    CHECK_IEQ(kp_find_file(&p, "README.txt.bak", 10), 0);

    CHECK_EQ(lower_bound(&p, ""), 0);
    CHECK_EQ(lower_bound(&p, "R"), 0);
    CHECK_EQ(lower_bound(&p, "README.txt"), 0);
    CHECK_EQ(lower_bound(&p, "S"), 1);
    CHECK_EQ(lower_bound(&p, "app/"), 1);
    CHECK_EQ(lower_bound(&p, "app/data"), 1);
    CHECK_EQ(lower_bound(&p, "app/data/"), 2);
    CHECK_EQ(lower_bound(&p, "app/data/e"), 3);
    CHECK_EQ(lower_bound(&p, "app/data/sub/"), 4);
    CHECK_EQ(lower_bound(&p, "app/data/sub/x.bin"), 4);
    CHECK_EQ(lower_bound(&p, "app/data/sub/y"), 5);
    CHECK_EQ(lower_bound(&p, "zzz"), 5);
    CHECK_EQ(kp_files_lower_bound(&p, "app/data/sub/ignored", 13), 4);
    free(s.buf);
}

static void test_empty_tables(void)
{
    kp_writer *w = kp_writer_new();
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[KP_ERRLEN] = "";
    kp_pack p;
    kp_blob none = no_blob;

    if (!CHECK(w != NULL))
        return;
    /* No modules, no files, no data, no run mode (so an interpreter): the
       smallest payload. */
    if (CHECK_MSG(kp_writer_finish(w, &buf, &len, err, sizeof err) == 0,
                  "finish: %s", err) &&
        CHECK_MSG(kp_open(&p, buf, len, err, sizeof err) == 0, "open: %s",
                  err)) {
        CHECK_EQ(p.module_count, 0);
        CHECK_EQ(p.file_count, 0);
        CHECK_EQ(p.data_size, 0);
        CHECK_EQ(p.flags, KP_RUN_INTERPRETER);
        CHECK_EQ(p.optimize, 0);
        CHECK_EQ(p.py_magic, 0);
        CHECK_EQ(p.py_version, 0);
        CHECK_STR(p.main_name, "");
        CHECK_IEQ(find_mod(&p, "app"), -1);
        CHECK_IEQ(find_mod(&p, ""), -1);
        CHECK_IEQ(find_file(&p, "a"), -1);
        CHECK_EQ(lower_bound(&p, ""), 0);
        CHECK_EQ(lower_bound(&p, "x"), 0);
    }
    kp_writer_free(w);
    free(buf);
    buf = NULL;

    /* Modules but no files, and an interpreter with no main name. */
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        return;
    CHECK_IEQ(kp_writer_add_module(w, "m", "m", KP_MOD_NAMESPACE, none,
                                   none), 0);
    CHECK_IEQ(kp_writer_set_run(w, KP_RUN_SCRIPT | (1u << 12), NULL, 0), -1);
    CHECK_IEQ(kp_writer_set_run(w, KP_GC_FREEZE, NULL, 0), -1);
    CHECK_IEQ(kp_writer_set_run(w, KP_RUN_INTERPRETER, NULL, 0), 0);
    if (CHECK_MSG(kp_writer_finish(w, &buf, &len, err, sizeof err) == 0,
                  "finish: %s", err) &&
        CHECK_MSG(kp_open(&p, buf, len, err, sizeof err) == 0, "open: %s",
                  err)) {
        CHECK_EQ(p.module_count, 1);
        CHECK_EQ(p.file_count, 0);
        CHECK_EQ(p.flags, KP_RUN_INTERPRETER);
        CHECK_STR(p.main_name, "");
        CHECK_IEQ(find_mod(&p, "m"), 0);
        CHECK_IEQ(find_mod(&p, "n"), -1);
        CHECK_IEQ(find_mod(&p, ""), -1);
        CHECK_IEQ(find_file(&p, "m"), -1);
        CHECK_EQ(lower_bound(&p, "m"), 0);
    }
    kp_writer_free(w);
    free(buf);
}

static void test_blob_verify(void)
{
    sample s;
    kp_pack p;
    kp_blob b;
    kp_writer *w;

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    b = s.mod_a[0];
    CHECK_IEQ(kp_blob_verify(&p, &b), 0);
    b.check ^= 1;
    CHECK_IEQ(kp_blob_verify(&p, &b), -1);
    b = s.mod_a[0];
    b.size--;
    CHECK_IEQ(kp_blob_verify(&p, &b), -1);
    b = s.mod_a[0];
    b.offset = s.mod_b[0].offset;
    CHECK_IEQ(kp_blob_verify(&p, &b), -1);
    /* Empty blobs (an empty file, an empty source) verify too. */
    CHECK_EQ(s.file_a[3].size, 0);
    CHECK_IEQ(kp_blob_verify(&p, &s.file_a[3]), 0);
    CHECK_EQ(s.mod_b[1].size, 0);
    CHECK_IEQ(kp_blob_verify(&p, &s.mod_b[1]), 0);
    free(s.buf);

    /* The writer's blob offsets are aligned and relative to the data. */
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        return;
    CHECK_IEQ(kp_writer_add_data(w, "abc", 3, &b), 0);
    CHECK_EQ(b.offset, 0);
    CHECK_EQ(b.size, 3);
    CHECK_EQ(b.check, kp_checksum32("abc", 3));
    CHECK_IEQ(kp_writer_add_data(w, "defg", 4, &b), 0);
    CHECK_EQ(b.offset, KP_DATA_ALIGN);
    CHECK_EQ(b.size, 4);
    CHECK_IEQ(kp_writer_add_data(w, NULL, 0, &b), 0);
    CHECK_EQ(b.offset, 2 * KP_DATA_ALIGN);
    CHECK_EQ(b.size, 0);
    kp_writer_free(w);
}

static void test_duplicates(void)
{
    kp_blob none = no_blob;
    char err[KP_ERRLEN] = "";
    uint8_t *buf = NULL;
    size_t len = 0;
    kp_writer *w = kp_writer_new();

    if (!CHECK(w != NULL))
        return;
    CHECK_IEQ(kp_writer_add_module(w, "pkg.mod", "pkg/mod.py", KP_MOD_CODE,
                                   none, none), 0);
    CHECK_IEQ(kp_writer_add_module(w, "other", "other.py", KP_MOD_CODE, none,
                                   none), 0);
    CHECK_IEQ(kp_writer_add_module(w, "pkg.mod", "pkg/mod/__init__.py",
                                   KP_MOD_PACKAGE, none, none), 0);
    CHECK_IEQ(kp_writer_finish(w, &buf, &len, err, sizeof err), -1);
    CHECK(buf == NULL);
    CHECK_ERR(err, "'pkg.mod'");
    CHECK_ERR(err, "module");
    kp_writer_free(w);

    /* Duplicate files too, and a module may share a name with a file (a
       module name has no '/'). */
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        return;
    err[0] = 0;
    CHECK_IEQ(kp_writer_add_file(w, "setup.cfg", none), 0);
    CHECK_IEQ(kp_writer_add_module(w, "setup.cfg", NULL, KP_MOD_NAMESPACE,
                                   none, none), 0);
    CHECK_IEQ(kp_writer_add_file(w, "setup.cfg", none), 0);
    CHECK_IEQ(kp_writer_finish(w, &buf, &len, err, sizeof err), -1);
    CHECK(buf == NULL);
    CHECK_ERR(err, "'setup.cfg'");
    CHECK_ERR(err, "file");
    kp_writer_free(w);
}

/* ---- names -------------------------------------------------------------- */

/* The writer refuses, by name, what kp_open() would refuse. */
static void test_writer_names(void)
{
    kp_writer *w = kp_writer_new();
    kp_blob none = {0, 0, 0};

    if (!CHECK(w != NULL))
        return;
    CHECK(kp_writer_add_file(w, "../x", none) == -1);
    CHECK(strstr(kp_writer_error(w), "file '../x': its path has a '..' "
                                     "part") != NULL);
    CHECK(kp_writer_add_module(w, "a/b", NULL, 0, none, none) == -1);
    CHECK(strstr(kp_writer_error(w), "name holds a '/'") != NULL);
    CHECK(kp_writer_add_module(w, "a", "/a.py", 0, none, none) == -1);
    CHECK(strstr(kp_writer_error(w), "its path is absolute") != NULL);
    CHECK(kp_writer_add_file(w, "odd\033name", none) == 0);
    CHECK(kp_writer_add_module(w, "ok", NULL, 0, none, none) == 0);
    kp_writer_free(w);
}

static void test_names(void)
{
    static const char *const good_paths[] = {
        "a", "a.py", "json/decoder.py", ".hidden", "a/.b", "a/...", "..a",
        "a/b..", "with space/x", "caf\xe9.txt", "tab\there"};
    static const struct {
        const char *path, *problem;
    } bad_paths[] = {
        {"", "is empty"}, {"/etc/passwd", "absolute"},
        {"..", "'..' part"}, {"../x", "'..' part"}, {"a/../b", "'..' part"},
        {"a/..", "'..' part"}, {".", "'.' part"}, {"./a", "'.' part"},
        {"a/./b", "'.' part"}, {"a//b", "empty part"}, {"a/", "empty part"},
        {"/", "absolute"}};
    static const char *const good_modules[] = {"a", "json.decoder", "_x",
                                               "a-b.c", "__main__"};
    static const char *const bad_modules[] = {"", ".", "a.", ".a", "a..b",
                                              "a/b", "a.b/c", "/"};

    for (size_t i = 0; i < sizeof good_paths / sizeof *good_paths; i++)
        CHECK_MSG(!kp_path_problem(good_paths[i], strlen(good_paths[i])),
                  "path %s refused", good_paths[i]);
    for (size_t i = 0; i < sizeof bad_paths / sizeof *bad_paths; i++) {
        const char *why = kp_path_problem(bad_paths[i].path,
                                          strlen(bad_paths[i].path));
        CHECK_MSG(why && strstr(why, bad_paths[i].problem), "path '%s': %s",
                  bad_paths[i].path, why ? why : "accepted");
    }
    /* (ptr, len): what follows len is not looked at. */
    CHECK(kp_path_problem("a/../b", 1) == NULL);
    CHECK(kp_path_problem("a/", 1) == NULL);
    for (size_t i = 0; i < sizeof good_modules / sizeof *good_modules; i++)
        CHECK_MSG(!kp_module_name_problem(good_modules[i],
                                          strlen(good_modules[i])),
                  "module %s refused", good_modules[i]);
    for (size_t i = 0; i < sizeof bad_modules / sizeof *bad_modules; i++)
        CHECK_MSG(kp_module_name_problem(bad_modules[i],
                                         strlen(bad_modules[i])) != NULL,
                  "module '%s' accepted", bad_modules[i]);
    test_writer_names();
}

/* kp_escape shows a name as `ls -b` does. */
static void check_escape(const char *in, size_t len, size_t outlen,
                         const char *want, int line)
{
    char out[256];

    memset(out, 'X', sizeof out);
    kp_escape(in, len, out, outlen);
    check_at(strcmp(out, want) == 0 && strlen(out) < outlen, __FILE__, line,
             "kp_escape gave \"%s\", want \"%s\"", out, want);
}
#define ESC(in, want) check_escape(in, sizeof(in) - 1, 256, want, __LINE__)

static void test_escape(void)
{
    char *whole;

    ESC("plain/name.py", "plain/name.py");
    ESC("a\nall checksums verified", "a\\nall checksums verified");
    ESC("\033[2J\033]0;title\a", "\\033[2J\\033]0;title\\a");
    ESC("back\\slash", "back\\\\slash");
    ESC("\t\r\b\f\v\x7f\x01", "\\t\\r\\b\\f\\v\\177\\001");
    ESC("nul\0in", "nul\\000in");
    ESC("caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"); /* UTF-8 */
    ESC("caf\xe9", "caf\\351"); /* Latin-1: not UTF-8 */
    ESC("\xc2\x9b" "2J", "\\302\\2332J");          /* C1 CSI */
    ESC("\xe2\x80\xae" "evil", "\\342\\200\\256evil"); /* RLO */
    ESC("\xe2\x80\xa8", "\\342\\200\\250");      /* line separator */
    ESC("\xc0\xaf", "\\300\\257");                /* overlong '/' */
    ESC("\xed\xa0\x80", "\\355\\240\\200");      /* a surrogate */
    ESC("\xf0\x9f\x98", "\\360\\237\\230");      /* cut short */
    /* Cut with "..." when it does not fit, never inside an escape. */
    check_escape("abcdef", 6, 7, "abcdef", __LINE__);
    check_escape("abcdefg", 7, 7, "abc...", __LINE__);
    check_escape("\n\n\n\n", 4, 8, "\\n\\n...", __LINE__);
    check_escape("\x01\x01", 2, 8, "\\001...", __LINE__);
    check_escape("abc", 3, 3, "", __LINE__);
    check_escape("ab", 2, 3, "ab", __LINE__);
    whole = kp_escaped("x\ny\xff", 4);
    if (CHECK(whole != NULL))
        CHECK_STR(whole, "x\\ny\\377");
    free(whole);
}

/* ---- damaged payloads ------------------------------------------------- */

/* kp_open must fail cleanly on buf[0..len) copied to an exact allocation. */
static int open_fails(const uint8_t *buf, size_t len, char *err,
                      size_t errlen)
{
    uint8_t *c = dup_bytes(buf, len);
    kp_pack p;
    int rc;

    err[0] = 0;
    rc = kp_open(&p, c, len, err, errlen);
    free(c);
    return rc == -1 && err[0] != 0;
}

static void test_truncation(void)
{
    sample s;
    kp_pack p;
    char err[KP_ERRLEN];

    if (make_sample(&s)) {
        free(s.buf);
        return;
    }
    for (size_t n = 0; n < s.len; n++)
        if (!CHECK_MSG(open_fails(s.buf, n, err, sizeof err),
                       "payload truncated to %zu of %zu bytes opened", n,
                       s.len))
            break;
    /* Also with a NULL buffer. */
    err[0] = 0;
    CHECK_IEQ(kp_open(&p, NULL, 0, err, sizeof err), -1);
    CHECK(err[0] != 0);
    free(s.buf);
}

static void test_flipped_index(void)
{
    sample s;
    kp_pack p;
    char err[KP_ERRLEN];
    size_t end;

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    /* Header, both tables and the string section. */
    end = (size_t)(p.strings - p.base) + (size_t)p.strings_size;
    CHECK(end > KP_HEADER_SIZE + (N_MODULES + N_FILES) * KP_ENTRY_SIZE);
    for (size_t i = 0; i < end; i++) {
        int ok = 1;
        for (int bit = 0; bit < 8 && ok; bit++) {
            s.buf[i] ^= (uint8_t)(1u << bit);
            ok = CHECK_MSG(open_fails(s.buf, s.len, err, sizeof err),
                           "payload with bit %d of byte %zu flipped opened",
                           bit, i);
            s.buf[i] ^= (uint8_t)(1u << bit);
        }
        if (!ok)
            break;
    }
    free(s.buf);
}

static void test_flipped_data(void)
{
    sample s;
    kp_pack p;
    char err[KP_ERRLEN];
    blob_ref blobs[2 * N_MODULES + N_FILES];
    int base[2 * N_MODULES + N_FILES];
    size_t nblobs, data_off, covered = 0;

    if (make_sample(&s) || open_sample(&s, &p)) {
        free(s.buf);
        return;
    }
    nblobs = all_blobs(&p, blobs, sizeof blobs / sizeof *blobs);
    CHECK_EQ(nblobs, 2 * N_MODULES + N_FILES);
    /* Absent blobs ({0, 0, 0}) never verify: their check is not the
       checksum of no bytes. Every present one does. */
    for (size_t k = 0; k < nblobs; k++) {
        base[k] = kp_blob_verify(&p, &blobs[k].blob);
        if (blobs[k].blob.size)
            CHECK_MSG(base[k] == 0, "%s does not verify", blobs[k].name);
    }
    data_off = (size_t)(p.data - p.base);
    CHECK_EQ(data_off + p.data_size, s.len);
    for (size_t i = data_off; i < s.len; i++) {
        uint64_t rel = i - data_off;
        int ok = 1, in_blob = 0;

        for (int bit = 0; bit < 8 && ok; bit += 3) {
            uint8_t *c;
            kp_pack q;

            s.buf[i] ^= (uint8_t)(1u << bit);
            c = dup_bytes(s.buf, s.len);
            s.buf[i] ^= (uint8_t)(1u << bit);
            err[0] = 0;
            ok = CHECK_MSG(kp_open(&q, c, s.len, err, sizeof err) == 0,
                           "data byte %zu flipped: kp_open: %s", i, err);
            for (size_t k = 0; ok && k < nblobs; k++) {
                const kp_blob *b = &blobs[k].blob;
                int hit = rel >= b->offset && rel < b->offset + b->size;
                in_blob |= hit;
                ok = CHECK_MSG(kp_blob_verify(&q, b) ==
                                   (hit ? -1 : base[k]),
                               "data byte %zu bit %d flipped: %s verifies "
                               "%s", i, bit, blobs[k].name,
                               hit ? "ok" : "bad");
            }
            free(c);
        }
        covered += in_blob;
        if (!ok)
            break;
    }
    /* Most of the data section is blob bytes; some is padding. */
    CHECK(covered > 0 && covered < p.data_size);
    free(s.buf);
}

static void test_bad_headers(void)
{
    sample s;
    char err[KP_ERRLEN];
    uint8_t *c;

    if (make_sample(&s)) {
        free(s.buf);
        return;
    }
    /* Zeroed payload of the right size. */
    c = calloc(1, s.len);
    if (CHECK(c != NULL)) {
        CHECK(open_fails(c, s.len, err, sizeof err));
        CHECK_ERR(err, "magic");
    }
    free(c);
    /* Zero length. */
    CHECK(open_fails(s.buf, 0, err, sizeof err));
    CHECK_ERR(err, "shorter");
    /* Header-only prefix. */
    CHECK(open_fails(s.buf, KP_HEADER_SIZE, err, sizeof err));
    /* Garbage magic. */
    c = dup_bytes(s.buf, s.len);
    memcpy(c, "KILNPACX", 8);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "magic");
    memcpy(c, "\x7f" "ELF\2\1\1\0", 8);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "magic");
    memcpy(c, KP_MAGIC, 8);
    /* Wrong format version, even with a valid checksum. */
    wr32(c + H_VERSION, KP_FORMAT_VERSION + 1);
    reseal(c);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "version 2");
    wr32(c + H_VERSION, 0);
    reseal(c);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "version 0");
    wr32(c + H_VERSION, KP_FORMAT_VERSION);
    /* Wrong header size. */
    wr32(c + H_HEADER_SIZE, KP_HEADER_SIZE + 8);
    reseal(c);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "header size");
    wr32(c + H_HEADER_SIZE, KP_HEADER_SIZE);
    /* Header flags: a run mode, plus only the known bits. */
    {
        static const uint32_t bad_flags[] = {0, 4, 0xff,
                                             KP_RUN_SCRIPT | (1u << 12),
                                             KP_GC_FREEZE};
        kp_pack p;
        for (size_t i = 0; i < sizeof bad_flags / sizeof *bad_flags; i++) {
            wr32(c + H_FLAGS, bad_flags[i]);
            reseal(c);
            CHECK(open_fails(c, s.len, err, sizeof err));
            CHECK_ERR(err, "run mode");
        }
        wr32(c + H_FLAGS, KP_RUN_SCRIPT | KP_GC_FREEZE);
        reseal(c);
        if (CHECK_MSG(kp_open(&p, c, s.len, err, sizeof err) == 0,
                      "open with KP_GC_FREEZE: %s", err))
            CHECK_EQ(p.flags, KP_RUN_SCRIPT | KP_GC_FREEZE);
        wr32(c + H_FLAGS, KP_RUN_MODULE);
        reseal(c);
    }
    /* Reserved header byte. */
    c[KP_HEADER_SIZE - 1] = 1;
    reseal(c);
    CHECK(open_fails(c, s.len, err, sizeof err));
    CHECK_ERR(err, "reserved");
    c[KP_HEADER_SIZE - 1] = 0;
    /* Undamaged again: the edits above were undone exactly. */
    reseal(c);
    CHECK(memcmp(c, s.buf, s.len) == 0);
    free(c);
    free(s.buf);
}

/* Damage behind a recomputed index checksum: the structural checks. */
typedef struct {
    const char *what, *expect; /* expected substring of the error */
    void (*damage)(uint8_t *b);
} forgery;

static uint8_t *mod_entry(uint8_t *b, uint32_t i)
{
    return b + rd64(b + H_MODULES_OFF) + (size_t)i * KP_ENTRY_SIZE;
}

static uint8_t *file_entry(uint8_t *b, uint32_t i)
{
    return b + rd64(b + H_FILES_OFF) + (size_t)i * KP_ENTRY_SIZE;
}

static void swap_modules(uint8_t *b)
{
    uint8_t t[KP_ENTRY_SIZE];
    memcpy(t, mod_entry(b, 0), KP_ENTRY_SIZE);
    memcpy(mod_entry(b, 0), mod_entry(b, 1), KP_ENTRY_SIZE);
    memcpy(mod_entry(b, 1), t, KP_ENTRY_SIZE);
}

static void dup_file(uint8_t *b)
{
    memcpy(file_entry(b, 2), file_entry(b, 1), KP_ENTRY_SIZE);
}

static void unknown_flag(uint8_t *b)
{
    wr32(mod_entry(b, 2) + E_FLAGS, KP_MOD_ALL + 1);
}

static void empty_name(uint8_t *b)
{
    /* Point at the NUL ending the main name (the first string). */
    wr32(mod_entry(b, 0) + E_NAME_OFF, (uint32_t)strlen("app.main"));
    wr32(mod_entry(b, 0) + E_NAME_LEN, 0);
}

static void long_name(uint8_t *b)
{
    uint8_t *e = file_entry(b, 0);
    wr32(e + E_NAME_LEN, rd32(e + E_NAME_LEN) + 1);
}

static void short_name(uint8_t *b)
{
    uint8_t *e = file_entry(b, 4);
    wr32(e + E_NAME_LEN, rd32(e + E_NAME_LEN) - 1);
}

static void name_past_strings(uint8_t *b)
{
    wr32(mod_entry(b, 3) + E_NAME_OFF, (uint32_t)rd64(b + H_STRINGS_SIZE));
    wr32(mod_entry(b, 3) + E_NAME_LEN, 0);
}

static void huge_name(uint8_t *b)
{
    wr32(mod_entry(b, 3) + E_NAME_OFF, 0xfffffff0u);
    wr32(mod_entry(b, 3) + E_NAME_LEN, 0x20u);
}

static void blob_past_data(uint8_t *b)
{
    uint8_t *e = mod_entry(b, 3);
    wr64(e + E_A_OFF, rd64(b + H_DATA_OFF + 8)); /* data size */
}

static void blob_offset_wraps(uint8_t *b)
{
    wr64(file_entry(b, 0) + E_A_OFF, UINT64_MAX - 2);
}

static void entry_reserved0(uint8_t *b)
{
    wr32(file_entry(b, 1) + E_RESERVED0, 1);
}

static void entry_reserved1(uint8_t *b)
{
    wr64(file_entry(b, 1) + E_RESERVED1, (uint64_t)1 << 63);
}

static void main_past_strings(uint8_t *b)
{
    wr32(b + H_MAIN_OFF, (uint32_t)rd64(b + H_STRINGS_SIZE));
}

static void main_unterminated(uint8_t *b)
{
    wr32(b + H_MAIN_OFF + 4, (uint32_t)strlen("app.main") + 1);
}

static void many_modules(uint8_t *b)
{
    wr32(b + H_MODULE_COUNT, UINT32_MAX);
}

static void files_off_wraps(uint8_t *b)
{
    wr64(b + H_FILES_OFF, UINT64_MAX - 63);
    wr32(b + H_FILE_COUNT, 1);
}

static void tables_in_header(uint8_t *b)
{
    wr64(b + H_MODULES_OFF, 0);
}

static void no_strings(uint8_t *b)
{
    wr64(b + H_STRINGS_SIZE, 0);
}

static void strings_past_end(uint8_t *b)
{
    wr64(b + H_STRINGS_SIZE, UINT64_MAX);
}

static void data_misaligned(uint8_t *b)
{
    wr64(b + H_DATA_OFF, rd64(b + H_DATA_OFF) - 1);
}

static void data_too_big(uint8_t *b)
{
    wr64(b + H_DATA_OFF + 8, rd64(b + H_DATA_OFF + 8) + 1);
}

/* Names the launcher must never use: the string old (with its NUL) in the
   string section is overwritten with new, of the same length. */
static void patch_string(uint8_t *b, const char *old, const char *new)
{
    uint8_t *strings = b + rd64(b + H_STRINGS_OFF);
    size_t size = (size_t)rd64(b + H_STRINGS_SIZE), len = strlen(old) + 1;
    uint8_t *at = memmem(strings, size, old, len);

    if (!CHECK_MSG(at && strlen(new) + 1 == len, "no string %s", old))
        return;
    memcpy(at, new, len);
}

static void file_dotdot(uint8_t *b)
{
    patch_string(b, "app/data.txt", "app/../x.txt");
}

static void file_absolute(uint8_t *b)
{
    patch_string(b, "README.txt", "/EADME.txt");
}

static void file_empty_part(uint8_t *b)
{
    patch_string(b, "app/data/empty.txt", "app//ata/empty.txt");
}

static void file_trailing_slash(uint8_t *b)
{
    patch_string(b, "app/data/sub/x.bin", "app/data/sub/x.bi/");
}

static void file_dot_part(uint8_t *b)
{
    patch_string(b, "app/data/config.json", "app/./ta/config.json");
}

static void file_path_not_name(uint8_t *b)
{
    uint8_t *other = file_entry(b, 1);
    wr32(file_entry(b, 2) + E_PATH_OFF, rd32(other + E_NAME_OFF));
    wr32(file_entry(b, 2) + E_PATH_LEN, rd32(other + E_NAME_LEN));
}

static void module_path_dotdot(uint8_t *b)
{
    patch_string(b, "app/main.py", "../amain.py");
}

static void module_path_absolute(uint8_t *b)
{
    patch_string(b, "zz/top.py", "/z/top.py");
}

static void module_name_slash(uint8_t *b)
{
    patch_string(b, "app.fast", "app/\033ast");
}

static void module_name_empty_part(uint8_t *b)
{
    patch_string(b, "zz.top", "zz..op");
}

static void module_name_leading_dot(uint8_t *b)
{
    wr32(mod_entry(b, 0) + E_NAME_OFF,
         rd32(mod_entry(b, 3) + E_NAME_OFF) + 3); /* ".main" of app.main */
    wr32(mod_entry(b, 0) + E_NAME_LEN, 5);
}

/* The main module: "main", the tail of "app.main", is not a module. */
static void main_missing(uint8_t *b)
{
    wr32(b + H_MAIN_OFF, rd32(b + H_MAIN_OFF) + 4);
    wr32(b + H_MAIN_OFF + 4, 4);
}

static void main_empty(uint8_t *b)
{
    wr32(b + H_MAIN_OFF, (uint32_t)strlen("app.main"));
    wr32(b + H_MAIN_OFF + 4, 0);
}

static void main_bad_name(uint8_t *b)
{
    patch_string(b, "app.main", "app..ain");
}

/* A script needs code or source: app.ns, a namespace package, has none. */
static void script_without_code(uint8_t *b)
{
    uint8_t *ns = mod_entry(b, 5);
    wr32(b + H_MAIN_OFF, rd32(ns + E_NAME_OFF));
    wr32(b + H_MAIN_OFF + 4, rd32(ns + E_NAME_LEN));
    wr32(b + H_FLAGS, KP_RUN_SCRIPT);
}

static void interpreter_with_main(uint8_t *b)
{
    wr32(b + H_FLAGS, KP_RUN_INTERPRETER);
}

static const forgery forgeries[] = {
    {"modules out of order", "not sorted", swap_modules},
    {"duplicate file", "not sorted", dup_file},
    {"unknown module flag", "unknown flags", unknown_flag},
    {"empty module name", "empty name", empty_name},
    {"name one byte too long", "string section", long_name},
    {"name one byte too short", "string section", short_name},
    {"name past the strings", "string section", name_past_strings},
    {"name offset near 4 GiB", "string section", huge_name},
    {"blob past the data", "data section", blob_past_data},
    {"blob offset wraps", "data section", blob_offset_wraps},
    {"reserved entry word", "reserved", entry_reserved0},
    {"reserved entry tail", "reserved", entry_reserved1},
    {"main past the strings", "main module", main_past_strings},
    {"main without its NUL", "main module", main_unterminated},
    {"module count 2^32-1", "module table", many_modules},
    {"file table offset wraps", "file table", files_off_wraps},
    {"module table in the header", "module table", tables_in_header},
    {"empty string section", "string section (", no_strings},
    {"string section past the end", "string section", strings_past_end},
    {"misaligned data", "data section", data_misaligned},
    {"data past the end", "data section", data_too_big},
    {"file path with ..", "has a '..' part", file_dotdot},
    {"absolute file path", "is absolute", file_absolute},
    {"file path with //", "empty part", file_empty_part},
    {"file path ending in /", "empty part", file_trailing_slash},
    {"file path with .", "has a '.' part", file_dot_part},
    {"file path not its name", "is not its name", file_path_not_name},
    {"module path with ..", "has a '..' part", module_path_dotdot},
    {"absolute module path", "is absolute", module_path_absolute},
    {"module name with /", "'app/\\033ast' holds a '/'", module_name_slash},
    {"module name with ..", "empty dotted part", module_name_empty_part},
    {"module name starting with .", "empty dotted part",
     module_name_leading_dot},
    {"main module missing", "'main' is not among", main_missing},
    {"main module empty", "main module name '' is empty", main_empty},
    {"main module name with ..", "empty dotted part", main_bad_name},
    {"script without code", "neither bytecode nor source",
     script_without_code},
    {"interpreter with a main", "names a main module",
     interpreter_with_main},
};

static void test_forged_index(void)
{
    sample s;
    char err[KP_ERRLEN];
    kp_pack p;
    uint8_t *c;

    if (make_sample(&s)) {
        free(s.buf);
        return;
    }
    /* Resealing an undamaged payload changes nothing. */
    c = dup_bytes(s.buf, s.len);
    reseal(c);
    CHECK(memcmp(c, s.buf, s.len) == 0);
    CHECK_IEQ(kp_open(&p, c, s.len, err, sizeof err), 0);
    free(c);

    for (size_t i = 0; i < sizeof forgeries / sizeof *forgeries; i++) {
        const forgery *f = &forgeries[i];

        c = dup_bytes(s.buf, s.len);
        f->damage(c);
        /* Reseal only when the tables it hashes are in bounds. */
        if (f->damage != many_modules && f->damage != files_off_wraps &&
            f->damage != strings_past_end)
            reseal(c);
        err[0] = 0;
        if (CHECK_MSG(kp_open(&p, c, s.len, err, sizeof err) == -1,
                      "%s: kp_open accepted it", f->what))
            CHECK_MSG(strstr(err, f->expect) != NULL, "%s: error \"%s\" "
                      "should mention \"%s\"", f->what, err, f->expect);
        free(c);
    }
    free(s.buf);
}

/* ---- trailer ---------------------------------------------------------- */

static void test_trailer(void)
{
    uint8_t t[KP_TRAILER_SIZE];
    uint64_t off = 0, size = 0;
    char err[KP_ERRLEN] = "";

    kp_trailer_write(t, 4096, 1000);
    CHECK(memcmp(t, KP_TRAILER_MAGIC, 8) == 0);
    CHECK_IEQ(kp_trailer_read(t, 4096 + 1000 + KP_TRAILER_SIZE, &off, &size,
                              err, sizeof err), 0);
    CHECK_EQ(off, 4096);
    CHECK_EQ(size, 1000);

    kp_trailer_write(t, 0, 77);
    off = size = 1;
    CHECK_IEQ(kp_trailer_read(t, 77 + KP_TRAILER_SIZE, &off, &size, err,
                              sizeof err), 0);
    CHECK_EQ(off, 0);
    CHECK_EQ(size, 77);

    /* The file size must match offset + size + trailer exactly. */
    kp_trailer_write(t, 4096, 1000);
    err[0] = 0;
    CHECK_IEQ(kp_trailer_read(t, 4096 + 1000 + KP_TRAILER_SIZE + 1, &off,
                              &size, err, sizeof err), -1);
    CHECK_ERR(err, "4096");
    err[0] = 0;
    CHECK_IEQ(kp_trailer_read(t, 4096 + 1000 + KP_TRAILER_SIZE - 1, &off,
                              &size, err, sizeof err), -1);
    CHECK(err[0] != 0);
    CHECK_IEQ(kp_trailer_read(t, 1000, &off, &size, err, sizeof err), -1);
    /* offset + size wrapping around 2^64 to match the file size. */
    kp_trailer_write(t, UINT64_MAX - 5, 10);
    CHECK_IEQ(kp_trailer_read(t, 4 + KP_TRAILER_SIZE, &off, &size, err,
                              sizeof err), -1);
    kp_trailer_write(t, 10, UINT64_MAX - 5);
    CHECK_IEQ(kp_trailer_read(t, 4 + KP_TRAILER_SIZE, &off, &size, err,
                              sizeof err), -1);
    /* A file smaller than the trailer. */
    kp_trailer_write(t, 0, 0);
    for (uint64_t fs = 0; fs < KP_TRAILER_SIZE; fs++) {
        err[0] = 0;
        if (!CHECK_MSG(kp_trailer_read(t, fs, &off, &size, err,
                                       sizeof err) == -1 && err[0],
                       "trailer accepted in a %llu-byte file",
                       (unsigned long long)fs))
            break;
    }
    /* Wrong magic. */
    kp_trailer_write(t, 4096, 1000);
    memcpy(t, "KILNPACK", 8);
    err[0] = 0;
    CHECK_IEQ(kp_trailer_read(t, 4096 + 1000 + KP_TRAILER_SIZE, &off, &size,
                              err, sizeof err), -1);
    CHECK_ERR(err, "trailer");
    /* Every single-bit flip. */
    kp_trailer_write(t, 4096, 1000);
    for (int i = 0; i < KP_TRAILER_SIZE * 8; i++) {
        t[i / 8] ^= (uint8_t)(1u << (i % 8));
        err[0] = 0;
        if (!CHECK_MSG(kp_trailer_read(t, 4096 + 1000 + KP_TRAILER_SIZE,
                                       &off, &size, err, sizeof err) == -1 &&
                           err[0],
                       "trailer with bit %d flipped accepted", i))
            break;
        t[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
}

/* ---- executables on disk ---------------------------------------------- */

/* An unlinked temp file holding launcher bytes, zero padding up to
   payload_at, the first keep bytes of the payload and, if trailer_len > 0,
   that many bytes of the trailer; returns its fd or -1. */
static int make_exe(size_t launcher_len, size_t payload_at,
                    const uint8_t *payload, size_t len, size_t keep,
                    size_t trailer_len)
{
    char path[] = "/tmp/test_kpack.XXXXXX";
    size_t total = payload_at + keep + trailer_len;
    uint8_t *img = calloc(1, total ? total : 1);
    uint8_t t[KP_TRAILER_SIZE];
    int fd;

    if (!CHECK(img != NULL))
        return -1;
    for (size_t i = 0; i < launcher_len; i++)
        img[i] = (uint8_t)(i * 7 + 1);
    if (launcher_len >= 4)
        memcpy(img, "\x7f" "ELF", 4);
    memcpy(img + payload_at, payload, keep);
    kp_trailer_write(t, payload_at, len);
    memcpy(img + payload_at + keep, t, trailer_len);
    fd = mkstemp(path);
    if (CHECK_MSG(fd >= 0, "mkstemp %s", path)) {
        unlink(path);
        if (!CHECK((size_t)write(fd, img, total) == total)) {
            close(fd);
            fd = -1;
        }
    }
    free(img);
    return fd;
}

static void check_mapped(const sample *s, size_t launcher_len,
                         size_t payload_at)
{
    kp_pack p;
    void *map = NULL;
    size_t map_len = 0;
    char err[KP_ERRLEN] = "";
    kp_entry e;
    long i;
    int fd = make_exe(launcher_len, payload_at, s->buf, s->len, s->len,
                      KP_TRAILER_SIZE);

    if (fd < 0)
        return;
    if (CHECK_MSG(kp_map_file(fd, "app.exe", &p, &map, &map_len, err,
                              sizeof err) == 0,
                  "kp_map_file (payload at %zu): %s", payload_at, err)) {
        CHECK(map != NULL);
        CHECK(map_len >= s->len);
        CHECK_EQ(p.size, s->len);
        CHECK(memcmp(p.base, s->buf, s->len) == 0);
        CHECK_EQ(p.module_count, N_MODULES);
        CHECK_EQ(p.file_count, N_FILES);
        CHECK_STR(p.main_name, "app.main");
        i = find_mod(&p, "app.main");
        if (CHECK_IEQ(i, 3)) {
            kp_module_at(&p, (uint32_t)i, &e);
            check_blob(&p, e.name, e.a, s->mod_a[0], sample_modules[0].a);
            check_blob(&p, e.name, e.b, s->mod_b[0], sample_modules[0].b);
        }
        i = find_file(&p, "app/data/sub/x.bin");
        if (CHECK_IEQ(i, 4)) {
            kp_file_at(&p, (uint32_t)i, &e);
            check_blob(&p, e.name, e.a, s->file_a[0], sample_files[0].a);
        }
        CHECK_IEQ(munmap(map, map_len), 0);
    }
    close(fd);
}

/* kp_map_file on the file must fail, naming it, and leave *map NULL. */
static void check_map_fails(int fd, const char *expect, int line)
{
    kp_pack p;
    void *map = (void *)&p;
    size_t map_len = 0;
    char err[KP_ERRLEN] = "";
    int rc;

    if (fd < 0)
        return;
    rc = kp_map_file(fd, "bad.exe", &p, &map, &map_len, err, sizeof err);
    check_at(rc == -1, __FILE__, line, "kp_map_file accepted it");
    check_at(map == NULL, __FILE__, line, "*map not NULL after failure");
    check_at(strncmp(err, "bad.exe: ", 9) == 0, __FILE__, line,
             "error \"%s\" should start with the file name", err);
    check_at(strstr(err, expect) != NULL, __FILE__, line,
             "error \"%s\" should mention \"%s\"", err, expect);
    close(fd);
}

static void test_map_file(void)
{
    sample s;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n;
    uint8_t *bad;

    if (make_sample(&s)) {
        free(s.buf);
        return;
    }
    check_mapped(&s, 5000, 5008);            /* offset not page aligned */
    check_mapped(&s, 5000, 2 * page);        /* page aligned */
    check_mapped(&s, 3 * page, 3 * page);    /* no padding */
    check_mapped(&s, 0, 0);                  /* payload only */
    check_mapped(&s, page - 8, page - 8);    /* payload crosses a page */

    n = s.len;
    /* Launcher without trailer. */
    check_map_fails(make_exe(5000, 5008, s.buf, n, 0, 0), "no kiln trailer",
                    __LINE__);
    check_map_fails(make_exe(5000, 5008, s.buf, n, n, 0), "no kiln trailer",
                    __LINE__);
    /* Smaller than a trailer, and empty. */
    check_map_fails(make_exe(10, 10, s.buf, n, 0, 0), "too short",
                    __LINE__);
    check_map_fails(make_exe(0, 0, s.buf, n, 0, 0), "too short", __LINE__);
    /* Truncated: the trailer lost its tail, or the payload lost bytes. */
    check_map_fails(make_exe(5000, 5008, s.buf, n, n, KP_TRAILER_SIZE - 1),
                    "no kiln trailer", __LINE__);
    check_map_fails(make_exe(5000, 5008, s.buf, n, n - 100, KP_TRAILER_SIZE),
                    "truncated", __LINE__);
    check_map_fails(make_exe(5000, 5008, s.buf, n, 0, KP_TRAILER_SIZE),
                    "truncated", __LINE__);
    /* A trailer announcing an empty payload. */
    check_map_fails(make_exe(5000, 5008, s.buf, 0, 0, KP_TRAILER_SIZE), "",
                    __LINE__);
    check_map_fails(make_exe(page, page, s.buf, 0, 0, KP_TRAILER_SIZE), "",
                    __LINE__);
    /* Consistent trailer, damaged payload. */
    bad = dup_bytes(s.buf, n);
    bad[H_FLAGS] ^= 4;
    check_map_fails(make_exe(5000, 5008, bad, n, n, KP_TRAILER_SIZE),
                    "payload at offset 5008", __LINE__);
    free(bad);
    free(s.buf);
}

/* ---- the streaming writer (kp_writer_new_fd) ------------------------------ */

#define FD_PREFIX 5000 /* bytes before the payload in the file (a launcher) */

/* A temporary file, unlinked at once; -1 after a failed check. */
static int temp_fd(void)
{
    char path[] = "/tmp/kiln-test-kpack-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK_MSG(fd >= 0, "mkstemp failed"))
        return -1;
    unlink(path);
    return fd;
}

/* The sample again, written by a writer to a file after FD_PREFIX bytes of
   0xee, read back into s->buf; also checks that the prefix is untouched. */
static int make_sample_fd(sample *s)
{
    uint8_t prefix[FD_PREFIX], back[FD_PREFIX];
    char err[KP_ERRLEN] = "";
    uint64_t size = 0;
    kp_writer *w;
    int fd = temp_fd(), rc = -1;

    memset(s, 0, sizeof *s);
    memset(prefix, 0xee, sizeof prefix);
    if (fd < 0 || !CHECK(write(fd, prefix, sizeof prefix) ==
                         (ssize_t)sizeof prefix))
        goto done;
    w = kp_writer_new_fd(fd, FD_PREFIX);
    if (!CHECK(w != NULL))
        goto done;
    for (size_t i = 0; i < N_MODULES || i < N_FILES; i++) {
        if (i < N_MODULES) {
            const sample_entry *m = &sample_modules[i];
            CHECK_IEQ(add_blob(w, m->a, &s->mod_a[i]), 0);
            CHECK_IEQ(add_blob(w, m->b, &s->mod_b[i]), 0);
            CHECK_IEQ(kp_writer_add_module(w, m->name, m->path, m->flags,
                                           s->mod_a[i], s->mod_b[i]), 0);
        }
        if (i < N_FILES) {
            const sample_entry *f = &sample_files[i];
            CHECK_IEQ(add_blob(w, f->a, &s->file_a[i]), 0);
            CHECK_IEQ(kp_writer_add_file(w, f->name, s->file_a[i]), 0);
        }
    }
    kp_writer_set_target(w, SAMPLE_PY_MAGIC, SAMPLE_PY_VERSION);
    CHECK_IEQ(kp_writer_set_run(w, KP_RUN_MODULE, "app.main",
                                SAMPLE_OPTIMIZE), 0);
    rc = kp_writer_finish_fd(w, &size, err, sizeof err);
    kp_writer_free(w);
    if (!CHECK_MSG(rc == 0, "kp_writer_finish_fd: %s", err))
        goto done;
    rc = -1;
    CHECK_EQ((uint64_t)lseek(fd, 0, SEEK_END), FD_PREFIX + size);
    s->len = (size_t)size;
    s->buf = malloc(s->len);
    if (!CHECK(s->buf != NULL) ||
        !CHECK(pread(fd, s->buf, s->len, FD_PREFIX) == (ssize_t)s->len) ||
        !CHECK(pread(fd, back, sizeof back, 0) == (ssize_t)sizeof back))
        goto done;
    CHECK_MSG(memcmp(back, prefix, sizeof back) == 0,
              "the bytes before the payload changed");
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The same entries and data as the in-memory writer's, laid out header,
   data, tables, strings: readable by the same reader. */
static void test_writer_fd_layout(void)
{
    sample m, f;
    kp_pack pm, pf;
    kp_entry em, ef;

    if (make_sample(&m) || open_sample(&m, &pm) || make_sample_fd(&f) ||
        open_sample(&f, &pf)) {
        free(m.buf);
        free(f.buf);
        return;
    }
    CHECK_EQ((size_t)(pf.data - pf.base), KP_HEADER_SIZE);
    CHECK(pf.modules >= pf.data + pf.data_size);
    CHECK(pf.files >= pf.modules + pf.module_count * KP_ENTRY_SIZE);
    CHECK(pf.strings + pf.strings_size == pf.base + f.len);
    CHECK_EQ(pf.data_size, pm.data_size);
    CHECK(memcmp(pf.data, pm.data, (size_t)pm.data_size) == 0);
    CHECK_EQ(pf.module_count, N_MODULES);
    CHECK_EQ(pf.file_count, N_FILES);
    CHECK_STR(pf.main_name, "app.main");
    CHECK_EQ(pf.flags, KP_RUN_MODULE);
    CHECK_EQ(pf.optimize, SAMPLE_OPTIMIZE);
    for (uint32_t i = 0; i < pf.module_count; i++) {
        kp_module_at(&pm, i, &em);
        kp_module_at(&pf, i, &ef);
        CHECK_STR(ef.name, em.name);
        CHECK_STR(ef.path, em.path);
        CHECK_EQ(ef.flags, em.flags);
        CHECK(blob_eq(ef.a, em.a) && blob_eq(ef.b, em.b));
        CHECK_IEQ(kp_blob_verify(&pf, &ef.a), 0);
        CHECK_IEQ(kp_blob_verify(&pf, &ef.b), 0);
    }
    for (uint32_t i = 0; i < pf.file_count; i++) {
        kp_file_at(&pm, i, &em);
        kp_file_at(&pf, i, &ef);
        CHECK_STR(ef.name, em.name);
        CHECK(blob_eq(ef.a, em.a));
        CHECK_IEQ(kp_blob_verify(&pf, &ef.a), 0);
    }
    free(m.buf);
    free(f.buf);
}

/* A blob in pieces, bigger than the writer's buffer: the same blob as in
   one piece, its bytes in the file, its check the whole blob's. */
static void test_writer_blob_pieces(void)
{
    static const size_t cuts[] = {1000, 70000, 1, 0, 129000, 13};
    size_t total = 0;
    uint8_t *big;
    kp_writer *w = kp_writer_new(), *wf;
    kp_blob one, pieces, small, again;
    uint8_t *buf = NULL, *payload = NULL;
    size_t len;
    uint64_t size;
    char err[KP_ERRLEN] = "";
    kp_pack p;
    int fd = temp_fd();

    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        total += cuts[i];
    big = malloc(total);
    if (!CHECK(big != NULL && w != NULL) || fd < 0)
        goto done;
    for (size_t i = 0; i < total; i++)
        big[i] = (uint8_t)(i * 7 + (i >> 9));
    CHECK_IEQ(kp_writer_add_data(w, big, total, &one), 0);
    kp_writer_free(w);
    w = NULL;

    wf = kp_writer_new_fd(fd, 0);
    if (!CHECK(wf != NULL))
        goto done;
    CHECK_IEQ(kp_writer_add_data(wf, "abc", 3, &small), 0);
    CHECK_IEQ(kp_writer_blob_begin(wf), 0);
    for (size_t i = 0, at = 0; i < sizeof cuts / sizeof *cuts; i++) {
        CHECK_IEQ(kp_writer_blob_append(wf, big + at, cuts[i]), 0);
        at += cuts[i];
    }
    CHECK_IEQ(kp_writer_blob_end(wf, &pieces), 0);
    CHECK_EQ(pieces.offset, KP_DATA_ALIGN);
    CHECK_EQ(pieces.size, one.size);
    CHECK_EQ(pieces.check, one.check);
    CHECK_IEQ(kp_writer_add_data(wf, "defg", 4, &again), 0);
    CHECK_EQ(again.offset, (pieces.offset + total + KP_DATA_ALIGN - 1) &
                               ~(uint64_t)(KP_DATA_ALIGN - 1));
    CHECK_IEQ(kp_writer_add_file(wf, "big", pieces), 0);
    CHECK_IEQ(kp_writer_add_file(wf, "small", small), 0);
    CHECK_IEQ(kp_writer_add_file(wf, "again", again), 0);
    CHECK_IEQ(kp_writer_finish_fd(wf, &size, err, sizeof err), 0);
    kp_writer_free(wf);
    payload = malloc((size_t)size);
    if (!CHECK(payload != NULL) ||
        !CHECK(pread(fd, payload, (size_t)size, 0) == (ssize_t)size))
        goto done;
    if (!CHECK_MSG(kp_open(&p, payload, (size_t)size, err, sizeof err) == 0,
                   "kp_open: %s", err))
        goto done;
    CHECK_IEQ(kp_blob_verify(&p, &pieces), 0);
    CHECK(memcmp(kp_blob_bytes(&p, &pieces), big, total) == 0);
    CHECK(memcmp(kp_blob_bytes(&p, &again), "defg", 4) == 0);

    /* Misuse fails with a message, and the writer stays failed. */
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        goto done;
    CHECK_IEQ(kp_writer_blob_append(w, "x", 1), -1);
    CHECK(strstr(kp_writer_error(w), "outside a blob") != NULL);
    CHECK_IEQ(kp_writer_add_data(w, "x", 1, &one), -1);
    CHECK_IEQ(kp_writer_finish(w, &buf, &len, err, sizeof err), -1);
    CHECK(strstr(err, "outside a blob") != NULL);
    kp_writer_free(w);
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        goto done;
    CHECK_IEQ(kp_writer_blob_begin(w), 0);
    CHECK_IEQ(kp_writer_finish(w, &buf, &len, err, sizeof err), -1);
    CHECK(strstr(err, "not ended") != NULL);
    CHECK_IEQ(kp_writer_blob_begin(w), -1);
    CHECK_IEQ(kp_writer_finish_fd(w, &size, err, sizeof err), -1);
done:
    kp_writer_free(w);
    free(big);
    free(buf);
    free(payload);
    if (fd >= 0)
        close(fd);
}

/* A blob over 4 GiB - 1 bytes is refused before any of its bytes is read:
   the memory given is mapped without access. */
static void test_writer_blob_limit(void)
{
    size_t huge = (size_t)KP_BLOB_MAX + 1;
    void *none = mmap(NULL, huge, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    kp_writer *w = kp_writer_new();
    kp_blob b;

    if (!CHECK(none != MAP_FAILED) || !CHECK(w != NULL))
        goto done;
    CHECK_IEQ(kp_writer_add_data(w, none, huge, &b), -1);
    CHECK_MSG(strstr(kp_writer_error(w), "32-bit") != NULL,
              "error \"%s\" should name the 32-bit limit",
              kp_writer_error(w));
    kp_writer_free(w);
    /* In pieces: the piece that crosses the limit. */
    w = kp_writer_new();
    if (!CHECK(w != NULL))
        goto done;
    CHECK_IEQ(kp_writer_blob_begin(w), 0);
    CHECK_IEQ(kp_writer_blob_append(w, "0123456789abcdef", 16), 0);
    CHECK_IEQ(kp_writer_blob_append(w, none, huge - 16), -1);
    CHECK(strstr(kp_writer_error(w), "4294967295") != NULL);
done:
    kp_writer_free(w);
    if (none != MAP_FAILED)
        munmap(none, huge);
}

/* A file that cannot be written: the error names the offset and the
   cause, at the first write (a big blob) or at the end (small ones). */
static void test_writer_write_error(void)
{
    static uint8_t big[100000];
    int fd = open("/dev/null", O_RDONLY);
    char err[KP_ERRLEN] = "";
    kp_writer *w;
    uint64_t size;
    kp_blob b;

    if (!CHECK(fd >= 0))
        return;
    w = kp_writer_new_fd(fd, 4096);
    if (CHECK(w != NULL)) {
        CHECK_IEQ(kp_writer_add_data(w, "small", 5, &b), 0);
        CHECK_IEQ(kp_writer_finish_fd(w, &size, err, sizeof err), -1);
        CHECK_MSG(strstr(err, "cannot write the payload at file offset") !=
                      NULL, "error \"%s\"", err);
    }
    kp_writer_free(w);
    w = kp_writer_new_fd(fd, 0);
    if (CHECK(w != NULL)) {
        CHECK_IEQ(kp_writer_add_data(w, big, sizeof big, &b), -1);
        CHECK(strstr(kp_writer_error(w), "Bad file descriptor") != NULL);
        CHECK_IEQ(kp_writer_add_data(w, "x", 1, &b), -1);
    }
    kp_writer_free(w);
    CHECK(kp_writer_new_fd(-1, 0) == NULL);
    close(fd);
}

/* ---- contradictory flags and the launcher check ----------------------- */

/* Sets the flags of one entry of the sample (resealed): kp_open() refuses
   them, naming why, or (ok) accepts them. */
static void check_flags(int file, uint32_t i, uint32_t flags, int ok,
                        const char *expect, int line)
{
    sample s;
    char err[KP_ERRLEN] = "";
    kp_pack p;
    uint8_t *c;

    if (make_sample(&s)) {
        free(s.buf);
        return;
    }
    c = dup_bytes(s.buf, s.len);
    wr32((file ? file_entry(c, i) : mod_entry(c, i)) + E_FLAGS, flags);
    reseal(c);
    if (ok)
        CHECK_MSG(kp_open(&p, c, s.len, err, sizeof err) == 0,
                  "line %d: flags 0x%x refused: %s", line, flags, err);
    else if (CHECK_MSG(kp_open(&p, c, s.len, err, sizeof err) == -1,
                       "line %d: flags 0x%x accepted", line, flags))
        CHECK_MSG(strstr(err, expect) != NULL, "line %d: error \"%s\" should "
                  "mention \"%s\"", line, err, expect);
    free(c);
    free(s.buf);
}

/* Sample module entries: 2 app.fast (an extension), 5 app.ns (a
   namespace package); file entry 0 README.txt. */
static void test_contradictory_flags(void)
{
    const uint32_t code = KP_MOD_CODE, src = KP_MOD_SOURCE;
    const uint32_t ext = KP_MOD_EXTENSION, ns = KP_MOD_NAMESPACE;
    const uint32_t pkg = KP_MOD_PACKAGE;
    kp_writer *w = kp_writer_new();
    kp_blob none = {0, 0, 0};

    check_flags(0, 2, ext | code, 0, "extension module with bytecode",
                __LINE__);
    check_flags(0, 2, ext | src, 0, "extension module with bytecode or "
                "source", __LINE__);
    check_flags(0, 2, ext | code | src | pkg, 0, "extension", __LINE__);
    check_flags(0, 5, ns | pkg | code, 0, "namespace package with",
                __LINE__);
    check_flags(0, 5, ns | src, 0, "namespace package with", __LINE__);
    check_flags(0, 5, ns | ext, 0, "namespace package with", __LINE__);
    check_flags(1, 0, code, 0, "module flags on a file", __LINE__);
    check_flags(1, 0, KP_MOD_EXTRACT, 0, "module flags on a file", __LINE__);
    /* Fine: an extension that is a package's __init__ (Cython), a
       namespace package (a package) that is extracted, from the stdlib. */
    check_flags(0, 2, ext | pkg | KP_MOD_EXTRACT, 1, NULL, __LINE__);
    check_flags(0, 5, ns | pkg | KP_MOD_EXTRACT | KP_MOD_STDLIB, 1, NULL,
                __LINE__);
    check_flags(0, 5, ns, 1, NULL, __LINE__);
    /* The writer refuses them too. */
    if (CHECK(w != NULL)) {
        CHECK_IEQ(kp_writer_add_module(w, "x", "x.so", ext | code, none,
                                       none), -1);
        CHECK_MSG(strstr(kp_writer_error(w), "extension module with") !=
                      NULL, "writer: %s", kp_writer_error(w));
        CHECK_IEQ(kp_writer_add_module(w, "y", "y", ns | src, none, none),
                  -1);
        CHECK_IEQ(kp_writer_add_module(w, "z", "z/__init__.so", ext | pkg,
                                       none, none), 0);
    }
    kp_writer_free(w);
}

/* The header's launcher check: the writer to a file hashes the bytes
   before the payload; one in memory records none; kp_launcher_hash()
   reads the same bytes back, and fails on a file that is too short. */
static void test_launcher_check(void)
{
    uint8_t prefix[FD_PREFIX];
    sample m, f;
    kp_pack pm, pf;
    uint64_t sum = 0;
    int fd = temp_fd();

    memset(prefix, 0xee, sizeof prefix);
    if (make_sample(&m) || open_sample(&m, &pm) || make_sample_fd(&f) ||
        open_sample(&f, &pf) || fd < 0) {
        free(m.buf);
        free(f.buf);
        if (fd >= 0)
            close(fd);
        return;
    }
    CHECK_EQ(pm.launcher_check, 0);
    CHECK_EQ(pf.launcher_check, XXH3_64bits(prefix, sizeof prefix));
    CHECK(write(fd, prefix, sizeof prefix) == (ssize_t)sizeof prefix);
    CHECK_IEQ(kp_launcher_hash(fd, sizeof prefix, &sum), 0);
    CHECK_EQ(sum, pf.launcher_check);
    CHECK_IEQ(kp_launcher_hash(fd, sizeof prefix - 1, &sum), 0);
    CHECK(sum != pf.launcher_check);
    CHECK_IEQ(kp_launcher_hash(fd, sizeof prefix + 1, &sum), -1);
    /* A header byte of the launcher check set without a reseal: the index
       check covers it. */
    f.buf[104] ^= 1;
    {
        char err[KP_ERRLEN] = "";
        CHECK_IEQ(kp_open(&pf, f.buf, f.len, err, sizeof err), -1);
        CHECK_ERR(err, "index checksum mismatch");
    }
    close(fd);
    free(m.buf);
    free(f.buf);
}

int main(void)
{
    run_test("round_trip_header", test_round_trip_header);
    run_test("round_trip_modules", test_round_trip_modules);
    run_test("round_trip_files", test_round_trip_files);
    run_test("lookups", test_lookups);
    run_test("empty_tables", test_empty_tables);
    run_test("blob_verify", test_blob_verify);
    run_test("duplicates", test_duplicates);
    run_test("truncation", test_truncation);
    run_test("flipped_index", test_flipped_index);
    run_test("flipped_data", test_flipped_data);
    run_test("bad_headers", test_bad_headers);
    run_test("forged_index", test_forged_index);
    run_test("names", test_names);
    run_test("escape", test_escape);
    run_test("trailer", test_trailer);
    run_test("map_file", test_map_file);
    run_test("writer_fd_layout", test_writer_fd_layout);
    run_test("writer_blob_pieces", test_writer_blob_pieces);
    run_test("writer_blob_limit", test_writer_blob_limit);
    run_test("writer_write_error", test_writer_write_error);
    run_test("contradictory_flags", test_contradictory_flags);
    run_test("launcher_check", test_launcher_check);
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}
