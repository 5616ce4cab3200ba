# Interpreter mode: a KeyboardInterrupt that ends the program exits by
# SIGINT, as python3's does, though kiln's excepthook imports traceback
# (whose import runs exec(), which used to clear CPython's flag); and
# sys.tracebacklimit keeps the last N entries, as the C printer does.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
py="$T/py"
printf 'raise KeyboardInterrupt\n' >"$T/ham.py"
mkdir -p "$T/m" && cp "$T/ham.py" "$T/m/hammod.py"
sigint() { # sigint WHAT ARGS...: the interpreter, run in $T/m, dies by SIGINT
    local what=$1
    shift
    (cd "$T/m" && exec "$py" "$@") 2>"$T/err"
    expect_eq "SIGINT exit: $what" 130 "$?"
    expect_contains "SIGINT traceback: $what" "KeyboardInterrupt" "$(cat "$T/err")"
}
sigint "script" "$T/ham.py"
sigint "-c" -c "raise KeyboardInterrupt"
sigint "-m" -m hammod
# An app exits the same way (its own path, kept working).
build "$T/ham.py" -o "$T/ham"
"$T/ham" 2>/dev/null
expect_eq "app SIGINT exit" 130 "$?"

code='import sys
sys.tracebacklimit = LIMIT
def f1(): 1/0
def f2(): f1()
f2()'
for limit in 2 1 0 -1 10**100 None; do
    run "$PY" -c "${code/LIMIT/$limit}"
    want=$ERR
    run "$py" -c "${code/LIMIT/$limit}"
    expect_eq "tracebacklimit=$limit" "$want" "$ERR"
done
finish
