# lib.sh - helpers for kiln's end-to-end tests. Each test is a numbered
# script that sources this file, builds real executables with $KILN and
# checks what they do. A failed check prints where and what, and the test
# exits non-zero at the end.
set -u
: "${KILN:?KILN must name the kiln binary}"
# The CPython the tests compare with: the target of kiln's default launcher,
# or KILN_TEST_PY's for a launcher of another installation (tests/matrix.sh).
PY=${KILN_TEST_PY:-/usr/bin/python3.11}
# Facts about that CPython, queried from it rather than written as 3.11's:
# X.Y, the cache tag of its .pyc names, the suffix of its extension modules
# and the folder of its headers, its stdlib folder relative to its prefix
# (lib/pythonX.Y), its bytecode magic as messages show it and as the 32-bit
# word of the payload header, and its sys.hexversion.
target_facts=$("$PY" -I -S -c '
import importlib.util as u, os, sys, sysconfig
magic = u.MAGIC_NUMBER
for name, value in [
        ("VERSION", "%d.%d" % sys.version_info[:2]),
        ("TAG", sys.implementation.cache_tag),
        ("EXT_SUFFIX", sysconfig.get_config_var("EXT_SUFFIX")),
        ("INCLUDE", sysconfig.get_config_var("INCLUDEPY")),
        ("LIB", os.path.relpath(sysconfig.get_path("stdlib"), sys.base_prefix)),
        ("MAGIC", int.from_bytes(magic[:2], "little")),
        ("MAGIC_WORD", int.from_bytes(magic, "little")),
        ("HEXVERSION", sys.hexversion)]:
    print("TARGET_%s=%s" % (name, value))') || {
    echo "$(basename "$0"): cannot query the CPython $PY (KILN_TEST_PY)" >&2
    exit 1
}
while IFS== read -r name value; do
    printf -v "$name" %s "$value"
done <<<"$target_facts"
unset target_facts name value
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

# same DESCRIPTION ARGS...: the kiln interpreter $py and $PY agree
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

# target_has EXPRESSION: true if the Python EXPRESSION is true under $PY,
# for checks that hold only where the target CPython has what they need.
target_has() {
    [ "$("$PY" -I -S -c "import sys; print(bool($1))")" = True ]
}

# skip WHY: says that a check does not apply to this target, and why.
skip() {
    echo "  skip ($(basename "$0"):${BASH_LINENO[0]:-?}): $*" >&2
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "  $(basename "$0"): $FAILS check(s) failed" >&2
        exit 1
    fi
    exit 0
}
