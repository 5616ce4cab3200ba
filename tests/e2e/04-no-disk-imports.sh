# strace: at run time no .py, .pyc or lib-dynload file is opened or stat'ed.
# Extension modules come from memfds. An import that nothing packed has
# looks nowhere on disk either: PathFinder follows kiln's importer, as under
# python3, but sys.path holds no folder on disk until the app puts one
# there (e2e 44).
. "$(dirname "$0")/lib.sh"
cat >"$T/app.py" <<'PY'
import json, decimal, csv, email.parser, asyncio, sqlite3, xml.dom.minidom
import _json, _decimal, _sqlite3
for name in ("nowhere_top", "json.nowhere_sub", "email.mime.nowhere_deep"):
    try:
        __import__(name)
    except ImportError:
        pass
print(open("/proc/self/maps").read().count("memfd:"), json.dumps([1]))
PY
build "$T/app.py" -o "$T/app"
# LeakSanitizer cannot run under ptrace.
ASAN_OPTIONS=detect_leaks=0 run strace -f -qq -e trace=%file,%stat -o "$T/trace" "$T/app"
expect_eq "exit" 0 "$RC"
case "$OUT" in
0*) fail "no extension module was mapped from a memfd: $OUT" ;;
esac
bad=$(grep -E '\.pyc?"|lib-dynload|__pycache__' "$T/trace" | grep -v ENOTDIR || true)
expect_eq "file access to python files" "" "$bad"
nowhere=$(grep -c nowhere "$T/trace" || true)
expect_eq "accesses for modules packed nowhere" 0 "$nowhere"
# Nothing under the stdlib folder is touched at all.
stdlib=$(grep -c '/usr/lib/python3' "$T/trace" || true)
expect_eq "stdlib folder accesses" 0 "$stdlib"
finish
