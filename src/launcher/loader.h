/*
 * loader.h - the types _kiln.Importer and _kiln.Loader, which load
 * packed modules and serve their sources, data and resources.
 */
#ifndef KILN_LOADER_H
#define KILN_LOADER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The types, ready (NULL with an exception). */
PyTypeObject *kiln_importer_type(void);
PyTypeObject *kiln_loader_type(void);
/* A Loader for the packed module packed, imported under another name. */
PyObject *kiln_new_loader(PyObject *packed);
/* invalidate_caches(): nothing to do, the payload never changes. */
PyObject *kiln_invalidate_caches(PyObject *self, PyObject *unused);

#endif
