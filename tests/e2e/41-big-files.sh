# A big data file is streamed into the executable: kiln build's memory
# stays far below the file's size (it held the whole payload twice), and
# the file comes out whole. (A file over 4 GiB is refused: 09.)
. "$(dirname "$0")/lib.sh"
MB=400
mkdir -p "$T/src/bigpkg"
: >"$T/src/bigpkg/__init__.py"
# Sparse, with markers at the start, in the middle and at the end.
truncate -s ${MB}M "$T/src/bigpkg/big.bin"
printf 'HEAD' | dd of="$T/src/bigpkg/big.bin" conv=notrunc status=none
printf 'MIDDLE' | dd of="$T/src/bigpkg/big.bin" bs=1 seek=$((MB * 1048576 / 2 + 7)) conv=notrunc status=none
printf 'TAIL' | dd of="$T/src/bigpkg/big.bin" bs=1 seek=$((MB * 1048576 - 4)) conv=notrunc status=none
cat >"$T/app.py" <<'PY'
import importlib.resources as r
b = r.files("bigpkg").joinpath("big.bin").read_bytes()
half = len(b) // 2 + 7
print(len(b), b[:4], b[half:half + 6], b[-4:], b.count(0) == len(b) - 14)
PY
# Peak resident memory of kiln build and its compile servers, in kB.
run "$PY" -c '
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/app"
expect_eq "build status" 0 "$RC"
[ "$OUT" -lt $((MB * 1024 / 2)) ] 2>/dev/null ||
    fail "kiln build of a ${MB} MB file peaked at ${OUT} kB, over $((MB / 2)) MB"
run "$T/app"
expect_eq "the file comes out whole" "$((MB * 1048576)) b'HEAD' b'MIDDLE' b'TAIL' True" "$OUT$ERR"
run "$KILN" inspect "$T/app"
expect_eq "inspect verifies every blob" 0 "$RC"
rm -f "$T/app"

# Ended by a signal while it writes: the temporary file goes too.
"$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/app" 2>"$T/.sig-err" &
pid=$!
for _ in $(seq 600); do
    ls -a "$T" | grep -q '^\.app\.kiln-' && break
    sleep 0.05
done
ls -a "$T" | grep -q '^\.app\.kiln-' || fail "no temporary file seen while building"
kill -TERM "$pid"
wait "$pid"
expect_eq "killed build: status" 143 "$?"
ls -a "$T" | grep -q 'kiln-' && fail "killed build: temporary file left: $(ls -a "$T")"
[ -e "$T/app" ] && fail "killed build: output written"
finish
