# linecache finds the sources of packed modules from their paths alone
# (no module globals), as python3 reads them from disk: also after
# clearcache(), for the stdlib, an app's modules and its script.
. "$(dirname "$0")/lib.sh"
build --interpreter -o "$T/py"
run "$T/py" -c '
import linecache, json, os
want = linecache.getline(json.__file__, 1)
linecache.clearcache()
print(linecache.getline(json.__file__, 1) == want != "", linecache.getline(os.__file__, 1).startswith("r\"\"\"OS routines"))
print(repr(linecache.getline(json.__file__ + ".missing", 1)), len(linecache.getlines(json.__file__)) > 100)
try:
    linecache.getline(json.__file__, 1.5)
except TypeError:
    print("TypeError")'
expect_eq "interpreter: stdlib lines" "True True
'' True
TypeError" "$OUT"
# A frozen module's own globals name FrozenImporter, which has no source:
# python reads the file from disk (inspect.getsource of a class of it).
run "$T/py" -I -S -c '
import linecache, os
print(len(linecache.getlines(os.__file__, os.__dict__)) > 100)'
expect_eq "interpreter: a frozen module's lines with its globals" "True" "$OUT$ERR"

mkdir -p "$T/src"
printf 'def g():\n    return "second line"\n' >"$T/src/helper.py"
cat >"$T/app.py" <<'PY'
import linecache, helper, json
linecache.clearcache()
print(linecache.getline(helper.__file__, 2).strip())
print(linecache.getline(__file__, 1).strip())
print(linecache.getline(json.__file__, 1)[:4])
PY
build "$T/app.py" --path "$T/src" -o "$T/app"
run "$T/app"
expect_eq "app: lines" 'return "second line"
import linecache, helper, json
r"""' "$OUT"
finish
