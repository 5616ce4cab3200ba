# kiln build --stdlib-tests packs the stdlib's inner test packages
# (ctypes.test, unittest.test, ...), so that CPython's test suite runs
# from memory; the top-level test package stays out either way.
. "$(dirname "$0")/lib.sh"
check='import importlib.util as u, sys
print([bool(u.find_spec(n)) for n in ("unittest.test", "ctypes.test", "lib2to3.tests", "test")])
s = u.find_spec("unittest.test")
print(s is not None and s.origin == sys.executable + "/unittest/test/__init__.py")'
build --interpreter -o "$T/plain"
run "$T/plain" -I -c "$check"
expect_eq "without --stdlib-tests" "[False, False, False, False]
False" "$OUT"
build --interpreter --stdlib-tests -o "$T/tests"
run "$T/tests" -I -c "$check"
expect_eq "with --stdlib-tests" "[True, True, True, False]
True" "$OUT"
finish
