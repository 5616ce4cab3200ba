# C extension modules of the app load from memory, and so do the shared
# libraries their package bundles (auditwheel's pkg.libs/ layout): the app
# still runs once the folders it was built from are gone, and never looks
# for a bundled library on disk. Libraries that are not bundled stay the
# host's and `kiln inspect` lists them. An extension that cannot load gets
# an ImportError naming the module and the dynamic loader's reason.
. "$(dirname "$0")/lib.sh"
# Built with the target's headers, named with its suffix.
INC=$TARGET_INCLUDE
EXT=${TARGET_EXT_SUFFIX#.}
mkdir -p "$T/c" "$T/site/plain" "$T/site/pkg" "$T/site/pkg.libs" \
    "$T/site/bad" "$T/host"

# An extension module exporting value() = the C expression given.
extension() { # NAME C-EXPRESSION DECLARATIONS OUTPUT GCC-ARGS...
    local name=$1 expr=$2 decl=$3 out=$4
    shift 4
    cat >"$T/c/$name.c" <<C
#include <Python.h>
$decl
static PyObject *value(PyObject *m, PyObject *a) { return PyLong_FromLong($expr); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "$name", NULL, -1, methods};
PyMODINIT_FUNC PyInit_$name(void) { return PyModule_Create(&def); }
C
    gcc -shared -fPIC -I$INC -o "$out" "$T/c/$name.c" "$@" ||
        fail "cannot build the fixture $out"
}
library() { # SONAME C-SOURCE OUTPUT GCC-ARGS...
    local soname=$1 src=$2 out=$3
    shift 3
    echo "$src" >"$T/c/$soname.c"
    gcc -shared -fPIC -o "$out" "$T/c/$soname.c" -Wl,-soname,"$soname" "$@" ||
        fail "cannot build the fixture $out"
}

# (a) A package with an extension module and a data file.
touch "$T/site/plain/__init__.py"
echo "plain data" >"$T/site/plain/data.txt"
extension _speed 7 "" "$T/site/plain/_speed.$EXT"
# A folder of type stubs by the same name (as cryptography's _rust) does not
# hide the extension module: python imports the extension.
mkdir -p "$T/site/plain/_speed"
touch "$T/site/plain/_speed/__init__.pyi"

# (b) auditwheel's layout: pkg/_core needs pkg.libs/libone-abc.so.1 through
# its RUNPATH, which needs pkg.libs/libtwo-def.so.1 next to it; pkg/_other
# needs libone too.
touch "$T/site/pkg/__init__.py"
library libtwo-def.so.1 'int two(void) { return 2; }' \
    "$T/site/pkg.libs/libtwo-def.so.1"
library libone-abc.so.1 'int two(void); int one(void) { return 40 + two(); }' \
    "$T/site/pkg.libs/libone-abc.so.1" "$T/site/pkg.libs/libtwo-def.so.1" \
    -Wl,-rpath,'$ORIGIN'
extension _core "one()" "int one(void);" "$T/site/pkg/_core.$EXT" \
    "$T/site/pkg.libs/libone-abc.so.1" -Wl,-rpath,'$ORIGIN/../pkg.libs'
extension _other "one() + 1" "int one(void);" "$T/site/pkg/_other.$EXT" \
    "$T/site/pkg.libs/libone-abc.so.1" -Wl,-rpath,'$ORIGIN/../pkg.libs'

cat >"$T/app.py" <<'PY'
import pkgutil, re
import plain._speed, pkg._core, pkg._other
print(plain._speed.value(), pkgutil.get_data("plain", "data.txt").decode().strip())
print(pkg._core.value(), pkg._other.value())
maps = open("/proc/self/maps").read()
print(sorted(set(re.findall(r"memfd:(lib\S+)", maps))))
# One copy of libone, however many extensions need it.
print(len({l.split()[4] for l in maps.splitlines() if "memfd:libone" in l}))
PY
build "$T/app.py" --path "$T/site" -o "$T/app"
mv "$T/site" "$T/site.away"
run "$T/app"
expect_eq "exit" 0 "$RC"
expect_eq "output" "7 plain data
42 43
['libone-abc.so.1', 'libtwo-def.so.1']
1" "$OUT"
expect_eq "stderr" "" "$ERR"
# The dynamic loader never looks for a bundled library on disk: each
# DT_NEEDED is matched to the DT_SONAME of the copy loaded from memory.
ASAN_OPTIONS=detect_leaks=0 run strace -f -qq -e trace=%file -o "$T/trace" "$T/app"
expect_eq "exit under strace" 0 "$RC"
expect_eq "bundled libraries looked for on disk" "" \
    "$(grep -E 'libone|libtwo|site' "$T/trace")"
mv "$T/site.away" "$T/site"

run "$KILN" inspect "$T/app"
expect_eq "inspect status" 0 "$RC"
expect_contains "preload list, dependencies first" "pkg._core:
  pkg.libs/libtwo-def.so.1
  pkg.libs/libone-abc.so.1
pkg._other:
  pkg.libs/libtwo-def.so.1
  pkg.libs/libone-abc.so.1" "$OUT"
expect_contains "libraries packed as files" "  pkg.libs/libone-abc.so.1" \
    "$(echo "$OUT" | grep '^file ')"
echo "$OUT" | grep -qE '^libc\.so\.6 +glibc +_' ||
    fail "libc.so.6 listed as glibc's: $OUT"
echo "$OUT" | grep -qE '^libssl\.so\.3 +_ssl$' ||
    fail "libssl.so.3 listed as needed by _ssl: $OUT"
expect_not_contains "bundled ones are not host libraries" "
libone" "$OUT"
echo "$OUT" | grep -qE '^extension +[0-9]+ +0  pkg\._core$' ||
    fail "pkg._core's library list is not shown as its source"

# A payload whose preload list names a library that is not packed (made
# with the test tool repack, which drops one file): inspect reports the
# damage, the launcher an ImportError naming both.
"$BUILD/repack" "$T/app" "$T/nolib" "$TARGET_MAGIC_WORD" "$TARGET_HEXVERSION" \
    pkg.libs/libone-abc.so.1 || fail "repack"
run "$KILN" inspect "$T/nolib"
expect_eq "inspect of a missing library: status" 1 "$RC"
expect_contains "inspect of a missing library" \
    "  pkg.libs/libone-abc.so.1 (damaged: not among the files)" "$OUT"
run "$T/nolib"
expect_eq "missing library: exit" 1 "$RC"
expect_contains "missing library: module and path" "cannot load extension module 'pkg._core': its library pkg.libs/libone-abc.so.1 is not packed in $T/nolib; rebuild the executable" "$ERR"

# A library that the package does not bundle stays the host's: listed by
# inspect, found through the host's search path at run time, and named in
# the error when the host lacks it.
mkdir -p "$T/site2/needy"
touch "$T/site2/needy/__init__.py"
library libhostonly.so.1 'int host(void) { return 5; }' "$T/host/libhostonly.so.1"
extension _ext "host()" "int host(void);" "$T/site2/needy/_ext.$EXT" \
    "$T/host/libhostonly.so.1"
echo 'import needy._ext; print(needy._ext.value())' >"$T/needy.py"
build "$T/needy.py" --path "$T/site2" -o "$T/needy"
run "$KILN" inspect "$T/needy"
echo "$OUT" | grep -qE '^libhostonly\.so\.1 +needy\._ext$' ||
    fail "libhostonly.so.1 listed as a host library of needy._ext: $OUT"
run env LD_LIBRARY_PATH="$T/host" "$T/needy"
expect_eq "host library found on the host" "5" "$OUT"
run "$T/needy"
expect_eq "missing host library: exit" 1 "$RC"
expect_contains "missing host library: module" \
    "cannot load extension module 'needy._ext' ($T/needy/needy/_ext.$EXT)" "$ERR"
expect_contains "missing host library: dlerror" \
    "libhostonly.so.1: cannot open shared object file" "$ERR"
expect_contains "missing host library: what to do" "kiln inspect" "$ERR"
expect_not_contains "no /proc/self/fd in messages" "/proc/self/fd" "$ERR"

# An undefined symbol, a file that is no ELF at all, and a library next to
# the extension without a DT_SONAME (the loader could not match a copy in
# memory to it).
touch "$T/site/bad/__init__.py"
extension _undef "kiln_missing()" "int kiln_missing(void);" \
    "$T/site/bad/_undef.$EXT"
yes "not an ELF file" | head -n 100 >"$T/site/bad/_junk.$EXT"
gcc -shared -fPIC -o "$T/site/bad/libnosoname.so.1" -x c - <<<'int ns(void) { return 1; }'
extension _nosoname "ns()" "int ns(void);" "$T/site/bad/_nosoname.$EXT" \
    -L"$T/site/bad" -l:libnosoname.so.1
# A bundled library in a *.libs folder, found without a RUNPATH, that
# cannot load (an undefined symbol of its own).
mkdir -p "$T/site/bad.libs"
library libbroken-1.so.1 'int kiln_gone(void); int broken(void) { return kiln_gone(); }' \
    "$T/site/bad.libs/libbroken-1.so.1"
extension _usesbroken "broken()" "int broken(void);" \
    "$T/site/bad/_usesbroken.$EXT" -L"$T/site/bad.libs" -l:libbroken-1.so.1
# An extension whose initialization fails to import a module: the
# ModuleNotFoundError passes unchanged, as under python3.
cat >"$T/c/_needsmod.c" <<'C'
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_needsmod", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__needsmod(void)
{
    PyObject *m = PyImport_ImportModule("kiln_no_such_module");
    if (!m)
        return NULL;
    Py_DECREF(m);
    return PyModule_Create(&def);
}
C
gcc -shared -fPIC -I$INC -o "$T/site/bad/_needsmod.$EXT" "$T/c/_needsmod.c" ||
    fail "cannot build the fixture _needsmod"
cat >"$T/bad.py" <<'PY'
import sys
try:
    import bad._needsmod
except ModuleNotFoundError as e:
    print("needsmod:", e.name)
try:
    import bad._undef
except ImportError as e:
    print("undef:", e, e.name)
try:
    import bad._usesbroken
except ImportError as e:
    print("broken:", e)
import bad._junk
PY
"$KILN" build "$T/bad.py" --path "$T/site" -o "$T/bad" 2>"$T/bad-build.err" ||
    fail "build with a broken extension failed: $(cat "$T/bad-build.err")"
BUILD_ERR=$(cat "$T/bad-build.err")
expect_contains "build: not an ELF" "cannot read the libraries extension module 'bad._junk' needs (not an ELF file" "$BUILD_ERR"
expect_contains "build: no soname" "libnosoname.so.1, which bad._nosoname needs as libnosoname.so.1, is not packed: its DT_SONAME is absent" "$BUILD_ERR"
run "$T/bad"
expect_eq "bad: exit" 1 "$RC"
expect_contains "error of the module's own import" "needsmod: kiln_no_such_module" "$OUT"
expect_contains "undefined symbol: module and dlerror" "undef: kiln: cannot load extension module 'bad._undef' ($T/bad/bad/_undef.$EXT): undefined symbol: kiln_missing bad._undef" "$OUT"
expect_contains "bundled library fails: module, library and dlerror" "broken: kiln: cannot load extension module 'bad._usesbroken': its bundled library bad.libs/libbroken-1.so.1 fails to load: undefined symbol: kiln_gone" "$OUT"
expect_contains "not an ELF: module and dlerror" "cannot load extension module 'bad._junk' ($T/bad/bad/_junk.$EXT): invalid ELF header" "$ERR"
expect_not_contains "no crash" "Sanitizer" "$ERR"
run "$KILN" inspect "$T/bad"
expect_contains "inspect: unreadable extension" "note: cannot read the dependencies of bad._junk: not an ELF file" "$OUT"
echo "$OUT" | grep -qE '^libnosoname\.so\.1 +bad\._nosoname$' ||
    fail "libnosoname.so.1 listed as a host library: $OUT"

# Real Debian packages, packed from a copy that is then removed. Debian
# builds their extension modules for its own python3 only: another target
# has no such modules to load (and kiln would leave them out).
DIST=/usr/lib/python3/dist-packages
for so in zstandard/backend_c zope/interface/_zope_interface_coptimizations; do
    if [ ! -e "$DIST/$so$TARGET_EXT_SUFFIX" ]; then
        skip "Debian's zstandard and zope.interface: no $DIST/$so$TARGET_EXT_SUFFIX"
        finish
    fi
done
mkdir -p "$T/real"
cp -r "$DIST/zstandard" "$T/real/"
# zope is a namespace package: Debian's -nspkg.pth makes it one, not its
# pkg_resources __init__.py.
mkdir -p "$T/real/zope"
cp -r "$DIST/zope/interface" "$T/real/zope/"
cat >"$T/real.py" <<'PY'
import sys, zstandard
from zope.interface import Interface, implementer
from zope.interface.interface import InterfaceBase
data = b"kiln " * 1000
packed = zstandard.ZstdCompressor(level=3).compress(data)
print(zstandard.backend, len(packed) < len(data),
      zstandard.ZstdDecompressor().decompress(packed) == data)
class IGreeter(Interface):
    pass
@implementer(IGreeter)
class Greeter:
    pass
print(InterfaceBase.__module__, IGreeter.providedBy(Greeter()),
      "zope.interface._zope_interface_coptimizations" in sys.modules)
PY
build "$T/real.py" --path "$T/real" -o "$T/realapp"
rm -rf "$T/real"
run "$T/realapp"
expect_eq "zstandard and zope.interface" "cext True True
_zope_interface_coptimizations True True" "$OUT"
run "$KILN" inspect "$T/realapp"
echo "$OUT" | grep -qE '^libzstd\.so\.1 +zstandard\.backend_c$' ||
    fail "libzstd.so.1 listed as a host library of zstandard.backend_c: $OUT"
finish
