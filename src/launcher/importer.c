/*
 * importer.c - the _kiln built-in module: a meta-path finder and loader that
 * serves modules, sources, data files and extension modules straight from
 * the mapped payload.
 *
 * A module's __file__ is a virtual path under the executable, as zipimport
 * does: /path/to/app/json/__init__.py. Bytecode is unmarshalled from the
 * mapping without a copy; every blob is checksummed before it is used.
 * Extension modules are written to a memfd and loaded from /proc/self/fd/N.
 * Packages flagged for extraction get real files (extract.c) and paths
 * there. importlib.resources and importlib.metadata are served by the
 * Python half, py/kiln_support.py, loaded when first asked for.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <structmember.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childproof.h"
#include "children.h"
#include "entries.h"
#include "extract.h"
#include "fdio.h"
#include "importer.h"
#include "kiln_support.py.h"

typedef struct {
    PyObject_HEAD
} ImporterObject;

/* One payload per process, so the importer's state is process-wide. */
static struct {
    const kp_pack *pack;
    PyObject *exe;      /* str: the executable's path */
    PyObject *importer; /* the instance on sys.meta_path */
    PyObject *module_spec, *fix_co_filename, *create_dynamic, *exec_dynamic;
    PyObject *cached_suffix; /* ".cpython-311.pyc", or NULL */
    PyObject *frozen;        /* set: names with a frozen code object */
    PyObject *get_frozen_object;
    PyObject *extracted; /* dict: top-level name -> folder it is extracted in */
    PyObject *updatecache; /* linecache's own, once linecache is loaded */
    long optimize; /* sys.flags.optimize of this process */
    char *disk_stdlib; /* interpreter mode: kiln_disk_stdlib(), else NULL */
    PyObject *c_excepthook; /* CPython's own sys.__excepthook__ */
    PyInterpreterState *main_interp;
    PyObject *path_hook; /* _kiln.path_hook */
    int hermetic;        /* an app: kiln's importer on sys.meta_path */
    struct loaded_ext { char *name; int fd; } *exts; /* memfds, by module */
    size_t n_exts;
} kst;

static PyTypeObject ImporterType, LoaderType, PathEntryType;
static PyObject *import_attr(const char *module, const char *attr);

/* ---- lookups ---------------------------------------------------------- */

/* 1 and *e filled when fullname is packed, 0 when not, -1 on error.
   pkg.__init__ of a regular package is its __init__.py as a module of its
   own, not a package, as CPython's FileFinder and zipimport serve it. */
static int lookup(PyObject *fullname, kp_entry *e)
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
    i = kp_find_module(kst.pack, name, (size_t)len);
    if (i >= 0) {
        kp_module_at(kst.pack, (uint32_t)i, e);
        return 1;
    }
    if ((size_t)len <= ilen || memcmp(name + len - ilen, init, ilen) != 0)
        return 0;
    i = kp_find_module(kst.pack, name, (size_t)len - ilen);
    if (i < 0)
        return 0;
    kp_module_at(kst.pack, (uint32_t)i, e);
    if ((e->flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE | KP_MOD_EXTENSION)) !=
        KP_MOD_PACKAGE)
        return 0;
    e->flags &= ~(uint32_t)KP_MOD_PACKAGE;
    return 1;
}

static int lookup_required(PyObject *fullname, kp_entry *e)
{
    int found = lookup(fullname, e);
    if (found == 0)
        PyErr_Format(PyExc_ImportError, "kiln: module %R is not packed in %U",
                     fullname, kst.exe);
    return found == 1 ? 0 : -1;
}

/* Packed names are bytes: as str they are decoded as os.fsdecode() does,
   and str arguments encoded back as os.fsencode() does (fs_bytes). Until
   the filesystem codec is set up, CPython decodes with the locale's, which
   needs s[len] to end the string: a part of a name is copied first. */
static PyObject *fs_str(const char *s, Py_ssize_t len)
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

static PyObject *path_in(PyObject *base, const char *rel, Py_ssize_t len)
{
    PyObject *tail = fs_str(rel, len), *res;
    if (!tail)
        return NULL;
    res = len ? PyUnicode_FromFormat("%U/%U", base, tail) : Py_NewRef(base);
    Py_DECREF(tail);
    return res;
}

static PyObject *virtual_path(const char *rel, Py_ssize_t len)
{
    return path_in(kst.exe, rel, len);
}

/* A path argument (str, bytes or os.PathLike) as bytes, as os.fsencode()
   makes it; NULL with an exception. */
static PyObject *fs_bytes(PyObject *arg)
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
static PyObject *packed_rel(PyObject *path)
{
    return rel_under(path, kst.exe);
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
static PyObject *extracted_base(const char *rel, Py_ssize_t len)
{
    static int warned;
    PyObject *top = PyUnicode_DecodeUTF8(rel, len, "surrogateescape"), *base;
    char err[1024], *warning = NULL, *dir, *name;

    if (!top)
        return NULL;
    base = PyDict_GetItemWithError(kst.extracted, top);
    if (base || PyErr_Occurred()) {
        Py_DECREF(top);
        return Py_XNewRef(base);
    }
    name = strndup(rel, (size_t)len);
    dir = !name ? NULL
          : len ? kiln_extract(kst.pack, name, &warning, err, sizeof err)
                : kiln_extract_stdlib(kst.pack, &warning, err, sizeof err);
    free(name);
    if (warning && !warned++)
        fprintf(stderr, "kiln: warning: %s\n", warning);
    free(warning);
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
    if (base && PyDict_SetItem(kst.extracted, top, base) < 0)
        Py_CLEAR(base);
    if (base && join_sys_path(base) < 0)
        Py_CLEAR(base);
    Py_DECREF(top);
    return base;
}

/* The stdlib's extracted folder, for the stdlib module e: kept under its
   top-level name too, as every extracted package's folder is. */
static PyObject *stdlib_base(const kp_entry *e)
{
    PyObject *top = PyUnicode_DecodeUTF8(
        e->path, (Py_ssize_t)ke_top_len(e->path, e->path_len),
        "surrogateescape");
    PyObject *base = top ? PyDict_GetItemWithError(kst.extracted, top) : NULL;

    if (base || !top || PyErr_Occurred()) {
        Py_XDECREF(top);
        return Py_XNewRef(base);
    }
    base = extracted_base("", 0);
    if (base && PyDict_SetItem(kst.extracted, top, base) < 0)
        Py_CLEAR(base);
    Py_DECREF(top);
    return base;
}

/* The folder a module's paths start from: the executable, or the extract
   cache for a package flagged for extraction (the stdlib's folder for
   the stdlib's). */
static PyObject *entry_base(const kp_entry *e)
{
    if (!(e->flags & KP_MOD_EXTRACT))
        return Py_NewRef(kst.exe);
    if (e->flags & KP_MOD_STDLIB)
        return stdlib_base(e);
    return extracted_base(e->path,
                          (Py_ssize_t)ke_top_len(e->path, e->path_len));
}

/* Path of rel[0:len] for the module e: under its base. */
static PyObject *entry_path(const kp_entry *e, Py_ssize_t len)
{
    PyObject *base = entry_base(e), *res;
    if (!base)
        return NULL;
    res = path_in(base, e->path, len);
    Py_DECREF(base);
    return res;
}

static PyObject *module_origin(const kp_entry *e)
{
    return entry_path(e, e->path_len);
}

static PyObject *package_dir(const kp_entry *e)
{
    return entry_path(e, (Py_ssize_t)ke_package_dir_len(e));
}

/* Interpreter mode: the package's folder in the disk stdlib folder, if
   there is one, joins its __path__ after the packed one, so that what kiln
   leaves out of a package (ctypes.test, say) imports from there. */
static int add_disk_location(const kp_entry *e, PyObject *locations)
{
    char path[PATH_MAX];
    struct stat st;
    PyObject *dir;
    int n, rc;

    if (!kst.disk_stdlib)
        return 0;
    n = snprintf(path, sizeof path, "%s/%.*s", kst.disk_stdlib,
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
static const uint8_t *checked_blob(PyObject *fullname, const kp_blob *blob,
                                   const char *what)
{
    if (kp_blob_verify(kst.pack, blob) != 0) {
        PyErr_Format(PyExc_ImportError,
                     "kiln: the %s of %R is damaged (checksum mismatch, %u "
                     "bytes at data offset %llu) in %U; rebuild or "
                     "re-download the executable",
                     what, fullname, blob->size,
                     (unsigned long long)blob->offset, kst.exe);
        return NULL;
    }
    return kp_blob_bytes(kst.pack, blob);
}

/* ---- code --------------------------------------------------------------- */

static PyObject *compile_source(PyObject *fullname, const kp_entry *e,
                                PyObject *path)
{
    const uint8_t *src = checked_blob(fullname, &e->b, "source");
    PyObject *copy, *code;

    if (!src)
        return NULL;
    copy = PyBytes_FromStringAndSize((const char *)src, e->b.size);
    if (!copy)
        return NULL;
    code = Py_CompileStringObject(PyBytes_AS_STRING(copy), path, Py_file_input,
                                  NULL, (int)kst.optimize);
    Py_DECREF(copy);
    return code;
}

/* New reference to the module's code object, None when it has none. */
static PyObject *load_code(PyObject *fullname, const kp_entry *e)
{
    PyObject *path = NULL, *code = NULL, *res;
    const uint8_t *bytes;
    int stale = kst.optimize != (long)kst.pack->optimize;

    if (!(e->flags & (KP_MOD_CODE | KP_MOD_SOURCE)))
        Py_RETURN_NONE;
    /* The interpreter's own frozen code object needs no unmarshalling; it
       keeps its "<frozen name>" file name, as under python3. */
    if (!stale) {
        int frozen = PySet_Contains(kst.frozen, fullname);
        if (frozen < 0)
            return NULL;
        code = frozen ? PyObject_CallOneArg(kst.get_frozen_object, fullname)
                      : NULL;
        if (code)
            return code;
        /* Frozen modules turned off since start-up (test.support's
           import_fresh_module() does): the packed bytecode then. */
        if (frozen && !PyErr_ExceptionMatches(PyExc_ImportError))
            return NULL;
        PyErr_Clear();
    }
    path = module_origin(e);
    if (!path)
        return NULL;
    if ((e->flags & KP_MOD_SOURCE) && (stale || !(e->flags & KP_MOD_CODE))) {
        code = compile_source(fullname, e, path);
        Py_DECREF(path);
        return code;
    }
    bytes = checked_blob(fullname, &e->a, "bytecode");
    if (!bytes)
        goto error;
    code = PyMarshal_ReadObjectFromString((const char *)bytes, e->a.size);
    if (!code)
        goto error;
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_ImportError, "kiln: bytecode of %R in %U is not a "
                     "code object", fullname, kst.exe);
        goto error;
    }
    res = PyObject_CallFunctionObjArgs(kst.fix_co_filename, code, path, NULL);
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
static PyObject *exec_code(PyObject *code, PyObject *globals)
{
    int has = PyMapping_HasKeyString(globals, "__builtins__");
    if (has < 0)
        return NULL;
    if (!has && PyDict_SetItemString(globals, "__builtins__",
                                     PyEval_GetBuiltins()) < 0)
        return NULL;
    return PyEval_EvalCode(code, globals, globals);
}

/* ---- extension modules ------------------------------------------------ */

/* A memfd holding bytes, as /proc/self/fd/N in fdpath; -1 with ImportError
   naming fullname. The memfd is named after the file, which shows in
   /proc/PID/maps. */
static int memfd_with(PyObject *fullname, const char *name,
                      const uint8_t *bytes, size_t len, char *fdpath,
                      size_t fdpath_len)
{
    char shown[200]; /* memfd names are limited to 249 bytes */
    int fd;

    snprintf(shown, sizeof shown, "%s", name);
    fd = memfd_create(shown, MFD_CLOEXEC);
    if (fd < 0) {
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: memfd_create: %s", fullname, strerror(errno));
        return -1;
    }
    if (fd_write_full(fd, bytes, len) != 0) {
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: writing %s to memory: %s", fullname, name,
                     strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(fdpath, fdpath_len, "/proc/self/fd/%d", fd);
    /* Without /proc, dlopen() would report a library it cannot find. */
    if (access(fdpath, F_OK) != 0) {
        if (errno == ENOENT)
            PyErr_Format(PyExc_ImportError, "kiln: cannot load extension "
                         "module %R: /proc/self/fd is missing (/proc is not "
                         "mounted), and kiln loads extension modules from "
                         "memory through it: mount /proc (mount -t proc "
                         "proc /proc), or run the executable where it is "
                         "mounted", fullname);
        else
            PyErr_Format(PyExc_ImportError, "kiln: cannot load extension "
                         "module %R: %s: %s; kiln loads extension modules "
                         "from memory through /proc/self/fd", fullname,
                         fdpath, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* dlerror()'s text without the meaningless "/proc/self/fd/N: " it starts
   with when the object at fdpath is the one that failed. */
static const char *load_reason(const char *why, const char *fdpath)
{
    size_t skip = strlen(fdpath);

    if (!why)
        return "unknown error";
    if (strncmp(why, fdpath, skip) == 0 && strncmp(why + skip, ": ", 2) == 0)
        return why + skip + 2;
    return why;
}

/* What to do about a load failure, to append to its message. */
static const char *load_hint(const char *why)
{
    return strstr(why, "cannot open shared object file")
               ? "; it needs a library that is neither packed nor "
                 "installed on this system: install it (`kiln inspect` on "
                 "the executable lists the host libraries it needs)"
               : "";
}

/* Packed paths of the bundled libraries loaded so far. */
static PyObject *preloaded_libraries;

/* Loads one bundled library from memory. RTLD_LOCAL is enough: the dynamic
   loader matches a DT_NEEDED name against the DT_SONAME of every object
   already loaded, local ones included, and an object's own dependencies are
   in its symbol lookup scope. RTLD_GLOBAL would instead let two packages'
   bundled copies of one library clash. RTLD_NOW reports a missing symbol
   here, naming the library, rather than at some later call. */
static int preload_library(PyObject *fullname, const char *rel, size_t len)
{
    char fdpath[64], name[4096], shown[KP_SHOWN];
    long i = kp_find_file(kst.pack, rel, len);
    const uint8_t *bytes;
    const char *base, *why;
    kp_entry f;
    int fd;

    snprintf(name, sizeof name, "%.*s",
             (int)(len < sizeof name ? len : sizeof name - 1), rel);
    kp_escape(rel, len, shown, sizeof shown); /* for messages */
    if (i < 0) {
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: its library %s is not packed in %U; rebuild the "
                     "executable", fullname, shown, kst.exe);
        return -1;
    }
    kp_file_at(kst.pack, (uint32_t)i, &f);
    bytes = checked_blob(fullname, &f.a, "bundled library");
    base = strrchr(name, '/');
    fd = bytes ? memfd_with(fullname, base ? base + 1 : name, bytes,
                            f.a.size, fdpath, sizeof fdpath)
               : -1;
    if (fd < 0)
        return -1;
    /* The fd stays open, as for extension modules (below). */
    if (!dlopen(fdpath, RTLD_NOW | RTLD_LOCAL)) {
        why = load_reason(dlerror(), fdpath);
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: its bundled library %s fails to load: %s%s",
                     fullname, shown, why, load_hint(why));
        close(fd);
        return -1;
    }
    return 0;
}

/* Loads the bundled libraries an extension module needs: blob b lists
   their packed paths, dependencies first, joined by '\n'. Each is loaded
   once per process. */
static int preload_libraries(PyObject *fullname, const kp_entry *e)
{
    const char *list, *end;
    size_t len;

    if (e->b.size == 0)
        return 0;
    list = (const char *)checked_blob(fullname, &e->b, "library list");
    if (!list)
        return -1;
    if (!preloaded_libraries && !(preloaded_libraries = PySet_New(NULL)))
        return -1;
    end = list + e->b.size;
    for (const char *pos = list, *p; (p = ke_preload_next(&pos, end, &len));) {
        PyObject *key = PyUnicode_DecodeUTF8(p, (Py_ssize_t)len,
                                             "surrogateescape");
        int done = key ? PySet_Contains(preloaded_libraries, key) : -1;

        if (done == 0)
            done = preload_library(fullname, p, len) == 0 &&
                           PySet_Add(preloaded_libraries, key) == 0
                       ? 1
                       : -1;
        Py_XDECREF(key);
        if (done < 0)
            return -1;
    }
    return 0;
}

/* Is value the ImportError that CPython raises when dlopen() of fdpath
   fails, or when the library has no PyInit function? Those name the file
   as their path; errors raised by the module's own initialization (a
   ModuleNotFoundError of an import it makes, say) must pass unchanged. */
static int is_load_error(PyObject *value, const char *fdpath)
{
    PyObject *path;
    int match;

    if (!value || !Py_IS_TYPE(value, (PyTypeObject *)PyExc_ImportError))
        return 0;
    path = PyObject_GetAttrString(value, "path");
    match = path && PyUnicode_Check(path) &&
            PyUnicode_CompareWithASCIIString(path, fdpath) == 0;
    Py_XDECREF(path);
    PyErr_Clear();
    return match;
}

/* Replaces the ImportError of a failed dlopen() with one that names the
   module and its virtual path, and keeps dlerror()'s text without the
   meaningless /proc/self/fd/N. Other errors are left as they are. */
static void explain_load_error(PyObject *fullname, const kp_entry *e,
                               const char *fdpath)
{
    PyObject *type, *value, *tb, *text = NULL, *path = NULL, *msg = NULL;
    const char *why = NULL;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (!is_load_error(value, fdpath)) {
        PyErr_Restore(type, value, tb);
        return;
    }
    text = PyObject_Str(value);
    why = text ? PyUnicode_AsUTF8(text) : NULL;
    path = why ? module_origin(e) : NULL;
    if (!path)
        goto error;
    why = load_reason(why, fdpath);
    msg = PyUnicode_FromFormat("kiln: cannot load extension module %R (%U): "
                               "%s%s", fullname, path, why, load_hint(why));
    if (!msg)
        goto error;
    PyErr_SetImportError(msg, fullname, path);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    goto done;
error:
    PyErr_Clear();
    PyErr_Restore(type, value, tb); /* the original, unexplained */
done:
    Py_XDECREF(text);
    Py_XDECREF(path);
    Py_XDECREF(msg);
}

/* Loads the packed extension module e (packed: its packed name) as
   fullname, with loader self. */
static PyObject *load_extension(PyObject *self, PyObject *fullname,
                                PyObject *packed, const kp_entry *e)
{
    const uint8_t *image = checked_blob(fullname, &e->a, "extension module");
    const char *name = PyUnicode_AsUTF8(packed);
    PyObject *spec = NULL, *module = NULL, *origin = NULL, *kwargs = NULL;
    struct loaded_ext *exts;
    char fdpath[64];
    int fd;

    if (!image || !name || preload_libraries(fullname, e) < 0)
        return NULL;
    /* A module loaded before (by another interpreter, say) is loaded again
       from the same memfd, so that dlopen() hands back the same library,
       with its static state, as for a .so file under python3. */
    for (size_t i = 0; i < kst.n_exts; i++)
        if (strcmp(kst.exts[i].name, name) == 0) {
            fd = kst.exts[i].fd;
            snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
            goto loaded;
        }
    fd = memfd_with(fullname, name, image, e->a.size, fdpath, sizeof fdpath);
    if (fd < 0)
        return NULL;
    exts = realloc(kst.exts, (kst.n_exts + 1) * sizeof *exts);
    if (!exts || !(exts[kst.n_exts].name = strdup(name))) {
        kst.exts = exts ? exts : kst.exts;
        close(fd);
        return PyErr_NoMemory();
    }
    kst.exts = exts;
    exts[kst.n_exts++].fd = fd;
loaded:
    /* The fd stays open, even on failure: glibc matches dlopen() names, and
       a reused fd number would hand back the library loaded through it
       (which stays loaded when its PyInit fails). */
    origin = PyUnicode_FromString(fdpath);
    kwargs = origin ? Py_BuildValue("{s:O}", "origin", origin) : NULL;
    if (!kwargs)
        goto error;
    spec = PyObject_VectorcallDict(kst.module_spec,
                                   (PyObject *[]){fullname, self}, 2, kwargs);
    if (!spec)
        goto error;
    module = PyObject_CallOneArg(kst.create_dynamic, spec);
    if (!module) {
        explain_load_error(fullname, e, fdpath);
        goto error;
    }
    if (PyModule_Check(module)) {
        PyObject *file = module_origin(e);
        if (!file || PyObject_SetAttrString(module, "__file__", file) < 0) {
            Py_XDECREF(file);
            Py_CLEAR(module);
            goto error;
        }
        Py_DECREF(file);
    }
    Py_DECREF(spec);
    Py_DECREF(kwargs);
    Py_DECREF(origin);
    return module;

error: /* the memfd stays registered, for the next attempt */
    Py_XDECREF(spec);
    Py_XDECREF(kwargs);
    Py_XDECREF(origin);
    return NULL;
}

/* ---- the importer ----------------------------------------------------- */

/* Does path (a sys.path, or a package's __path__) hold a str entry outside
   the executable? 1, 0, or -1 with an exception. */
static int has_disk_entry(PyObject *path)
{
    PyObject *seq = PySequence_Fast(path, "a module search path must be a "
                                    "sequence");
    Py_ssize_t blen, n;
    const char *b, *s;
    int found = 0;

    b = seq ? PyUnicode_AsUTF8AndSize(kst.exe, &blen) : NULL;
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
    finder = import_attr("_frozen_importlib_external", "PathFinder");
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
static PyObject *namespace_path(PyObject *fullname, PyObject *locations,
                                PyObject *parent_path)
{
    PyObject *cls = NULL, *finder = NULL, *spec = NULL, *found = NULL,
             *loader = NULL, *res = NULL;
    int disk = parent_path ? has_disk_entry(parent_path) : 0, parts = 0;

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
    cls = import_attr("_frozen_importlib_external", "_NamespacePath");
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
static PyObject *make_spec(PyObject *loader, PyObject *fullname,
                           const kp_entry *e, PyObject *parent_path)
{
    int namespace = (e->flags & KP_MOD_NAMESPACE) != 0;
    int package = namespace || (e->flags & KP_MOD_PACKAGE);
    PyObject *origin = NULL, *kwargs = NULL, *spec = NULL, *dir = NULL,
             *locations = NULL;

    origin = namespace ? Py_NewRef(Py_None) : module_origin(e);
    if (!origin)
        goto error;
    kwargs = Py_BuildValue("{s:O,s:O}", "origin", origin, "is_package",
                           package ? Py_True : Py_False);
    if (!kwargs)
        goto error;
    spec = PyObject_VectorcallDict(kst.module_spec,
                                   (PyObject *[]){fullname, loader}, 2,
                                   kwargs);
    if (!spec)
        goto error;
    if (package) {
        dir = package_dir(e);
        locations = dir ? PyList_New(1) : NULL;
        if (!locations)
            goto error;
        PyList_SET_ITEM(locations, 0, Py_NewRef(dir));
        if (add_disk_location(e, locations) < 0)
            goto error;
        if (namespace && loader != Py_None)
            Py_SETREF(locations,
                      namespace_path(fullname, locations,
                                     parent_path ? parent_path
                                                 : PySys_GetObject("path")));
        if (!locations ||
            PyObject_SetAttrString(spec, "submodule_search_locations",
                                   locations) < 0)
            goto error;
    }
    if (!namespace &&
        PyObject_SetAttrString(spec, "has_location", Py_True) < 0)
        goto error;
    Py_DECREF(origin);
    Py_DECREF(kwargs);
    Py_XDECREF(dir);
    Py_XDECREF(locations);
    return spec;

error:
    Py_XDECREF(origin);
    Py_XDECREF(kwargs);
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
static int is_location(PyObject *entry, const kp_entry *e)
{
    Py_ssize_t n, blen, loc = (Py_ssize_t)ke_location_len(e);
    PyObject *base = kst.exe, *top;
    const char *s, *b;

    if (!PyUnicode_Check(entry))
        return 0;
    if (e->flags & KP_MOD_EXTRACT) {
        /* Its parent package is extracted already, if entry is its folder. */
        top = PyUnicode_DecodeUTF8(
            e->path, (Py_ssize_t)ke_top_len(e->path, e->path_len),
            "surrogateescape");
        base = top ? PyDict_GetItemWithError(kst.extracted, top) : NULL;
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
static PyObject *Importer_find_spec(PyObject *self, PyObject *args,
                                    PyObject *kwds)
{
    static char *kwlist[] = {"fullname", "path", "target", NULL};
    PyObject *fullname, *path = Py_None, *target = Py_None, *first;
    kp_entry e;
    int found;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|OO:find_spec", kwlist,
                                     &fullname, &path, &target))
        return NULL;
    found = lookup(fullname, &e);
    if (found <= 0)
        return found < 0 ? NULL : Py_NewRef(Py_None);
    if (path == Py_None)
        return make_spec(self, fullname, &e, NULL);
    first = first_entry(path);
    found = first ? is_location(first, &e) : 0;
    Py_XDECREF(first);
    if (!found)
        Py_RETURN_NONE;
    return make_spec(self, fullname, &e, path);
}

static PyObject *spec_name(PyObject *spec)
{
    return PyObject_GetAttrString(spec, "name");
}

/* __cached__ as importlib computes it from __file__ (cache_from_source),
   or NULL when it has none. */
static PyObject *cached_path(const kp_entry *e)
{
    Py_ssize_t dir = (Py_ssize_t)ke_folder_len(e->path, e->path_len);
    Py_ssize_t name = dir > 0 ? dir + 1 : 0;
    PyObject *head, *stem, *res;

    if (!kst.cached_suffix || e->path_len < 3 ||
        memcmp(e->path + e->path_len - 3, ".py", 3) != 0)
        return NULL;
    head = entry_path(e, dir);
    stem = fs_str(e->path + name, e->path_len - name - 3);
    res = head && stem ? PyUnicode_FromFormat("%U/__pycache__/%U%U", head,
                                              stem, kst.cached_suffix)
                       : NULL;
    Py_XDECREF(head);
    Py_XDECREF(stem);
    return res;
}

/* A module with the attributes importlib's _init_module_attrs() would set,
   made in C: importlib then finds them present and skips its Python path. */
static PyObject *new_module(PyObject *loader, PyObject *spec,
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
        path = PyObject_GetAttrString(spec, "submodule_search_locations");
        if (!path)
            goto error;
    } else {
        Py_ssize_t len = PyUnicode_GetLength(fullname);
        Py_ssize_t dot = PyUnicode_FindChar(fullname, '.', 0, len, -1);
        parent = dot >= 0 ? PyUnicode_Substring(fullname, 0, dot)
                          : PyUnicode_FromString("");
    }
    file = module_origin(e);
    if (!parent || !file)
        goto error;
    cached = cached_path(e);
    if (!cached && PyErr_Occurred())
        goto error;
    if (PyDict_SetItemString(dict, "__loader__", loader) < 0 ||
        PyDict_SetItemString(dict, "__package__", parent) < 0 ||
        PyDict_SetItemString(dict, "__spec__", spec) < 0 ||
        (path && PyDict_SetItemString(dict, "__path__", path) < 0) ||
        PyDict_SetItemString(dict, "__file__", file) < 0 ||
        (cached && PyDict_SetItemString(dict, "__cached__", cached) < 0))
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
static PyObject *create_module(PyObject *loader, PyObject *spec,
                               PyObject *packed)
{
    PyObject *fullname = spec_name(spec), *res;
    kp_entry e;

    if (!fullname)
        return NULL;
    if (!packed)
        packed = fullname;
    if (lookup_required(packed, &e) < 0) {
        Py_DECREF(fullname);
        return NULL;
    }
    if (e.flags & KP_MOD_EXTENSION)
        res = load_extension(loader, fullname, packed, &e);
    else if (e.flags & KP_MOD_NAMESPACE)
        res = Py_NewRef(Py_None);
    else
        res = new_module(loader, spec, fullname, &e);
    Py_DECREF(fullname);
    return res;
}

static PyObject *Importer_create_module(PyObject *self, PyObject *spec)
{
    return create_module(self, spec, NULL);
}

/* The name of the packed module whose source file is path (a path inside
   the executable), or NULL. */
static PyObject *module_of_path(PyObject *path)
{
    PyObject *relb = packed_rel(path), *name = NULL;
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
        if (!name || lookup(name, &e) != 1 || !(e.flags & KP_MOD_SOURCE) ||
            e.path_len != (uint32_t)len || memcmp(e.path, rel, len) != 0)
            Py_CLEAR(name);
    }
not_found:
    Py_XDECREF(relb);
    PyErr_Clear();
    return name;
}

/* linecache reads a file's lines from disk, or through the module globals
   it is handed; warnings, tracemalloc and linecache.getline(path) hand it
   none. So linecache.updatecache is wrapped when linecache loads: for a
   packed module's path and no globals, it is handed the module's name and
   loader, and asks the loader for the source as for a zipimported file. */
static PyObject *kiln_updatecache(PyObject *mod, PyObject *args,
                                  PyObject *kwds)
{
    static char *kwlist[] = {"filename", "module_globals", NULL};
    PyObject *filename, *globals = Py_None, *name = NULL, *res;

    (void)mod;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:updatecache", kwlist,
                                     &filename, &globals))
        return NULL;
    if (globals == Py_None && PyUnicode_Check(filename))
        name = module_of_path(filename);
    if (name) {
        globals = Py_BuildValue("{s:O,s:O}", "__name__", name, "__loader__",
                                kst.importer);
        Py_DECREF(name);
        if (!globals)
            return NULL;
    } else {
        Py_INCREF(globals);
    }
    res = PyObject_CallFunctionObjArgs(kst.updatecache, filename, globals,
                                       NULL);
    Py_DECREF(globals);
    return res;
}

static PyMethodDef updatecache_def = {
    "updatecache", (PyCFunction)(void (*)(void))kiln_updatecache,
    METH_VARARGS | METH_KEYWORDS,
    "linecache.updatecache, which finds the sources of packed modules."};

static void wrap_updatecache(PyObject *fullname, PyObject *linecache)
{
    PyObject *hook;

    if (kst.updatecache ||
        PyUnicode_CompareWithASCIIString(fullname, "linecache") != 0)
        return;
    kst.updatecache = PyObject_GetAttrString(linecache, "updatecache");
    hook = kst.updatecache ? PyCFunction_New(&updatecache_def, NULL) : NULL;
    if (!hook || PyObject_SetAttrString(linecache, "updatecache", hook) < 0)
        Py_CLEAR(kst.updatecache);
    Py_XDECREF(hook);
    PyErr_Clear(); /* source lines are a nicety: never fail an import */
}

static PyObject *call_support(const char *function, PyObject *arg);

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

/* sys.modules["__main__"] (borrowed), or NULL. */
static PyObject *main_module(void)
{
    PyObject *modules = PySys_GetObject("modules");
    return modules ? PyDict_GetItemString(modules, "__main__") : NULL;
}

/* Takes __main__.__requires__ away (a new reference, or NULL): while
   pkg_resources loads, it would resolve it before kiln's adapters are in. */
static PyObject *take_main_requires(void)
{
    PyObject *main = main_module();
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
    PyObject *main = main_module(), *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    if (main && PyObject_SetAttrString(main, "__requires__", requires) < 0)
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

/* exec_module() of the packed module packed (NULL: the name in the
   module's spec). */
static PyObject *exec_module(PyObject *module, PyObject *packed)
{
    PyObject *spec, *fullname = NULL, *code = NULL, *res = NULL, *requires;
    int pkg_resources;
    kp_entry e;

    spec = PyObject_GetAttrString(module, "__spec__");
    if (!spec)
        return NULL;
    fullname = spec_name(spec);
    Py_DECREF(spec);
    if (fullname && !packed)
        packed = fullname;
    if (!fullname || lookup_required(packed, &e) < 0)
        goto done;
    if (e.flags & KP_MOD_EXTENSION) {
        res = PyObject_CallOneArg(kst.exec_dynamic, module);
        Py_XSETREF(res, res ? Py_NewRef(Py_None) : NULL);
        if (res && kiln_children_after_exec(fullname, module) < 0)
            Py_CLEAR(res);
        goto done;
    }
    code = load_code(packed, &e);
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
    res = exec_code(code, PyModule_GetDict(module));
    Py_XSETREF(res, res ? Py_NewRef(Py_None) : NULL);
    if (requires) {
        give_main_requires(requires);
        Py_DECREF(requires);
    }
    if (res)
        wrap_updatecache(fullname, module);
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
    (void)self;
    return exec_module(module, NULL);
}

static PyObject *Importer_get_code(PyObject *self, PyObject *fullname)
{
    kp_entry e;
    (void)self;
    if (lookup_required(fullname, &e) < 0)
        return NULL;
    return load_code(fullname, &e);
}

static PyObject *Importer_get_source(PyObject *self, PyObject *fullname)
{
    PyObject *external, *bytes, *res;
    const uint8_t *src;
    kp_entry e;

    (void)self;
    if (lookup_required(fullname, &e) < 0)
        return NULL;
    if (!(e.flags & KP_MOD_SOURCE))
        Py_RETURN_NONE;
    src = checked_blob(fullname, &e.b, "source");
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
    kp_entry e;
    (void)self;
    if (lookup_required(fullname, &e) < 0)
        return NULL;
    return PyBool_FromLong((e.flags & (KP_MOD_PACKAGE | KP_MOD_NAMESPACE)) !=
                           0);
}

static PyObject *Importer_get_filename(PyObject *self, PyObject *fullname)
{
    kp_entry e;
    (void)self;
    if (lookup_required(fullname, &e) < 0)
        return NULL;
    if (e.flags & KP_MOD_NAMESPACE)
        return PyErr_Format(PyExc_ImportError, "kiln: namespace package %R "
                            "has no file", fullname);
    return module_origin(&e);
}

/* The packed path of a virtual path, or of a path in an extracted
   package's folder, as packed_rel(); NULL when it is neither. */
static PyObject *data_rel(PyObject *path)
{
    PyObject *rel = packed_rel(path), *top, *base;
    Py_ssize_t pos = 0;

    while (!rel && !PyErr_Occurred() &&
           PyDict_Next(kst.extracted, &pos, &top, &base))
        rel = rel_under(path, base);
    return rel;
}

static PyObject *Importer_get_data(PyObject *self, PyObject *path)
{
    PyObject *rel;
    const uint8_t *bytes;
    long i;
    kp_entry e;

    (void)self;
    path = PyOS_FSPath(path);
    if (path && PyBytes_Check(path))
        Py_SETREF(path, PyUnicode_DecodeFSDefaultAndSize(
                            PyBytes_AS_STRING(path), PyBytes_GET_SIZE(path)));
    if (!path)
        return NULL;
    rel = data_rel(path);
    if (!rel && PyErr_Occurred())
        goto error;
    i = rel ? kp_find_file(kst.pack, PyBytes_AS_STRING(rel),
                           (size_t)PyBytes_GET_SIZE(rel))
            : -1;
    Py_XDECREF(rel);
    if (i < 0) {
        PyErr_Format(PyExc_FileNotFoundError, "[Errno %d] No such file in "
                     "kiln executable: %R", ENOENT, path);
        goto error;
    }
    kp_file_at(kst.pack, (uint32_t)i, &e);
    bytes = checked_blob(path, &e.a, "data");
    if (!bytes)
        goto error;
    Py_DECREF(path);
    return PyBytes_FromStringAndSize((const char *)bytes, e.a.size);
error:
    Py_DECREF(path);
    return NULL;
}

/* ---- the Python half: resources and metadata --------------------------- */

/* This interpreter's kiln_support module (borrowed, from its sys.modules:
   each subinterpreter has its own), compiled from the source built into
   the launcher the first time a program asks for resources or metadata. */
static PyObject *support_module(void)
{
    PyObject *code, *module, *res = NULL, *modules = PySys_GetObject("modules");

    if (!modules) {
        PyErr_SetString(PyExc_RuntimeError, "kiln: sys.modules is gone");
        return NULL;
    }
    module = PyDict_GetItemString(modules, "_kiln_support");
    if (module)
        return module;
    code = Py_CompileString(kiln_support_py, "<kiln_support>", Py_file_input);
    module = code ? PyModule_New("_kiln_support") : NULL;
    res = module ? exec_code(code, PyModule_GetDict(module)) : NULL;
    if (!res || PyDict_SetItemString(modules, "_kiln_support", module) < 0) {
        Py_CLEAR(module);
    } else {
        Py_DECREF(module); /* sys.modules keeps it */
    }
    Py_XDECREF(res);
    Py_XDECREF(code);
    return module;
}

static PyObject *call_support(const char *function, PyObject *arg)
{
    PyObject *support = support_module();
    return support ? PyObject_CallMethod(support, function, "O", arg) : NULL;
}

static PyObject *Importer_get_resource_reader(PyObject *self,
                                              PyObject *fullname)
{
    kp_entry e;
    (void)self;
    if (lookup_required(fullname, &e) < 0)
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
    finder = import_attr("importlib.metadata", "DistributionFinder");
    context = finder ? PyObject_CallMethod(finder, "Context", NULL) : NULL;
    res = context ? call_support("find_distributions", context) : NULL;
    Py_XDECREF(finder);
    Py_XDECREF(context);
    return res;
}

/* invalidate_caches() of the importer and of path entries. */
static PyObject *Importer_invalidate_caches(PyObject *self,
                                            PyObject *Py_UNUSED(ignored))
{
    (void)self;
    Py_RETURN_NONE;
}

static PyObject *Importer_repr(PyObject *self)
{
    (void)self;
    return PyUnicode_FromFormat("<kiln importer for %U (%u modules, %u "
                                "files)>", kst.exe, kst.pack->module_count,
                                kst.pack->file_count);
}

static PyMethodDef Importer_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))Importer_find_spec,
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
    {"invalidate_caches", Importer_invalidate_caches, METH_NOARGS,
     "Nothing to invalidate: the payload never changes."},
    {"get_resource_reader", Importer_get_resource_reader, METH_O,
     "importlib.resources reader over a package's packed files."},
    {"find_distributions",
     (PyCFunction)(void (*)(void))Importer_find_distributions,
     METH_VARARGS | METH_KEYWORDS,
     "importlib.metadata distributions packed in the executable."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ImporterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_kiln.Importer",
    .tp_basicsize = sizeof(ImporterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finds and loads modules packed in this executable.",
    .tp_methods = Importer_methods,
    .tp_repr = Importer_repr,
    .tp_new = PyType_GenericNew,
};

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

/* The type, made ready when first used: at start-up that would cost as
   much as a dozen imports. */
static PyTypeObject *loader_type(void)
{
    return PyType_Ready(&LoaderType) == 0 ? &LoaderType : NULL;
}

static PyObject *new_loader(PyObject *packed)
{
    PyTypeObject *type = loader_type();
    LoaderObject *lo = type ? PyObject_New(LoaderObject, type) : NULL;

    if (lo)
        lo->name = Py_NewRef(packed);
    return (PyObject *)lo;
}

static PyObject *loader_name(PyObject *self)
{
    return ((LoaderObject *)self)->name;
}

static PyObject *Loader_create_module(PyObject *self, PyObject *spec)
{
    return create_module(self, spec, loader_name(self));
}

static PyObject *Loader_exec_module(PyObject *self, PyObject *module)
{
    return exec_module(module, loader_name(self));
}

/* The methods that take a module name answer for the packed module, as a
   file loader answers for its file. */
#define LOADER_BY_NAME(method)                                           \
    static PyObject *Loader_##method(PyObject *self, PyObject *fullname) \
    {                                                                    \
        (void)fullname;                                                  \
        return Importer_##method(kst.importer, loader_name(self));       \
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
                                kst.exe);
}

static void Loader_dealloc(PyObject *self)
{
    Py_XDECREF(loader_name(self));
    Py_TYPE(self)->tp_free(self);
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

static PyTypeObject LoaderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_kiln.Loader",
    .tp_basicsize = sizeof(LoaderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Loads one packed module imported under another name.",
    .tp_methods = Loader_methods,
    .tp_members = Loader_members,
    .tp_repr = Loader_repr,
    .tp_dealloc = Loader_dealloc,
};

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
    PyObject *name = fs_str(rest, slash ? slash - rest : (Py_ssize_t)len);
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
    const kp_pack *p = kst.pack;
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

/* 1 for a packed file, 2 for a packed folder, 0 for neither. */
static int packed_kind(const char *rel, Py_ssize_t len)
{
    char prefix[4096];

    if (kp_find_file(kst.pack, rel, (size_t)len) >= 0)
        return 1;
    if (len == 0)
        return 2;
    if (folder_prefix(rel, len, prefix, sizeof prefix) < 0)
        return 0;
    return walk_folder(prefix, (size_t)len + 1, NULL, NULL) > 0 ? 2 : 0;
}

static PyObject *os_error(int code, const char *rel, Py_ssize_t len)
{
    PyObject *path = virtual_path(rel, len);
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

/* _kiln.kind(rel): 1 file, 2 folder, 0 nothing, for a packed path. */
static PyObject *kiln_kind(PyObject *mod, PyObject *arg)
{
    PyObject *rel = fs_bytes(arg), *res;

    (void)mod;
    if (!rel)
        return NULL;
    res = PyLong_FromLong(
        packed_kind(PyBytes_AS_STRING(rel), PyBytes_GET_SIZE(rel)));
    Py_DECREF(rel);
    return res;
}

/* _kiln.listdir(rel) -> (files, folders): sorted names of the children. */
static PyObject *kiln_listdir(PyObject *mod, PyObject *arg)
{
    PyObject *relb = fs_bytes(arg), *files = NULL, *dirs = NULL, *res = NULL,
             *lf = NULL, *ld = NULL;
    const char *rel = relb ? PyBytes_AS_STRING(relb) : NULL;
    Py_ssize_t len = relb ? PyBytes_GET_SIZE(relb) : 0;
    char prefix[4096];
    int found;

    (void)mod;
    if (!rel)
        return NULL;
    if (folder_prefix(rel, len, prefix, sizeof prefix) < 0) {
        os_error(ENAMETOOLONG, rel, len);
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
        os_error(packed_kind(rel, len) == 1 ? ENOTDIR : ENOENT, rel, len);
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
static PyObject *kiln_read(PyObject *mod, PyObject *arg)
{
    PyObject *relb = fs_bytes(arg), *res = NULL;
    const char *rel = relb ? PyBytes_AS_STRING(relb) : NULL;
    Py_ssize_t len = relb ? PyBytes_GET_SIZE(relb) : 0;
    const uint8_t *bytes;
    long i;
    kp_entry e;

    (void)mod;
    if (!rel)
        return NULL;
    i = kp_find_file(kst.pack, rel, (size_t)len);
    if (i < 0) {
        os_error(packed_kind(rel, len) == 2 ? EISDIR : ENOENT, rel, len);
    } else {
        kp_file_at(kst.pack, (uint32_t)i, &e);
        bytes = checked_blob(arg, &e.a, "data");
        res = bytes ? PyBytes_FromStringAndSize((const char *)bytes,
                                                e.a.size)
                    : NULL;
    }
    Py_DECREF(relb);
    return res;
}

/* _kiln.locate(fullname) -> (flags, packed path, base folder). */
static PyObject *kiln_locate(PyObject *mod, PyObject *fullname)
{
    PyObject *path, *base, *res;
    kp_entry e;

    (void)mod;
    if (lookup_required(fullname, &e) < 0)
        return NULL;
    path = fs_str(e.path, e.path_len);
    base = path ? entry_base(&e) : NULL;
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
    found = packed ? lookup(packed, &e) : -1;
    if (found <= 0 || !in_folder(pe, &e)) {
        res = found < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    if (e.flags & KP_MOD_NAMESPACE) /* a portion, for PathFinder to join */
        loader = Py_NewRef(Py_None);
    else if (packed == fullname)
        loader = Py_NewRef(kst.importer);
    else
        loader = new_loader(packed);
    res = loader ? make_spec(loader, fullname, &e, NULL) : NULL;
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
    for (uint32_t i = 0; i < kst.pack->module_count; i++) {
        const char *dot;
        kp_module_at(kst.pack, i, &e);
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

static void PathEntry_dealloc(PyObject *self)
{
    Py_XDECREF(((PathEntryObject *)self)->path);
    Py_XDECREF(((PathEntryObject *)self)->folder);
    Py_XDECREF(((PathEntryObject *)self)->prefix);
    Py_TYPE(self)->tp_free(self);
}

static PyMethodDef PathEntry_methods[] = {
    {"find_spec", (PyCFunction)(void (*)(void))PathEntry_find_spec,
     METH_VARARGS | METH_KEYWORDS,
     "Find the spec of a module packed right in this folder."},
    {"iter_modules", PathEntry_iter_modules, METH_VARARGS,
     "The modules packed right in this folder, for pkgutil."},
    {"invalidate_caches", Importer_invalidate_caches, METH_NOARGS,
     "Nothing to invalidate: the payload never changes."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef PathEntry_members[] = {
    {"path", T_OBJECT, offsetof(PathEntryObject, path), READONLY,
     "The sys.path entry."},
    {NULL, 0, 0, 0, NULL}};

static PyTypeObject PathEntryType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_kiln.PathEntry",
    .tp_basicsize = sizeof(PathEntryObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finds the modules packed in one folder of the executable.",
    .tp_methods = PathEntry_methods,
    .tp_members = PathEntry_members,
    .tp_repr = PathEntry_repr,
    .tp_dealloc = PathEntry_dealloc,
};

/* ---- module _kiln ----------------------------------------------------- */

/* Set by CPython when a KeyboardInterrupt ends the main program: then
   Py_RunMain() exits by SIGINT. Any exec() of a string clears it (3.11's
   run_eval_code_obj()), and importing traceback runs some. */
#if PY_VERSION_HEX < 0x030C0000
extern int _Py_UnhandledKeyboardInterrupt;
static int *unhandled_sigint = &_Py_UnhandledKeyboardInterrupt;
#else
static int *unhandled_sigint = NULL;
#endif

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

/* 3.11's C printer adds ". Did you mean: 'x'?" to NameErrors and
   AttributeErrors (Python/suggestions.c); the traceback module does not. */
extern PyObject *_Py_Offer_Suggestions(PyObject *exception);

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

/* Adds those suggestions to te, a traceback.TracebackException of exc, and
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
    suggestion = _Py_Offer_Suggestions(exc);
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
        res = PyObject_CallMethod(te, "print", NULL);
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
static int reaches_packed(PyObject *exc, PyObject *tb, PyObject *seen)
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
        PyObject *rel = data_rel(code->co_filename);
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
                rc = reaches_packed(PyTuple_GET_ITEM(sub, j), NULL, seen);
        else
            rc = reaches_packed(sub, NULL, seen);
        Py_XDECREF(sub);
    }
    return rc;
}

/* sys.excepthook: the C traceback printer reads sources from disk, so
   a traceback through a packed module goes through the traceback module,
   which asks the loader; any other, python3's printer prints. */
static PyObject *kiln_excepthook(PyObject *mod, PyObject *const *args,
                                 Py_ssize_t nargs)
{
    PyObject *traceback, *limit, *res = NULL, *fallback, *seen;
    int sigint, packed;

    (void)mod;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "excepthook takes 3 arguments");
        return NULL;
    }
    seen = PySet_New(NULL);
    packed = seen ? reaches_packed(args[1], args[2], seen) : -1;
    Py_XDECREF(seen);
    if (packed == 0 && kst.c_excepthook)
        return PyObject_Vectorcall(kst.c_excepthook, args, 3, NULL);
    PyErr_Clear();
    sigint = unhandled_sigint ? *unhandled_sigint : 0;
    traceback = PyImport_ImportModule("traceback");
    limit = traceback ? traceback_limit() : NULL;
    if (limit)
        res = print_exception(traceback, args[1], args[2], limit);
    Py_XDECREF(limit);
    Py_XDECREF(traceback);
    if (unhandled_sigint)
        *unhandled_sigint = sigint;
    if (res)
        return res;
    PyErr_Clear();
    fallback = kst.c_excepthook;
    if (!fallback)
        Py_RETURN_NONE;
    return PyObject_Vectorcall(fallback, args, 3, NULL);
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

/* sys.path_hooks entry: a PathEntry for <exe>, the folders in it, and the
   folders of extracted packages (served from memory too). */
static PyObject *kiln_path_hook(PyObject *mod, PyObject *path)
{
    PyObject *rel = NULL, *prefix = NULL;
    PathEntryObject *pe = NULL;

    (void)mod;
    if (PyUnicode_Check(path) && kst.exe) {
        rel = PyUnicode_Compare(path, kst.exe) == 0
                  ? PyBytes_FromStringAndSize("", 0)
                  : data_rel(path);
        if (rel && packed_kind(PyBytes_AS_STRING(rel),
                               PyBytes_GET_SIZE(rel)) != 2)
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
    pe = prefix ? PyObject_New(PathEntryObject, &PathEntryType) : NULL;
    if (!pe) {
        Py_DECREF(rel);
        Py_XDECREF(prefix);
        return NULL;
    }
    pe->path = Py_NewRef(path);
    pe->folder = rel;
    pe->prefix = prefix;
    return (PyObject *)pe;
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
    (void)mod;
    if (PyUnicode_Check(name) &&
        PyUnicode_CompareWithASCIIString(name, "Loader") == 0)
        return Py_XNewRef((PyObject *)loader_type());
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

static PyObject *PyInit__kiln(void)
{
    PyObject *m;

    if (PyType_Ready(&ImporterType) < 0 || PyType_Ready(&PathEntryType) < 0)
        return NULL;
    m = PyModule_Create(&kiln_module);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Importer", (PyObject *)&ImporterType) < 0 ||
        PyModule_AddObjectRef(m, "PathEntry", (PyObject *)&PathEntryType) <
            0 ||
        (kst.exe && PyModule_AddObjectRef(m, "exe", kst.exe) < 0)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

int kiln_importer_register(void)
{
    return PyImport_AppendInittab("_kiln", PyInit__kiln);
}

/* module.attr; a module already in sys.modules is taken from there
   (PyImport_ImportModule() costs some 10,000 instructions even then). */
static PyObject *import_attr(const char *module, const char *attr)
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
    kst.cached_suffix = kst.optimize
                            ? PyUnicode_FromFormat(".%U.opt-%ld.pyc", tag,
                                                   kst.optimize)
                            : PyUnicode_FromFormat(".%U.pyc", tag);
    Py_DECREF(tag);
    return kst.cached_suffix ? 0 : -1;
}

/* The frozen modules this interpreter really has: none when started with
   -X frozen_modules=off; 3.10 has no list. */
static PyObject *usable_frozen_names(void)
{
    const PyConfig *config =
        _PyInterpreterState_GetConfig(PyInterpreterState_Get());
    PyObject *imp, *names;

    if (!config->use_frozen_modules)
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

    kst.pack = pack;
    kst.exe = PyUnicode_DecodeFSDefault(exe);
    /* Made directly rather than imported: importlib's Python path for a
       built-in module costs more than the rest of the set-up together. */
    module = kst.exe ? PyInit__kiln() : NULL;
    if (!module || !PySys_GetObject("modules") ||
        PyDict_SetItemString(PySys_GetObject("modules"), "_kiln", module) < 0)
        goto error;
    kst.importer = PyObject_CallNoArgs((PyObject *)&ImporterType);
    kst.module_spec = import_attr("_frozen_importlib", "ModuleSpec");
    kst.fix_co_filename = import_attr("_imp", "_fix_co_filename");
    kst.create_dynamic = import_attr("_imp", "create_dynamic");
    kst.exec_dynamic = import_attr("_imp", "exec_dynamic");
    kst.frozen = usable_frozen_names();
    kst.get_frozen_object = import_attr("_imp", "get_frozen_object");
    kst.extracted = PyDict_New();
    if (!kst.importer || !kst.module_spec || !kst.fix_co_filename ||
        !kst.create_dynamic || !kst.exec_dynamic || !kst.frozen ||
        !kst.get_frozen_object || !kst.extracted ||
        Py_AtExit(kiln_extract_cleanup) < 0)
        goto error;
    flags = PySys_GetObject("flags");
    opt = flags ? PyObject_GetAttrString(flags, "optimize") : NULL;
    if (!opt)
        goto error;
    kst.optimize = PyLong_AsLong(opt);
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
        kst.disk_stdlib = disk_stdlib ? strdup(disk_stdlib) : NULL;
        frozen_importer = import_attr("_frozen_importlib", "FrozenImporter");
        if (!frozen_importer)
            goto error;
        at = meta_path_index(meta_path, frozen_importer) + 1;
        Py_DECREF(frozen_importer);
    }
    if (PyList_Insert(meta_path, at, kst.importer) < 0)
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

    if (lookup(name, &e) != 1 || !(e.flags & KP_MOD_EXTRACT))
        return;
    file = module_origin(&e);
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

    dir = kst.pack->flags & KP_STDLIB_FILES ? extracted_base("", 0)
                                            : Py_NewRef(kst.exe);
    rc = dir ? PySys_SetObject("_stdlib_dir", dir) : -1;
    Py_XDECREF(dir);
    if (rc < 0)
        return -1;
    rc = -1;
    resolve = import_attr("_frozen_importlib", "FrozenImporter");
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
        if (res && !(kst.pack->flags & KP_STDLIB_FILES))
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
    return PyList_Insert(path, 0, kst.exe);
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
            "--package NAME)", name, name, kst.exe);
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
    at = hermetic ? -1 : meta_path_index(meta_path, kst.importer);
    if (at >= 0 && PySequence_DelItem(meta_path, at) < 0)
        return -1;
    hook = import_attr("_kiln", "path_hook");
    if (!hook || PyList_Insert(hooks, 0, hook) < 0) {
        Py_XDECREF(hook);
        return -1;
    }
    kst.path_hook = hook; /* for subinterpreters */
    /* <exe>'s finder is in the cache from the start: PathFinder asks no
       other hook (zipimport would read the executable). */
    PyDict_Clear(cache);
    entry = kiln_path_hook(NULL, kst.exe);
    rc = entry ? PyDict_SetItem(cache, kst.exe, entry) : -1;
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
        PyInterpreterState_Get() == kst.main_interp)
        return 0;
    if (ensure_in("path_hooks", kst.path_hook) < 0)
        return -1;
    return kst.hermetic ? ensure_in("meta_path", kst.importer) : 0;
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
    kst.main_interp = PyInterpreterState_Get();
    kst.hermetic = hermetic;
    if (PySys_AddAuditHook(kiln_audit, NULL) < 0)
        return -1;
    /* kiln's hook is the default one, sys.__excepthook__ too: code.py and
       others print tracebacks themselves only when sys.excepthook is
       sys.__excepthook__. */
    kst.c_excepthook = PySys_GetObject("__excepthook__");
    Py_XINCREF(kst.c_excepthook);
    hook = import_attr("_kiln", "excepthook");
    if (!hook)
        return -1;
    rc = PySys_SetObject("excepthook", hook);
    if (rc == 0)
        rc = PySys_SetObject("__excepthook__", hook);
    Py_DECREF(hook);
    return rc;
}

/* ---- running the app -------------------------------------------------- */

static PyObject *run_script(const kp_pack *pack)
{
    PyObject *fullname, *main, *globals, *code = NULL, *file = NULL,
                                          *res = NULL;
    kp_entry e;

    fullname = PyUnicode_FromString(pack->main_name);
    if (!fullname)
        goto done;
    if (ke_main_entry(pack, &e) < 0) { /* kp_open() checked: never */
        PyErr_Format(PyExc_ImportError, "kiln: the script %R is not "
                     "packed in %U", fullname, kst.exe);
        goto done;
    }
    main = PyImport_AddModule("__main__");
    if (!main)
        goto done;
    globals = PyModule_GetDict(main);
    file = module_origin(&e);
    code = file ? load_code(fullname, &e) : NULL;
    if (code == Py_None) { /* kp_open() checked: never */
        PyErr_Format(PyExc_ImportError, "kiln: the script %R in %U has "
                     "neither bytecode nor source", fullname, kst.exe);
        Py_CLEAR(code);
    }
    if (!code)
        goto done;
    if (PyDict_SetItemString(globals, "__file__", file) < 0 ||
        PyDict_SetItemString(globals, "__cached__", Py_None) < 0 ||
        PyDict_SetItemString(globals, "__loader__", kst.importer) < 0)
        goto done;
    res = exec_code(code, globals);
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
    PyObject *old = main_module();
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
    PyObject *res;

    if ((pack->flags & KP_GC_FREEZE) && freeze_startup_objects() < 0)
        return kiln_exit_status(NULL);

    switch (pack->flags & KP_RUN_MASK) {
    case KP_RUN_SCRIPT:
        res = run_script(pack);
        break;
    case KP_RUN_MODULE:
        res = run_module(pack);
        break;
    default:
        PyErr_Format(PyExc_RuntimeError, "kiln: unknown run mode %u in %U",
                     pack->flags & KP_RUN_MASK, kst.exe);
        res = NULL;
    }
    return kiln_exit_status(res);
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
            name = PyUnicode_FromString(kst.pack->main_name);
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
        if (lookup(name, e) > 0 && e->path_len == (uint32_t)len &&
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
    PyObject *rel = packed_rel(path), *name = NULL, *res = NULL;
    const uint8_t *bytes;
    const char *s;
    Py_ssize_t len;
    long i;
    kp_entry e;

    if (!rel || !kst.pack)
        goto done;
    s = PyBytes_AS_STRING(rel);
    len = PyBytes_GET_SIZE(rel);
    i = kp_find_file(kst.pack, s, (size_t)len);
    if (i >= 0) {
        kp_file_at(kst.pack, (uint32_t)i, &e);
        bytes = checked_blob(path, &e.a, "data");
        if (bytes)
            res = PyBytes_FromStringAndSize((const char *)bytes, e.a.size);
        goto done;
    }
    name = module_at_path(s, len, &e);
    if (name && (e.flags & KP_MOD_CODE))
        res = load_code(name, &e);
done:
    Py_XDECREF(name);
    Py_XDECREF(rel);
    return res;
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
