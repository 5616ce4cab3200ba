/*
 * importer.c - the state of kiln's importer and its lookups: packed modules
 * by name, the paths they get (virtual paths under the executable, or
 * extracted folders), checked blobs, code objects, and the contents of a
 * virtual path for io.open_code().
 *
 * A module's __file__ is a virtual path under the executable, as zipimport
 * does: /path/to/app/json/__init__.py. Bytecode is unmarshalled from the
 * mapping without a copy; every blob is checksummed before it is used.
 * Packages flagged for extraction get real files (extract.c) and paths
 * there. The other files of the importer: finder.c, loader.c, extload.c,
 * pathentry.c, excepthook.c, install.c, runapp.c.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "entries.h"
#include "extract.h"
#include "importer.h"
#include "importer_internal.h"

struct kiln_process kiln_proc;

/* 1 and *e filled when fullname is packed, 0 when not, -1 on error.
   pkg.__init__ of a regular package is its __init__.py as a module of its
   own, not a package, as CPython's FileFinder and zipimport serve it. */
int kiln_lookup(PyObject *fullname, kp_entry *e)
{
    static const char init[] = ".__init__";
    const size_t ilen = sizeof init - 1;
    Py_ssize_t len;
    const char *name;
    long i;

    if (!PyUnicode_Check(fullname)) {
        PyErr_Format(PyExc_TypeError, "module name must be str, not %.100s",
                     Py_TYPE(fullname)->tp_name);
        return -1;
    }
    name = PyUnicode_AsUTF8AndSize(fullname, &len);
    if (!name) {
        PyErr_Clear(); /* not UTF-8 encodable: no packed module has it */
        return 0;
    }
    i = kp_find_module(kiln_proc.pack, name, (size_t)len);
    if (i >= 0) {
        kp_module_at(kiln_proc.pack, (uint32_t)i, e);
        return 1;
    }
    if ((size_t)len <= ilen || memcmp(name + len - ilen, init, ilen) != 0)
        return 0;
    i = kp_find_module(kiln_proc.pack, name, (size_t)len - ilen);
    if (i < 0)
        return 0;
    kp_module_at(kiln_proc.pack, (uint32_t)i, e);
    if ((e->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE | KP_MOD_EXTENSION)) !=
        KP_MOD_PACKAGE)
        return 0;
    e->flags &= ~(uint32_t)KP_MOD_PACKAGE;
    return 1;
}

int kiln_lookup_required(kiln_state *st, PyObject *fullname, kp_entry *e)
{
    int found = kiln_lookup(fullname, e);
    if (found == 0)
        PyErr_Format(PyExc_ImportError, "kiln: module %R is not packed in %U",
                     fullname, st->exe);
    return found == 1 ? 0 : -1;
}

/* Packed names are bytes: as str they are decoded as os.fsdecode() does,
   and str arguments encoded back as os.fsencode() does (fs_bytes). Until
   the filesystem codec is set up, CPython decodes with the locale's, which
   needs s[len] to end the string: a part of a name is copied first. */
PyObject *kiln_fs_str(const char *s, Py_ssize_t len)
{
    char small[256], *copy;
    PyObject *res;

    if (s[len] == '\0')
        return PyUnicode_DecodeFSDefaultAndSize(s, len);
    copy = (size_t)len < sizeof small ? small : PyMem_Malloc((size_t)len + 1);
    if (!copy)
        return PyErr_NoMemory();
    memcpy(copy, s, (size_t)len);
    copy[len] = '\0';
    res = PyUnicode_DecodeFSDefaultAndSize(copy, len);
    if (copy != small)
        PyMem_Free(copy);
    return res;
}

/* base/rel: "/" and rel decoded together, joined to base by one
   concatenation (this runs several times an import). */
static PyObject *path_in(PyObject *base, const char *rel, Py_ssize_t len)
{
    char small[256], *buf;
    PyObject *tail, *res;

    if (len == 0)
        return Py_NewRef(base);
    buf = (size_t)len + 1 < sizeof small ? small
                                         : PyMem_Malloc((size_t)len + 2);
    if (!buf)
        return PyErr_NoMemory();
    buf[0] = '/';
    memcpy(buf + 1, rel, (size_t)len);
    buf[len + 1] = '\0';
    tail = PyUnicode_DecodeFSDefaultAndSize(buf, len + 1);
    if (buf != small)
        PyMem_Free(buf);
    res = tail ? PyUnicode_Concat(base, tail) : NULL;
    Py_XDECREF(tail);
    return res;
}

PyObject *kiln_virtual_path(kiln_state *st, const char *rel, Py_ssize_t len)
{
    return path_in(st->exe, rel, len);
}

/* A path argument (str, bytes or os.PathLike) as bytes, as os.fsencode()
   makes it; NULL with an exception. */
PyObject *kiln_fs_bytes(PyObject *arg)
{
    PyObject *path = PyOS_FSPath(arg), *res;

    if (!path || PyBytes_Check(path))
        return path;
    res = PyUnicode_EncodeFSDefault(path);
    Py_DECREF(path);
    return res;
}

/* The packed path of a str path base/<packed path>, as new bytes (see
   fs_bytes); NULL without an exception when path is not under base. */
static PyObject *rel_under(PyObject *path, PyObject *base)
{
    Py_ssize_t blen, plen;
    PyObject *rel, *res;

    if (!base || !PyUnicode_Check(path) || !PyUnicode_Check(base))
        return NULL;
    blen = PyUnicode_GET_LENGTH(base);
    plen = PyUnicode_GET_LENGTH(path);
    if (plen <= blen + 1 || PyUnicode_READ_CHAR(path, blen) != '/' ||
        PyUnicode_Tailmatch(path, base, 0, blen, -1) != 1)
        return NULL;
    rel = PyUnicode_Substring(path, blen + 1, plen);
    res = rel ? PyUnicode_EncodeFSDefault(rel) : NULL;
    Py_XDECREF(rel);
    if (!res && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        PyErr_Clear(); /* not encodable: no packed path has it */
    return res;
}

/* The packed path of a virtual path <exe>/<packed path>, or NULL. */
PyObject *kiln_packed_rel(kiln_state *st, PyObject *path)
{
    return rel_under(path, st->exe);
}

/* An extract folder joins sys.path, at the end, as the site folder that
   holds a package does under python3: code that maps a file to its module
   by sys.path (astroid's modpath_from_file, for pylint's checkers) finds
   the extracted modules. kiln's importer still serves them first. */
static int join_sys_path(PyObject *folder)
{
    PyObject *path = PySys_GetObject("path");
    int has;

    if (!path || !PyList_Check(path))
        return 0;
    has = PySequence_Contains(path, folder);
    return has != 0 ? (has < 0 ? -1 : 0) : PyList_Append(path, folder);
}

/* The folder that holds the extracted files of the top-level package or
   module whose packed path starts with rel[0:len]; extracts them first.
   The stdlib's extracted part (len 0) has one folder for all of it. */
PyObject *kiln_extracted_base(kiln_state *st, const char *rel, Py_ssize_t len)
{
    static _Atomic int warned; /* interpreters with GILs of their own */
    PyObject *top = PyUnicode_DecodeUTF8(rel, len, "surrogateescape"), *base;
    char err[1024], *why = NULL, *dir, *name;

    if (!top)
        return NULL;
    base = PyDict_GetItemWithError(st->extracted, top);
    if (base || PyErr_Occurred()) {
        Py_DECREF(top);
        return Py_XNewRef(base);
    }
    name = strndup(rel, (size_t)len);
    dir = !name ? NULL
          : len
              ? kiln_extract(kiln_proc.pack, name, &why, err, sizeof err)
              : kiln_extract_stdlib(kiln_proc.pack, &why, err, sizeof err);
    free(name);
    if (why && !warned++)
        warning("%s", why);
    free(why);
    if (!dir && !len) {
        PyErr_Format(PyExc_ImportError, "kiln: cannot extract the standard "
                     "library's files: %s", err);
        Py_DECREF(top);
        return NULL;
    }
    if (!dir) {
        PyErr_Format(PyExc_ImportError, "kiln: cannot extract %R, whose "
                     "code reads its files from disk: %s", top, err);
        Py_DECREF(top);
        return NULL;
    }
    base = PyUnicode_DecodeFSDefault(dir);
    free(dir);
    if (base && PyDict_SetItem(st->extracted, top, base) < 0)
        Py_CLEAR(base);
    if (base && join_sys_path(base) < 0)
        Py_CLEAR(base);
    Py_DECREF(top);
    return base;
}

/* The stdlib's extracted folder, for the stdlib module e: kept under its
   top-level name too, as every extracted package's folder is. */
static PyObject *stdlib_base(kiln_state *st, const kp_entry *e)
{
    PyObject *top = PyUnicode_DecodeUTF8(
        e->path, (Py_ssize_t)ke_top_len(e->path, e->path_len),
        "surrogateescape");
    PyObject *base = top ? PyDict_GetItemWithError(st->extracted, top) : NULL;

    if (base || !top || PyErr_Occurred()) {
        Py_XDECREF(top);
        return Py_XNewRef(base);
    }
    base = kiln_extracted_base(st, "", 0);
    if (base && PyDict_SetItem(st->extracted, top, base) < 0)
        Py_CLEAR(base);
    Py_DECREF(top);
    return base;
}

/* The folder a module's paths start from: the executable, or the extract
   cache for a package flagged for extraction (the stdlib's folder for
   the stdlib's). */
PyObject *kiln_entry_base(kiln_state *st, const kp_entry *e)
{
    if (!(e->flags & KP_MOD_EXTRACT))
        return Py_NewRef(st->exe);
    if (e->flags & KP_MOD_STDLIB)
        return stdlib_base(st, e);
    return kiln_extracted_base(st, e->path,
                               (Py_ssize_t)ke_top_len(e->path, e->path_len));
}

/* Path of rel[0:len] for the module e: under its base. */
PyObject *kiln_entry_path(kiln_state *st, const kp_entry *e, Py_ssize_t len)
{
    PyObject *base = kiln_entry_base(st, e), *res;
    if (!base)
        return NULL;
    res = path_in(base, e->path, len);
    Py_DECREF(base);
    return res;
}

PyObject *kiln_module_origin(kiln_state *st, const kp_entry *e)
{
    return kiln_entry_path(st, e, e->path_len);
}

PyObject *kiln_package_dir(kiln_state *st, const kp_entry *e)
{
    return kiln_entry_path(st, e, (Py_ssize_t)ke_package_dir_len(e));
}

/* Interpreter mode: the package's folder in the disk stdlib folder, if
   there is one, joins its __path__ after the packed one, so that what kiln
   leaves out of a package (ctypes.test, say) imports from there. */
int kiln_add_disk_location(const kp_entry *e, PyObject *locations)
{
    char path[PATH_MAX];
    struct stat st;
    PyObject *dir;
    int n, rc;

    if (!kiln_proc.disk_stdlib)
        return 0;
    n = snprintf(path, sizeof path, "%s/%.*s", kiln_proc.disk_stdlib,
                 (int)ke_package_dir_len(e), e->path);
    if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return 0;
    dir = PyUnicode_DecodeFSDefault(path);
    if (!dir)
        return -1;
    rc = PyList_Append(locations, dir);
    Py_DECREF(dir);
    return rc;
}

/* Bytes of a blob after checking them; NULL with ImportError if damaged. */
const uint8_t *kiln_checked_blob(kiln_state *st, PyObject *fullname,
                                 const kp_blob *blob, const char *what)
{
    if (kp_blob_verify(kiln_proc.pack, blob) != 0) {
        PyErr_Format(PyExc_ImportError,
                     "kiln: the %s of %R is damaged (checksum mismatch, %u "
                     "bytes at data offset %llu) in %U; rebuild or "
                     "re-download the executable",
                     what, fullname, blob->size,
                     (unsigned long long)blob->offset, st->exe);
        return NULL;
    }
    return kp_blob_bytes(kiln_proc.pack, blob);
}

/* ---- code --------------------------------------------------------------- */

static PyObject *compile_source(kiln_state *st, PyObject *fullname,
                                const kp_entry *e, PyObject *path)
{
    const uint8_t *src = kiln_checked_blob(st, fullname, &e->b, "source");
    PyObject *copy, *code;

    if (!src)
        return NULL;
    copy = PyBytes_FromStringAndSize((const char *)src, e->b.size);
    if (!copy)
        return NULL;
    code = Py_CompileStringObject(PyBytes_AS_STRING(copy), path, Py_file_input,
                                  NULL, (int)kiln_proc.optimize);
    Py_DECREF(copy);
    return code;
}

/* New reference to the module's code object, None when it has none. */
PyObject *kiln_load_code(kiln_state *st, PyObject *fullname, const kp_entry *e)
{
    PyObject *path = NULL, *code = NULL, *res;
    const uint8_t *bytes;
    int stale = kiln_proc.optimize != (long)kiln_proc.pack->optimize;

    if (!(e->flags & (KP_MOD_CODE | KP_MOD_SOURCE)))
        Py_RETURN_NONE;
    /* The interpreter's own frozen code object needs no unmarshalling; it
       keeps its "<frozen name>" file name, as under python3. */
    if (!stale) {
        int frozen = PySet_Contains(st->frozen, fullname);
        if (frozen < 0)
            return NULL;
        code = frozen ? PyObject_CallOneArg(st->get_frozen_object, fullname)
                      : NULL;
        if (code)
            return code;
        /* Frozen modules turned off since start-up (test.support's
           import_fresh_module() does): the packed bytecode then. */
        if (frozen && !PyErr_ExceptionMatches(PyExc_ImportError))
            return NULL;
        PyErr_Clear();
    }
    path = kiln_module_origin(st, e);
    if (!path)
        return NULL;
    if ((e->flags & KP_MOD_SOURCE) && (stale || !(e->flags & KP_MOD_CODE))) {
        code = compile_source(st, fullname, e, path);
        Py_DECREF(path);
        return code;
    }
    bytes = kiln_checked_blob(st, fullname, &e->a, "bytecode");
    if (!bytes)
        goto error;
    code = PyMarshal_ReadObjectFromString((const char *)bytes, e->a.size);
    if (!code)
        goto error;
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_ImportError, "kiln: bytecode of %R in %U is not a "
                     "code object", fullname, st->exe);
        goto error;
    }
    res = PyObject_CallFunctionObjArgs(st->fix_co_filename, code, path, NULL);
    if (!res)
        goto error;
    Py_DECREF(res);
    Py_DECREF(path);
    return code;

error:
    Py_XDECREF(code);
    Py_XDECREF(path);
    return NULL;
}

/* Runs code in globals as the exec() built-in does: globals without
   __builtins__ get the current builtins. */
PyObject *kiln_exec_code(PyObject *code, PyObject *globals)
{
    int has = PyMapping_HasKeyString(globals, "__builtins__");
    if (has < 0)
        return NULL;
    if (!has && PyDict_SetItemString(globals, "__builtins__",
                                     PyEval_GetBuiltins()) < 0)
        return NULL;
    return PyEval_EvalCode(code, globals, globals);
}

/* sys.modules["__main__"] (borrowed), or NULL. */
PyObject *kiln_main_module(void)
{
    PyObject *modules = PySys_GetObject("modules");
    return modules ? PyDict_GetItemString(modules, "__main__") : NULL;
}

/* The packed path of a virtual path, or of a path in an extracted
   package's folder, as kiln_packed_rel(); NULL when it is neither. */
PyObject *kiln_data_rel(kiln_state *st, PyObject *path)
{
    PyObject *rel = kiln_packed_rel(st, path), *top, *base;
    Py_ssize_t pos = 0;

    while (!rel && !PyErr_Occurred() &&
           PyDict_Next(st->extracted, &pos, &top, &base))
        rel = rel_under(path, base);
    return rel;
}

/* module.attr; a module already in sys.modules is taken from there
   (PyImport_ImportModule() costs some 10,000 instructions even then). */
PyObject *kiln_import_attr(const char *module, const char *attr)
{
    PyObject *name = PyUnicode_FromString(module), *m, *a;

    m = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    if (m == Py_None) /* blocked: the import says so */
        Py_CLEAR(m);
    if (!m && !PyErr_Occurred())
        m = PyImport_ImportModule(module);
    if (!m)
        return NULL;
    a = PyObject_GetAttrString(m, attr);
    Py_DECREF(m);
    return a;
}

/* ---- contents by virtual path (for io.open_code, opencode.c) ----------- */

/* New reference to the name of the module whose file is rel, *e filled:
   the app's main module, or the module the path names ("a/b.py" is a.b,
   "a/__init__.py" is a). NULL when there is none (-1 on error). */
static PyObject *module_at_path(const char *rel, Py_ssize_t len, kp_entry *e)
{
    static const char init[] = "/__init__.py";
    Py_ssize_t ilen = (Py_ssize_t)strlen(init), stem = len - 3;
    PyObject *name = NULL;
    char *dotted;

    if (len < 4 || memcmp(rel + stem, ".py", 3) != 0)
        return NULL;
    if (len > ilen && memcmp(rel + len - ilen, init, (size_t)ilen) == 0)
        stem = len - ilen;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            name = PyUnicode_FromString(kiln_proc.pack->main_name);
        } else {
            dotted = PyMem_Malloc((size_t)stem);
            if (!dotted)
                return PyErr_NoMemory();
            for (Py_ssize_t k = 0; k < stem; k++)
                dotted[k] = rel[k] == '/' ? '.' : rel[k];
            name = PyUnicode_DecodeUTF8(dotted, stem, "surrogateescape");
            PyMem_Free(dotted);
        }
        if (!name)
            return NULL;
        if (kiln_lookup(name, e) > 0 && e->path_len == (uint32_t)len &&
            memcmp(e->path, rel, (size_t)len) == 0)
            return name;
        Py_CLEAR(name);
        if (PyErr_Occurred())
            return NULL;
    }
    return NULL;
}

PyObject *kiln_importer_path_contents(PyObject *path)
{
    kiln_state *st = kiln_state_get();
    PyObject *rel = st ? kiln_packed_rel(st, path) : NULL, *name = NULL,
             *res = NULL;
    const uint8_t *bytes;
    const char *s;
    Py_ssize_t len;
    long i;
    kp_entry e;

    if (!rel)
        goto done;
    s = PyBytes_AS_STRING(rel);
    len = PyBytes_GET_SIZE(rel);
    i = kp_find_file(kiln_proc.pack, s, (size_t)len);
    if (i >= 0) {
        kp_file_at(kiln_proc.pack, (uint32_t)i, &e);
        bytes = kiln_checked_blob(st, path, &e.a, "data");
        if (bytes)
            res = PyBytes_FromStringAndSize((const char *)bytes, e.a.size);
        goto done;
    }
    name = module_at_path(s, len, &e);
    if (name && (e.flags & KP_MOD_CODE))
        res = kiln_load_code(st, name, &e);
done:
    Py_XDECREF(name);
    Py_XDECREF(rel);
    return res;
}
