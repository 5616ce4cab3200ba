/*
 * repack.c - test tool: copies a kiln executable with its payload rebuilt.
 *
 *   repack IN OUT MAGIC PY_VERSION_HEX [DROP_FILE]
 *     through the writer, for another target CPython (magic and version),
 *     so that the tests can check that a launcher refuses a payload packed
 *     for another Python; optionally without one packed file, so that they
 *     can check what refers to it.
 *   repack IN OUT --forge EDIT...
 *     rewritten raw, past every check of the writer, with a valid index
 *     checksum and sorted tables: the hostile payloads that the reader
 *     must refuse by itself. EDIT is one of
 *       module-flags NAME FLAGS    module-name NAME NEW
 *       module-path NAME NEW       file-name NAME NEW (its path too)
 *       add-file NAME CONTENTS     main NAME    run MODE (1, 2 or 3)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpack.h"
#include "kpack_layout.h" /* the byte layout, to forge what the writer refuses */

static int copy_entry(kp_writer *w, const kp_pack *p, const kp_blob *in,
                      kp_blob *out)
{
    return kp_writer_add_data(w, kp_blob_bytes(p, in), in->size, out);
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "repack: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

/* ---- --forge ------------------------------------------------------------ */

typedef struct {
    char *name, *path;
    uint32_t flags;
    kp_blob a, b;
} forged;

typedef struct {
    forged *v;
    size_t n;
} ftable;

typedef struct {
    ftable modules, files;
    char *main_name;
    uint32_t flags;
    uint8_t *data;
    size_t data_len;
} forgery;

static char *xstrdup(const char *s)
{
    char *c = strdup(s);
    if (!c)
        die("out of memory%s", "");
    return c;
}

static void add(ftable *t, const kp_entry *e)
{
    t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
    if (!t->v)
        die("out of memory%s", "");
    t->v[t->n++] = (forged){xstrdup(e->name), xstrdup(e->path), e->flags,
                            e->a, e->b};
}

static forged *find(ftable *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    die("no entry named %s", name);
    return NULL;
}

static void add_data_file(forgery *f, const char *name, const char *bytes)
{
    size_t at = (f->data_len + KP_DATA_ALIGN - 1) & ~(size_t)(KP_DATA_ALIGN - 1);
    size_t len = strlen(bytes);
    kp_entry e = {.name = name, .path = name};

    f->data = realloc(f->data, at + len + 1);
    if (!f->data)
        die("out of memory%s", "");
    memset(f->data + f->data_len, 0, at - f->data_len);
    memcpy(f->data + at, bytes, len);
    f->data_len = at + len;
    e.a = (kp_blob){at, (uint32_t)len, kp_checksum32(bytes, len)};
    add(&f->files, &e);
}

/* Applies argv[i...] edits; returns how many arguments it used. */
static int edit(forgery *f, int argc, char **argv, int i)
{
    const char *op = argv[i];
    int args = strcmp(op, "main") == 0 || strcmp(op, "run") == 0 ? 1 : 2;

    if (i + args >= argc)
        die("%s: missing arguments", op);
    if (strcmp(op, "module-flags") == 0) {
        find(&f->modules, argv[i + 1])->flags =
            (uint32_t)strtoul(argv[i + 2], NULL, 0);
    } else if (strcmp(op, "module-name") == 0) {
        forged *m = find(&f->modules, argv[i + 1]);
        free(m->name);
        m->name = xstrdup(argv[i + 2]);
    } else if (strcmp(op, "module-path") == 0) {
        forged *m = find(&f->modules, argv[i + 1]);
        free(m->path);
        m->path = xstrdup(argv[i + 2]);
    } else if (strcmp(op, "file-name") == 0) {
        forged *m = find(&f->files, argv[i + 1]);
        free(m->name);
        free(m->path);
        m->name = xstrdup(argv[i + 2]);
        m->path = xstrdup(argv[i + 2]);
    } else if (strcmp(op, "add-file") == 0) {
        add_data_file(f, argv[i + 1], argv[i + 2]);
    } else if (strcmp(op, "main") == 0) {
        free(f->main_name);
        f->main_name = xstrdup(argv[i + 1]);
    } else if (strcmp(op, "run") == 0) {
        f->flags = (f->flags & ~(uint32_t)KP_RUN_MASK) |
                   (uint32_t)strtoul(argv[i + 1], NULL, 0);
    } else {
        die("unknown edit %s", op);
    }
    return 1 + args;
}

static int forged_cmp(const void *x, const void *y)
{
    return strcmp(((const forged *)x)->name, ((const forged *)y)->name);
}

static size_t put_str(uint8_t *strings, size_t *used, const char *s)
{
    size_t at = *used, n = strlen(s) + 1;
    memcpy(strings + at, s, n);
    *used += n;
    return at;
}

static void put_table(uint8_t *out, ftable *t, uint8_t *strings,
                      size_t *used)
{
    qsort(t->v, t->n, sizeof *t->v, forged_cmp);
    for (size_t i = 0; i < t->n; i++) {
        uint8_t *raw = out + i * KP_ENTRY_SIZE;
        const forged *e = &t->v[i];
        memset(raw, 0, KP_ENTRY_SIZE);
        put32(raw + E_NAME_OFF, (uint32_t)put_str(strings, used, e->name));
        put32(raw + E_NAME_LEN, (uint32_t)strlen(e->name));
        put32(raw + E_PATH_OFF, (uint32_t)put_str(strings, used, e->path));
        put32(raw + E_PATH_LEN, (uint32_t)strlen(e->path));
        put32(raw + E_FLAGS, e->flags);
        put64(raw + E_A_OFF, e->a.offset);
        put32(raw + E_A_SIZE, e->a.size);
        put32(raw + E_A_CHECK, e->a.check);
        put64(raw + E_B_OFF, e->b.offset);
        put32(raw + E_B_SIZE, e->b.size);
        put32(raw + E_B_CHECK, e->b.check);
    }
}

static size_t strings_of(const ftable *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += strlen(t->v[i].name) + strlen(t->v[i].path) + 2;
    return n;
}

/* The payload of f laid out as the writer would, with no check at all. */
static uint8_t *forge(const kp_pack *p, forgery *f, size_t *len)
{
    size_t mods = KP_HEADER_SIZE;
    size_t files = mods + f->modules.n * KP_ENTRY_SIZE;
    size_t strings = files + f->files.n * KP_ENTRY_SIZE;
    size_t strings_size = strlen(f->main_name) + 1 + strings_of(&f->modules) +
                          strings_of(&f->files);
    size_t data = (strings + strings_size + KP_DATA_ALIGN - 1) &
                  ~(size_t)(KP_DATA_ALIGN - 1);
    size_t used = 0;
    uint8_t *b = calloc(1, data + f->data_len);
    kp_pack view;

    if (!b)
        die("out of memory%s", "");
    memcpy(b, p->base, KP_HEADER_SIZE);
    put32(b + H_FLAGS, f->flags);
    put32(b + H_MODULE_COUNT, (uint32_t)f->modules.n);
    put32(b + H_FILE_COUNT, (uint32_t)f->files.n);
    put64(b + H_MODULES_OFF, mods);
    put64(b + H_FILES_OFF, files);
    put64(b + H_STRINGS_OFF, strings);
    put64(b + H_STRINGS_SIZE, strings_size);
    put64(b + H_DATA_OFF, data);
    put64(b + H_DATA_SIZE, f->data_len);
    put32(b + H_MAIN_OFF, (uint32_t)put_str(b + strings, &used, f->main_name));
    put32(b + H_MAIN_LEN, (uint32_t)strlen(f->main_name));
    put_table(b + mods, &f->modules, b + strings, &used);
    put_table(b + files, &f->files, b + strings, &used);
    memcpy(b + data, f->data, f->data_len);
    view.module_count = (uint32_t)f->modules.n;
    view.file_count = (uint32_t)f->files.n;
    view.strings = b + strings;
    view.strings_size = strings_size;
    put64(b + H_INDEX_CHECK, index_check(b, &view, mods, files));
    *len = data + f->data_len;
    return b;
}

static uint8_t *forged_payload(const kp_pack *p, int argc, char **argv,
                               size_t *len)
{
    forgery f = {.main_name = xstrdup(p->main_name), .flags = p->flags};
    kp_entry e;

    f.data_len = p->data_size;
    f.data = malloc(f.data_len + 1);
    if (!f.data)
        die("out of memory%s", "");
    memcpy(f.data, p->data, f.data_len);
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        add(&f.modules, &e);
    }
    for (uint32_t i = 0; i < p->file_count; i++) {
        kp_file_at(p, i, &e);
        add(&f.files, &e);
    }
    for (int i = 4; i < argc;)
        i += edit(&f, argc, argv, i);
    return forge(p, &f, len);
}

/* ---- through the writer ------------------------------------------------- */

static uint8_t *rewritten_payload(const kp_pack *p, int argc, char **argv,
                                  size_t *len)
{
    kp_writer *w = kp_writer_new();
    uint8_t *payload;
    char err[512];
    kp_entry e;

    kp_writer_set_target(w, (uint32_t)strtoul(argv[3], NULL, 0),
                         (uint32_t)strtoul(argv[4], NULL, 0));
    kp_writer_set_run(w, p->flags, p->main_name, p->optimize);
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_blob a = {0, 0, 0}, b = {0, 0, 0};
        kp_module_at(p, i, &e);
        if (copy_entry(w, p, &e.a, &a) || copy_entry(w, p, &e.b, &b) ||
            kp_writer_add_module(w, e.name, e.path, e.flags, a, b))
            die("cannot add module %s", e.name);
    }
    for (uint32_t i = 0; i < p->file_count; i++) {
        kp_blob a;
        kp_file_at(p, i, &e);
        if (argc == 6 && strcmp(e.name, argv[5]) == 0)
            continue;
        if (copy_entry(w, p, &e.a, &a) || kp_writer_add_file(w, e.name, a))
            die("cannot add file %s", e.name);
    }
    if (kp_writer_finish(w, &payload, len, err, sizeof err))
        die("%s", err);
    kp_writer_free(w);
    return payload;
}

int main(int argc, char **argv)
{
    kp_pack p;
    void *map;
    size_t map_len, len;
    uint8_t *payload, trailer[KP_TRAILER_SIZE];
    char err[512];
    FILE *in, *out;
    long head;
    int forging = argc >= 4 && strcmp(argv[3], "--forge") == 0;

    if (!forging && argc != 5 && argc != 6) {
        fprintf(stderr, "usage: repack IN OUT MAGIC PY_VERSION_HEX "
                        "[DROP_FILE]\n       repack IN OUT --forge "
                        "EDIT...\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0 || kp_map_file(fd, argv[1], &p, &map, &map_len, err,
                              sizeof err)) {
        fprintf(stderr, "repack: %s\n", fd < 0 ? argv[1] : err);
        return 1;
    }
    payload = forging ? forged_payload(&p, argc, argv, &len)
                      : rewritten_payload(&p, argc, argv, &len);
    /* The launcher part: everything before the payload. */
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (!in || !out)
        return 1;
    {
        uint8_t trailer_in[KP_TRAILER_SIZE];
        uint64_t off, size;
        fseek(in, -KP_TRAILER_SIZE, SEEK_END);
        if (fread(trailer_in, 1, sizeof trailer_in, in) != sizeof trailer_in)
            return 1;
        fseek(in, 0, SEEK_END);
        if (kp_trailer_read(trailer_in, (uint64_t)ftell(in), &off, &size, err,
                            sizeof err))
            return 1;
        head = (long)off;
    }
    rewind(in);
    for (long i = 0; i < head; i++)
        fputc(fgetc(in), out);
    fwrite(payload, 1, len, out);
    kp_trailer_write(trailer, (uint64_t)head, len);
    fwrite(trailer, 1, sizeof trailer, out);
    fclose(in);
    if (fclose(out) != 0)
        return 1;
    chmod(argv[2], 0755);
    return 0;
}
