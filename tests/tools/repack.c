/*
 * repack.c - test tool: copies a kiln executable, rebuilding its payload
 * with another target CPython (magic and version), so that the tests can
 * check that a launcher refuses a payload packed for another Python, and
 * optionally without one packed file, so that they can check what refers
 * to it.
 *   repack IN OUT MAGIC PY_VERSION_HEX [DROP_FILE]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kpack.h"

static int copy_entry(kp_writer *w, const kp_pack *p, const kp_blob *in,
                      kp_blob *out)
{
    return kp_writer_add_data(w, kp_blob_bytes(p, in), in->size, out);
}

int main(int argc, char **argv)
{
    kp_pack p;
    kp_entry e;
    void *map;
    size_t map_len, len;
    uint8_t *payload, trailer[KP_TRAILER_SIZE];
    char err[512];
    kp_writer *w;
    FILE *in, *out;
    long head;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: repack IN OUT MAGIC PY_VERSION_HEX "
                        "[DROP_FILE]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0 || kp_map_file(fd, argv[1], &p, &map, &map_len, err,
                              sizeof err)) {
        fprintf(stderr, "repack: %s\n", fd < 0 ? argv[1] : err);
        return 1;
    }
    w = kp_writer_new();
    kp_writer_set_target(w, (uint32_t)strtoul(argv[3], NULL, 0),
                         (uint32_t)strtoul(argv[4], NULL, 0));
    kp_writer_set_run(w, p.flags, p.main_name, p.optimize);
    for (uint32_t i = 0; i < p.module_count; i++) {
        kp_blob a = {0, 0, 0}, b = {0, 0, 0};
        kp_module_at(&p, i, &e);
        if (copy_entry(w, &p, &e.a, &a) || copy_entry(w, &p, &e.b, &b) ||
            kp_writer_add_module(w, e.name, e.path, e.flags, a, b))
            return 1;
    }
    for (uint32_t i = 0; i < p.file_count; i++) {
        kp_blob a;
        kp_file_at(&p, i, &e);
        if (argc == 6 && strcmp(e.name, argv[5]) == 0)
            continue;
        if (copy_entry(w, &p, &e.a, &a) || kp_writer_add_file(w, e.name, a))
            return 1;
    }
    if (kp_writer_finish(w, &payload, &len, err, sizeof err)) {
        fprintf(stderr, "repack: %s\n", err);
        return 1;
    }
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
