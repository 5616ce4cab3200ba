/*
 * children.c - the parent side of a kiln app's children. Every child that
 * the app starts with its own executable gets a proof that the app started
 * it (childproof.c), named by --kiln-child-proof=FD right after argv[0], so
 * that it runs as the app's child (child.c) rather than as the app with
 * those arguments. The functions that start programs are wrapped, in C,
 * where the app imports them, so nothing is done or compiled before:
 *   _posixsubprocess.fork_exec    subprocess, multiprocessing
 *   os.posix_spawn, posix_spawnp  subprocess with close_fds=False
 *   os.execv, os.execve           the app executing itself in place, and
 *                                 os.execl*, os.execvp*, os.spawnv*, which
 *                                 call them
 * A wrapper adds the proof only when the file that the call runs is the one
 * this process runs; any other call goes through untouched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "childproof.h"
#include "children.h"

static struct {
    const kp_pack *pack; /* NULL: nothing is wrapped */
    char exe[PATH_MAX];
    int known; /* 1: self is the running file; -1: no /proc */
    struct stat self;
} ch;
/* ch.known and ch.self, found once by whichever interpreter first asks. */
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

/* What a call runs: another program, this very file, or the file at the
   app's path that is not the running one (replaced since, or no /proc to
   tell): a child started from it cannot prove that the app started it. */
enum { OTHER, SELF, UNPROVABLE };

void kiln_children_init(const kp_pack *pack, const char *exe)
{
    ch.pack = (pack->flags & KP_RUN_MASK) == KP_RUN_INTERPRETER ? NULL : pack;
    snprintf(ch.exe, sizeof ch.exe, "%s", exe);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void find_self(void)
{
    ch.known = stat("/proc/self/exe", &ch.self) == 0 ? 1 : -1;
}

static int which_file(const char *path)
{
    struct stat st, app;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return OTHER;
    pthread_once(&self_once, find_self);
    if (ch.known > 0 && same_file(&st, &ch.self))
        return SELF;
    return stat(ch.exe, &app) == 0 && same_file(&st, &app) ? UNPROVABLE
                                                            : OTHER;
}

/* which_file() of a path object (str, bytes, os.PathLike); OTHER for what
   is none of those, which the wrapped function refuses itself. */
static int which_path(PyObject *path)
{
    PyObject *bytes = NULL;
    int which;

    if (!PyUnicode_FSConverter(path, &bytes)) {
        PyErr_Clear();
        return OTHER;
    }
    which = which_file(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    return which;
}

/* The first of fork_exec's candidates (a PATH search) that the child can
   execute, as it tries them in turn. */
static int which_candidate(PyObject *candidates)
{
    PyObject *seq = PySequence_Fast(candidates, ""), *bytes;
    int which = OTHER;

    if (!seq) {
        PyErr_Clear();
        return OTHER;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *path;

        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, i),
                                   &bytes)) {
            PyErr_Clear();
            break;
        }
        path = PyBytes_AS_STRING(bytes);
        if (access(path, X_OK) == 0) {
            which = which_file(path);
            Py_DECREF(bytes);
            break;
        }
        Py_DECREF(bytes);
    }
    Py_DECREF(seq);
    return which;
}

/* An argv the wrapped functions take: a list or tuple, argv[0] first. */
static int is_argv(PyObject *argv)
{
    return (PyList_Check(argv) || PyTuple_Check(argv)) &&
           PySequence_Size(argv) > 0;
}

/* A new list: argv with the proof argument naming fd after argv[0]. */
static PyObject *with_proof(PyObject *argv, int fd)
{
    PyObject *seq = PySequence_Fast(argv, "argv must be a list or tuple");
    PyObject *res = NULL, *arg;
    Py_ssize_t n;

    if (!seq)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    arg = PyUnicode_FromFormat("%s%d", KILN_CHILD_PROOF_ARG, fd);
    res = arg ? PyList_New(n + 1) : NULL;
    if (!res)
        goto done;
    PyList_SET_ITEM(res, 0, Py_NewRef(PySequence_Fast_GET_ITEM(seq, 0)));
    PyList_SET_ITEM(res, 1, Py_NewRef(arg));
    for (Py_ssize_t i = 1; i < n; i++)
        PyList_SET_ITEM(res, i + 1,
                        Py_NewRef(PySequence_Fast_GET_ITEM(seq, i)));
done:
    Py_XDECREF(arg);
    Py_DECREF(seq);
    return res;
}

/* fork_exec's descriptors to keep, a sorted tuple, with fd in its place. */
static PyObject *keep_with(PyObject *keep, int fd)
{
    PyObject *seq = PySequence_Fast(keep, "pass_fds must be a sequence");
    PyObject *res = NULL, *item;
    Py_ssize_t n, at = 0, dup = 0;

    if (!seq)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    for (; at < n; at++) {
        long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, at));
        if (v == -1 && PyErr_Occurred())
            goto done;
        if (v >= fd) {
            dup = v == fd;
            break;
        }
    }
    res = PyTuple_New(n + !dup);
    if (!res)
        goto done;
    for (Py_ssize_t i = 0, j = 0; i < n; i++, j++) {
        if (i == at && !dup) {
            item = PyLong_FromLong(fd);
            if (!item) {
                Py_CLEAR(res);
                goto done;
            }
            PyTuple_SET_ITEM(res, j++, item);
        }
        PyTuple_SET_ITEM(res, j, Py_NewRef(PySequence_Fast_GET_ITEM(seq, i)));
    }
    if (at == n && !(item = PyLong_FromLong(fd)))
        Py_CLEAR(res);
    else if (at == n)
        PyTuple_SET_ITEM(res, n, item);
done:
    Py_DECREF(seq);
    return res;
}

/* A call that would start the file at the app's path, which is not the
   running one: refused (RuntimeError) when the child would have needed the
   proof, that is when its argv means something else without it. */
static int refuse_unprovable(PyObject *argv)
{
    PyObject *seq = PySequence_Fast(argv, ""), **bytes = NULL;
    char **cargv = NULL;
    Py_ssize_t n = 0, got = 0;
    struct stat file;
    kiln_child child = {KILN_CHILD_APP, 0, 0};
    const char *what, *after;

    if (!seq || stat(ch.exe, &file) != 0)
        goto done;
    n = PySequence_Fast_GET_SIZE(seq);
    bytes = PyMem_Calloc((size_t)n, sizeof *bytes);
    cargv = PyMem_Calloc((size_t)n + 1, sizeof *cargv);
    if (!bytes || !cargv)
        goto done;
    for (; got < n; got++) {
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, got),
                                   &bytes[got]))
            goto done;
        cargv[got] = PyBytes_AS_STRING(bytes[got]);
    }
    if (n > INT_MAX)
        goto done;
    kiln_child_classify(ch.pack, &file, (int)n, cargv, &child);
done:
    PyErr_Clear(); /* the wrapped function refuses a bad argv itself */
    for (Py_ssize_t i = 0; bytes && i < got; i++)
        Py_DECREF(bytes[i]);
    PyMem_Free(bytes);
    PyMem_Free(cargv);
    Py_XDECREF(seq);
    what = child.role == KILN_CHILD_MP       ? "a multiprocessing child of "
           : child.role == KILN_CHILD_RERUN  ? ""
           : child.role == KILN_CHILD_PYTHON ? "a python child of "
                                             : NULL;
    after = child.role == KILN_CHILD_RERUN ? " again as its own child" : "";
    if (!what)
        return 0;
    if (ch.known < 0)
        PyErr_Format(PyExc_RuntimeError, "kiln: cannot start %s%s%s: its "
                     "proof needs /proc/self/exe (is /proc mounted?)", what,
                     ch.exe, after);
    else
        PyErr_Format(PyExc_RuntimeError, "kiln: cannot start %s%s%s: the "
                     "file was replaced since this app started (rebuilt?), "
                     "and a child started from it could not prove that this "
                     "app started it; restart the app", what, ch.exe, after);
    return -1;
}

/* Calls wrapped with a copy of args whose items at i and j are a and b
   (j < 0: one replacement), keyword arguments kept. */
static PyObject *call_with(PyObject *wrapped, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames, Py_ssize_t i,
                           PyObject *a, Py_ssize_t j, PyObject *b)
{
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject **copy = PyMem_Malloc((size_t)total * sizeof *copy), *res;

    if (!copy)
        return PyErr_NoMemory();
    memcpy(copy, args, (size_t)total * sizeof *copy);
    copy[i] = a;
    if (j >= 0)
        copy[j] = b;
    res = PyObject_Vectorcall(wrapped, copy, (size_t)nargs, kwnames);
    PyMem_Free(copy);
    return res;
}

/* Closes fd without touching a pending exception. */
static void close_proof(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* _posixsubprocess.fork_exec(args, executable_list, close_fds, pass_fds,
   ...): the proof is passed as one of pass_fds, which the child keeps
   open across exec; the parent closes it once the child has started. */
static PyObject *wrap_fork_exec(PyObject *wrapped, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *argv = NULL, *keep = NULL, *res = NULL;
    int which, fd;

    if (nargs < 4 || !is_argv(args[0]) ||
        (which = which_candidate(args[1])) == OTHER)
        return PyObject_Vectorcall(wrapped, args, (size_t)nargs, kwnames);
    if (which == UNPROVABLE)
        return refuse_unprovable(args[0]) < 0
                   ? NULL
                   : PyObject_Vectorcall(wrapped, args, (size_t)nargs,
                                         kwnames);
    fd = kiln_child_proof_make();
    if (fd < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    argv = with_proof(args[0], fd);
    keep = argv ? keep_with(args[3], fd) : NULL;
    if (keep)
        res = call_with(wrapped, args, nargs, kwnames, 0, argv, 3, keep);
    Py_XDECREF(argv);
    Py_XDECREF(keep);
    close_proof(fd);
    return res;
}

/* The file that posix_spawnp runs for name: as glibc searches PATH (the
   caller's, not the child's environment), into buf; the first that it
   can execute. */
static const char *spawnp_path(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH"), *p, *end;

    if (strchr(name, '/'))
        return name;
    for (p = path ? path : "/bin:/usr/bin"; ; p = end + 1) {
        end = strchr(p, ':');
        if (!end)
            end = p + strlen(p);
        if ((size_t)snprintf(buf, len, "%.*s%s%s", (int)(end - p), p,
                             end > p ? "/" : "", name) < len &&
            access(buf, X_OK) == 0)
            return buf;
        if (!*end)
            return NULL;
    }
}

/* Adds to actions (a list) the dup2 of the proof fd to *target. 3.13's
   subprocess ends its actions with (POSIX_SPAWN_CLOSEFROM, 3), which would
   close both: then the dup2 goes to that lowest fd L, just before it, and
   the closefrom starts at L + 1 (L would be closed anyway); the source is
   whichever copy is not L (dup2 of an fd to itself keeps close-on-exec). */
static int proof_action(PyObject *posix, PyObject *actions, PyObject *dup2,
                        int fd, int *target)
{
    PyObject *closefrom = PyObject_GetAttrString(posix,
                                                 "POSIX_SPAWN_CLOSEFROM");
    PyObject *action = NULL, *item;
    Py_ssize_t at = PyList_GET_SIZE(actions);
    long low = -1;
    int rc = -1;

    PyErr_Clear(); /* before 3.13, or a libc without closefrom */
    for (Py_ssize_t i = 0; closefrom && i < PyList_GET_SIZE(actions); i++) {
        item = PyList_GET_ITEM(actions, i);
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2 &&
            PyObject_RichCompareBool(PyTuple_GET_ITEM(item, 0), closefrom,
                                     Py_EQ) == 1 &&
            PyLong_Check(PyTuple_GET_ITEM(item, 1))) {
            low = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
            if (low >= 3 && low <= (fd > *target ? fd : *target)) {
                at = i;
                break;
            }
            low = -1;
        }
        PyErr_Clear();
    }
    if (low >= 0) {
        int source = fd != low ? fd : *target;
        *target = (int)low;
        action = Py_BuildValue("(Oii)", dup2, source, *target);
        item = action ? Py_BuildValue("(Ol)", closefrom, low + 1) : NULL;
        if (!item || PyList_SetItem(actions, at, item) < 0)
            goto done;
    } else {
        action = Py_BuildValue("(Oii)", dup2, fd, *target);
    }
    rc = action ? PyList_Insert(actions, at, action) : -1;
done:
    Py_XDECREF(action);
    Py_XDECREF(closefrom);
    return rc;
}

/* os.posix_spawn(path, argv, env, *, file_actions=..., ...): the child
   gets a copy of the proof that is not close-on-exec through one more
   file action, a dup2 to a second descriptor (close-on-exec in the
   parent, so that no other child inherits either). */
static PyObject *spawn(PyObject *wrapped, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames, int search)
{
    PyObject *bytes = NULL, *argv = NULL, *posix = NULL, *dup2 = NULL;
    PyObject *actions = NULL, *names = NULL, *res = NULL;
    PyObject **copy = NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0, at = -1;
    char buf[PATH_MAX];
    const char *path = NULL;
    int which = OTHER, fd = -1, child_fd = -1, number;

    if (nargs >= 2 && is_argv(args[1]) &&
        PyUnicode_FSConverter(args[0], &bytes)) {
        path = PyBytes_AS_STRING(bytes);
        path = search ? spawnp_path(path, buf, sizeof buf) : path;
        which = path ? which_file(path) : OTHER;
        Py_DECREF(bytes);
    }
    PyErr_Clear();
    if (which == OTHER)
        return PyObject_Vectorcall(wrapped, args, (size_t)nargs, kwnames);
    if (which == UNPROVABLE)
        return refuse_unprovable(args[1]) < 0
                   ? NULL
                   : PyObject_Vectorcall(wrapped, args, (size_t)nargs,
                                         kwnames);
    fd = kiln_child_proof_make();
    child_fd = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (child_fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    posix = PyImport_ImportModule("posix");
    dup2 = posix ? PyObject_GetAttrString(posix, "POSIX_SPAWN_DUP2") : NULL;
    if (!dup2)
        goto done;
    for (Py_ssize_t k = 0; k < nkw; k++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, k),
                                             "file_actions") == 0)
            at = nargs + k;
    /* The caller's file actions, then the proof's. */
    actions = at >= 0 && args[at] != Py_None ? PySequence_List(args[at])
                                             : PyList_New(0);
    number = child_fd; /* the proof's fd in the child */
    if (!actions || proof_action(posix, actions, dup2, fd, &number) < 0)
        goto done;
    argv = with_proof(args[1], number);
    if (!argv)
        goto done;
    copy = PyMem_Malloc((size_t)(nargs + nkw + 1) * sizeof *copy);
    if (!copy) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(copy, args, (size_t)(nargs + nkw) * sizeof *copy);
    copy[1] = argv;
    if (at >= 0) {
        copy[at] = actions;
        names = Py_XNewRef(kwnames);
    } else {
        copy[nargs + nkw] = actions;
        names = PyTuple_New(nkw + 1);
        for (Py_ssize_t k = 0; names && k < nkw; k++)
            PyTuple_SET_ITEM(names, k,
                             Py_NewRef(PyTuple_GET_ITEM(kwnames, k)));
        if (names) {
            PyObject *key = PyUnicode_FromString("file_actions");
            if (!key)
                Py_CLEAR(names);
            else
                PyTuple_SET_ITEM(names, nkw, key);
        }
        if (!names)
            goto done;
    }
    res = PyObject_Vectorcall(wrapped, copy, (size_t)nargs, names);
done:
    PyMem_Free(copy);
    Py_XDECREF(names);
    Py_XDECREF(actions);
    Py_XDECREF(dup2);
    Py_XDECREF(posix);
    Py_XDECREF(argv);
    close_proof(child_fd);
    close_proof(fd);
    return res;
}

static PyObject *wrap_posix_spawn(PyObject *wrapped, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames)
{
    return spawn(wrapped, args, nargs, kwnames, 0);
}

static PyObject *wrap_posix_spawnp(PyObject *wrapped, PyObject *const *args,
                                   Py_ssize_t nargs, PyObject *kwnames)
{
    return spawn(wrapped, args, nargs, kwnames, 1);
}

/* os.execv(path, argv), os.execve(path, argv, env): the app executes
   itself in place, so the proof is made by this very process and is left
   open across exec; closed again if exec fails. Also for the file at the
   app's path that is not the running one (a new build): this process
   vouches for its own exec, whatever file it runs. */
static PyObject *wrap_exec(PyObject *wrapped, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *argv, *res;
    int fd;

    if (nargs < 2 || !is_argv(args[1]) || which_path(args[0]) == OTHER)
        return PyObject_Vectorcall(wrapped, args, (size_t)nargs, kwnames);
    fd = kiln_child_proof_make();
    if (fd < 0 || fcntl(fd, F_SETFD, 0) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        close_proof(fd);
        return NULL;
    }
    argv = with_proof(args[1], fd);
    res = argv ? call_with(wrapped, args, nargs, kwnames, 1, argv, -1, NULL)
               : NULL;
    Py_XDECREF(argv);
    close_proof(fd);
    return res;
}

/* sig: the wrapped function's signature, for inspect.signature(). */
#define WRAPPER(name, fn, sig, what)                                         \
    {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS,  \
     sig "kiln: " what ", which gives a child that runs this app's own "    \
     "executable the proof that the app started it."}
#define SPAWN_SIG(name)                                                      \
    name "($self, path, argv, env, /, *, file_actions=(), setpgroup=None,"  \
         " resetids=False, setsid=False, setsigmask=(), setsigdef=(),"     \
         " scheduler=None)\n--\n\n"

static PyMethodDef fork_exec_def =
    WRAPPER("fork_exec", wrap_fork_exec, "", "_posixsubprocess.fork_exec");
static PyMethodDef os_defs[] = {
    WRAPPER("execv", wrap_exec, "execv($self, path, argv, /)\n--\n\n",
            "os.execv"),
    WRAPPER("execve", wrap_exec, "execve($self, path, argv, env)\n--\n\n",
            "os.execve"),
    WRAPPER("posix_spawn", wrap_posix_spawn, SPAWN_SIG("posix_spawn"),
            "os.posix_spawn"),
    WRAPPER("posix_spawnp", wrap_posix_spawnp, SPAWN_SIG("posix_spawnp"),
            "os.posix_spawnp"),
};

/* Replaces module.NAME with a wrapper that calls it, once. */
static int wrap(PyObject *module, PyMethodDef *def)
{
    PyObject *wrapped = PyObject_GetAttrString(module, def->ml_name);
    PyObject *name, *wrapper;
    int rc;

    if (!wrapped) { /* not on this platform */
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    if (PyCFunction_Check(wrapped) &&
        PyCFunction_GET_FUNCTION(wrapped) == def->ml_meth) {
        Py_DECREF(wrapped);
        return 0;
    }
    name = PyObject_GetAttrString(module, "__name__");
    wrapper = name ? PyCFunction_NewEx(def, wrapped, name) : NULL;
    rc = wrapper ? PyObject_SetAttrString(module, def->ml_name, wrapper)
                 : -1;
    Py_XDECREF(wrapper);
    Py_XDECREF(name);
    Py_DECREF(wrapped);
    return rc;
}

static int wrap_os(PyObject *os)
{
    for (size_t i = 0; i < sizeof os_defs / sizeof *os_defs; i++)
        if (wrap(os, &os_defs[i]) < 0)
            return -1;
    return 0;
}

static int wrap_posixsubprocess(void)
{
    PyObject *module = PyImport_ImportModule("_posixsubprocess");
    int rc;

    if (!module) { /* a platform without it: subprocess copes */
        if (!PyErr_ExceptionMatches(PyExc_ImportError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    rc = wrap(module, &fork_exec_def);
    Py_DECREF(module);
    return rc;
}

int kiln_children_before_exec(PyObject *fullname)
{
    if (!ch.pack)
        return 0;
    if (PyUnicode_CompareWithASCIIString(fullname, "subprocess") == 0 ||
        PyUnicode_CompareWithASCIIString(fullname, "multiprocessing.util") ==
            0)
        return wrap_posixsubprocess();
    return 0;
}

int kiln_children_after_exec(PyObject *fullname, PyObject *module)
{
    if (!ch.pack)
        return 0;
    if (PyUnicode_CompareWithASCIIString(fullname, "os") == 0)
        return wrap_os(module);
    if (PyUnicode_CompareWithASCIIString(fullname, "_posixsubprocess") == 0)
        return wrap(module, &fork_exec_def);
    return 0;
}

int kiln_children_wrap_loaded(void)
{
    PyObject *modules = PySys_GetObject("modules"), *module;

    if (!ch.pack || !modules || !PyDict_Check(modules))
        return 0;
    module = PyDict_GetItemString(modules, "os"); /* borrowed */
    if (module && wrap_os(module) < 0)
        return -1;
    module = PyDict_GetItemString(modules, "_posixsubprocess");
    return module ? wrap(module, &fork_exec_def) : 0;
}
