# Subinterpreters import the packed stdlib too (they start with importlib's
# own finders only), in interpreter mode and in an app; an extension
# module imported by several interpreters is one library, as a .so file
# is under python3, so that their shared state (channels) is shared.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
code='import _xxsubinterpreters as interpreters
cid = interpreters.channel_create()
sub = interpreters.create()
interpreters.run_string(sub, "import json, sys, _xxsubinterpreters as i; assert json.__file__.startswith(sys.executable); i.channel_send(%d, json.dumps(0).encode())" % cid)
print(interpreters.channel_recv(cid).decode())
interpreters.run_string(sub, "import _xxsubinterpreters as i; i.channel_send(%d, b\"from the subinterpreter\")" % cid)
print(interpreters.channel_recv(cid).decode())'
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
cat >"$T/meta.py" <<'PY'
import _xxsubinterpreters as interpreters
sub = interpreters.create()
interpreters.run_string(sub, "import importlib.resources as r; r.files('json')")
interpreters.destroy(sub)
import importlib.resources as r
print(r.files("json").joinpath("__init__.py").read_text()[:4])
PY
build "$T/meta.py" -o "$T/meta"
run "$T/meta"
expect_eq "resources after a subinterpreter loaded them first" 'r"""' "$OUT$ERR"
# Each interpreter has its own _kiln, importer and types (kilnmod.c), not
# the main interpreter's objects.
cat >"$T/own.py" <<'PY'
import sys, _kiln, _xxsubinterpreters as interpreters
cid = interpreters.channel_create()
sub = interpreters.create()
interpreters.run_string(sub, f"""import sys, _kiln, _xxsubinterpreters as i
imp = sys.meta_path[0]
i.channel_send({cid}, repr((type(imp) is _kiln.Importer, id(imp), id(_kiln.Importer), id(_kiln))).encode())""")
mine, *ids = eval(interpreters.channel_recv(cid).decode())
print(mine, [i != m for i, m in zip(ids, (id(sys.meta_path[0]), id(_kiln.Importer), id(_kiln)))])
PY
build "$T/own.py" -o "$T/own"
run "$T/own"
expect_eq "a subinterpreter's own importer" "True [True, True, True]" "$OUT$ERR"
finish
