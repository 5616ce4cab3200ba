/*
 * inspect.c - `kiln inspect FILE`: prints the target Python, the run mode and
 * every module and file with its kind, sizes and "(extract)" when its
 * package is extracted to disk at run time, and verifies every
 * checksum, then the libraries that extension modules load: the bundled
 * ones and the host's. A damaged or foreign file gets the reason and exit
 * status 1.
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

#include "elf.h"
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

/* The line "key=..." of KILN_BUILT_FROM (tools/target-h.py) as a new
   escaped string, or NULL. */
static char *built_from_value(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);

    for (const char *at = text; at < text + len;) {
        const char *end = memchr(at, '\n', (size_t)(text + len - at));
        size_t n = end ? (size_t)(end - at) : (size_t)(text + len - at);
        if (n > klen && strncmp(at, key, klen) == 0 && at[klen] == '=')
            return xescaped(at + klen + 1, n - klen - 1);
        at += n + 1;
    }
    return NULL;
}

/* The installation the launcher was linked from, as its read-only data
   says (KILN_BUILT_FROM); nothing for a launcher built before kiln kept
   it, or one that is not an ELF file. */
static void print_built_from(int fd, const kp_pack *p)
{
    size_t size = (size_t)p->payload_offset, len;
    void *image = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0)
                       : MAP_FAILED;
    elf_rodata ro;
    elf_cursor at = {0, 0};
    const char *s;
    char err[ELF_ERRLEN];

    if (image == MAP_FAILED)
        return;
    if (elf_read_rodata(image, size, &ro, err, sizeof err) == 0)
        while ((s = elf_rodata_next(image, &ro, &at, &len)))
            if (strncmp(s, "python=", 7) == 0 && strstr(s, "\nlibpython=")) {
                char *build = built_from_value(s, len, "build");
                char *prefix = built_from_value(s, len, "prefix");
                char *python = built_from_value(s, len, "python");
                if (build && prefix && python)
                    printf("  built by: CPython %s\n            at %s (%s)\n",
                           build, prefix, python);
                free(build);
                free(prefix);
                free(python);
                break;
            }
    munmap(image, size);
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

/* ---- bundled and host libraries --------------------------------------- */

/* Names printed here come from the payload and from the packed ELF images:
   they are printed escaped as `ls -b` does (kp_escape). */

#define SHOWN_NEEDERS 6

/* printf(fmt, escaped s) for a format with one %s. */
static void print_shown(const char *fmt, const char *s)
{
    char *e = xescaped(s, strlen(s));
    printf(fmt, e);
    free(e);
}

typedef struct {
    const char *name; /* inside the payload */
    vec needers;      /* const char*: module names */
} host_lib;

/* Libraries of the GNU C library itself: every glibc system has them. */
static int part_of_glibc(const char *name)
{
    static const char *const glibc[] = {
        "libc.so.6", "libm.so.6", "libmvec.so.1", "libpthread.so.0",
        "libdl.so.2", "librt.so.1", "libutil.so.1", "libresolv.so.2",
        "libanl.so.1", "libBrokenLocale.so.1", "libnsl.so.1",
        "libthread_db.so.1", "libc_malloc_debug.so.0", NULL};

    if (strncmp(name, "ld-linux", 8) == 0 || strncmp(name, "libnss_", 7) == 0)
        return 1;
    for (const char *const *g = glibc; *g; g++)
        if (strcmp(name, *g) == 0)
            return 1;
    return 0;
}

static void add_host(vec *hosts, const char *name, const char *module)
{
    host_lib *h = NULL;

    for (size_t i = 0; !h && i < hosts->n; i++)
        if (strcmp(((host_lib *)hosts->v[i])->name, name) == 0)
            h = hosts->v[i];
    if (!h) {
        h = calloc(1, sizeof *h);
        if (!h) {
            error("out of memory");
            exit(1);
        }
        h->name = name;
        vec_push(hosts, h);
    }
    if (!h->needers.n || strcmp(h->needers.v[h->needers.n - 1], module) != 0)
        vec_push(&h->needers, (void *)module);
}

static void host_free(void *p)
{
    host_lib *h = p;
    vec_free(&h->needers, NULL);
    free(h);
}

static int host_cmp(const void *a, const void *b)
{
    return strcmp((*(host_lib *const *)a)->name,
                  (*(host_lib *const *)b)->name);
}

/* The dependencies of a packed image; 0 when it cannot be read, with a
   note in notes. */
static int read_packed(const kp_pack *p, const kp_blob *b, const char *what,
                       elf_deps *d, vec *notes)
{
    char err[ELF_ERRLEN];

    if (kp_blob_verify(p, b) != 0)
        return 0; /* reported as damaged by the caller */
    if (elf_read_deps(kp_blob_bytes(p, b), b->size, d, err, sizeof err) != 0) {
        char *name = xescaped(what, strlen(what));
        char *why = xescaped(err, strlen(err));
        vec_push(notes, xprintf("cannot read the dependencies of %s: %s",
                                name, why));
        free(name);
        free(why);
        return 0;
    }
    return 1;
}

static int provided(const elf_deps *libs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (libs[i].soname && strcmp(libs[i].soname, name) == 0)
            return 1;
    return 0;
}

/* One extension module: its preload list, and the names that neither it
   nor its bundled libraries find among those libraries. */
static size_t inspect_module(const kp_pack *p, const kp_entry *e,
                             vec *hosts, vec *notes)
{
    const char *list = (const char *)kp_blob_bytes(p, &e->b);
    const char *end = list + e->b.size;
    elf_deps ext, *libs = NULL;
    size_t n = 0, missing = 0;

    if (e->b.size && kp_blob_verify(p, &e->b) == 0) {
        print_shown("%s:\n", e->name);
        libs = xmalloc((e->b.size / 2 + 1) * sizeof *libs);
        for (const char *s = list; s < end;) {
            size_t len = strcspn(s, "\n");
            long at;
            kp_entry f;
            char *item;

            if (len > (size_t)(end - s))
                len = (size_t)(end - s);
            at = kp_find_file(p, s, len);
            item = xescaped(s, len);
            printf("  %s%s\n", item,
                   at < 0 ? " (damaged: not among the files)" : "");
            free(item);
            missing += at < 0;
            if (at >= 0) {
                kp_file_at(p, (uint32_t)at, &f);
                n += read_packed(p, &f.a, f.name, &libs[n], notes);
            }
            s += len + 1;
        }
    }
    if (read_packed(p, &e->a, e->name, &ext, notes))
        for (unsigned i = 0; i < ext.needed_count; i++)
            if (!provided(libs, n, ext.needed[i]))
                add_host(hosts, ext.needed[i], e->name);
    for (size_t l = 0; l < n; l++)
        for (unsigned i = 0; i < libs[l].needed_count; i++)
            if (!provided(libs, n, libs[l].needed[i]))
                add_host(hosts, libs[l].needed[i], e->name);
    free(libs);
    return missing;
}

/* Prints each extension module's preload list, then the host libraries
   the extension modules need (the DT_NEEDED names that no bundled library
   provides), one line each, with the modules that need them and whether
   glibc provides them. Returns the number of listed libraries that are not
   packed (damage). */
static size_t print_libraries(const kp_pack *p)
{
    vec hosts = {0}, notes = {0};
    kp_entry e;
    size_t missing = 0;
    int header = 0;

    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        if (!(e.flags & KP_MOD_EXTENSION))
            continue;
        if (e.b.size && !header++)
            printf("\nEXTENSION MODULE: THE BUNDLED LIBRARIES IT LOADS FIRST, "
                   "IN ORDER\n");
        missing += inspect_module(p, &e, &hosts, &notes);
    }
    if (hosts.n) {
        qsort(hosts.v, hosts.n, sizeof *hosts.v, host_cmp);
        printf("\n%-28s %-7s %s\n", "HOST LIBRARY", "PART OF", "NEEDED BY");
    }
    for (size_t i = 0; i < hosts.n; i++) {
        const host_lib *h = hosts.v[i];
        char *name = xescaped(h->name, strlen(h->name));
        printf("%-28s %-7s", name, part_of_glibc(h->name) ? "glibc" : "");
        free(name);
        for (size_t j = 0; j < h->needers.n && j < SHOWN_NEEDERS; j++)
            print_shown(j ? ", %s" : " %s", h->needers.v[j]);
        if (h->needers.n > SHOWN_NEEDERS)
            printf(" and %zu more", h->needers.n - SHOWN_NEEDERS);
        printf("\n");
    }
    if (hosts.n)
        printf("%zu host librar%s: the system that runs the executable must "
               "have them\n", hosts.n, hosts.n == 1 ? "y" : "ies");
    for (size_t i = 0; i < notes.n; i++)
        printf("note: %s\n", (char *)notes.v[i]);
    vec_free(&hosts, host_free);
    vec_free(&notes, free);
    return missing;
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
    print_built_from(fd, &p);
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
    bad += print_libraries(&p);
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
