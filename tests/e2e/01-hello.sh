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

# The app is hermetic: no site, no PYTHON* variables, no filesystem finder.
cat >"$T/env.py" <<'PY'
import sys
print(sys.flags.isolated, sys.flags.no_site, "site" in sys.modules)
print([type(f).__name__ for f in sys.meta_path])
print(sys.flags.dont_write_bytecode)
PY
build "$T/env.py" -o "$T/env"
PYTHONPATH=/nonexistent PYTHONSTARTUP=/nonexistent PYTHONINSPECT=1 run "$T/env"
expect_eq "hermetic" "1 1 False
['Importer', 'type', 'type']
1" "$OUT"

# A module that is not packed is not found on disk either.
mkdir -p "$T/side"
echo 'print("from disk")' >"$T/side/sidemod.py"
echo 'import sidemod' >"$T/side/main.py"
build "$T/side/main.py" -o "$T/side/app"
cd "$T/side" && run ./app; cd - >/dev/null
expect_eq "unpacked module exit" 1 "$RC"
expect_contains "unpacked module error" "ModuleNotFoundError: No module named 'sidemod'" "$ERR"
finish
