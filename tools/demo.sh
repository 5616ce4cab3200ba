#!/bin/sh
# demo.sh BUILD - packs examples/hello with the kiln in BUILD, runs it, and
# times its start-up next to python3.11 running the same script.
set -eu
BUILD=${1:-build}
out=$BUILD/demo
mkdir -p "$out"
echo "== kiln build examples/hello/hello.py -o $out/hello"
"$BUILD/kiln" build examples/hello/hello.py -o "$out/hello"
echo "== $out/hello kiln"
"$out/hello" kiln
echo "== $out/hello --json demo"
"$out/hello" --json demo
echo "== what is inside (kiln inspect, first lines)"
"$BUILD/kiln" inspect "$out/hello" | head -7
echo "== start-up time, side by side (hyperfine)"
hyperfine -N --warmup 5 --runs 50 \
    "$out/hello" \
    "/usr/bin/python3.11 -I -S examples/hello/hello.py" \
    "/usr/bin/python3.11 examples/hello/hello.py"
