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

/* Where an item comes from; distributions (FROM_SITE) come after the stdlib
   on sys.path. */
enum { FROM_APP = 0, FROM_STDLIB = 1, FROM_SITE = 2 };
/* What collect_site_entry packs. */
enum { SITE_TREE, SITE_NAMESPACE, SITE_INIT };

typedef struct {
    char *name;    /* dotted module name */
    char *relpath; /* packed path: json/__init__.py, or a package's folder */
    char *disk;    /* file on disk; NULL for a namespace package */
    file_id id;    /* the file the walk saw at disk: read_collected() */
    uint32_t flags; /* KP_MOD_PACKAGE, KP_MOD_NAMESPACE or KP_MOD_EXTENSION */
    int from;
    /* Filled in by the build. */
    uint8_t *bytes; /* source, or the extension's image */
    size_t bytes_len;
    uint8_t *code;
    size_t code_len;
    char *error;
    /* Import scans (imports.h), of non-stdlib sources only. */
    char *scan;      /* the SCAN reply; NULL when not scanned */
    int want_scan;   /* the compile workers are to scan it */
    int needs_files; /* line of its first path use of __file__, or 0 */
    int extract;     /* KP_MOD_EXTRACT: its top-level package goes to disk */
    char *preload; /* extension: libraries to load first, '\n'-joined */
} module_item;

typedef struct {
    char *relpath;
    char *disk;     /* NULL for a file made by the build: */
    uint8_t *bytes; /* its contents */
    size_t len;
    int from;
    file_id id; /* the file the walk saw at disk: open_collected() */
} file_item;

/* A folder that a walk went into (a package, a data or metadata folder;
   not a root, nor a namespace package): the output may not be written
   inside it. */
typedef struct {
    dev_t dev;
    ino_t ino;
    char *path;
} walked_dir;

typedef struct {
    vec modules; /* module_item* */
    dev_t output_dev; /* a previous build's output, never packed; 0 if none */
    ino_t output_ino;
    vec files;   /* file_item*: data files inside packages */
    vec dirs;    /* walked_dir* */
    vec extension_suffixes; /* char*, e.g. .cpython-311-x86_64-linux-gnu.so */
} collection;

/* Walks of the app's folders and of site folders trust no symlink: one
   that leads outside the folder given (--path DIR, the script's folder, the
   site folder) is skipped with a warning naming it and its target, and so
   are dangling and looping ones. The target's stdlib is trusted. */

/* Packs everything importable under dir (a --path): modules, packages,
   namespace packages, extensions and data files inside packages. */
int collect_app_path(collection *c, const char *dir);
/* Packs what `import top` finds in dir, as python's FileFinder would:
   1 when something was packed, 0 when dir has nothing by that name. */
int collect_app_entry(collection *c, const char *dir, const char *top);
/* Packs relpath under dir, a distribution's site folder (FROM_SITE):
   SITE_TREE a module, package, extension, or else a data file or folder,
   with all it holds; SITE_NAMESPACE the folder as a namespace package;
   SITE_INIT the folder as a package with only its __init__.py. Module names
   follow relpath: zope/interface is zope.interface. */
int collect_site_entry(collection *c, const char *dir, const char *relpath,
                       int kind);
/* Adds the script as module __main__; relpath is its base name. */
int collect_script(collection *c, const char *script);
/* Once all is collected: a script named like a packed package's folder
   (the script docutils, the package docutils) is packed as NAME.py, so
   that <exe>/NAME is not both a file and a folder. 0, or -1 if that is
   taken too. */
int collection_place_script(collection *c);
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
/* Adds a stdlib file made by the build; takes bytes. */
void collection_add_made(collection *c, const char *relpath, uint8_t *bytes,
                         size_t len);
/* Adds a file to pack (a bundled shared library, say). */
void collection_add_file(collection *c, int from, const char *relpath,
                         const char *disk);
/* Refuses (-1, with a message naming the file) an output that is a packed
   file or that lies inside a packed folder; output need not exist. */
int collection_check_output(const collection *c, const char *output);
void collection_free(collection *c);

#endif
