#!/bin/bash
# --python picks the launcher of an installation (a version, a python's
# path, a venv's python, or python = in [tool.kiln]); `kiln targets`
# lists them; a launcher whose installation changed since make refuses to
# pack; kiln inspect names the installation an app was built from.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

version=$("$PY" -c 'import sys; print(sys.version.split()[0])')
xy=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
printf 'import sys\nprint("hi", sys.version.split()[0], sys.prefix == sys.base_prefix)\n' >hello.py

run "$KILN" targets
expect_eq "kiln targets status" 0 "$RC"
default=$(printf '%s\n' "$OUT" | awk '/\(default\)$/ {print $1}')
[ -n "$default" ] || fail "kiln targets names no default: $OUT"
expect_contains "kiln targets: the default's version" "$version" "$OUT"
expect_contains "kiln targets: the default's python" "$PY" "$OUT"

# A version, and the python's own path, are the default launcher.
for spec in "$xy" "$version" "$PY"; do
    build --python "$spec" hello.py -o "h-$(basename "$spec")" || continue
    run "./h-$(basename "$spec")"
    expect_eq "--python $spec" "hi $version True" "$OUT"
done

# Every other launcher packs its own CPython.
others=0
while read -r name ver py _; do
    case "$name" in NAME | "$default" | "") continue ;; esac
    [ -x "$py" ] || continue
    others=$((others + 1))
    build --python "$name" hello.py -o "h-$name" || continue
    want=$("$py" -I -S hello.py)
    run "./h-$name"
    expect_eq "--python $name" "$want" "$OUT"
    run "$KILN" inspect "h-$name"
    expect_contains "inspect: the installation" "built by: CPython $ver" "$OUT"
done < <("$KILN" targets | sed -n '/^$/q;p')
echo "  (checked $others other launchers)" >&2

run "$KILN" inspect "h-$(basename "$PY")"
expect_contains "inspect: the installation" "built by: CPython $version" "$OUT"
expect_contains "inspect: its prefix" "at $("$PY" -c 'import sys; print(sys.base_prefix)')" "$OUT"

# What --python refuses, and how.
run "$KILN" build --python foo hello.py -o x
expect_eq "--python foo" 1 "$RC"
expect_contains "--python foo says what it takes" "takes a version" "$ERR"
run "$KILN" build --python 3.99 hello.py -o x
expect_eq "--python 3.99" 1 "$RC"
expect_contains "--python 3.99: no launcher" "no launcher for CPython 3.99" "$ERR"
expect_contains "--python 3.99 lists the launchers" "kiln has launchers for: $default" "$ERR"
printf '#!/bin/sh\nexec %s "$@"\n' "$PY" >shim && chmod +x shim
run "$KILN" build --python ./shim hello.py -o x
expect_eq "--python SCRIPT" 1 "$RC"
expect_contains "--python SCRIPT: a script" "not a python executable" "$ERR"
[ -e x ] && fail "an output was written after a refused --python"

# A venv's python: its base installation, and its site-packages.
"$PY" -m venv --without-pip venv || fail "python -m venv"
site=venv/lib/python$xy/site-packages
mkdir -p "$site/vpkg" "$site/vpkg-1.0.dist-info"
echo 'WHERE = "venv"' >"$site/vpkg/__init__.py"
printf 'Metadata-Version: 2.1\nName: vpkg\nVersion: 1.0\n' >"$site/vpkg-1.0.dist-info/METADATA"
printf 'vpkg/__init__.py,,\nvpkg-1.0.dist-info/METADATA,,\n' >"$site/vpkg-1.0.dist-info/RECORD"
printf 'import vpkg, importlib.metadata as m\nprint(vpkg.WHERE, m.version("vpkg"))\n' >usevenv.py
if build --python venv/bin/python --package vpkg usevenv.py -o v; then
    run ./v
    expect_eq "a venv's package" "venv 1.0" "$OUT"
fi
run "$KILN" build -q --python "$PY" --package vpkg usevenv.py -o v2
expect_eq "the base python has no vpkg" 1 "$RC"
expect_contains "the base python has no vpkg: why" "no distribution named 'vpkg'" "$ERR"

# python = in [tool.kiln]; the command line wins over it.
mkdir cfg && cp hello.py cfg/
printf '[tool.kiln]\nscript = "hello.py"\noutput = "out"\npython = "../venv/bin/python"\n' >cfg/pyproject.toml
(cd cfg && "$KILN" build -q) || fail "build with python = in [tool.kiln]"
run cfg/out
expect_eq "python = a venv's python" "hi $version True" "$OUT"
printf '[tool.kiln]\nscript = "hello.py"\npython = 3\n' >cfg/pyproject.toml
run sh -c "cd cfg && '$KILN' build -q"
expect_eq "python = 3" 1 "$RC"
expect_contains "python = 3: its type" "python must be a string" "$ERR"

# A launcher whose installation changed since make: a copy whose record of
# the stdlib's os.py differs from the file, as after a distribution's
# update of its python.
mkdir ldir
launcher=$(dirname "$KILN")/kiln-launcher-$default
"$PY" - "$launcher" "ldir/kiln-launcher-$default" <<'EOF' || fail "patch the launcher"
import os, sys, sysconfig
st = os.stat(os.path.join(sysconfig.get_paths()['stdlib'], 'os.py'))
old = b'%d %d' % (st.st_size, st.st_mtime_ns)
new = old[:-10] + (b'1' if old[-10:-9] != b'1' else b'2') + old[-9:]
data = open(sys.argv[1], 'rb').read()
assert data.count(old) >= 1, 'no record of os.py in the launcher'
open(sys.argv[2], 'wb').write(data.replace(old, new))
os.chmod(sys.argv[2], 0o755)
EOF
KILN_LAUNCHER_DIR=$T/ldir run "$KILN" build -q hello.py -o stale
expect_eq "a stale launcher" 1 "$RC"
expect_contains "a stale launcher: what changed" "os.py was" "$ERR"
expect_contains "a stale launcher: what to do" "rebuild the launchers with 'make'" "$ERR"
[ -e stale ] && fail "a stale launcher wrote an output"
KILN_LAUNCHER_DIR=$T/ldir run "$KILN" targets
expect_eq "kiln targets with a stale launcher" 1 "$RC"
expect_contains "kiln targets: stale" "ldir/kiln-launcher-$default: stale" "$OUT"

exit $((FAILS > 0))
