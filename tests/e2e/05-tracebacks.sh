# Tracebacks show source lines from the payload; inspect and linecache work;
# --no-source drops sources but the app still runs.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/pkg"
cat >"$T/src/pkg/__init__.py" <<'PY'
def explode(n):
    return 10 // n
PY
cat >"$T/app.py" <<'PY'
import sys, inspect, linecache, json
import pkg
if sys.argv[1:] == ["source"]:
    print(inspect.getsource(pkg.explode).splitlines()[0])
    print(inspect.getsource(json.dumps).splitlines()[0])
    print(linecache.getline(pkg.__file__, 2, pkg.__dict__).strip())
    sys.exit(0)
pkg.explode(0)
PY
build "$T/app.py" --path "$T/src" -o "$T/app"
run "$T/app"
expect_eq "exit" 1 "$RC"
expect_contains "app frame" "File \"$T/app/app.py\", line 8, in <module>" "$ERR"
expect_contains "app line" "    pkg.explode(0)" "$ERR"
expect_contains "package frame" "File \"$T/app/pkg/__init__.py\", line 2, in explode" "$ERR"
expect_contains "package line" "    return 10 // n" "$ERR"
expect_contains "exception" "ZeroDivisionError: integer division or modulo by zero" "$ERR"
run "$T/app" source
expect_eq "getsource" "def explode(n):
def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True,
return 10 // n" "$OUT"

# A traceback through the stdlib shows stdlib source too.
cat >"$T/std.py" <<'PY'
import json
json.loads("{bad")
PY
build "$T/std.py" -o "$T/std"
run "$T/std"
expect_contains "stdlib frame" "/std/json/decoder.py\", line" "$ERR"
expect_contains "stdlib line" "obj, end = self.scan_once(s, idx)" "$ERR"

# Warnings show their source line too, as python3's do.
printf 'import warnings\ndef f():\n    warnings.warn("careful", UserWarning)\nf()\n' >"$T/warn.py"
build "$T/warn.py" -o "$T/warn"
run "$T/warn"
expect_eq "warning with source line" "$T/warn/warn.py:3: UserWarning: careful
  warnings.warn(\"careful\", UserWarning)" "$ERR"

build --no-source "$T/app.py" --path "$T/src" -o "$T/nosrc"
run "$T/nosrc"
expect_eq "no-source exit" 1 "$RC"
expect_contains "no-source frame" "line 2, in explode" "$ERR"
expect_not_contains "no-source has no lines" "return 10 // n" "$ERR"
expect_contains "no-source exception" "ZeroDivisionError" "$ERR"
finish
