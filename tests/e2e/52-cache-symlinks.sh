# A symlink on the way to the extract cache is followed only when the
# folder holding it passed the checks and the link is root's or the user's;
# its target is then checked the same way. So another user cannot redirect
# the cache (a victim's ~/.cache -> /tmp/scratch, where they make
# kiln/extract -> $HOME) to make the app write into $HOME and sweep its
# dot-folders. The sweep removes only a writer's temporary folder
# (.LABEL-HASH.PID-NS-RANDOM) whose process is gone or that is over a day
# old, never another dot-entry, and never through a symlink.
. "$(dirname "$0")/lib.sh"
shared_cache=${KILN_CACHE_DIR:-}
unset KILN_CACHE_DIR XDG_CACHE_HOME
export HOME=$T/home TMPDIR=$T/tmp
mkdir -p "$HOME" "$TMPDIR"
datapkg_app
KILN_CACHE_DIR=$shared_cache build "$T/app.py" --path "$T/src" \
    --extract datapkg -o "$T/app"
ns=$(stat -L -c %i /proc/self/ns/pid)
hex=0123456789abcdef

# The sweep, in the user's own cache.
run "$T/app"
expect_eq "first run" "data ok" "$OUT"
cache=$HOME/.cache/kiln/extract
mkdir "$T/victim"
echo keep >"$T/victim/file"
mkdir "$cache/.ssh" "$cache/.gnupg" "$cache/.foo.1-2-3" \
    "$cache/.datapkg-$hex.1-2-zz" "$cache/.datapkg-$hex.999999999-$ns-$hex" \
    "$cache/.old-$hex.1-$ns-$hex" "$cache/.new-$hex.1-$ns-$hex"
echo key >"$cache/.ssh/authorized_keys"
ln -s "$T/victim" "$cache/.link-$hex.999999998-$ns-$hex"
touch -d '2 days ago' "$cache/.ssh" "$cache/.gnupg" "$cache/.foo.1-2-3" \
    "$cache/.datapkg-$hex.1-2-zz" "$cache/.old-$hex.1-$ns-$hex"
run "$T/app"
expect_eq "sweep: app runs" "data ok" "$OUT"
for kept in .ssh .gnupg .foo.1-2-3 ".datapkg-$hex.1-2-zz" \
    ".new-$hex.1-$ns-$hex" ".link-$hex.999999998-$ns-$hex"; do
    [ -e "$cache/$kept" ] || [ -L "$cache/$kept" ] ||
        fail "sweep: $kept was removed: only a writer's folder may be"
done
[ -f "$cache/.ssh/authorized_keys" ] || fail "sweep: .ssh was emptied"
[ -f "$T/victim/file" ] || fail "sweep: a symlink's target was emptied"
for gone in ".datapkg-$hex.999999999-$ns-$hex" ".old-$hex.1-$ns-$hex"; do
    [ -e "$cache/$gone" ] && fail "sweep: the stale writer's folder $gone is still there"
done

if [ "$(id -u)" = 0 ]; then
    chmod 0711 "$T"
    # As the review's proof: the victim's ~/.cache is a symlink to a folder
    # that uid 65534 owns, who points kiln/extract at the victim's home.
    home=$T/victim-home
    mkdir -m 0700 "$home" "$home/.ssh" "$home/.gnupg"
    echo key >"$home/.ssh/authorized_keys"
    touch -d '2 days ago' "$home/.ssh" "$home/.gnupg"
    mkdir "$T/scratch"
    chown 65534:65534 "$T/scratch"
    ln -s "$T/scratch" "$home/.cache"
    setpriv --reuid=65534 --regid=65534 --clear-groups sh -c \
        "mkdir -p '$T/scratch/kiln' && ln -s '$home' '$T/scratch/kiln/extract'"
    run env HOME="$home" "$T/app"
    expect_eq "redirected: app runs" "data ok" "$OUT"
    expect_contains "redirected: refused, naming the folder and the link" \
        "kiln: warning: cannot use the extract cache ($T/scratch (through the symlink $home/.cache), above $home/.cache/kiln/extract, is owned by uid 65534, who could swap what is below it" "$ERR"
    [ -d "$home/.ssh" ] && [ -d "$home/.gnupg" ] ||
        fail "redirected: the home's dot-folders were removed: $(ls -a "$home")"
    expect_eq "redirected: nothing written in the home" ".cache .gnupg .ssh" \
        "$(ls -A "$home" | tr '\n' ' ' | sed 's/ $//')"
    expect_eq "redirected: temporary folder removed" "" "$(ls "$TMPDIR")"

    # A symlink that another user made in a sticky folder (as in /tmp) is
    # not followed, even to a good folder; root's own is.
    mkdir -m 1777 "$T/sticky"
    mkdir -m 0700 "$T/mine"
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        ln -s "$T/mine" "$T/sticky/theirs"
    run env XDG_CACHE_HOME="$T/sticky/theirs" "$T/app"
    expect_eq "their link: app runs" "data ok" "$OUT"
    expect_contains "their link: refused" \
        "$T/sticky/theirs, above $T/sticky/theirs/kiln/extract, is a symlink owned by uid 65534, who could point it elsewhere, so it is refused" "$ERR"
    expect_eq "their link: nothing made in the target" "" "$(ls "$T/mine")"
    ln -s "$T/mine" "$T/sticky/ours"
    run env XDG_CACHE_HOME="$T/sticky/ours" "$T/app"
    expect_eq "root's link: app runs" "data ok" "$OUT"
    expect_eq "root's link: no warning" "" "$ERR"
    ls "$T/mine/kiln/extract/"datapkg-*/datapkg/d.txt >/dev/null 2>&1 ||
        fail "root's link: nothing extracted in $T/mine"

    # A link owned by root but inside a folder another user can write is
    # not followed either: that folder is refused first.
    mkdir -m 0777 "$T/open"
    ln -s "$T/mine" "$T/open/link"
    run env XDG_CACHE_HOME="$T/open/link" "$T/app"
    expect_contains "link in an open folder: refused" \
        "$T/open, above $T/open/link/kiln/extract, is writable by another user (mode 0777, not sticky)" "$ERR"
fi
finish
