# kiln inspect lists what an executable holds, verifies it, and names the
# reason when a file is not an intact kiln executable. Packed names are
# shown as `ls -b` shows them, so that none can fake a line or reach the
# terminal.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src/tool/res"
echo 'print("tool")' >"$T/src/tool/__main__.py"
touch "$T/src/tool/__init__.py"
echo 'data' >"$T/src/tool/res/data.txt"
printf 'CLEAR = "\033[2J"\n' >"$T/src/tool/clear.py"
build -m tool --path "$T/src" -o "$T/app"
run "$KILN" inspect "$T/app"
expect_eq "status" 0 "$RC"
expect_contains "target" "target:   CPython 3.11 (bytecode magic 3495)" "$OUT"
expect_contains "run mode" "runs:     module tool" "$OUT"
expect_contains "package" "package" "$OUT"
expect_contains "app module" "  tool.__main__" "$OUT"
expect_contains "stdlib module" "  json.decoder" "$OUT"
expect_contains "extension" "$(printf '%-10s' extension)" "$OUT"
expect_contains "data file" "tool/res/data.txt" "$OUT"
expect_contains "verified" "all checksums verified" "$OUT"
echo "$OUT" | grep -qE '^extension +[0-9]+ +0  _json$' || fail "extension _json listed with its size"

run "$KILN" inspect /bin/true
expect_eq "not kiln: status" 1 "$RC"
expect_contains "not kiln" "not a kiln executable" "$ERR"
run "$KILN" inspect "$T/nonexistent"
expect_eq "missing: status" 1 "$RC"
expect_contains "missing" "No such file or directory" "$ERR"
# Not a regular file: refused at once, never read (a FIFO would block).
mkfifo "$T/fifo"
run timeout 20 "$KILN" inspect "$T/fifo"
expect_eq "fifo: status" 1 "$RC"
expect_contains "fifo" "fifo is a FIFO (named pipe), not a regular file: give the path of a kiln executable" "$ERR"
run "$KILN" inspect "$T/src"
expect_eq "directory: status" 1 "$RC"
expect_contains "directory" "src is a directory, not a regular file" "$ERR"
head -c 1000000 "$T/app" >"$T/short"
run "$KILN" inspect "$T/short"
expect_eq "truncated: status" 1 "$RC"
expect_contains "truncated" "trailer" "$ERR"

build "$T/src/tool/__main__.py" -o "$T/script"
run "$KILN" inspect "$T/script"
expect_contains "script run mode" "runs:     script __main__.py" "$OUT"
expect_not_contains "no turtle without _tkinter" " turtle" "$OUT"
expect_not_contains "no tkinter without _tkinter" " tkinter" "$OUT"
expect_not_contains "no test package" "  test.support" "$OUT"
expect_not_contains "no idlelib" "  idlelib" "$OUT"
expect_not_contains "no ensurepip" "  ensurepip" "$OUT"

# An output inside a packed package is refused (more in 38-build-inputs);
# a previous output in the --path folder, even one named like a module, is
# not an input: the next build does not pack it.
run "$KILN" build -q -m tool --path "$T/src" -o "$T/src/tool/res/app"
expect_contains "output inside a package" "would be written inside $T/src/tool," "$ERR"
build -m tool --path "$T/src" -o "$T/src/prev.py"
build -m tool --path "$T/src" -o "$T/src/prev.py"
run "$KILN" inspect "$T/src/prev.py"
expect_eq "previous output not packed" 0 "$(echo "$OUT" | grep -cE ' prev(\.py)?$')"
expect_contains "data still packed" "  tool/res/data.txt" "$OUT"
rm -f "$T/src/prev.py"

# Names with newlines and terminal escapes (forged: kiln build packs what
# it finds) are escaped in every line: the listing, the preload lists of
# extension modules, and messages.
"$BUILD/repack" "$T/app" "$T/evil" --forge \
    file-name tool/res/data.txt $'tool/res/x\nall checksums verified\n\033[2Jy' \
    module-name tool.__main__ $'tool.__main__\033]0;pwned\a' ||
    fail "repack --forge"
run "$KILN" inspect "$T/evil"
expect_eq "escaped: status" 0 "$RC"
expect_contains "escaped file name" ' tool/res/x\nall checksums verified\n\033[2Jy' "$OUT"
expect_contains "escaped module name" ' tool.__main__\033]0;pwned\a' "$OUT"
expect_not_contains "no raw escape" $'\033' "$OUT"
expect_eq "one verdict line" 1 "$(grep -c '^all checksums verified$' <<<"$OUT")"
# tool.clear's source as the preload list of a forged extension module.
"$BUILD/repack" "$T/app" "$T/evil" --forge module-flags tool.clear 2 ||
    fail "repack --forge"
run "$KILN" inspect "$T/evil"
expect_eq "preload list: status" 1 "$RC"
expect_contains "escaped preload list" '  CLEAR = "\033[2J" (damaged: not among the files)' "$OUT"
expect_not_contains "no raw escape in a preload list" $'\033' "$OUT"
# A name quoted in an error.
"$BUILD/repack" "$T/app" "$T/evil" --forge \
    file-name tool/res/data.txt $'../x\nall checksums verified\033[2J' ||
    fail "repack --forge"
run "$KILN" inspect "$T/evil"
expect_eq "quoted name: status" 1 "$RC"
expect_contains "quoted name" "the name '../x\\nall checksums verified\\033[2J' has a '..' part" "$ERR"
expect_not_contains "no raw escape in an error" $'\033' "$ERR"
expect_not_contains "no verdict" "all checksums verified" "$OUT"

build --interpreter -o "$T/py"
run "$KILN" inspect "$T/py"
expect_contains "interpreter mode" "runs:     interpreter" "$OUT"
expect_contains "test extensions in the interpreter" "_testcapi" "$OUT"
finish
