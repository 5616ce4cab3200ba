/*
 * extload.c - extension modules from memory: each is written to a memfd and
 * loaded from /proc/self/fd/N, after the bundled libraries it needs, which
 * are loaded the same way, once per process.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "extload.h"
#include "fdio.h"
#include "importer_internal.h"
#include "locks.h"

/* A memfd holding bytes, as /proc/self/fd/N in fdpath; -1 with why. The
   memfd is named after the file, which shows in /proc/PID/maps. */
static int memfd_with(const char *name, const uint8_t *bytes, size_t len,
                      char *fdpath, size_t fdpath_len, char *why,
                      size_t whylen)
{
    char shown[200]; /* memfd names are limited to 249 bytes */
    int fd;

    snprintf(shown, sizeof shown, "%s", name);
    fd = memfd_create(shown, MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "memfd_create: %s", strerror(errno));
        return -1;
    }
    if (fd_write_full(fd, bytes, len) != 0) {
        snprintf(why, whylen, "writing %s to memory: %s", name,
                 strerror(errno));
        close(fd);
        return -1;
    }
    snprintf(fdpath, fdpath_len, "/proc/self/fd/%d", fd);
    /* Without /proc, dlopen() would report a library it cannot find. */
    if (access(fdpath, F_OK) != 0) {
        if (errno == ENOENT)
            snprintf(why, whylen, "/proc/self/fd is missing (/proc is not "
                     "mounted), and kiln loads extension modules from "
                     "memory through it: mount /proc (mount -t proc proc "
                     "/proc), or run the executable where it is mounted");
        else
            snprintf(why, whylen, "%s: %s; kiln loads extension modules "
                     "from memory through /proc/self/fd", fdpath,
                     strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The ImportError of a module that cannot load, for why (as written by
   the functions below); MemoryError for an empty why. */
static void load_failed(PyObject *fullname, const char *why)
{
    if (why[0])
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: %s", fullname, why);
    else
        PyErr_NoMemory();
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

/* What the process has loaded, for every interpreter: the memfds of
   extension modules, by packed name, and the packed paths of bundled
   libraries. Guarded by KILN_LOCK_EXTLOAD, and so is everything that
   changes them, which is C only (locks.h). */
static struct loaded {
    char *name;
    size_t len;
    int fd;
} *exts, *libs;
static size_t n_exts, n_libs;

/* The entry of name[0:len] in list, or NULL. */
static struct loaded *find_loaded(struct loaded *list, size_t n,
                                  const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == len && memcmp(list[i].name, name, len) == 0)
            return &list[i];
    return NULL;
}

/* Adds name[0:len] and fd to *list; -1 with an empty why when out of
   memory. */
static int add_loaded(struct loaded **list, size_t *n, const char *name,
                      size_t len, int fd, char *why)
{
    struct loaded *grown = realloc(*list, (*n + 1) * sizeof **list);
    char *copy = grown ? malloc(len + 1) : NULL;

    if (grown)
        *list = grown;
    if (!copy) {
        why[0] = '\0';
        return -1;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    grown[(*n)++] = (struct loaded){copy, len, fd};
    return 0;
}

/* Has the process loaded the bundled library rel[0:len]? */
static int library_loaded(const char *rel, size_t len)
{
    int loaded;

    kiln_lock(KILN_LOCK_EXTLOAD);
    loaded = find_loaded(libs, n_libs, rel, len) != NULL;
    kiln_unlock(KILN_LOCK_EXTLOAD);
    return loaded;
}

/* Loads the bundled library rel[0:len], whose bytes are checked, from
   memory, unless the process has loaded it: 0, or -1 with why. RTLD_LOCAL
   is enough: the dynamic loader matches a DT_NEEDED name against the
   DT_SONAME of every object already loaded, local ones included, and an
   object's own dependencies are in its symbol lookup scope. RTLD_GLOBAL
   would instead let two packages' bundled copies of one library clash.
   RTLD_NOW reports a missing symbol here, naming the library, rather than
   at some later call. */
static int load_library(const char *rel, size_t len, const uint8_t *bytes,
                        size_t size, char *why, size_t whylen)
{
    char fdpath[64], name[4096], shown[KP_SHOWN];
    const char *base, *reason;
    int fd, rc = -1;

    snprintf(name, sizeof name, "%.*s",
             (int)(len < sizeof name ? len : sizeof name - 1), rel);
    base = strrchr(name, '/');
    kiln_lock(KILN_LOCK_EXTLOAD);
    if (find_loaded(libs, n_libs, rel, len)) {
        rc = 0; /* by another interpreter meanwhile */
        goto done;
    }
    fd = memfd_with(base ? base + 1 : name, bytes, size, fdpath,
                    sizeof fdpath, why, whylen);
    if (fd < 0)
        goto done;
    /* The fd stays open, as for extension modules (below). */
    if (!dlopen(fdpath, RTLD_NOW | RTLD_LOCAL)) {
        reason = load_reason(dlerror(), fdpath);
        kp_escape(rel, len, shown, sizeof shown);
        snprintf(why, whylen, "its bundled library %s fails to load: %s%s",
                 shown, reason, load_hint(reason));
        close(fd);
        goto done;
    }
    rc = add_loaded(&libs, &n_libs, rel, len, -1, why);
done:
    kiln_unlock(KILN_LOCK_EXTLOAD);
    return rc;
}

/* Loads one bundled library from memory, for fullname. */
static int preload_library(kiln_state *st, PyObject *fullname, const char *rel,
                           size_t len)
{
    char why[4096 + KP_SHOWN], shown[KP_SHOWN];
    long i = kp_find_file(kiln_proc.pack, rel, len);
    const uint8_t *bytes;
    kp_entry f;

    if (i < 0) {
        kp_escape(rel, len, shown, sizeof shown);
        PyErr_Format(PyExc_ImportError, "kiln: cannot load extension module "
                     "%R: its library %s is not packed in %U; rebuild the "
                     "executable", fullname, shown, st->exe);
        return -1;
    }
    kp_file_at(kiln_proc.pack, (uint32_t)i, &f);
    bytes = kiln_checked_blob(st, fullname, &f.a, "bundled library");
    if (!bytes)
        return -1;
    if (load_library(rel, len, bytes, f.a.size, why, sizeof why) < 0) {
        load_failed(fullname, why);
        return -1;
    }
    return 0;
}

/* Loads the bundled libraries an extension module needs: blob b lists
   their packed paths, dependencies first, joined by '\n'. Each is loaded
   once per process. */
static int preload_libraries(kiln_state *st, PyObject *fullname,
                             const kp_entry *e)
{
    const char *list, *end;
    size_t len;

    if (e->b.size == 0)
        return 0;
    list =
        (const char *)kiln_checked_blob(st, fullname, &e->b, "library list");
    if (!list)
        return -1;
    end = list + e->b.size;
    for (const char *pos = list, *p; (p = ke_preload_next(&pos, end, &len));)
        if (!library_loaded(p, len) &&
            preload_library(st, fullname, p, len) < 0)
            return -1;
    return 0;
}

/* The memfd of the extension module packed as name, written from image
   the first time: a module loaded before (by another interpreter, say) is
   loaded again from the same memfd, so that dlopen() hands back the same
   library, with its static state, as for a .so file under python3. -1
   with why. */
static int extension_fd(const char *name, const uint8_t *image, size_t size,
                        char *why, size_t whylen)
{
    struct loaded *ext;
    char fdpath[64];
    int fd;

    kiln_lock(KILN_LOCK_EXTLOAD);
    ext = find_loaded(exts, n_exts, name, strlen(name));
    if (ext) {
        fd = ext->fd;
    } else {
        fd = memfd_with(name, image, size, fdpath, sizeof fdpath, why,
                        whylen);
        if (fd >= 0 &&
            add_loaded(&exts, &n_exts, name, strlen(name), fd, why) < 0) {
            close(fd);
            fd = -1;
        }
    }
    kiln_unlock(KILN_LOCK_EXTLOAD);
    return fd;
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
static void explain_load_error(kiln_state *st, PyObject *fullname,
                               const kp_entry *e, const char *fdpath)
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
    path = why ? kiln_module_origin(st, e) : NULL;
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
PyObject *kiln_load_extension(kiln_state *st, PyObject *self,
                              PyObject *fullname, PyObject *packed,
                              const kp_entry *e)
{
    const uint8_t *image =
        kiln_checked_blob(st, fullname, &e->a, "extension module");
    const char *name = PyUnicode_AsUTF8(packed);
    PyObject *spec = NULL, *module = NULL, *origin = NULL, *kwargs = NULL;
    char fdpath[64], why[1024];
    int fd;

    if (!image || !name || preload_libraries(st, fullname, e) < 0)
        return NULL;
    fd = extension_fd(name, image, e->a.size, why, sizeof why);
    if (fd < 0) {
        load_failed(fullname, why);
        return NULL;
    }
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    /* The fd stays open, even on failure: glibc matches dlopen() names, and
       a reused fd number would hand back the library loaded through it
       (which stays loaded when its PyInit fails). */
    origin = PyUnicode_FromString(fdpath);
    kwargs = origin ? Py_BuildValue("{s:O}", "origin", origin) : NULL;
    if (!kwargs)
        goto error;
    spec = PyObject_VectorcallDict(st->module_spec,
                                   (PyObject *[]){fullname, self}, 2, kwargs);
    if (!spec)
        goto error;
    module = PyObject_CallOneArg(st->create_dynamic, spec);
    if (!module) {
        explain_load_error(st, fullname, e, fdpath);
        goto error;
    }
    if (PyModule_Check(module)) {
        PyObject *file = kiln_module_origin(st, e);
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
