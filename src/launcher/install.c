/*
 * install.c - the built-in module _kiln and the importer's installation:
 * on sys.meta_path and sys.path_hooks, sys.path and frozen modules' files
 * of an app, importlib's message for a module that is not packed, the
 * excepthook, and the audit hook that installs kiln in subinterpreters.
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
#include "loader.h"
#include "pathentry.h"

/* _kiln.temp_folder(): the app's private temporary folder (extract.c),
   made on first use, removed at exit. */
static PyObject *kiln_temp_folder_py(PyObject *mod, PyObject *unused)
{
    char err[1024];
    const char *dir = kiln_temp_folder(err, sizeof err);

    (void)mod;
    (void)unused;
    if (!dir)
        return PyErr_Format(PyExc_OSError, "kiln: %s", err);
    return PyUnicode_DecodeFSDefault(dir);
}

/* The module's __getattr__ (PEP 562): Loader. */
static PyObject *kiln_getattr(PyObject *mod, PyObject *name)
{
    (void)mod;
    if (PyUnicode_Check(name) &&
        PyUnicode_CompareWithASCIIString(name, "Loader") == 0)
        return Py_XNewRef((PyObject *)kiln_loader_type());
    return PyErr_Format(PyExc_AttributeError, "module '_kiln' has no "
                        "attribute %R", name);
}

static PyMethodDef kiln_methods[] = {
    {"kind", kiln_kind, METH_O,
     "1 for a packed file, 2 for a packed folder, 0 for neither."},
    {"listdir", kiln_listdir, METH_O,
     "(files, folders) right in a packed folder, sorted."},
    {"read", kiln_read, METH_O, "The bytes of a packed file."},
    {"locate", kiln_locate, METH_O,
     "(flags, packed path, base folder) of a packed module."},
    {"path_hook", kiln_path_hook, METH_O,
     "Path hook: the importer for the executable's own path entries."},
    {"__getattr__", kiln_getattr, METH_O,
     "_kiln.Loader, made ready when first asked for."},
    {"excepthook", (PyCFunction)(void (*)(void))kiln_excepthook,
     METH_FASTCALL, "Print a traceback with packed source lines."},
    {"child_proof", kiln_child_proof_new, METH_NOARGS,
     "A new proof descriptor for a child of the app (children.c)."},
    {"temp_folder", kiln_temp_folder_py, METH_NOARGS,
     "The app's private temporary folder, removed at exit (extract.c)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef kiln_module = {
    PyModuleDef_HEAD_INIT, "_kiln",
    "kiln's in-memory importer.", -1, kiln_methods, NULL, NULL, NULL, NULL};

/* The constants of _kiln: the flags of packed modules, which
   kiln_locate() returns, and what kiln_kind() returns. */
static int add_constants(PyObject *m)
{
    static const struct {
        const char *name;
        long value;
    } constants[] = {
        {"MOD_CODE", KP_MOD_CODE},         {"MOD_EXTENSION", KP_MOD_EXTENSION},
        {"MOD_SOURCE", KP_MOD_SOURCE},     {"MOD_PACKAGE", KP_MOD_PACKAGE},
        {"MOD_NAMESPACE", KP_MOD_NAMESPACE}, {"MOD_EXTRACT", KP_MOD_EXTRACT},
        {"MOD_STDLIB", KP_MOD_STDLIB},     {"FILE", KILN_KIND_FILE},
        {"FOLDER", KILN_KIND_FOLDER},
    };

    for (size_t i = 0; i < sizeof constants / sizeof *constants; i++)
        if (PyModule_AddIntConstant(m, constants[i].name,
                                    constants[i].value) < 0)
            return -1;
    return 0;
}

static PyObject *PyInit__kiln(void)
{
    PyTypeObject *importer = kiln_importer_type();
    PyTypeObject *path_entry = importer ? kiln_pathentry_type() : NULL;
    PyObject *m;

    if (!path_entry)
        return NULL;
    m = PyModule_Create(&kiln_module);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Importer", (PyObject *)importer) < 0 ||
        PyModule_AddObjectRef(m, "PathEntry", (PyObject *)path_entry) < 0 ||
        (kiln_st.exe && PyModule_AddObjectRef(m, "exe", kiln_st.exe) < 0) ||
        add_constants(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

int kiln_importer_register(void)
{
    return PyImport_AppendInittab("_kiln", PyInit__kiln);
}

/* Index of the first entry of sys.meta_path that is cls, or -1. */
static Py_ssize_t meta_path_index(PyObject *meta_path, PyObject *cls)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(meta_path); i++)
        if (PyList_GET_ITEM(meta_path, i) == cls)
            return i;
    return -1;
}

static int set_cached_suffix(void)
{
    PyObject *impl = PySys_GetObject("implementation"), *tag;

    tag = impl ? PyObject_GetAttrString(impl, "cache_tag") : NULL;
    if (!tag)
        return -1;
    if (tag == Py_None) {
        Py_DECREF(tag);
        return 0; /* no cache tag: importlib sets no __cached__ either */
    }
    kiln_st.cached_suffix = kiln_proc.optimize
                            ? PyUnicode_FromFormat(".%U.opt-%ld.pyc", tag,
                                                   kiln_proc.optimize)
                            : PyUnicode_FromFormat(".%U.pyc", tag);
    Py_DECREF(tag);
    return kiln_st.cached_suffix ? 0 : -1;
}

/* The frozen modules this interpreter really has: none when started with
   -X frozen_modules=off; 3.10 has no list. */
static PyObject *usable_frozen_names(void)
{
    PyObject *imp, *names;

    if (!kiln_use_frozen_modules())
        return PySet_New(NULL);
    imp = PyImport_ImportModule("_imp");
    names = imp ? PyObject_CallMethod(imp, "_frozen_module_names", NULL)
                : NULL;
    Py_XDECREF(imp);
    if (!names && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        return PySet_New(NULL);
    }
    Py_SETREF(names, names ? PySet_New(names) : NULL);
    return names;
}

int kiln_importer_install(const kp_pack *pack, const char *exe,
                   const char *disk_stdlib)
{
    PyObject *module = NULL, *meta_path, *flags, *opt, *frozen_importer;
    Py_ssize_t at;

    kiln_proc.pack = pack;
    kiln_st.exe = PyUnicode_DecodeFSDefault(exe);
    /* Made directly rather than imported: importlib's Python path for a
       built-in module costs more than the rest of the set-up together. */
    module = kiln_st.exe ? PyInit__kiln() : NULL;
    if (!module || !PySys_GetObject("modules") ||
        PyDict_SetItemString(PySys_GetObject("modules"), "_kiln", module) < 0)
        goto error;
    kiln_st.importer = PyObject_CallNoArgs((PyObject *)kiln_importer_type());
    kiln_st.module_spec = kiln_import_attr("_frozen_importlib", "ModuleSpec");
    kiln_st.fix_co_filename = kiln_import_attr("_imp", "_fix_co_filename");
    kiln_st.create_dynamic = kiln_import_attr("_imp", "create_dynamic");
    kiln_st.exec_dynamic = kiln_import_attr("_imp", "exec_dynamic");
    kiln_st.frozen = usable_frozen_names();
    kiln_st.get_frozen_object = kiln_import_attr("_imp", "get_frozen_object");
    kiln_st.extracted = PyDict_New();
    if (!kiln_st.importer || !kiln_st.module_spec || !kiln_st.fix_co_filename ||
        !kiln_st.create_dynamic || !kiln_st.exec_dynamic || !kiln_st.frozen ||
        !kiln_st.get_frozen_object || !kiln_st.extracted ||
        Py_AtExit(kiln_extract_cleanup) < 0)
        goto error;
    flags = PySys_GetObject("flags");
    opt = flags ? PyObject_GetAttrString(flags, "optimize") : NULL;
    if (!opt)
        goto error;
    kiln_proc.optimize = PyLong_AsLong(opt);
    Py_DECREF(opt);
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
        kiln_proc.disk_stdlib = disk_stdlib ? strdup(disk_stdlib) : NULL;
        frozen_importer = kiln_import_attr("_frozen_importlib", "FrozenImporter");
        if (!frozen_importer)
            goto error;
        at = meta_path_index(meta_path, frozen_importer) + 1;
        Py_DECREF(frozen_importer);
    }
    if (PyList_Insert(meta_path, at, kiln_st.importer) < 0)
        goto error;
    if (set_cached_suffix() < 0)
        goto error;
    Py_DECREF(module);
    return 0;

error:
    Py_XDECREF(module);
    return -1;
}

/* A frozen module whose package --extract names (os, say) gets the path
   of its extracted file as __file__. */
static void fix_extracted_frozen(PyObject *name, PyObject *dict,
                                 PyObject *state)
{
    PyObject *file;
    kp_entry e;

    if (kiln_lookup(name, &e) != 1 || !(e.flags & KP_MOD_EXTRACT))
        return;
    file = kiln_module_origin(&e);
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
static int fix_frozen_files(void)
{
    PyObject *resolve, *modules, *values = NULL, *dir;
    int rc = -1;

    dir = kiln_proc.pack->flags & KP_STDLIB_FILES ? kiln_extracted_base("", 0)
                                            : Py_NewRef(kiln_st.exe);
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
            PyObject_SetAttrString(state, "filename", PyTuple_GET_ITEM(res, 0));
        }
        if (res && !(kiln_proc.pack->flags & KP_STDLIB_FILES))
            fix_extracted_frozen(name, dict, state);
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
static int app_sys_path(void)
{
    PyObject *path = PySys_GetObject("path");

    if (!path || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    return PyList_Insert(path, 0, kiln_st.exe);
}

/* ---- the message of a module that is not packed ------------------------ */

/* importlib's "No module named {!r}" (_frozen_importlib._ERR_MSG, which
   it formats to raise ModuleNotFoundError) in an app: for a top-level
   name, the message goes on to say that it is not packed and how to pack
   it. It is only formatted when an import fails: imports cost the same. */
static PyObject *NotPacked_format(PyObject *self, PyObject *args,
                                  PyObject *kwargs)
{
    PyObject *name, *format = NULL, *all = NULL, *head = NULL, *res = NULL;

    name = PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : NULL;
    if (name && !kwargs && PyUnicode_Check(name) &&
        PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), 1) == -1)
        return PyUnicode_FromFormat(
            "No module named %R (kiln: %R is not packed in %U, and an app "
            "does not import from PYTHONPATH; build it with --path DIR or "
            "--package NAME)", name, name, kiln_st.exe);
    /* str.format(self, *args, **kwargs) */
    format = PyObject_GetAttrString((PyObject *)&PyUnicode_Type, "format");
    head = format ? PyTuple_Pack(1, self) : NULL;
    all = head ? PySequence_Concat(head, args) : NULL;
    if (all)
        res = PyObject_Call(format, all, kwargs);
    Py_XDECREF(format);
    Py_XDECREF(head);
    Py_XDECREF(all);
    return res;
}

static PyMethodDef NotPacked_methods[] = {
    {"format", (PyCFunction)(void (*)(void))NotPacked_format,
     METH_VARARGS | METH_KEYWORDS,
     "str.format; a top-level module name gets how to pack it."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject NotPackedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_kiln.NotPackedMessage",
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "importlib's message for a module that no finder finds.",
    .tp_methods = NotPacked_methods,
    .tp_base = &PyUnicode_Type,
};

/* Puts that message in place, when importlib has the one kiln knows
   (3.10 and 3.11; 3.12 formats it in place, and keeps python3's). */
static int explain_not_packed(void)
{
    PyObject *name = PyUnicode_FromString("_frozen_importlib");
    PyObject *bootstrap = name ? PyImport_GetModule(name) : NULL;
    PyObject *msg = NULL, *mine = NULL;
    int rc = -1;

    Py_XDECREF(name);
    if (!bootstrap)
        return PyErr_Occurred() ? -1 : 0;
    msg = PyObject_GetAttrString(bootstrap, "_ERR_MSG");
    if (!msg || !PyUnicode_Check(msg) ||
        PyUnicode_CompareWithASCIIString(msg, "No module named {!r}") != 0) {
        PyErr_Clear();
        rc = 0;
        goto done;
    }
    mine = PyType_Ready(&NotPackedType) == 0
               ? PyObject_CallOneArg((PyObject *)&NotPackedType, msg)
               : NULL;
    if (mine)
        rc = PyObject_SetAttrString(bootstrap, "_ERR_MSG", mine);
done:
    Py_DECREF(bootstrap);
    Py_XDECREF(msg);
    Py_XDECREF(mine);
    return rc;
}

/* <exe> and its folders get PathEntry finders through a path hook, for
   pkgutil. In interpreter mode the importer also leaves sys.meta_path: the
   packed stdlib is then the sys.path entry <exe>, so that sys.path order
   decides as under python3: a script's folder shadows the stdlib, the
   stdlib shadows site-packages. */
static int add_path_hook(int hermetic)
{
    PyObject *meta_path = PySys_GetObject("meta_path");
    PyObject *hooks = PySys_GetObject("path_hooks"), *hook, *entry;
    PyObject *cache = PySys_GetObject("path_importer_cache");
    Py_ssize_t at;
    int rc;

    if (!meta_path || !PyList_Check(meta_path) || !hooks ||
        !PyList_Check(hooks) || !cache || !PyDict_Check(cache)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.meta_path, sys.path_hooks "
                        "or sys.path_importer_cache is not set up");
        return -1;
    }
    at = hermetic ? -1 : meta_path_index(meta_path, kiln_st.importer);
    if (at >= 0 && PySequence_DelItem(meta_path, at) < 0)
        return -1;
    hook = kiln_import_attr("_kiln", "path_hook");
    if (!hook || PyList_Insert(hooks, 0, hook) < 0) {
        Py_XDECREF(hook);
        return -1;
    }
    kiln_st.path_hook = hook; /* for subinterpreters */
    /* <exe>'s finder is in the cache from the start: PathFinder asks no
       other hook (zipimport would read the executable). */
    PyDict_Clear(cache);
    entry = kiln_path_hook(NULL, kiln_st.exe);
    rc = entry ? PyDict_SetItem(cache, kiln_st.exe, entry) : -1;
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
   it needs the stdlib) puts kiln's path hook, and in an app its importer,
   in place there too, as in the main interpreter. */
static int kiln_audit(const char *event, PyObject *args, void *data)
{
    (void)args;
    (void)data;
    if (strcmp(event, "import") != 0 ||
        PyInterpreterState_Get() == kiln_proc.main_interp)
        return 0;
    if (ensure_in("path_hooks", kiln_st.path_hook) < 0)
        return -1;
    return kiln_proc.hermetic ? ensure_in("meta_path", kiln_st.importer) : 0;
}

int kiln_importer_finish(int hermetic)
{
    PyObject *hook;
    int rc;

    if (fix_frozen_files() < 0)
        return -1;
    if (add_path_hook(hermetic) < 0 ||
        (hermetic && (app_sys_path() < 0 || explain_not_packed() < 0)))
        return -1;
    kiln_proc.main_interp = PyInterpreterState_Get();
    kiln_proc.hermetic = hermetic;
    if (PySys_AddAuditHook(kiln_audit, NULL) < 0)
        return -1;
    /* kiln's hook is the default one, sys.__excepthook__ too: code.py and
       others print tracebacks themselves only when sys.excepthook is
       sys.__excepthook__. */
    kiln_st.c_excepthook = PySys_GetObject("__excepthook__");
    Py_XINCREF(kiln_st.c_excepthook);
    hook = kiln_import_attr("_kiln", "excepthook");
    if (!hook)
        return -1;
    rc = PySys_SetObject("excepthook", hook);
    if (rc == 0)
        rc = PySys_SetObject("__excepthook__", hook);
    Py_DECREF(hook);
    return rc;
}
