/*
 * fuzz_kpack.c - libFuzzer target for the kpack reader.
 *
 * Feeds the input to kp_open(); when it is accepted, walks every module
 * and file entry, looks each one up again, and reads and verifies every
 * blob, so that any offset kp_open() failed to check becomes an ASan
 * report. A second pass repairs the index checksum first, so that mutations
 * also reach the checks behind it. The last KP_TRAILER_SIZE bytes go to
 * kp_trailer_read(). Build and run with `make fuzz`.
 */
#include "kpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void open_and_walk(const uint8_t *data, size_t size)
{
    kp_pack p;
    char err[KP_ERRLEN] = "";

    if (kp_open(&p, data, size, err, sizeof err) == 0)
        walk(&p, data, size);
    else
        REQUIRE(err[0] != 0);
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
