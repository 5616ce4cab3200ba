# The bytecode cache: a rebuild compiles only what changed; a damaged entry
# is recompiled; a cache folder another user can write is refused.
. "$(dirname "$0")/lib.sh"
export KILN_CACHE_DIR="$T/cache"
echo 'print("v1")' >"$T/app.py"
run "$KILN" build -v "$T/app.py" -o "$T/app"
expect_contains "first build compiles" "modules compiled, the rest from the cache" "$ERR"
first=$(echo "$ERR" | sed -n 's/^kiln: \([0-9]*\) of .*/\1/p')
[ "${first:-0}" -gt 100 ] || fail "first build compiled only ${first:-0} modules"
stat -c %a "$T/cache" | grep -q '^700$' || fail "cache folder is private"

echo 'print("v2")' >"$T/app.py"
run "$KILN" build -v "$T/app.py" -o "$T/app"
expect_contains "rebuild compiles only the change" "kiln: 1 of " "$ERR"
run "$T/app"
expect_eq "rebuilt app" "v2" "$OUT"

# Damage every entry: the build notices, recompiles, and the app is right.
for f in "$T"/cache/*; do printf 'garbage' | dd of="$f" bs=1 seek=20 conv=notrunc status=none; done
run "$KILN" build -v "$T/app.py" -o "$T/app"
expect_not_contains "damaged entries recompiled" "kiln: 0 of" "$ERR"
run "$T/app"
expect_eq "app after damaged cache" "v2" "$OUT"

chmod 777 "$T/cache"
run "$KILN" build -q "$T/app.py" -o "$T/app"
expect_eq "unsafe cache: status" 0 "$RC"
expect_contains "unsafe cache refused" "writable by another user" "$ERR"

KILN_CACHE_DIR= run "$KILN" build -v "$T/app.py" -o "$T/app"
expect_not_contains "KILN_CACHE_DIR= turns it off" "kiln: 0 of" "$ERR"
finish
