/*
 * kilnmod.c - the built-in module _kiln, a multi-phase module (PEP 489)
 * made once per interpreter: its functions and constants, its types, and
 * the importer's state, which is the module's state (PEP 630, 687), so
 * that a subinterpreter has objects of its own. The state is found from
 * the module, from one of its types (kiln_state_of), or from the running
 * interpreter (kiln_state_get).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "childproof.h"
#include "compat.h"
#include "excepthook.h"
#include "importer.h"
#include "importer_internal.h"
#include "kilnmod.h"
#include "loader.h"
#include "pathentry.h"
#include "tempdir.h"

/* The main interpreter's state, the one nearly every call wants; the
   others are in their interpreter's dict, under state_key. */
static kiln_state *main_state;
static const char state_key[] = "kiln._kiln";

kiln_state *kiln_state_get(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    PyObject *dict, *module;

    if (interp == kiln_proc.main_interp && main_state)
        return main_state;
    dict = PyInterpreterState_GetDict(interp);
    module = dict ? PyDict_GetItemString(dict, state_key) : NULL;
    return module ? (kiln_state *)PyModule_GetState(module) : NULL;
}

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
    if (PyUnicode_Check(name) &&
        PyUnicode_CompareWithASCIIString(name, "Loader") == 0)
        return Py_XNewRef(
            (PyObject *)kiln_loader_type(PyModule_GetState(mod)));
    return PyErr_Format(PyExc_AttributeError, "module '_kiln' has no "
                        "attribute %R", name);
}

static PyMethodDef kiln_methods[] = {
    {"kind", kiln_kind, METH_O,
     "FILE for a packed file, FOLDER for a packed folder, 0 for neither."},
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
     METH_FASTCALL,
     /* sys.excepthook's signature, which inspect.signature() reads */
     "excepthook($module, exctype, value, traceback, /)\n--\n\n"
     "Print a traceback with packed source lines."},
    {"child_proof", kiln_child_proof_new, METH_NOARGS,
     "A new proof descriptor for a child of the app (children.c)."},
    {"temp_folder", kiln_temp_folder_py, METH_NOARGS,
     "The app's private temporary folder, removed at exit (extract.c)."},
    {NULL, NULL, 0, NULL}};

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

/* The suffix of __cached__ paths (NULL when sys.implementation has no
   cache tag), as importlib's cache_from_source() makes them. */
static int set_cached_suffix(kiln_state *st)
{
    PyObject *impl = PySys_GetObject("implementation"), *tag;

    tag = impl ? PyObject_GetAttrString(impl, "cache_tag") : NULL;
    if (!tag)
        return -1;
    if (tag == Py_None) {
        Py_DECREF(tag);
        return 0; /* no cache tag: importlib sets no __cached__ either */
    }
    st->cached_suffix = kiln_proc.optimize
                            ? PyUnicode_FromFormat(".%U.opt-%ld.pyc", tag,
                                                   kiln_proc.optimize)
                            : PyUnicode_FromFormat(".%U.pyc", tag);
    Py_DECREF(tag);
    return st->cached_suffix ? 0 : -1;
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


static int init_names(kiln_state *st)
{
    static const char *const text[KN_COUNT] = {
#define KILN_NAME_TEXT(id, t) t,
        KILN_NAMES(KILN_NAME_TEXT)
#undef KILN_NAME_TEXT
    };

    for (int i = 0; i < KN_COUNT; i++)
        if (!(st->names[i] = PyUnicode_InternFromString(text[i])))
            return -1;
    st->spec_kwnames = PyTuple_Pack(2, st->names[KN_ORIGIN],
                                    st->names[KN_IS_PACKAGE]);
    return st->spec_kwnames ? 0 : -1;
}

/* The importer's objects in this interpreter. */
static int init_importer(kiln_state *st)
{
    if (init_names(st) < 0)
        return -1;
    st->exe = PyUnicode_DecodeFSDefault(kiln_proc.exe);
    if (!st->exe || PyModule_AddObjectRef(st->module, "exe", st->exe) < 0)
        return -1;
    st->importer = PyObject_CallNoArgs((PyObject *)st->importer_type);
    st->module_spec = kiln_import_attr("_frozen_importlib", "ModuleSpec");
    st->fix_co_filename = kiln_import_attr("_imp", "_fix_co_filename");
    st->create_dynamic = kiln_import_attr("_imp", "create_dynamic");
    st->exec_dynamic = kiln_import_attr("_imp", "exec_dynamic");
    st->frozen = usable_frozen_names();
    st->get_frozen_object = kiln_import_attr("_imp", "get_frozen_object");
    st->extracted = PyDict_New();
    st->path_hook = PyObject_GetAttrString(st->module, "path_hook");
    if (!st->importer || !st->module_spec || !st->fix_co_filename ||
        !st->create_dynamic || !st->exec_dynamic || !st->frozen ||
        !st->get_frozen_object || !st->extracted || !st->path_hook)
        return -1;
    return set_cached_suffix(st);
}

/* Py_mod_exec: the types, the constants and, once kiln_importer_install()
   has said which payload this process runs, the importer. The first
   _kiln of an interpreter holds its state. */
static int kiln_exec(PyObject *module)
{
    kiln_state *st = PyModule_GetState(module);
    PyInterpreterState *interp = PyInterpreterState_Get();
    PyObject *dict = PyInterpreterState_GetDict(interp);

    st->module = module;
    st->importer_type = kiln_importer_type_new(module);
    st->pathentry_type =
        st->importer_type ? kiln_pathentry_type_new(module) : NULL;
    if (!st->pathentry_type ||
        PyModule_AddObjectRef(module, "Importer",
                              (PyObject *)st->importer_type) < 0 ||
        PyModule_AddObjectRef(module, "PathEntry",
                              (PyObject *)st->pathentry_type) < 0 ||
        add_constants(module) < 0)
        return -1;
    if (kiln_proc.pack && init_importer(st) < 0)
        return -1;
    if (!dict) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: the interpreter has no "
                        "dict for _kiln's state");
        return -1;
    }
    if (PyDict_GetItemString(dict, state_key))
        return 0;
    if (PyDict_SetItemString(dict, state_key, module) < 0)
        return -1;
    if (interp == kiln_proc.main_interp)
        main_state = st;
    return 0;
}

/* Every object of a kiln_state, for the garbage collector. */
#define STATE_OBJECTS(X)                                                   \
    X(exe) X(importer) X(module_spec) X(fix_co_filename) X(create_dynamic) \
    X(exec_dynamic) X(cached_suffix) X(frozen) X(get_frozen_object)        \
    X(extracted) X(updatecache) X(c_excepthook) X(path_hook)               \
    X(importer_type) X(pathentry_type) X(loader_type) X(spec_kwnames)

static int kiln_traverse(PyObject *module, visitproc visit, void *arg)
{
    kiln_state *st = PyModule_GetState(module);

#define VISIT(field) Py_VISIT(st->field);
    STATE_OBJECTS(VISIT)
#undef VISIT
    for (int i = 0; i < KN_COUNT; i++)
        Py_VISIT(st->names[i]);
    return 0;
}

static int kiln_clear(PyObject *module)
{
    kiln_state *st = PyModule_GetState(module);

#define CLEAR(field) Py_CLEAR(st->field);
    STATE_OBJECTS(CLEAR)
#undef CLEAR
    for (int i = 0; i < KN_COUNT; i++)
        Py_CLEAR(st->names[i]);
    return 0;
}

static void kiln_free(void *module)
{
    /* main_state is the main interpreter's alone: others, which may run
       at the same time (3.12+), never read it. */
    if (PyInterpreterState_Get() == kiln_proc.main_interp &&
        PyModule_GetState(module) == main_state)
        main_state = NULL;
    kiln_clear(module);
}

/* The process-wide C state that every interpreter's _kiln reaches is
   guarded (locks.h) or written once before any other interpreter runs
   (kiln_proc); the rest is the module's: 3.12's interpreters with a GIL
   of their own may load it. */
static PyModuleDef_Slot kiln_slots[] = {
    {Py_mod_exec, kiln_exec}, KILN_PER_INTERPRETER_GIL_SLOT{0, NULL}};

PyModuleDef kiln_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_kiln",
    .m_doc = "kiln's in-memory importer.",
    .m_size = sizeof(kiln_state),
    .m_methods = kiln_methods,
    .m_slots = kiln_slots,
    .m_traverse = kiln_traverse,
    .m_clear = kiln_clear,
    .m_free = kiln_free,
};

static PyObject *PyInit__kiln(void)
{
    return PyModuleDef_Init(&kiln_module_def);
}

int kiln_importer_register(void)
{
    return PyImport_AppendInittab("_kiln", PyInit__kiln);
}

PyObject *kiln_module_new(void)
{
    PyObject *modules = PySys_GetObject("modules"), *cls, *spec, *module;

    if (!modules || !PyDict_Check(modules)) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: sys.modules is gone");
        return NULL;
    }
    cls = kiln_import_attr("_frozen_importlib", "ModuleSpec");
    spec = cls ? PyObject_CallFunction(cls, "sO", "_kiln", Py_None) : NULL;
    module = spec ? PyModule_FromDefAndSpec(&kiln_module_def, spec) : NULL;
    if (module && (PyModule_ExecDef(module, &kiln_module_def) < 0 ||
                   PyDict_SetItemString(modules, "_kiln", module) < 0))
        Py_CLEAR(module);
    Py_XDECREF(cls);
    Py_XDECREF(spec);
    return module;
}
