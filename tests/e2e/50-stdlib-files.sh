# What a virtual path answers, and real files for the standard library:
# a module's __file__ inside the executable reads through its loader
# (linecache, inspect) but a stat or an open() of it fails with
# NotADirectoryError, as a path inside a zip archive does; --extract takes
# stdlib names (json; os, which is frozen), and --stdlib-files gives the
# whole stdlib real, read-only files in one folder, sys._stdlib_dir
# included. kiln does that by itself for jedi, whose completion stats the
# file of every module it reads.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME=$T/cache
cat >"$T/app.py" <<'PY'
import inspect, json, linecache, os, sys, typing
def show(m):
    f = m.__file__
    cache = os.environ["XDG_CACHE_HOME"] + "/kiln/extract/stdlib-"
    where = "exe" if f.startswith(sys.executable + "/") else \
        "cache" if f.startswith(cache) else "?"
    try:
        os.path.getmtime(f)
        stat = "stat ok"
    except OSError as e:
        stat = type(e).__name__
    print(m.__name__, where, os.path.isfile(f), stat)
for m in (json, os, typing):
    show(m)
import json.decoder
show(json.decoder)
print("source", inspect.getsource(json.dumps).splitlines()[0])
print("linecache", linecache.getline(json.__file__, 1).strip()[:3])
print("stdlib dir", os.path.isdir(sys._stdlib_dir))
PY

# Today's answer: virtual paths, read through the loader only.
build "$T/app.py" -o "$T/virtual"
run "$T/virtual"
expect_eq "virtual paths" "json exe False NotADirectoryError
os exe False NotADirectoryError
typing exe False NotADirectoryError
json.decoder exe False NotADirectoryError
source def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
linecache r\"\"
stdlib dir False" "$OUT"

# --extract takes stdlib names: json (a package) and os (frozen).
build "$T/app.py" --extract json --extract os -o "$T/some"
run "$KILN" inspect "$T/some"
expect_contains "inspect: extracted" "extract:  stdlib: json, os" "$OUT"
expect_contains "inspect: read-only" "in read-only folders of kiln's extract" "$OUT"
run "$T/some"
expect_eq "--extract json os" "json cache True stat ok
os cache True stat ok
typing exe False NotADirectoryError
json.decoder cache True stat ok
source def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
linecache r\"\"
stdlib dir False" "$OUT"
expect_eq "--extract json os: no warning" "" "$ERR"
expect_eq "one stdlib folder" "1" "$(ls "$T/cache/kiln/extract" | grep -c '^stdlib-')"
dir=$(echo "$T"/cache/kiln/extract/stdlib-*)
expect_eq "what it holds (venv: kiln extracts it)" "json os.py venv" "$(ls "$dir" | tr '\n' ' ' | sed 's/ $//')"
# An unknown name is still refused.
run "$KILN" build -q "$T/app.py" --extract nosuchthing -o "$T/bad"
expect_eq "unknown name: status" 1 "$RC"
expect_contains "unknown name: message" "nothing packed has the top-level name 'nosuchthing'" "$ERR"

# --stdlib-files: all of it, in one folder that sys._stdlib_dir names.
build "$T/app.py" --stdlib-files -o "$T/all"
run "$KILN" inspect "$T/all"
expect_contains "inspect: all" "extract:  stdlib: all of it (--stdlib-files)" "$OUT"
run "$T/all"
expect_eq "--stdlib-files" "json cache True stat ok
os cache True stat ok
typing cache True stat ok
json.decoder cache True stat ok
source def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
linecache r\"\"
stdlib dir True" "$OUT"
expect_eq "--stdlib-files: no warning" "" "$ERR"
dir=$(ls -d "$T"/cache/kiln/extract/stdlib-* | while read -r d; do [ -f "$d/typing.py" ] && echo "$d"; done)
[ -f "$dir/encodings/utf_8.py" ] && [ -f "$dir/_json.cpython-311-x86_64-linux-gnu.so" ] ||
    fail "--stdlib-files: the stdlib is not whole in $dir"
expect_eq "read-only folders" "555 555" "$(stat -c %a "$dir" "$dir/json" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "files keep their modes" "644" "$(stat -c %a "$dir/json/__init__.py")"
# What sys._stdlib_dir and the early frozen modules say.
cat >"$T/early.py" <<'PY'
import codecs, encodings, os, sys, _json
for m in (codecs, encodings, os, _json):
    print(m.__name__, os.path.dirname(m.__file__) in (sys._stdlib_dir, sys._stdlib_dir + "/encodings"), os.path.exists(m.__file__))
PY
build "$T/early.py" --stdlib-files -o "$T/early"
run "$T/early"
expect_eq "early modules" "codecs True True
encodings True True
os True True
_json True True" "$OUT"
# Another app of the same stdlib shares the folder.
expect_eq "one folder for both apps" "2" "$(ls "$T/cache/kiln/extract" | grep -c '^stdlib-')"
# [tool.kiln] stdlib-files.
mkdir -p "$T/proj"
cp "$T/app.py" "$T/proj/app.py"
printf '[tool.kiln]\nscript = "app.py"\nstdlib-files = true\noutput = "app"\n' >"$T/proj/pyproject.toml"
(cd "$T/proj" && "$KILN" build -q) || fail "pyproject build failed"
run "$T/proj/app"
expect_contains "pyproject stdlib-files" "typing cache True stat ok" "$OUT"

# An interpreter: code that opens a stdlib module's file.
build --interpreter --stdlib-files -o "$T/py"
run "$T/py" -c 'import argparse, sys; print(open(argparse.__file__).readline().strip(), sys._stdlib_dir != sys.executable)'
expect_eq "interpreter" "# Author: Steven J. Bethard <steven.bethard@gmail.com>. True" "$OUT"

# jedi completes from the stdlib's files (Debian's python3-jedi; its
# metadata leaves parso out).
if "$PY" -c 'import jedi, parso' 2>/dev/null; then
    cat >"$T/complete.py" <<'PY'
import jedi
for src in ["'abc'.up", "import json\njson.du"]:
    lines = src.split("\n")
    done = jedi.Script(src).complete(len(lines), len(lines[-1]))
    print(" ".join(sorted(c.name for c in done)))
PY
    run "$KILN" build -v "$T/complete.py" --package jedi --package parso -o "$T/complete"
    expect_contains "jedi: -v says why" "kiln: extracting the whole standard library: jedi reads the files of the modules it analyses" "$ERR"
    run "$T/complete"
    expect_eq "jedi completes" "upper
dump dumps" "$OUT"
    expect_eq "jedi: no error" "" "$ERR"
    build "$T/complete.py" --package jedi --package parso --no-stdlib-files -o "$T/nofiles"
    run "$T/nofiles"
    expect_contains "jedi without the files" "NotADirectoryError" "$ERR"
fi
# pylint's astroid parses the source of each module imported: without the
# stdlib's files, `import json` is "Unable to import" (Debian's pylint).
if [ -x /usr/bin/pylint ]; then
    printf '"""Doc."""\nimport json\n\nprint(json.dumps(1))\n' >"$T/lintme.py"
    run "$KILN" build -v /usr/bin/pylint --package pylint -o "$T/pylint"
    expect_contains "pylint: -v says why" "kiln: extracting the whole standard library: astroid reads the files of the modules it analyses" "$ERR"
    run "$T/pylint" --persistent=n --score=n "$T/lintme.py"
    expect_eq "pylint: stdlib imports resolve" "0 " "$RC $OUT"
fi
finish
