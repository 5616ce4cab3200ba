/*
 * collection.h - what goes into an executable: the modules (what each one
 * is, and what the phases of the build find out about it), the data files,
 * the folders walked; and the collection's rules: one module per name, one
 * item per packed path, an output that is none of them.
 */
#ifndef KILN_COLLECTION_H
#define KILN_COLLECTION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Where an item comes from; distributions (FROM_SITE) come after the stdlib
   on sys.path. */
enum { FROM_APP = 0, FROM_STDLIB = 1, FROM_SITE = 2 };

/* What the phases of the build find out about a module, each field
   written by one of them. */
typedef struct {
    uint8_t *bytes; /* source, or the extension's image, once read */
    size_t bytes_len;
    uint8_t *code; /* bytecode: compile.h, or the cache */
    size_t code_len;
    char *error; /* why it did not compile: compile.h */
    /* Import scans (scan.h), of non-stdlib sources only. */
    char *scan;      /* the SCAN reply; NULL when not scanned */
    int want_scan;   /* the compile workers are to scan it */
    int needs_files; /* line of its first path use of __file__, or 0 */
    int extract;     /* KP_MOD_EXTRACT: its top-level package goes to disk */
    char *preload; /* extension: libraries to load first, '\n'-joined */
} module_results;

/* A module: what it is, set when it is collected, and what the build
   finds out about it (out). */
typedef struct {
    char *name;    /* dotted module name */
    char *relpath; /* packed path: json/__init__.py, or a package's folder */
    char *disk;    /* file on disk; NULL for a namespace package */
    file_id id;    /* the file the walk saw at disk: read_collected() */
    uint32_t flags; /* KP_MOD_PACKAGE, KP_MOD_NAMESPACE or KP_MOD_EXTENSION */
    int from;
    module_results out;
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
    uint32_t hexversion;    /* the target CPython's sys.hexversion */
} collection;

/* Once all is collected: a script named like a packed package's folder
   (the script docutils, the package docutils) is packed as NAME.py, so
   that <exe>/NAME is not both a file and a folder. 0, or -1 if that is
   taken too. */
int collection_place_script(collection *c);
/* Drops stdlib modules and files whose top-level name the app provides,
   and later duplicates; warns about app modules that shadow the stdlib. */
void collection_resolve(collection *c);
/* Drops modules named like a built-in module of the target (comma-separated
   names), which the target could never import; warns about app ones. */
void collection_drop_builtins(collection *c, const char *builtins);
module_item *collection_find(const collection *c, const char *name);
/* Reads m's file into m->out.bytes, unless it is read already; -1 after
   an error naming it. */
int module_read(module_item *m);
/* Adds a stdlib file made by the build; takes bytes. */
void collection_add_made(collection *c, const char *relpath, uint8_t *bytes,
                         size_t len);
/* Refuses (-1, with a message naming the file) an output that is a packed
   file or that lies inside a packed folder; output need not exist. */
int collection_check_output(const collection *c, const char *output);
void collection_free(collection *c);

#endif
