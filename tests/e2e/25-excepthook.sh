# kiln's traceback printer is the default sys.excepthook, so it is
# sys.__excepthook__ too: code.InteractiveConsole (and others) then print
# tracebacks themselves, without their own frames, as under python3. It
# adds "Did you mean" suggestions to NameErrors and AttributeErrors, as the
# C printer does, also in chained exceptions and exception groups. A
# traceback that passes through no packed module is python3's own
# printer's, byte for byte (CPython's test_exceptions found SyntaxError
# carets drawn differently).
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
code='class A:
    blech = 1
def f():
    blech = 2
    try:
        A().bluch
    except AttributeError:
        print(blechx)
if "group" in sys.argv:
    raise ExceptionGroup("g", [AttributeError("x", name="bluch", obj=A())])
f()'
for arg in chain group; do
    run "$PY" -c "import sys
$code" $arg
    want_err=$ERR
    run "$T/py" -c "import sys
$code" $arg
    expect_eq "suggestions: $arg" "$want_err" "$ERR"
    expect_contains "a suggestion: $arg" "Did you mean: 'blech'?" "$ERR"
    # Through packed code: kiln's own printer, with the suggestions too.
    printf 'import sys\n%s\n' "$code" >"$T/sugg.py"
    build "$T/sugg.py" -o "$T/sugg"
    run "$T/sugg" $arg
    expect_contains "a suggestion, packed: $arg" "Did you mean: 'blech'?" "$ERR"
    line="print(blechx)"
    [ $arg = group ] && line="raise ExceptionGroup("
    expect_contains "a packed source line: $arg" "$line" "$ERR"
done
code='import sys
for offsets in [(2, 7), (2, 3), (2, -2), (4, 2), (-4, -2), (0, 0), (9, 12)]:
    try:
        raise SyntaxError("bad", ("bad.py", 1, offsets[0], "abcdefg", 1, offsets[1]))
    except SyntaxError:
        sys.__excepthook__(*sys.exc_info())'
run "$PY" -c "$code"
want_err=$ERR
run "$T/py" -c "$code"
expect_eq "SyntaxError carets" "$want_err" "$ERR"
# kiln's hook has sys.excepthook's signature (inspect.signature reads it).
code='import inspect, sys; print(inspect.signature(sys.excepthook), inspect.signature(sys.__excepthook__))'
run "$PY" -I -S -c "$code"
want=$OUT
run "$T/py" -I -S -c "$code"
expect_eq "the hook's signature" "$want" "$OUT$ERR"
finish
