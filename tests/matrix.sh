#!/bin/bash
# matrix.sh BUILD - runs the core end-to-end tests against every CPython
# installation in BUILD/targets.txt but the first (the default target,
# which the whole suite covers, under ASan too).
#
# targets.txt has one line per launcher, tab-separated: NAME X.Y PYTHON.
# Each test runs with KILN_TEST_PY=PYTHON, through a kiln that builds with
# `--python PYTHON`. A fourth column DIR, in a file written by hand before
# make writes one, selects the launcher the old way: `--python X.Y` with
# KILN_LAUNCHER_DIR=DIR. Environment:
#   MATRIX_TARGETS  another targets file (default BUILD/targets.txt)
#   MATRIX_TESTS    the tests to run, as numbers (default: the core ones)
#   MATRIX_JOBS     how many targets run at once (default 2)
# An installation that is not there (no pyenv, say) is skipped, not failed.
# Prints one line per (target, test) and "N passed, N failed" at the end.
set -u
BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$BUILD" && pwd)
targets=${MATRIX_TARGETS:-$BUILD/targets.txt}
# hello, -m packages, tracebacks, the interpreter (-c, -m, stdin, venv),
# damage refused, extension modules from memory, multiprocessing, venvs.
tests=${MATRIX_TESTS:-01 02 05 07 08 15 16 26 32 35 57 58 59}
kiln=$BUILD/kiln
[ -x "$kiln" ] || { echo "matrix: missing $kiln; run make first" >&2; exit 1; }
[ -r "$targets" ] || { echo "matrix: missing $targets; run make first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=${MATRIX_JOBS:-2}
. "$here/e2e/runtest.sh"
skipped=0

# wrapper FILE SELECTOR: a kiln that builds for the target SELECTOR.
wrapper() {
    printf '#!/bin/sh\nif [ "$1" = build ]; then\n    shift\n    exec %q build --python %q "$@"\nfi\nexec %q "$@"\n' \
        "$kiln" "$2" "$kiln" >"$1"
    chmod +x "$1"
}

# run_target NAME X.Y PYTHON [DIR]: the tests against one target, and the
# time they took all together.
run_target() {
    local name=$1 xy=$2 python=$3 dir=$4 start n t
    if [ -n "$dir" ]; then
        export KILN_LAUNCHER_DIR=$dir
        wrapper "$work/kiln-$name" "$xy"
    else
        unset KILN_LAUNCHER_DIR
        wrapper "$work/kiln-$name" "$python"
    fi
    # One bytecode cache per target, fresh each time.
    export KILN_CACHE_DIR=$BUILD/matrix-cache/$name
    rm -rf "$KILN_CACHE_DIR"
    start=$(date +%s%N)
    for n in $tests; do
        for t in "$here"/e2e/"$n"-*.sh; do
            run_test "$name" "$t" KILN="$work/kiln-$name" BUILD="$BUILD" \
                VARIANT=plain KILN_TEST_PY="$python"
        done
    done
    printf '%-6s %-8s %-32s %6d ms\n' time "$name" "(all tests)" \
        $((($(date +%s%N) - start) / 1000000))
}

# Targets run MATRIX_JOBS at a time, each into its own log, which is shown
# whole when it ends.
declare -A log_of
show_one() {
    local pid
    wait -n -p pid
    cat "${log_of[$pid]}"
    unset "log_of[$pid]"
}
line=0
while IFS=$'\t' read -r name xy python dir; do
    line=$((line + 1))
    [ "$line" -eq 1 ] && continue
    [ -n "$name" ] || continue
    if [ ! -x "$python" ]; then
        echo "skip   $name: no $python"
        skipped=$((skipped + 1))
        continue
    fi
    run_target "$name" "$xy" "$python" "$dir" >"$work/$name.log" 2>&1 </dev/null &
    log_of[$!]=$work/$name.log
    [ "${#log_of[@]}" -ge "$jobs" ] && show_one
done <"$targets"
while [ "${#log_of[@]}" -gt 0 ]; do
    show_one
done
# count RESULT: the lines run_test printed with that result.
count() {
    cat "$work"/*.log 2>/dev/null | grep -cE "^$1 +[^ ]+ +[0-9]{2}-[^ ]+ +[0-9]+ ms\$"
}
passed=$(count ok)
failed=$(count FAILED)
echo "$passed passed, $failed failed, $skipped target(s) skipped"
[ "$failed" -eq 0 ]
