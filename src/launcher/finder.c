/*
 * finder.c - the importer's find_spec: which packed module a name is, and
 * its spec, with the __path__ of namespace packages that python3 gives
 * them (_NamespacePath), joined with their folders on disk.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "finder.h"
#include "importer_internal.h"

/* Does path (a sys.path, or a package's __path__) hold a str entry outside
   the executable? 1, 0, or -1 with an exception. */
static int has_disk_entry(kiln_state *st, PyObject *path)
{
    PyObject *seq = PySequence_Fast(path, "a module search path must be a "
                                    "sequence");
    Py_ssize_t blen, n;
    const char *b, *s;
    int found = 0;

    b = seq ? PyUnicode_AsUTF8AndSize(st->exe, &blen) : NULL;
    if (!b) {
        Py_XDECREF(seq);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq) && !found; i++) {
        PyObject *entry = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyUnicode_Check(entry))
            continue; /* PathFinder skips them */
        s = PyUnicode_AsUTF8AndSize(entry, &n);
        if (!s)
            PyErr_Clear(); /* not encodable: not a packed path */
        found = !s || n < blen || memcmp(s, b, (size_t)blen) != 0 ||
                (n > blen && s[blen] != '/');
    }
    Py_DECREF(seq);
    return found;
}

/* _kiln.find_namespace(name, path): PathFinder's search of path for name
   (a spec, whose submodule_search_locations are the namespace portions
   when it has no loader), each entry once: an app's sys.path holds the
   executable twice. The path finder of kiln's namespace packages. */
static PyObject *kiln_find_namespace(PyObject *mod, PyObject *const *args,
                                     Py_ssize_t nargs)
{
    PyObject *seen = NULL, *unique = NULL, *finder = NULL, *item, *res = NULL;
    PyObject *iter;

    (void)mod;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "find_namespace(name, path) takes "
                        "2 arguments");
        return NULL;
    }
    iter = PyObject_GetIter(args[1]);
    seen = iter ? PySet_New(NULL) : NULL;
    unique = seen ? PyList_New(0) : NULL;
    if (!unique)
        goto done;
    while ((item = PyIter_Next(iter))) {
        int dup = PyUnicode_Check(item) ? PySet_Contains(seen, item) : 0;
        if (dup == 0 && PyUnicode_Check(item))
            dup = PySet_Add(seen, item);
        if (dup == 0)
            dup = PyList_Append(unique, item);
        Py_DECREF(item);
        if (dup < 0)
            goto done;
    }
    if (PyErr_Occurred())
        goto done;
    finder = kiln_import_attr("_frozen_importlib_external", "PathFinder");
    if (finder)
        res = PyObject_CallMethod(finder, "_get_spec", "OO", args[0],
                                  unique);
done:
    Py_XDECREF(iter);
    Py_XDECREF(seen);
    Py_XDECREF(unique);
    Py_XDECREF(finder);
    return res;
}

static PyMethodDef find_namespace_def = {
    "find_namespace", (PyCFunction)(void (*)(void))kiln_find_namespace,
    METH_FASTCALL, "PathFinder's spec for name on path, each entry once."};

/* The __path__ of a packed namespace package, whose parent's path is
   parent_path: python3's _NamespacePath, which looks again when that path
   changes, starting from locations (its packed folder) or, when parent_path
   has folders on disk, from all its parts there. */
static PyObject *namespace_path(kiln_state *st, PyObject *fullname,
                                PyObject *locations, PyObject *parent_path)
{
    PyObject *cls = NULL, *finder = NULL, *spec = NULL, *found = NULL,
             *loader = NULL, *res = NULL;
    int disk = parent_path ? has_disk_entry(st, parent_path) : 0, parts = 0;

    finder = disk >= 0 ? PyCFunction_New(&find_namespace_def, NULL) : NULL;
    if (!finder)
        goto done;
    if (disk) {
        spec = PyObject_CallFunctionObjArgs(finder, fullname, parent_path,
                                            NULL);
        loader = spec && spec != Py_None
                     ? PyObject_GetAttrString(spec, "loader")
                     : NULL;
        found = loader == Py_None ? PyObject_GetAttrString(
                                        spec, "submodule_search_locations")
                                  : NULL;
        parts = found ? PyObject_IsTrue(found) : 0;
        if (PyErr_Occurred())
            goto done;
        /* A regular package of that name on disk would win under python3;
           in an app, the packed one does. */
        if (parts)
            Py_SETREF(found, PySequence_List(found));
        else
            Py_CLEAR(found);
        if (parts && !found)
            goto done;
    }
    cls = kiln_import_attr("_frozen_importlib_external", "_NamespacePath");
    if (cls)
        res = PyObject_CallFunctionObjArgs(cls, fullname,
                                           found ? found : locations, finder,
                                           NULL);
done:
    Py_XDECREF(cls);
    Py_XDECREF(finder);
    Py_XDECREF(spec);
    Py_XDECREF(loader);
    Py_XDECREF(found);
    return res;
}

/* The spec of the packed module e, imported as fullname and loaded by
   loader. A namespace package's spec without a loader is a portion, for
   PathFinder to join with other folders' (kiln's path entries give those);
   with kiln's loader, its __path__ is a namespace path over parent_path
   (NULL for a top-level one: sys.path). */
PyObject *kiln_make_spec(kiln_state *st, PyObject *loader, PyObject *fullname,
                         const kp_entry *e, PyObject *parent_path)
{
    int namespace = (e->flags & KP_MOD_NAMESPACE) != 0;
    int package = namespace || (e->flags & KP_MOD_PACKAGE);
    PyObject *origin = NULL, *spec = NULL, *dir = NULL, *locations = NULL;

    origin = namespace ? Py_NewRef(Py_None) : kiln_module_origin(st, e);
    if (!origin)
        goto error;
    /* ModuleSpec(fullname, loader, origin=origin, is_package=package) */
    spec = PyObject_Vectorcall(
        st->module_spec,
        (PyObject *[]){fullname, loader, origin,
                       package ? Py_True : Py_False},
        2, st->spec_kwnames);
    if (!spec)
        goto error;
    if (package) {
        dir = kiln_package_dir(st, e);
        locations = dir ? PyList_New(1) : NULL;
        if (!locations)
            goto error;
        PyList_SET_ITEM(locations, 0, Py_NewRef(dir));
        if (kiln_add_disk_location(e, locations) < 0)
            goto error;
        if (namespace && loader != Py_None)
            Py_SETREF(locations,
                      namespace_path(st, fullname, locations,
                                     parent_path ? parent_path
                                                 : PySys_GetObject("path")));
        if (!locations ||
            PyObject_SetAttr(spec, st->names[KN_LOCATIONS], locations) < 0)
            goto error;
    }
    if (!namespace &&
        PyObject_SetAttr(spec, st->names[KN_HAS_LOCATION], Py_True) < 0)
        goto error;
    Py_DECREF(origin);
    Py_XDECREF(dir);
    Py_XDECREF(locations);
    return spec;

error:
    Py_XDECREF(origin);
    Py_XDECREF(spec);
    Py_XDECREF(dir);
    Py_XDECREF(locations);
    return NULL;
}

/* The first entry of a package's __path__ (a list, or a _NamespacePath),
   or NULL without an exception. */
static PyObject *first_entry(PyObject *path)
{
    PyObject *item;

    if (PyList_CheckExact(path))
        return PyList_GET_SIZE(path) > 0
                   ? Py_NewRef(PyList_GET_ITEM(path, 0))
                   : NULL;
    item = PySequence_GetItem(path, 0);
    if (!item)
        PyErr_Clear(); /* empty, or not a sequence: PathFinder's to judge */
    return item;
}

/* Is entry, a path, the folder that the packed module e sits in: under
   the executable, or under its package's extract folder? No allocation in
   the common case: this runs for every submodule import. */
static int is_location(kiln_state *st, PyObject *entry, const kp_entry *e)
{
    Py_ssize_t n, blen, loc = (Py_ssize_t)ke_location_len(e);
    PyObject *base = st->exe, *top;
    const char *s, *b;

    if (!PyUnicode_Check(entry))
        return 0;
    if (e->flags & KP_MOD_EXTRACT) {
        /* Its parent package is extracted already, if entry is its folder. */
        top = PyUnicode_DecodeUTF8(
            e->path, (Py_ssize_t)ke_top_len(e->path, e->path_len),
            "surrogateescape");
        base = top ? PyDict_GetItemWithError(st->extracted, top) : NULL;
        Py_XDECREF(top);
        if (!base) {
            PyErr_Clear();
            return 0;
        }
    }
    s = PyUnicode_AsUTF8AndSize(entry, &n);
    b = s ? PyUnicode_AsUTF8AndSize(base, &blen) : NULL;
    if (!b) {
        PyErr_Clear(); /* not encodable: left to the path hook */
        return 0;
    }
    if (loc == 0)
        return n == blen && memcmp(s, b, (size_t)n) == 0;
    return n == blen + 1 + loc && memcmp(s, b, (size_t)blen) == 0 &&
           s[blen] == '/' && memcmp(s + blen + 1, e->path, (size_t)loc) == 0;
}

/* A top-level module is looked up among the packed ones, before anything
   on sys.path. A submodule is looked up there when the first entry of its
   parent's __path__ is the packed folder it sits in; else it is left to
   PathFinder, after kiln on sys.meta_path, which searches that __path__
   as python3 does (an alias in sys.modules, a __path__ that a package
   extended, a folder on disk), through kiln's path hook for packed
   folders. */
PyObject *kiln_importer_find_spec(PyObject *self, PyObject *args,
                                  PyObject *kwds)
{
    static char *kwlist[] = {"fullname", "path", "target", NULL};
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    PyObject *fullname, *path = Py_None, *target = Py_None, *first;
    kp_entry e;
    int found;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|OO:find_spec", kwlist,
                                     &fullname, &path, &target))
        return NULL;
    found = kiln_lookup(fullname, &e);
    if (found <= 0)
        return found < 0 ? NULL : Py_NewRef(Py_None);
    if (path == Py_None)
        return kiln_make_spec(st, self, fullname, &e, NULL);
    first = first_entry(path);
    found = first ? is_location(st, first, &e) : 0;
    Py_XDECREF(first);
    if (!found)
        Py_RETURN_NONE;
    return kiln_make_spec(st, self, fullname, &e, path);
}
