# Data written beside an extracted __file__ is never lost silently: kiln
# build notes that an app's package gets a read-only copy; the extracted
# files and folders are read-only, so a user's write fails at once; root,
# whom modes do not stop, is told at exit what it wrote there. The cache's
# own rewrite and removal still work on read-only folders. A Django project
# (its settings put the database beside BASE_DIR) shows both.
. "$(dirname "$0")/lib.sh"
shared_cache=${KILN_CACHE_DIR:-} # run.sh's, for the builds
unset KILN_CACHE_DIR
export HOME=$T/home XDG_CACHE_HOME=$T/cache TMPDIR=$T/tmp
mkdir -p "$HOME" "$TMPDIR" "$T/src/notes"
cat >"$T/src/notes/__init__.py" <<'PY'
import os
DB = os.path.join(os.path.dirname(__file__), "notes.txt")
def add(line):
    with open(DB, "a") as f:
        f.write(line + "\n")
    with open(DB) as f:
        return len(f.readlines())
PY
echo "colour=blue" >"$T/src/notes/defaults.txt"
cat >"$T/src/app.py" <<'PY'
import os, sys, notes
if sys.argv[1] == "edit":  # a packed file, changed in place
    with open(os.path.join(os.path.dirname(notes.__file__), "defaults.txt"), "a") as f:
        f.write("colour=red\n")
    sys.exit(0)
print("notes", notes.add(sys.argv[1]))
PY
# python3 writes beside the source.
run "$PY" "$T/src/app.py" one
expect_eq "python3" "notes 1" "$OUT"
rm "$T/src/notes/notes.txt"

run env KILN_CACHE_DIR="$shared_cache" "$KILN" build "$T/src/app.py" -o "$T/app"
expect_eq "build: status" 0 "$RC"
expect_contains "build: note" "kiln: note: the app's package notes gets real files at run time, as notes line 2 uses __file__ in a path: they are a read-only copy in kiln's extract cache, so what it writes beside __file__ (a database, a log) fails there" "$ERR"
run "$KILN" inspect "$T/app"
expect_contains "inspect: extracted" "extract:  notes" "$OUT"
expect_contains "inspect: read-only" "real files at run time, in read-only folders of kiln's extract" "$OUT"

# as_user CMD...: runs CMD as uid 65534 when we are root, else as we are.
as_user() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups \
            env HOME="$T/user" XDG_CACHE_HOME="$T/user/cache" TMPDIR="$T/user/tmp" "$@"
    else
        env HOME="$T/user" XDG_CACHE_HOME="$T/user/cache" TMPDIR="$T/user/tmp" "$@"
    fi
}
chmod 0711 "$T"
chmod 0755 "$T/app"
mkdir -p "$T/user/tmp"
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$T/user"
ucache=$T/user/cache/kiln/extract

# A user's write fails, loudly, and leaves nothing in the cache.
run as_user "$T/app" one
expect_eq "user: status" 1 "$RC"
expect_contains "user: the write fails" "PermissionError: [Errno 13] Permission denied: '$ucache/notes-" "$ERR"
expect_not_contains "user: no exit warning" "were written" "$ERR"
dir=$(echo "$ucache"/notes-*)
expect_eq "user: only the packed files" ".kiln-complete notes" "$(ls -A "$dir" | tr '\n' ' ' | sed 's/ $//')"
# A packed file keeps an installed file's mode (copies of it are
# writable): a change in place works, is named at exit, and the next run
# writes the packed file again.
run as_user "$T/app" edit
expect_eq "user: edit: status" 0 "$RC"
expect_contains "user: edit: named at exit" "$dir/notes/defaults.txt (changed)" "$ERR"
run as_user "$T/app" one
expect_eq "user: edit: the packed file again" "colour=blue" "$(cat "$dir/notes/defaults.txt")"
expect_not_contains "user: edit: said once" "(changed)" "$ERR"
expect_eq "user: modes" "555 555 644" "$(stat -c %a "$dir" "$dir/notes" "$dir/notes/__init__.py" | tr '\n' ' ' | sed 's/ $//')"

# The cache still heals itself: a file deleted (its folder made writable
# by hand) is written again, and the folders are read-only again.
as_user chmod u+w "$dir/notes"
as_user rm "$dir/notes/__init__.py"
run as_user "$T/app" two
expect_contains "user: healed, the write fails again" "PermissionError" "$ERR"
expect_eq "user: healed" "555 555 644" "$(stat -c %a "$dir" "$dir/notes" "$dir/notes/__init__.py" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "user: one folder" "1" "$(ls "$ucache" | wc -l)"
# A dead writer's read-only folder is removed.
ns=$(stat -L -c %i /proc/self/ns/pid)
sh -c 'exit 0' &
dead=$!
wait "$dead"
stale=$ucache/.$(basename "$dir").$dead-$ns-0123456789abcdef
as_user mkdir -p "$stale/notes"
as_user touch "$stale/notes/x"
as_user chmod 0555 "$stale/notes" "$stale"
run as_user "$T/app" three
[ -e "$stale" ] && fail "user: a dead writer's read-only folder stays"
# The private temporary folder (the cache is unusable: XDG_CACHE_HOME is a
# file), read-only inside, is removed at exit.
as_user touch "$T/user/file"
run as_user env XDG_CACHE_HOME="$T/user/file" "$T/app" four
expect_contains "user: fallback" "private temporary folder" "$ERR"
expect_contains "user: fallback: the write fails" "PermissionError" "$ERR"
expect_eq "user: fallback removed" "" "$(ls -A "$T/user/tmp")"

# Root ignores the modes: the write succeeds, and the exit names it, in
# every run while it is there. A run that finds nothing says nothing.
if [ "$(id -u)" = 0 ]; then
    cat >"$T/src/quiet.py" <<'PY'
import notes
print("ok")
PY
    KILN_CACHE_DIR=$shared_cache build "$T/src/quiet.py" -o "$T/quiet"
    run "$T/quiet"
    expect_eq "root: a run that writes nothing" "ok" "$OUT"
    expect_eq "root: says nothing" "" "$ERR"
    run "$T/app" one
    expect_eq "root: runs" "notes 1" "$OUT"
    rdir=$(echo "$T"/cache/kiln/extract/notes-*)
    expect_eq "root: told at exit" "kiln: warning: files were written into kiln's extract cache, which holds a read-only copy of the packed files (root ignores its modes); they are not kept (a new build extracts to a new folder, and a changed file is written again): write them elsewhere, not beside a packed module's __file__:
  $rdir/notes/notes.txt" "$ERR"
    run "$T/app" two
    expect_eq "root: second run" "notes 2" "$OUT"
    expect_contains "root: told again" "$rdir/notes/notes.txt" "$ERR"
fi

# Django: its settings put the database beside BASE_DIR, two folders up
# from settings.py, which is the extracted package's folder.
if [ "${VARIANT:-plain}" = plain ] &&
    "$PY" -c 'import django, sqlparse, asgiref, pytz' 2>/dev/null; then
    mkdir -p "$T/dj" && (cd "$T/dj" && "$PY" -m django startproject mysite) ||
        fail "django: startproject failed"
    run env KILN_CACHE_DIR="$shared_cache" "$KILN" build "$T/dj/mysite/manage.py" \
        --path "$T/dj/mysite" --package django --package sqlparse \
        --package asgiref --package pytz -o "$T/dj/manage"
    expect_contains "django: build note" "kiln: note: the app's package mysite gets real files at run time, as mysite.settings line 16 uses __file__ in a path" "$ERR"
    chmod 0755 "$T/dj" "$T/dj/manage"
    run as_user "$T/dj/manage" migrate
    expect_eq "django: user: fails" 1 "$RC"
    expect_contains "django: user: loudly" "unable to open database file" "$ERR"
    if [ "$(id -u)" = 0 ]; then
        run "$T/dj/manage" migrate
        expect_eq "django: root: migrates" 0 "$RC"
        expect_contains "django: root: told where the database went" \
            "/kiln/extract/mysite-" "$ERR"
        expect_contains "django: root: the database" "/db.sqlite3" "$ERR"
    fi
    # The way out: a database path of its own (here, the current folder).
    sed -i "s|'NAME': BASE_DIR / 'db.sqlite3'|'NAME': Path.cwd() / 'db.sqlite3'|" \
        "$T/dj/mysite/mysite/settings.py"
    KILN_CACHE_DIR=$shared_cache build "$T/dj/mysite/manage.py" --path "$T/dj/mysite" \
        --package django --package sqlparse --package asgiref --package pytz \
        -o "$T/dj/manage"
    mkdir -p "$T/dj/run"
    run sh -c "cd '$T/dj/run' && '$T/dj/manage' migrate"
    expect_eq "django: own path: migrates" 0 "$RC"
    expect_eq "django: own path: no warning" "" "$ERR"
    [ -s "$T/dj/run/db.sqlite3" ] || fail "django: no database in the current folder"
fi
finish
