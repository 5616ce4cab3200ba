/*
 * runapp.c - running the app: its script as __main__ or its module through
 * runpy, after gc.freeze() of the start-up objects; and the exit status.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "importer_internal.h"
#include "runapp.h"

static PyObject *run_script(kiln_state *st, const kp_pack *pack)
{
    PyObject *fullname, *main, *globals, *code = NULL, *file = NULL,
                                          *res = NULL;
    kp_entry e;

    fullname = PyUnicode_FromString(pack->main_name);
    if (!fullname)
        goto done;
    if (ke_main_entry(pack, &e) < 0) { /* kp_open() checked: never */
        PyErr_Format(PyExc_ImportError, "kiln: the script %R is not "
                     "packed in %U", fullname, st->exe);
        goto done;
    }
    main = PyImport_AddModule("__main__");
    if (!main)
        goto done;
    globals = PyModule_GetDict(main);
    file = kiln_module_origin(st, &e);
    code = file ? kiln_load_code(st, fullname, &e) : NULL;
    if (code == Py_None) { /* kp_open() checked: never */
        PyErr_Format(PyExc_ImportError, "kiln: the script %R in %U has "
                     "neither bytecode nor source", fullname, st->exe);
        Py_CLEAR(code);
    }
    if (!code)
        goto done;
    if (PyDict_SetItemString(globals, "__file__", file) < 0 ||
        PyDict_SetItemString(globals, "__cached__", Py_None) < 0 ||
        PyDict_SetItemString(globals, "__loader__", st->importer) < 0)
        goto done;
    res = kiln_exec_code(code, globals);
done:
    Py_XDECREF(fullname);
    Py_XDECREF(file);
    Py_XDECREF(code);
    return res;
}

static PyObject *run_module(const kp_pack *pack)
{
    PyObject *runpy = PyImport_ImportModule("runpy"), *res;
    if (!runpy)
        return NULL;
    res = PyObject_CallMethod(runpy, "_run_module_as_main", "sO",
                              pack->main_name, Py_False);
    Py_DECREF(runpy);
    return res;
}

#if defined(__SANITIZE_ADDRESS__)
#define KILN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_ASAN 1
#endif
#endif

/* gc.freeze(): the objects made while starting (the stdlib's modules,
   classes and functions) go to the permanent generation, so that the
   app's collections, and above all the full ones at exit, do not walk
   them again. __main__ was made while starting too: the app gets a new
   one, so that its globals, and what they hold, are collected and
   finalized as under python3. */
static int freeze_startup_objects(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *res = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
    PyObject *old = kiln_main_module();
    PyObject *fresh = res ? PyModule_New("__main__") : NULL;
    int rc = -1;

    if (!fresh || !old || !PyModule_Check(old) ||
        PyDict_Update(PyModule_GetDict(fresh), PyModule_GetDict(old)) < 0 ||
        PyDict_SetItemString(PySys_GetObject("modules"), "__main__",
                             fresh) < 0)
        goto done;
#ifdef KILN_ASAN
    /* CPython never frees frozen objects; under ASan they are unfrozen
       first thing at exit, so that LeakSanitizer sees what CPython frees
       without the freeze, and kiln's own leaks stand out. */
    {
        PyObject *atexit = PyImport_ImportModule("atexit");
        PyObject *unfreeze = PyObject_GetAttrString(gc, "unfreeze");
        PyObject *registered =
            atexit && unfreeze
                ? PyObject_CallMethod(atexit, "register", "O", unfreeze)
                : NULL;
        Py_XDECREF(atexit);
        Py_XDECREF(unfreeze);
        if (!registered)
            goto done;
        Py_DECREF(registered);
    }
#endif
    rc = 0;
done:
    Py_XDECREF(fresh);
    Py_XDECREF(res);
    Py_XDECREF(gc);
    return rc;
}

int kiln_run_app(const kp_pack *pack)
{
    kiln_state *st = kiln_state_get();
    PyObject *res;

    if (!st) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: the importer is not "
                        "installed; kiln_importer_install() comes first");
        return kiln_exit_status(NULL);
    }
    if ((pack->flags & KP_GC_FREEZE) && freeze_startup_objects() < 0)
        return kiln_exit_status(NULL);

    switch (pack->flags & KP_RUN_MASK) {
    case KP_RUN_SCRIPT:
        res = run_script(st, pack);
        break;
    case KP_RUN_MODULE:
        res = run_module(pack);
        break;
    default:
        PyErr_Format(PyExc_RuntimeError, "kiln: unknown run mode %u in %U",
                     pack->flags & KP_RUN_MASK, st->exe);
        res = NULL;
    }
    return kiln_exit_status(res);
}

int kiln_exit_status(PyObject *res)
{
    int interrupted;

    if (res) {
        Py_DECREF(res);
        return 0;
    }
    /* SystemExit makes PyErr_Print() exit, as python3 does. */
    interrupted = PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
    PyErr_Print();
    return interrupted ? -1 : 1;
}
