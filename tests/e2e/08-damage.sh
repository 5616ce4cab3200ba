# Truncated, zeroed, byte-flipped or foreign executables are refused with a
# clear message and a non-zero status: never a crash, never damaged code.
. "$(dirname "$0")/lib.sh"
cat >"$T/victim.py" <<'PY'
MARKER = "KILN_VICTIM_MARKER_0123456789"
PY
cat >"$T/app.py" <<'PY'
import sys
if sys.argv[1:] == ["victim"]:
    import victim
print("intact")
PY
mkdir -p "$T/vsrc" && mv "$T/victim.py" "$T/vsrc/"
build --no-source "$T/app.py" --path "$T/vsrc" -o "$T/app"
run "$T/app"
expect_eq "intact" "intact" "$OUT"

size=$(stat -c %s "$T/app")
payload=$(od -An -t u8 -j $((size - 24)) -N 8 "$T/app" | tr -d ' ')
# The module table's offset in the payload (header field at 40): kiln build
# writes the data section before the tables.
index=$(od -An -t u8 -j $((payload + 40)) -N 8 "$T/app" | tr -d ' ')

# refused FILE WHAT EXPECTED-MESSAGE: runs FILE, wants status 1 and message.
refused() {
    chmod +x "$1"
    run "$1" victim
    expect_eq "$2: status" 1 "$RC"
    expect_contains "$2: message" "$3" "$ERR"
    expect_not_contains "$2: never runs" "intact" "$OUT"
}

for cut in 1 16 31 32 $((size - payload - 100)) $((size - payload - 200)) \
           $((size - payload)) $((size - payload + 4096)); do
    head -c $((size - cut)) "$T/app" >"$T/cut"
    case $cut in
    1|16|31) msg="trailer" ;;
    *) msg="kiln:" ;;
    esac
    refused "$T/cut" "truncated by $cut bytes" "$msg"
done

# Zeroed header, zeroed trailer, zeroed index.
cp "$T/app" "$T/z"; dd if=/dev/zero of="$T/z" bs=1 seek="$payload" count=64 conv=notrunc status=none
refused "$T/z" "zeroed header" "bad payload magic"
cp "$T/app" "$T/z"; dd if=/dev/zero of="$T/z" bs=1 seek=$((size - 32)) count=32 conv=notrunc status=none
refused "$T/z" "zeroed trailer" "trailer is missing"
cp "$T/app" "$T/z"; dd if=/dev/zero of="$T/z" bs=1 seek=$((payload + index + 72)) count=100 conv=notrunc status=none
refused "$T/z" "zeroed index" "index checksum mismatch"

# flip FILE OFFSET: inverts one byte.
flip() {
    local b
    b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((b ^ 0xff)))" |
        dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}
for off in $((payload + 20)) $((payload + index + 2)) $((size - 20)); do
    cp "$T/app" "$T/f"; flip "$T/f" "$off"
    refused "$T/f" "flipped byte at $off" "kiln:"
done

# A flipped byte in one module's bytecode: the rest runs, the import of that
# module fails by name, and kiln inspect names it.
marker=$(grep -obUa KILN_VICTIM_MARKER "$T/app" | head -1 | cut -d: -f1)
cp "$T/app" "$T/f"; flip "$T/f" $((marker + 3))
run "$T/f"
expect_eq "undamaged part still runs" "intact" "$OUT"
refused "$T/f" "flipped bytecode" "the bytecode of 'victim' is damaged"
run "$KILN" inspect "$T/f"
expect_eq "inspect damaged: status" 1 "$RC"
expect_contains "inspect damaged: names module" "'victim'" "$ERR"

# A flipped byte in the launcher (its bytes before the payload): the header
# holds their checksum, which kiln inspect verifies and names; the launcher
# does not hash itself at start-up.
run "$KILN" inspect "$T/app"
expect_contains "inspect: the launcher" "  launcher: $payload bytes before the payload" "$OUT"
cp "$T/app" "$T/l"; flip "$T/l" $((payload / 2))
run "$KILN" inspect "$T/l"
expect_eq "inspect flipped launcher: status" 1 "$RC"
expect_contains "inspect flipped launcher: names it" \
    "damaged: the launcher (its first $payload bytes, before the payload) fails its checksum" "$ERR"
expect_not_contains "inspect flipped launcher: no verdict" "all checksums verified" "$OUT"

# A payload packed for another CPython: 3.12's magic and hexversion, or
# 3.11's for a 3.12 target.
other="0x0a0d0dcb 0x030c01f0 3.12 3531"
[ "$TARGET_MAGIC" = 3531 ] && other="0x0a0d0da7 0x030b02f0 3.11 3495"
set -- $other
"$BUILD/repack" "$T/app" "$T/other" "$1" "$2" || fail "repack"
refused "$T/other" "other CPython" "packed for CPython $3 (bytecode magic $4), but its launcher embeds CPython $TARGET_VERSION (magic $TARGET_MAGIC)"
finish
