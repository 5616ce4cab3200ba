# An app's sys.path has python3's shape ([exe, exe]: the script's folder
# entry, then the packed modules), and folders that the app itself puts on
# sys.path are searched as python3 searches them, after the packed modules:
# test runners, doc builders and linters load the user's code that way.
# The duplicate entry duplicates no distribution or module listing. A
# top-level module that is not packed says so in its ModuleNotFoundError,
# on every CPython (3.12 formats importlib's message in place), while
# importlib.util.find_spec() still returns None for it.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/app" "$T/work/plug/diskpkg" "$T/work/shadow"
echo 'NAME = "mymod from plug"' >"$T/work/plug/mymod.py"
echo 'import json, helper2; VALUE = json.dumps([helper2.X])' >"$T/work/plug/diskpkg/__init__.py"
echo 'SUB = "disk sub"' >"$T/work/plug/diskpkg/sub.py"
echo 'X = 2' >"$T/work/plug/helper2.py"
echo 'raise SystemExit("the packed json must win")' >"$T/work/shadow/json.py"
mkdir -p "$T/site/dist_a" "$T/site/dist_a-1.0.dist-info"
echo 'A = 1' >"$T/site/dist_a/__init__.py"
printf 'Metadata-Version: 2.1\nName: dist-a\nVersion: 1.0\n' \
    >"$T/site/dist_a-1.0.dist-info/METADATA"
printf 'dist_a/__init__.py,,\ndist_a-1.0.dist-info/METADATA,,\n' \
    >"$T/site/dist_a-1.0.dist-info/RECORD"
cat >"$T/app/main.py" <<'PY'
import importlib, os, sys
exe = sys.executable
print("path", sys.path == [exe, exe])
print("meta", [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path])
# coverage's execfile reads sys.path[1] when sys.path[0] is a file
print("path[1]", sys.path[1] == exe, os.path.dirname(sys.path[0]) != sys.path[1])
sys.path.insert(0, "plug")
print("mymod", importlib.import_module("mymod").NAME)
import diskpkg.sub
print("diskpkg", diskpkg.VALUE, diskpkg.sub.SUB, diskpkg.__file__)
sys.path.insert(0, os.path.abspath("shadow"))
import json
print("packed wins", json.__file__ == exe + "/json/__init__.py")
import importlib.metadata as md, pkgutil
names = [d.metadata["Name"] for d in md.distributions()]
print("dists", sorted(names))
mods = [m.name for m in pkgutil.iter_modules()]
print("iter_modules once", len(mods) == len(set(mods)), "dist_a" in mods, "mymod" in mods)
import importlib.machinery, importlib.util
print("find_spec", importlib.util.find_spec("settings_not_packed"))
try:
    import settings_not_packed
except ModuleNotFoundError as e:
    print("not packed", type(e).__name__, e.name, e.path, e.args == (e.msg,))
    print(e)
try:
    from other_not_packed.sub import x
except ModuleNotFoundError as e:
    print("from", e.name, "(kiln: 'other_not_packed' is not packed" in str(e))
try:
    import json.not_there
except ModuleNotFoundError as e:
    print("submodule", e)
try:
    import uses_missing
except ModuleNotFoundError as e:
    print("inner", e.name, "(kiln: 'missing_dep' is not packed" in str(e))
# A finder the app appends after PathFinder is still asked.
class Late:
    def find_spec(self, name, path, target=None):
        if name == "late_mod":
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        module.X = "late"
sys.meta_path.append(Late())
import late_mod
print("appended finder", late_mod.X)
PY
echo 'import missing_dep' >"$T/app/uses_missing.py"
build "$T/app/main.py" --site-packages "$T/site" -o "$T/app/app"
cd "$T/work" && run "$T/app/app"; cd - >/dev/null
expect_eq "status" 0 "$RC"
expect_eq "output" "path True
meta ['Importer', 'BuiltinImporter', 'FrozenImporter', 'PathFinder']
path[1] True True
mymod mymod from plug
diskpkg [2] disk sub $T/work/plug/diskpkg/__init__.py
packed wins True
dists ['dist-a']
iter_modules once True True True
find_spec None
not packed ModuleNotFoundError settings_not_packed None True
No module named 'settings_not_packed' (kiln: 'settings_not_packed' is not packed in $T/app/app, and an app does not import from PYTHONPATH; build it with --path DIR or --package NAME)
from other_not_packed True
submodule No module named 'json.not_there'
inner missing_dep True
appended finder late" "$OUT"
expect_eq "stderr" "" "$ERR"

# A -m app gets the same sys.path: the packed entries, never the current
# folder (python3 -m puts it first).
mkdir -p "$T/src/tool"
echo 'import sys; print(sys.path == [sys.executable] * 2)' >"$T/src/tool/__main__.py"
: >"$T/src/tool/__init__.py"
build -m tool --path "$T/src" -o "$T/tool"
cd "$T/work" && run "$T/tool"; cd - >/dev/null
expect_eq "-m app sys.path" "True" "$OUT"

# pkg_resources' working set holds each packed distribution once.
if [ -d /usr/lib/python3/dist-packages/pkg_resources ]; then
    cat >"$T/pr.py" <<'PY'
import sys, warnings
warnings.simplefilter("ignore")
import pkg_resources as pr
keys = [d.key for d in pr.working_set]
print(sorted(keys), len(keys) == len(set(keys)), pr.working_set.entries[:2] == sys.path[:2])
PY
    build "$T/pr.py" --site-packages "$T/site" --package pkg_resources -o "$T/pr"
    run "$T/pr"
    expect_eq "pkg_resources working set" "['dist-a'] True True" "$OUT"
fi

# An uncaught one: the traceback's last line names what to do.
echo 'import importlib; importlib.import_module("myproject.settings")' >"$T/dyn.py"
build "$T/dyn.py" -o "$T/dyn"
run "$T/dyn"
expect_eq "not packed: status" 1 "$RC"
expect_contains "not packed: message" "ModuleNotFoundError: No module named 'myproject' (kiln: 'myproject' is not packed in $T/dyn, and an app does not import from PYTHONPATH; build it with --path DIR or --package NAME)" "$ERR"

# coverage (Debian's python3-coverage) reads sys.path[1] and runs a script
# that imports a module beside it.
if [ -d /usr/lib/python3/dist-packages/coverage ]; then
    mkdir -p "$T/cov"
    echo 'def add(a, b):
    return a + b' >"$T/cov/helper.py"
    echo 'import helper; print(helper.add(1, 2))' >"$T/cov/prog.py"
    build /usr/bin/python3-coverage --package coverage -o "$T/coverage"
    cd "$T/cov" && run "$T/coverage" run prog.py && out=$OUT &&
        run "$T/coverage" report; cd - >/dev/null
    expect_eq "coverage run" "3" "$out"
    expect_contains "coverage report" "helper.py       2      0   100%" "$OUT"
    # Debian links coverage's htmlfiles into /usr/share: packed all the same.
    cd "$T/cov" && run "$T/coverage" html; cd - >/dev/null
    expect_eq "coverage html" "0 Wrote HTML report to htmlcov/index.html" "$RC $OUT"
    expect_eq "coverage html: its style" "$(cat /usr/share/python3-coverage/htmlfiles/style.css)" "$(cat "$T/cov/htmlcov/style.css")"
fi
finish
