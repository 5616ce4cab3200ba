/*
 * elf.c - reads DT_NEEDED, DT_SONAME, DT_RPATH and DT_RUNPATH of a 64-bit
 * little-endian ELF shared object in memory, and where its read-only data
 * lies. The image is untrusted: the header, the program and section header
 * tables, the dynamic segment, the string table and each read-only range
 * are checked to lie inside the image before they are read, and every
 * string to end inside its table or range. Fields are read byte by byte as
 * little-endian, so the result does not depend on the host.
 *
 * Dependencies: ELF header -> program headers -> PT_DYNAMIC -> dynamic
 * entries; DT_STRTAB is an address, mapped to a file offset through the
 * PT_LOAD segment that holds it. Read-only data: ELF header -> section
 * headers (else program headers) -> their flags.
 */
#include "elf.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { DYN_SIZE = 16 }; /* Elf64_Dyn: d_tag, d_val */

typedef struct {
    const uint8_t *p;
    size_t size;
    char *err;
    size_t errlen;
} image;

static int fail(const image *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(const image *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err, im->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t rd(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Does [off, off + len) lie inside the image? Overflow-safe. */
static int inside(const image *im, uint64_t off, uint64_t len)
{
    return off <= im->size && len <= im->size - off;
}

typedef struct {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
} segment;

static segment phdr_at(const image *im, uint64_t off)
{
    const uint8_t *p = im->p + off;
    return (segment){(uint32_t)rd(p + offsetof(Elf64_Phdr, p_type), 4),
                     rd(p + offsetof(Elf64_Phdr, p_offset), 8),
                     rd(p + offsetof(Elf64_Phdr, p_vaddr), 8),
                     rd(p + offsetof(Elf64_Phdr, p_filesz), 8)};
}

/* exec: an executable (ET_EXEC) is accepted too, for its read-only data
   (a launcher linked with -no-pie). */
static int check_header(const image *im, int exec, uint16_t *machine,
                        uint64_t *phoff, uint16_t *phnum,
                        uint16_t *phentsize)
{
    const uint8_t *p = im->p;
    uint16_t type;

    if (im->size < sizeof(Elf64_Ehdr))
        return fail(im, "too short for an ELF header (%zu bytes)", im->size);
    if (memcmp(p, ELFMAG, SELFMAG) != 0)
        return fail(im, "not an ELF file (no \\177ELF magic)");
    if (p[EI_CLASS] != ELFCLASS64 || p[EI_DATA] != ELFDATA2LSB)
        return fail(im, "not a 64-bit little-endian ELF file (class %u, "
                        "data %u)", p[EI_CLASS], p[EI_DATA]);
    if (p[EI_VERSION] != EV_CURRENT)
        return fail(im, "unknown ELF version %u", p[EI_VERSION]);
    type = (uint16_t)rd(p + offsetof(Elf64_Ehdr, e_type), 2);
    if (type != ET_DYN && !(exec && type == ET_EXEC))
        return fail(im, "not a shared object (ELF type %u)", type);
    *machine = (uint16_t)rd(p + offsetof(Elf64_Ehdr, e_machine), 2);
    *phoff = rd(p + offsetof(Elf64_Ehdr, e_phoff), 8);
    *phentsize = (uint16_t)rd(p + offsetof(Elf64_Ehdr, e_phentsize), 2);
    *phnum = (uint16_t)rd(p + offsetof(Elf64_Ehdr, e_phnum), 2);
    if (*phnum == PN_XNUM)
        return fail(im, "more than %u program headers: not supported",
                    PN_XNUM - 1);
    if (*phnum && *phentsize < sizeof(Elf64_Phdr))
        return fail(im, "program header entries of %u bytes, fewer than %zu",
                    *phentsize, sizeof(Elf64_Phdr));
    if (!inside(im, *phoff, (uint64_t)*phnum * *phentsize))
        return fail(im, "the program header table (offset %llu, %u entries "
                        "of %u bytes) lies outside the file (%zu bytes)",
                    (unsigned long long)*phoff, *phnum, *phentsize,
                    im->size);
    return 0;
}

/* File offset of the string table at address addr, size strsz. */
static int map_strtab(const image *im, uint64_t phoff, uint16_t phnum,
                      uint16_t phentsize, uint64_t addr, uint64_t strsz,
                      uint64_t *off)
{
    for (uint16_t i = 0; i < phnum; i++) {
        segment s = phdr_at(im, phoff + (uint64_t)i * phentsize);
        if (s.type != PT_LOAD || addr < s.vaddr ||
            addr - s.vaddr >= s.filesz)
            continue;
        if (!inside(im, s.offset, s.filesz))
            return fail(im, "PT_LOAD segment %u (offset %llu, %llu bytes) "
                            "lies outside the file (%zu bytes)", i,
                        (unsigned long long)s.offset,
                        (unsigned long long)s.filesz, im->size);
        if (strsz > s.filesz - (addr - s.vaddr))
            return fail(im, "the string table (address 0x%llx, %llu bytes) "
                            "runs past the end of PT_LOAD segment %u",
                        (unsigned long long)addr,
                        (unsigned long long)strsz, i);
        *off = s.offset + (addr - s.vaddr);
        return 0;
    }
    return fail(im, "the string table address 0x%llx is in no PT_LOAD "
                    "segment's file contents", (unsigned long long)addr);
}

/* The string at offset str of the string table, or NULL with err set. */
static const char *string_at(const image *im, uint64_t strtab, uint64_t strsz,
                             uint64_t str, const char *what)
{
    const char *s;

    if (str >= strsz) {
        fail(im, "%s: string offset %llu is past the string table (%llu "
                 "bytes)", what, (unsigned long long)str,
             (unsigned long long)strsz);
        return NULL;
    }
    s = (const char *)im->p + strtab + str;
    if (!memchr(s, '\0', strsz - str)) {
        fail(im, "%s: the string at offset %llu runs past the end of the "
                 "string table", what, (unsigned long long)str);
        return NULL;
    }
    return s;
}

/* A tag that may appear once: its value into *slot. */
static int once(const image *im, uint64_t *slot, uint64_t value,
                const char *tag, uint64_t at)
{
    if (*slot != UINT64_MAX)
        return fail(im, "a second %s entry at offset %llu", tag,
                    (unsigned long long)at);
    *slot = value;
    return 0;
}

int elf_read_deps(const void *buf, size_t size, elf_deps *out, char *err,
                  size_t errlen)
{
    image im = {buf, size, err, errlen};
    uint64_t phoff = 0, dyn_at = 0, dyn_size = 0, strtab_off = 0;
    uint64_t strtab = UINT64_MAX, strsz = UINT64_MAX, soname = UINT64_MAX,
             rpath = UINT64_MAX, runpath = UINT64_MAX;
    uint64_t needed[ELF_MAX_NEEDED];
    uint16_t phnum = 0, phentsize = 0;
    int dynamics = 0;

    memset(out, 0, sizeof *out);
    if (check_header(&im, 0, &out->machine, &phoff, &phnum, &phentsize) != 0)
        return -1;
    for (uint16_t i = 0; i < phnum; i++) {
        segment s = phdr_at(&im, phoff + (uint64_t)i * phentsize);
        if (s.type != PT_DYNAMIC)
            continue;
        if (dynamics++)
            return fail(&im, "a second PT_DYNAMIC program header (%u)", i);
        if (!inside(&im, s.offset, s.filesz))
            return fail(&im, "the dynamic segment (offset %llu, %llu bytes) "
                             "lies outside the file (%zu bytes)",
                        (unsigned long long)s.offset,
                        (unsigned long long)s.filesz, size);
        dyn_at = s.offset;
        dyn_size = s.filesz;
    }
    for (uint64_t at = dyn_at; at + DYN_SIZE <= dyn_at + dyn_size;
         at += DYN_SIZE) {
        uint64_t tag = rd(im.p + at, 8), val = rd(im.p + at + 8, 8);
        int rc = 0;

        if (tag == DT_NULL)
            break;
        if (tag == DT_NEEDED) {
            if (out->needed_count == ELF_MAX_NEEDED)
                return fail(&im, "more than %d DT_NEEDED entries",
                            ELF_MAX_NEEDED);
            needed[out->needed_count++] = val;
        } else if (tag == DT_STRTAB) {
            rc = once(&im, &strtab, val, "DT_STRTAB", at);
        } else if (tag == DT_STRSZ) {
            rc = once(&im, &strsz, val, "DT_STRSZ", at);
        } else if (tag == DT_SONAME) {
            rc = once(&im, &soname, val, "DT_SONAME", at);
        } else if (tag == DT_RPATH) {
            rc = once(&im, &rpath, val, "DT_RPATH", at);
        } else if (tag == DT_RUNPATH) {
            rc = once(&im, &runpath, val, "DT_RUNPATH", at);
        }
        if (rc)
            return -1;
    }
    if (!out->needed_count && soname == UINT64_MAX && rpath == UINT64_MAX &&
        runpath == UINT64_MAX)
        return 0;
    if (strtab == UINT64_MAX || strsz == UINT64_MAX || strsz == 0)
        return fail(&im, "the dynamic segment names libraries but has no "
                         "string table (DT_STRTAB and DT_STRSZ)");
    if (map_strtab(&im, phoff, phnum, phentsize, strtab, strsz,
                   &strtab_off) != 0)
        return -1;
    for (unsigned i = 0; i < out->needed_count; i++)
        if (!(out->needed[i] = string_at(&im, strtab_off, strsz, needed[i],
                                         "DT_NEEDED")))
            return -1;
    if ((soname != UINT64_MAX &&
         !(out->soname = string_at(&im, strtab_off, strsz, soname,
                                   "DT_SONAME"))) ||
        (rpath != UINT64_MAX &&
         !(out->rpath = string_at(&im, strtab_off, strsz, rpath,
                                  "DT_RPATH"))) ||
        (runpath != UINT64_MAX &&
         !(out->runpath = string_at(&im, strtab_off, strsz, runpath,
                                    "DT_RUNPATH"))))
        return -1;
    return 0;
}

/* ---- read-only data ------------------------------------------------------ */

/* Adds [off, off + len) to out, checked to lie inside the image. what and
   i name it in messages. */
static int add_range(const image *im, elf_rodata *out, uint64_t off,
                     uint64_t len, const char *what, uint64_t i)
{
    if (len == 0)
        return 0;
    if (!inside(im, off, len))
        return fail(im, "%s %llu (offset %llu, %llu bytes) lies outside the "
                        "file (%zu bytes)", what, (unsigned long long)i,
                    (unsigned long long)off, (unsigned long long)len,
                    im->size);
    if (out->count == ELF_MAX_RODATA)
        return fail(im, "more than %d read-only sections", ELF_MAX_RODATA);
    out->range[out->count++] = (elf_range){off, len};
    return 0;
}

/* The section header table: offset, entry size and count (the count is
   in section 0's sh_size when e_shnum is 0 and there is a table). */
static int section_table(const image *im, uint64_t *shoff, uint64_t *shnum,
                         uint16_t *shentsize)
{
    const uint8_t *p = im->p;

    *shoff = rd(p + offsetof(Elf64_Ehdr, e_shoff), 8);
    *shentsize = (uint16_t)rd(p + offsetof(Elf64_Ehdr, e_shentsize), 2);
    *shnum = rd(p + offsetof(Elf64_Ehdr, e_shnum), 2);
    if (*shoff == 0) { /* no section headers */
        *shnum = 0;
        return 0;
    }
    if (*shentsize < sizeof(Elf64_Shdr))
        return fail(im, "section header entries of %u bytes, fewer than %zu",
                    *shentsize, sizeof(Elf64_Shdr));
    if (*shnum == 0) { /* extended numbering */
        if (!inside(im, *shoff, sizeof(Elf64_Shdr)))
            return fail(im, "the section header table (offset %llu) lies "
                            "outside the file (%zu bytes)",
                        (unsigned long long)*shoff, im->size);
        *shnum = rd(p + *shoff + offsetof(Elf64_Shdr, sh_size), 8);
    }
    if (*shnum > im->size / *shentsize ||
        !inside(im, *shoff, *shnum * *shentsize))
        return fail(im, "the section header table (offset %llu, %llu "
                        "entries of %u bytes) lies outside the file (%zu "
                        "bytes)", (unsigned long long)*shoff,
                    (unsigned long long)*shnum, *shentsize, im->size);
    return 0;
}

int elf_read_rodata(const void *buf, size_t size, elf_rodata *out, char *err,
                    size_t errlen)
{
    image im = {buf, size, err, errlen};
    uint64_t phoff = 0, shoff = 0, shnum = 0;
    uint16_t machine, phnum = 0, phentsize = 0, shentsize = 0;

    memset(out, 0, sizeof *out);
    if (check_header(&im, 1, &machine, &phoff, &phnum, &phentsize) != 0 ||
        section_table(&im, &shoff, &shnum, &shentsize) != 0)
        return -1;
    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *sh = im.p + shoff + i * shentsize;
        uint64_t flags = rd(sh + offsetof(Elf64_Shdr, sh_flags), 8);
        if (rd(sh + offsetof(Elf64_Shdr, sh_type), 4) == SHT_PROGBITS &&
            (flags & SHF_ALLOC) && !(flags & (SHF_WRITE | SHF_EXECINSTR)) &&
            add_range(&im, out, rd(sh + offsetof(Elf64_Shdr, sh_offset), 8),
                      rd(sh + offsetof(Elf64_Shdr, sh_size), 8), "section",
                      i) != 0)
            return -1;
    }
    for (uint16_t i = 0; shnum == 0 && i < phnum; i++) {
        const uint8_t *ph = im.p + phoff + (uint64_t)i * phentsize;
        segment s = phdr_at(&im, phoff + (uint64_t)i * phentsize);
        uint32_t flags = (uint32_t)rd(ph + offsetof(Elf64_Phdr, p_flags), 4);
        if (s.type == PT_LOAD && !(flags & (PF_W | PF_X)) &&
            add_range(&im, out, s.offset, s.filesz, "PT_LOAD segment", i))
            return -1;
    }
    return 0;
}

size_t elf_rodata_count(const void *image, const elf_rodata *ro,
                        const void *needle, size_t len)
{
    size_t n = 0;

    for (unsigned i = 0; len && i < ro->count; i++) {
        const uint8_t *p = (const uint8_t *)image + ro->range[i].offset;
        size_t left = (size_t)ro->range[i].size;
        const uint8_t *hit;
        while ((hit = memmem(p, left, needle, len))) {
            n++;
            left -= (size_t)(hit - p) + 1;
            p = hit + 1;
        }
    }
    return n;
}

const char *elf_rodata_next(const void *image, const elf_rodata *ro,
                            elf_cursor *c, size_t *len)
{
    for (; c->range < ro->count; c->range++, c->at = 0) {
        const char *base = (const char *)image + ro->range[c->range].offset;
        uint64_t size = ro->range[c->range].size;
        while (c->at < size) {
            const char *s = base + c->at;
            const char *nul = memchr(s, '\0', (size_t)(size - c->at));
            if (!nul) { /* runs past its range: not a string */
                c->at = size;
                break;
            }
            c->at += (uint64_t)(nul - s) + 1;
            if (nul > s) {
                *len = (size_t)(nul - s);
                return s;
            }
        }
    }
    return NULL;
}
