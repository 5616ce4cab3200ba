/*
 * install.c - the importer's installation: on sys.meta_path and
 * sys.path_hooks, sys.path and frozen modules' files of an app,
 * importlib's message for a module that is not packed, the excepthook,
 * and the audit hook that installs kiln in subinterpreters.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "childproof.h"
#include "compat.h"
#include "excepthook.h"
#include "extract.h"
#include "importer.h"
#include "importer_internal.h"
#include "kilnmod.h"
#include "loader.h"
#include "pathentry.h"

/* Index of the first entry of sys.meta_path that is cls, or -1. */
static Py_ssize_t meta_path_index(PyObject *meta_path, PyObject *cls)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(meta_path); i++)
        if (PyList_GET_ITEM(meta_path, i) == cls)
            return i;
    return -1;
}

int kiln_importer_install(const kp_pack *pack, const char *exe,
                          const char *disk_stdlib)
{
    PyObject *module = NULL, *meta_path, *flags, *opt, *frozen_importer;
    kiln_state *st;
    Py_ssize_t at;

    kiln_proc.pack = pack;
    kiln_proc.main_interp = PyInterpreterState_Get();
    kiln_proc.exe = strdup(exe);
    if (!kiln_proc.exe) {
        PyErr_NoMemory();
        return -1;
    }
    if ((pack->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER && disk_stdlib &&
        !(kiln_proc.disk_stdlib = strdup(disk_stdlib))) {
        PyErr_NoMemory();
        return -1;
    }
    flags = PySys_GetObject("flags");
    opt = flags ? PyObject_GetAttrString(flags, "optimize") : NULL;
    if (!opt)
        return -1;
    kiln_proc.optimize = PyLong_AsLong(opt);
    Py_DECREF(opt);
    module = kiln_module_new();
    if (!module || Py_AtExit(kiln_extract_cleanup) < 0)
        goto error;
    st = PyModule_GetState(module);
    meta_path = PySys_GetObject("meta_path");
    if (!meta_path || !PyList_Check(meta_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path is not a list");
        goto error;
    }
    /* In an app, first: kiln never packs a module named like a built-in
       one and uses the frozen code objects itself, so the order only saves
       the built-in and frozen finders' Python calls. In an interpreter,
       after them, as python3's path finder: frozen modules then have the
       FrozenImporter spec that importlib._bootstrap._setup() expects of
       every module _imp.is_frozen() names (import_fresh_module("importlib"),
       say). */
    at = 0;
    if ((pack->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER) {
        frozen_importer =
            kiln_import_attr("_frozen_importlib", "FrozenImporter");
        if (!frozen_importer)
            goto error;
        at = meta_path_index(meta_path, frozen_importer) + 1;
        Py_DECREF(frozen_importer);
    }
    if (PyList_Insert(meta_path, at, st->importer) < 0)
        goto error;
    Py_DECREF(module);
    return 0;

error:
    Py_XDECREF(module);
    return -1;
}

/* A frozen module whose package --extract names (os, say) gets the path
   of its extracted file as __file__. */
static void fix_extracted_frozen(kiln_state *st, PyObject *name,
                                 PyObject *dict, PyObject *state)
{
    PyObject *file;
    kp_entry e;

    if (kiln_lookup(name, &e) != 1 || !(e.flags & KP_MOD_EXTRACT))
        return;
    file = kiln_module_origin(st, &e);
    if (file) {
        PyDict_SetItemString(dict, "__file__", file);
        PyObject_SetAttrString(state, "filename", file);
    }
    Py_XDECREF(file);
}

/* Frozen stdlib modules take __file__ from sys._stdlib_dir, which the
   path configuration leaves empty: point it into the executable (or to
   the stdlib's extracted folder, when it is whole there), and give the
   frozen modules imported so far the __file__ python3 gives them. */
static int fix_frozen_files(kiln_state *st)
{
    PyObject *resolve, *modules, *values = NULL, *dir;
    int rc = -1;

    if (!KILN_HAVE_STDLIB_DIR)
        return 0; /* 3.10 freezes no stdlib module */
    dir = kiln_proc.pack->flags & KP_STDLIB_FILES
              ? kiln_extracted_base(st, "", 0)
              : Py_NewRef(st->exe);
    rc = dir ? PySys_SetObject("_stdlib_dir", dir) : -1;
    Py_XDECREF(dir);
    if (rc < 0)
        return -1;
    rc = -1;
    resolve = kiln_import_attr("_frozen_importlib", "FrozenImporter");
    modules = PySys_GetObject("modules");
    if (!resolve || !modules)
        goto done;
    Py_SETREF(resolve, PyObject_GetAttrString(resolve, "_resolve_filename"));
    values = resolve ? PyMapping_Values(modules) : NULL;
    for (Py_ssize_t i = 0; values && i < PyList_GET_SIZE(values); i++) {
        PyObject *mod = PyList_GET_ITEM(values, i), *dict, *spec, *state;
        PyObject *origname = NULL, *name = NULL, *res = NULL;

        if (!PyModule_Check(mod))
            continue;
        dict = PyModule_GetDict(mod);
        spec = PyDict_GetItemString(dict, "__spec__"); /* borrowed */
        if (PyDict_GetItemString(dict, "__file__") || !spec || spec == Py_None)
            continue;
        state = PyObject_GetAttrString(spec, "loader_state");
        if (state && state != Py_None)
            origname = PyObject_GetAttrString(state, "origname");
        name = origname && origname != Py_None ? PyModule_GetNameObject(mod)
                                                : NULL;
        if (name)
            res = PyObject_CallFunction(
                resolve, "OOi", origname, name,
                PyDict_GetItemString(dict, "__path__") != NULL);
        if (res && PyTuple_Check(res) && PyTuple_GET_SIZE(res) == 2 &&
            PyTuple_GET_ITEM(res, 0) != Py_None) {
            PyDict_SetItemString(dict, "__file__", PyTuple_GET_ITEM(res, 0));
            PyObject_SetAttrString(state, "filename",
                                   PyTuple_GET_ITEM(res, 0));
        }
        if (res && !(kiln_proc.pack->flags & KP_STDLIB_FILES))
            fix_extracted_frozen(st, name, dict, state);
        PyErr_Clear(); /* a module that refuses attributes keeps its own */
        Py_XDECREF(res);
        Py_XDECREF(name);
        Py_XDECREF(origname);
        Py_XDECREF(state);
    }
    rc = values ? 0 : -1;
done:
    Py_XDECREF(values);
    Py_XDECREF(resolve);
    return rc;
}

/* An app's sys.path, shaped as python3's: the entry of the script's
   folder, then the packed modules' place, both <exe> (the script is
   <exe>/NAME.py, as in a zipapp; a -m app gets <exe> too, never the
   current folder). PathFinder stays after kiln on sys.meta_path, as under
   python3, but finds nothing on disk until the app puts a folder on
   sys.path or a package's __path__ leads to one: kiln's path hook claims
   <exe> and the folders in it. */
static int app_sys_path(kiln_state *st)
{
    PyObject *path = PySys_GetObject("path");

    if (!path || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    return PyList_Insert(path, 0, st->exe);
}

/* ---- the message of a module that is not packed ------------------------ */

/* The exception set, when it is the ModuleNotFoundError importlib raises
   because nothing finds name and name is top-level: its message goes on to
   say that it is not packed and how to pack it. The exception keeps its
   identity, type, name, path and traceback; any other is left as it is. */
static void explain_not_packed(PyObject *name)
{
    PyObject *type, *value, *tb, *plain = NULL, *has_name = NULL;
    PyObject *has_msg = NULL, *msg = NULL, *args = NULL;
    kiln_state *st = kiln_state_get();

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (!st || !value ||
        !Py_IS_TYPE(value, (PyTypeObject *)PyExc_ModuleNotFoundError) ||
        !PyUnicode_Check(name) ||
        PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), 1) != -1)
        goto done;
    plain = PyUnicode_FromFormat("No module named %R", name);
    has_name = plain ? PyObject_GetAttrString(value, "name") : NULL;
    has_msg = has_name ? PyObject_GetAttrString(value, "msg") : NULL;
    if (!has_msg || PyObject_RichCompareBool(has_name, name, Py_EQ) != 1 ||
        PyObject_RichCompareBool(has_msg, plain, Py_EQ) != 1)
        goto done;
    msg = PyUnicode_FromFormat(
        "No module named %R (kiln: %R is not packed in %U, and an app does "
        "not import from PYTHONPATH; build it with --path DIR or --package "
        "NAME)", name, name, st->exe);
    args = msg ? PyTuple_Pack(1, msg) : NULL;
    if (args && PyObject_SetAttrString(value, "msg", msg) == 0)
        PyObject_SetAttrString(value, "args", args);
done:
    /* An error of its own (no memory, say) leaves importlib's message. */
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    Py_XDECREF(plain);
    Py_XDECREF(has_name);
    Py_XDECREF(has_msg);
    Py_XDECREF(msg);
    Py_XDECREF(args);
}

/* importlib's _find_and_load(name, import_) (self), in an app: what it
   returns, and its ModuleNotFoundError explained. An import only calls it
   when the module is not in sys.modules yet. */
static PyObject *find_and_load(PyObject *self, PyObject *const *args,
                               Py_ssize_t nargs)
{
    PyObject *res = PyObject_Vectorcall(self, args, nargs, NULL);

    if (!res && nargs >= 1 &&
        PyErr_ExceptionMatches(PyExc_ModuleNotFoundError))
        explain_not_packed(args[0]);
    return res;
}

static PyMethodDef find_and_load_def = {
    "_find_and_load", (PyCFunction)(void (*)(void))find_and_load,
    METH_FASTCALL,
    "importlib's _find_and_load; a top-level module that no finder finds "
    "gets how to pack it."};

/* Puts find_and_load in the place of _frozen_importlib._find_and_load,
   which both the import statement (PyImport_ImportModuleLevelObject) and
   importlib.import_module() look up at each call, in 3.10 to 3.13. 3.12
   formats "No module named {!r}" in place, so importlib's _ERR_MSG,
   which 3.10 and 3.11 format, cannot carry the message. Finders, and
   importlib.util.find_spec(), are left alone: it still returns None. */
static int wrap_find_and_load(void)
{
    PyObject *name = PyUnicode_FromString("_frozen_importlib");
    PyObject *bootstrap = name ? PyImport_GetModule(name) : NULL;
    PyObject *orig = NULL, *mine = NULL;
    int rc = -1;

    Py_XDECREF(name);
    if (!bootstrap)
        return PyErr_Occurred() ? -1 : 0;
    orig = PyObject_GetAttrString(bootstrap, "_find_and_load");
    if (!orig || !PyCallable_Check(orig)) {
        PyErr_Clear(); /* an importlib kiln does not know: its message */
        rc = 0;
        goto done;
    }
    mine = PyCFunction_NewEx(&find_and_load_def, orig, NULL);
    if (mine)
        rc = PyObject_SetAttrString(bootstrap, "_find_and_load", mine);
done:
    Py_DECREF(bootstrap);
    Py_XDECREF(orig);
    Py_XDECREF(mine);
    return rc;
}

/* <exe> and its folders get PathEntry finders through a path hook, for
   pkgutil. In interpreter mode the importer also leaves sys.meta_path: the
   packed stdlib is then the sys.path entry <exe>, so that sys.path order
   decides as under python3: a script's folder shadows the stdlib, the
   stdlib shadows site-packages. */
static int add_path_hook(kiln_state *st, int hermetic)
{
    PyObject *meta_path = PySys_GetObject("meta_path");
    PyObject *hooks = PySys_GetObject("path_hooks"), *entry;
    PyObject *cache = PySys_GetObject("path_importer_cache");
    Py_ssize_t at;
    int rc;

    if (!meta_path || !PyList_Check(meta_path) || !hooks ||
        !PyList_Check(hooks) || !cache || !PyDict_Check(cache)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path, sys.path_hooks "
                        "or sys.path_importer_cache is not set up");
        return -1;
    }
    at = hermetic ? -1 : meta_path_index(meta_path, st->importer);
    if (at >= 0 && PySequence_DelItem(meta_path, at) < 0)
        return -1;
    if (PyList_Insert(hooks, 0, st->path_hook) < 0)
        return -1;
    /* <exe>'s finder is in the cache from the start: PathFinder asks no
       other hook (zipimport would read the executable). */
    PyDict_Clear(cache);
    entry = kiln_path_entry(st, st->exe);
    rc = entry ? PyDict_SetItem(cache, st->exe, entry) : -1;
    Py_XDECREF(entry);
    return rc;
}

/* Puts entry first in the list sys.<name>, unless it is there. */
static int ensure_in(const char *name, PyObject *entry)
{
    PyObject *list = PySys_GetObject(name);
    int has;

    if (!list || !PyList_Check(list))
        return 0;
    has = PySequence_Contains(list, entry);
    if (has != 0)
        return has < 0 ? -1 : 0;
    return PyList_Insert(list, 0, entry);
}

/* Audit hook, process-wide: a subinterpreter starts with importlib's own
   finders only, so the first import it makes (during its set-up, before
   it needs the stdlib) gives it a _kiln module of its own, and puts that
   module's path hook, and in an app its importer, in place there too, as
   in the main interpreter. */
static int kiln_audit(const char *event, PyObject *args, void *data)
{
    static _Thread_local int busy; /* making _kiln imports nothing, but */
    kiln_state *st;
    PyObject *module;
    int rc;

    (void)args;
    (void)data;
    if (strcmp(event, "import") != 0 || busy ||
        PyInterpreterState_Get() == kiln_proc.main_interp)
        return 0;
    busy = 1;
    st = kiln_state_get();
    if (!st && (module = kiln_module_new())) {
        st = PyModule_GetState(module);
        Py_DECREF(module); /* sys.modules and the interpreter keep it */
    }
    rc = st ? ensure_in("path_hooks", st->path_hook) : -1;
    if (rc == 0 && kiln_proc.hermetic)
        rc = ensure_in("meta_path", st->importer);
    busy = 0;
    return rc;
}

int kiln_importer_finish(int hermetic)
{
    kiln_state *st = kiln_state_get();
    PyObject *hook;
    int rc;

    if (!st) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: the importer is not "
                        "installed; kiln_importer_install() comes first");
        return -1;
    }
    if (fix_frozen_files(st) < 0)
        return -1;
    if (add_path_hook(st, hermetic) < 0 ||
        (hermetic && (app_sys_path(st) < 0 || wrap_find_and_load() < 0)))
        return -1;
    kiln_proc.hermetic = hermetic;
    if (PySys_AddAuditHook(kiln_audit, NULL) < 0)
        return -1;
    /* kiln's hook is the default one, sys.__excepthook__ too: code.py and
       others print tracebacks themselves only when sys.excepthook is
       sys.__excepthook__. */
    st->c_excepthook = PySys_GetObject("__excepthook__");
    Py_XINCREF(st->c_excepthook);
    hook = PyObject_GetAttrString(st->module, "excepthook");
    if (!hook)
        return -1;
    rc = PySys_SetObject("excepthook", hook);
    if (rc == 0)
        rc = PySys_SetObject("__excepthook__", hook);
    Py_DECREF(hook);
    return rc;
}
