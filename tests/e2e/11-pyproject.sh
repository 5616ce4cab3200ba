# [tool.kiln] in pyproject.toml gives the same options; the command line
# overrides it; bad tables are named with the file and key.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/proj/src/app"
cat >"$T/proj/src/app/__main__.py" <<'PY'
import sys
assert False, "asserts are stripped by optimize = 1"
print("optimize", sys.flags.optimize, __doc__)
PY
touch "$T/proj/src/app/__init__.py"
cat >"$T/proj/pyproject.toml" <<'TOML'
[project]
name = "app"

[tool.kiln]
module = "app"
path = ["src"]
output = "dist/app"
optimize = 1
TOML
mkdir -p "$T/proj/dist"
cd "$T/proj" && run "$KILN" build -q; cd - >/dev/null
expect_eq "build: status" 0 "$RC"
run "$T/proj/dist/app"
expect_eq "built from pyproject" "optimize 1 None" "$OUT"

# The command line wins.
cd "$T/proj" && run "$KILN" build -q -o "$T/proj/other"; cd - >/dev/null
[ -x "$T/proj/other" ] || fail "-o overrides [tool.kiln] output"

# --config names another file; relative paths are from its folder.
run "$KILN" build -q --config "$T/proj/pyproject.toml" -o "$T/cfg"
expect_eq "--config: status" 0 "$RC"

cat >"$T/proj/pyproject.toml" <<'TOML'
[tool.kiln]
module = "app"
colour = "blue"
TOML
cd "$T/proj" && run "$KILN" build -q; cd - >/dev/null
expect_eq "unknown key: status" 1 "$RC"
expect_contains "unknown key" "pyproject.toml: [tool.kiln] has unknown key 'colour'" "$ERR"

printf '[tool.kiln]\noptimize = "high"\n' >"$T/proj/pyproject.toml"
cd "$T/proj" && run "$KILN" build -q; cd - >/dev/null
expect_contains "wrong type" "[tool.kiln] optimize must be an integer, not str" "$ERR"

printf '[tool.kiln\n' >"$T/proj/pyproject.toml"
cd "$T/proj" && run "$KILN" build -q; cd - >/dev/null
expect_contains "invalid toml" "pyproject.toml: invalid TOML" "$ERR"
finish
