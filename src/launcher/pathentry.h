/*
 * pathentry.h - path entries inside the executable: the path hook, its
 * PathEntry finders, and _kiln's functions over packed folders and files.
 */
#ifndef KILN_PATHENTRY_H
#define KILN_PATHENTRY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The type _kiln.PathEntry, ready (NULL with an exception). */
PyTypeObject *kiln_pathentry_type(void);
/* sys.path_hooks entry: a PathEntry for <exe> and the folders in it. */
PyObject *kiln_path_hook(PyObject *mod, PyObject *path);
/* What _kiln.kind() says of a packed path: nothing (0), a file, a folder. */
enum { KILN_KIND_FILE = 1, KILN_KIND_FOLDER = 2 };
/* _kiln.kind(), listdir(), read() and locate(). */
PyObject *kiln_kind(PyObject *mod, PyObject *arg);
PyObject *kiln_listdir(PyObject *mod, PyObject *arg);
PyObject *kiln_read(PyObject *mod, PyObject *arg);
PyObject *kiln_locate(PyObject *mod, PyObject *fullname);

#endif
