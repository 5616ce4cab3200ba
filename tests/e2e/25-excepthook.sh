# kiln's traceback printer is the default sys.excepthook, so it is
# sys.__excepthook__ too: code.InteractiveConsole (and others) then print
# tracebacks themselves, without their own frames, as under python3.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
code='import code, sys
print(sys.excepthook is sys.__excepthook__)
console = code.InteractiveConsole()
console.push("raise ValueError from AttributeError")
console.push("sys.__excepthook__(KeyError, KeyError(1), None)")'
run "$PY" -c "$code"
want_out=$OUT want_err=$ERR
run "$T/py" -c "$code"
expect_eq "hook is __excepthook__" "$want_out" "$OUT"
expect_eq "InteractiveConsole traceback" "$want_err" "$ERR"
expect_not_contains "no code.py frame" "code.py" "$ERR"
finish
