/*
 * mpchild.c - multiprocessing children of a kiln app. multiprocessing
 * starts them (spawn children, the fork server, the resource tracker) by
 * running sys.executable, the app itself, as
 *     app FLAGS... -c "from multiprocessing.M import F; F(ARGS)" [ARGS...]
 * with FLAGS from subprocess._args_from_interpreter_flags(). The app's
 * wrapper of multiprocessing.util.spawnv_passfds (py/kiln_support.py) adds
 * --kiln-child-proof=FD right after argv[0] and passes that descriptor
 * (childproof.c). Only with a proof that holds is such an argv a child's:
 * it runs under the app's own hermetic configuration, and the code goes
 * through py/mp_child.py, which makes only the entry point's call. Any
 * other argv, whatever it looks like, is the app's own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childproof.h"
#include "importer.h"
#include "mpchild.h"

#include "mp_child.py.h" /* mp_child_py, from src/launcher/py/mp_child.py */

#define CODE_PREFIX "from multiprocessing."

/* Appends an option value to a PyConfig list of wide strings. */
static PyStatus append_option(PyConfig *config, PyWideStringList *list,
                              const char *value)
{
    wchar_t *wide = NULL;
    PyStatus status = PyConfig_SetBytesString(config, &wide, value);

    if (!PyStatus_Exception(status))
        status = PyWideStringList_Append(list, wide);
    PyMem_RawFree(wide);
    return status;
}

/* Walks the interpreter flags before -c, applying them to config when it is
   not NULL. Returns the index of the -c code, or 0 when argv is not a
   child's command line. The flags that an app already has (-B -E -I -P -s
   -S) change nothing; -O, -b, -d, -q, -v, -W and -X are applied. */
static int walk_flags(int argc, char **argv, PyConfig *config,
                      PyStatus *status)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-' || arg[1] == '\0' || arg[1] == '-')
            return 0;
        if (strcmp(arg, "-c") == 0)
            return i + 1 < argc && strncmp(argv[i + 1], CODE_PREFIX,
                                           strlen(CODE_PREFIX)) == 0
                       ? i + 1
                       : 0;
        for (const char *p = arg + 1; *p; p++) {
            if (*p == 'W' || *p == 'X') {
                const char *value = p[1] ? p + 1
                                    : i + 1 < argc ? argv[++i]
                                                   : "";
                if (!*value)
                    return 0;
                if (config)
                    *status = append_option(config,
                                            *p == 'W' ? &config->warnoptions
                                                      : &config->xoptions,
                                            value);
                if (PyStatus_Exception(*status))
                    return 0;
                break;
            }
            if (!strchr("bBdEIOPqsSv", *p))
                return 0;
            if (!config)
                continue;
            config->optimization_level += *p == 'O';
            config->bytes_warning += *p == 'b';
            config->parser_debug += *p == 'd';
            config->verbose += *p == 'v';
            config->quiet |= *p == 'q';
        }
    }
    return 0;
}

/* The index in argv of the -c code when argv has a child's shape:
   interpreter flags, then -c and code that starts with CODE_PREFIX; 0
   otherwise. */
static int code_at(int argc, char **argv)
{
    PyStatus status = PyStatus_Ok();
    return walk_flags(argc, argv, NULL, &status);
}

/* The descriptor number of a proof argument's value, or -1. */
static int proof_fd(const char *digits)
{
    long fd = 0;

    if (!*digits)
        return -1;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9' || fd > (INT_MAX - 9) / 10)
            return -1;
        fd = fd * 10 + (*p - '0');
    }
    return (int)fd;
}

int kiln_mp_child_argv(const char *exe, int *argc, char ***argv)
{
    const size_t len = strlen(KILN_CHILD_PROOF_ARG);
    char **v = *argv, why[512];
    int at, fd;

    if (*argc < 2 || strncmp(v[1], KILN_CHILD_PROOF_ARG, len) != 0)
        return 0;
    /* The shape is checked on argv without the proof argument. */
    at = code_at(*argc - 1, v + 1);
    if (!at)
        return 0;
    fd = proof_fd(v[1] + len);
    if (fd < 0) {
        snprintf(why, sizeof why, "%s is not a descriptor number", v[1]);
    } else if (kiln_child_proof_check(fd, why, sizeof why) == 0) {
        close(fd);
        v[1] = v[0];
        *argv = v + 1;
        *argc -= 1;
        return at;
    }
    fprintf(stderr, "kiln: warning: %s has a multiprocessing child's "
            "command line, but no proof that the app itself started it (%s); "
            "it runs as the app, with its arguments as given\n", exe, why);
    return 0;
}

PyStatus kiln_mp_child_config(PyConfig *config, int argc, char **argv,
                              int code_at)
{
    char **child;
    PyStatus status = PyConfig_SetBytesArgv(config, argc, argv);

    for (Py_ssize_t i = 0;
         !PyStatus_Exception(status) && i < config->argv.length; i++)
        status = PyWideStringList_Append(&config->orig_argv,
                                         config->argv.items[i]);
    if (PyStatus_Exception(status))
        return status;
    /* As python3 -c: sys.argv is "-c" and the arguments after the code. */
    child = malloc((size_t)(argc - code_at) * sizeof *child);
    if (!child)
        return PyStatus_NoMemory();
    child[0] = "-c";
    memcpy(child + 1, argv + code_at + 1,
           (size_t)(argc - code_at - 1) * sizeof *child);
    status = PyConfig_SetBytesArgv(config, argc - code_at, child);
    free(child);
    if (PyStatus_Exception(status))
        return status;
    config->optimization_level = 0;
    walk_flags(argc, argv, config, &status);
    return status;
}

int kiln_mp_child_run(const char *code, const char *exe)
{
    PyObject *snippet, *globals = NULL, *code_s = NULL, *exe_s = NULL,
                       *res = NULL, *run;

    snippet = Py_CompileString(mp_child_py, "<kiln mp_child.py>",
                               Py_file_input);
    globals = snippet ? PyDict_New() : NULL;
    if (!globals ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) <
            0)
        goto done;
    res = PyEval_EvalCode(snippet, globals, globals);
    if (!res)
        goto done;
    Py_CLEAR(res);
    run = PyDict_GetItemString(globals, "run"); /* borrowed */
    if (!run)
        PyErr_SetString(PyExc_RuntimeError, "kiln: mp_child.py has no run()");
    code_s = run ? PyUnicode_DecodeFSDefault(code) : NULL;
    exe_s = code_s ? PyUnicode_DecodeFSDefault(exe) : NULL;
    if (exe_s)
        res = PyObject_CallFunctionObjArgs(run, code_s, exe_s, NULL);
done:
    Py_XDECREF(snippet);
    Py_XDECREF(globals);
    Py_XDECREF(code_s);
    Py_XDECREF(exe_s);
    return kiln_exit_status(res);
}
