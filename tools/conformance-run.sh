#!/bin/bash
# conformance-run.sh KIND PYTHON OUTDIR [REGRTEST ARGS...] - runs CPython's
# regression tests ($TESTS, by default Debian's libpython3.11-testsuite in
# /usr/lib/python3.11/test; pyenv's installations ship theirs in their
# stdlib folder) with PYTHON, both kinds the same way:
# `PYTHON -I -S -m test ARGS` in a clean environment, from an empty folder
# (OUTDIR/cwd). Where the suite comes from, by KIND:
#   python3  the python that $TESTS belongs to: its stdlib folder.
#   kiln     a kiln interpreter of that python, whose stdlib is in memory:
#            the disk folder it searches after it, PYTHON's
#            folder/lib/pythonX.Y (X.Y: $TESTS's stdlib folder's), made to
#            hold nothing but symlinks to the suite's folders: test, and
#            the test packages inside stdlib packages (ctypes/test, ...),
#            which join their packed package's __path__. So only the suite
#            is read from disk; child processes, -I or not, find it there
#            too, as python's find their stdlib folder.
# Writes OUTDIR/regrtest.log (regrtest's output), OUTDIR/junit.xml (test
# case results), OUTDIR/sys.txt (sys.path, where json and test came from)
# and OUTDIR/wall (seconds). Exits 0 when regrtest ran to its summary,
# whatever the tests did, and 1 when it could not run.
set -u
if [ $# -lt 3 ] || { [ "$1" != python3 ] && [ "$1" != kiln ]; }; then
    echo "usage: $0 python3|kiln PYTHON OUTDIR [REGRTEST ARGS...]" >&2
    exit 1
fi
kind=$1 py=$2 out=$3
shift 3
TESTS=${TESTS:-/usr/lib/python3.11/test}
stdlib=$(dirname "$TESTS")
pyver=$(basename "$stdlib") # python3.11
[ -f "$TESTS/regrtest.py" ] || {
    echo "conformance: no CPython test suite in $TESTS; for Debian's" \
         "$pyver install it with: apt-get install lib$pyver-testsuite" >&2
    exit 1
}
[ -x "$py" ] || { echo "conformance: $py is not an executable" >&2; exit 1; }
case "$py" in /*) ;; */*) py=$(pwd)/$py ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/cwd" "$out/tmp" "$out/junit.xml"
mkdir -p "$out/cwd" "$out/tmp"
# The suite's folders, those of any version from 3.10 (3.10 has
# sqlite3/test; 3.12 moved all but idlelib/idle_test under test/).
SUITE="test ctypes/test distutils/tests idlelib/idle_test lib2to3/tests
       sqlite3/test tkinter/test unittest/test"
if [ "$kind" = kiln ]; then
    disk=$(dirname "$py")/lib/$pyver
    if [ -d "$disk" ]; then # an earlier run's symlinks, or refuse
        if [ -n "$(find "$disk" -mindepth 1 ! -type d ! -type l)" ]; then
            echo "conformance: $disk holds files; it must hold only the" \
                 "suite's symlinks, so that the stdlib comes from memory" >&2
            exit 1
        fi
        find "$disk" -type l -delete && find "$disk" -depth -type d -empty -delete
    fi
    for d in $SUITE; do
        [ -d "$stdlib/$d" ] || continue
        pkg=$(dirname "$d")
        # A package kiln leaves out (idlelib; tkinter without _tkinter) is
        # found on disk whole, as python3 finds it: a folder holding only
        # its tests would import as a namespace package instead.
        if [ "$pkg" != . ] && ! "$py" -I -S -c "import sys, importlib.util as u
s = u.find_spec('$pkg')
sys.exit(0 if s and (s.origin or '').startswith(sys.executable + '/') else 1)"; then
            ln -s "$stdlib/$pkg" "$disk/$pkg"
            continue
        fi
        mkdir -p "$disk/$pkg"
        ln -s "$stdlib/$d" "$disk/$d"
    done
fi
in_root() {
    (cd "$out/cwd" &&
     env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
         HOME="$HOME" LANG=C.UTF-8 "$py" -I -S "$@")
}
# Where things come from: the report shows it, and the kiln run must not
# read the stdlib from the disk.
in_root -c 'import sys, json, test
print("sys.version", sys.version.split()[0])
print("sys.executable", sys.executable)
print("sys.path", sys.path)
print("json", json.__file__)
print("test", test.__file__)' >"$out/sys.txt" 2>&1 || {
    echo "conformance: $py cannot import json and test:" >&2
    cat "$out/sys.txt" >&2
    exit 1
}
if [ "$kind" = kiln ] && ! grep -qxF "json $py/json/__init__.py" "$out/sys.txt"; then
    echo "conformance: $py does not import json from memory:" >&2
    cat "$out/sys.txt" >&2
    exit 1
fi
# Test cases the machine, not the interpreter, decides: left out of both
# runs alike (tests/conformance/ignore.txt, which the report lists).
ignore=()
while IFS=$'\t' read -r pattern _; do
    case "$pattern" in '' | '#'*) continue ;; esac
    ignore+=(--ignore "$pattern")
done <"$(dirname "$0")/../tests/conformance/ignore.txt"
start=$(date +%s)
in_root -m test --tempdir "$out/tmp" --junit-xml "$out/junit.xml" \
    "${ignore[@]}" "$@" >"$out/regrtest.log" 2>&1
echo $(($(date +%s) - start)) >"$out/wall"
rm -rf "$out/tmp"
grep -q "^== Tests result" "$out/regrtest.log" || {
    echo "conformance: regrtest under $py stopped before its summary:" >&2
    tail -20 "$out/regrtest.log" >&2
    exit 1
}
