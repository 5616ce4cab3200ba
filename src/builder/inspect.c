/*
 * inspect.c - `kiln inspect FILE`: prints the target Python, the run mode and
 * every module and file with its kind, sizes and "(extract)" when its
 * package is extracted to disk at run time, and verifies every
 * checksum. A damaged or foreign file gets the reason and exit status 1.
 * Every name is printed escaped as `ls -b` does (kp_escape), so that a
 * packed name cannot fake a line or send the terminal escape sequences.
 */
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
                  const kp_entry *e, const kp_blob *b)
{
    char *name;

    if (kp_blob_verify(p, b) == 0)
        return 0;
    name = xescaped(e->name, e->name_len);
    error("%s: damaged: the %s of '%s' (%u bytes at data offset %llu) fails "
          "its checksum", path, what, name, b->size,
          (unsigned long long)b->offset);
    free(name);
    return 1;
}

/* Checks the launcher, the file's bytes before the payload, against the
   header's checksum; 1 after an error naming it when they differ. */
static int verify_launcher(int fd, const kp_pack *p, const char *path)
{
    uint64_t sum;

    printf("  launcher: %llu bytes before the payload%s\n",
           (unsigned long long)p->payload_offset,
           p->launcher_check ? "" : ", no checksum (an older kiln built it)");
    if (!p->launcher_check)
        return 0;
    if (kp_launcher_hash(fd, p->payload_offset, &sum) != 0) {
        error_errno("%s: cannot read its launcher", path);
        return 1;
    }
    if (sum == p->launcher_check)
        return 0;
    error("%s: damaged: the launcher (its first %llu bytes, before the "
          "payload) fails its checksum", path,
          (unsigned long long)p->payload_offset);
    return 1;
}

/* The file at path, opened without blocking on a FIFO; -1 after an error.
   kp_map_file() refuses what is not a regular file. */
static int open_file(const char *path, const char *show)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (fd < 0)
        error_errno("cannot open %s", show);
    return fd;
}

static void print_entries(const kp_pack *p, const char *path, size_t *bad,
                          size_t *code, size_t *source, size_t *ext)
{
    kp_entry e;
    char *name;

    printf("\n%-10s %10s %10s  %s\n", "KIND", "CODE", "SOURCE", "MODULE");
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        name = xescaped(e.name, e.name_len);
        printf("%-10s %10u %10u  %s%s\n", module_kind(e.flags), e.a.size,
               (e.flags & KP_MOD_SOURCE) ? e.b.size : 0, name,
               (e.flags & KP_MOD_EXTRACT) ? "  (extract)" : "");
        free(name);
        if (e.flags & (KP_MOD_CODE | KP_MOD_EXTENSION))
            *bad += verify(p, path,
                           e.flags & KP_MOD_CODE ? "bytecode" : "extension",
                           &e, &e.a);
        if (e.flags & (KP_MOD_SOURCE | KP_MOD_EXTENSION))
            *bad += verify(p, path,
                           e.flags & KP_MOD_SOURCE ? "source"
                                                   : "library list",
                           &e, &e.b);
        *code += (e.flags & KP_MOD_CODE) ? e.a.size : 0;
        *ext += (e.flags & KP_MOD_EXTENSION) ? e.a.size : 0;
        *source += (e.flags & KP_MOD_SOURCE) ? e.b.size : 0;
    }
    printf("\n%-10s %10s  %s\n", "KIND", "SIZE", "FILE");
    for (uint32_t i = 0; i < p->file_count; i++) {
        kp_file_at(p, i, &e);
        name = xescaped(e.name, e.name_len);
        printf("%-10s %10u  %s\n", "file", e.a.size, name);
        free(name);
        *bad += verify(p, path, "contents", &e, &e.a);
    }
}

/* The "extract:" line: the top-level names whose files are extracted at
   run time, the stdlib's apart. */
static void print_extracted(const kp_pack *p)
{
    int any = 0;
    kp_entry e;

    for (int stdlib = 0; stdlib < 2; stdlib++) {
        const char *prev = NULL;
        size_t prev_len = 0;
        int first = 1;

        if (stdlib && (p->flags & KP_STDLIB_FILES)) {
            printf("%sstdlib: all of it (--stdlib-files)",
                   any++ ? "; " : "  extract:  ");
            break;
        }
        for (uint32_t i = 0; i < p->module_count; i++) {
            size_t len;
            char *name;

            kp_module_at(p, i, &e);
            if (!(e.flags & KP_MOD_EXTRACT) ||
                !(e.flags & KP_MOD_STDLIB) != !stdlib)
                continue;
            len = strcspn(e.name, ".");
            if (prev && len == prev_len && memcmp(prev, e.name, len) == 0)
                continue;
            prev = e.name;
            prev_len = len;
            name = xescaped(e.name, len);
            printf("%s%s%s", !any++ ? "  extract:  " : first ? "; " : ", ",
                   stdlib && first ? "stdlib: " : "", name);
            free(name);
            first = 0;
        }
    }
    if (any)
        printf("\n            (real files at run time, in read-only folders "
               "of kiln's extract\n            cache: what the app writes "
               "there fails, or as root is not kept)\n");
}

int kiln_inspect(const char *file)
{
    kp_pack p;
    kp_entry e;
    void *map;
    size_t map_len, bad = 0, code = 0, source = 0, ext = 0;
    char err[KP_ERRLEN + 4096], *path = xescaped(file, strlen(file)), *name;
    int fd = open_file(file, path), rc = 1;

    if (fd < 0)
        goto done;
    if (kp_map_file(fd, path, &p, &map, &map_len, err, sizeof err) != 0) {
        close(fd);
        error("%s", err);
        goto done;
    }
    printf("%s: kiln executable, format %d\n", path, KP_FORMAT_VERSION);
    printf("  target:   CPython %u.%u (bytecode magic %u)\n",
           p.py_version >> 24 & 0xff, p.py_version >> 16 & 0xff,
           p.py_magic & 0xffff);
    if ((p.flags & KP_RUN_MASK) == KP_RUN_SCRIPT) {
        kp_module_at(&p, (uint32_t)kp_find_module(&p, p.main_name,
                                                  strlen(p.main_name)),
                     &e); /* kp_open() checked that it is there */
        name = xescaped(e.path, e.path_len);
        printf("  runs:     script %s\n", name);
    } else {
        name = xescaped(p.main_name, strlen(p.main_name));
        printf("  runs:     %s%s%s\n", run_mode(p.flags), *name ? " " : "",
               name);
    }
    free(name);
    printf("  optimize: %u\n", p.optimize);
    if ((p.flags & KP_RUN_MASK) != KP_RUN_INTERPRETER)
        printf("  gc:       %s\n", p.flags & KP_GC_FREEZE
                                       ? "freezes the start-up objects"
                                       : "as python3 (--no-gc-freeze)");
    if ((p.flags & KP_RUN_MASK) != KP_RUN_INTERPRETER)
        printf("  children: %s\n", p.flags & KP_PYTHON_CHILD
                                       ? "sys.executable runs as python "
                                         "(--python-child)"
                                       : "sys.executable runs the app");
    if (p.flags & KP_UNBUFFERED)
        printf("  stdio:    unbuffered (-u)\n");
    print_extracted(&p);
    bad += verify_launcher(fd, &p, path);
    close(fd);
    printf("  payload:  %zu bytes\n", p.size);
    print_entries(&p, path, &bad, &code, &source, &ext);
    bad += extlibs_print(&p);
    printf("\n%u modules, %u files; bytecode %zu, sources %zu, extensions "
           "%zu bytes\n", p.module_count, p.file_count, code, source, ext);
    munmap(map, map_len);
    if (bad) {
        error("%s: %zu damaged part%s; rebuild or re-download it", path, bad,
              bad == 1 ? "" : "s");
        goto done;
    }
    printf("all checksums verified\n");
    rc = 0;
done:
    free(path);
    return rc;
}
