# The executable keeps working when copied elsewhere, and with the stdlib
# folders hidden under a tmpfs.
. "$(dirname "$0")/lib.sh"
cat >"$T/app.py" <<'PY'
import sys, json, decimal, sqlite3, hashlib, zlib, ctypes, ssl
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.execute("insert into t values (?)", (str(decimal.Decimal("1.5") * 2),))
print(json.dumps({"sum": str(db.execute("select x from t").fetchone()[0])}))
print(hashlib.sha256(b"kiln").hexdigest()[:12], zlib.crc32(b"kiln"))
print(type(decimal.Decimal).__module__, decimal.Decimal.__module__)
print(json.__file__ == sys.executable + "/json/__init__.py")
PY
build "$T/app.py" -o "$T/app"
expected='{"sum": "3.0"}
cdfe9ad58b46 3911661381
builtins decimal
True'
run "$T/app"
expect_eq "in place" "$expected" "$OUT"

mkdir -p "$T/elsewhere/deeper"
cp "$T/app" "$T/elsewhere/deeper/renamed"
rm "$T/app" "$T/app.py"
run "$T/elsewhere/deeper/renamed"
expect_eq "copied" "$expected" "$OUT"

if unshare -m true 2>/dev/null; then
    run unshare -m sh -c "mount -t tmpfs none /usr/lib/python3.11 &&
        mount -t tmpfs none /usr/lib/python3/dist-packages 2>/dev/null;
        ls /usr/lib/python3.11 | wc -l; '$T/elsewhere/deeper/renamed'"
    expect_eq "stdlib hidden" "0
$expected" "$OUT"
    expect_eq "stdlib hidden stderr" "" "$ERR"
    # Without /proc the launcher finds itself through AT_EXECFN.
    echo 'import sys; print("no proc", sys.executable)' >"$T/noproc.py"
    build "$T/noproc.py" -o "$T/noproc"
    run unshare -m sh -c "mount -t tmpfs none /proc && '$T/noproc'"
    expect_eq "without /proc" "no proc $T/noproc" "$OUT"
else
    echo "  (unshare -m not permitted here: hidden-stdlib check skipped)" >&2
fi
finish
