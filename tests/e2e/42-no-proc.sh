# Without /proc (a container or chroot that does not mount it), an extension
# module cannot be loaded from memory: the error says that /proc/self/fd is
# missing and what to do, instead of blaming a missing library. The launcher
# finds itself there through AT_EXECFN. Needs mount namespaces (root, or
# unprivileged user namespaces); skipped without them.
. "$(dirname "$0")/lib.sh"
echo 'import _json; print("loaded", _json.__name__)' >"$T/app.py"
build "$T/app.py" -o "$T/app"
run "$T/app"
expect_eq "with /proc" "loaded _json" "$OUT"

if unshare -m true 2>/dev/null; then
    ns=(unshare -m)
elif unshare -rm true 2>/dev/null; then
    ns=(unshare -rm)
else
    echo "  $(basename "$0"): skipped: no mount namespace" >&2
    finish
fi
run "${ns[@]}" sh -c 'mount -t tmpfs none /proc && exec "$0"' "$T/app"
# Under ASan, LeakSanitizer dies at exit without /proc: its status is not
# the app's.
[ "${VARIANT:-plain}" = san ] || expect_eq "without /proc: status" 1 "$RC"
expect_contains "names /proc/self/fd" \
    "cannot load extension module '_json': /proc/self/fd is missing (/proc is not mounted)" "$ERR"
expect_contains "says what to do" "mount -t proc proc /proc" "$ERR"
expect_not_contains "blames no library" "neither packed nor installed" "$ERR"
finish
