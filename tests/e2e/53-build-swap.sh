# kiln build reads each file it packs as the file its walk checked: the
# walk records its device and inode, and the read opens it again without
# following a symlink where the walk saw none and refuses ("changed since
# it was collected") what is another file or not a regular one. So a
# project's owner who swaps pkg/data for a symlink to a root-only folder
# once the walk is done gets a failed build, not root's files in a 0755
# output. An __init__.py that is a symlink out of the folder is no more
# packed than any other file that is.
. "$(dirname "$0")/lib.sh"
chmod 0711 "$T"
mkdir -p "$T/out" "$T/rootonly" "$T/proj/pkg/data"
chmod 0755 "$T/out"
chmod 0700 "$T/rootonly"
echo 'root:$6$SECRETHASH:19000::' >"$T/rootonly/secret"
chmod 0600 "$T/rootonly/secret"
echo 'import pkg' >"$T/proj/main.py"
: >"$T/proj/pkg/__init__.py"
# Packed before pkg/data/ (paths are packed in order): the time the swap
# has, after the output file appears.
head -c 64000000 /dev/zero >"$T/proj/pkg/big.bin"
echo decoy >"$T/proj/pkg/data/secret"

# as_owner CMD...: as the project's owner, uid 65534 when we are root.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$T/proj" "$T/out"

# The owner waits for the output's temporary file, then swaps. Tried again
# when the swap came after kiln had read pkg/data (a busy machine).
for attempt in 1 2 3; do
    rm -rf "$T/out/"* "$T/proj/pkg/data.orig" "$T/proj/pkg/data"
    mkdir "$T/proj/pkg/data"
    echo decoy >"$T/proj/pkg/data/secret"
    [ "$(id -u)" = 0 ] && chown -R 65534:65534 "$T/proj/pkg/data"
    as_owner sh -c "cd '$T/proj'
        while ! ls -a '$T/out' | grep -q kiln-; do :; done
        mv pkg/data pkg/data.orig; ln -s '$T/rootonly' pkg/data" &
    racer=$!
    (cd "$T/proj" && "$KILN" build -q main.py -o "$T/out/app") >"$T/.out" 2>"$T/.err"
    RC=$?
    ERR=$(cat "$T/.err")
    wait "$racer"
    [ "$RC" != 0 ] || ! grep -q decoy "$T/out/app" || grep -q SECRETHASH "$T/out/app" && break
done
grep -q SECRETHASH "$T/out/app" 2>/dev/null &&
    fail "swap after the walk: the root-only file was packed into $T/out/app"
expect_eq "swap after the walk: refused" 1 "$RC"
expect_contains "swap after the walk: names the file" \
    "kiln: cannot read ./pkg/data/secret: it changed since it was collected (it is another file now); nothing was written" "$ERR"
expect_eq "swap after the walk: nothing written" "" "$(ls -A "$T/out")"

# An __init__.py that is a symlink out of the folder: not packed; the
# folder is a namespace package, as when it has none.
mkdir -p "$T/p2/app/lib"
echo 'SECRET = "root notes"' >"$T/p2/outside.py"
ln -s "$T/p2/outside.py" "$T/p2/app/lib/__init__.py"
echo 'X = 1' >"$T/p2/app/lib/mod.py"
printf 'import lib.mod\nprint(getattr(lib, "SECRET", "no secret"), lib.mod.X)\n' >"$T/p2/app/main.py"
run "$KILN" build -q "$T/p2/app/main.py" -o "$T/p2/exe"
expect_eq "__init__ symlink out: build" 0 "$RC"
expect_contains "__init__ symlink out: warned" \
    "skipping $T/p2/app/lib/__init__.py: a symlink to $T/p2/outside.py, outside $T/p2/app" "$ERR"
run "$T/p2/exe"
expect_eq "__init__ symlink out: not packed" "no secret 1" "$OUT"
grep -q "root notes" "$T/p2/exe" && fail "__init__ symlink out: its target is in the executable"
# One that stays inside is packed.
echo 'SECRET = "inside"' >"$T/p2/app/real_init.py"
ln -sf "$T/p2/app/real_init.py" "$T/p2/app/lib/__init__.py"
build "$T/p2/app/main.py" -o "$T/p2/exe"
run "$T/p2/exe"
expect_eq "__init__ symlink inside: packed" "inside 1" "$OUT"
finish
