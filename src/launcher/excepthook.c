/*
 * excepthook.c - tracebacks that show the lines of packed modules:
 * sys.excepthook goes through the traceback module when a traceback
 * passes through one (CPython's C printer reads sources from disk only),
 * and linecache finds their sources through the loader.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "compat.h"
#include "excepthook.h"
#include "importer_internal.h"

/* The name of the packed module whose source file is path (a path inside
   the executable), or NULL. */
static PyObject *module_of_path(kiln_state *st, PyObject *path)
{
    PyObject *relb = kiln_packed_rel(st, path), *name = NULL;
    const char *rel = relb ? PyBytes_AS_STRING(relb) : NULL;
    Py_ssize_t len = relb ? PyBytes_GET_SIZE(relb) : 0;
    kp_entry e;

    if (!rel || len <= 3 || memcmp(rel + len - 3, ".py", 3) != 0)
        goto not_found;
    /* pkg/mod.py is pkg.mod and pkg/__init__.py is pkg; an app's script
       is __main__ whatever its file's name. */
    for (int i = 0; i < 2 && !name; i++) {
        Py_ssize_t n = len - 3;
        if (i == 0 && n >= 9 && memcmp(rel + n - 9, "/__init__", 9) == 0)
            n -= 9;
        name = i == 0 ? PyUnicode_DecodeUTF8(rel, n, "surrogateescape")
                      : PyUnicode_FromString("__main__");
        if (name && i == 0)
            Py_SETREF(name, PyObject_CallMethod(name, "replace", "ss", "/",
                                                "."));
        if (!name || kiln_lookup(name, &e) != 1 ||
            !(e.flags & KP_MOD_SOURCE) || e.path_len != (uint32_t)len ||
            memcmp(e.path, rel, len) != 0)
            Py_CLEAR(name);
    }
not_found:
    Py_XDECREF(relb);
    PyErr_Clear();
    return name;
}

/* linecache reads a file's lines from disk, or through the module globals
   it is handed; warnings, tracemalloc and linecache.getline(path) hand it
   none, and a frozen stdlib module's globals name FrozenImporter, which
   has no source (inspect.getsource(os)). So linecache.updatecache is
   wrapped when linecache loads: for a packed module's path, it is handed
   the module's name and kiln's loader, and asks it for the source as for
   a zipimported file; python reads that file from disk. */
static PyObject *kiln_updatecache(PyObject *importer, PyObject *args,
                                  PyObject *kwds)
{
    static char *kwlist[] = {"filename", "module_globals", NULL};
    kiln_state *st = kiln_state_of(Py_TYPE(importer));
    PyObject *filename, *globals = Py_None, *name = NULL, *res;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:updatecache", kwlist,
                                     &filename, &globals))
        return NULL;
    if (PyUnicode_Check(filename))
        name = module_of_path(st, filename);
    if (name) {
        globals = Py_BuildValue("{s:O,s:O}", "__name__", name, "__loader__",
                                st->importer);
        Py_DECREF(name);
        if (!globals)
            return NULL;
    } else {
        Py_INCREF(globals);
    }
    res = PyObject_CallFunctionObjArgs(st->updatecache, filename, globals,
                                       NULL);
    Py_DECREF(globals);
    return res;
}

static PyMethodDef updatecache_def = {
    "updatecache", (PyCFunction)(void (*)(void))kiln_updatecache,
    METH_VARARGS | METH_KEYWORDS,
    "linecache.updatecache, which finds the sources of packed modules."};

void kiln_wrap_updatecache(kiln_state *st, PyObject *fullname,
                           PyObject *linecache)
{
    PyObject *hook;

    if (st->updatecache ||
        PyUnicode_CompareWithASCIIString(fullname, "linecache") != 0)
        return;
    st->updatecache = PyObject_GetAttrString(linecache, "updatecache");
    /* Bound to the importer, whose type leads to this state. */
    hook = st->updatecache ? PyCFunction_New(&updatecache_def, st->importer)
                           : NULL;
    if (!hook || PyObject_SetAttrString(linecache, "updatecache", hook) < 0)
        Py_CLEAR(st->updatecache);
    Py_XDECREF(hook);
    PyErr_Clear(); /* source lines are a nicety: never fail an import */
}

/* ---- the excepthook --------------------------------------------------- */

/* The limit argument of traceback.print_exception() that matches what the
   C printer makes of sys.tracebacklimit: the last N entries, none when N
   <= 0, all when it is unset or not an int. */
static PyObject *traceback_limit(void)
{
    PyObject *limit = PySys_GetObject("tracebacklimit"); /* borrowed */
    int overflow;
    long n;

    if (!limit || !PyLong_Check(limit))
        Py_RETURN_NONE;
    n = PyLong_AsLongAndOverflow(limit, &overflow);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (overflow > 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(overflow < 0 || n <= 0 ? 0 : -n);
}

/* For walks of exception chains, which may loop: 1 if obj's id is in the
   set seen, else 0 after adding it; -1 with an exception. */
static int seen_before(PyObject *seen, PyObject *obj)
{
    PyObject *key = PyLong_FromVoidPtr(obj);
    int found = key ? PySet_Contains(seen, key) : -1;

    if (found == 0)
        found = PySet_Add(seen, key);
    Py_XDECREF(key);
    return found;
}

/* 3.11's C printer adds ". Did you mean: 'x'?" to NameErrors and
   AttributeErrors (Python/suggestions.c); the traceback module does not.
   Adds those suggestions to te, a traceback.TracebackException of exc, and
   to the ones chained to it (seen: a set of the ids already done). */
static int add_suggestions(PyObject *te, PyObject *exc, PyObject *seen)
{
    static const char *const chained[] = {"__cause__", "__context__",
                                          "exceptions"};
    PyObject *suggestion, *str = NULL, *te_sub = NULL, *exc_sub = NULL;
    int found, rc = -1;

    if (!te || te == Py_None || !PyExceptionInstance_Check(exc))
        return 0;
    found = seen_before(seen, te);
    if (found != 0)
        return found < 0 ? -1 : 0;
    suggestion = kiln_offer_suggestions(exc);
    if (suggestion) {
        str = PyObject_GetAttrString(te, "_str");
        Py_XSETREF(str, str ? PyUnicode_FromFormat("%S. Did you mean: '%S'?",
                                                   str, suggestion)
                            : NULL);
        Py_DECREF(suggestion);
        if (!str || PyObject_SetAttrString(te, "_str", str) < 0)
            goto done;
    }
    PyErr_Clear(); /* no suggestion, or none could be made */
    for (size_t i = 0; i < sizeof chained / sizeof *chained; i++) {
        te_sub = PyObject_GetAttrString(te, chained[i]);
        exc_sub = PyObject_GetAttrString(exc, chained[i]);
        PyErr_Clear(); /* exceptions: only groups have it */
        if (i < 2) {
            if (add_suggestions(te_sub, exc_sub, seen) < 0)
                goto done;
        } else if (te_sub && exc_sub && PyList_Check(te_sub) &&
                   PyTuple_Check(exc_sub)) {
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(te_sub) &&
                                   j < PyTuple_GET_SIZE(exc_sub); j++)
                if (add_suggestions(PyList_GET_ITEM(te_sub, j),
                                    PyTuple_GET_ITEM(exc_sub, j), seen) < 0)
                    goto done;
        }
        Py_CLEAR(te_sub);
        Py_CLEAR(exc_sub);
    }
    rc = 0;
done:
    Py_XDECREF(str);
    Py_XDECREF(te_sub);
    Py_XDECREF(exc_sub);
    return rc;
}

/* te.print(): 3.10's TracebackException has no print(); its lines go to
   sys.stderr as 3.11's print() writes them. */
static PyObject *print_traceback_exception(PyObject *te)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyObject_CallMethod(te, "print", NULL);
#else
    PyObject *lines = PyObject_CallMethod(te, "format", NULL);
    PyObject *empty = PyUnicode_FromString("");
    PyObject *text = lines && empty ? PyUnicode_Join(empty, lines) : NULL;
    PyObject *err = PySys_GetObject("stderr"); /* borrowed */
    int rc = text && err ? PyFile_WriteObject(text, err, Py_PRINT_RAW) : -1;

    Py_XDECREF(lines);
    Py_XDECREF(empty);
    Py_XDECREF(text);
    if (rc < 0 && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "lost sys.stderr");
    return rc < 0 ? NULL : Py_NewRef(Py_None);
#endif
}

/* traceback.print_exception(type(value), value, tb, limit), with the C
   printer's suggestions. */
static PyObject *print_exception(PyObject *traceback, PyObject *value,
                                 PyObject *tb, PyObject *limit)
{
    PyObject *cls, *kwargs, *te = NULL, *seen = NULL, *res = NULL;

    cls = PyObject_GetAttrString(traceback, "TracebackException");
    kwargs = cls ? Py_BuildValue("{s:O,s:O}", "limit", limit, "compact",
                                 Py_True)
                 : NULL;
    if (kwargs)
        te = PyObject_VectorcallDict(
            cls, (PyObject *[]){(PyObject *)Py_TYPE(value), value, tb}, 3,
            kwargs);
    seen = te ? PySet_New(NULL) : NULL;
    if (seen && add_suggestions(te, value, seen) == 0)
        res = print_traceback_exception(te);
    Py_XDECREF(cls);
    Py_XDECREF(kwargs);
    Py_XDECREF(te);
    Py_XDECREF(seen);
    return res;
}

/* Does the traceback of exc (tb, or when NULL its own), or of an exception
   chained to it, pass through a packed module, whose source the C printer
   cannot read? 1, 0, or -1 with an exception. seen: a set of the ids
   already done. */
static int reaches_packed(kiln_state *st, PyObject *exc, PyObject *tb,
                          PyObject *seen)
{
    static const char *const chained[] = {"__cause__", "__context__",
                                          "exceptions"};
    PyObject *own_tb = NULL, *sub;
    int found, rc = 0;

    if (!PyExceptionInstance_Check(exc))
        return 0;
    found = seen_before(seen, exc);
    if (found != 0)
        return found < 0 ? -1 : 0;
    if (!tb)
        tb = own_tb = PyException_GetTraceback(exc);
    for (; tb && PyTraceBack_Check(tb) && rc == 0;
         tb = (PyObject *)((PyTracebackObject *)tb)->tb_next) {
        PyCodeObject *code =
            PyFrame_GetCode(((PyTracebackObject *)tb)->tb_frame);
        PyObject *rel = kiln_data_rel(st, code->co_filename);
        rc = rel ? 1 : PyErr_Occurred() ? -1 : 0;
        Py_XDECREF(rel);
        Py_DECREF(code);
    }
    Py_XDECREF(own_tb);
    for (size_t i = 0; i < sizeof chained / sizeof *chained && rc == 0; i++) {
        sub = PyObject_GetAttrString(exc, chained[i]);
        if (!sub)
            PyErr_Clear(); /* exceptions: only groups have it */
        else if (PyTuple_Check(sub))
            for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(sub) && rc == 0; j++)
                rc = reaches_packed(st, PyTuple_GET_ITEM(sub, j), NULL,
                                    seen);
        else
            rc = reaches_packed(st, sub, NULL, seen);
        Py_XDECREF(sub);
    }
    return rc;
}

/* sys.excepthook: the C traceback printer reads sources from disk, so
   a traceback through a packed module goes through the traceback module,
   which asks the loader; any other, python3's printer prints. */
PyObject *kiln_excepthook(PyObject *mod, PyObject *const *args,
                          Py_ssize_t nargs)
{
    kiln_state *st = PyModule_GetState(mod);
    PyObject *traceback, *limit, *res = NULL, *fallback, *seen;
    int sigint, packed;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "excepthook takes 3 arguments");
        return NULL;
    }
    seen = PySet_New(NULL);
    packed = seen ? reaches_packed(st, args[1], args[2], seen) : -1;
    Py_XDECREF(seen);
    if (packed == 0 && st->c_excepthook)
        return PyObject_Vectorcall(st->c_excepthook, args, 3, NULL);
    PyErr_Clear();
    /* importing traceback exec()s strings, which clears the flag */
    sigint = *kiln_unhandled_sigint();
    traceback = PyImport_ImportModule("traceback");
    limit = traceback ? traceback_limit() : NULL;
    if (limit)
        res = print_exception(traceback, args[1], args[2], limit);
    Py_XDECREF(limit);
    Py_XDECREF(traceback);
    *kiln_unhandled_sigint() = sigint;
    if (res)
        return res;
    PyErr_Clear();
    fallback = st->c_excepthook;
    if (!fallback)
        Py_RETURN_NONE;
    return PyObject_Vectorcall(fallback, args, 3, NULL);
}
