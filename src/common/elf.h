/*
 * elf.h - reads a 64-bit little-endian ELF shared object held in memory:
 * its dynamic dependencies (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH)
 * and where its read-only data lies. The image is untrusted; every offset,
 * size and count is checked before use. Used by the kiln command to find
 * the shared libraries an extension module needs, and the strings its C
 * code holds (module names it imports, `__file__`).
 *
 * Include it as "elf.h": the Makefile names project folders with -iquote,
 * so that <elf.h> stays the system's.
 */
#ifndef KILN_ELF_H
#define KILN_ELF_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_NEEDED 256
#define ELF_ERRLEN 256

/* Strings point into the image and are NUL-terminated inside its string
   table; NULL when the entry is absent. */
typedef struct {
    uint16_t machine; /* e_machine, e.g. 62 for x86-64 */
    const char *soname;
    const char *rpath;   /* DT_RPATH: colon-separated, may use $ORIGIN */
    const char *runpath; /* DT_RUNPATH */
    unsigned needed_count;
    const char *needed[ELF_MAX_NEEDED]; /* in DT_NEEDED order */
} elf_deps;

/* Fills *out from the image; 0, or -1 with a message in err saying what is
   wrong and at which file offset. An object without PT_DYNAMIC has no
   dependencies. */
int elf_read_deps(const void *image, size_t size, elf_deps *out, char *err,
                  size_t errlen);

/* The read-only data of an image: file ranges inside it. */
#define ELF_MAX_RODATA 64
typedef struct {
    uint64_t offset, size;
} elf_range;
typedef struct {
    unsigned count;
    elf_range range[ELF_MAX_RODATA];
} elf_rodata;

/* Fills *out with the file ranges of the image's read-only data: its
   sections that are allocated, hold contents (SHT_PROGBITS) and are
   neither writable nor executable (.rodata, .rodata.str1.1, .eh_frame, ...)
   or, when it has no section headers, its PT_LOAD segments that are
   neither writable nor executable. Empty sections are left out. The image
   may also be an executable (ET_EXEC). 0, or -1 with a message in err. */
int elf_read_rodata(const void *image, size_t size, elf_rodata *out,
                    char *err, size_t errlen);

/* How many times needle (len > 0 bytes) occurs in the read-only data;
   an occurrence does not span two ranges. */
size_t elf_rodata_count(const void *image, const elf_rodata *ro,
                        const void *needle, size_t len);

/* The NUL-terminated strings of the read-only data, in order: *cursor
   starts at {0, 0}; each call returns the next string that starts at
   a range's start or after a NUL and ends with a NUL inside its range, with
   its length in *len (empty strings are skipped), or NULL at the end. */
typedef struct {
    unsigned range;
    uint64_t at;
} elf_cursor;
const char *elf_rodata_next(const void *image, const elf_rodata *ro,
                            elf_cursor *cursor, size_t *len);

#endif
