# --interpreter: a one-file python3 command line with the stdlib in memory.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
py="$T/py"
same "-c and argv" -c 'import sys; print(sys.argv)' a b
same "-m json.tool" -m json.tool --help
same "-V" -V
same "-I" -I -c 'import sys; print(sys.flags.isolated, sys.flags.ignore_environment, sys.flags.no_user_site)'
same "-E -s" -E -s -c 'import sys; print(sys.flags.ignore_environment, sys.flags.no_user_site)'
same "-S" -S -c 'import sys; print("site" in sys.modules, sys.flags.no_site)'
same "-B" -B -c 'import sys; print(sys.dont_write_bytecode)'
same "-W" -W error -c 'import sys; print(sys.warnoptions)'
same "-X" -X dev -c 'import sys; print(sys.flags.dev_mode)'
same "-u" -u -c 'import sys; print(sys.stdout.write_through)'
same "-O" -O -c 'import sys; assert False; print(sys.flags.optimize)'
same "-OO" -OO -c 'import sys; print(sys.flags.optimize, __doc__)'
same "frozen modules off" -X frozen_modules=off -c 'import os, runpy; print(os.sep, runpy.__name__)'
same "exit status" -c 'raise SystemExit(4)'
same "unknown option" --no-such-option
run "$py" -h
expect_contains "-h" "usage:" "$OUT"
expect_eq "-h status" 0 "$RC"

echo 'import sys; print("stdin script", sys.argv)' >"$T/s.py"
out=$("$py" - x <"$T/s.py")
expect_eq "- reads stdin" "stdin script ['-', 'x']" "$out"
out=$("$py" <"$T/s.py")
expect_eq "piped stdin" "stdin script ['']" "$out"

# A script path: sys.path[0] is its folder, so its neighbours import.
mkdir -p "$T/proj" "$T/pp"
echo 'VALUE = "neighbour"' >"$T/proj/nb.py"
echo 'import nb, json, sys; print(nb.VALUE, sys.argv[1:], json.__file__ == sys.executable + "/json/__init__.py")' >"$T/proj/main.py"
run "$py" "$T/proj/main.py" 1 2
expect_eq "script path" "neighbour ['1', '2'] True" "$OUT"

# sys.path order decides, as under python3: the script's folder shadows the
# stdlib; under -I (no script folder on sys.path) the packed stdlib wins.
# The packed stdlib comes last but for the disk stdlib folder (e2e 24).
mkdir -p "$T/shadow"
echo 'X = "mine"' >"$T/shadow/random.py"
echo 'import random, sys; print(random.X, sys.path[-2:] == [sys.executable, sys.prefix + "/'"$TARGET_LIB"'"])' >"$T/shadow/main.py"
run "$py" "$T/shadow/main.py"
expect_eq "script folder shadows the stdlib" "mine True" "$OUT"
run "$py" -I -c 'import random, sys; print(random.__file__ == sys.executable + "/random.py")'
expect_eq "-I: packed stdlib" "True" "$OUT"

# PYTHONPATH is honoured for what is not packed, ignored under -E and -I.
echo 'WHERE = "pythonpath"' >"$T/pp/ppmod.py"
out=$(PYTHONPATH="$T/pp" "$py" -c 'import ppmod; print(ppmod.WHERE)')
expect_eq "PYTHONPATH" "pythonpath" "$out"
out=$(PYTHONPATH="$T/pp" "$py" -E -c 'import ppmod' 2>&1)
expect_contains "PYTHONPATH under -E" "No module named 'ppmod'" "$out"

# pkg.__init__ is the package's __init__.py as a module of its own, and a
# submodule is looked up in its parent's __path__ (an alias here), as
# python3's FileFinder does (e2e 45 for apps).
same "pkg.__init__" -c 'import json.__init__ as m, json; print(m.__name__, m.__file__ == json.__file__, hasattr(m, "__path__"))'
same "alias in sys.modules" -c 'import sys, email.mime; sys.modules["em"] = email.mime; import em.text; print(em.text.__name__, em.text.__file__.endswith("email/mime/text.py"))'

# The packed stdlib wins over what is on disk; -m on disk modules works too.
run "$py" -c 'import os, sys; print(os.path.__name__, sys.modules["json"] if "json" in sys.modules else "-")'
expect_eq "stdlib" "posixpath -" "$OUT"
(cd "$T/proj" && "$py" -m nb >/dev/null) || fail "-m of a module in the current folder"

# The REPL, when stdin is a terminal.
if command -v script >/dev/null; then
    out=$(printf 'print(6 * 7)\nimport json; json.__name__\nexit()\n' |
          script -qec "$py -q" /dev/null 2>&1 | tr -d '\r')
    expect_contains "REPL prints" "42" "$out"
    expect_contains "REPL imports" "'json'" "$out"
    expect_not_contains "REPL -q hides banner" "Type \"help\"" "$out"
fi

# sys.executable is the invoked path, as python3's: a venv made by the kiln
# interpreter works, and its bin/python sees the venv.
run "$py" -m venv --without-pip "$T/venv"
expect_eq "venv: status" 0 "$RC"
run "$T/venv/bin/python" -c 'import sys; print(sys.prefix, sys.executable, sys.path[-1])'
expect_eq "venv python" "$T/venv $T/venv/bin/python $T/venv/$TARGET_LIB/site-packages" "$OUT"
cd "$T" && run ./py -c 'import sys; print(sys.executable)'; cd - >/dev/null
expect_eq "relative argv[0]" "$T/py" "$OUT"

# sys.executable runs the same interpreter: subprocess works.
run "$py" -c 'import subprocess, sys; print(subprocess.run([sys.executable, "-c", "print(6*7)"], capture_output=True, text=True).stdout.strip())'
expect_eq "subprocess of sys.executable" "42" "$OUT"
finish
