/*
 * make_corpus.c - writes valid kpack payloads into a directory, as seeds
 * for fuzz_kpack: an app, a script at the end of an "executable", the
 * smallest payload, and a package to extract with an extension whose
 * preload list names its bundled libraries.
 *
 * Usage: make_corpus DIR
 */
#include "kpack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_seed(const char *dir, const char *name, const uint8_t *buf,
                      size_t len)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return -1;
    }
    ok = fwrite(buf, 1, len, f) == len;
    if (fclose(f) != 0 || !ok) {
        perror(path);
        return -1;
    }
    return 0;
}

/* Finishes w into dir/name; with_trailer appends a trailer so that the
   input also ends in one, as an executable does. Frees w. */
static int finish(kp_writer *w, const char *dir, const char *name,
                  int with_trailer)
{
    uint8_t *buf = NULL, *big;
    size_t len = 0;
    char err[KP_ERRLEN];
    int rc;

    if (kp_writer_finish(w, &buf, &len, err, sizeof err) != 0) {
        fprintf(stderr, "make_corpus: %s: %s\n", name, err);
        kp_writer_free(w);
        return -1;
    }
    kp_writer_free(w);
    if (with_trailer) {
        big = realloc(buf, len + KP_TRAILER_SIZE);
        if (!big) {
            free(buf);
            return -1;
        }
        buf = big;
        kp_trailer_write(buf + len, 0, len);
        len += KP_TRAILER_SIZE;
    }
    rc = write_seed(dir, name, buf, len);
    free(buf);
    return rc;
}

static int add(kp_writer *w, const char *name, const char *path,
               uint32_t flags, const char *code, const char *source)
{
    kp_blob a = {0, 0, 0}, b = {0, 0, 0};

    if (code && kp_writer_add_data(w, code, strlen(code), &a))
        return -1;
    if (source && kp_writer_add_data(w, source, strlen(source), &b))
        return -1;
    return kp_writer_add_module(w, name, path, flags, a, b);
}

static int add_file(kp_writer *w, const char *path, const char *bytes)
{
    kp_blob a;

    if (kp_writer_add_data(w, bytes, strlen(bytes), &a))
        return -1;
    return kp_writer_add_file(w, path, a);
}

int main(int argc, char **argv)
{
    kp_writer *w;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }

    /* An application: package, submodules, extension, namespace, data. */
    w = kp_writer_new();
    if (!w || add(w, "app", "app/__init__.py",
                  KP_MOD_CODE | KP_MOD_SOURCE | KP_MOD_PACKAGE, "\xe3pkg",
                  "") ||
        add(w, "app.__main__", "app/__main__.py",
            KP_MOD_CODE | KP_MOD_SOURCE, "\xe3main code", "main()\n") ||
        add(w, "app.ns", "app/ns", KP_MOD_PACKAGE | KP_MOD_NAMESPACE, NULL,
            NULL) ||
        add(w, "app.speedups", "app/speedups.cpython-311-x86_64-linux-gnu.so",
            KP_MOD_EXTENSION, "\x7f" "ELF extension", NULL) ||
        add(w, "app.util", "app/util.pyc", KP_MOD_CODE, "\xe3util", NULL) ||
        add_file(w, "app/data/config.json", "{\"debug\": true}\n") ||
        add_file(w, "app/data/empty", "") ||
        add_file(w, "app/data.txt", "text\n") ||
        add_file(w, "README", "read me\n"))
        return 1;
    kp_writer_set_target(w, 0x0a0d0da7u, 0x030b04f0u);
    if (kp_writer_set_run(w, KP_RUN_MODULE, "app", 1))
        return 1;
    rc |= finish(w, argv[1], "app.kpack", 0);

    /* The same kind of payload at the end of an "executable". */
    w = kp_writer_new();
    if (!w || add(w, "hello", "hello.py", KP_MOD_CODE | KP_MOD_SOURCE,
                  "\xe3hello", "print('hello')\n") ||
        add_file(w, "hello.txt", "hello\n"))
        return 1;
    if (kp_writer_set_run(w, KP_RUN_SCRIPT, "hello", 0))
        return 1;
    rc |= finish(w, argv[1], "hello-with-trailer.kpack", 1);

    /* The smallest payload: no entries, no data, no main name. */
    w = kp_writer_new();
    if (!w)
        return 1;
    rc |= finish(w, argv[1], "empty.kpack", 0);

    /* A package extracted at run time, with an extension module that
       preloads two bundled libraries, and files beside it. */
    w = kp_writer_new();
    if (!w || add(w, "ext", "ext/__init__.py",
                  KP_MOD_CODE | KP_MOD_PACKAGE | KP_MOD_EXTRACT, "\xe3" "ext",
                  NULL) ||
        add(w, "ext._fast", "ext/_fast.cpython-311-x86_64-linux-gnu.so",
            KP_MOD_EXTENSION | KP_MOD_EXTRACT, "\x7f" "ELF fast",
            "ext.libs/libb-2.so\next.libs/liba-1.so") ||
        add(w, "run", "run.py", KP_MOD_CODE, "\xe3" "run", NULL) ||
        add_file(w, "ext.libs/liba-1.so", "\x7f" "ELF a") ||
        add_file(w, "ext.libs/libb-2.so", "\x7f" "ELF b") ||
        add_file(w, "ext/data/table.csv", "a,b\n") ||
        add_file(w, "ext/_fast.cpython-311-x86_64-linux-gnu.so",
                 "\x7f" "ELF fast") ||
        add_file(w, "ext", "a file named like the package"))
        return 1;
    if (kp_writer_set_run(w, KP_RUN_SCRIPT | KP_GC_FREEZE, "run", 0))
        return 1;
    rc |= finish(w, argv[1], "extract.kpack", 0);
    return rc ? 1 : 0;
}
