# Bad input at build time: a clear message naming what and where, a
# non-zero status, and no output left behind.
. "$(dirname "$0")/lib.sh"
# no_output: the failed build left neither the output nor a temporary file.
no_output() {
    [ -e "$T/out" ] && fail "$1: output written"
    ls -a "$T" | grep -q 'kiln-' && fail "$1: temporary file left"
}
mkdir -p "$T/src/pkg"
echo 'x = 1' >"$T/src/pkg/__init__.py"
printf 'def f():\n    return (1,\n\nprint("x")\n' >"$T/src/pkg/broken.py"
run "$KILN" build -q "$T/src/pkg/__init__.py" --path "$T/src" -o "$T/out"
expect_eq "syntax error: status" 1 "$RC"
expect_contains "syntax error: file:line" "$T/src/pkg/broken.py:2:" "$ERR"
expect_contains "syntax error: kind" "SyntaxError: '(' was never closed" "$ERR"
expect_contains "syntax error: nothing written" "nothing was written" "$ERR"
no_output "syntax error"
rm "$T/src/pkg/broken.py"

printf 'if True:\nprint(1)\n' >"$T/indent.py"
run "$KILN" build -q "$T/indent.py" -o "$T/out"
expect_contains "indentation error" "$T/indent.py:2:" "$ERR"
expect_contains "indentation error kind" "IndentationError" "$ERR"

run "$KILN" build -q "$T/missing.py" -o "$T/out"
expect_eq "missing script: status" 1 "$RC"
expect_contains "missing script" "cannot read script $T/missing.py: No such file or directory" "$ERR"
no_output "missing script"

echo 'print(1)' >"$T/app.py"
run "$KILN" build -q "$T/app.py" --path "$T/nodir" -o "$T/out"
expect_eq "missing path: status" 1 "$RC"
expect_contains "missing path" "cannot read $T/nodir: No such file or directory" "$ERR"

run "$KILN" build -q -m nomod -o "$T/out"
expect_contains "missing module" "module 'nomod' not found" "$ERR"

# Symlink loops (a folder that leads back to its ancestor, a link to
# itself) and a dangling link are warnings, as python ignores them until
# they are imported: the rest is packed.
mkdir -p "$T/loop/pkg"
touch "$T/loop/pkg/__init__.py"
ln -s .. "$T/loop/pkg/up"
ln -s self "$T/loop/pkg/self"
ln -s nowhere "$T/loop/pkg/dangling"
run "$KILN" build -q "$T/app.py" --path "$T/loop" -o "$T/loopapp"
expect_eq "symlink loops: status" 0 "$RC"
expect_contains "symlink loop" "warning: skipping $T/loop/pkg/up: a symlink loop, it leads back to $T/loop" "$ERR"
expect_contains "self link" "warning: skipping $T/loop/pkg/self: a symlink loop" "$ERR"
expect_contains "dangling link" "warning: skipping $T/loop/pkg/dangling: broken symlink" "$ERR"
run "$T/loopapp"
expect_eq "symlink loops: app runs" "1" "$OUT$ERR"
rm -rf "$T/loop" "$T/loopapp"

# An unreadable file, for a user who may not read it.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    mkdir -p "$T/priv/src"
    echo 'print(1)' >"$T/priv/app.py"
    echo 'secret = 1' >"$T/priv/src/secret.py"
    chmod 000 "$T/priv/src/secret.py"
    chmod -R o+rwX "$T/priv"; chmod 000 "$T/priv/src/secret.py"
    chmod o+x "$T"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$KILN" build -q "$T/priv/app.py" --path "$T/priv/src" -o "$T/priv/out"
    expect_eq "unreadable: status" 1 "$RC"
    expect_contains "unreadable" "cannot read $T/priv/src/secret.py: Permission denied" "$ERR"
    [ -e "$T/priv/out" ] && fail "unreadable: output written"
fi

run "$KILN" build --frobnicate "$T/app.py"
expect_eq "unknown option: status" 2 "$RC"
expect_contains "unknown option" "unknown option '--frobnicate'" "$ERR"
run "$KILN" build "$T/app.py" -o
expect_contains "option without value" "option '-o' needs a value" "$ERR"
run "$KILN" build -q
expect_eq "nothing to build: status" 2 "$RC"
expect_contains "nothing to build" "nothing to build" "$ERR"
run "$KILN" build -q "$T/app.py" -m foo
expect_contains "script and module" "only one of" "$ERR"
run "$KILN" frob
expect_contains "unknown command" "unknown command 'frob'" "$ERR"

cp "$T/app.py" "$T/app"
run "$KILN" build -q "$T/app" -o "$T/app"
expect_contains "overwriting the script" "would overwrite an input" "$ERR"
expect_eq "script intact" "print(1)" "$(cat "$T/app")"
run "$KILN" build -q "$T/app.py" -o "$T/no/such/dir/out"
expect_contains "output folder missing" "cannot create the output in $T/no/such/dir" "$ERR"

# A file over the format's limit (a blob's size is 32-bit): named, with
# the limit, before anything is read; a sparse file costs nothing.
mkdir -p "$T/big/bigpkg"
touch "$T/big/bigpkg/__init__.py"
truncate -s 5G "$T/big/bigpkg/huge.bin"
run "$KILN" build -q "$T/app.py" --path "$T/big" -o "$T/out"
expect_eq "file over 4 GiB: status" 1 "$RC"
expect_contains "file over 4 GiB: names it" "cannot pack $T/big/bigpkg/huge.bin: it is 5368709120 bytes, over the kiln format's limit of 4294967295 bytes for one file (a blob's size is 32-bit)" "$ERR"
no_output "file over 4 GiB"
rm -rf "$T/big"

# A failed rebuild keeps the previous executable whole.
build "$T/app.py" -o "$T/good"
printf 'print(\n' >"$T/bad.py"
run "$KILN" build -q "$T/bad.py" -o "$T/good"
expect_eq "failed rebuild: status" 1 "$RC"
run "$T/good"
expect_eq "previous executable intact" "1" "$OUT"
finish
