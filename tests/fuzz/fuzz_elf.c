/*
 * fuzz_elf.c - libFuzzer target for the ELF dependency reader (elf.c).
 *
 * Feeds the input to elf_read_deps(). When it is accepted, every string it
 * returns must start inside the input and end with a NUL inside it (ASan
 * reports any read past the input); when it is refused, there must be a
 * message. Seeded by `make fuzz` with real shared objects of the host.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elf_deps d;
    char err[ELF_ERRLEN] = "";

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
