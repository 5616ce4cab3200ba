/*
 * mpchild.c - multiprocessing children of a kiln app. multiprocessing
 * starts them (spawn children, the fork server, the resource tracker) by
 * running sys.executable, the app itself, as
 *     app FLAGS... -c "from multiprocessing.M import F; F(ARGS)" [ARGS...]
 * with FLAGS from subprocess._args_from_interpreter_flags(). Only a child
 * that proves that the app started it (child.c, childproof.c) gets here:
 * it runs under the app's own hermetic configuration, and the code goes
 * through py/mp_child.py, which makes only the entry point's call. Any
 * other argv, whatever it looks like, is the app's own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "mpchild.h"
#include "pyrun.h"
#include "runapp.h"

#include "mp_child.py.h" /* mp_child_py, from src/launcher/py/mp_child.py */

PyStatus kiln_mp_child_config(PyConfig *config, int argc, char **argv,
                              int code_at)
{
    char **child;
    PyStatus status = PyConfig_SetBytesArgv(config, argc, argv);

    for (Py_ssize_t i = 0;
         !PyStatus_Exception(status) && i < config->argv.length; i++)
        status = PyWideStringList_Append(&config->orig_argv,
                                         config->argv.items[i]);
    if (PyStatus_Exception(status))
        return status;
    /* As python3 -c: sys.argv is "-c" and the arguments after the code. */
    child = malloc((size_t)(argc - code_at) * sizeof *child);
    if (!child)
        return PyStatus_NoMemory();
    child[0] = "-c";
    memcpy(child + 1, argv + code_at + 1,
           (size_t)(argc - code_at - 1) * sizeof *child);
    status = PyConfig_SetBytesArgv(config, argc - code_at, child);
    free(child);
    if (PyStatus_Exception(status))
        return status;
    config->optimization_level = 0;
    kiln_child_flags(code_at - 1, argv, config, &status);
    return status;
}

int kiln_mp_child_run(const char *code, const char *exe)
{
    static const kiln_pymodule mp_child = {"_kiln_mp_child",
                                           "<kiln mp_child.py>", mp_child_py};
    PyObject *args[2] = {NULL, NULL}, *res = NULL;

    args[0] = PyUnicode_DecodeFSDefault(code);
    args[1] = args[0] ? PyUnicode_DecodeFSDefault(exe) : NULL;
    if (args[1])
        res = kiln_pyrun_call(&mp_child, "run", args, 2);
    Py_XDECREF(args[0]);
    Py_XDECREF(args[1]);
    return kiln_exit_status(res);
}
