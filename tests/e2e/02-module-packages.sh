# -m MODULE with --path: packages, subpackages, namespace packages, data
# files inside packages, get_data, __file__ and __path__.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/tool/sub" "$T/src/nspkg/inner" "$T/src/tool/data" "$T/extra"
cat >"$T/src/tool/__init__.py" <<'PY'
VERSION = "1.2"
PY
cat >"$T/src/tool/__main__.py" <<'PY'
import os, sys, pkgutil
import tool, tool.sub.helper, nspkg.inner.mod, extramod
print("version", tool.VERSION, tool.sub.helper.double(21))
print("ns", nspkg.inner.mod.NAME, list(nspkg.__path__) == [sys.executable + "/nspkg"])
print("pkgfile", tool.__file__ == sys.executable + "/tool/__init__.py")
print("path", tool.__path__ == [sys.executable + "/tool"])
print("spec", __spec__.name, tool.__spec__.origin == tool.__file__)
print("data", pkgutil.get_data("tool", "data/table.txt").decode().strip())
here = os.path.dirname(tool.__file__)
print("loader", tool.__loader__.get_data(os.path.join(here, "data", "table.txt")) == b"a,b\n")
print("extra", extramod.X)
print("argv", sys.argv[1:])
PY
cat >"$T/src/tool/sub/__init__.py" <<'PY'
PY
cat >"$T/src/tool/sub/helper.py" <<'PY'
def double(x):
    return 2 * x
PY
printf 'a,b\n' >"$T/src/tool/data/table.txt"
echo 'NAME = "inner"' >"$T/src/nspkg/inner/mod.py"
echo 'X = 7' >"$T/extra/extramod.py"
# It reads data beside tool.__file__, which would extract it: kept virtual.
build -m tool --path "$T/src" --path "$T/extra" --no-extract tool -o "$T/tool"
run "$T/tool" --flag
expect_eq "exit status" 0 "$RC"
expect_eq "output" "version 1.2 42
ns inner True
pkgfile True
path True
spec tool.__main__ True
data a,b
loader True
extra 7
argv ['--flag']" "$OUT"

# get_data of a missing path raises FileNotFoundError.
cat >"$T/extra/missing.py" <<'PY'
import sys
try:
    __loader__.get_data(sys.executable + "/nope.txt")
except FileNotFoundError as e:
    print("missing ok")
PY
build "$T/extra/missing.py" -o "$T/missing"
run "$T/missing"
expect_eq "missing data" "missing ok" "$OUT"

# A package without __main__ cannot be run with -m: refused at build time.
run "$KILN" build -q -m tool.sub --path "$T/src" -o "$T/nomain"
expect_eq "no __main__ exit" 1 "$RC"
expect_contains "no __main__ message" "'tool.sub' is a package with no __main__" "$ERR"
[ -e "$T/nomain" ] && fail "output written for a failed build"

# An unknown module names the folders searched.
run "$KILN" build -q -m nosuch --path "$T/src" -o "$T/nosuch"
expect_eq "unknown module exit" 1 "$RC"
expect_contains "unknown module message" "module 'nosuch' not found" "$ERR"
expect_contains "searched folders" "searched: $T/src" "$ERR"

# Module attributes match what importlib gives a module from disk; the
# cache tag (cpython-311) is the target's, given as the argument.
cat >"$T/extra/attrs.py" <<'PY'
import sys, json.decoder, email.mime.text
exe, tag = sys.executable, sys.argv[1]
for m in (json.decoder, email.mime.text):
    rel = m.__name__.replace(".", "/")
    head, _, tail = rel.rpartition("/")
    print(m.__package__, m.__file__ == f"{exe}/{rel}.py",
          m.__cached__ == f"{exe}/{head}/__pycache__/{tail}.{tag}.pyc",
          m.__spec__.origin == m.__file__, m.__spec__.cached == m.__cached__,
          m.__loader__ is sys.meta_path[0])
print(json.__path__ == [exe + "/json"], json.__spec__.submodule_search_locations == json.__path__)
PY
build "$T/extra/attrs.py" -o "$T/attrs"
run "$T/attrs" "$TARGET_TAG"
expect_eq "module attributes" "json True True True True True
email.mime True True True True True
True True" "$OUT"

# Imports from many threads at once, reload, importlib.util.find_spec.
# fractions stands in for tomllib where the target has none (3.10).
toml=tomllib
target_has '__import__("importlib.util").util.find_spec("tomllib")' || toml=fractions
cat >"$T/extra/threads.py" <<PY
import importlib, importlib.util, sys, threading
names = ["csv", "decimal", "email.parser", "xml.dom.minidom", "json",
         "asyncio", "sqlite3", "http.client", "$toml", "zipfile"]
errors = []
def work(name):
    try:
        importlib.import_module(name)
    except Exception as e:
        errors.append((name, e))
threads = [threading.Thread(target=work, args=(n,)) for n in names * 3]
for t in threads: t.start()
for t in threads: t.join()
import json
json.MARK = 1
importlib.reload(json)
print(errors, all(n in sys.modules for n in names), hasattr(json, "MARK"))
print(importlib.util.find_spec("csv").origin == sys.executable + "/csv.py")
print(importlib.util.find_spec("no_such_module_at_all"))
PY
build "$T/extra/threads.py" -o "$T/threads"
run "$T/threads"
expect_eq "threads, reload, find_spec" "[] True True
True
None" "$OUT"

# A module named like a built-in one is not packed, with a warning: the
# built-in one is what python imports. math is built into Debian's
# libpython, a lib-dynload extension in a default CPython build; time is
# built into both.
builtin=math
target_has '"math" in sys.builtin_module_names' || builtin=time
echo "import $builtin; print(hasattr($builtin, 'SHADOW'))" >"$T/extra/usesbuiltin.py"
echo 'SHADOW = 1' >"$T/extra/$builtin.py"
run "$KILN" build -q "$T/extra/usesbuiltin.py" --path "$T/extra" -o "$T/usesbuiltin"
expect_contains "built-in shadow warning" "module '$builtin' is built into the target Python" "$ERR"
run "$T/usesbuiltin"
expect_eq "built-in wins" "False" "$OUT"

# A folder without __init__.py beside a module of the same name (stubs of
# an extension, say) is not a namespace package: the module wins.
mkdir -p "$T/shadow/pkg/core"
: >"$T/shadow/pkg/__init__.py"
echo 'KIND = "module"' >"$T/shadow/pkg/core.py"
echo 'x: int' >"$T/shadow/pkg/core/stub.pyi"
echo 'import pkg.core; print(pkg.core.KIND)' >"$T/shadow/main.py"
build "$T/shadow/main.py" -o "$T/shadowed"
run "$T/shadowed"
expect_eq "module beats namespace folder" "module" "$OUT"
finish
