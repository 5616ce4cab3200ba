# Interpreter mode: frozen stdlib modules come from FrozenImporter, as under
# python3, so that importlib._bootstrap._setup() (run again by a fresh
# import of importlib, as test.support's import_fresh_module() does) finds
# the spec it expects; with frozen modules turned off since start-up, the
# packed code serves them.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
py="$T/py"
same "frozen loader" -S -c 'import os, codecs; print(os.__spec__.loader.__name__, codecs.__spec__.origin)'
same "fresh importlib" -S -c '
import sys
saved = {n: sys.modules.pop(n) for n in ("importlib", "importlib._bootstrap", "importlib._bootstrap_external")}
blocked = {n: sys.modules[n] for n in ("_frozen_importlib", "_frozen_importlib_external")}
for n in blocked: sys.modules[n] = None
import importlib
print(importlib._bootstrap.__name__, importlib.import_module("json").__name__)
sys.modules.update(saved); sys.modules.update(blocked)'
run "$py" -S -c '
import sys, _imp
_imp._override_frozen_modules_for_tests(-1)
sys.modules.pop("os", None)
import os
print(os.__spec__.loader is not None, os.__file__ == sys.executable + "/os.py", os.getcwd() != "")'
expect_eq "frozen modules off: packed os" "True True True" "$OUT"
expect_eq "frozen modules off: status" "" "$ERR"
finish
