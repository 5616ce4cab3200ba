# multiprocessing's spawn and forkserver start methods and
# ProcessPoolExecutor, without freeze_support(): children run the app's
# executable as "app --kiln-child-proof=FD FLAGS -c 'from
# multiprocessing...'" and get every module, and the main script itself,
# from memory.
. "$(dirname "$0")/lib.sh"
# Children that ran the app instead of multiprocessing's code would start
# children of their own: every app here refuses such an argv.
guard='import sys
if any(a.startswith("from multiprocessing") for a in sys.argv):
    sys.exit("a child ran the app: %r" % sys.argv)'
mkdir -p "$T/src/mpkg" "$T/work"
cat >"$T/app.py" <<PY
$guard
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

def square(x):
    return x * x

def report(q):
    import faulthandler
    q.put((__name__, sys.argv[1:], sys.flags.optimize, sys.flags.isolated,
           sys.warnoptions, faulthandler.is_enabled()))

def boom(x):
    raise ValueError("boom %d" % x)

if __name__ == "__main__":
    # Settings that multiprocessing passes to children as -W and -X.
    sys.warnoptions.append("ignore::UserWarning")
    sys._xoptions["faulthandler"] = True
    spawn = mp.get_context("spawn")
    with spawn.Pool(2) as pool:
        print("spawn", pool.map(square, range(5)))
        try:
            pool.apply(boom, (7,))
        except ValueError as e:
            cause = str(e.__cause__)
            print("remote line", 'raise ValueError("boom %d" % x)' in cause)
    forkserver = mp.get_context("forkserver")
    q = forkserver.Queue()
    p = forkserver.Process(target=report, args=(q,))
    p.start()
    print("forkserver", q.get())
    p.join()
    print("exit", p.exitcode)
    for ctx in spawn, forkserver:
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            print("executor", ctx.get_start_method(), list(ex.map(square, [3, 4])))
    print("args", sys.argv[1:])
PY
cat >"$T/src/mpkg/__init__.py" <<'PY'
PY
cat >"$T/src/mpkg/work.py" <<'PY'
def cube(x):
    return x ** 3
PY
cat >"$T/src/mpkg/__main__.py" <<PY
$guard
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from mpkg.work import cube
if __name__ == "__main__":
    with mp.get_context("spawn").Pool(2) as pool:
        print("spawn", pool.map(cube, range(4)))
    with ProcessPoolExecutor(1, mp_context=mp.get_context("forkserver")) as ex:
        print("forkserver", list(ex.map(cube, [5])))
PY
# -m of a plain module: children run it again as __mp_main__, by name.
cat >"$T/src/mpmod.py" <<PY
$guard
import multiprocessing as mp
def double(x):
    return __name__, 2 * x
if __name__ == "__main__":
    for method in "spawn", "forkserver":
        with mp.get_context(method).Pool(1) as pool:
            print(method, pool.map(double, [1, 2]))
PY
# A broken child start makes a Pool start workers forever: a run that
# hangs is stopped (with its process group) rather than left to the runner.
guarded() { run timeout -k 10 "${MP_TIMEOUT:-600}" "$@"; }

# Modules that children would find on disk if they looked there.
for d in "$T/work" "$T/work/pp"; do
    mkdir -p "$d/mpkg" "$d/multiprocessing"
    for f in mpmod.py mpkg/__init__.py mpkg/work.py multiprocessing/__init__.py; do
        echo 'raise SystemExit("poisoned: read from disk")' >"$d/$f"
    done
done
cd "$T/work" || exit 1
export PYTHONPATH=$T/work/pp

expected_app="spawn [0, 1, 4, 9, 16]
remote line True
forkserver ('__mp_main__', ['a', 'b'], 0, 1, ['ignore::UserWarning'], True)
exit 0
executor spawn [9, 16]
executor forkserver [9, 16]
args ['a', 'b']"

build "$T/app.py" -o "$T/app"
guarded "$T/app" a b
expect_eq "script app: status" 0 "$RC"
expect_eq "script app: output" "$expected_app" "$OUT"
expect_eq "script app: stderr (children included)" "" "$ERR"

# An app's own "-c" arguments are its arguments, in the children too.
guarded "$T/app" -c foo
expect_eq "app -c foo: status" 0 "$RC"
expect_contains "app -c foo: children" "['-c', 'foo'], 0, 1," "$OUT"
expect_contains "app -c foo: argv" "args ['-c', 'foo']" "$OUT"

# Without sources, a spawned child reads the main script as a .pyc image
# from io.open_code(); -OO reaches the children as the flag -OO.
build --no-source -OO "$T/app.py" -o "$T/app-nosrc"
guarded "$T/app-nosrc" a b
expect_eq "--no-source -OO: status" 0 "$RC"
expect_eq "--no-source -OO: output" \
    "$(printf '%s\n' "$expected_app" | sed -e 's/remote line True/remote line False/' \
        -e "s/\['a', 'b'\], 0, 1/['a', 'b'], 2, 1/")" "$OUT"
expect_eq "--no-source -OO: stderr" "" "$ERR"

build -m mpkg --path "$T/src" -o "$T/pkgapp"
guarded "$T/pkgapp"
expect_eq "-m package: status" 0 "$RC"
expect_eq "-m package: output" "spawn [0, 1, 8, 27]
forkserver [125]" "$OUT"
expect_eq "-m package: stderr" "" "$ERR"

build -m mpmod --path "$T/src" -o "$T/modapp"
guarded "$T/modapp"
expect_eq "-m module: status" 0 "$RC"
expect_eq "-m module: output" "spawn [('__mp_main__', 2), ('__mp_main__', 4)]
forkserver [('__mp_main__', 2), ('__mp_main__', 4)]" "$OUT"
expect_eq "-m module: stderr" "" "$ERR"

# Interpreter mode: children are "py FLAGS -c ..." as under python3, and
# read the script from disk. As under python3, sys.path[0] of a -c child is
# its folder, so it runs elsewhere than among the poisoned modules.
build --interpreter -o "$T/py"
cd "$T" || exit 1
PYTHONPATH= guarded "$T/py" "$T/app.py" a b
cd "$T/work" || exit 1
expect_eq "interpreter: status" 0 "$RC"
expect_eq "interpreter: output" "$(printf '%s\n' "$expected_app" |
    sed -e "s/\['a', 'b'\], 0, 1/['a', 'b'], 0, 0/")" "$OUT"
expect_eq "interpreter: stderr" "" "$ERR"

# No child opens or stats a Python file on disk (the virtual path of the
# script, inside the executable, fails with ENOTDIR).
# -ff: one file per process, so that no call is cut in two. LeakSanitizer
# cannot run under ptrace.
ASAN_OPTIONS=detect_leaks=0 guarded strace -ff -qq -e trace=%file,%stat -o "$T/trace" "$T/app" a b
expect_eq "strace: output" "$expected_app" "$OUT"
cat "$T"/trace.* >"$T/trace"
expect_contains "strace: children were traced" "from multiprocessing.spawn" "$(cat "$T/trace")"
bad=$(grep -E '\.pyc?"|__pycache__|/work/' "$T/trace" | grep -v ENOTDIR || true)
expect_eq "strace: Python files on disk" "" "$bad"

# A child that the app started itself (it has the proof) still runs only
# multiprocessing's entry points, with literal arguments: never other code
# given with -c. (Without the proof, such an argv is the app's: e2e 36.)
cat >"$T/spawner.py" <<'PY'
import os, sys
from multiprocessing import spawn, util
exe = spawn.get_executable()
pid = util.spawnv_passfds(exe, [exe, "-B", "-S", "-I", "-c", sys.argv[1]], [])
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
build "$T/spawner.py" -o "$T/spawner"
run "$T/spawner" 'from multiprocessing.spawn import spawn_main; print("ran")'
expect_eq "other code: output" "child 1" "$OUT"
expect_contains "other code: message" "is not a call of one of multiprocessing's entry points with literal arguments: the second statement is not a call of spawn_main" "$ERR"
run "$T/spawner" 'from multiprocessing.resource_tracker import main;main(__import__("os").system("echo ran"))'
expect_eq "non-literal argument: output" "child 1" "$OUT"
expect_contains "non-literal argument: message" "argument Call is not a literal" "$ERR"
run "$T/spawner" 'from multiprocessing.spawn import main; main()'
expect_contains "unknown entry point" "it does not import one of multiprocessing.forkserver.main" "$ERR"
finish
