# The build packs the installed distributions that the app's imports need,
# as python3 would find them: imports at module level of the modules the
# app reaches, required or optional (an HTTP client's `try: import brotli`
# changes what it asks for), and what those bring in turn, each said with
# -v; not what runs on other platforms or versions, inside functions (nor
# what the modules imported there import), a fallback whose first choice
# is there, nor with --site-packages. The plugins of a --package
# (installed distributions with entry points in its groups, as flake8's
# mccabe) are packed, and the modules entry points name count as reached,
# as do the modules of a package that its strings name (docutils picks its
# parsers from a table of module names).
. "$(dirname "$0")/lib.sh"
export KILN_CACHE_DIR="$T/cache"
S=$T/site
mkdir -p "$S" "$T/src/applib" "$T/venv"

# dist NAME VERSION FILE...: site_dist, in NAME-VERSION.dist-info.
dist() {
    local name=$1 version=$2
    shift 2
    site_dist "$name" "$version" "$name-$version.dist-info" "$@"
}
for m in optdep reqdep lazyopt fnreq firstchoice secondchoice windep \
    backportdep rtdep onlyfallback indirect romanlike heavydep; do
    module "$m.py" "NAME = '$m'"
    dist "$m" 1.0 "$m.py" </dev/null
done
# reqdep needs indirect, which its metadata does not say (as Debian's).
module reqdep.py "import indirect; NAME = 'reqdep+' + indirect.NAME"

cat >"$T/src/applib/__init__.py" <<'PY'
import sys
import reqdep
try:
    import optdep
except ImportError:
    optdep = None
try:
    import firstchoice as choice
except ImportError:
    import secondchoice as choice
try:
    import nosuchfirst as other
except ImportError:
    import onlyfallback as other
if sys.platform == "win32":
    import windep
if sys.version_info < (3, 8):
    import backportdep
try:
    if not getattr(sys, "frozen_for_real", False):
        import rtdep
except ImportError:
    pass
def later():
    try:
        import lazyopt
    except ImportError:
        pass
    import fnreq
    from applib import heavy
print(reqdep.NAME, optdep and optdep.NAME, choice.NAME, other.NAME)
PY
echo 'import heavydep' >"$T/src/applib/heavy.py"
# Modules picked by name from a table.
mkdir -p "$T/src/tablepkg"
cat >"$T/src/tablepkg/__init__.py" <<'PY'
from importlib import import_module
PARSERS = {"rst": "tablepkg.rstparse"}
def parser(name):
    return import_module(PARSERS[name]).NAME
PY
printf 'import romanlike\nNAME = "rst+" + romanlike.NAME\n' >"$T/src/tablepkg/rstparse.py"
printf 'import applib, tablepkg\nprint(tablepkg.parser("rst"))\n' >"$T/app.py"
export PYTHONPATH=$S
run "$KILN" build -v "$T/app.py" --path "$T/src" -o "$T/app"
expect_eq "build" 0 "$RC"
expect_contains "required" "kiln: packing reqdep 1.0 (imported by applib) from $S" "$ERR"
expect_contains "optional" "kiln: packing optdep 1.0 (an optional import of applib) from $S" "$ERR"
expect_contains "in turn" "kiln: packing indirect 1.0 (imported by reqdep) from $S" "$ERR"
expect_contains "first choice" "kiln: packing firstchoice 1.0 (an optional import of applib)" "$ERR"
expect_contains "a fallback when the first is missing" "kiln: packing onlyfallback 1.0 (an optional import of applib)" "$ERR"
expect_contains "named in a table" "kiln: packing romanlike 1.0 (imported by tablepkg.rstparse)" "$ERR"
for m in secondchoice windep backportdep rtdep lazyopt fnreq heavydep; do
    expect_not_contains "not packed: $m" "packing $m " "$ERR"
done
expect_contains "inside a function: named" "fnreq (imported by applib:29): fnreq installs it; add --package fnreq" "$ERR"
expect_contains "what a function imports: named" "heavydep (imported by applib.heavy:1): heavydep installs it" "$ERR"
run "$T/app"
expect_eq "as python3" "$(cd "$T" && PYTHONPATH="$S:src" "$PY" app.py 2>&1)" "$OUT$ERR"
expect_eq "app output" "reqdep+indirect optdep firstchoice onlyfallback
rst+romanlike" "$OUT$ERR"

# --site-packages: that folder is all the app gets; nothing else is packed.
cp -r "$T/src/applib" "$T/venv/"
run "$KILN" build -q "$T/app.py" --site-packages "$T/venv" -o "$T/app2"
expect_not_contains "site-packages: nothing followed" "packing" "$ERR"
expect_contains "site-packages: named" "reqdep (imported by applib): reqdep installs it; add --package reqdep" "$ERR"

# A tool and its plugins: hosttool finds them by entry point group. Its
# own entry point names a module that imports what its metadata omits.
module hosttool/__init__.py 'from importlib.metadata import entry_points
def plugins():
    return sorted(e.load().NAME for e in entry_points(group="hosttool.plugins"))'
module hosttool/builtin.py 'import extdep
NAME = "builtin+" + extdep.NAME'
module extdep.py 'NAME = "extdep"'
dist extdep 1.0 extdep.py </dev/null
mkdir -p "$S/hosttool-2.0.dist-info"
printf '[hosttool.plugins]\nbuiltin = hosttool.builtin\n[console_scripts]\nhost = hosttool:main\n' \
    >"$S/hosttool-2.0.dist-info/entry_points.txt"
dist hosttool 2.0 hosttool/__init__.py hosttool/builtin.py \
    hosttool-2.0.dist-info/entry_points.txt </dev/null
module plugmod.py 'import plugreq
NAME = "plug+" + plugreq.NAME'
module plugreq.py 'NAME = "plugreq"'
dist plugreq 1.0 plugreq.py </dev/null
mkdir -p "$S/plugdist-1.0.dist-info"
printf '[hosttool.plugins]\nplug = plugmod\n' >"$S/plugdist-1.0.dist-info/entry_points.txt"
dist plugdist 1.0 plugmod.py plugdist-1.0.dist-info/entry_points.txt </dev/null
# Another tool's plugin is not hosttool's.
module otherplug.py 'NAME = "other"'
mkdir -p "$S/otherplug-1.0.dist-info"
printf '[othertool.plugins]\nx = otherplug\n' >"$S/otherplug-1.0.dist-info/entry_points.txt"
dist otherplug 1.0 otherplug.py otherplug-1.0.dist-info/entry_points.txt </dev/null
echo 'import hosttool; print(hosttool.plugins())' >"$T/host.py"
run "$KILN" build -v "$T/host.py" --package hosttool -o "$T/host"
expect_contains "plugin" "kiln: packing plugdist 1.0 (a hosttool.plugins plugin of hosttool) from $S" "$ERR"
expect_contains "what the plugin imports" "kiln: packing plugreq 1.0 (imported by plugmod)" "$ERR"
expect_contains "what an entry point imports" "kiln: packing extdep 1.0 (imported by hosttool.builtin)" "$ERR"
expect_not_contains "another tool's plugin" "otherplug" "$ERR"
run "$T/host"
expect_eq "plugins load" "['builtin+extdep', 'plug+plugreq']" "$OUT$ERR"
expect_eq "as python3" "$("$PY" "$T/host.py" 2>&1)" "$OUT$ERR"
unset PYTHONPATH

# Real tools whose plugins and dependencies Debian leaves out of their
# metadata: they run with no option beyond --package.
if [ -x /usr/bin/flake8 ] && [ -d /usr/lib/python3/dist-packages/mccabe-0.7.0.egg-info ]; then
    printf 'def f(x):\n    if x:\n        if x > 1:\n            return 1\n    return 0\n' >"$T/c.py"
    run "$KILN" build -q /usr/bin/flake8 --package flake8 -o "$T/flake8"
    expect_eq "flake8: build" 0 "$RC"
    run "$T/flake8" --max-complexity 1 "$T/c.py"
    expect_eq "flake8: mccabe's C901" "$T/c.py:1:1: C901 'f' is too complex (3)" "$OUT$ERR"
fi
finish
