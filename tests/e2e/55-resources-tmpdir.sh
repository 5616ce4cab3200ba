# pkg_resources.resource_filename() copies a packed file into the app's
# private temporary folder: the launcher's kiln-extract-TAG (0700), made
# in $TMPDIR only when every folder on its path passes the caches' checks,
# else in /tmp, and removed at exit. A $TMPDIR that another user can write
# without the sticky bit is not used, so that user cannot swap the folder
# and serve their own file as the packed one.
. "$(dirname "$0")/lib.sh"
[ -d /usr/lib/python3/dist-packages/pkg_resources ] || {
    echo "  (no pkg_resources installed: skipped)" >&2
    finish
}
mkdir -p "$T/proj/datapkg" "$T/safe" "$T/tmp"
: >"$T/proj/datapkg/__init__.py"
echo 'packed CA bundle' >"$T/proj/datapkg/b.txt"
cat >"$T/proj/resapp.py" <<'PY'
import os, sys, time, warnings
warnings.simplefilter("ignore")
import pkg_resources
pkg_resources.resource_filename("datapkg", "__init__.py")
time.sleep(float(sys.argv[1]))  # the time another user has to swap it
b = pkg_resources.resource_filename("datapkg", "b.txt")
top = os.path.dirname(os.path.dirname(b))
print(b)
print(oct(os.stat(top).st_mode & 0o777), open(b).read().strip())
PY
build "$T/proj/resapp.py" --path "$T/proj" --package pkg_resources -o "$T/resapp"
chmod 0755 "$T/resapp"

# A safe $TMPDIR is used, and the folder is gone after the run.
chmod 0700 "$T/safe"
run env TMPDIR="$T/safe" "$T/resapp" 0
expect_eq "safe TMPDIR: status" 0 "$RC"
expect_contains "safe TMPDIR: in the private folder" "$T/safe/kiln-extract-" "$OUT"
expect_contains "safe TMPDIR: the packed file, private" "0o700 packed CA bundle" "$OUT"
expect_eq "safe TMPDIR: removed at exit" "" "$(ls -A "$T/safe")"

# $TMPDIR writable by anyone, not sticky: not used.
chmod 0777 "$T/tmp"
run env TMPDIR="$T/tmp" "$T/resapp" 0
expect_eq "open TMPDIR: status" 0 "$RC"
expect_not_contains "open TMPDIR: not used" "$T/tmp/" "$OUT"
expect_contains "open TMPDIR: /tmp instead" "/tmp/kiln-extract-" "$OUT"
expect_contains "open TMPDIR: the packed file" "0o700 packed CA bundle" "$OUT"
expect_eq "open TMPDIR: nothing made there" "" "$(ls -A "$T/tmp")"
folder=$(echo "$OUT" | head -1)
[ -e "$folder" ] && fail "open TMPDIR: $folder is still there after the run"

if [ "$(id -u)" = 0 ]; then
    # As the review's proof: uid 65534 swaps the folder while the app runs.
    chmod 0711 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "
        cd '$T/tmp'; while [ ! -e '$T/done' ]; do
            d=\$(ls | grep kiln- | head -1)
            [ -n \"\$d\" ] || continue
            sleep 0.5; mv \"\$d\" stolen; mkdir -p \"\$d/datapkg\"
            echo 'ATTACKER DATA' >\"\$d/datapkg/b.txt\"; break
        done" &
    racer=$!
    run env TMPDIR="$T/tmp" "$T/resapp" 2
    touch "$T/done"
    wait "$racer"
    expect_contains "swap: the packed file is read" "packed CA bundle" "$OUT"
    expect_not_contains "swap: not the other user's" "ATTACKER" "$OUT"
fi
finish
