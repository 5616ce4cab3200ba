# lib.sh - helpers for kiln's end-to-end tests. Each test is a numbered
# script that sources this file, builds real executables with $KILN and
# checks what they do. A failed check prints where and what, and the test
# exits non-zero at the end.
set -u
: "${KILN:?KILN must name the kiln binary}"
# KILN_TEST_PY: the python the tests compare with (the version matrix).
PY=${KILN_TEST_PY:-/usr/bin/python3.11}
T=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e.XXXXXX")
# Extracted folders are read-only: made writable, so that a user removes them.
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
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

# site_dist NAME VERSION ENTRY FILE...: a .dist-info (ENTRY) in the site folder
# $S whose METADATA is read from stdin and whose RECORD lists the files
# given and its own.
site_dist() {
    local entry=$S/$3 name=$1 version=$2
    shift 3
    mkdir -p "$entry"
    { printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$name" "$version"
      cat; } >"$entry/METADATA"
    for f in "$@" "${entry#"$S"/}/METADATA" "${entry#"$S"/}/RECORD"; do
        printf '%s,,\n' "$f"
    done >"$entry/RECORD"
}

# module PATH TEXT: a file under the site folder $S.
module() {
    mkdir -p "$(dirname "$S/$1")"
    printf '%s\n' "$2" >"$S/$1"
}

# datapkg_app: $T/app.py prints data that the package datapkg (in $T/src)
# reads from its own folder.
datapkg_app() {
    mkdir -p "$T/src/datapkg"
    cat >"$T/src/datapkg/__init__.py" <<'PY'
import os
def data():
    with open(os.path.join(os.path.dirname(__file__), "d.txt")) as f:
        return f.read().strip()
PY
    echo "data ok" >"$T/src/datapkg/d.txt"
    printf 'import datapkg\nprint(datapkg.data())\n' >"$T/app.py"
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "  $(basename "$0"): $FAILS check(s) failed" >&2
        exit 1
    fi
    exit 0
}
