#!/bin/bash
# conformance.sh BUILD full|quick - CPython's own test suite, run by a kiln
# interpreter and by python3.11 -I -S (tools/conformance-run.sh), compared
# module by module (tools/conformance-report.py).
#   full   every module, -j2; writes docs/conformance.md (make conformance;
#          15-40 minutes per interpreter).
#   quick  the modules in tests/conformance/quick.txt (make check): fails
#          when one that passes under python3.11 does not under kiln and
#          tests/conformance/differences.txt does not expect it.
# Results go to BUILD/conformance/KIND/{python3,kiln}-run. With ONLY=kiln
# (or python3) only that interpreter runs again and the other one's last
# results are reused: python3's do not change when kiln does.
set -u
BUILD=${1:?usage: $0 BUILD full|quick}
kind=${2:?usage: $0 BUILD full|quick}
here=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-/usr/bin/python3.11}
out=$BUILD/conformance/$kind
case "$kind" in
full) args=(-j2 --timeout 1200) ;;
quick) mapfile -t tests < <(grep -v '^#' "$here/tests/conformance/quick.txt" | grep .)
       args=(-j2 --timeout 300 "${tests[@]}") ;;
*) echo "usage: $0 BUILD full|quick" >&2; exit 2 ;;
esac
mkdir -p "$out/kiln"
# The interpreter's folder gets lib/python3.11/test (conformance-run.sh).
"$BUILD/kiln" build -q --interpreter -o "$out/kiln/python3.11" || exit 1
for who in python3 kiln; do
    if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$who" ]; then
        [ -f "$out/$who-run/wall" ] || {
            echo "conformance: ONLY=$ONLY, but $who has no earlier run in $out/$who-run" >&2
            exit 1
        }
        echo "conformance: reusing the $who run in $out/$who-run"
        continue
    fi
    if [ "$who" = kiln ]; then py=$out/kiln/python3.11; else py=$PY; fi
    echo "conformance: CPython's tests ($kind) with $who: $py"
    mkdir -p "$out/$who-run"
    [ "$who" = kiln ] && git -C "$here" describe --always --dirty >"$out/$who-run/commit" 2>/dev/null
    "$here/tools/conformance-run.sh" "$who" "$py" "$out/$who-run" "${args[@]}" || exit 1
    echo "conformance: $who done in $(cat "$out/$who-run/wall") s"
done
if [ "$kind" = full ]; then
    "$PY" "$here/tools/conformance-report.py" --out "$here/docs/conformance.md" \
        --ignored "$here/tests/conformance/ignore.txt" \
        "$out/python3-run" "$out/kiln-run" "$here/tests/conformance/differences.txt"
else
    "$PY" "$here/tools/conformance-report.py" --check \
        "$out/python3-run" "$out/kiln-run" "$here/tests/conformance/differences.txt"
fi
