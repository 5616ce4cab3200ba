# The extract-once cache: a package that reads files beside __file__ gets
# real files, written once per content, atomically, in a private folder.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/datapkg/data" "$T/src/plain"
cat >"$T/src/datapkg/__init__.py" <<'PY'
import os
HERE = os.path.dirname(__file__)
def table():
    with open(os.path.join(HERE, "data", "table.txt")) as f:
        return f.read().strip()
PY
echo "a,b" >"$T/src/datapkg/data/table.txt"
echo 'X = 1' >"$T/src/plain/__init__.py"
cat >"$T/app.py" <<'PY'
import os, sys, datapkg, plain
print(datapkg.table())
print("real file", os.path.isfile(datapkg.__file__), datapkg.__file__.startswith(sys.executable))
print("plain virtual", plain.__file__ == sys.executable + "/plain/__init__.py")
import importlib.resources as r, pkgutil
print("resources", (r.files(datapkg) / "data" / "table.txt").read_text().strip())
print("get_data", pkgutil.get_data("datapkg", "data/table.txt"))
PY
build "$T/app.py" --path "$T/src" -o "$T/app"
run "$KILN" inspect "$T/app"
expect_contains "flagged for extraction" "datapkg  (extract)" "$OUT"
expect_not_contains "plain not flagged" "plain  (extract)" "$OUT"
export XDG_CACHE_HOME=$T/cache
run "$T/app"
expect_eq "extracted run" "a,b
real file True False
plain virtual True
resources a,b
get_data b'a,b\n'" "$OUT"
expect_eq "no warning" "" "$ERR"
dir=$(echo "$T"/cache/kiln/extract/datapkg-*)
[ -f "$dir/.kiln-complete" ] || fail "no stamp in $dir"
[ -f "$dir/datapkg/data/table.txt" ] || fail "data file not extracted in $dir"
expect_eq "private folder" "700" "$(stat -c %a "$T/cache/kiln/extract")"
expect_eq "one folder" "1" "$(ls "$T/cache/kiln/extract" | wc -l)"
# A second run reuses it (a marker file survives); the source folder is gone.
touch "$dir/marker"
mv "$T/src" "$T/src.gone"
run "$T/app"
expect_eq "second run" "a,b" "$(echo "$OUT" | head -1)"
[ -f "$dir/marker" ] || fail "the cache was rewritten"
# A folder without its stamp (a crash half-way) is not trusted: redone.
rm "$dir/.kiln-complete" "$dir/datapkg/data/table.txt"
run "$T/app"
expect_eq "after a crash" "a,b" "$(echo "$OUT" | head -1)"
[ -f "$dir/.kiln-complete" ] || fail "stamp not rewritten"
# A cache folder another user can write is refused: a private temporary
# folder is used, with a warning, and removed at exit.
chmod 777 "$T/cache/kiln/extract"
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
run "$T/app"
expect_eq "unsafe cache: still runs" "a,b" "$(echo "$OUT" | head -1)"
expect_contains "unsafe cache: warning" "$T/cache/kiln/extract is writable by another user (mode 0777), so it is refused" "$ERR"
expect_contains "unsafe cache: fallback" "private temporary folder" "$ERR"
expect_eq "temporary folder removed" "" "$(ls "$TMPDIR")"
chmod 700 "$T/cache/kiln/extract"
# A cache that cannot be created (XDG_CACHE_HOME is a file): the same.
export XDG_CACHE_HOME=$T/app
run "$T/app"
expect_eq "unwritable cache: still runs" "a,b" "$(echo "$OUT" | head -1)"
expect_contains "unwritable cache: warning" "$T/app is not a folder" "$ERR"
# --no-extract: virtual paths, and the package's own open() fails.
mv "$T/src.gone" "$T/src"
build "$T/app.py" --path "$T/src" --no-extract datapkg -o "$T/noext"
run "$KILN" inspect "$T/noext"
expect_not_contains "not flagged" "datapkg  (extract)" "$OUT"
run "$T/noext"
expect_contains "no extraction: open fails" "NotADirectoryError" "$ERR"
finish
