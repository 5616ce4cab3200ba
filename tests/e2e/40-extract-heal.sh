# The extract cache heals itself: a file deleted, edited or replaced is
# restored at the next run (the stamp lists each file's size and mtime);
# temporary folders that dead writers left are removed; the private
# temporary folder used when the cache cannot be is removed on SIGTERM and
# SIGHUP too (the app still dies by the signal, and Python sees SIG_DFL),
# and after SIGKILL by the next run; a forked child leaves it alone.
. "$(dirname "$0")/lib.sh"
shared_cache=${KILN_CACHE_DIR:-} # run.sh's, for the build
unset KILN_CACHE_DIR
export HOME=$T/home XDG_CACHE_HOME=$T/cache TMPDIR=$T/tmp
mkdir -p "$HOME" "$TMPDIR" "$T/src/datapkg/data"
cat >"$T/src/datapkg/__init__.py" <<'PY'
import os
HERE = os.path.dirname(__file__)
def table():
    with open(os.path.join(HERE, "data", "table.txt")) as f:
        return f.read().strip()
PY
echo "a,b" >"$T/src/datapkg/data/table.txt"
cat >"$T/app.py" <<'PY'
import os, signal, sys, time, datapkg
print(datapkg.table(), flush=True)
if sys.argv[1:] == ["sleep"]:
    print("ready", signal.getsignal(signal.SIGTERM) == signal.getsignal(signal.SIGHUP) == signal.SIG_DFL, flush=True)
    time.sleep(30)
elif sys.argv[1:] == ["fork"]:
    pid = os.fork()
    if pid == 0:
        sys.exit(0)  # the child finalizes Python, as a normal exit does
    os.waitpid(pid, 0)
    print("after the child", datapkg.table())
PY
KILN_CACHE_DIR=$shared_cache build "$T/app.py" --path "$T/src" -o "$T/app"
run "$T/app"
expect_eq "first run" "a,b" "$OUT"
dir=$(echo "$T"/cache/kiln/extract/datapkg-*)
file=$dir/datapkg/data/table.txt
[ -f "$file" ] || fail "not extracted: $file"

# A deleted file, an edit of the same size, an edit of another size, a
# symlink in its place: each is restored, without a warning.
rm "$file"
run "$T/app"
expect_eq "deleted: restored" "a,b" "$OUT"
expect_eq "deleted: no warning" "" "$ERR"
[ -f "$file" ] || fail "deleted: $file not restored"
echo "x,y" >"$file"
run "$T/app"
expect_eq "edited, same size: restored" "a,b" "$OUT"
echo "something longer" >"$file"
run "$T/app"
expect_eq "edited: restored" "a,b" "$OUT"
expect_eq "edited: file" "a,b" "$(cat "$file")"
echo "a,b" >"$T/copy.txt"
rm "$file" && ln -s "$T/copy.txt" "$file"
run "$T/app"
[ -L "$file" ] && fail "symlink: not replaced by the file"
expect_eq "one folder" "1" "$(ls "$T/cache/kiln/extract" | wc -l)"

# Writers' temporary folders: a dead process's (in this pid namespace;
# read-only, as a writer leaves its folder once the stamp is written) and
# one older than a day (another pid namespace's) are removed at the next
# run; a live process's is kept, and so is what kiln did not name (an
# older kiln's name, with no pid), however old.
ns=$(stat -L -c %i /proc/self/ns/pid)
sh -c 'exit 0' &
dead=$!
wait "$dead"
base=$T/cache/kiln/extract
name=$(basename "$dir")
old=.$name.1-1-0123456789abcdef
mkdir -p "$base/.$name.$dead-$ns-0123456789abcdef/datapkg" \
    "$base/.$name.$$-$ns-0123456789abcdef" "$base/$old" "$base/.$name.AbC123" "$base/.$name.XyZ789"
head -c 100000 /dev/zero >"$base/.$name.$dead-$ns-0123456789abcdef/datapkg/big"
chmod 0555 "$base/.$name.$dead-$ns-0123456789abcdef/datapkg" "$base/.$name.$dead-$ns-0123456789abcdef"
touch -d '2 days ago' "$base/$old" "$base/.$name.AbC123"
run "$T/app"
expect_eq "after stale writers" "a,b" "$OUT"
[ -e "$base/.$name.$dead-$ns-0123456789abcdef" ] && fail "a dead writer's folder stays"
[ -e "$base/$old" ] && fail "a writer's folder two days old stays"
[ -d "$base/.$name.AbC123" ] || fail "a folder kiln did not name was removed"
[ -d "$base/.$name.$$-$ns-0123456789abcdef" ] || fail "a live writer's folder was removed"
[ -d "$base/.$name.XyZ789" ] || fail "a fresh folder of unknown writer was removed"
rmdir "$base/.$name.$$-$ns-0123456789abcdef" "$base/.$name.XyZ789" "$base/.$name.AbC123"

# The fallback temporary folder (XDG_CACHE_HOME is a file): removed when the
# app dies by SIGTERM or SIGHUP, which it still does.
export XDG_CACHE_HOME=$T/app
for sig in TERM HUP; do
    env --default-signal=TERM,HUP "$T/app" sleep >"$T/sig.out" 2>"$T/sig.err" &
    pid=$!
    for i in $(seq 100); do
        grep -q ready "$T/sig.out" 2>/dev/null && break
        sleep 0.1
    done
    expect_eq "SIG$sig: Python sees SIG_DFL" "a,b
ready True" "$(cat "$T/sig.out")"
    expect_eq "SIG$sig: a temporary folder while running" 1 "$(ls "$TMPDIR" | grep -c '^kiln-extract-')"
    kill -$sig "$pid"
    wait "$pid" 2>/dev/null
    rc=$?
    expect_eq "SIG$sig: dies by the signal" $((128 + $(kill -l $sig))) "$rc"
    expect_eq "SIG$sig: temporary folder removed" "" "$(ls "$TMPDIR")"
done

# SIGKILL leaves it; the next run that makes one removes it.
"$T/app" sleep >"$T/sig.out" 2>"$T/sig.err" &
pid=$!
for i in $(seq 100); do
    grep -q ready "$T/sig.out" 2>/dev/null && break
    sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
expect_eq "SIGKILL leaves it" 1 "$(ls "$TMPDIR" | grep -c '^kiln-extract-')"
run "$T/app"
expect_eq "after SIGKILL" "a,b" "$OUT"
expect_eq "next run removed it" "" "$(ls "$TMPDIR")"

# A forked child that exits normally leaves its parent's folder alone.
run "$T/app" fork
expect_eq "fork" "a,b
after the child a,b" "$OUT"
expect_eq "fork: removed at exit" "" "$(ls "$TMPDIR")"
finish
