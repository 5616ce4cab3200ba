/*
 * inspect.c - `kiln inspect FILE`: prints the target Python, the run mode and
 * every module and file with its kind, sizes and "(extract)" when its
 * package is extracted to disk at run time, and verifies every
 * checksum. A damaged or foreign file gets the reason and exit status 1.
 */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "extlibs.h"
#include "kpack.h"
#include "util.h"

static const char *module_kind(uint32_t flags)
{
    if (flags & KP_MOD_EXTENSION)
        return "extension";
    if (flags & KP_MOD_NAMESPACE)
        return "namespace";
    if (flags & KP_MOD_PACKAGE)
        return "package";
    return "module";
}

static const char *run_mode(uint32_t flags)
{
    switch (flags & KP_RUN_MASK) {
    case KP_RUN_SCRIPT:
        return "script";
    case KP_RUN_MODULE:
        return "module";
    case KP_RUN_INTERPRETER:
        return "interpreter";
    }
    return "unknown";
}

static int verify(const kp_pack *p, const char *path, const char *what,
                  const char *name, const kp_blob *b)
{
    if (kp_blob_verify(p, b) == 0)
        return 0;
    error("%s: damaged: the %s of '%s' (%u bytes at data offset %llu) fails "
          "its checksum", path, what, name, b->size,
          (unsigned long long)b->offset);
    return 1;
}

int kiln_inspect(const char *path)
{
    kp_pack p;
    kp_entry e;
    void *map;
    size_t map_len, bad = 0, code = 0, source = 0, ext = 0;
    long main_index;
    char err[KP_ERRLEN + 4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return error("cannot open %s: %s", path, strerror(errno)), 1;
    if (kp_map_file(fd, path, &p, &map, &map_len, err, sizeof err) != 0) {
        close(fd);
        error("%s", err);
        return 1;
    }
    close(fd);
    printf("%s: kiln executable, format %d\n", path, KP_FORMAT_VERSION);
    printf("  target:   CPython %u.%u (bytecode magic %u)\n",
           p.py_version >> 24 & 0xff, p.py_version >> 16 & 0xff,
           p.py_magic & 0xffff);
    main_index = kp_find_module(&p, p.main_name, strlen(p.main_name));
    if ((p.flags & KP_RUN_MASK) == KP_RUN_SCRIPT && main_index >= 0) {
        kp_module_at(&p, (uint32_t)main_index, &e);
        printf("  runs:     script %s\n", e.path);
    } else {
        printf("  runs:     %s%s%s\n", run_mode(p.flags),
               *p.main_name ? " " : "", p.main_name);
    }
    printf("  optimize: %u\n", p.optimize);
    if ((p.flags & KP_RUN_MASK) != KP_RUN_INTERPRETER)
        printf("  gc:       %s\n", p.flags & KP_GC_FREEZE
                                       ? "freezes the start-up objects"
                                       : "as python3 (--no-gc-freeze)");
    printf("  payload:  %zu bytes\n", p.size);
    printf("\n%-10s %10s %10s  %s\n", "KIND", "CODE", "SOURCE", "MODULE");
    for (uint32_t i = 0; i < p.module_count; i++) {
        kp_module_at(&p, i, &e);
        printf("%-10s %10u %10u  %s%s\n", module_kind(e.flags), e.a.size,
               (e.flags & KP_MOD_SOURCE) ? e.b.size : 0, e.name,
               (e.flags & KP_MOD_EXTRACT) ? "  (extract)" : "");
        if (e.flags & (KP_MOD_CODE | KP_MOD_EXTENSION))
            bad += verify(&p, path,
                          e.flags & KP_MOD_CODE ? "bytecode" : "extension",
                          e.name, &e.a);
        if (e.flags & (KP_MOD_SOURCE | KP_MOD_EXTENSION))
            bad += verify(&p, path,
                          e.flags & KP_MOD_SOURCE ? "source" : "library list",
                          e.name, &e.b);
        code += (e.flags & KP_MOD_CODE) ? e.a.size : 0;
        ext += (e.flags & KP_MOD_EXTENSION) ? e.a.size : 0;
        source += (e.flags & KP_MOD_SOURCE) ? e.b.size : 0;
    }
    printf("\n%-10s %10s  %s\n", "KIND", "SIZE", "FILE");
    for (uint32_t i = 0; i < p.file_count; i++) {
        kp_file_at(&p, i, &e);
        printf("%-10s %10u  %s\n", "file", e.a.size, e.name);
        bad += verify(&p, path, "contents", e.name, &e.a);
    }
    bad += extlibs_print(&p);
    printf("\n%u modules, %u files; bytecode %zu, sources %zu, extensions "
           "%zu bytes\n", p.module_count, p.file_count, code, source, ext);
    munmap(map, map_len);
    if (bad) {
        error("%s: %zu damaged entr%s; rebuild or re-download it", path, bad,
              bad == 1 ? "y" : "ies");
        return 1;
    }
    printf("all checksums verified\n");
    return 0;
}
