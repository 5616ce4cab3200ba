/*
 * pathentry.c - sys.path entries inside the executable: kiln's path hook
 * and the PathEntry finder of each packed folder (for pkgutil, aliased
 * packages and extended __path__s), and _kiln's functions over packed
 * folders and files (kind, listdir, read, locate).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <string.h>

#include "finder.h"
#include "importer_internal.h"
#include "loader.h"
#include "pathentry.h"

/* ---- packed folders ---------------------------------------------------- */

/* rel plus "/" (nothing for the root ""), into buf; -1 if too long. */
static int folder_prefix(const char *rel, Py_ssize_t len, char *buf,
                         size_t size)
{
    if ((size_t)len + 2 > size)
        return -1;
    memcpy(buf, rel, (size_t)len);
    if (len > 0)
        buf[len++] = '/';
    buf[len] = '\0';
    return 0;
}

static int starts_with(const kp_entry *e, const char *prefix, size_t len)
{
    return e->path_len > len && memcmp(e->path, prefix, len) == 0;
}

/* Adds the first part of rest to dirs (when more follows, or is_dir) or
   to files. */
static int add_child(PyObject *files, PyObject *dirs, const char *rest,
                     size_t len, int is_dir)
{
    const char *slash = memchr(rest, '/', len);
    PyObject *name = kiln_fs_str(rest, slash ? slash - rest : (Py_ssize_t)len);
    int rc = name ? PySet_Add(slash || is_dir ? dirs : files, name) : -1;
    Py_XDECREF(name);
    return rc;
}

/* Fills files and dirs (sets, or NULL to only test) with the children of
   the packed folder prefix; 1 when it has any, 0 when not, -1 on error.
   Folders come from file paths and from the paths of modules, so that a
   package packed without sources is still a folder. */
static int walk_folder(const char *prefix, size_t len, PyObject *files,
                       PyObject *dirs)
{
    const kp_pack *p = kiln_proc.pack;
    int found = 0;
    kp_entry e;

    for (uint32_t i = kp_files_lower_bound(p, prefix, len);
         i < p->file_count; i++) {
        kp_file_at(p, i, &e);
        if (!starts_with(&e, prefix, len))
            break;
        if (!files)
            return 1;
        found = 1;
        if (add_child(files, dirs, e.path + len, e.path_len - len, 0) < 0)
            return -1;
    }
    for (uint32_t i = 0; i < p->module_count; i++) {
        kp_module_at(p, i, &e);
        if (!starts_with(&e, prefix, len) ||
            (!(e.flags & KP_MOD_NAMESPACE) &&
             !memchr(e.path + len, '/', e.path_len - len)))
            continue;
        if (!files)
            return 1;
        found = 1;
        if (add_child(files, dirs, e.path + len, e.path_len - len, 1) < 0)
            return -1;
    }
    return found;
}

/* KILN_KIND_FILE, KILN_KIND_FOLDER, or 0 for neither. */
static int packed_kind(const char *rel, Py_ssize_t len)
{
    char prefix[4096];

    if (kp_find_file(kiln_proc.pack, rel, (size_t)len) >= 0)
        return KILN_KIND_FILE;
    if (len == 0)
        return KILN_KIND_FOLDER;
    if (folder_prefix(rel, len, prefix, sizeof prefix) < 0)
        return 0;
    return walk_folder(prefix, (size_t)len + 1, NULL, NULL) > 0
               ? KILN_KIND_FOLDER
               : 0;
}

static PyObject *os_error(kiln_state *st, int code, const char *rel,
                          Py_ssize_t len)
{
    PyObject *path = kiln_virtual_path(st, rel, len);
    if (path) {
        errno = code;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        Py_DECREF(path);
    }
    return NULL;
}

/* The packed paths that _kiln's functions take are str (or bytes, or
   os.PathLike) and encoded as os.fsencode() does, the names they return
   decoded as os.fsdecode() does: a name that is not UTF-8 round-trips as
   it does through os.listdir() and open(). */

/* _kiln.kind(rel): FILE, FOLDER, or 0 for nothing, for a packed path. */
PyObject *kiln_kind(PyObject *mod, PyObject *arg)
{
    PyObject *rel = kiln_fs_bytes(arg), *res;

    (void)mod;
    if (!rel)
        return NULL;
    res = PyLong_FromLong(
        packed_kind(PyBytes_AS_STRING(rel), PyBytes_GET_SIZE(rel)));
    Py_DECREF(rel);
    return res;
}

/* _kiln.listdir(rel) -> (files, folders): sorted names of the children. */
PyObject *kiln_listdir(PyObject *mod, PyObject *arg)
{
    kiln_state *st = PyModule_GetState(mod);
    PyObject *relb = kiln_fs_bytes(arg), *files = NULL, *dirs = NULL,
             *res = NULL, *lf = NULL, *ld = NULL;
    const char *rel = relb ? PyBytes_AS_STRING(relb) : NULL;
    Py_ssize_t len = relb ? PyBytes_GET_SIZE(relb) : 0;
    char prefix[4096];
    int found;

    if (!rel)
        return NULL;
    if (folder_prefix(rel, len, prefix, sizeof prefix) < 0) {
        os_error(st, ENAMETOOLONG, rel, len);
        goto done;
    }
    files = PySet_New(NULL);
    dirs = PySet_New(NULL);
    if (!files || !dirs)
        goto done;
    found = walk_folder(prefix, strlen(prefix), files, dirs);
    if (found < 0)
        goto done;
    if (!found && len > 0) {
        os_error(st,
                 packed_kind(rel, len) == KILN_KIND_FILE ? ENOTDIR : ENOENT,
                 rel, len);
        goto done;
    }
    lf = PySequence_List(files);
    ld = PySequence_List(dirs);
    if (!lf || !ld || PyList_Sort(lf) < 0 || PyList_Sort(ld) < 0)
        goto done;
    res = PyTuple_Pack(2, lf, ld);
done:
    Py_XDECREF(files);
    Py_XDECREF(dirs);
    Py_XDECREF(lf);
    Py_XDECREF(ld);
    Py_DECREF(relb);
    return res;
}

/* _kiln.read(rel): the bytes of a packed file. */
PyObject *kiln_read(PyObject *mod, PyObject *arg)
{
    kiln_state *st = PyModule_GetState(mod);
    PyObject *relb = kiln_fs_bytes(arg), *res = NULL;
    const char *rel = relb ? PyBytes_AS_STRING(relb) : NULL;
    Py_ssize_t len = relb ? PyBytes_GET_SIZE(relb) : 0;
    const uint8_t *bytes;
    long i;
    kp_entry e;

    if (!rel)
        return NULL;
    i = kp_find_file(kiln_proc.pack, rel, (size_t)len);
    if (i < 0) {
        os_error(st,
                 packed_kind(rel, len) == KILN_KIND_FOLDER ? EISDIR : ENOENT,
                 rel, len);
    } else {
        kp_file_at(kiln_proc.pack, (uint32_t)i, &e);
        bytes = kiln_checked_blob(st, arg, &e.a, "data");
        res = bytes ? PyBytes_FromStringAndSize((const char *)bytes,
                                                e.a.size)
                    : NULL;
    }
    Py_DECREF(relb);
    return res;
}

/* _kiln.locate(fullname) -> (flags, packed path, base folder). */
PyObject *kiln_locate(PyObject *mod, PyObject *fullname)
{
    kiln_state *st = PyModule_GetState(mod);
    PyObject *path, *base, *res;
    kp_entry e;

    if (kiln_lookup_required(st, fullname, &e) < 0)
        return NULL;
    path = kiln_fs_str(e.path, e.path_len);
    base = path ? kiln_entry_base(st, &e) : NULL;
    res = base ? Py_BuildValue("(IOO)", e.flags, path, base) : NULL;
    Py_XDECREF(path);
    Py_XDECREF(base);
    return res;
}

/* ---- path entries ------------------------------------------------------ */

/* The finder for one sys.path entry inside the executable (<exe>, or a
   packed folder such as a package's __path__): it finds the modules that
   live right in that folder, and lists them for pkgutil. */
typedef struct {
    PyObject_HEAD
    PyObject *path;   /* str: the entry */
    PyObject *folder; /* bytes: its packed path, b"" for the root */
    PyObject *prefix; /* str: the names of modules right in it start so:
                         "pkg.sub." for pkg/sub, "" for the root */
} PathEntryObject;

static int in_folder(PathEntryObject *pe, const kp_entry *e)
{
    Py_ssize_t len = (Py_ssize_t)ke_location_len(e);
    return len == PyBytes_GET_SIZE(pe->folder) &&
           memcmp(e->path, PyBytes_AS_STRING(pe->folder), (size_t)len) == 0;
}

static PyObject *PathEntry_find_spec(PyObject *self, PyObject *args,
                                     PyObject *kwds)
{
    static char *kwlist[] = {"fullname", "target", NULL};
    kiln_state *st = kiln_state_of(Py_TYPE(self));
    PathEntryObject *pe = (PathEntryObject *)self;
    PyObject *fullname, *target = Py_None, *packed = NULL, *tail,
             *loader = NULL, *res = NULL;
    Py_ssize_t len, plen, dot;
    kp_entry e;
    int found;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|O:find_spec", kwlist,
                                     &fullname, &target))
        return NULL;
    /* The module of this folder named by fullname's last part: fullname
       itself, unless fullname's parent is an alias of this folder's
       package (sys.modules), or has this folder in an extended __path__;
       then it is loaded under fullname, as a file loader would. */
    len = PyUnicode_GET_LENGTH(fullname);
    plen = PyUnicode_GET_LENGTH(pe->prefix);
    dot = PyUnicode_FindChar(fullname, '.', 0, len, -1);
    if (dot == -2)
        goto done;
    if (dot + 1 == plen &&
        (plen == 0 || PyUnicode_Tailmatch(fullname, pe->prefix, 0, plen, -1)))
        packed = Py_NewRef(fullname);
    else if ((tail = PyUnicode_Substring(fullname, dot + 1, len))) {
        packed = PyUnicode_Concat(pe->prefix, tail);
        Py_DECREF(tail);
    }
    found = packed ? kiln_lookup(packed, &e) : -1;
    if (found <= 0 || !in_folder(pe, &e)) {
        res = found < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    if (e.flags & KP_MOD_NAMESPACE) /* a portion, for PathFinder to join */
        loader = Py_NewRef(Py_None);
    else if (packed == fullname)
        loader = Py_NewRef(st->importer);
    else
        loader = kiln_new_loader(st, packed);
    res = loader ? kiln_make_spec(st, loader, fullname, &e, NULL) : NULL;
done:
    Py_XDECREF(packed);
    Py_XDECREF(loader);
    return res;
}

/* pkgutil's protocol: (prefix + name, is_package) for each module right in
   this folder; namespace packages are left out, as pkgutil does on disk. */
static PyObject *PathEntry_iter_modules(PyObject *self, PyObject *args)
{
    const char *prefix = "";
    PyObject *list = PyList_New(0), *item;
    kp_entry e;

    if (!list || !PyArg_ParseTuple(args, "|s:iter_modules", &prefix))
        goto error;
    for (uint32_t i = 0; i < kiln_proc.pack->module_count; i++) {
        const char *dot;
        kp_module_at(kiln_proc.pack, i, &e);
        if ((e.flags & KP_MOD_NAMESPACE) || strcmp(e.name, "__main__") == 0 ||
            !in_folder((PathEntryObject *)self, &e))
            continue;
        dot = strrchr(e.name, '.');
        item = Py_BuildValue("(NO)",
                             PyUnicode_FromFormat("%s%s", prefix,
                                                  dot ? dot + 1 : e.name),
                             (e.flags & KP_MOD_PACKAGE) ? Py_True : Py_False);
        if (!item || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            goto error;
        }
        Py_DECREF(item);
    }
    return list;
error:
    Py_XDECREF(list);
    return NULL;
}

static PyObject *PathEntry_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<kiln path entry %R>",
                                ((PathEntryObject *)self)->path);
}

static int PathEntry_traverse(PyObject *self, visitproc visit, void *arg)
{
    PathEntryObject *pe = (PathEntryObject *)self;

    Py_VISIT(Py_TYPE(self)); /* a heap type's instance keeps it alive */
    Py_VISIT(pe->path);
    return 0;
}

static void PathEntry_dealloc(PyObject *self)
{
    PathEntryObject *pe = (PathEntryObject *)self;
    PyTypeObject *type = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    Py_CLEAR(pe->path);
    Py_CLEAR(pe->folder);
    Py_CLEAR(pe->prefix);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyMethodDef PathEntry_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))PathEntry_find_spec,
     METH_VARARGS | METH_KEYWORDS,
     "Find the spec of a module packed right in this folder."},
    {"iter_modules", PathEntry_iter_modules, METH_VARARGS,
     "The modules packed right in this folder, for pkgutil."},
    {"invalidate_caches", kiln_invalidate_caches, METH_NOARGS,
     "Nothing to invalidate: the payload never changes."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef PathEntry_members[] = {
    {"path", T_OBJECT, offsetof(PathEntryObject, path), READONLY,
     "The sys.path entry."},
    {NULL, 0, 0, 0, NULL}};

static PyType_Slot PathEntry_slots[] = {
    {Py_tp_doc, "Finds the modules packed in one folder of the executable."},
    {Py_tp_methods, PathEntry_methods},
    {Py_tp_members, PathEntry_members},
    {Py_tp_repr, PathEntry_repr},
    {Py_tp_traverse, PathEntry_traverse},
    {Py_tp_dealloc, PathEntry_dealloc},
    {0, NULL}};

static PyType_Spec PathEntry_spec = {
    "_kiln.PathEntry", sizeof(PathEntryObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    PathEntry_slots};

PyTypeObject *kiln_pathentry_type_new(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &PathEntry_spec,
                                                    NULL);
}

/* The dotted prefix of the modules right in the packed folder rel. */
static PyObject *folder_prefix_name(PyObject *rel)
{
    PyObject *name, *res;

    if (PyBytes_GET_SIZE(rel) == 0)
        return PyUnicode_FromString("");
    name = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(rel), PyBytes_GET_SIZE(rel),
                                "surrogateescape");
    res = name ? PyObject_CallMethod(name, "replace", "ss", "/", ".") : NULL;
    Py_XSETREF(res, res ? PyUnicode_FromFormat("%U.", res) : NULL);
    Py_XDECREF(name);
    return res;
}

PyObject *kiln_path_entry(kiln_state *st, PyObject *path)
{
    PyObject *rel = NULL, *prefix = NULL;
    PathEntryObject *pe = NULL;

    if (PyUnicode_Check(path) && st->exe) {
        rel = PyUnicode_Compare(path, st->exe) == 0
                  ? PyBytes_FromStringAndSize("", 0)
                  : kiln_data_rel(st, path);
        if (rel && packed_kind(PyBytes_AS_STRING(rel),
                               PyBytes_GET_SIZE(rel)) != KILN_KIND_FOLDER)
            Py_CLEAR(rel);
    }
    if (!rel) {
        if (PyErr_Occurred())
            PyErr_Clear();
        PyErr_SetString(PyExc_ImportError, "not a folder inside the kiln "
                        "executable");
        return NULL;
    }
    prefix = folder_prefix_name(rel);
    pe = prefix ? PyObject_GC_New(PathEntryObject, st->pathentry_type)
                : NULL;
    if (!pe) {
        Py_DECREF(rel);
        Py_XDECREF(prefix);
        return NULL;
    }
    pe->path = Py_NewRef(path);
    pe->folder = rel;
    pe->prefix = prefix;
    PyObject_GC_Track(pe);
    return (PyObject *)pe;
}

PyObject *kiln_path_hook(PyObject *mod, PyObject *path)
{
    return kiln_path_entry(PyModule_GetState(mod), path);
}

