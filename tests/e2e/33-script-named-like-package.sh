# A script named like a package it packs (Debian's /usr/bin/docutils runs
# the package docutils) is packed as NAME.py, so that <exe>/NAME is not
# both a file and a folder: the package's extraction and its resources
# then work as for any other script.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/bin" "$T/src/tool"
cat >"$T/bin/tool" <<'PY'
#!/usr/bin/python3
import sys, tool.core
sys.exit(tool.core.main())
PY
echo '' >"$T/src/tool/__init__.py"
cat >"$T/src/tool/core.py" <<'PY'
import os, pkgutil, importlib.resources
def main():
    with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
        print(f.read().strip())
    print(importlib.resources.files("tool").joinpath("data.txt").read_text().strip())
    print(sorted(m.name for m in pkgutil.iter_modules(__import__("tool").__path__)))
    return 3
PY
echo "beside __file__" >"$T/src/tool/data.txt"
run env PYTHONPATH="$T/src" "$PY" "$T/bin/tool"
want="$OUT $RC"
build "$T/bin/tool" --path "$T/src" -o "$T/app"
run "$T/app"
expect_eq "runs as under python3" "$want" "$OUT $RC"
run "$KILN" inspect "$T/app"
expect_contains "the script as tool.py" "tool.py" "$OUT"
# A script named like a stdlib module keeps its name.
printf 'print(__file__.rpartition("/")[2])\n' >"$T/queue.py"
build "$T/queue.py" -o "$T/q"
run "$T/q"
expect_eq "queue.py stays queue.py" "queue.py" "$OUT$ERR"
finish
