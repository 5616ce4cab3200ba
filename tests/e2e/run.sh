#!/bin/bash
# run.sh BUILD - runs the numbered end-to-end tests twice: with the normal
# build of kiln and its launcher, and with the ASan+UBSan build.
# Prints one line per test and "N passed, N failed" at the end.
set -u
BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$BUILD" && pwd)
. "$here/runtest.sh"
# Leaks are checked; libpython's own, kept on purpose at exit, are not.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1
# One bytecode cache for the whole run, fresh each time.
export KILN_CACHE_DIR=$BUILD/e2e-cache
rm -rf "$KILN_CACHE_DIR"
for variant in plain san; do
    if [ "$variant" = plain ]; then kiln=$BUILD/kiln; else kiln=$BUILD/san/kiln; fi
    [ -x "$kiln" ] || { echo "missing $kiln" >&2; exit 1; }
    for t in "$here"/[0-9][0-9]-*.sh; do
        [ -n "${E2E_ONLY:-}" ] && case "$(basename "$t")" in $E2E_ONLY*) ;; *) continue ;; esac
        run_test "$variant" "$t" KILN="$kiln" BUILD="$BUILD" VARIANT="$variant"
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
