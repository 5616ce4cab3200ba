#!/bin/bash
# conformance-run.sh KIND PYTHON OUTDIR [REGRTEST ARGS...] - runs CPython's
# regression tests (Debian's libpython3.11-testsuite) with PYTHON, both
# kinds the same way: `PYTHON -I -S -m test ARGS` in a clean environment,
# from an empty folder (OUTDIR/cwd). Where `test` comes from, by KIND:
#   python3  /usr/bin/python3.11: its stdlib folder, /usr/lib/python3.11.
#   kiln     a kiln interpreter, whose stdlib is in memory: the folder it
#            searches after it, PYTHON's folder/lib/python3.11, which must
#            hold nothing but a `test` symlink to the suite (made if
#            missing), so that only `test` is read from disk. Child
#            processes, -I or not, find it there too, as python3.11's find
#            their stdlib folder.
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
[ -f "$TESTS/regrtest.py" ] || {
    echo "conformance: no CPython test suite in $TESTS; install it with:" \
         "apt-get install libpython3.11-testsuite" >&2
    exit 1
}
[ -x "$py" ] || { echo "conformance: $py is not an executable" >&2; exit 1; }
case "$py" in /*) ;; */*) py=$(pwd)/$py ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/cwd" "$out/tmp" "$out/junit.xml"
mkdir -p "$out/cwd" "$out/tmp"
if [ "$kind" = kiln ]; then
    disk=$(dirname "$py")/lib/python3.11
    mkdir -p "$disk"
    [ -e "$disk/test" ] || ln -s "$TESTS" "$disk/test"
    extra=$(ls -A "$disk" | grep -vx test)
    if [ -n "$extra" ] || [ ! "$disk/test" -ef "$TESTS" ]; then
        echo "conformance: $disk must hold only a test symlink to $TESTS," \
             "so that the kiln run reads nothing else from disk" >&2
        exit 1
    fi
fi
in_root() {
    (cd "$out/cwd" &&
     env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
         HOME="$HOME" LANG=C.UTF-8 "$py" -I -S "$@")
}
# Where things come from: the report shows it, and the kiln run must not
# read the stdlib from the disk.
in_root -c 'import sys, json, test
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
start=$(date +%s)
in_root -m test --tempdir "$out/tmp" --junit-xml "$out/junit.xml" "$@" \
    >"$out/regrtest.log" 2>&1
echo $(($(date +%s) - start)) >"$out/wall"
rm -rf "$out/tmp"
grep -q "^== Tests result" "$out/regrtest.log" || {
    echo "conformance: regrtest under $py stopped before its summary:" >&2
    tail -20 "$out/regrtest.log" >&2
    exit 1
}
