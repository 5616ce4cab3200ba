# --package NAME and --site-packages DIR: installed distributions with
# their files and metadata, Requires-Dist followed with extras and markers,
# namespace packages shared by distributions, bad metadata; and real Debian
# packages.
. "$(dirname "$0")/lib.sh"
S=$T/site
mkdir -p "$S"

# Alpha-Pkg: a package with a data file, a top-level module, a folder of
# bundled libraries and entry points; it requires chain-a, a missing
# distribution, one excluded by its marker, and eggy[fancy] for its extra.
module alpha/__init__.py 'from alpha.core import VALUE'
module alpha/core.py 'VALUE = "alpha"'
module alpha/data/table.txt 'a,b'
module alpha_helper.py 'X = 1'
module alpha.libs/libfake.so.1 'not really a library'
# A module beside a folder of its name (stubs): import takes the module.
module twin.py 'TWIN = "module"'
module twin/stub.pyi 'X: int'
site_dist Alpha-Pkg 1.0 Alpha_Pkg-1.0.dist-info alpha/__init__.py alpha/core.py \
    alpha/data/table.txt alpha_helper.py alpha.libs/libfake.so.1 \
    twin.py twin/stub.pyi \
    ../../../bin/alpha __pycache__/alpha_helper.cpython-311.pyc \
    Alpha_Pkg-1.0.dist-info/entry_points.txt <<'EOF'
Provides-Extra: speed
Requires-Dist: chain-a
Requires-Dist: ghost-dep (>=1)
Requires-Dist: never-there ; python_version < "3"
Requires-Dist: eggy[fancy] ; extra == "speed"
EOF
printf '[console_scripts]\nalpha = alpha.core:main\n' \
    >"$S/Alpha_Pkg-1.0.dist-info/entry_points.txt"
# A -> B -> C, with names spelled differently each time.
module chain_a.py 'import chain_b; NAME = "a" + chain_b.NAME'
module chain_b/__init__.py 'import chain_c; NAME = "b" + chain_c.NAME'
module chain_c.py 'NAME = "c"'
site_dist chain-a 2.0 chain_a-2.0.dist-info chain_a.py <<'EOF'
Requires-Dist: Chain_B>=1.0
EOF
site_dist chain_b 1.0 chain_b-1.0.dist-info chain_b/__init__.py <<'EOF'
Requires-Dist: Chain.C
EOF
site_dist Chain.C 0.5 Chain.C-0.5.dist-info chain_c.py </dev/null
# eggy: an .egg-info folder without a list of files (top_level.txt only),
# with an extra and a requirement that only Python 2 wants.
module eggy/__init__.py 'RES = "eggy"'
module eggy/res.json '{}'
mkdir -p "$S/eggy-3.0.egg-info"
printf 'Metadata-Version: 1.2\nName: eggy\nVersion: 3.0\n' >"$S/eggy-3.0.egg-info/PKG-INFO"
printf 'eggy\n' >"$S/eggy-3.0.egg-info/top_level.txt"
printf 'solo\n\n[:python_version < "3"]\nnever_there_either\n\n[fancy]\nfancy-dep>=1\n' \
    >"$S/eggy-3.0.egg-info/requires.txt"
module fancy_dep.py 'FANCY = True'
site_dist fancy-dep 1.0 fancy_dep-1.0.dist-info fancy_dep.py </dev/null
# A namespace package that two distributions share, set up by a
# pkg_resources __init__.py that python never runs (Debian's zope).
module ns/__init__.py "__import__('pkg_resources').declare_namespace(__name__)"
module ns/one/__init__.py 'ONE = 1'
module ns/two/__init__.py 'TWO = 2'
mkdir -p "$S/ns.one-1.0.egg-info"
printf 'Metadata-Version: 1.1\nName: ns.one\nVersion: 1.0\n' >"$S/ns.one-1.0.egg-info/PKG-INFO"
printf 'ns\n' >"$S/ns.one-1.0.egg-info/top_level.txt"
printf 'ns\n' >"$S/ns.one-1.0.egg-info/namespace_packages.txt"
site_dist ns-two 1.0 ns_two-1.0.dist-info ns/two/__init__.py </dev/null
# A pkgutil-style shared package: each plugin brings its own module.
module plug/__init__.py 'import pkgutil; __path__ = pkgutil.extend_path(__path__, __name__)'
module plug/x.py 'X = "x"'
module plug/y.py 'Y = "y"'
site_dist plugin-x 1.0 plugin_x-1.0.dist-info plug/__init__.py plug/x.py </dev/null
site_dist plugin-y 1.0 plugin_y-1.0.dist-info plug/__init__.py plug/y.py </dev/null
# A single-file .egg-info that lists nothing: its module is named like it.
module solo.py 'SOLO = "solo"'
printf 'Metadata-Version: 1.1\nName: solo\nVersion: 0.1\n' >"$S/solo-0.1-py3.11.egg-info"
# What no distribution owns.
module stray.py 'STRAY = 1'
module fixture.pth 'import sys'
module README.txt 'not a module'
# An old backport: the stdlib comes first on sys.path.
module argparse.py 'BACKPORT = True'

cat >"$T/app.py" <<'PY'
import pkgutil
import alpha, alpha_helper, chain_a, eggy, ns.one, plug.x, solo, twin
print(alpha.VALUE, alpha_helper.X, chain_a.NAME, eggy.RES, ns.one.ONE,
      plug.x.X, solo.SOLO, twin.TWIN)
print(pkgutil.get_data("alpha", "data/table.txt").decode().strip())
# Names the import scan cannot read: what --package packs, nothing more.
for name in "ns.two plug.y stray fancy_dep".split():
    try:
        __import__(name)
        print("imported", name)
    except ImportError:
        print("no", name)
PY
# The fixtures are found on PYTHONPATH, as python3.11 would find them.
export PYTHONPATH=$S
run "$KILN" build -v "$T/app.py" --package Alpha.Pkg --package plugin_x \
    --package ns.one --package SOLO --package eggy -o "$T/app"
expect_eq "build exit" 0 "$RC"
expect_contains "-v: requested" "packing Alpha-Pkg 1.0 (requested) from $S" "$ERR"
expect_contains "-v: chain" "packing chain_b 1.0 (required by chain-a)" "$ERR"
expect_contains "-v: end of chain" "packing Chain.C 0.5 (required by chain_b)" "$ERR"
expect_contains "missing requirement" "warning: Alpha-Pkg 1.0 requires ghost-dep (>=1), which is not installed" "$ERR"
expect_not_contains "marker-excluded requirement" "never-there" "$ERR"
expect_not_contains "extra not asked for" "fancy-dep" "$ERR"
expect_contains "-v: searched" "--package searches $S" "$ERR"
expect_contains "-v: RECORD row outside" "skipped /bin/alpha: listed by Alpha-Pkg 1.0, but outside $S" "$ERR"
run "$T/app"
expect_eq "app runs" "alpha 1 abc eggy 1 x solo module
a,b
no ns.two
no plug.y
no stray
no fancy_dep" "$OUT$ERR"
run "$KILN" inspect "$T/app"
I=$OUT
for m in "package .* alpha" "module .* alpha.core" "module .* alpha_helper" \
    "module .* chain_a" "package .* chain_b" "module .* chain_c" \
    "namespace .* ns" "package .* ns.one" "package .* plug" "module .* plug.x" \
    "module .* solo" "module .* twin"; do
    echo "$I" | grep -qE "^$m\$" || fail "inspect: no module line /$m/"
done
for f in alpha/data/table.txt alpha.libs/libfake.so.1 \
    Alpha_Pkg-1.0.dist-info/METADATA Alpha_Pkg-1.0.dist-info/RECORD \
    Alpha_Pkg-1.0.dist-info/entry_points.txt chain_a-2.0.dist-info/METADATA \
    Chain.C-0.5.dist-info/RECORD ns.one-1.0.egg-info/PKG-INFO \
    ns.one-1.0.egg-info/namespace_packages.txt plugin_x-1.0.dist-info/RECORD \
    solo-0.1-py3.11.egg-info plug/__init__.py ns/one/__init__.py \
    eggy-3.0.egg-info/requires.txt eggy/res.json twin/stub.pyi; do
    echo "$I" | grep -qE "^file .* $f\$" || fail "inspect: file $f not packed"
done
for x in " ns/__init__.py" " ns.two" " ns/two/" " plug.y" " stray" " fancy_dep" \
    "fancy_dep" "never" "bin/alpha" "__pycache__" "fixture.pth" "README.txt" \
    "plugin_y" "ns_two"; do
    expect_not_contains "inspect: not packed" "$x" "$I"
done

# Extras: eggy[fancy] directly, and through Alpha-Pkg's extra.
run "$KILN" build -v "$T/app.py" --package 'eggy[fancy]' -o "$T/eggy"
expect_contains "extra: fancy-dep" "packing fancy-dep 1.0 (required by eggy)" "$ERR"
expect_contains "egg-info requirement" "packing solo 0.1 (required by eggy)" "$ERR"
expect_not_contains "egg-info marker" "never_there_either" "$ERR"
run "$KILN" build -v "$T/app.py" --package 'alpha_pkg[speed]' -o "$T/speed"
expect_contains "extra: eggy" "packing eggy 3.0 (required by Alpha-Pkg [fancy])" "$ERR"
expect_contains "extra: transitive" "packing fancy-dep 1.0 (required by eggy)" "$ERR"
run "$KILN" build -q "$T/app.py" --package 'alpha-pkg[nope]' -o "$T/nope"
expect_contains "unknown extra" "Alpha-Pkg 1.0 has no extra 'nope'" "$ERR"

# --site-packages: everything in the folder, .pth files and what is not
# importable left out (and said so with -v).
echo 'import ns.two, plug.y, stray, fancy_dep, alpha, argparse; print(ns.two.TWO, plug.y.Y, stray.STRAY, hasattr(argparse, "BACKPORT"))' >"$T/all.py"
run env -u PYTHONPATH "$KILN" build -v "$T/all.py" --site-packages "$S" -o "$T/all"
expect_eq "site-packages exit" 0 "$RC"
expect_contains "site-packages -v" "packing ns-two 1.0 (in $S)" "$ERR"
expect_contains "skips .pth" "skipped $S/fixture.pth: a .pth file" "$ERR"
expect_contains "skips the rest" "skipped $S/README.txt: not importable" "$ERR"
expect_contains "stdlib first" "$S/argparse.py is not packed: the standard library's module 'argparse' comes first on sys.path" "$ERR"
run "$T/all"
expect_eq "site-packages app" "2 y 1 False" "$OUT$ERR"
run "$KILN" inspect "$T/all"
expect_contains "site-packages: egg-info" "eggy-3.0.egg-info/PKG-INFO" "$OUT"
expect_not_contains "site-packages: pth" "fixture.pth" "$OUT"

# [tool.kiln] packages and site-packages.
mkdir -p "$T/proj"
echo 'import chain_a; print(chain_a.NAME)' >"$T/proj/main.py"
cat >"$T/proj/pyproject.toml" <<'EOF'
[tool.kiln]
script = "main.py"
packages = ["chain-a"]
output = "out"
EOF
run "$KILN" build -q --config "$T/proj/pyproject.toml"
run "$T/proj/out"
expect_eq "pyproject packages" "abc" "$OUT$ERR"
cp -r "$S" "$T/proj/site"
printf '[tool.kiln]\nscript = "main.py"\nsite-packages = ["site"]\noutput = "out2"\n' \
    >"$T/proj/pyproject.toml"
run env -u PYTHONPATH "$KILN" build -q --config "$T/proj/pyproject.toml"
run "$T/proj/out2"
expect_eq "pyproject site-packages" "abc" "$OUT$ERR"

# Bad input: an unknown name, a bad name, broken metadata. Nothing is
# written.
run "$KILN" build -q "$T/app.py" --package No_Such.Thing -o "$T/bad"
expect_eq "unknown package exit" 1 "$RC"
expect_contains "unknown package" "no distribution named 'no-such-thing' (--package No_Such.Thing)" "$ERR"
expect_contains "searched: PYTHONPATH" "  $S" "$ERR"
expect_contains "searched: site" "  /usr/lib/python3/dist-packages" "$ERR"
run "$KILN" build -q "$T/app.py" --package zope-interfaces -o "$T/bad"
expect_contains "a close name" "did you mean: zope-interface?" "$ERR"
run "$KILN" build -q "$T/app.py" --package zopeinterface -o "$T/bad"
expect_contains "a name without separators" "did you mean: zope-interface?" "$ERR"
mkdir -p "$T/plainsite/plainpkg"
: >"$T/plainsite/plainpkg/__init__.py"
run env PYTHONPATH="$T/plainsite" "$KILN" build -q "$T/app.py" --package plain-pkg -o "$T/bad"
expect_contains "a package without metadata" "did you mean: plainpkg (a package without metadata)?" "$ERR"
run "$KILN" build -q "$T/app.py" --package 'alpha[' -o "$T/bad"
expect_contains "bad name" "--package 'alpha[': not a distribution name" "$ERR"
B=$T/broken
mkdir -p "$B/nometa-1.0.dist-info" "$B/noname-1.0.dist-info" "$B/badrecord-1.0.dist-info"
printf 'badrecord.py,,\n' >"$B/nometa-1.0.dist-info/RECORD"
printf 'Summary: no name\n' >"$B/noname-1.0.dist-info/METADATA"
printf 'Metadata-Version: 2.1\nName: badrecord\nVersion: 1.0\n' >"$B/badrecord-1.0.dist-info/METADATA"
printf 'badrecord.py,sha256=x,1\nbadrecord.py,sha256=x,1,extra\n' >"$B/badrecord-1.0.dist-info/RECORD"
echo 'X = 1' >"$B/badrecord.py"
run env PYTHONPATH="$B" "$KILN" build -q "$T/app.py" --package nometa -o "$T/bad"
expect_eq "missing METADATA exit" 1 "$RC"
expect_contains "missing METADATA" "$B/nometa-1.0.dist-info/METADATA is missing; reinstall the distribution" "$ERR"
run env PYTHONPATH="$B" "$KILN" build -q "$T/app.py" --package noname -o "$T/bad"
expect_eq "no Name exit" 1 "$RC"
expect_contains "no Name" "$B/noname-1.0.dist-info/METADATA has no Name field" "$ERR"
run env PYTHONPATH="$B" "$KILN" build -q "$T/app.py" --package badrecord -o "$T/bad"
expect_eq "bad RECORD exit" 1 "$RC"
expect_contains "bad RECORD" "$B/badrecord-1.0.dist-info/RECORD is malformed: line 2 has 4 fields" "$ERR"
run env -u PYTHONPATH "$KILN" build -q "$T/app.py" --site-packages "$B" -o "$T/bad"
expect_eq "broken site-packages exit" 1 "$RC"
expect_contains "broken site-packages" "broken distribution metadata" "$ERR"
run env -u PYTHONPATH "$KILN" build -q "$T/app.py" --site-packages "$T/none" -o "$T/bad"
expect_eq "missing site-packages exit" 1 "$RC"
expect_contains "missing site-packages" "--site-packages $T/none: no such folder" "$ERR"
[ -e "$T/bad" ] && fail "output written for a failed build"
unset PYTHONPATH

# Real Debian packages. Debian leaves requests' dependencies out of its
# metadata, so they are named too (six: Debian's urllib3 uses it).
echo 'import requests, urllib3; print(requests.__version__ == "2.28.1", requests.__file__.endswith("/requests/__init__.py"))' >"$T/req.py"
build "$T/req.py" --package requests --package urllib3 --package idna \
    --package certifi --package charset-normalizer --package chardet \
    --package six -o "$T/req"
run "$T/req"
expect_eq "import requests" "True True" "$OUT$ERR"
run "$KILN" inspect "$T/req"
expect_contains "requests metadata" "requests-2.28.1.egg-info/PKG-INFO" "$OUT"
expect_contains "requests module" "requests.adapters" "$OUT"
# zope.interface: its own part of the zope namespace, and no zope/__init__.py
# (Debian's calls pkg_resources; python sets zope up from a .pth instead).
echo 'import zope.interface; from zope.interface import Interface; print(zope.interface.interface.InterfaceBase.__module__)' >"$T/usezope.py"
build "$T/usezope.py" --package zope.interface -o "$T/usezope"
run "$T/usezope"
expect_eq "import zope.interface" "_zope_interface_coptimizations" "$OUT$ERR"
run "$KILN" inspect "$T/usezope"
echo "$OUT" | grep -qE '^namespace .* zope$' || fail "zope is not a namespace package"
expect_not_contains "zope/__init__.py" "zope/__init__.py" "$OUT"
expect_contains "zope.interface egg-info" "zope.interface-5.5.2.egg-info/top_level.txt" "$OUT"
# A module installed without metadata (as Debian's _cffi_backend): --package
# falls back to it by its import name.
echo 'import stray; print(stray.STRAY)' >"$T/usestray.py"
PYTHONPATH=$S build "$T/usestray.py" --package stray -o "$T/usestray"
run "$T/usestray"
expect_eq "module without metadata" "1" "$OUT$ERR"
finish
