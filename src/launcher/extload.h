/*
 * extload.h - loading packed extension modules from memory.
 */
#ifndef KILN_EXTLOAD_H
#define KILN_EXTLOAD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct kiln_state kiln_state; /* importer_internal.h */

#include "kpack.h"

/* Loads the packed extension module e (packed: its packed name) as
   fullname, with loader self, after the bundled libraries it needs. */
PyObject *kiln_load_extension(kiln_state *st, PyObject *self,
                              PyObject *fullname, PyObject *packed,
                              const kp_entry *e);

#endif
