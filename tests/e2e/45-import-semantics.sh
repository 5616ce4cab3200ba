# Import semantics as python3 has them: `import pkg.__init__` is the
# package's __init__.py as a module of its own, and a submodule is looked
# up in its parent's __path__: a package aliased in sys.modules (setuptools'
# distutils hack), a __path__ that its __init__ extends with a packed folder
# (extracted or not) or a folder on disk, pkgutil.extend_path, and a
# namespace package with parts packed and on disk. Same answers as
# python3.11 from the same tree on disk; the build warns about none of it
# but the part that is only on disk.
# (The interpreter: e2e 07.)
. "$(dirname "$0")/lib.sh"
P=$T/proj
mkdir -p "$P/vend/_impl" "$P/plug/extra" "$P/ext" "$P/nsp" "$T/disk/plugins" \
    "$T/disk/ext" "$T/disk/nsp"
: >"$P/vend/__init__.py"
echo 'WHO = "vend impl"' >"$P/vend/_impl/__init__.py"
printf '"""vend core."""\nWHERE = "vend core"\n' >"$P/vend/_impl/core.py"
cat >"$P/plug/__init__.py" <<'PY'
import os
__path__.append(os.path.join(os.path.dirname(__file__), "extra"))
__path__.append(os.environ["PLUGINS"])
PY
echo 'NAME = "packed extra"' >"$P/plug/extra/mod.py"
echo 'NAME = "disk plugin"' >"$T/disk/plugins/dmod.py"
printf 'from pkgutil import extend_path\n__path__ = extend_path(__path__, __name__)\n' \
    >"$P/ext/__init__.py"
echo 'MORE = "ext part on disk"' >"$T/disk/ext/more.py"
echo 'X = "packed part"' >"$P/nsp/packed.py"
echo 'Y = "disk part"' >"$T/disk/nsp/diskpart.py"
cat >"$P/app.py" <<'PY'
import importlib, inspect, os, sys
def tail(path, n=3):
    return "/".join(path.split(os.sep)[-n:])
def init_module():
    import json, json.__init__
    m = json.__init__
    print("json.__init__", m.__name__, m.__package__, m.__file__ == json.__file__,
          hasattr(m, "__path__"), m is not json, m.dumps([1]),
          m.__spec__.submodule_search_locations, m.__loader__.is_package(m.__name__))
    v = importlib.import_module("vend.__init__")
    print("vend.__init__", v.__name__, tail(v.__file__, 2), "vend.__init__" in sys.modules)
def alias():
    import vend._impl
    sys.modules["distutils"] = vend._impl
    import distutils.core
    d = distutils.core
    print("alias", d.__name__, d.WHERE, tail(d.__file__), d.__spec__.name,
          d.__loader__.get_source(d.__name__) == inspect.getsource(d),
          inspect.getsource(d).splitlines()[0], sys.modules["distutils.core"] is d)
def extended():
    import plug.mod, plug.dmod
    print("extended", plug.mod.NAME, tail(plug.mod.__file__), plug.dmod.NAME,
          tail(plug.dmod.__file__, 2))
import nsp.packed  # before the disk folder is on sys.path
sys.path.append(os.environ["DISK"])
def extend_path():
    import ext, ext.more
    print("extend_path", ext.more.MORE, tail(ext.more.__file__))
def namespace():
    nsp_diskpart = importlib.import_module("nsp.diskpart")
    print("namespace", nsp.packed.X, nsp_diskpart.Y,
          [(tail(p, 1), p.startswith(os.environ["DISK"])) for p in nsp.__path__])
for part in init_module, alias, extended, extend_path, namespace:
    try:
        part()
    except Exception as e:
        print(part.__name__, "failed:", type(e).__name__, e)
PY
# same_lines WHAT: each line of $want is in $OUT, so that each part fails
# on its own.
same_lines() {
    local line
    while IFS= read -r line; do
        expect_contains "$1: ${line%% *}" "$line" "$OUT"
    done <<<"$want"
    expect_eq "$1: stderr" "" "$ERR"
}
export PLUGINS=$T/disk/plugins DISK=$T/disk
run "$PY" -S -B "$P/app.py"
want=$OUT
expect_eq "python3.11 runs it" "0 " "$RC $ERR"
expect_contains "sanity" "alias distutils.core vend core vend/_impl/core.py" "$want"
expect_not_contains "sanity: all parts" "failed" "$want"
run "$KILN" build "$P/app.py" -o "$T/app"
expect_eq "build" "0" "$RC"
# What resolves at run time is not named (nsp.diskpart, on disk only, is).
for name in json.__init__ vend.__init__ distutils plug. ext.more; do
    expect_not_contains "no import warning for $name" "  $name" "$ERR"
done
run "$T/app"
same_lines "app"
# plug extends its __path__ beside its __file__, so it is extracted; packed
# as virtual paths instead, its extra folder is served the same.
build "$P/app.py" --no-extract plug -o "$T/app2"
run "$T/app2"
same_lines "not extracted"

finish
