/*
 * pyrun.h - the one way the launcher runs Python modules of kiln's: those
 * built into it (the .py files of src/launcher/py) and those kiln sends its
 * compile server. Each is loaded once per interpreter, as a module in
 * sys.modules, and used through the functions it defines.
 */
#ifndef KILN_PYRUN_H
#define KILN_PYRUN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A module of kiln's. */
typedef struct {
    const char *name;     /* its name in sys.modules: "_kiln_support" */
    const char *filename; /* its code's file name: "<kiln_support>" */
    const char *source;   /* its source: $(BUILD)/gen/NAME.py.h, or kiln's */
} kiln_pymodule;

/* This interpreter's module m (borrowed from sys.modules), executed the
   first time it is asked for; NULL with an exception. */
PyObject *kiln_pyrun_module(const kiln_pymodule *m);
/* m.function(*args): a new reference, or NULL with an exception. */
PyObject *kiln_pyrun_call(const kiln_pymodule *m, const char *function,
                          PyObject *const *args, size_t nargs);

#endif
