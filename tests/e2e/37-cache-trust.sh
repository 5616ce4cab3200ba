# The caches trust no folder above them that another user could change:
# a folder above the bytecode cache or the extract cache that another user
# owns, or can write without the sticky bit, makes kiln refuse that cache
# with a warning naming the folder (the build goes on without cache; the app
# uses a private temporary folder). Sticky folders (/tmp) and symlinked
# ancestors are fine. Root with another user's HOME (sudo -E) makes nothing
# there, quietly, and that user's caches keep working for them.
. "$(dirname "$0")/lib.sh"
shared_cache=${KILN_CACHE_DIR:-} # run.sh's, for the first build
unset KILN_CACHE_DIR XDG_CACHE_HOME
export HOME=$T/home TMPDIR=$T/tmp
mkdir -p "$HOME" "$TMPDIR"
datapkg_app
KILN_CACHE_DIR=$shared_cache build "$T/app.py" --path "$T/src" -o "$T/app"

# open_cache VAR=VALUE... [-v]: kiln build with nothing to build, in $T:
# it opens the bytecode cache, then stops; a full build would compile the
# whole stdlib each time, as no cache is used.
open_cache() {
    local vars=()
    while [ $# -gt 0 ] && [ "${1#*=}" != "$1" ]; do vars+=("$1"); shift; done
    run env -C "$T" "${vars[@]}" "$KILN" build -q "$@"
    expect_contains "nothing to build" "nothing to build" "$ERR"
}

# refused WHAT FOLDER REASON VAR=VALUE: the bytecode cache is refused with a
# warning that FOLDER, above it, is REASON; so is the extract cache when VAR
# is XDG_CACHE_HOME, and the app works, with a private temporary folder.
refused() {
    local what=$1 bad=$2 reason=$3 var=$4
    open_cache "$var"
    expect_contains "$what: bytecode cache refused" \
        "kiln: warning: no bytecode cache: $bad, above " "$ERR"
    expect_contains "$what: bytecode cache: why" "is $reason" "$ERR"
    case "$var" in XDG_CACHE_HOME=*) ;; *) return 0 ;; esac
    run env "$var" "$T/app"
    expect_eq "$what: app runs" "data ok" "$OUT"
    expect_contains "$what: extract cache refused" \
        "kiln: warning: cannot use the extract cache ($bad, above ${var#*=}/kiln/extract, is $reason" "$ERR"
    expect_contains "$what: fallback" "private temporary folder" "$ERR"
    expect_eq "$what: temporary folder removed" "" "$(ls "$TMPDIR")"
}
writable="writable by another user (mode 0777, not sticky)"
owned="owned by uid 65534, who could swap what is below it"

# A folder above, mode 0777 without the sticky bit: anyone could rename the
# cache away and put their own in its place, after the check.
mkdir "$T/open" "$T/open/cache"
chmod 0777 "$T/open"
chmod 0700 "$T/open/cache"
refused "KILN_CACHE_DIR, 0777 above" "$T/open" "$writable" KILN_CACHE_DIR="$T/open/cache"
refused "KILN_CACHE_DIR, 0777 above, missing" "$T/open" "$writable" \
    KILN_CACHE_DIR="$T/open/new/cache"
[ -e "$T/open/new" ] && fail "a cache folder was made below $T/open"
refused "XDG_CACHE_HOME, 0777 above" "$T/open" "$writable" XDG_CACHE_HOME="$T/open/xdg"
[ -e "$T/open/xdg" ] && fail "a cache folder was made below $T/open"

# The same folder with the sticky bit (as /tmp) is fine.
chmod 1777 "$T/open"
open_cache KILN_CACHE_DIR="$T/open/cache2"
expect_not_contains "sticky above: no warning" "warning" "$ERR"
[ -d "$T/open/cache2" ] || fail "sticky above: no cache folder"
run env XDG_CACHE_HOME="$T/open/xdg" "$T/app"
expect_eq "sticky above: extract cache used" "data ok" "$OUT"
expect_eq "sticky above: no warning" "" "$ERR"
ls "$T/open/xdg/kiln/extract/"datapkg-*/datapkg/d.txt >/dev/null 2>&1 ||
    fail "sticky above: nothing extracted in $T/open/xdg"

# A symlinked folder above (/home -> /var/home) is followed.
mkdir "$T/real"
ln -s "$T/real" "$T/link"
open_cache KILN_CACHE_DIR="$T/link/cache"
expect_not_contains "symlink above: no warning" "warning" "$ERR"
[ -d "$T/real/cache" ] || fail "symlink above: no cache folder in $T/real"
run env XDG_CACHE_HOME="$T/link/xdg" "$T/app"
expect_eq "symlink above: extract cache used" "" "$ERR"
ls "$T/real/xdg/kiln/extract/"datapkg-*/datapkg/d.txt >/dev/null 2>&1 ||
    fail "symlink above: nothing extracted in $T/real/xdg"

if [ "$(id -u)" = 0 ]; then
    # Writable by its group: fine when the group is this user's own (as
    # umask 002 leaves ~/.cache), refused when others are in it.
    mkdir "$T/grp"
    chmod 0775 "$T/grp"
    chgrp "$(id -g)" "$T/grp"
    open_cache KILN_CACHE_DIR="$T/grp/cache"
    expect_not_contains "own group above: no warning" "warning" "$ERR"
    [ -d "$T/grp/cache" ] || fail "own group above: no cache folder"
    chgrp 65534 "$T/grp"
    refused "KILN_CACHE_DIR, group above" "$T/grp" \
        "writable by its group, not yours alone (mode 0775, not sticky)" \
        KILN_CACHE_DIR="$T/grp/cache"

    # A folder above owned by another user, who could swap what is below.
    mkdir -p "$T/other/sub"
    chown 65534 "$T/other"
    chmod 0755 "$T/other"
    refused "KILN_CACHE_DIR, owner above" "$T/other" "$owned" KILN_CACHE_DIR="$T/other/sub/cache"
    refused "XDG_CACHE_HOME, owner above" "$T/other" "$owned" XDG_CACHE_HOME="$T/other/sub/xdg"
    [ -e "$T/other/sub/cache" ] || [ -e "$T/other/sub/xdg" ] &&
        fail "a cache folder was made below $T/other"

    # Root with another user's HOME (sudo -E): nothing is made there, no
    # warning; -v says why the bytecode cache is off. One whole build, which
    # also shows that a build goes on without cache.
    chmod 0711 "$T"
    mkdir "$T/alice"
    chown 65534:65534 "$T/alice"
    chmod 0755 "$T/alice"
    run env HOME="$T/alice" "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/app3"
    expect_eq "sudo -E build: status" 0 "$RC"
    expect_eq "sudo -E build: quiet" "" "$ERR"
    run "$T/app3"
    expect_eq "sudo -E build: the app built" "data ok" "$OUT"
    for xdg in "" "$T/alice/.cache"; do
        [ -n "$xdg" ] && setpriv --reuid=65534 --regid=65534 --clear-groups mkdir -p "$xdg"
        what="sudo -E${xdg:+ (XDG_CACHE_HOME)}"
        open_cache HOME="$T/alice" ${xdg:+XDG_CACHE_HOME=$xdg}
        expect_not_contains "$what: build: quiet" "cache" "$ERR"
        open_cache HOME="$T/alice" ${xdg:+XDG_CACHE_HOME=$xdg} -v
        if [ -n "$xdg" ]; then whose="XDG_CACHE_HOME ($xdg)"; else whose="HOME ($T/alice)"; fi
        expect_contains "$what: build -v says why" \
            "kiln: no bytecode cache: $whose belongs to uid 65534, not to you (uid 0)" "$ERR"
        run env HOME="$T/alice" ${xdg:+XDG_CACHE_HOME=$xdg} "$T/app"
        expect_eq "$what: app runs" "data ok" "$OUT"
        expect_eq "$what: app: quiet" "" "$ERR"
        expect_eq "$what: nothing in the home" "$xdg" "$(find "$T/alice" -mindepth 1)"
        expect_eq "$what: temporary folder removed" "" "$(ls "$TMPDIR")"
    done
    # The user's own runs still use their cache, without a warning.
    chmod 0755 "$T/app"
    run setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/alice" "$T/app"
    expect_eq "the user's run" "data ok" "$OUT"
    expect_eq "the user's run: no warning" "" "$ERR"
    ls "$T/alice/.cache/kiln/extract/"datapkg-*/datapkg/d.txt >/dev/null 2>&1 ||
        fail "the user's run: nothing extracted in $T/alice/.cache"
fi
finish
