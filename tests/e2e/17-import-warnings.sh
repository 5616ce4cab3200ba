# Imports that resolve to nothing packed get one deduplicated warning,
# ranked: module-level imports of modules the app imports first, never cut;
# then the others; last tests, build scripts and other toolkits' backends.
# Guarded ones (but a try whose fallback fails too), attributes, what
# resolves (relative imports, pkg.__init__), Python 2 code behind
# `except NameError`, names a package makes itself (sys.modules, apipkg)
# and testsuite folders do not. A hint names the --package that really
# holds the module. Packages that read files beside __file__ get the
# extract flag (test helpers do not decide it), which --extract,
# --no-extract and [tool.kiln] force either way.
. "$(dirname "$0")/lib.sh"
export KILN_CACHE_DIR="$T/cache"
mkdir -p "$T/src/mylib/sub" "$T/src/mylib/tests" "$T/src/bar" "$T/src/nspkg" \
    "$T/src/datapkg" "$T/src/hooked" "$T/src/mylib/testsuite" \
    "$T/src/apilike" "$T/src/aliaspkg" "$T/src/onlytests"
cat >"$T/src/mylib/__init__.py" <<'PY'
from . import util
from .util import helper, not_a_module_but_an_attribute
from .sub import thing
from .missing_sub import x
import os.path, json.decoder
from mylib import VERSION
import hooked.virtual.deep
from hooked import virtual_name
import json.__init__, mylib.sub.__init__
from json.__init__ import loads
import apilike.builtin
from apilike.path import local
import aliaspkg.virtual
VERSION = "1"
PY
# py's way: apipkg makes the modules below the package at run time.
cat >"$T/src/apilike/__init__.py" <<'PY'
def initpkg(name, exportdefs):
    pass
initpkg(__name__, {"builtin": {"text": "._builtin:text"}, "path": {}})
PY
cat >"$T/src/aliaspkg/__init__.py" <<'PY'
import sys
sys.modules[__name__ + ".virtual"] = sys.modules[__name__]
PY
# A testsuite folder is tests, and so is what imports a source tree's own.
printf 'import pytest_thing\nimport testsuite.helpers\n' >"$T/src/mylib/testsuite/support.py"
touch "$T/src/mylib/testsuite/__init__.py"
# Test helpers that read files beside __file__ decide no extraction.
touch "$T/src/onlytests/__init__.py"
for f in conftest _testutils; do
    printf 'import os\nDATA = open(os.path.join(os.path.dirname(__file__), "d"))\n' \
        >"$T/src/onlytests/$f.py"
done
printf 'import os\nDATA = os.path.dirname(__file__)\n' >"$T/src/conftest.py"
cat >"$T/src/mylib/sub/__init__.py" <<'PY'
thing = 1
from .. import util
from ..util import helper
from ... import beyond
PY
cat >"$T/src/mylib/util.py" <<'PY'
import bar.baz
import foo
import sys
try:
    import optional_thing
except ImportError:
    optional_thing = None
try:
    from fast import speedups
except (ValueError, ModuleNotFoundError):
    from slow import speedups_fallback
if sys.platform == "win32":
    import winreg, win_only_thing
elif sys.version_info < (3, 8):
    import old_python_thing
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import typing_only
import contextlib
with contextlib.suppress(ImportError):
    import suppressed_thing
HAS_SJ = False
try:
    import simplejson
    HAS_SJ = True
except ImportError:
    pass
if HAS_SJ:
    from simplejson import decoder
try:
    from optional_pkg import feature
except ImportError:
    feature = None
else:
    import needed_by_feature
def helper():
    import lazy_missing
    from testsuite import support
try:
    set
except NameError:
    from sets import Set as set
try:
    reduce
except (NameError, AttributeError):
    from py2_functools import reduce
if __name__ == "__main__":
    import main_only_missing
print(repr(__file__))
PY
cat >"$T/src/mylib/cli.py" <<'PY'
import bar.baz, foo
import test.support
def windows_only():
    import msvcrt, winreg
from nspkg import mod, no_such_mod
try:
    import fine
except KeyError:
    import not_guarded_by_keyerror
PY
touch "$T/src/bar/__init__.py" "$T/src/mylib/tests/__init__.py"
# A library's tests and the __main__ of a package that the app does not run
# are not checked.
cat >"$T/src/mylib/tests/test_util.py" <<'PY'
import os, pytest
DATA = os.path.join(os.path.dirname(__file__), "fixtures")
PY
echo 'import cli_only_dep' >"$T/src/mylib/__main__.py"
# An import hook in a package's __init__ makes the names below it its own.
cat >"$T/src/hooked/__init__.py" <<'PY'
import sys
class Finder:
    def find_spec(self, name, path, target=None):
        return None
sys.meta_path.append(Finder())
PY
echo 'X = 1' >"$T/src/nspkg/mod.py"
cat >"$T/src/datapkg/__init__.py" <<'PY'
import os
def read():
    with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
        return f.read()
PY
echo 'hello data' >"$T/src/datapkg/data.txt"
cat >"$T/src/plain.py" <<'PY'
import os
NAME = os.path.basename(__file__)
print("plain", __name__, "imported")
if __name__ == "__main__":
    print(open(__file__).read())
PY
cat >"$T/app.py" <<'PY'
import mylib, datapkg, plain, onlytests
from . import sibling
if __name__ == "__main__":
    import main_block_of_the_script
PY

run "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/app"
expect_eq "status" 0 "$RC"
# mylib.cli is not imported by the app: its imports come after.
expect_eq "warning" "kiln: warning: 12 imports resolve to nothing packed:
  ...beyond (imported by mylib.sub)
  .sibling (imported by app.py)
  bar.baz (imported by mylib.cli, mylib.util)
  fast, or instead slow (imported by mylib.util)
  foo (imported by mylib.cli, mylib.util)
  main_block_of_the_script (imported by app.py)
  mylib.missing_sub (imported by mylib)
  then, inside functions or in modules that the app does not import itself:
  fine (imported by mylib.cli)
  lazy_missing (imported by mylib.util)
  not_guarded_by_keyerror (imported by mylib.cli)
  nspkg.no_such_mod (imported by mylib.cli)
  test (imported by mylib.cli): left out of the packed standard library" \
    "$(grep -v '^kiln: warning: .* shadows\|^kiln: [^w]' <<<"$ERR")"
[ "$(grep -c 'resolve to nothing' <<<"$ERR")" = 1 ] || fail "one warning block: $ERR"
run "$KILN" build -q -v "$T/app.py" --path "$T/src" -o "$T/app"
for name in optional_thing speedups winreg win_only_thing old_python_thing \
    typing_only suppressed_thing main_only_missing not_a_module simplejson \
    optional_pkg needed_by_feature msvcrt hooked pytest cli_only_dep \
    mylib.util.helper mylib.VERSION nspkg.mod json os.path json.__init__ \
    mylib.sub.__init__ apilike aliaspkg sets py2_functools pytest_thing \
    testsuite; do
    expect_not_contains "not reported: $name" "  $name" "$ERR"
done

run "$KILN" build -q -m mylib --path "$T/src" -o "$T/mylib-app"
expect_contains "the -m package's __main__ is checked" "  cli_only_dep (imported by mylib.__main__)" "$ERR"

# -v names every importer with the line; a cached rebuild scans nothing
# and warns the same.
run "$KILN" build -v "$T/app.py" --path "$T/src" -o "$T/app"
expect_contains "verbose lines" "  bar.baz (imported by mylib.cli:1, mylib.util:1)" "$ERR"
expect_contains "verbose lines" "  ...beyond (imported by mylib.sub:4)" "$ERR"
expect_contains "cached scans" "kiln: 0 modules scanned for imports" "$ERR"
expect_contains "cached warning" "kiln: warning: 12 imports resolve" "$ERR"
echo 'import bar.qux' >>"$T/src/mylib/cli.py"
run "$KILN" build -v "$T/app.py" --path "$T/src" -o "$T/app"
expect_contains "changed module rescanned" "kiln: 1 modules scanned for imports" "$ERR"
expect_contains "new import" "  bar.qux (imported by mylib.cli:10)" "$ERR"

# Many missing imports: those at module level of what the app imports
# come first and are all shown, however many; the others are cut (-v lists
# all), test helpers and other toolkits' backends last.
mkdir -p "$T/many/helpers"
for i in $(seq -w 1 20); do echo "import missing_$i"; done >"$T/many/many.py"
printf 'def later():\n' >>"$T/many/many.py"
for i in $(seq -w 1 10); do echo "    import a_lazy_$i"; done >>"$T/many/many.py"
echo 'import helpers.conftest, helpers.backend_qt' >>"$T/many/many.py"
touch "$T/many/helpers/__init__.py"
echo 'import aaa_fixture_dep' >"$T/many/helpers/conftest.py"
echo 'import PyQt5.QtCore' >"$T/many/helpers/backend_qt.py"
run "$KILN" build -q "$T/many/many.py" -o "$T/many/app"
expect_contains "count" "kiln: warning: 32 imports resolve to nothing packed:" "$ERR"
expect_contains "cut" "  ... and 12 more (kiln build -v lists all)" "$ERR"
[ "$(grep -c '^  missing_' <<<"$ERR")" = 20 ] || fail "all 20 at start-up shown: $ERR"
[ "$(grep -c '^  a_lazy_\|aaa_fixture' <<<"$ERR")" = 0 ] || fail "none of the others: $ERR"
run "$KILN" build -v "$T/many/many.py" -o "$T/many/app"
[ "$(grep -c '^  missing_\|^  a_lazy_' <<<"$ERR")" = 30 ] || fail "-v shows all 30: $ERR"
expect_contains "ranked" "  missing_20 (imported by many.py:20)
  then, inside functions or in modules that the app does not import itself:
  a_lazy_01 (imported by many.py:22)" "$ERR"
expect_contains "noise last" "  a_lazy_10 (imported by many.py:31)
  last, in tests, build scripts and backends of other toolkits:
  PyQt5 (imported by helpers.backend_qt:1)
  aaa_fixture_dep (imported by helpers.conftest:1)" "$ERR"

# A clean app gets no warning.
echo 'import json, os.path, xml.etree.ElementTree; from collections import abc' >"$T/clean.py"
run "$KILN" build -q "$T/clean.py" -o "$T/clean"
expect_eq "clean app: no warning" "" "$ERR"

# Extraction: datapkg reads a file beside __file__; plain only names it.
listing() { "$KILN" inspect "$1" | grep -E '  (datapkg|plain|mylib)([. ]|$)'; }
run "$KILN" build -v -q "$T/app.py" --path "$T/src" -o "$T/app"
expect_contains "why" "kiln: extracting datapkg: datapkg line 3 uses __file__ in a path" "$ERR"
expect_not_contains "plain is not" "extracting plain" "$ERR"
out=$(listing "$T/app")
expect_contains "datapkg flagged" "datapkg  (extract)" "$out"
expect_not_contains "plain not flagged" "plain  (extract)" "$out"
expect_not_contains "mylib not flagged" "mylib  (extract)" "$out"
expect_not_contains "test helpers decide nothing" "extracting onlytests" "$ERR"
expect_not_contains "a conftest decides nothing" "extracting conftest" "$ERR"
expect_not_contains "test helpers: not flagged" "(extract)" \
    "$("$KILN" inspect "$T/app" | grep -E '  (onlytests|conftest)')"

# -m runs plain as __main__: its main block's open(__file__) counts there.
run "$KILN" build -q -v -m plain --path "$T/src" -o "$T/plainapp"
expect_contains "main block counts in the -m module" "extracting plain: plain line 5" "$ERR"

run "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/app" \
    --no-extract datapkg --extract plain --extract mylib
out=$(listing "$T/app")
expect_not_contains "--no-extract" "datapkg  (extract)" "$out"
expect_contains "--extract" "plain  (extract)" "$out"
expect_contains "--extract: every module" "mylib.util  (extract)" "$out"
expect_not_contains "stdlib never" "(extract)" "$("$KILN" inspect "$T/app" | grep '  json')"

run "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/bad" --extract nosuch
expect_eq "unknown name: status" 1 "$RC"
expect_contains "unknown name" "--extract nosuch: nothing packed has the top-level name 'nosuch'" "$ERR"
expect_contains "known names" "packed top-level names:" "$ERR"
[ -e "$T/bad" ] && fail "output written for an unknown --extract name"
run "$KILN" build -q "$T/app.py" --path "$T/src" -o "$T/bad" --extract plain --no-extract plain
expect_eq "both: status" 1 "$RC"
expect_contains "both" "'plain' is given to both --extract and --no-extract" "$ERR"

# [tool.kiln] extract / no-extract; the command line replaces them.
cat >"$T/pyproject.toml" <<'TOML'
[tool.kiln]
script = "app.py"
path = ["src"]
extract = ["plain"]
no-extract = ["datapkg"]
TOML
run "$KILN" build -q --config "$T/pyproject.toml" -o "$T/app"
expect_eq "config: status" 0 "$RC"
out=$(listing "$T/app")
expect_contains "config extract" "plain  (extract)" "$out"
expect_not_contains "config no-extract" "datapkg  (extract)" "$out"
run "$KILN" build -q --config "$T/pyproject.toml" -o "$T/app" --extract mylib
out=$(listing "$T/app")
expect_contains "command line wins" "datapkg  (extract)" "$out"
expect_not_contains "command line wins" "plain  (extract)" "$out"
printf '[tool.kiln]\nscript = "app.py"\npath = ["src"]\nextract = ["nope"]\n' >"$T/pyproject.toml"
run "$KILN" build -q --config "$T/pyproject.toml" -o "$T/bad"
expect_eq "config unknown: status" 1 "$RC"
expect_contains "config unknown names the file" "$T/pyproject.toml [tool.kiln] extract: nothing packed" "$ERR"
printf '[tool.kiln]\nextract = "plain"\n' >"$T/pyproject.toml"
run "$KILN" build -q --config "$T/pyproject.toml" -o "$T/bad"
expect_contains "config type" "extract must be a list of strings" "$ERR"

# A flagged app still runs.
echo 'import plain; print("ran")' >"$T/runs.py"
build "$T/runs.py" --path "$T/src" --extract plain -o "$T/runs"
run "$T/runs"
expect_eq "flagged app runs" "plain plain imported
ran" "$OUT"
# Frozen modules (importlib's own) are always there: no warning.
echo 'import _frozen_importlib, _frozen_importlib_external' >"$T/frozen.py"
run "$KILN" build -q "$T/frozen.py" -o "$T/frozen"
expect_not_contains "frozen modules resolve" "resolve to nothing" "$ERR"
# A missing top-level module that an installed distribution provides is
# named with it (imported inside a function: kiln does not pack it by
# itself); a missing submodule of a packed package is not.
mkdir -p "$T/inst/helperlib" "$T/inst/Helper_Dist-2.0.dist-info"
: >"$T/inst/helperlib/__init__.py"
printf 'Metadata-Version: 2.1\nName: Helper_Dist\nVersion: 2.0\n' \
    >"$T/inst/Helper_Dist-2.0.dist-info/METADATA"
echo helperlib >"$T/inst/Helper_Dist-2.0.dist-info/top_level.txt"
# The hint is checked: a distribution whose metadata names a module that
# another package holds (Debian's setuptools and pkg_resources) is not the
# one to add; a module installed without metadata is named itself.
mkdir -p "$T/inst/fakesetup" "$T/inst/fake_resources" \
    "$T/inst/Fake_Setup-1.0.dist-info"
: >"$T/inst/fakesetup/__init__.py"
: >"$T/inst/fake_resources/__init__.py"
printf 'Metadata-Version: 2.1\nName: Fake_Setup\nVersion: 1.0\n' \
    >"$T/inst/Fake_Setup-1.0.dist-info/METADATA"
printf 'fakesetup\nfake_resources\n' >"$T/inst/Fake_Setup-1.0.dist-info/top_level.txt"
printf 'fakesetup/__init__.py,,\nFake_Setup-1.0.dist-info/METADATA,,\n' \
    >"$T/inst/Fake_Setup-1.0.dist-info/RECORD"
printf 'def f():\n    import helperlib\n    import fake_resources\nimport json.nothing_here\n' >"$T/needs.py"
run env PYTHONPATH="$T/inst" "$KILN" build -q "$T/needs.py" -o "$T/needs"
expect_contains "the provider" "helperlib (imported by needs.py): helper-dist installs it; add --package helper-dist" "$ERR"
expect_contains "checked hint" "fake_resources (imported by needs.py): installed without distribution metadata; add --package fake_resources" "$ERR"
expect_not_contains "checked hint: not the lister" "add --package fake-setup" "$ERR"
expect_contains "a submodule" "json.nothing_here (imported by needs.py)" "$ERR"
expect_not_contains "a submodule: no provider" "json.nothing_here (imported by needs.py):" "$ERR"
run env PYTHONPATH="$T/inst" "$KILN" build -q "$T/needs.py" -o "$T/needs" \
    --package fake_resources
expect_not_contains "the hint works" "fake_resources" "$ERR"
# A part of a namespace package, from a distribution named like it.
mkdir -p "$T/inst/nsroot/part" "$T/inst/nsroot.part-1.0.dist-info" "$T/nssrc/nsroot/other"
: >"$T/inst/nsroot/part/__init__.py"
: >"$T/nssrc/nsroot/other/__init__.py"
printf 'Metadata-Version: 2.1\nName: nsroot.part\nVersion: 1.0\n' \
    >"$T/inst/nsroot.part-1.0.dist-info/METADATA"
echo nsroot >"$T/inst/nsroot.part-1.0.dist-info/top_level.txt"
printf 'import nsroot.other\ndef f():\n    import nsroot.part\n' >"$T/ns.py"
run env PYTHONPATH="$T/inst" "$KILN" build -q "$T/ns.py" --path "$T/nssrc" -o "$T/ns"
expect_contains "a namespace part" "nsroot.part (imported by ns.py): nsroot-part installs it; add --package nsroot-part" "$ERR"
finish
