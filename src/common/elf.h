/*
 * elf.h - reads the dynamic dependencies of a 64-bit little-endian ELF
 * shared object held in memory: DT_NEEDED, DT_SONAME, DT_RPATH and
 * DT_RUNPATH. The image is untrusted; every offset, size and count is
 * checked before use. Used by the kiln command to find the shared libraries
 * an extension module needs.
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

#endif
