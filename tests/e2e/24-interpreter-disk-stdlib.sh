# Interpreter mode searches <its folder>/lib/python3.11 after the packed
# stdlib, as python3 its stdlib folder: what kiln does not pack (CPython's
# test package, say) imports from there, also under -I and in child
# processes started with -I; the packed stdlib still wins. A packed
# package's folder there joins its __path__ (for ctypes/test, say).
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/k/lib/python3.11/extra"
build --interpreter -o "$T/k/py"
py="$T/k/py"
echo 'WHERE = "disk stdlib folder"' >"$T/k/lib/python3.11/extra/__init__.py"
echo 'raise SystemExit("the disk json must not load")' >"$T/k/lib/python3.11/json.py"
run "$py" -I -c 'import sys, extra, json; print(extra.WHERE, sys.path[-1], json.__file__ == sys.executable + "/json/__init__.py")'
expect_eq "-I import" "disk stdlib folder $T/k/lib/python3.11 True" "$OUT"
run "$py" -I -S -c 'import subprocess, sys; print(subprocess.run([sys.executable, "-I", "-c", "import extra; print(extra.WHERE)"], capture_output=True, text=True).stdout.strip())'
expect_eq "-I child import" "disk stdlib folder" "$OUT"
mkdir -p "$T/k/lib/python3.11/json"
echo 'SUB = "disk submodule"' >"$T/k/lib/python3.11/json/disksub.py"
echo 'raise SystemExit("the disk json/decoder.py must not load")' >"$T/k/lib/python3.11/json/decoder.py"
run "$py" -I -c 'import sys, json.disksub, json.decoder; print(json.disksub.SUB, json.__path__ == [sys.executable + "/json", sys.path[-1] + "/json"], json.decoder.__file__.startswith(sys.executable))'
expect_eq "disk submodule of a packed package" "disk submodule True True" "$OUT"
run "$py" -I -c 'import email, sys; print(email.__path__ == [sys.executable + "/email"])'
expect_eq "no disk folder, no __path__ entry" "True" "$OUT"
# sysconfig names that folder as the stdlib, as python3's names its own.
run "$py" -I -c 'import sysconfig; print(sysconfig.get_path("stdlib"))'
expect_eq "sysconfig stdlib" "$T/k/lib/python3.11" "$OUT"
finish
