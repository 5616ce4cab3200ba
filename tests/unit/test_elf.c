/*
 * test_elf.c - unit tests of the ELF reader (src/common/elf.c): dynamic
 * dependencies and read-only data.
 *
 * A synthetic shared object whose addresses differ from its file offsets is
 * read back; then every truncation, every bit flip of its header, program
 * headers, dynamic segment and string table, and a list of forged images
 * with a known defect. A second synthetic object, with section headers and
 * read-only, executable and writable parts, tests the read-only data the
 * same way. Real libraries of the host are read too. Build and run with
 * `make unit-test`; the last line of stdout is "N passed, N failed".
 */
#include "elf.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- the sample shared object ----------------------------------------- */

enum {
    PHOFF = 64, STRTAB_OFF = 256, DYN_OFF = 512, SAMPLE_SIZE = 1024,
    VADDR = 0x400000 /* the PT_LOAD's address: offsets != addresses */
};

static const char strings[] = "\0libone.so.1\0libc.so.6\0libsample.so.2\0"
                              "$ORIGIN/../lib\0/opt/x\0";
enum { S_ONE = 1, S_LIBC = 13, S_SONAME = 23, S_RUNPATH = 38, S_RPATH = 53 };

typedef struct {
    uint8_t b[SAMPLE_SIZE];
    int ndyn;
} sample;

static void wr(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void set_phdr(uint8_t *image, int i, uint32_t type, uint64_t off,
                     uint64_t vaddr, uint64_t filesz)
{
    uint8_t *p = image + PHOFF + i * sizeof(Elf64_Phdr);
    wr(p + offsetof(Elf64_Phdr, p_type), type, 4);
    wr(p + offsetof(Elf64_Phdr, p_offset), off, 8);
    wr(p + offsetof(Elf64_Phdr, p_vaddr), vaddr, 8);
    wr(p + offsetof(Elf64_Phdr, p_filesz), filesz, 8);
    wr(p + offsetof(Elf64_Phdr, p_memsz), filesz, 8);
}

static void add_dyn(sample *s, int64_t tag, uint64_t val)
{
    uint8_t *p = s->b + DYN_OFF + 16 * s->ndyn++;
    wr(p, (uint64_t)tag, 8);
    wr(p + 8, val, 8);
}

/* An x86-64 ELF header with PHNUM program headers at PHOFF. */
static void ehdr_start(uint8_t *h, unsigned phnum)
{
    memcpy(h, ELFMAG, SELFMAG);
    h[EI_CLASS] = ELFCLASS64;
    h[EI_DATA] = ELFDATA2LSB;
    h[EI_VERSION] = EV_CURRENT;
    wr(h + offsetof(Elf64_Ehdr, e_type), ET_DYN, 2);
    wr(h + offsetof(Elf64_Ehdr, e_machine), EM_X86_64, 2);
    wr(h + offsetof(Elf64_Ehdr, e_phoff), PHOFF, 8);
    wr(h + offsetof(Elf64_Ehdr, e_phentsize), sizeof(Elf64_Phdr), 2);
    wr(h + offsetof(Elf64_Ehdr, e_phnum), phnum, 2);
}

/* Header, PT_LOAD over the whole file, PT_DYNAMIC, the string table; the
   dynamic entries are left to the caller, then end_dyn(). */
static void sample_start(sample *s)
{
    uint8_t *h = s->b;

    memset(s, 0, sizeof *s);
    ehdr_start(h, 2);
    set_phdr(s->b, 0, PT_LOAD, 0, VADDR, SAMPLE_SIZE);
    set_phdr(s->b, 1, PT_DYNAMIC, DYN_OFF, VADDR + DYN_OFF,
             SAMPLE_SIZE - DYN_OFF);
    memcpy(s->b + STRTAB_OFF, strings, sizeof strings);
}

static void sample_full(sample *s)
{
    sample_start(s);
    add_dyn(s, DT_NEEDED, S_ONE);
    add_dyn(s, DT_NEEDED, S_LIBC);
    add_dyn(s, DT_SONAME, S_SONAME);
    add_dyn(s, DT_RUNPATH, S_RUNPATH);
    add_dyn(s, DT_RPATH, S_RPATH);
    add_dyn(s, DT_STRTAB, VADDR + STRTAB_OFF);
    add_dyn(s, DT_STRSZ, sizeof strings);
}

/* Every string of an accepted image ends inside it. */
static void check_inside(const uint8_t *b, size_t size, const elf_deps *d)
{
    const char *all[ELF_MAX_NEEDED + 3] = {d->soname, d->rpath, d->runpath};
    unsigned n = 3;

    CHECK(d->needed_count <= ELF_MAX_NEEDED);
    for (unsigned i = 0; i < d->needed_count && i < ELF_MAX_NEEDED; i++)
        all[n++] = d->needed[i];
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)all[i];
        if (!p)
            continue;
        if (!CHECK(p >= b && p < b + size))
            continue;
        CHECK(memchr(p, 0, (size_t)(b + size - p)) != NULL);
    }
}

/* A reader's result rc and message err must be a refusal naming needle. */
static void check_refusal(int rc, const char *err, const char *needle,
                          int line)
{
    check_at(rc == -1, __FILE__, line, "image accepted, expected \"%s\"",
             needle);
    check_at(strstr(err, needle) != NULL, __FILE__, line,
             "error \"%s\" should mention \"%s\"", err, needle);
}

/* Reads an image that must be refused with a message containing needle. */
static void expect_refused(const sample *s, size_t size, const char *needle,
                           int line)
{
    elf_deps d;
    char err[ELF_ERRLEN] = "";
    int rc = elf_read_deps(s->b, size, &d, err, sizeof err);

    check_refusal(rc, err, needle, line);
}

/* ---- cases -------------------------------------------------------------- */

static void test_read(void)
{
    sample s;
    elf_deps d;
    char err[ELF_ERRLEN] = "";

    sample_full(&s);
    CHECK_IEQ(elf_read_deps(s.b, sizeof s.b, &d, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_EQ(d.machine, EM_X86_64);
    CHECK_EQ(d.needed_count, 2);
    CHECK_STR(d.needed[0], "libone.so.1");
    CHECK_STR(d.needed[1], "libc.so.6");
    CHECK_STR(d.soname, "libsample.so.2");
    CHECK_STR(d.runpath, "$ORIGIN/../lib");
    CHECK_STR(d.rpath, "/opt/x");
    CHECK(d.soname == (const char *)s.b + STRTAB_OFF + S_SONAME);
}

static void test_absent_entries(void)
{
    sample s;
    elf_deps d;
    char err[ELF_ERRLEN];

    /* Only a soname; the entries after DT_NULL are never read. */
    sample_start(&s);
    add_dyn(&s, DT_SONAME, S_SONAME);
    add_dyn(&s, DT_STRTAB, VADDR + STRTAB_OFF);
    add_dyn(&s, DT_STRSZ, sizeof strings);
    add_dyn(&s, DT_NULL, 0);
    add_dyn(&s, DT_NEEDED, 9999);
    CHECK_IEQ(elf_read_deps(s.b, sizeof s.b, &d, err, sizeof err), 0);
    CHECK_EQ(d.needed_count, 0);
    CHECK_STR(d.soname, "libsample.so.2");
    CHECK(d.rpath == NULL && d.runpath == NULL);

    /* No dynamic segment at all: a self-contained object. */
    sample_start(&s);
    set_phdr(s.b, 1, PT_NOTE, 0, 0, 0);
    CHECK_IEQ(elf_read_deps(s.b, sizeof s.b, &d, err, sizeof err), 0);
    CHECK_EQ(d.needed_count, 0);
    CHECK(d.soname == NULL);

    /* A dynamic segment that names nothing needs no string table. */
    sample_start(&s);
    add_dyn(&s, DT_FLAGS, 0);
    CHECK_IEQ(elf_read_deps(s.b, sizeof s.b, &d, err, sizeof err), 0);
    CHECK_EQ(d.needed_count, 0);
}

static void test_truncation(void)
{
    sample s;
    elf_deps d;
    char err[ELF_ERRLEN];

    sample_full(&s);
    for (size_t n = 0; n < sizeof s.b; n++) {
        err[0] = 0;
        if (elf_read_deps(s.b, n, &d, err, sizeof err) == 0)
            check_inside(s.b, n, &d);
        else
            CHECK_MSG(err[0] != 0, "no message at length %zu", n);
    }
    expect_refused(&s, 10, "too short", __LINE__);
    expect_refused(&s, DYN_OFF + 8, "outside the file", __LINE__);
}

/* Every bit of the meaningful bytes flipped: accepted or refused with a
   message, never a read outside the image (ASan checks that). */
static void test_bit_flips(void)
{
    static const struct { size_t from, to; } ranges[] = {
        {0, 64}, {PHOFF, PHOFF + 2 * sizeof(Elf64_Phdr)},
        {STRTAB_OFF, STRTAB_OFF + sizeof strings},
        {DYN_OFF, DYN_OFF + 8 * 16}};
    sample s, orig;
    elf_deps d;
    char err[ELF_ERRLEN];

    sample_full(&orig);
    for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
        for (size_t i = ranges[r].from; i < ranges[r].to; i++)
            for (int bit = 0; bit < 8; bit++) {
                s = orig;
                s.b[i] ^= (uint8_t)(1u << bit);
                err[0] = 0;
                if (elf_read_deps(s.b, sizeof s.b, &d, err, sizeof err) == 0)
                    check_inside(s.b, sizeof s.b, &d);
                else
                    CHECK_MSG(err[0] != 0, "no message, byte %zu bit %d", i,
                              bit);
            }
}

static void test_bad_headers(void)
{
    static const struct {
        size_t at, width;
        uint64_t value;
        const char *needle;
    } cases[] = {
        {1, 1, 'X', "not an ELF file"},
        {EI_CLASS, 1, ELFCLASS32, "not a 64-bit little-endian"},
        {EI_DATA, 1, ELFDATA2MSB, "not a 64-bit little-endian"},
        {EI_VERSION, 1, 2, "unknown ELF version"},
        {offsetof(Elf64_Ehdr, e_type), 2, ET_EXEC,
         "not a shared object (ELF type 2)"},
        {offsetof(Elf64_Ehdr, e_phentsize), 2, 32, "entries of 32 bytes"},
        {offsetof(Elf64_Ehdr, e_phnum), 2, PN_XNUM,
         "more than 65534 program headers"},
        {offsetof(Elf64_Ehdr, e_phnum), 2, 20, "program header table"},
        /* An offset that wraps around when the table size is added. */
        {offsetof(Elf64_Ehdr, e_phoff), 8, UINT64_MAX - 8,
         "program header table"},
    };
    sample s;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sample_full(&s);
        wr(s.b + cases[i].at, cases[i].value, (int)cases[i].width);
        expect_refused(&s, sizeof s.b, cases[i].needle, __LINE__);
    }
}

static void test_bad_segments(void)
{
    sample s;

    sample_full(&s);
    set_phdr(s.b, 1, PT_DYNAMIC, DYN_OFF, 0, UINT64_MAX - 100);
    expect_refused(&s, sizeof s.b, "dynamic segment", __LINE__);
    sample_full(&s);
    set_phdr(s.b, 1, PT_DYNAMIC, UINT64_MAX, 0, 16);
    expect_refused(&s, sizeof s.b, "dynamic segment", __LINE__);
    sample_full(&s);
    set_phdr(s.b, 0, PT_DYNAMIC, DYN_OFF, 0, 16);
    expect_refused(&s, sizeof s.b, "a second PT_DYNAMIC", __LINE__);
    /* The string table's address is in no loaded segment. */
    sample_full(&s);
    set_phdr(s.b, 0, PT_LOAD, 0, 0x800000, SAMPLE_SIZE);
    expect_refused(&s, sizeof s.b, "in no PT_LOAD", __LINE__);
    /* A PT_LOAD that claims more of the file than there is. */
    sample_full(&s);
    set_phdr(s.b, 0, PT_LOAD, 0, VADDR, SAMPLE_SIZE + 1);
    expect_refused(&s, sizeof s.b, "PT_LOAD segment 0", __LINE__);
    sample_full(&s);
    set_phdr(s.b, 0, PT_LOAD, UINT64_MAX - 10, VADDR, 4096);
    expect_refused(&s, sizeof s.b, "PT_LOAD segment 0", __LINE__);
    /* A string table that runs past the end of its segment. */
    sample_full(&s);
    set_phdr(s.b, 0, PT_LOAD, 0, VADDR, STRTAB_OFF + 8);
    set_phdr(s.b, 1, PT_DYNAMIC, DYN_OFF, 0, 16 * 8);
    expect_refused(&s, sizeof s.b, "runs past the end of PT_LOAD", __LINE__);
}

static void test_bad_dynamic(void)
{
    sample s;

    sample_full(&s);
    add_dyn(&s, DT_SONAME, S_ONE);
    expect_refused(&s, sizeof s.b, "a second DT_SONAME", __LINE__);
    sample_full(&s);
    add_dyn(&s, DT_STRTAB, VADDR);
    expect_refused(&s, sizeof s.b, "a second DT_STRTAB", __LINE__);
    sample_start(&s);
    add_dyn(&s, DT_NEEDED, S_ONE);
    expect_refused(&s, sizeof s.b, "no string table", __LINE__);
    sample_start(&s);
    add_dyn(&s, DT_NEEDED, S_ONE);
    add_dyn(&s, DT_STRTAB, VADDR + STRTAB_OFF);
    add_dyn(&s, DT_STRSZ, 0);
    expect_refused(&s, sizeof s.b, "no string table", __LINE__);
    /* A name offset past the string table. */
    sample_full(&s);
    add_dyn(&s, DT_NEEDED, sizeof strings);
    expect_refused(&s, sizeof s.b, "DT_NEEDED: string offset", __LINE__);
    sample_full(&s);
    add_dyn(&s, DT_NEEDED, UINT64_MAX - 1);
    expect_refused(&s, sizeof s.b, "DT_NEEDED: string offset", __LINE__);
    /* A table whose last string has no NUL inside DT_STRSZ. */
    sample_full(&s);
    wr(s.b + DYN_OFF + 16 * 6 + 8, sizeof strings - 2, 8);
    expect_refused(&s, sizeof s.b, "DT_RPATH: the string at offset 53 runs",
                   __LINE__);
}

static void test_too_many_needed(void)
{
    static uint8_t big[DYN_OFF + 16 * (ELF_MAX_NEEDED + 4)];
    sample s;
    elf_deps d;
    char err[ELF_ERRLEN] = "";

    sample_full(&s);
    memcpy(big, s.b, DYN_OFF);
    set_phdr(big, 0, PT_LOAD, 0, VADDR, sizeof big);
    set_phdr(big, 1, PT_DYNAMIC, DYN_OFF, 0, sizeof big - DYN_OFF);
    for (int i = 0; i < ELF_MAX_NEEDED + 3; i++) {
        wr(big + DYN_OFF + 16 * i, DT_NEEDED, 8);
        wr(big + DYN_OFF + 16 * i + 8, S_LIBC, 8);
    }
    CHECK_IEQ(elf_read_deps(big, sizeof big, &d, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "more than 256 DT_NEEDED") != NULL, "%s", err);
}

/* ---- read-only data ------------------------------------------------------ */

/* An object with three PT_LOAD segments (read-only, executable, writable),
   and section headers for .rodata, .text, .data, .bss, a non-allocated
   .comment and an empty read-only section. "__file__" is in each; only
   .rodata's two count (one a C string, one inside a length-prefixed
   table as mypyc writes them). */
enum {
    RO_OFF = 512, TEXT_OFF = 1024, DATA_OFF = 1280, COMMENT_OFF = 1400,
    SHOFF = 1536, RO_NSECT = 7, RO_SIZE = 2048
};
static const char ro_strings[] = "\0_cffi_backend\0__file__\0x.y\0\0"
                                 "\x08__file__\x07relpath\0tail";
enum { RO_LEN = sizeof ro_strings - 1 }; /* "tail" has no NUL in range */

typedef struct {
    uint8_t b[RO_SIZE];
} ro_sample;

static void set_section(uint8_t *image, int i, uint32_t type, uint64_t flags,
                        uint64_t off, uint64_t size)
{
    uint8_t *p = image + SHOFF + i * sizeof(Elf64_Shdr);
    wr(p + offsetof(Elf64_Shdr, sh_type), type, 4);
    wr(p + offsetof(Elf64_Shdr, sh_flags), flags, 8);
    wr(p + offsetof(Elf64_Shdr, sh_offset), off, 8);
    wr(p + offsetof(Elf64_Shdr, sh_size), size, 8);
}

static void set_pflags(uint8_t *image, int i, uint32_t flags)
{
    wr(image + PHOFF + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_flags),
       flags, 4);
}

static void ro_sample_make(ro_sample *s)
{
    uint8_t *h = s->b;

    memset(s, 0, sizeof *s);
    ehdr_start(h, 3);
    wr(h + offsetof(Elf64_Ehdr, e_shoff), SHOFF, 8);
    wr(h + offsetof(Elf64_Ehdr, e_shentsize), sizeof(Elf64_Shdr), 2);
    wr(h + offsetof(Elf64_Ehdr, e_shnum), RO_NSECT, 2);
    set_phdr(h, 0, PT_LOAD, 0, VADDR, TEXT_OFF);
    set_pflags(h, 0, PF_R);
    set_phdr(h, 1, PT_LOAD, TEXT_OFF, VADDR + TEXT_OFF, DATA_OFF - TEXT_OFF);
    set_pflags(h, 1, PF_R | PF_X);
    set_phdr(h, 2, PT_LOAD, DATA_OFF, VADDR + DATA_OFF, 256);
    set_pflags(h, 2, PF_R | PF_W);
    memcpy(h + RO_OFF, ro_strings, RO_LEN);
    memcpy(h + TEXT_OFF, "\0__file__\0", 10);
    memcpy(h + DATA_OFF, "\0__file__\0", 10);
    memcpy(h + COMMENT_OFF, "\0__file__\0", 10);
    set_section(h, 1, SHT_PROGBITS, SHF_ALLOC, RO_OFF, RO_LEN);
    set_section(h, 2, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, TEXT_OFF, 64);
    set_section(h, 3, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, DATA_OFF, 64);
    set_section(h, 4, SHT_NOBITS, SHF_ALLOC | SHF_WRITE, DATA_OFF + 64, 64);
    set_section(h, 5, SHT_PROGBITS, 0, COMMENT_OFF, 10);
    set_section(h, 6, SHT_PROGBITS, SHF_ALLOC, 0, 0);
}

/* Every range of an accepted image lies inside it, and every string the
   cursor gives ends with a NUL inside its range. */
static void check_rodata_inside(const uint8_t *b, size_t size,
                                const elf_rodata *ro)
{
    elf_cursor c = {0, 0};
    const char *s;
    size_t len;

    CHECK(ro->count <= ELF_MAX_RODATA);
    for (unsigned i = 0; i < ro->count && i < ELF_MAX_RODATA; i++)
        CHECK(ro->range[i].size > 0 && ro->range[i].offset <= size &&
              ro->range[i].size <= size - ro->range[i].offset);
    while ((s = elf_rodata_next(b, ro, &c, &len))) {
        const elf_range *r = &ro->range[c.range];
        const uint8_t *p = (const uint8_t *)s;
        CHECK(p >= b + r->offset && p + len < b + r->offset + r->size);
        CHECK(p[len] == 0 && len > 0);
    }
}

static void expect_ro_refused(const ro_sample *s, size_t size,
                              const char *needle, int line)
{
    elf_rodata ro;
    char err[ELF_ERRLEN] = "";
    int rc = elf_read_rodata(s->b, size, &ro, err, sizeof err);

    check_refusal(rc, err, needle, line);
}

static void test_rodata(void)
{
    static const char *const want[] = {"_cffi_backend", "__file__", "x.y",
                                        "\x08__file__\x07relpath"};
    ro_sample s;
    elf_rodata ro;
    elf_cursor c = {0, 0};
    char err[ELF_ERRLEN] = "";
    const char *str;
    size_t len, n = 0;

    ro_sample_make(&s);
    CHECK_IEQ(elf_read_rodata(s.b, sizeof s.b, &ro, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_EQ(ro.count, 1);
    CHECK_EQ(ro.range[0].offset, RO_OFF);
    CHECK_EQ(ro.range[0].size, RO_LEN);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "__file__", 8), 2);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "_cffi_backend", 13), 1);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "nowhere", 7), 0);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "", 0), 0);
    while ((str = elf_rodata_next(s.b, &ro, &c, &len))) {
        if (CHECK_MSG(n < 4, "a fifth string: %s", str))
            CHECK_STR(str, want[n]);
        CHECK_EQ(len, strlen(str));
        n++;
    }
    CHECK_EQ(n, 4);
    CHECK(elf_rodata_next(s.b, &ro, &c, &len) == NULL);
    check_rodata_inside(s.b, sizeof s.b, &ro);
}

static void test_rodata_segments(void)
{
    ro_sample s;
    elf_rodata ro;
    char err[ELF_ERRLEN] = "";

    /* Without section headers: the read-only PT_LOAD, headers and all. */
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shoff), 0, 8);
    CHECK_IEQ(elf_read_rodata(s.b, sizeof s.b, &ro, err, sizeof err), 0);
    CHECK_EQ(ro.count, 1);
    CHECK_EQ(ro.range[0].offset, 0);
    CHECK_EQ(ro.range[0].size, TEXT_OFF);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "__file__", 8), 2);
    /* Extended numbering: e_shnum 0, the count in section 0's sh_size. */
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shnum), 0, 2);
    wr(s.b + SHOFF + offsetof(Elf64_Shdr, sh_size), RO_NSECT, 8);
    CHECK_IEQ(elf_read_rodata(s.b, sizeof s.b, &ro, err, sizeof err), 0);
    CHECK_EQ(ro.count, 1);
    CHECK_EQ(ro.range[0].offset, RO_OFF);
    /* No section and no read-only segment: nothing, and no error. */
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shoff), 0, 8);
    set_pflags(s.b, 0, PF_R | PF_X);
    CHECK_IEQ(elf_read_rodata(s.b, sizeof s.b, &ro, err, sizeof err), 0);
    CHECK_EQ(ro.count, 0);
    CHECK_EQ(elf_rodata_count(s.b, &ro, "__file__", 8), 0);
}

static void test_rodata_refused(void)
{
    ro_sample s;

    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shentsize), 32, 2);
    expect_ro_refused(&s, sizeof s.b, "section header entries of 32",
                      __LINE__);
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shnum), 40, 2);
    expect_ro_refused(&s, sizeof s.b, "section header table", __LINE__);
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 8, 8);
    expect_ro_refused(&s, sizeof s.b, "section header table", __LINE__);
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shnum), 0, 2);
    wr(s.b + SHOFF + offsetof(Elf64_Shdr, sh_size), UINT64_MAX / 2, 8);
    expect_ro_refused(&s, sizeof s.b, "section header table", __LINE__);
    ro_sample_make(&s);
    set_section(s.b, 1, SHT_PROGBITS, SHF_ALLOC, RO_OFF, RO_SIZE);
    expect_ro_refused(&s, sizeof s.b, "section 1 (offset 512", __LINE__);
    ro_sample_make(&s);
    set_section(s.b, 1, SHT_PROGBITS, SHF_ALLOC, UINT64_MAX, 2);
    expect_ro_refused(&s, sizeof s.b, "section 1", __LINE__);
    ro_sample_make(&s);
    wr(s.b + offsetof(Elf64_Ehdr, e_shoff), 0, 8);
    set_phdr(s.b, 0, PT_LOAD, 0, VADDR, RO_SIZE + 1);
    expect_ro_refused(&s, sizeof s.b, "PT_LOAD segment 0", __LINE__);
    /* The header checks are the dependency reader's. */
    ro_sample_make(&s);
    s.b[1] = 'X';
    expect_ro_refused(&s, sizeof s.b, "not an ELF file", __LINE__);
}

static void test_rodata_too_many(void)
{
    static uint8_t big[SHOFF + (ELF_MAX_RODATA + 3) * sizeof(Elf64_Shdr)];
    ro_sample s;
    elf_rodata ro;
    char err[ELF_ERRLEN] = "";

    ro_sample_make(&s);
    memcpy(big, s.b, SHOFF);
    wr(big + offsetof(Elf64_Ehdr, e_shnum), ELF_MAX_RODATA + 2, 2);
    for (int i = 1; i < ELF_MAX_RODATA + 2; i++)
        set_section(big, i, SHT_PROGBITS, SHF_ALLOC, RO_OFF, RO_LEN);
    CHECK_IEQ(elf_read_rodata(big, sizeof big, &ro, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "more than 64 read-only") != NULL, "%s", err);
}

/* Every truncation and every bit flip of the headers and of the section
   table: accepted with every range inside, or refused with a message. */
static void test_rodata_damage(void)
{
    static const struct { size_t from, to; } ranges[] = {
        {0, 64}, {PHOFF, PHOFF + 3 * sizeof(Elf64_Phdr)},
        {SHOFF, SHOFF + RO_NSECT * sizeof(Elf64_Shdr)}};
    ro_sample s, orig;
    elf_rodata ro;
    char err[ELF_ERRLEN];

    ro_sample_make(&orig);
    for (size_t n = 0; n <= sizeof orig.b; n++) {
        err[0] = 0;
        if (elf_read_rodata(orig.b, n, &ro, err, sizeof err) == 0)
            check_rodata_inside(orig.b, n, &ro);
        else
            CHECK_MSG(err[0] != 0, "no message at length %zu", n);
    }
    for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
        for (size_t i = ranges[r].from; i < ranges[r].to; i++)
            for (int bit = 0; bit < 8; bit++) {
                s = orig;
                s.b[i] ^= (uint8_t)(1u << bit);
                err[0] = 0;
                if (elf_read_rodata(s.b, sizeof s.b, &ro, err, sizeof err) ==
                    0)
                    check_rodata_inside(s.b, sizeof s.b, &ro);
                else
                    CHECK_MSG(err[0] != 0, "no message, byte %zu bit %d", i,
                              bit);
            }
}

/* The host's own libraries, as the builder meets them. */
static void test_host_libraries(void)
{
    static const char *const libc[] = {"/lib/x86_64-linux-gnu/libc.so.6",
                                       "/usr/lib/x86_64-linux-gnu/libc.so.6"};
    const char *path = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    elf_deps d;
    elf_rodata ro;
    char err[ELF_ERRLEN] = "";
    FILE *f;

    for (size_t i = 0; !path && i < sizeof libc / sizeof *libc; i++)
        if ((f = fopen(libc[i], "rb")))
            path = libc[i];
    if (!CHECK_MSG(path != NULL, "no libc.so.6 to read"))
        return;
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    rewind(f);
    buf = malloc(len);
    CHECK(buf && fread(buf, 1, len, f) == len);
    fclose(f);
    CHECK_IEQ(elf_read_deps(buf, len, &d, err, sizeof err), 0);
    CHECK_STR(d.soname, "libc.so.6");
    CHECK_MSG(d.needed_count == 1 && strncmp(d.needed[0], "ld-linux", 8) == 0,
              "libc.so.6 needs the dynamic loader only (%u entries)",
              d.needed_count);
    /* system() runs /bin/sh: a C string of its read-only data, which
       holds no symbol name (those are in .dynstr). */
    CHECK_IEQ(elf_read_rodata(buf, len, &ro, err, sizeof err), 0);
    CHECK(ro.count > 0);
    CHECK(elf_rodata_count(buf, &ro, "/bin/sh", 8) > 0);
    CHECK_EQ(elf_rodata_count(buf, &ro, "GLIBC_PRIVATE", 13), 0);
    check_rodata_inside(buf, len, &ro);
    free(buf);
}

int main(void)
{
    run_test("read", test_read);
    run_test("absent_entries", test_absent_entries);
    run_test("truncation", test_truncation);
    run_test("bit_flips", test_bit_flips);
    run_test("bad_headers", test_bad_headers);
    run_test("bad_segments", test_bad_segments);
    run_test("bad_dynamic", test_bad_dynamic);
    run_test("too_many_needed", test_too_many_needed);
    run_test("rodata", test_rodata);
    run_test("rodata_segments", test_rodata_segments);
    run_test("rodata_refused", test_rodata_refused);
    run_test("rodata_too_many", test_rodata_too_many);
    run_test("rodata_damage", test_rodata_damage);
    run_test("host_libraries", test_host_libraries);
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}
