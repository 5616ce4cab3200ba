/*
 * compiler.c - the compile server. `kiln build` starts the bare launcher of
 * the target CPython with --kiln-compile-server and sends it frames on
 * stdin (protocol.h); it answers on stdout. Bytecode is thus made by the
 * very CPython the executable embeds, and the kiln command embeds no Python
 * interpreter of its own. The Python code of the other ops (TOML, SCAN,
 * DISTS...) is kiln's: kiln sends it first (KC_OP_LOAD), so that a launcher
 * carries none of it and always runs the code of the kiln that drives it.
 * Each is a module, loaded once by pyrun.c, whose function answers its op.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "fdio.h"
#include "protocol.h"
#include "installation.h"
#include "pyrun.h"
#include "target.h" /* KILN_PY_PREFIX, KILN_BUILT_FROM */

#define MAX_FRAME (256u << 20)

static int proto_out = -1;
/* Set when the installation changed since make (installation.h): then
   Python is not started, and every request gets this as its error. */
static char refusal[2048];

static int reply(uint32_t status, const char *bytes, size_t len)
{
    uint32_t head[2] = {status, (uint32_t)len};
    return fd_write_full(proto_out, head, sizeof head) ||
                   fd_write_full(proto_out, bytes, len)
               ? -1
               : 0;
}

static int reply_error(const char *text)
{
    return reply(KC_ERROR, text, strlen(text));
}

/* Replies with the pending exception as text. */
static int reply_exception(void)
{
    PyObject *type, *value, *tb, *text;
    const char *s;
    Py_ssize_t len;
    int rc;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    text = value ? PyObject_Str(value) : NULL;
    s = text ? PyUnicode_AsUTF8AndSize(text, &len) : NULL;
    if (!s) {
        PyErr_Clear();
        s = "unknown error";
        len = (Py_ssize_t)strlen(s);
    }
    rc = reply(KC_ERROR, s, (size_t)len);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return rc;
}

/* A SyntaxError as "TYPE\tLINE\tCOLUMN\tMESSAGE\tTEXT". */
static int reply_syntax_error(void)
{
    static const char *fields[] = {"lineno", "offset", "msg", "text"};
    PyObject *type, *value, *tb, *parts[4] = {NULL}, *text = NULL;
    int rc;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    for (int i = 0; i < 4 && value; i++)
        parts[i] = PyObject_GetAttrString(value, fields[i]);
    if (parts[0] && parts[1] && parts[2] && parts[3])
        text = PyUnicode_FromFormat("%s\t%S\t%S\t%S\t%S",
                                    Py_TYPE(value)->tp_name, parts[0],
                                    parts[1], parts[2], parts[3]);
    for (int i = 0; i < 4; i++)
        Py_XDECREF(parts[i]);
    if (!text) {
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
        return reply_exception();
    }
    rc = reply(KC_ERROR, PyUnicode_AsUTF8(text),
               strlen(PyUnicode_AsUTF8(text)));
    Py_DECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return rc;
}

static int do_compile(const char *name, const char *source, int optimize)
{
    PyCompilerFlags flags = _PyCompilerFlags_INIT;
    PyObject *filename, *code, *bytes;
    int rc;

    filename = PyUnicode_DecodeFSDefault(name);
    if (!filename)
        return reply_exception();
    code = Py_CompileStringObject(source, filename, Py_file_input, &flags,
                                  optimize);
    Py_DECREF(filename);
    if (!code)
        return PyErr_ExceptionMatches(PyExc_SyntaxError)
                   ? reply_syntax_error()
                   : reply_exception();
    bytes = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
    Py_DECREF(code);
    if (!bytes)
        return reply_exception();
    rc = reply(KC_OK, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return rc;
}

/* A Python op: the module kiln sent for it (KC_OP_LOAD), loaded once by
   pyrun.c at its first use, and the function that answers it. */
typedef struct {
    uint32_t op;
    const char *function;
    kiln_pymodule module; /* name fixed; filename and source from kiln */
} py_op;

static py_op py_ops[] = {
    {KC_OP_INFO, "info", {"_kiln_server_info", NULL, NULL}},
    {KC_OP_TOML, "toml", {"_kiln_server_toml", NULL, NULL}},
    {KC_OP_SCAN, "scan", {"_kiln_server_scan", NULL, NULL}},
    {KC_OP_GRAMMAR, "grammars", {"_kiln_server_grammar", NULL, NULL}},
    {KC_OP_DISTS, "dists", {"_kiln_server_dists", NULL, NULL}},
};

static py_op *py_op_for(uint32_t op)
{
    for (size_t i = 0; i < sizeof py_ops / sizeof *py_ops; i++)
        if (py_ops[i].op == op)
            return &py_ops[i];
    return NULL;
}

/* Forgets p's code, and its module if it ran. */
static void py_op_clear(py_op *p)
{
    PyObject *modules = PySys_GetObject("modules");

    if (modules && PyDict_Check(modules) &&
        PyDict_GetItemString(modules, p->module.name) &&
        PyDict_DelItemString(modules, p->module.name) < 0)
        PyErr_Clear();
    free((char *)p->module.filename);
    free((char *)p->module.source);
    p->module.filename = p->module.source = NULL;
}

/* Takes source (malloc'd, NUL-terminated) as the module of the op that
   arg names (KC_LOAD_ARG). */
static int load_module(uint32_t arg, const char *file, char *source)
{
    py_op *p = py_op_for(KC_LOAD_OP(arg));
    char *filename;

    if (KC_LOAD_VERSION(arg) != KC_VERSION) {
        unsigned theirs = KC_LOAD_VERSION(arg) ? KC_LOAD_VERSION(arg) : 1;
        char text[96];

        free(source);
        snprintf(text, sizeof text,
                 "this launcher speaks compile-server protocol %u, kiln %u",
                 (unsigned)KC_VERSION, theirs);
        return reply_error(text);
    }
    if (!p) {
        free(source);
        return reply_error("no such op to load code for");
    }
    filename = strdup(file);
    if (!filename) {
        free(source);
        return reply_error("out of memory");
    }
    py_op_clear(p);
    p->module.filename = filename;
    p->module.source = source;
    return reply(KC_OK, "", 0);
}

/* The arguments of op's function: a request's name, data and arg. */
static size_t py_op_args(uint32_t op, const char *name, const char *data,
                         size_t len, uint32_t flags, PyObject **args)
{
    const py_op *scan = py_op_for(KC_OP_SCAN);
    const char *scanner = scan->module.source ? scan->module.source : "";

    switch (op) {
    case KC_OP_INFO: /* the scanner's text keys cached scans */
        args[0] = PyBytes_FromString(scanner);
        return 1;
    case KC_OP_SCAN:
        args[0] = PyUnicode_DecodeFSDefault(name);
        args[1] = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
        args[2] = PyBool_FromLong(flags & 1);
        return 3;
    case KC_OP_DISTS:
        args[0] = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
        return 1;
    default: /* TOML, GRAMMAR: a path */
        args[0] = PyUnicode_DecodeFSDefault(name);
        return 1;
    }
}

/* Replies with what op's function returns, a str. */
static int run_op(uint32_t op, const char *name, const char *data, size_t len,
                  uint32_t flags)
{
    py_op *p = py_op_for(op);
    PyObject *args[3] = {NULL}, *result = NULL;
    size_t nargs = py_op_args(op, name, data, len, flags, args);
    const char *text;
    int rc;

    for (size_t i = 0; i < nargs; i++)
        if (!args[i])
            goto error;
    if (!p->module.source) {
        PyErr_SetString(PyExc_SystemError,
                        "no code loaded for this op: kiln sends it first");
        goto error;
    }
    result = kiln_pyrun_call(&p->module, p->function, args, nargs);
    if (!result)
        goto error;
    if (!PyUnicode_Check(result)) {
        PyErr_Format(PyExc_RuntimeError, "%s() returned no str",
                     p->function);
        goto error;
    }
    text = PyUnicode_AsUTF8(result);
    if (!text)
        goto error;
    rc = reply(KC_OK, text, strlen(text));
    goto done;
error:
    rc = reply_exception();
done:
    Py_XDECREF(result);
    for (size_t i = 0; i < nargs; i++)
        Py_XDECREF(args[i]);
    return rc;
}

static int serve(void)
{
    for (;;) {
        uint32_t head[4];
        char *name, *data;
        int rc;

        if (fd_read_full(0, head, sizeof head) != 0)
            return 0; /* EOF: kiln is done */
        if (head[2] > MAX_FRAME || head[3] > MAX_FRAME)
            return 2;
        name = malloc((size_t)head[2] + 1);
        data = malloc((size_t)head[3] + 1);
        if (!name || !data || fd_read_full(0, name, head[2]) ||
            fd_read_full(0, data, head[3])) {
            free(name);
            free(data);
            return 2;
        }
        name[head[2]] = '\0';
        data[head[3]] = '\0';
        if (refusal[0])
            head[0] = 0; /* every request: the refusal below */
        switch (head[0]) {
        case KC_OP_LOAD:
            rc = load_module(head[1], name, data);
            data = NULL;
            break;
        case KC_OP_BUILT:
            rc = reply(KC_OK, KILN_BUILT_FROM, sizeof KILN_BUILT_FROM - 1);
            break;
        case KC_OP_COMPILE:
            rc = do_compile(name, data, (int)head[1]);
            break;
        case KC_OP_INFO:
        case KC_OP_TOML:
        case KC_OP_SCAN:
        case KC_OP_GRAMMAR:
        case KC_OP_DISTS:
            rc = run_op(head[0], name, data, head[3], head[1]);
            break;
        case 0:
            rc = reply_error(refusal);
            break;
        default:
            rc = reply_error("unknown request");
        }
        free(name);
        free(data);
        if (rc != 0)
            return 2;
    }
}

int kiln_compile_server(const char *exe)
{
    PyConfig config;
    PyStatus status;
    int rc;

    /* The protocol owns stdout; anything Python prints goes to stderr. */
    proto_out = dup(1);
    if (proto_out < 0 || dup2(2, 1) < 0)
        return 2;
    if (installation_check(exe, refusal, sizeof refusal) != 0)
        return serve();
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    /* The target's own prefix, so that sys.prefix, the stdlib and the site
       folders are the target's: without a program name, getpath would look
       for "python3" on PATH and take that one's prefix (a pyenv's, a
       venv's). */
    status = PyConfig_SetBytesString(&config, &config.program_name, exe);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.home,
                                         KILN_PY_PREFIX);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status))
        Py_ExitStatusException(status);
    rc = serve();
    for (size_t i = 0; i < sizeof py_ops / sizeof *py_ops; i++)
        py_op_clear(&py_ops[i]);
    if (Py_FinalizeEx() < 0)
        rc = 2;
    return rc;
}
