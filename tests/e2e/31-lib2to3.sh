# lib2to3 reads Grammar.txt only from disk, else a pickle beside it that
# Debian does not ship: kiln packs pickles made by the target Python
# (CPython's test_lib2to3 found this).
. "$(dirname "$0")/lib.sh"
cat >"$T/l2.py" <<'PY'
import warnings
warnings.simplefilter("ignore")
from lib2to3 import pygram, pytree, refactor
from lib2to3.pgen2 import driver
d = driver.Driver(pygram.python_grammar, convert=pytree.convert)
print(type(d.parse_string("x = 1\n")).__name__,
      len(refactor.get_fixers_from_package("lib2to3.fixes")) > 10)
PY
build "$T/l2.py" -o "$T/l2"
run "$T/l2"
expect_eq "lib2to3 parses" "Node True" "$OUT$ERR"
run "$KILN" inspect "$T/l2"
expect_contains "grammar pickle" "lib2to3/Grammar3" "$OUT"
expect_contains "pattern grammar pickle" "lib2to3/PatternGrammar3" "$OUT"
finish
