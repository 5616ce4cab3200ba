/*
 * opencode.c - the io.open_code() hook of a kiln executable. runpy (and so
 * multiprocessing's spawn and forkserver children) reads a script with
 * io.open_code(); a packed script's path <exe>/app.py is virtual, so the
 * hook serves packed paths from the payload: a file's bytes, or for a
 * module packed without its source a .pyc image of its code. Any other path
 * is opened as io.open_code() does by default: io.open(path, "rb").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <fcntl.h>

#include "importer.h"
#include "opencode.h"
#include "target.h" /* KILN_PY_MAGIC, generated at build time */

/* A .pyc image as importlib writes one: the magic number, flags 0b01
   (hash-based, never checked against a source: there is none), an 8-byte
   source hash left zero, then the marshalled code. */
static PyObject *pyc_image(PyObject *code)
{
    PyObject *data, *res;
    unsigned char head[16] = {0};

    for (int k = 0; k < 4; k++)
        head[k] = (unsigned char)(KILN_PY_MAGIC >> (8 * k));
    head[4] = 1;
    data = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
    if (!data)
        return NULL;
    res = PyBytes_FromStringAndSize(NULL, sizeof head + PyBytes_GET_SIZE(data));
    if (res) {
        memcpy(PyBytes_AS_STRING(res), head, sizeof head);
        memcpy(PyBytes_AS_STRING(res) + sizeof head, PyBytes_AS_STRING(data),
               (size_t)PyBytes_GET_SIZE(data));
    }
    Py_DECREF(data);
    return res;
}

/* runpy.run_path() gives the script it runs no loader, so linecache could
   not find its lines, and tracebacks of multiprocessing's children would
   show none: a packed .py file read here goes into linecache.cache as a
   loader's source does. A nicety: never fails the read. */
static void note_lines(PyObject *path, PyObject *source)
{
    PyObject *suffix, *linecache = NULL, *cache = NULL, *external = NULL,
                      *text = NULL, *lines = NULL, *entry = NULL;

    suffix = PyUnicode_FromString(".py");
    if (!suffix || PyUnicode_Tailmatch(path, suffix, 0, PY_SSIZE_T_MAX, 1) != 1)
        goto done;
    linecache = PyImport_ImportModule("linecache");
    cache = linecache ? PyObject_GetAttrString(linecache, "cache") : NULL;
    external = cache ? PyImport_ImportModule("_frozen_importlib_external")
                     : NULL;
    text = external ? PyObject_CallMethod(external, "decode_source", "O",
                                          source)
                    : NULL;
    lines = text ? PyUnicode_Splitlines(text, 1) : NULL;
    /* (size, mtime, lines, fullname); mtime None: never checked on disk */
    entry = lines ? Py_BuildValue("(nOOO)", PyUnicode_GET_LENGTH(text),
                                  Py_None, lines, path)
                  : NULL;
    if (entry)
        PyObject_SetItem(cache, path, entry);
done:
    PyErr_Clear();
    Py_XDECREF(suffix);
    Py_XDECREF(linecache);
    Py_XDECREF(cache);
    Py_XDECREF(external);
    Py_XDECREF(text);
    Py_XDECREF(lines);
    Py_XDECREF(entry);
}

static PyObject *open_code(PyObject *path, void *userdata)
{
    PyObject *io, *contents, *file = NULL;

    (void)userdata;
    io = PyImport_ImportModule("_io");
    if (!io)
        return NULL;
    contents = kiln_importer_path_contents(path);
    if (!contents) {
        if (!PyErr_Occurred())
            file = PyObject_CallMethod(io, "open", "Os", path, "rb");
        goto done;
    }
    /* The event io.open() raises for the file it opens. */
    if (PySys_Audit("open", "Osi", path, "r", O_RDONLY | O_CLOEXEC) < 0)
        goto done;
    if (PyCode_Check(contents))
        Py_SETREF(contents, pyc_image(contents));
    else
        note_lines(path, contents);
    file = contents ? PyObject_CallMethod(io, "BytesIO", "O", contents)
                    : NULL;
    if (file && PyObject_SetAttrString(file, "name", path) < 0)
        Py_CLEAR(file);
done:
    Py_XDECREF(contents);
    Py_DECREF(io);
    return file;
}

int kiln_opencode_install(void)
{
    return PyFile_SetOpenCodeHook(open_code, NULL);
}
