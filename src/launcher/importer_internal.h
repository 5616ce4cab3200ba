/*
 * importer_internal.h - state and helpers shared by the files of kiln's
 * importer (importer.c, finder.c, loader.c, extload.c, pathentry.c,
 * excepthook.c, install.c, runapp.c); nothing else includes it.
 */
#ifndef KILN_IMPORTER_INTERNAL_H
#define KILN_IMPORTER_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

#include "compat.h"
#include "entries.h"
#include "kpack.h"

/* One payload per process: what the importer knows of it and of the
   process, C data only, shared by every interpreter. */
struct kiln_process {
    const kp_pack *pack;
    char *exe;         /* the executable's path */
    long optimize;     /* sys.flags.optimize of this process */
    char *disk_stdlib; /* interpreter mode: kiln_disk_stdlib(), else NULL */
    PyInterpreterState *main_interp;
    int hermetic; /* an app: kiln's importer on sys.meta_path */
};
extern struct kiln_process kiln_proc;

/* Names the importer uses on every import, interned once: st->names[KN_x]
   (a C string would be made into a str, and interned, at each use). */
#define KILN_NAMES(X)                                                       \
    X(NAME, "name") X(ORIGIN, "origin") X(IS_PACKAGE, "is_package")         \
    X(LOCATIONS, "submodule_search_locations")                              \
    X(HAS_LOCATION, "has_location") X(LOADER, "__loader__")                 \
    X(PACKAGE, "__package__") X(SPEC, "__spec__") X(PATH, "__path__")       \
    X(FILE, "__file__") X(CACHED, "__cached__")
enum {
#define KILN_NAME_ENUM(id, text) KN_##id,
    KILN_NAMES(KILN_NAME_ENUM)
#undef KILN_NAME_ENUM
    KN_COUNT
};

/* The importer's Python objects: the state of one interpreter's _kiln
   module (PEP 489, 630), so that each subinterpreter has its own. */
typedef struct kiln_state {
    PyObject *module;   /* borrowed: the _kiln module this is the state of */
    PyObject *exe;      /* str: the executable's path */
    PyObject *importer; /* the instance on sys.meta_path */
    PyObject *module_spec, *fix_co_filename, *create_dynamic, *exec_dynamic;
    PyObject *cached_suffix; /* ".cpython-311.pyc", or NULL */
    PyObject *frozen;        /* set: names with a frozen code object */
    PyObject *get_frozen_object;
    PyObject *extracted; /* dict: top-level name -> its extract folder */
    PyObject *updatecache;  /* linecache's own, once linecache is loaded */
    PyObject *c_excepthook; /* CPython's own sys.__excepthook__ */
    PyObject *path_hook;    /* _kiln.path_hook */
    PyObject *names[KN_COUNT];
    PyObject *spec_kwnames; /* ("origin", "is_package") */
    PyTypeObject *importer_type, *pathentry_type;
    PyTypeObject *loader_type; /* NULL until first used (loader.c) */
} kiln_state;

/* The definition of _kiln (install.c). */
extern PyModuleDef kiln_module_def;

/* This interpreter's state (install.c, in the interpreter's dict); NULL,
   without an exception, where kiln's importer is not installed. */
kiln_state *kiln_state_get(void);
/* The state of the _kiln module that defined type, a type of _kiln. */
static inline kiln_state *kiln_state_of(PyTypeObject *type)
{
    PyObject *module = PyType_GetModuleByDef(type, &kiln_module_def);
    return module ? (kiln_state *)PyModule_GetState(module) : NULL;
}

/* Lookups (importer.c). 1 and *e filled when fullname is packed, 0 when
   not, -1 on error; _required: 0, or -1 with ImportError when not. */
int kiln_lookup(PyObject *fullname, kp_entry *e);
int kiln_lookup_required(kiln_state *st, PyObject *fullname, kp_entry *e);
/* Bytes of a blob after checking them; NULL with ImportError if damaged. */
const uint8_t *kiln_checked_blob(kiln_state *st, PyObject *fullname,
                                 const kp_blob *blob, const char *what);

/* Packed paths as str (os.fsdecode) and back as bytes (os.fsencode). */
PyObject *kiln_fs_str(const char *s, Py_ssize_t len);
PyObject *kiln_fs_bytes(PyObject *arg);
/* <exe>/rel[0:len]. */
PyObject *kiln_virtual_path(kiln_state *st, const char *rel, Py_ssize_t len);
/* The packed path (bytes) of a virtual path, or (data_rel) of a path in
   an extracted package's folder too; NULL, maybe without an exception. */
PyObject *kiln_packed_rel(kiln_state *st, PyObject *path);
PyObject *kiln_data_rel(kiln_state *st, PyObject *path);

/* Where a packed module's files are: under the executable, or extracted. */
PyObject *kiln_extracted_base(kiln_state *st, const char *rel, Py_ssize_t len);
PyObject *kiln_entry_base(kiln_state *st, const kp_entry *e);
PyObject *kiln_entry_path(kiln_state *st, const kp_entry *e, Py_ssize_t len);
PyObject *kiln_module_origin(kiln_state *st, const kp_entry *e);
PyObject *kiln_package_dir(kiln_state *st, const kp_entry *e);
int kiln_add_disk_location(const kp_entry *e, PyObject *locations);

/* A module's code object (None when it has none), and running code. */
PyObject *kiln_load_code(kiln_state *st, PyObject *fullname,
                         const kp_entry *e);
PyObject *kiln_exec_code(PyObject *code, PyObject *globals);

/* module.attr, from sys.modules when there; sys.modules["__main__"]
   (borrowed) or NULL. */
PyObject *kiln_import_attr(const char *module, const char *attr);
PyObject *kiln_main_module(void);

#endif
