# An interpreter keeps ensurepip, which python -m venv runs to install pip
# (an app still leaves it out).
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
run "$PY" -m ensurepip --version
want=$OUT
run "$T/py" -m ensurepip --version
expect_eq "ensurepip --version" "$want" "$OUT"
expect_contains "a pip version" "pip " "$OUT"
run "$T/py" -c 'import ensurepip, sys; print(ensurepip.__file__ == sys.executable + "/ensurepip/__init__.py")'
expect_eq "packed ensurepip" "True" "$OUT"
echo 'import importlib.util; print(importlib.util.find_spec("ensurepip"))' >"$T/app.py"
build "$T/app.py" -o "$T/app"
run "$T/app"
expect_eq "an app leaves ensurepip out" "None" "$OUT"
finish
