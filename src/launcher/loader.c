/*
 * loader.c - the importer's loader (_kiln.Importer): modules made and
 * executed from the payload, their sources and data files; resources and
 * metadata through the Python half, py/kiln_support.py, loaded when first
 * asked for; and _kiln.Loader, for a packed module imported under another
 * name.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <string.h>

#include "children.h"
#include "excepthook.h"
#include "extload.h"
#include "finder.h"
#include "importer_internal.h"
#include "loader.h"
#include "pyrun.h"
#include "kiln_support.py.h"

typedef struct {
    PyObject_HEAD
} ImporterObject;

/* py/kiln_support.py, loaded the first time a program asks for resources
   or metadata; each interpreter has its own. */
static const kiln_pymodule support = {"_kiln_support", "<kiln_support>",
                                      kiln_support_py};

static PyObject *call_support(const char *function, PyObject *arg)
{
    return kiln_pyrun_call(&support, function, &arg, 1);
}

static PyObject *spec_name(kiln_state *st, PyObject *spec)
{
    return PyObject_GetAttr(spec, st->names[KN_NAME]);
}

/* __cached__ as importlib computes it from __file__ (cache_from_source),
   or NULL when it has none. */
static PyObject *cached_path(kiln_state *st, const kp_entry *e)
{
    Py_ssize_t dir = (Py_ssize_t)ke_folder_len(e->path, e->path_len);
    Py_ssize_t name = dir > 0 ? dir + 1 : 0;
    PyObject *head, *stem, *res;

    if (!st->cached_suffix || e->path_len < 3 ||
        memcmp(e->path + e->path_len - 3, ".py", 3) != 0)
        return NULL;
    head = kiln_entry_path(st, e, dir);
    stem = kiln_fs_str(e->path + name, e->path_len - name - 3);
    res = head && stem ? PyUnicode_FromFormat("%U/__pycache__/%U%U", head,
                                              stem, st->cached_suffix)
                       : NULL;
    Py_XDECREF(head);
    Py_XDECREF(stem);
    return res;
}

/* A module with the attributes importlib's _init_module_attrs() would set,
   made in C: importlib then finds them present and skips its Python path. */
static PyObject *new_module(kiln_state *st, PyObject *loader, PyObject *spec,
                            PyObject *fullname, const kp_entry *e)
{
    int package = (e->flags & KP_MOD_PACKAGE) != 0;
    PyObject *module = PyModule_NewObject(fullname), *dict, *parent = NULL,
             *file = NULL, *cached = NULL, *path = NULL;

    if (!module)
        return NULL;
    dict = PyModule_GetDict(module);
    if (package) {
        parent = Py_NewRef(fullname);
        path = PyObject_GetAttr(spec, st->names[KN_LOCATIONS]);
        if (!path)
            goto error;
    } else {
        Py_ssize_t len = PyUnicode_GetLength(fullname);
        Py_ssize_t dot = PyUnicode_FindChar(fullname, '.', 0, len, -1);
        parent = dot >= 0 ? PyUnicode_Substring(fullname, 0, dot)
                          : PyUnicode_FromString("");
    }
    file = kiln_module_origin(st, e);
    if (!parent || !file)
        goto error;
    cached = cached_path(st, e);
    if (!cached && PyErr_Occurred())
        goto error;
    if (PyDict_SetItem(dict, st->names[KN_LOADER], loader) < 0 ||
        PyDict_SetItem(dict, st->names[KN_PACKAGE], parent) < 0 ||
        PyDict_SetItem(dict, st->names[KN_SPEC], spec) < 0 ||
        (path && PyDict_SetItem(dict, st->names[KN_PATH], path) < 0) ||
        PyDict_SetItem(dict, st->names[KN_FILE], file) < 0 ||
        (cached && PyDict_SetItem(dict, st->names[KN_CACHED], cached) < 0))
        goto error;
    goto done;
error:
    Py_CLEAR(module);
done:
    Py_XDECREF(parent);
    Py_XDECREF(file);
    Py_XDECREF(cached);
    Py_XDECREF(path);
    return module;
}

/* create_module() of loader for the packed module packed (NULL: the
   spec's own name). */
static PyObject *create_module(kiln_state *st, PyObject *loader,
                               PyObject *spec, PyObject *packed)
{
    PyObject *fullname = spec_name(st, spec), *res;
    kp_entry e;

    if (!fullname)
        return NULL;
    if (!packed)
        packed = fullname;
    if (kiln_lookup_required(st, packed, &e) < 0) {
        Py_DECREF(fullname);
        return NULL;
    }
    if (e.flags & KP_MOD_EXTENSION)
        res = kiln_load_extension(st, loader, fullname, packed, &e);
    else if (e.flags & KP_MOD_NAMESPACE)
        res = Py_NewRef(Py_None);
    else
        res = new_module(st, loader, spec, fullname, &e);
    Py_DECREF(fullname);
    return res;
}

static PyObject *Importer_create_module(PyObject *self, PyObject *spec)
{
    return create_module(kiln_state_of(Py_TYPE(self)), self, spec, NULL);
}

/* pkg_resources, or a module of that name in a package (pip vendors
   one). Runs for every module kiln executes: no allocation. */
static int is_pkg_resources(PyObject *fullname)
{
    static const char name[] = "pkg_resources";
    const size_t len = sizeof name - 1;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(fullname, &n);

    if (!s) {
        PyErr_Clear();
        return 0;
    }
    return (size_t)n >= len && memcmp(s + n - len, name, len) == 0 &&
           ((size_t)n == len || s[n - len - 1] == '.');
}

/* Takes __main__.__requires__ away (a new reference, or NULL): while
   pkg_resources loads, it would resolve it before kiln's adapters are in. */
static PyObject *take_main_requires(void)
{
    PyObject *main = kiln_main_module();
    PyObject *requires;

    if (!main || !PyObject_HasAttrString(main, "__requires__"))
        return NULL;
    requires = PyObject_GetAttrString(main, "__requires__");
    if (!requires || PyObject_DelAttrString(main, "__requires__") < 0) {
        PyErr_Clear();
        Py_CLEAR(requires);
    }
    return requires;
}

/* Gives it back; an exception already set (the import's) is kept. */
static void give_main_requires(PyObject *requires)
{
    PyObject *main = kiln_main_module(), *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (main && PyObject_SetAttrString(main, "__requires__", requires) < 0)
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

/* exec_module() of the packed module packed (NULL: the name in the
   module's spec). */
static PyObject *exec_module(kiln_state *st, PyObject *module,
                             PyObject *packed)
{
    PyObject *spec, *fullname = NULL, *code = NULL, *res = NULL, *requires;
    int pkg_resources;
    kp_entry e;

    spec = PyObject_GetAttr(module, st->names[KN_SPEC]);
    if (!spec)
        return NULL;
    fullname = spec_name(st, spec);
    Py_DECREF(spec);
    if (fullname && !packed)
        packed = fullname;
    if (!fullname || kiln_lookup_required(st, packed, &e) < 0)
        goto done;
    if (e.flags & KP_MOD_EXTENSION) {
        res = PyObject_CallOneArg(st->exec_dynamic, module);
        Py_XSETREF(res, res ? Py_NewRef(Py_None) : NULL);
        if (res && kiln_children_after_exec(fullname, module) < 0)
            Py_CLEAR(res);
        goto done;
    }
    code = kiln_load_code(st, packed, &e);
    if (!code)
        goto done;
    if (code == Py_None) {
        res = Py_NewRef(Py_None);
        goto done;
    }
    /* The children an app starts with its own executable get a proof that
       it started them (children.c): where they are started. */
    if (kiln_children_before_exec(fullname) < 0)
        goto done;
    /* pkg_resources (setuptools' old API; pip vendors one) finds
       distributions and resources through adapters it registers per
       importer type: kiln's are registered once it has loaded, and then
       __main__.__requires__ is resolved, as it would have done. */
    pkg_resources = is_pkg_resources(fullname);
    requires = pkg_resources ? take_main_requires() : NULL;
    res = kiln_exec_code(code, PyModule_GetDict(module));
    Py_XSETREF(res, res ? Py_NewRef(Py_None) : NULL);
    if (requires) {
        give_main_requires(requires);
        Py_DECREF(requires);
    }
    if (res)
        kiln_wrap_updatecache(st, fullname, module);
    if (res && pkg_resources) {
        Py_DECREF(res);
        res = call_support("setup_pkg_resources", module);
    }
    if (res && kiln_children_after_exec(fullname, module) < 0)
        Py_CLEAR(res);
done:
    Py_XDECREF(code);
    Py_XDECREF(fullname);
    return res;
}

static PyObject *Importer_exec_module(PyObject *self, PyObject *module)
{
    return exec_module(kiln_state_of(Py_TYPE(self)), module, NULL);
}

static PyObject *Importer_get_code(PyObject *self, PyObject *fullname)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    kp_entry e;
    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    return kiln_load_code(st, fullname, &e);
}

static PyObject *Importer_get_source(PyObject *self, PyObject *fullname)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    PyObject *external, *bytes, *res;
    const uint8_t *src;
    kp_entry e;

    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    if (!(e.flags & KP_MOD_SOURCE))
        Py_RETURN_NONE;
    src = kiln_checked_blob(st, fullname, &e.b, "source");
    if (!src)
        return NULL;
    external = PyImport_ImportModule("_frozen_importlib_external");
    if (!external)
        return NULL;
    bytes = PyBytes_FromStringAndSize((const char *)src, e.b.size);
    res = bytes ? PyObject_CallMethod(external, "decode_source", "O", bytes)
                : NULL;
    Py_XDECREF(bytes);
    Py_DECREF(external);
    return res;
}

static PyObject *Importer_is_package(PyObject *self, PyObject *fullname)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    kp_entry e;
    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    return PyBool_FromLong((e.flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE)) !=
                           0);
}

static PyObject *Importer_get_filename(PyObject *self, PyObject *fullname)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    kp_entry e;
    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    if (e.flags & KP_MOD_NAMESPACE)
        return PyErr_Format(PyExc_ImportError, "kiln: namespace package %R "
                            "has no file", fullname);
    return kiln_module_origin(st, &e);
}

static PyObject *Importer_get_data(PyObject *self, PyObject *path)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    PyObject *rel;
    const uint8_t *bytes;
    long i;
    kp_entry e;

    path = PyOS_FSPath(path);
    if (path && PyBytes_Check(path))
        Py_SETREF(path, PyUnicode_DecodeFSDefaultAndSize(
                            PyBytes_AS_STRING(path), PyBytes_GET_SIZE(path)));
    if (!path)
        return NULL;
    rel = kiln_data_rel(st, path);
    if (!rel && PyErr_Occurred())
        goto error;
    i = rel ? kp_find_file(kiln_proc.pack, PyBytes_AS_STRING(rel),
                           (size_t)PyBytes_GET_SIZE(rel))
            : -1;
    Py_XDECREF(rel);
    if (i < 0) {
        PyErr_Format(PyExc_FileNotFoundError, "[Errno %d] No such file in "
                     "kiln executable: %R", ENOENT, path);
        goto error;
    }
    kp_file_at(kiln_proc.pack, (uint32_t)i, &e);
    bytes = kiln_checked_blob(st, path, &e.a, "data");
    if (!bytes)
        goto error;
    Py_DECREF(path);
    return PyBytes_FromStringAndSize((const char *)bytes, e.a.size);
error:
    Py_DECREF(path);
    return NULL;
}

/* ---- the Python half: resources and metadata --------------------------- */

static PyObject *Importer_get_resource_reader(PyObject *self,
                                              PyObject *fullname)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    kp_entry e;
    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    return call_support("get_resource_reader", fullname);
}

static PyObject *Importer_find_distributions(PyObject *self, PyObject *args,
                                             PyObject *kwds)
{
    static char *kwlist[] = {"context", NULL};
    PyObject *context = NULL, *finder, *res;

    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:find_distributions",
                                     kwlist, &context))
        return NULL;
    if (context)
        return call_support("find_distributions", context);
    finder = kiln_import_attr("importlib.metadata", "DistributionFinder");
    context = finder ? PyObject_CallMethod(finder, "Context", NULL) : NULL;
    res = context ? call_support("find_distributions", context) : NULL;
    Py_XDECREF(finder);
    Py_XDECREF(context);
    return res;
}

/* invalidate_caches() of the importer and of path entries. */
PyObject *kiln_invalidate_caches(PyObject *self,
                                     PyObject *Py_UNUSED(ignored))
{
    (void)self;
    Py_RETURN_NONE;
}

static PyObject *Importer_repr(PyObject *self)
{
    kiln_state *st = kiln_state_of(Py_TYPE(self));

    return PyUnicode_FromFormat("<kiln importer for %U (%u modules, %u "
                                "files)>", st->exe,
                                kiln_proc.pack->module_count,
                                kiln_proc.pack->file_count);
}

static PyMethodDef Importer_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))kiln_importer_find_spec,
     METH_VARARGS | METH_KEYWORDS, "Find the spec of a packed module."},
    {"create_module", Importer_create_module, METH_O,
     "Create an extension module from memory; None for others."},
    {"exec_module", Importer_exec_module, METH_O, "Execute a module."},
    {"get_code", Importer_get_code, METH_O, "The code object of a module."},
    {"get_source", Importer_get_source, METH_O, "The source of a module."},
    {"is_package", Importer_is_package, METH_O, "Is the module a package?"},
    {"get_filename", Importer_get_filename, METH_O,
     "The virtual path of a module."},
    {"get_data", Importer_get_data, METH_O,
     "The bytes of a packed file, by virtual path."},
    {"invalidate_caches", kiln_invalidate_caches, METH_NOARGS,
     "Nothing to invalidate: the payload never changes."},
    {"get_resource_reader", Importer_get_resource_reader, METH_O,
     "importlib.resources reader over a package's packed files."},
    {"find_distributions",
     (PyCFunction)(void (*)(void))Importer_find_distributions,
     METH_VARARGS | METH_KEYWORDS,
     "importlib.metadata distributions packed in the executable."},
    {NULL, NULL, 0, NULL}};

/* A heap type's instance keeps its type alive (PEP 630). */
static int Importer_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void Importer_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyType_Slot Importer_slots[] = {
    {Py_tp_doc, "Finds and loads modules packed in this executable."},
    {Py_tp_methods, Importer_methods},
    {Py_tp_repr, Importer_repr},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_traverse, Importer_traverse},
    {Py_tp_dealloc, Importer_dealloc},
    {0, NULL}};

static PyType_Spec Importer_spec = {
    "_kiln.Importer", sizeof(ImporterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Importer_slots};

PyTypeObject *kiln_importer_type_new(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &Importer_spec,
                                                    NULL);
}

/* ---- modules imported under another name ------------------------------ */

/* The loader of a packed module imported under another name than its own,
   found by a path entry: a submodule of a package aliased in sys.modules
   (setuptools' distutils hack), or in a folder that a package's __path__
   gained. As a file loader under python3, it loads that one module: its
   methods are the importer's, for the packed name. */
typedef struct {
    PyObject_HEAD
    PyObject *name; /* str: the packed module's own name */
} LoaderObject;

PyObject *kiln_new_loader(kiln_state *st, PyObject *packed)
{
    PyTypeObject *type = kiln_loader_type(st);
    LoaderObject *lo = type ? PyObject_GC_New(LoaderObject, type) : NULL;

    if (!lo)
        return NULL;
    lo->name = Py_NewRef(packed);
    PyObject_GC_Track(lo);
    return (PyObject *)lo;
}

static PyObject *loader_name(PyObject *self)
{
    return ((LoaderObject *)self)->name;
}

static PyObject *Loader_create_module(PyObject *self, PyObject *spec)
{
    return create_module(kiln_state_of(Py_TYPE(self)), self, spec,
                         loader_name(self));
}

static PyObject *Loader_exec_module(PyObject *self, PyObject *module)
{
    return exec_module(kiln_state_of(Py_TYPE(self)), module,
                       loader_name(self));
}

/* The methods that take a module name answer for the packed module, as a
   file loader answers for its file. */
#define LOADER_BY_NAME(method)                                           \
    static PyObject *Loader_##method(PyObject *self, PyObject *fullname) \
    {                                                                    \
        (void)fullname;                                                  \
        return Importer_##method(self, loader_name(self));               \
    }
LOADER_BY_NAME(get_code)
LOADER_BY_NAME(get_source)
LOADER_BY_NAME(is_package)
LOADER_BY_NAME(get_filename)
LOADER_BY_NAME(get_resource_reader)
#undef LOADER_BY_NAME

static PyObject *Loader_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<kiln loader of %R in %U>", loader_name(self),
                                kiln_state_of(Py_TYPE(self))->exe);
}

static int Loader_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(loader_name(self));
    return 0;
}

static void Loader_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    Py_CLEAR(((LoaderObject *)self)->name);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyMethodDef Loader_methods[] = {
    {"create_module", Loader_create_module, METH_O,
     "Create an extension module from memory; None for others."},
    {"exec_module", Loader_exec_module, METH_O, "Execute the module."},
    {"get_code", Loader_get_code, METH_O, "The module's code object."},
    {"get_source", Loader_get_source, METH_O, "The module's source."},
    {"is_package", Loader_is_package, METH_O, "Is the module a package?"},
    {"get_filename", Loader_get_filename, METH_O,
     "The virtual path of the module."},
    {"get_data", Importer_get_data, METH_O,
     "The bytes of a packed file, by virtual path."},
    {"get_resource_reader", Loader_get_resource_reader, METH_O,
     "importlib.resources reader over the package's packed files."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef Loader_members[] = {
    {"name", T_OBJECT, offsetof(LoaderObject, name), READONLY,
     "The name the module is packed under."},
    {NULL, 0, 0, 0, NULL}};

static PyType_Slot Loader_slots[] = {
    {Py_tp_doc, "Loads one packed module imported under another name."},
    {Py_tp_methods, Loader_methods},
    {Py_tp_members, Loader_members},
    {Py_tp_repr, Loader_repr},
    {Py_tp_traverse, Loader_traverse},
    {Py_tp_dealloc, Loader_dealloc},
    {0, NULL}};

static PyType_Spec Loader_spec = {
    "_kiln.Loader", sizeof(LoaderObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    Loader_slots};

/* The type, made when first used: at start-up that would cost as much as
   a dozen imports. */
PyTypeObject *kiln_loader_type(kiln_state *st)
{
    if (!st->loader_type)
        st->loader_type = (PyTypeObject *)PyType_FromModuleAndSpec(
            st->module, &Loader_spec, NULL);
    return st->loader_type;
}
