/*
 * fuzz_kpack.c - libFuzzer target for the kpack reader and for what the
 * launcher does with the entries it accepts.
 *
 * Feeds the input to kp_open(); when it is accepted, walks every module
 * and file entry, looks each one up again, and reads and verifies every
 * blob, so that any offset kp_open() failed to check becomes an ASan
 * report. Then it does with the entries what the launcher does, through
 * the launcher's own code (src/launcher/entries.c): finds the main module,
 * builds every virtual path, splits every preload list and looks each path
 * up, and joins the path of every file that extracting a package writes;
 * every path built must stay inside its root. A second pass repairs the
 * index checksum first, so that mutations also reach the checks behind it.
 * The last KP_TRAILER_SIZE bytes go to kp_trailer_read(). Build and run
 * with `make fuzz`.
 */
#include "kpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entries.h"
#include "require.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Header field offsets, as in kpack_layout.h. */
enum {
    H_MODULE_COUNT = 32, H_FILE_COUNT = 36, H_MODULES_OFF = 40,
    H_FILES_OFF = 48, H_STRINGS_OFF = 56, H_STRINGS_SIZE = 64,
    H_INDEX_CHECK = 96
};
enum { T_CHECK = 28 }; /* trailer checksum offset */

static volatile uint32_t sink;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static void touch_blob(const kp_pack *p, const kp_blob *b)
{
    const uint8_t *bytes = kp_blob_bytes(p, b);
    uint32_t acc = 0;

    REQUIRE(bytes >= p->data && b->size <= p->data_size &&
            b->offset <= p->data_size - b->size);
    for (uint32_t i = 0; i < b->size; i++)
        acc += bytes[i];
    /* An empty blob always verifies: there is nothing to damage. */
    REQUIRE((kp_blob_verify(p, b) == 0) ==
            (b->size == 0 || kp_checksum32(bytes, b->size) == b->check));
    sink += acc;
}

static void check_entry(const kp_pack *p, const kp_entry *e)
{
    REQUIRE(e->name_len > 0 && e->name[e->name_len] == 0 &&
            strlen(e->name) == e->name_len);
    REQUIRE(e->path[e->path_len] == 0 && strlen(e->path) == e->path_len);
    REQUIRE((e->flags & ~(uint32_t)KP_MOD_ALL) == 0);
    touch_blob(p, &e->a);
    touch_blob(p, &e->b);
}

static void walk(const kp_pack *p, const uint8_t *data, size_t size)
{
    kp_entry e;
    size_t klen = size < 24 ? size : 24;
    long at;

    REQUIRE(p->main_name && strlen(p->main_name) < p->strings_size);
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        check_entry(p, &e);
        REQUIRE(kp_find_module(p, e.name, e.name_len) == (long)i);
        sink += (uint32_t)kp_find_module(p, e.name, e.name_len / 2);
    }
    for (uint32_t i = 0; i < p->file_count; i++) {
        kp_file_at(p, i, &e);
        check_entry(p, &e);
        REQUIRE(kp_find_file(p, e.name, e.name_len) == (long)i);
        REQUIRE(kp_files_lower_bound(p, e.name, e.name_len) == i);
        REQUIRE(kp_files_lower_bound(p, e.name, e.name_len / 2) <= i);
    }
    /* Lookups of keys that are probably absent: a piece of the input. */
    at = kp_find_module(p, (const char *)data, klen);
    if (at >= 0) {
        kp_module_at(p, (uint32_t)at, &e);
        REQUIRE(e.name_len == klen && memcmp(e.name, data, klen) == 0);
    }
    at = kp_find_file(p, (const char *)data, klen);
    if (at >= 0) {
        kp_file_at(p, (uint32_t)at, &e);
        REQUIRE(e.name_len == klen && memcmp(e.name, data, klen) == 0);
    }
    REQUIRE(kp_files_lower_bound(p, (const char *)data, klen) <=
            p->file_count);
    REQUIRE(kp_files_lower_bound(p, "", 0) == 0);
}

/* ---- what the launcher does with the entries --------------------------- */

#define EXE "/opt/app"
#define CACHE "/home/u/.cache/kiln/extract"

/* joined is root itself, or root "/" parts, none of them empty, "." or
   "..": a path that stays inside root. Checked here independently of
   kp_path_problem(). */
static void require_inside(const char *root, const char *joined)
{
    size_t rlen = strlen(root);
    const char *part;

    REQUIRE(strncmp(joined, root, rlen) == 0);
    if (joined[rlen] == '\0')
        return;
    REQUIRE(joined[rlen] == '/');
    for (part = joined + rlen + 1;;) {
        size_t n = strcspn(part, "/");
        REQUIRE(n > 0);
        REQUIRE(!(n == 1 && part[0] == '.'));
        REQUIRE(!(n == 2 && part[0] == '.' && part[1] == '.'));
        if (part[n] == '\0')
            break;
        part += n + 1;
    }
}

/* The path of rel[0:len] under root, as the launcher joins it. */
static void join_inside(const char *root, const char *rel, size_t len)
{
    static char out[4096];

    REQUIRE(len <= strlen(rel));
    if (ke_join(out, sizeof out, root, rel, len) == 0)
        require_inside(root, out);
}

static void check_file_extracted(const kp_pack *p, const char *root,
                                 const kp_entry *f, const char *top,
                                 size_t len)
{
    REQUIRE(ke_in_top(f, top, len));
    join_inside(root, f->path, f->path_len);
    sink += (uint32_t)kp_blob_verify(p, &f->a);
}

/* Extracting the top-level package of a module: the files of top, found
   as extract.c finds them, written under <cache>/<top>-<hash>. */
static void extract(const kp_pack *p, const kp_entry *m)
{
    size_t len = ke_top_len(m->path, m->path_len);
    char top[512], prefix[514], root[1024];
    long single;
    kp_entry f;

    REQUIRE(len > 0 && len <= m->path_len);
    if (len >= sizeof top)
        return; /* kiln_extract() refuses names that long */
    memcpy(top, m->path, len);
    top[len] = '\0';
    REQUIRE(strchr(top, '/') == NULL && strcmp(top, "..") != 0 &&
            strcmp(top, ".") != 0);
    snprintf(root, sizeof root, CACHE "/%s-0123456789abcdef", top);
    require_inside(CACHE, root);
    single = kp_find_file(p, top, len);
    if (single >= 0) {
        kp_file_at(p, (uint32_t)single, &f);
        check_file_extracted(p, root, &f, top, len);
    }
    snprintf(prefix, sizeof prefix, "%s/", top);
    for (uint32_t i = kp_files_lower_bound(p, prefix, len + 1);
         i < p->file_count; i++) {
        kp_file_at(p, i, &f);
        if (f.path_len <= len || memcmp(f.path, prefix, len + 1) != 0)
            break;
        check_file_extracted(p, root, &f, top, len);
    }
}

/* An extension module's preload list, split and looked up as the importer
   does before it loads the extension. */
static void preload(const kp_pack *p, const kp_entry *m)
{
    const char *list = (const char *)kp_blob_bytes(p, &m->b);
    const char *end = list + m->b.size, *pos = list, *item;
    size_t len, n = 0;
    kp_entry f;
    long at;

    while ((item = ke_preload_next(&pos, end, &len))) {
        REQUIRE(item >= list && item + len <= end && pos <= end);
        REQUIRE(memchr(item, '\n', len) == NULL);
        REQUIRE(++n <= (size_t)m->b.size);
        at = kp_find_file(p, item, len);
        if (at < 0)
            continue; /* an ImportError naming the path */
        kp_file_at(p, (uint32_t)at, &f);
        REQUIRE(f.name_len == len && memcmp(f.name, item, len) == 0);
        join_inside(EXE, f.path, f.path_len);
    }
}

static void launch(const kp_pack *p)
{
    uint32_t run = p->flags & KP_RUN_MASK;
    kp_entry e;

    /* The main module: there, and runnable, in an app. */
    if (run == KP_RUN_INTERPRETER) {
        REQUIRE(ke_main_entry(p, &e) == -1 && p->main_name[0] == '\0');
    } else {
        REQUIRE(ke_main_entry(p, &e) == 0);
        REQUIRE(strcmp(e.name, p->main_name) == 0);
        REQUIRE(run != KP_RUN_SCRIPT ||
                (e.flags & (KP_MOD_CODE | KP_MOD_SOURCE)));
    }
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        REQUIRE(kp_module_name_problem(e.name, e.name_len) == NULL);
        REQUIRE(ke_folder_len(e.path, e.path_len) < e.path_len);
        REQUIRE(ke_location_len(&e) <= e.path_len);
        join_inside(EXE, e.path, e.path_len);           /* __file__ */
        join_inside(EXE, e.path, ke_package_dir_len(&e)); /* __path__ */
        join_inside(EXE, e.path, ke_location_len(&e));    /* its folder */
        if (e.flags & KP_MOD_EXTRACT)
            extract(p, &e);
        if (e.flags & KP_MOD_EXTENSION)
            preload(p, &e);
    }
    for (uint32_t i = 0; i < p->file_count; i++) {
        kp_file_at(p, i, &e);
        REQUIRE(e.path_len == e.name_len &&
                memcmp(e.path, e.name, e.name_len) == 0);
        join_inside(EXE, e.path, e.path_len);
    }
}

static void open_and_walk(const uint8_t *data, size_t size)
{
    kp_pack p;
    char err[KP_ERRLEN] = "";

    if (kp_open(&p, data, size, err, sizeof err) == 0) {
        walk(&p, data, size);
        launch(&p);
    } else {
        REQUIRE(err[0] != 0);
        /* Names in the message are escaped: no control byte. */
        for (const char *c = err; *c; c++)
            REQUIRE((unsigned char)*c >= 0x20 && *c != 0x7f);
    }
}

/* A copy of the input with the index checksum recomputed, or NULL when the
   header does not place the hashed regions inside the input. */
static uint8_t *resealed(const uint8_t *data, size_t size)
{
    uint64_t mods, files, strings, strings_size, nmods, nfiles;
    uint8_t header[KP_HEADER_SIZE], *copy;
    XXH3_state_t st;
    uint64_t check;

    if (size < KP_HEADER_SIZE)
        return NULL;
    nmods = (uint64_t)rd32(data + H_MODULE_COUNT) * KP_ENTRY_SIZE;
    nfiles = (uint64_t)rd32(data + H_FILE_COUNT) * KP_ENTRY_SIZE;
    mods = rd64(data + H_MODULES_OFF);
    files = rd64(data + H_FILES_OFF);
    strings = rd64(data + H_STRINGS_OFF);
    strings_size = rd64(data + H_STRINGS_SIZE);
    if (!in_bounds(mods, nmods, size) || !in_bounds(files, nfiles, size) ||
        !in_bounds(strings, strings_size, size))
        return NULL;
    memcpy(header, data, KP_HEADER_SIZE);
    memset(header + H_INDEX_CHECK, 0, 8);
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, header, sizeof header);
    XXH3_64bits_update(&st, data + mods, (size_t)nmods);
    XXH3_64bits_update(&st, data + files, (size_t)nfiles);
    XXH3_64bits_update(&st, data + strings, (size_t)strings_size);
    check = XXH3_64bits_digest(&st);
    if (check == rd64(data + H_INDEX_CHECK))
        return NULL; /* already sealed: the first pass covered it */
    copy = malloc(size);
    if (!copy)
        return NULL;
    memcpy(copy, data, size);
    for (int i = 0; i < 8; i++)
        copy[H_INDEX_CHECK + i] = (uint8_t)(check >> (8 * i));
    return copy;
}

static void read_trailer(const uint8_t *t, uint64_t size)
{
    uint64_t off = 0, len = 0;
    char err[KP_ERRLEN] = "";

    if (kp_trailer_read(t, size, &off, &len, err, sizeof err) == 0)
        REQUIRE(size >= KP_TRAILER_SIZE && off <= size &&
                off + len == size - KP_TRAILER_SIZE);
    else
        REQUIRE(err[0] != 0);
}

/* The trailer as found, and again with its checksum repaired. */
static void trailer(const uint8_t *data, size_t size)
{
    uint8_t t[KP_TRAILER_SIZE];
    uint32_t check;

    if (size < KP_TRAILER_SIZE)
        return;
    memcpy(t, data + size - KP_TRAILER_SIZE, KP_TRAILER_SIZE);
    read_trailer(t, size);
    check = kp_checksum32(t, T_CHECK);
    for (int i = 0; i < 4; i++)
        t[T_CHECK + i] = (uint8_t)(check >> (8 * i));
    read_trailer(t, size);
    /* A file size taken from the input, so it can also be tiny. */
    read_trailer(t, data[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;

    open_and_walk(data, size);
    copy = resealed(data, size);
    if (copy) {
        open_and_walk(copy, size);
        free(copy);
    }
    trailer(data, size);
    return 0;
}
