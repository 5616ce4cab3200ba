# make install PREFIX=DIR gives a kiln that finds its launcher.
. "$(dirname "$0")/lib.sh"
[ "${VARIANT:-plain}" = plain ] || finish
root=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$root" install PREFIX="$T/prefix" BUILD="$BUILD" >/dev/null ||
    fail "make install"
[ -x "$T/prefix/bin/kiln" ] || fail "bin/kiln installed"
# Every launcher make built, one per installation (build/targets.txt).
while IFS=$'\t' read -r name _; do
    [ -x "$T/prefix/lib/kiln/kiln-launcher-$name" ] || fail "launcher $name installed"
done <"$BUILD/targets.txt"
run "$T/prefix/bin/kiln" targets
expect_eq "installed kiln targets" 0 "$RC"
expect_contains "installed kiln targets: its launchers" "$T/prefix/bin/../lib/kiln/kiln-launcher-3.11 (default)" "$OUT"
echo 'print("installed kiln works")' >"$T/app.py"
run "$T/prefix/bin/kiln" build -q "$T/app.py" -o "$T/app"
expect_eq "build: status" 0 "$RC"
run "$T/app"
expect_eq "run" "installed kiln works" "$OUT"
run "$T/prefix/lib/kiln/kiln-launcher-3.11"
expect_eq "bare launcher: status" 2 "$RC"
expect_contains "bare launcher" "carries no app" "$ERR"
run env KILN_LAUNCHER_DIR="$T/none" "$T/prefix/bin/kiln" build -q "$T/app.py" --python 3.99 -o "$T/x"
expect_contains "no launcher" "no launcher for CPython 3.99" "$ERR"
finish
