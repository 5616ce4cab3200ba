/*
 * finder.h - finding packed modules: the importer's find_spec and the
 * specs of packed modules, namespace packages included.
 */
#ifndef KILN_FINDER_H
#define KILN_FINDER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct kiln_state kiln_state; /* importer_internal.h */

#include "kpack.h"

/* The spec of the packed module e, imported as fullname and loaded by
   loader (None: a namespace portion); parent_path NULL for sys.path. */
PyObject *kiln_make_spec(kiln_state *st, PyObject *loader, PyObject *fullname,
                         const kp_entry *e, PyObject *parent_path);
/* Importer.find_spec(fullname, path=None, target=None). */
PyObject *kiln_importer_find_spec(PyObject *self, PyObject *args,
                                  PyObject *kwds);

#endif
