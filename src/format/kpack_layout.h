/*
 * kpack_layout.h - private to src/format: the byte layout of the kpack
 * format (field offsets, little-endian accessors and the index check),
 * shared by the reader (kpack_read.c) and the writer (kpack_write.c).
 * See docs/format.md.
 */
#ifndef KILN_KPACK_LAYOUT_H
#define KILN_KPACK_LAYOUT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kpack.h"
#include "kpack_hash.h"

/* Header field offsets; see docs/format.md. */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HEADER_SIZE = 12, H_PY_MAGIC = 16,
    H_PY_VERSION = 20, H_FLAGS = 24, H_OPTIMIZE = 28, H_MODULE_COUNT = 32,
    H_FILE_COUNT = 36, H_MODULES_OFF = 40, H_FILES_OFF = 48,
    H_STRINGS_OFF = 56, H_STRINGS_SIZE = 64, H_DATA_OFF = 72,
    H_DATA_SIZE = 80, H_MAIN_OFF = 88, H_MAIN_LEN = 92, H_INDEX_CHECK = 96,
    H_LAUNCHER_CHECK = 104, H_RESERVED = 112
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

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static inline int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* What contradicts itself in an entry's flags, or NULL. Blob a is either
   bytecode or an extension's image, blob b either a source or an
   extension's preload list; a namespace package has no blob; a file is
   no module. An extension may be a package (Cython's __init__.so, which
   CPython's FileFinder imports), and a namespace package is a package. */
static inline const char *flags_problem(uint32_t flags, int is_file)
{
    if (is_file)
        return flags ? "module flags on a file" : NULL;
    if ((flags & KP_MOD_EXTENSION) &&
        (flags & (KP_MOD_CODE | KP_MOD_SOURCE)))
        return "an extension module with bytecode or source";
    if ((flags & KP_MOD_NAMESPACE) &&
        (flags & (KP_MOD_CODE | KP_MOD_SOURCE | KP_MOD_EXTENSION)))
        return "a namespace package with bytecode, source or an extension";
    return NULL;
}

/* Is [off, off+len) inside [0, size)? Overflow-safe. */
static inline int in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static inline uint64_t index_check(const uint8_t *base, const kp_pack *p,
                            uint64_t modules_off, uint64_t files_off)
{
    uint8_t header[KP_HEADER_SIZE];
    XXH3_state_t st;

    memcpy(header, base, KP_HEADER_SIZE);
    put64(header + H_INDEX_CHECK, 0);
    XXH3_64bits_reset(&st);
    kp_xxh3_update(&st, header, sizeof header);
    kp_xxh3_update(&st, base + modules_off,
                   (size_t)p->module_count * KP_ENTRY_SIZE);
    kp_xxh3_update(&st, base + files_off,
                   (size_t)p->file_count * KP_ENTRY_SIZE);
    kp_xxh3_update(&st, p->strings, p->strings_size);
    return XXH3_64bits_digest(&st);
}

#endif
