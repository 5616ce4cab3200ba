/*
 * pyrun.c - loads a Python module built into the launcher once per
 * interpreter, and calls its functions: a module's code runs once, and
 * talks to C through arguments and return values, never through globals.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pyrun.h"

PyObject *kiln_pyrun_module(const kiln_pymodule *m)
{
    PyObject *modules = PySys_GetObject("modules"), *module, *code, *dict,
             *res = NULL;

    if (!modules || !PyDict_Check(modules)) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: sys.modules is gone");
        return NULL;
    }
    module = PyDict_GetItemString(modules, m->name);
    if (module)
        return module;
    code = Py_CompileString(m->source, m->filename, Py_file_input);
    module = code ? PyModule_New(m->name) : NULL;
    dict = module ? PyModule_GetDict(module) : NULL;
    if (dict &&
        PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) == 0)
        res = PyEval_EvalCode(code, dict, dict);
    if (!res || PyDict_SetItemString(modules, m->name, module) < 0)
        Py_CLEAR(module);
    else
        Py_DECREF(module); /* sys.modules keeps it */
    Py_XDECREF(res);
    Py_XDECREF(code);
    return module;
}

PyObject *kiln_pyrun_call(const kiln_pymodule *m, const char *function,
                          PyObject *const *args, size_t nargs)
{
    PyObject *module = kiln_pyrun_module(m), *func, *res;

    func = module ? PyObject_GetAttrString(module, function) : NULL;
    if (!func)
        return NULL;
    res = PyObject_Vectorcall(func, args, nargs, NULL);
    Py_DECREF(func);
    return res;
}
