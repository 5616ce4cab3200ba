/*
 * excepthook.h - tracebacks that show packed sources: sys.excepthook, and
 * linecache's way to the sources of packed modules.
 */
#ifndef KILN_EXCEPTHOOK_H
#define KILN_EXCEPTHOOK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct kiln_state kiln_state; /* importer_internal.h */

/* _kiln.excepthook(type, value, traceback). */
PyObject *kiln_excepthook(PyObject *mod, PyObject *const *args,
                          Py_ssize_t nargs);
/* When fullname is linecache, just executed: wraps its updatecache. */
void kiln_wrap_updatecache(kiln_state *st, PyObject *fullname,
                           PyObject *linecache);

#endif
