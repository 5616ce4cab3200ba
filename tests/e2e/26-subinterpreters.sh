# Subinterpreters import the packed stdlib too (they start with importlib's
# own finders only), in interpreter mode and in an app; an extension
# module imported by several interpreters is one library, as a .so file
# is under python3, so that their shared state (channels) is shared. On
# 3.12+ a subinterpreter has a GIL of its own by default, and _kiln is
# made for that (kilnmod.c, locks.h).
. "$(dirname "$0")/lib.sh"
# The modules $PY has: 3.12 moved channels out of _xxsubinterpreters, to
# _xxinterpchannels; 3.13 renamed both (_interpreters, _interpchannels).
read -r SUBI CHAN <<<"$("$PY" -I -S -c '
import importlib.util as u
subi = next(m for m in ("_interpreters", "_xxsubinterpreters") if u.find_spec(m))
chan = next((m for m in ("_interpchannels", "_xxinterpchannels") if u.find_spec(m)), subi)
print(subi, chan)')"
# XI: the same few functions over whichever modules and calls $PY has,
# run (exec) first by the code of every interpreter below.
XI=$("$PY" -I -S -c 'import sys; print(repr(sys.stdin.read()))' <<PY
import $SUBI as interpreters, $CHAN as channels
def attr(*names):
    return next(getattr(channels, n) for n in names if hasattr(channels, n))
def new_channel():
    try:
        return attr("channel_create", "create")()
    except TypeError:  # 3.13: what becomes of a gone sender's items (1: removed)
        return attr("channel_create", "create")(1)
def put(cid, data):
    try:  # 3.13 waits for a receiver, unless told not to
        attr("channel_send", "send")(cid, data, blocking=False)
    except TypeError:
        attr("channel_send", "send")(cid, data)
def get(cid):
    item = attr("channel_recv", "recv")(cid)
    return item[0] if isinstance(item, tuple) else item  # 3.13: (obj, flag)
def run(sub, code):
    failed = interpreters.run_string(sub, "exec(XI)\n" + code, {"XI": XI})
    if failed is not None:  # 3.13 returns what 3.10 to 3.12 raise
        raise RuntimeError(failed.formatted)
PY
)
XI="XI = $XI
exec(XI)"
build --interpreter -o "$T/py"
code="$XI
cid = new_channel()
sub = interpreters.create()
run(sub, 'import json, sys; assert json.__file__.startswith(sys.executable); put(%d, json.dumps(0).encode())' % cid)
print(get(cid).decode())
run(sub, 'put(%d, b\"from the subinterpreter\")' % cid)
print(get(cid).decode())"
run "$T/py" -c "$code"
expect_eq "interpreter: subinterpreters" "0
from the subinterpreter" "$OUT"
echo "$code" >"$T/app.py"
build "$T/app.py" -o "$T/app"
run "$T/app"
expect_eq "app: subinterpreters" "0
from the subinterpreter" "$OUT"
# kiln's Python half (resources, metadata) is per interpreter: one that a
# destroyed subinterpreter loaded first must not be what the main one uses.
cat >"$T/meta.py" <<PY
$XI
sub = interpreters.create()
run(sub, "import importlib.resources as r; r.files('json')")
interpreters.destroy(sub)
import importlib.resources as r
print(r.files("json").joinpath("__init__.py").read_text()[:4])
PY
build "$T/meta.py" -o "$T/meta"
run "$T/meta"
expect_eq "resources after a subinterpreter loaded them first" 'r"""' "$OUT$ERR"
# Each interpreter has its own _kiln, importer and types (kilnmod.c), not
# the main interpreter's objects.
cat >"$T/own.py" <<PY
$XI
import sys, _kiln
cid = new_channel()
sub = interpreters.create()
run(sub, f"""import sys, _kiln
imp = sys.meta_path[0]
put({cid}, repr((type(imp) is _kiln.Importer, id(imp), id(_kiln.Importer), id(_kiln))).encode())""")
mine, *ids = eval(get(cid).decode())
print(mine, [i != m for i, m in zip(ids, (id(sys.meta_path[0]), id(_kiln.Importer), id(_kiln)))])
PY
build "$T/own.py" -o "$T/own"
run "$T/own"
expect_eq "a subinterpreter's own importer" "True [True, True, True]" "$OUT$ERR"
# A subinterpreter with the default config (3.12+: isolated, with a GIL of
# its own) imports a packed module and reads a packed resource, and a
# single-phase extension module loaded from memory is refused there
# exactly as python3 refuses it from a file (3.10 and 3.11 import it).
mkdir -p "$T/iso/pkg"
echo 'VALUE = "packed module"' >"$T/iso/pkg/__init__.py"
echo "packed resource" >"$T/iso/pkg/data.txt"
cat >"$T/iso/_single.c" <<'C'
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_single", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__single(void) { return PyModule_Create(&def); }
C
gcc -shared -fPIC -I"$TARGET_INCLUDE" -o "$T/iso/_single$TARGET_EXT_SUFFIX" \
    "$T/iso/_single.c" || fail "cannot build the fixture _single"
cat >"$T/iso.py" <<PY
$XI
cid = new_channel()
sub = interpreters.create()
run(sub, f"""import importlib.resources as r, pkg
put({cid}, (pkg.VALUE + ", " + r.files("pkg").joinpath("data.txt").read_text().strip()).encode())
try:
    import _single
    put({cid}, b"imported _single")
except ImportError as e:
    put({cid}, repr((e.name, str(e))).encode())""")
print(get(cid).decode())
print(get(cid).decode())
PY
build "$T/iso.py" --path "$T/iso" -o "$T/iso-app"
mv "$T/iso" "$T/iso.away"
run "$T/iso-app"
app=$OUT$ERR
mv "$T/iso.away" "$T/iso"
# python3's subinterpreter has the folder on sys.path through PYTHONPATH.
PYTHONPATH=$T/iso run "$PY" "$T/iso.py"
expect_eq "isolated subinterpreter: as $PY" "$OUT$ERR" "$app"
expect_contains "isolated subinterpreter: packed" \
    "packed module, packed resource" "$app"
if [ "$TARGET_HEXVERSION" -ge $((0x030C0000)) ]; then
    expect_contains "isolated subinterpreter: single-phase refused" \
        "module _single does not support loading in subinterpreters" "$app"
fi
finish
