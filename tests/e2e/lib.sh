# lib.sh - helpers for kiln's end-to-end tests. Each test is a numbered
# script that sources this file, builds real executables with $KILN and
# checks what they do. A failed check prints where and what, and the test
# exits non-zero at the end.
set -u
: "${KILN:?KILN must name the kiln binary}"
PY=/usr/bin/python3.11
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
FAILS=0

fail() {
    local msg="$*"
    # Long outputs are cut: the first 600 characters say enough.
    [ ${#msg} -gt 600 ] && msg="${msg:0:600}... (${#msg} characters)"
    echo "  FAIL ($(basename "$0"):${BASH_LINENO[1]:-?}): $msg" >&2
    FAILS=$((FAILS + 1))
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
}

# expect_contains WHAT NEEDLE HAYSTACK
expect_contains() {
    case "$3" in
    *"$2"*) ;;
    *) fail "$1: expected to contain [$2], got [$3]" ;;
    esac
}

expect_not_contains() {
    case "$3" in
    *"$2"*) fail "$1: expected not to contain [$2], got [$3]" ;;
    esac
}

# run CMD...: sets OUT, ERR and RC.
run() {
    "$@" >"$T/.out" 2>"$T/.err" </dev/null
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}

# build ARGS...: kiln build, quiet; the test fails if it does.
build() {
    if ! "$KILN" build -q "$@" 2>"$T/.build-err"; then
        fail "kiln build $* failed: $(cat "$T/.build-err")"
        return 1
    fi
}

# same DESCRIPTION ARGS...: the kiln interpreter $py and python3.11 agree
same() {
    local what=$1
    shift
    run "$py" "$@"
    local out=$OUT rc=$RC
    run "$PY" "$@"
    expect_eq "$what: status" "$RC" "$rc"
    expect_eq "$what: output" "$OUT" "$out"
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "  $(basename "$0"): $FAILS check(s) failed" >&2
        exit 1
    fi
    exit 0
}
