/*
 * loader.h - the types _kiln.Importer and _kiln.Loader, which load
 * packed modules and serve their sources, data and resources.
 */
#ifndef KILN_LOADER_H
#define KILN_LOADER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct kiln_state kiln_state; /* importer_internal.h */

/* A new type _kiln.Importer for the module _kiln (NULL with an
   exception); _kiln.Loader, made when first asked for. */
PyTypeObject *kiln_importer_type_new(PyObject *module);
PyTypeObject *kiln_loader_type(kiln_state *st);
/* A Loader for the packed module packed, imported under another name. */
PyObject *kiln_new_loader(kiln_state *st, PyObject *packed);
/* invalidate_caches(): nothing to do, the payload never changes. */
PyObject *kiln_invalidate_caches(PyObject *self, PyObject *unused);

#endif
