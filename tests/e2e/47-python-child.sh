# kiln build --python-child: a child that the app starts with
# sys.executable and python's command line runs as a kiln interpreter of
# the packed code (-c, -m of a packed module, a script on disk, -m venv
# with ensurepip packed, children of its own), however the app starts it
# (subprocess forking or using posix_spawn, os.execv); the app runs again
# as [sys.executable] + sys.argv, and multiprocessing still works. Without
# the option such a child runs the app, and one hint names the option when
# it fails. Argv typed by hand, or a forged proof, never does any of this.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/src" "$T/work"
cat >"$T/src/helper.py" <<'PY'
import sys
if __name__ == "__main__":
    print("helper", __file__.startswith(sys.executable + "/"), sys.argv[1:])
PY
cat >"$T/src/app.py" <<'PY'
import multiprocessing as mp, os, subprocess, sys
import helper

def child(*args, **kw):
    sys.stdout.flush()
    r = subprocess.run([sys.executable, *args], **kw)
    if r.returncode:
        print("status", r.returncode)

if __name__ == "__main__" and "-c" in sys.argv[1:]:
    sys.exit("the app's main: %r" % sys.argv[1:])
if __name__ == "__main__":
    what = sys.argv[1]
    if what == "children":
        child("-c", "import sys; print(42, sys.argv)", "a")
        child("-I", "-c", "import sys; print('flags', sys.flags.isolated)")
        child("-m", "helper", "b")
        child("script.py", "c")
        child("-c", "import sys; print('posix_spawn', sys.argv)", "d",
              close_fds=False)
        child("-c", "import subprocess, sys; "
              "subprocess.run([sys.executable, '-c', 'print(\"nested\")'])")
        child("-c", "import sys; print(sys.prefix)")
        child("-c", "import ensurepip; print('ensurepip')")
        child(sys.argv[0], "rerun")
        child("-c", "import sys; sys.exit(3)")
        with mp.get_context("spawn").Pool(1) as pool:
            print("pool", pool.map(abs, [-1, -2]))
    elif what == "rerun":
        print("the app again", sys.argv)
    elif what == "venv":
        child("-m", "venv", "--without-pip", "env")
        subprocess.run(["env/bin/python", "-c",
                        "import sys; print('venv', sys.prefix != sys.base_prefix)"])
    elif what == "execv":
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-c", "print('execv')"])
PY
echo 'import sys; print("script", sys.argv)' >"$T/work/script.py"
build --python-child "$T/src/app.py" -o "$T/pyapp"
build "$T/src/app.py" -o "$T/app"
cd "$T/work" || exit 1

run "$T/pyapp" children
expect_eq "children: status" 0 "$RC"
expect_eq "children: output" "42 ['-c', 'a']
flags 1
helper True ['b']
script ['script.py', 'c']
posix_spawn ['-c', 'd']
nested
$T
ensurepip
the app again ['$T/pyapp', 'rerun']
status 3
pool [1, 2]" "$OUT"
expect_eq "children: stderr" "" "$ERR"
run "$T/pyapp" execv
expect_eq "os.execv" "execv" "$OUT"
run "$T/pyapp" venv
expect_eq "-m venv, then the venv's python: status" 0 "$RC"
expect_eq "-m venv, then the venv's python" "venv True" "$OUT"
expect_eq "-m venv: stderr" "" "$ERR"

# Without --python-child the children run the app's main; the one that
# fails says which option it lacks.
run "$T/app" execv
expect_eq "without the option: status" 1 "$RC"
expect_eq "without the option: output" "" "$OUT"
expect_eq "without the option: stderr" "the app's main: ['-c', \"print('execv')\"]
kiln: hint: the app started $T/app as a Python (-c ...), but it runs the app itself; build the app with --python-child to make such a child a Python interpreter of the packed code" "$ERR"

# Typed by hand, python's command line is the app's own: no interpreter,
# no hint.
for app in "$T/pyapp" "$T/app"; do
    run "$app" -c 'print(42)'
    expect_eq "unproven -c ($app): status" 1 "$RC"
    expect_eq "unproven -c ($app): output" "" "$OUT"
    expect_eq "unproven -c ($app): stderr" "the app's main: ['-c', 'print(42)']" "$ERR"
done

# A proof made outside the app is refused, with one warning.
cat >"$T/forge.py" <<'PY'
import os, socket, subprocess, sys
a, b = socket.socketpair()
b.sendall(b"kiln-child-proof 1\n")
b.close()
fd = a.fileno()
cmd = [sys.argv[1], "--kiln-child-proof=%d" % fd] + sys.argv[2:]
sys.exit(subprocess.run(cmd, pass_fds=[fd]).returncode)
PY
run "$PY" "$T/forge.py" "$T/pyapp" -c 'print(42)'
expect_eq "forged: status" 1 "$RC"
expect_eq "forged: output" "" "$OUT"
expect_eq "forged: stderr" "kiln: warning: $T/pyapp has the command line of a python child (--python-child), but no proof that the app itself started it (the parent process X runs another executable); it runs as the app, with its arguments as given
the app's main: ['--kiln-child-proof=3', '-c', 'print(42)']" "$(printf '%s\n' "$ERR" | sed 's/process [0-9]* runs/process X runs/')"
finish
