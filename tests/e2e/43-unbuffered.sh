# -u (or unbuffered = true in [tool.kiln]) makes an app's stdout and stderr
# unbuffered, as python3 -u does: lines written to both reach a shared pipe
# in the order they were written. PYTHONUNBUFFERED stays ignored.
. "$(dirname "$0")/lib.sh"
cat >"$T/log.py" <<'PY'
import sys
print("out 1")
print("err 1", file=sys.stderr)
print("out 2")
print(type(sys.stdout.buffer).__name__, sys.stdout.write_through)
PY
interleaved() { "$@" 2>&1 | cat; }

build "$T/log.py" -o "$T/buffered"
build -u "$T/log.py" -o "$T/unbuffered"
expect_eq "-u: as python3 -u" "$(interleaved "$PY" -I -u "$T/log.py")" \
    "$(interleaved "$T/unbuffered")"
expect_eq "default: as python3" "$(interleaved "$PY" -I "$T/log.py")" \
    "$(interleaved "$T/buffered")"
expect_eq "PYTHONUNBUFFERED is ignored" "$(interleaved "$T/buffered")" \
    "$(PYTHONUNBUFFERED=1 interleaved "$T/buffered")"

mkdir -p "$T/proj"
cp "$T/log.py" "$T/proj/"
printf '[tool.kiln]\nscript = "log.py"\nunbuffered = true\n' >"$T/proj/pyproject.toml"
(cd "$T/proj" && "$KILN" build -q -o app) || fail "build from pyproject"
expect_eq "unbuffered = true" "$(interleaved "$PY" -I -u "$T/log.py")" \
    "$(interleaved "$T/proj/app")"
run "$KILN" inspect "$T/proj/app"
expect_contains "inspect shows it" "stdio:    unbuffered (-u)" "$OUT"
finish
