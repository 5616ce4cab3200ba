# A script becomes an executable: output, argv, __file__, exit status.
. "$(dirname "$0")/lib.sh"
cat >"$T/hello.py" <<'PY'
import sys, json
print("hello", json.dumps(sys.argv[1:]))
print("file", __file__ == sys.executable + "/hello.py", __name__)
print("exe", sys.executable)
PY
build "$T/hello.py" -o "$T/hello"
run "$T/hello" a "b c"
expect_eq "exit status" 0 "$RC"
expect_eq "output" "hello [\"a\", \"b c\"]
file True __main__
exe $T/hello" "$OUT"
expect_eq "stderr" "" "$ERR"

# The app is hermetic: no site, no PYTHON* variables; the filesystem finder
# comes after kiln's importer, as under python3, and sys.path holds no folder
# on disk (e2e 44).
cat >"$T/env.py" <<'PY'
import sys
print(sys.flags.isolated, sys.flags.no_site, "site" in sys.modules)
print([type(f).__name__ for f in sys.meta_path])
print(sys.flags.dont_write_bytecode)
PY
build "$T/env.py" -o "$T/env"
PYTHONPATH=/nonexistent PYTHONSTARTUP=/nonexistent PYTHONINSPECT=1 run "$T/env"
expect_eq "hermetic" "1 1 False
['Importer', 'type', 'type', 'type']
1" "$OUT"

# A module that is not packed is not found on disk either: a dynamic import
# is not seen at build time, so sidemod stays out.
mkdir -p "$T/side"
echo 'print("from disk")' >"$T/side/sidemod.py"
echo 'import importlib; importlib.import_module("side" + "mod")' >"$T/side/main.py"
build "$T/side/main.py" -o "$T/side/app"
cd "$T/side" && run ./app; cd - >/dev/null
expect_eq "unpacked module exit" 1 "$RC"
expect_contains "unpacked module error" "ModuleNotFoundError: No module named 'sidemod'" "$ERR"

# What the script imports from its own folder is packed, as python3 would
# find it there: modules, packages, and what they import in turn; the rest
# of the folder is not.
mkdir -p "$T/proj/util" "$T/proj/unused"
cat >"$T/proj/main.py" <<'PY'
import helper
from util import fmt
print(helper.greet(), fmt.shout("x"))
PY
printf 'import deep\ndef greet():\n    return "hi " + deep.NAME\n' >"$T/proj/helper.py"
echo 'NAME = "deep"' >"$T/proj/deep.py"
touch "$T/proj/util/__init__.py"
echo 'def shout(s): return s.upper()' >"$T/proj/util/fmt.py"
echo 'raise SystemExit("never packed")' >"$T/proj/unused/__init__.py"
echo 'import nothing_here' >"$T/proj/stray.py"
build "$T/proj/main.py" -o "$T/projapp"
rm -rf "$T/proj"
run "$T/projapp"
expect_eq "neighbours packed" "hi deep X" "$OUT"
run "$KILN" inspect "$T/projapp"
expect_not_contains "unused folder not packed" "  unused" "$OUT"
expect_not_contains "stray module not packed" "  stray" "$OUT"
finish
