# An app runs after gc.freeze(): the objects made while starting are left
# out of collections, which saves most of the full collections at exit.
# What the app makes is collected as under python3: cyclic garbage with
# finalizers, and an unclosed file in a cycle, are still finalized and
# flushed at exit. --no-gc-freeze (or gc-freeze = false) keeps python3's
# behaviour; an interpreter never freezes.
. "$(dirname "$0")/lib.sh"
# python3.12.1 itself starts with objects in the permanent generation
# (375); frozen means more than the target python has at start.
base=$("$PY" -I -S -c 'import gc; print(gc.get_freeze_count())')
cat >"$T/app.py" <<PY
import gc, sys
print("frozen", gc.get_freeze_count() > $base)
class Node:
    def __del__(self):
        print("finalized", self.name)
a, b = Node(), Node()
a.name, b.name = "a", "b"
a.peer, b.peer = b, a
f = open(sys.argv[1], "w")
f.write("written, never closed\n")
a.file = f
del a, b, f
class Global:
    def __del__(self, write=sys.stdout.write):
        write("finalized a global\n")
g = Global()
g.me = g
PY
run "$PY" "$T/app.py" "$T/py3.txt"
want=$(echo "$OUT" | sed 1d)
expect_contains "python3 finalizes the cycle" "finalized a" "$want"
expect_contains "python3 finalizes the global" "finalized a global" "$want"
build "$T/app.py" -o "$T/app"
run "$T/app" "$T/kiln.txt"
expect_eq "frozen" "frozen True" "$(echo "$OUT" | head -1)"
expect_eq "the app's cycle is finalized as under python3" "$want" \
    "$(echo "$OUT" | sed 1d)"
expect_eq "the unclosed file is flushed" "$(cat "$T/py3.txt")" \
    "$(cat "$T/kiln.txt" 2>&1)"
mkdir -p "$T/mod"
cp "$T/app.py" "$T/mod/freezemod.py"
build -m freezemod --path "$T/mod" -o "$T/modapp"
run "$T/modapp" "$T/kiln.txt"
expect_eq "-m: the globals are finalized as under python3" "$want" \
    "$(echo "$OUT" | sed 1d)"
run "$KILN" inspect "$T/app"
expect_contains "inspect" "gc:       freezes the start-up objects" "$OUT"
build "$T/app.py" --no-gc-freeze -o "$T/app"
run "$T/app" "$T/kiln.txt"
expect_eq "--no-gc-freeze" "frozen False" "$(echo "$OUT" | head -1)"
mkdir "$T/proj"
cp "$T/app.py" "$T/proj/"
printf '[tool.kiln]\nscript = "app.py"\ngc-freeze = false\n' \
    >"$T/proj/pyproject.toml"
(cd "$T/proj" && "$KILN" build -q -o app) || fail "build from pyproject"
run "$T/proj/app" "$T/kiln.txt"
expect_eq "gc-freeze = false" "frozen False" "$(echo "$OUT" | head -1)"
build --interpreter -o "$T/py"
run "$T/py" -c 'import gc; print(gc.get_freeze_count())'
expect_eq "an interpreter does not freeze" "$base" "$OUT$ERR"
finish
