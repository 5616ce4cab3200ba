/*
 * pathentry.h - path entries inside the executable: the path hook, its
 * PathEntry finders, and _kiln's functions over packed folders and files.
 */
#ifndef KILN_PATHENTRY_H
#define KILN_PATHENTRY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct kiln_state kiln_state; /* importer_internal.h */

/* A new type _kiln.PathEntry for the module _kiln (NULL with an
   exception). */
PyTypeObject *kiln_pathentry_type_new(PyObject *module);
/* A PathEntry for path, <exe> or a packed folder (not a packed folder:
   NULL with ImportError). kiln_path_hook() is _kiln.path_hook, the
   sys.path_hooks entry. */
PyObject *kiln_path_entry(kiln_state *st, PyObject *path);
PyObject *kiln_path_hook(PyObject *mod, PyObject *path);
/* What _kiln.kind() says of a packed path: nothing (0), a file, a folder. */
enum { KILN_KIND_FILE = 1, KILN_KIND_FOLDER = 2 };
/* _kiln.kind(), listdir(), read() and locate(). */
PyObject *kiln_kind(PyObject *mod, PyObject *arg);
PyObject *kiln_listdir(PyObject *mod, PyObject *arg);
PyObject *kiln_read(PyObject *mod, PyObject *arg);
PyObject *kiln_locate(PyObject *mod, PyObject *fullname);

#endif
