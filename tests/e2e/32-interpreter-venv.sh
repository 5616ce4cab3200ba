# A venv made by a kiln interpreter behaves as one made by python3 ($PY):
# sys.base_prefix is the interpreter's folder (from pyvenv.cfg's home, for
# a venv of copies too), sys.prefix the venv once site.py has run, and the
# activate scripts exist (venv copies them from its own folder, so kiln
# extracts it). CPython's test_venv found the copies and the scripts.
. "$(dirname "$0")/lib.sh"
mkdir "$T/base"
build --interpreter -o "$T/base/py"
# The scheme of a venv's paths: "venv" since 3.11, posix_prefix before.
scheme=venv
target_has '"venv" in __import__("sysconfig").get_scheme_names()' ||
    scheme=posix_prefix
show='import sys; print(sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, sys._base_executable)'
for kind in symlinks copies; do
    v=$T/venv-$kind
    run "$T/base/py" -m venv "--$kind" --without-pip "$v"
    expect_eq "$kind: venv made" "0" "$RC$ERR"
    run "$v/bin/python" -c "$show"
    expect_eq "$kind: prefixes" "$v $T/base $v $T/base $T/base/py" "$OUT$ERR"
    run "$v/bin/python" -S -c "$show"
    expect_eq "$kind: prefixes without site" \
        "$T/base $T/base $T/base $T/base $T/base/py" "$OUT$ERR"
    run "$v/bin/python" -c 'import sys, sysconfig; print(sysconfig.get_default_scheme(), sysconfig.get_path("purelib") in sys.path)'
    expect_eq "$kind: the venv scheme" "$scheme True" "$OUT$ERR"
    printf 'set -euo pipefail\nsource %q\npython -c "import sys; print(sys.prefix)"\ndeactivate\n' \
        "$v/bin/activate" >"$T/activate.sh"
    run bash "$T/activate.sh"
    expect_eq "$kind: bash activate" "$v" "$OUT$ERR"
    # A venv of a venv still leads to the interpreter.
    run "$v/bin/python" -c 'import sys; print(sys.path[-2:])'
    expect_eq "$kind: sys.path" "['$T/base/$TARGET_LIB', '$v/$TARGET_LIB/site-packages']" "$OUT$ERR"
    run stat -c %a "$v/bin/activate"
    expect_eq "$kind: activate's mode, as python3's venv" "644" "$OUT"
    run "$v/bin/python" -m venv "--$kind" --without-pip "$v/inner"
    run "$v/inner/bin/python" -S -c 'import sys; print(sys.base_prefix)'
    expect_eq "$kind: venv of a venv" "$T/base" "$OUT$ERR"
done
# The base moved, and pyvenv.cfg's home edited to follow it.
mkdir "$T/moved"
cp "$T/base/py" "$T/moved/py"
sed -i "s|^home = .*|home = $T/moved|" "$T/venv-copies/pyvenv.cfg"
rm "$T/base/py"
run "$T/venv-copies/bin/python" -S -c 'import sys; print(sys.base_prefix)'
expect_eq "home edited after a move" "$T/moved" "$OUT$ERR"
# A kiln interpreter put into python3's venv is its own base.
run "$PY" -m venv --without-pip "$T/cpython-venv"
cp "$T/moved/py" "$T/cpython-venv/bin/kpy"
run "$T/cpython-venv/bin/kpy" -S -c 'import sys; print(sys.base_prefix)'
expect_eq "a kiln interpreter in python3's venv" "$T/cpython-venv/bin" "$OUT$ERR"
# Moved away, a copy without its pyvenv.cfg is its own interpreter again.
cp "$T/venv-copies/bin/python" "$T/lone"
run "$T/lone" -c 'import sys; print(sys.base_prefix)'
expect_eq "a copy outside a venv" "$T" "$OUT$ERR"
finish
