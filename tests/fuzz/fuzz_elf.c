/*
 * fuzz_elf.c - libFuzzer target for the ELF dependency reader (elf.c).
 *
 * Feeds the input to elf_read_deps() and elf_read_rodata(). When it is
 * accepted, every string returned must start inside the input and end with
 * a NUL inside it, and every read-only range lie inside it (ASan reports
 * any read past the input); when it is refused, there must be a message.
 * Seeded by `make fuzz` with real shared objects of the host.
 */
#include "elf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "require.h"

static volatile size_t sink;

static void check_string(const uint8_t *data, size_t size, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;

    if (!s)
        return;
    REQUIRE(p >= data && p < data + size);
    REQUIRE(memchr(p, 0, (size_t)(data + size - p)) != NULL);
    sink += strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rodata(const uint8_t *data, size_t size)
{
    elf_rodata ro;
    elf_cursor c = {0, 0};
    char err[ELF_ERRLEN] = "";
    const char *s;
    size_t len;

    if (elf_read_rodata(data, size, &ro, err, sizeof err) != 0) {
        REQUIRE(err[0] != 0);
        return;
    }
    REQUIRE(ro.count <= ELF_MAX_RODATA);
    for (unsigned i = 0; i < ro.count; i++)
        REQUIRE(ro.range[i].offset <= size &&
                ro.range[i].size <= size - ro.range[i].offset);
    sink += elf_rodata_count(data, &ro, "__file__", 8);
    while ((s = elf_rodata_next(data, &ro, &c, &len)))
        check_string(data, size, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elf_deps d;
    char err[ELF_ERRLEN] = "";

    check_rodata(data, size);
    if (elf_read_deps(data, size, &d, err, sizeof err) != 0) {
        REQUIRE(err[0] != 0);
        return 0;
    }
    REQUIRE(d.needed_count <= ELF_MAX_NEEDED);
    for (unsigned i = 0; i < d.needed_count; i++)
        check_string(data, size, d.needed[i]);
    check_string(data, size, d.soname);
    check_string(data, size, d.rpath);
    check_string(data, size, d.runpath);
    return 0;
}
