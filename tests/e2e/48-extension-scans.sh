# What extension modules tell the build: a C module with a .py twin (as
# mypyc leaves them) is scanned through the twin, imports and __file__
# arithmetic both; one without a twin that names __file__ in its C code
# gets its package extracted (Cython's module set-up, which names it in
# every module, does not count); module names its C code imports
# (PyImport_ImportModule("_cffi_backend")) are imports: packed when the
# site folders hold them, named in the warning otherwise.
. "$(dirname "$0")/lib.sh"
export KILN_CACHE_DIR="$T/cache"
INC=/usr/include/python3.11
EXT=cpython-311-x86_64-linux-gnu.so
mkdir -p "$T/c" "$T/src/twinpkg" "$T/src/cfile" "$T/src/cyth" "$T/src/cimp" \
    "$T/inst" "$T/empty"
unset PYTHONPATH

# extension NAME OUTPUT C-CODE: a module whose method value() runs C-CODE
# (a statement block returning a PyObject*; m is the module).
extension() {
    cat >"$T/c/$1.c" <<C
#include <Python.h>
static PyObject *value(PyObject *m, PyObject *a) { $3 }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "$1", NULL, -1, methods};
PyMODINIT_FUNC PyInit_$1(void) { return PyModule_Create(&def); }
C
    gcc -shared -fPIC -I$INC -o "$2" "$T/c/$1.c" || fail "cannot build $2"
}

# (a) A compiled module and its source, as mypyc installs them: the twin
# reads a file beside __file__ and imports something missing.
touch "$T/src/twinpkg/__init__.py"
echo "twin data" >"$T/src/twinpkg/data.txt"
extension reader "$T/src/twinpkg/reader.$EXT" 'return PyLong_FromLong(1);'
cat >"$T/src/twinpkg/reader.py" <<'PY'
import os
import twin_only_dep
with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
    DATA = f.read()
PY
# (b) No twin: the C code reads data.txt beside its own __file__.
touch "$T/src/cfile/__init__.py"
echo "data beside the C module" >"$T/src/cfile/data.txt"
extension _impl "$T/src/cfile/_impl.$EXT" '
    PyObject *file = PyObject_GetAttrString(m, "__file__"), *text = NULL;
    PyObject *path = file ? PyImport_ImportModule("os.path") : NULL;
    PyObject *dir = path ? PyObject_CallMethod(path, "dirname", "O", file) : NULL;
    PyObject *name = dir ? PyObject_CallMethod(path, "join", "Os", dir, "data.txt") : NULL;
    PyObject *io = name ? PyImport_ImportModule("io") : NULL;
    PyObject *f = io ? PyObject_CallMethod(io, "open", "O", name) : NULL;
    if (f) {
        text = PyObject_CallMethod(f, "read", NULL);
        Py_XDECREF(PyObject_CallMethod(f, "close", NULL));
    }
    Py_XDECREF(f); Py_XDECREF(io); Py_XDECREF(name); Py_XDECREF(dir);
    Py_XDECREF(path); Py_XDECREF(file);
    return text;'
# (c) Cython's module set-up strings, "__file__" among them, and nothing
# else about files.
touch "$T/src/cyth/__init__.py"
extension _gen "$T/src/cyth/_gen.$EXT" '
    static const char *const spec[] = {"loader", "__loader__", "origin",
        "__file__", "parent", "__package__", "submodule_search_locations",
        "__path__", NULL};
    long n = 0;
    while (spec[n]) n++;
    return PyLong_FromLong(n);'
# (d) C code that imports modules: one installed without metadata, cffi's
# backend (well known), and strings that are not imports ("py", "attr",
# its own package's names).
touch "$T/src/cimp/__init__.py"
echo 'NAME = "fake backend"' >"$T/inst/_fake_backend.py"
mkdir -p "$T/inst/py" "$T/inst/attr"
touch "$T/inst/py/__init__.py" "$T/inst/attr/__init__.py"
extension _bind "$T/src/cimp/_bind.$EXT" '
    static const char *const words[] = {"py", "attr", "cimp.other", NULL};
    PyObject *b = PyImport_ImportModule("_fake_backend"), *name;
    if (!b) return NULL;
    name = PyObject_GetAttrString(b, "NAME");
    Py_DECREF(b);
    (void)words;
    return name;'
extension _user "$T/src/cimp/_user.$EXT" '
    return PyImport_ImportModule("_cffi_backend");'
cat >"$T/app.py" <<'PY'
import twinpkg.reader, cfile._impl, cyth._gen, cimp._bind
print(twinpkg.reader.value(), cfile._impl.value().strip(), cyth._gen.value(),
      cimp._bind.value())
PY

run env PYTHONPATH="$T/inst" "$KILN" build -v "$T/app.py" --path "$T/src" \
    -o "$T/app"
expect_eq "build" 0 "$RC"
expect_contains "twin: extracted" "kiln: extracting twinpkg: extension module twinpkg.reader line 3 uses __file__ in a path (in the .py beside it)" "$ERR"
expect_contains "twin: its imports" "twin_only_dep (imported by twinpkg.reader:2)" "$ERR"
expect_contains "C code: extracted" "kiln: extracting cfile: the C code of extension module cfile._impl names __file__" "$ERR"
expect_not_contains "Cython's set-up: not extracted" "extracting cyth" "$ERR"
expect_contains "C import: packed" "kiln: packing _fake_backend (imported by the C code of cimp._bind), installed without metadata in $T/inst" "$ERR"
expect_contains "C import: well known" "_cffi_backend (imported by cimp._user (C code))" "$ERR"
for word in "  py " "  attr " "cimp.other" "  os" "  io "; do
    expect_not_contains "not an import: $word" "$word" "$ERR"
done
out=$("$KILN" inspect "$T/app")
expect_contains "inspect: twinpkg" "twinpkg.reader  (extract)" "$out"
expect_contains "inspect: cfile" "cfile._impl  (extract)" "$out"
expect_not_contains "inspect: cyth" "cyth._gen  (extract)" "$out"
expect_contains "inspect: the backend" " _fake_backend" "$out"
# The C code finds its data file, and its import, from the executable.
mv "$T/src" "$T/src.moved"
run "$T/app"
expect_eq "app runs" "1 data beside the C module 8 fake backend" "$OUT$ERR"
mv "$T/src.moved" "$T/src"

# Without the site folders (--site-packages names what the app gets), the
# C code's import is named, with what packs it.
run env PYTHONPATH="$T/inst" "$KILN" build -q "$T/app.py" --path "$T/src" \
    --site-packages "$T/empty" -o "$T/app2"
expect_contains "C import: named" "_fake_backend (imported by cimp._bind (C code)): installed without distribution metadata; add --package _fake_backend" "$ERR"

# A real mypyc-compiled package: Debian's mypy reads typeshed beside its
# modules' __file__.
if [ -x /usr/bin/mypy ] && [ -d /usr/lib/python3/dist-packages/mypy ]; then
    run "$KILN" build -q /usr/bin/mypy --package mypy -o "$T/mypy"
    expect_eq "mypy: build" 0 "$RC"
    printf 'x: int = "a"\n' >"$T/bad.py"
    run "$T/mypy" --no-incremental "$T/bad.py"
    expect_eq "mypy: status" 1 "$RC"
    expect_contains "mypy: checks" 'Incompatible types in assignment (expression has type "str", variable has type "int")' "$OUT"
fi
finish
