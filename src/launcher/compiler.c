/*
 * compiler.c - the compile server. `kiln build` starts the bare launcher of
 * the target CPython with --kiln-compile-server and sends it frames on
 * stdin (protocol.h); it answers on stdout. Bytecode is thus made by the
 * very CPython the executable embeds, and the kiln command embeds no Python
 * interpreter of its own. The Python code of the other ops (TOML, SCAN,
 * DISTS...) is kiln's: kiln sends it first (KC_OP_LOAD), so that a launcher
 * carries none of it and always runs the code of the kiln that drives it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "compiler.h"
#include "fdio.h"
#include "protocol.h"
#include "installation.h"
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

/* The code of an op, as kiln sent it (KC_OP_LOAD), compiled at its first
   use. */
typedef struct {
    uint32_t op;
    char *source; /* NUL-terminated */
    size_t len;
    PyObject *code;
} snippet;

static snippet snippets[] = {
    {KC_OP_INFO, NULL, 0, NULL},    {KC_OP_TOML, NULL, 0, NULL},
    {KC_OP_SCAN, NULL, 0, NULL},    {KC_OP_GRAMMAR, NULL, 0, NULL},
    {KC_OP_DISTS, NULL, 0, NULL},
};

static snippet *snippet_for(uint32_t op)
{
    for (size_t i = 0; i < sizeof snippets / sizeof *snippets; i++)
        if (snippets[i].op == op)
            return &snippets[i];
    return NULL;
}

static void snippet_clear(snippet *s)
{
    free(s->source);
    s->source = NULL;
    s->len = 0;
    Py_CLEAR(s->code);
}

/* Takes source (malloc'd, NUL-terminated) as the code of op. */
static int load_snippet(uint32_t op, char *source, size_t len)
{
    snippet *s = snippet_for(op);

    if (!s) {
        free(source);
        return reply(KC_ERROR, "no such op to load code for",
                     strlen("no such op to load code for"));
    }
    snippet_clear(s);
    s->source = source;
    s->len = len;
    return reply(KC_OK, "", 0);
}

static PyObject *snippet_code(snippet *s)
{
    if (!s->source) {
        PyErr_SetString(PyExc_SystemError,
                        "no code loaded for this op: kiln sends it first");
        return NULL;
    }
    if (!s->code)
        s->code = Py_CompileString(s->source, "<kiln compile server>",
                                   Py_file_input);
    return s->code;
}

/* Sets globals[key] = value and drops the reference to value. */
static int set_arg(PyObject *globals, const char *key, PyObject *value)
{
    int rc = value ? PyDict_SetItemString(globals, key, value) : -1;
    Py_XDECREF(value);
    return rc;
}

/* Runs a snippet that leaves its answer in `result`; the request's name,
   data and arg are there as arg_name (str), arg_data (bytes) and arg_flags
   (int). */
static int run_snippet(uint32_t op, const char *name, const char *data,
                       size_t len, uint32_t flags)
{
    PyObject *globals = PyDict_New(), *code, *res = NULL, *result;
    int rc;

    if (!globals)
        return reply_exception();
    code = snippet_code(snippet_for(op));
    if (!code ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) ||
        set_arg(globals, "arg_name", PyUnicode_DecodeFSDefault(name)) ||
        set_arg(globals, "arg_data",
                PyBytes_FromStringAndSize(data, (Py_ssize_t)len)) ||
        set_arg(globals, "arg_flags", PyLong_FromUnsignedLong(flags)))
        goto error;
    res = PyEval_EvalCode(code, globals, globals);
    if (!res)
        goto error;
    result = PyDict_GetItemString(globals, "result");
    if (!result || !PyUnicode_Check(result)) {
        PyErr_SetString(PyExc_RuntimeError, "snippet left no result");
        goto error;
    }
    rc = reply(KC_OK, PyUnicode_AsUTF8(result),
               strlen(PyUnicode_AsUTF8(result)));
    Py_DECREF(res);
    PyDict_Clear(globals); /* its functions refer to it: break the cycle */
    Py_DECREF(globals);
    return rc;
error:
    rc = reply_exception();
    Py_XDECREF(res);
    PyDict_Clear(globals);
    Py_DECREF(globals);
    return rc;
}

static int serve(void)
{
    const snippet *scan = snippet_for(KC_OP_SCAN);

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
            rc = load_snippet(head[1], data, head[3]);
            data = NULL;
            break;
        case KC_OP_INFO: /* the scanner's text keys cached scans */
            rc = run_snippet(KC_OP_INFO, name,
                             scan->source ? scan->source : "", scan->len,
                             head[1]);
            break;
        case KC_OP_BUILT:
            rc = reply(KC_OK, KILN_BUILT_FROM, sizeof KILN_BUILT_FROM - 1);
            break;
        case KC_OP_COMPILE:
            rc = do_compile(name, data, (int)head[1]);
            break;
        case KC_OP_TOML:
        case KC_OP_SCAN:
        case KC_OP_GRAMMAR:
        case KC_OP_DISTS:
            rc = run_snippet(head[0], name, data, head[3], head[1]);
            break;
        case 0:
            rc = reply(KC_ERROR, refusal, strlen(refusal));
            break;
        default:
            rc = reply(KC_ERROR, "unknown request", 15);
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
    for (size_t i = 0; i < sizeof snippets / sizeof *snippets; i++)
        snippet_clear(&snippets[i]);
    if (Py_FinalizeEx() < 0)
        rc = 2;
    return rc;
}
