/*
 * kilnmod.h - the built-in module _kiln, one per interpreter.
 */
#ifndef KILN_KILNMOD_H
#define KILN_KILNMOD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A new _kiln module for this interpreter, executed and put in
   sys.modules; its state is then this interpreter's (kiln_state_get).
   Made directly rather than imported: importlib's Python path for a
   built-in module costs more than the rest of the set-up together. */
PyObject *kiln_module_new(void);

#endif
