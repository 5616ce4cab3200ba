#!/bin/bash
# conformance-run.sh KIND PYTHON OUTDIR [REGRTEST ARGS...] - runs CPython's
# regression tests (Debian's libpython3.11-testsuite) with PYTHON, where
# KIND says how:
#   python3  python3.11 -I -S -m test: the suite is in its stdlib folder.
#   kiln     a kiln interpreter, whose stdlib is in memory: only the `test`
#            package is read from disk, from OUTDIR/root, a folder that holds
#            nothing but a `test` symlink, so that it shadows nothing. The
#            flags are -E -s -S, which is -I -S without -P (-I = -E -s -P):
#            `-m test` then finds `test` in the current folder, OUTDIR/root,
#            and so do regrtest's -j workers, which inherit the flags and
#            the folder. PYTHONPATH=OUTDIR/root lets child processes that
#            honour the environment import `test` too, as python3.11's find
#            it in their stdlib folder.
# Both run in a clean environment. Writes OUTDIR/regrtest.log (regrtest's
# output), OUTDIR/junit.xml (test case results), OUTDIR/sys.txt (sys.path,
# where json and test came from) and OUTDIR/wall (seconds). Exits with
# regrtest's status, or 2 when it cannot start.
set -u
if [ $# -lt 3 ] || { [ "$1" != python3 ] && [ "$1" != kiln ]; }; then
    echo "usage: $0 python3|kiln PYTHON OUTDIR [REGRTEST ARGS...]" >&2
    exit 2
fi
kind=$1 py=$2 out=$3
shift 3
TESTS=${TESTS:-/usr/lib/python3.11/test}
[ -f "$TESTS/regrtest.py" ] || {
    echo "conformance: no CPython test suite in $TESTS; install it with:" \
         "apt-get install libpython3.11-testsuite" >&2
    exit 2
}
[ -x "$py" ] || { echo "conformance: $py is not an executable" >&2; exit 2; }
case "$py" in /*) ;; */*) py=$(pwd)/$py ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/root" "$out/tmp" "$out/junit.xml"
mkdir -p "$out/root" "$out/tmp"
clean_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
           HOME="$HOME" LANG=C.UTF-8)
if [ "$kind" = kiln ]; then
    ln -s "$TESTS" "$out/root/test"
    clean_env+=(PYTHONPATH="$out/root")
    flags=(-E -s -S)
else
    flags=(-I -S)
fi
in_root() {
    (cd "$out/root" && "${clean_env[@]}" "$py" "${flags[@]}" "$@")
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
    exit 2
}
if [ "$kind" = kiln ] && ! grep -qxF "json $py/json/__init__.py" "$out/sys.txt"; then
    echo "conformance: $py does not import json from memory:" >&2
    cat "$out/sys.txt" >&2
    exit 2
fi
start=$(date +%s)
in_root -m test --tempdir "$out/tmp" --junit-xml "$out/junit.xml" "$@" \
    >"$out/regrtest.log" 2>&1
rc=$?
echo $(($(date +%s) - start)) >"$out/wall"
rm -rf "$out/tmp"
exit $rc
