#!/bin/bash
# conformance.sh BUILD full|quick|quick-matrix [PY] - CPython's own test
# suite, run by a kiln interpreter and by the target python -I -S
# (tools/conformance-run.sh), compared module by module
# (tools/conformance-report.py).
#   full          every module, -j2; writes PY's section of
#                 docs/conformance.md (make conformance; 15-40 minutes per
#                 interpreter).
#   quick         the modules in tests/conformance/quick.txt (make check).
#   quick-matrix  the short list in tests/conformance/quick-matrix.txt, for
#                 PY, or without PY for every target in BUILD/targets.txt
#                 but the first (the default, which quick covers).
# quick and quick-matrix fail when a module that passes under python does
# not under kiln and tests/conformance/differences.txt has no line for it
# and PY's version; the known kiln bugs it lists are shown, not fatal.
# PY: a NAME of BUILD/targets.txt (3.12, 3.11.7, ...), X.Y, or the path of
# a python; default: the first target (Debian's /usr/bin/python3.11).
# Results go to BUILD/conformance/KIND/{python3,kiln}-run for the default
# target, BUILD/conformance/NAME/KIND/... for the others. With ONLY=kiln
# (or python3) only that interpreter runs again and the other one's last
# results are reused: python's do not change when kiln does. quick-matrix
# reuses python's results by itself when the python and the list are the
# same as in its last run.
set -u
usage="usage: $0 BUILD full|quick|quick-matrix [PY]"
BUILD=${1:?$usage}
kind=${2:?$usage}
want=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
case "$kind" in full | quick | quick-matrix) ;; *) echo "$usage" >&2; exit 2 ;; esac

# resolve PY - sets name (launcher NAME), ver (X.Y), py (path), default
# (1 for the first target). From BUILD/targets.txt ("NAME<TAB>X.Y<TAB>PATH"
# lines, the default first) when it exists; else 3.11 is Debian's
# /usr/bin/python3.11 and another X.Y is pyenv's newest X.Y.Z.
resolve() {
    local want=$1 n v p first=1
    name= ver= py= default=0
    if [ -f "$BUILD/targets.txt" ]; then
        while IFS=$'\t' read -r n v p; do
            [ -n "$n" ] || continue
            if [ -z "$want" ] || [ "$want" = "$n" ] || [ "$want" = "$p" ]; then
                name=$n ver=$v py=$p default=$first
                return 0
            fi
            first=0
        done <"$BUILD/targets.txt"
    fi
    case "$want" in
    '' | 3.11) py=/usr/bin/python3.11 ;;
    */*) py=$want ;;
    [0-9]*.[0-9]*)
        py=$(ls -d "$HOME"/.pyenv/versions/"$want".*/bin/python"$want" \
             2>/dev/null | sort -V | tail -1) ;;
    esac
    [ -n "$py" ] && [ -x "$py" ] || {
        echo "conformance: no python for '$want' (not in $BUILD/targets.txt," \
             "no /usr/bin/python3.11 or ~/.pyenv/versions/$want.*)" >&2
        return 1
    }
    ver=$("$py" -I -S -c 'import sys; print("%d.%d" % sys.version_info[:2])') || return 1
    name=$ver
    [ "$py" = /usr/bin/python3.11 ] && default=1
    return 0
}

# run_one NAME-or-PATH - the runs and the report for one target.
run_one() {
    local name ver py default out args words who run p
    resolve "$1" || return 1
    if [ "$default" = 1 ]; then
        out=$BUILD/conformance/$kind
    else
        out=$BUILD/conformance/$name/$kind
    fi
    case "$kind" in
    full) args=(-j2 --timeout 1200) ;;
    quick | quick-matrix) # module names, and regrtest options (--ignore ...)
        args=(-j2 --timeout 300)
        while read -ra words; do
            args+=("${words[@]}")
        done < <(grep -v '^#' "$here/tests/conformance/$kind.txt" | grep .) ;;
    esac
    # The suite: the target's stdlib folder's test, and the test packages
    # beside it (conformance-run.sh).
    TESTS=$("$py" -I -S -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/test
    export TESTS
    mkdir -p "$out/kiln"
    # The interpreter's folder gets lib/pythonX.Y/test (conformance-run.sh).
    "$BUILD/kiln" build -q --interpreter --python "$name" \
        -o "$out/kiln/python$ver" || return 1
    for who in python3 kiln; do
        run=$out/$who-run
        if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$who" ]; then
            [ -f "$run/wall" ] || {
                echo "conformance: ONLY=$ONLY, but $who has no earlier run in $run" >&2
                return 1
            }
            echo "conformance: reusing the $who run in $run"
            continue
        fi
        if [ "$who" = python3 ] && [ "$kind" = quick-matrix ] &&
           [ -f "$run/wall" ] && [ "$(cat "$run/key" 2>/dev/null)" = "$(run_key)" ]; then
            echo "conformance: reusing the $who run in $run (same python, same list)"
            continue
        fi
        if [ "$who" = kiln ]; then p=$out/kiln/python$ver; else p=$py; fi
        echo "conformance: CPython $name's tests ($kind) with $who: $p"
        mkdir -p "$run"
        rm -f "$run/key"
        [ "$who" = kiln ] && git -C "$here" describe --always --dirty >"$run/commit" 2>/dev/null
        "$here/tools/conformance-run.sh" "$who" "$p" "$run" "${args[@]}" || return 1
        [ "$who" = python3 ] && run_key >"$run/key"
        echo "conformance: $who done in $(cat "$run/wall") s"
    done
    if [ "$kind" = full ]; then
        "$py" "$here/tools/conformance-report.py" --out "$here/docs/conformance.md" \
            --version "$ver" --name "$name" --python "$py" \
            --ignored "$here/tests/conformance/ignore.txt" \
            "$out/python3-run" "$out/kiln-run" "$here/tests/conformance/differences.txt"
    else
        "$py" "$here/tools/conformance-report.py" --check --version "$ver" --name "$name" \
            "$out/python3-run" "$out/kiln-run" "$here/tests/conformance/differences.txt"
    fi
}

# What python's results depend on: the python, its suite, the arguments.
run_key() {
    printf '%s\n' "$py" "$(ls -l --time-style=+%s "$(readlink -f "$py")")" \
        "$(ls -ld --time-style=+%s "$TESTS")" "${args[*]}" \
        "$(cat "$here/tests/conformance/ignore.txt")"
}

if [ "$kind" = quick-matrix ] && [ -z "$want" ]; then
    [ -f "$BUILD/targets.txt" ] || {
        echo "conformance: quick-matrix without PY needs $BUILD/targets.txt" >&2
        exit 1
    }
    status=0
    while IFS=$'\t' read -r n _; do
        [ -n "$n" ] || continue
        run_one "$n" </dev/null || status=1
    done < <(tail -n +2 "$BUILD/targets.txt")
    exit $status
fi
run_one "$want"
