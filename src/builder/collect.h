/*
 * collect.h - finds what goes into an executable: the stdlib of the target
 * Python, its lib-dynload extensions, and the app's modules, packages,
 * namespace packages and data files.
 */
#ifndef KILN_COLLECT_H
#define KILN_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

enum { FROM_APP = 0, FROM_STDLIB = 1 };

typedef struct {
    char *name;    /* dotted module name */
    char *relpath; /* packed path: json/__init__.py, or a package's folder */
    char *disk;    /* file on disk; NULL for a namespace package */
    uint32_t flags; /* KP_MOD_PACKAGE, KP_MOD_NAMESPACE or KP_MOD_EXTENSION */
    int from;
    /* Filled in by the build. */
    uint8_t *bytes; /* source, or the extension's image */
    size_t bytes_len;
    uint8_t *code;
    size_t code_len;
    char *error;
} module_item;

typedef struct {
    char *relpath;
    char *disk;
    int from;
} file_item;

typedef struct {
    vec modules; /* module_item* */
    dev_t output_dev; /* the output file, never packed; 0 if none yet */
    ino_t output_ino;
    vec files;   /* file_item*: data files inside packages */
    vec extension_suffixes; /* char*, e.g. .cpython-311-x86_64-linux-gnu.so */
} collection;

/* Packs everything importable under dir (a --path): modules, packages,
   namespace packages, extensions and data files inside packages. */
int collect_app_path(collection *c, const char *dir);
/* Packs what `import top` finds in dir, as python's FileFinder would:
   1 when something was packed, 0 when dir has nothing by that name. */
int collect_app_entry(collection *c, const char *dir, const char *top);
/* Adds the script as module __main__; relpath is its base name. */
int collect_script(collection *c, const char *script);
/* The stdlib under dir, minus tests, idlelib, ensurepip (kept for an
   interpreter: python -m venv runs it), site-packages and, when tk is 0,
   tkinter and turtle. */
int collect_stdlib(collection *c, const char *dir, int tk, int interpreter);
/* Extension modules in lib-dynload; test-only ones only if with_tests. */
int collect_dynload(collection *c, const char *dir, int with_tests);
/* Drops stdlib modules and files whose top-level name the app provides,
   and later duplicates; warns about app modules that shadow the stdlib. */
void collection_resolve(collection *c);
/* Drops modules named like a built-in module of the target (comma-separated
   names), which the target could never import; warns about app ones. */
void collection_drop_builtins(collection *c, const char *builtins);
module_item *collection_find(const collection *c, const char *name);
void collection_free(collection *c);

#endif
