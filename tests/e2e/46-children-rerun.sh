# An app runs itself again as a python3 script does, with [sys.executable]
# + sys.argv (autoreloaders, self-respawning scripts): the child gets the
# same sys.argv, whether subprocess forks it or uses posix_spawn, and also
# through os.execv and with flags first (as Django's autoreloader adds -W).
# sys.argv[0] is the path the app was started by, as python3 gives a
# script's (the full path when found through PATH). Only a child that the
# app started itself can do it (childproof.c): an argv or a descriptor
# forged outside the app never does.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/bin" "$T/src" "$T/elsewhere"
# GEN stops the respawning after one generation; HOW says how.
cat >"$T/app.py" <<'PY'
import os, shutil, subprocess, sys
gen = os.environ.get("GEN", "0")
print(gen, sys.argv, sys.warnoptions)
if gen == "0":
    os.environ["GEN"] = "1"
    how = os.environ.get("HOW", "fork")
    cmd = [sys.executable] + sys.argv
    sys.stdout.flush()
    if how == "fork":
        sys.exit(subprocess.run(cmd).returncode)
    if how == "posix_spawn":
        sys.exit(subprocess.run(cmd, close_fds=False).returncode)
    if how == "flags":
        cmd[1:1] = ["-W", "ignore::DeprecationWarning", "-B"]
        sys.exit(subprocess.run(cmd).returncode)
    if how == "execv":
        os.execv(sys.executable, cmd)
    if how == "execlp":  # os.execvp's PATH search, then os.execv
        os.execlp(os.path.basename(sys.executable), *cmd)
    if how == "replaced":
        # A new build renamed into place: a spawned child could not prove
        # that this app started it; os.execv runs the new one in place.
        shutil.copy(sys.executable, sys.executable + ".new")
        os.replace(sys.executable + ".new", sys.executable)
        try:
            subprocess.run(cmd)
        except RuntimeError as e:
            print(e, flush=True)
        os.execv(sys.executable, cmd)
PY
# As Django's autoreloader restarts a -m app: sys.executable -m NAME ARGS.
cat >"$T/src/srv.py" <<'PY'
import os, subprocess, sys
print(os.environ.get("GEN", "0"), __name__, sys.argv[1:])
if os.environ.get("GEN") != "1":
    os.environ["GEN"] = "1"
    sys.stdout.flush()
    sys.exit(subprocess.run([sys.executable, "-m", __spec__.name] +
                            sys.argv[1:]).returncode)
PY
build "$T/app.py" -o "$T/bin/app"
build -m srv --path "$T/src" -o "$T/srv"
cd "$T/bin" || exit 1

# The child prints what the parent printed.
twice() { printf '0 %s\n1 %s' "$1" "$1"; }
for how in fork posix_spawn execv execlp; do
    PATH=$T/bin:$PATH HOW=$how run ./app a "b c"
    expect_eq "$how: status" 0 "$RC"
    expect_eq "$how: the child's sys.argv" \
        "$(twice "['./app', 'a', 'b c'] []")" "$OUT"
    expect_eq "$how: stderr" "" "$ERR"
done
HOW=flags run ./app -x --y
expect_eq "flags first: output" "0 ['./app', '-x', '--y'] []
1 ['./app', '-x', '--y'] ['ignore::DeprecationWarning']" "$OUT"
expect_eq "flags first: stderr" "" "$ERR"

# Found through PATH: the full path, as a python3 script run the same way.
{ echo "#!$PY -I"; cat "$T/app.py"; } >"$T/bin/pyapp"
chmod +x "$T/bin/pyapp"
cd "$T/elsewhere" || exit 1
PATH=$T/bin:$PATH run pyapp x
expected=$OUT
PATH=$T/bin:$PATH run app x
expect_eq "through PATH: status" 0 "$RC"
expect_eq "through PATH: as python3" "${expected//pyapp/app}" "$OUT"
expect_eq "through PATH: output" "$(twice "['$T/bin/app', 'x'] []")" "$OUT"
run "$T/bin/app" y
expect_eq "absolute path" "$(twice "['$T/bin/app', 'y'] []")" "$OUT"
ln -s "$T/bin/app" "$T/elsewhere/link"
run ./link z
expect_eq "through a symlink" "$(twice "['./link', 'z'] []")" "$OUT"

# A -m app: sys.executable -m NAME runs it again.
run "$T/srv" runserver --noinput
expect_eq "-m app: status" 0 "$RC"
expect_eq "-m app: output" "0 __main__ ['runserver', '--noinput']
1 __main__ ['runserver', '--noinput']" "$OUT"
expect_eq "-m app: stderr" "" "$ERR"

# A rebuilt executable: the spawned child is refused, os.execv runs it.
cp "$T/bin/app" "$T/bin/app2"
HOW=replaced run "$T/bin/app2" r
expect_eq "replaced: output" "0 ['$T/bin/app2', 'r'] []
kiln: cannot start $T/bin/app2 again as its own child: the file was replaced since this app started (rebuilt?), and a child started from it could not prove that this app started it; restart the app
1 ['$T/bin/app2', 'r'] []" "$OUT"
expect_eq "replaced: stderr" "" "$ERR"

# Typed by hand, the same argv is the app's own, as python3 app.py app.py.
GEN=1 run "$T/bin/app" "$T/bin/app" a
expect_eq "unproven: the app's own argv" \
    "1 ['$T/bin/app', '$T/bin/app', 'a'] []" "$OUT"
expect_eq "unproven: stderr" "" "$ERR"
GEN=1 run "$T/srv" -m srv a
expect_eq "unproven -m: the app's own argv" "1 __main__ ['-m', 'srv', 'a']" "$OUT"

# Forged proofs. forge.py HOW ARGS...: runs ARGS (the app first) with
# --kiln-child-proof=FD after the app: a socketpair that it made, passed to
# a child ("child"); or, in place with os.execv, a socketpair without
# kiln's message ("execv"), or a listening socket ("listen"), as a socket
# activation tool holds.
cat >"$T/forge.py" <<'PY'
import os, socket, subprocess, sys
how, args = sys.argv[1], sys.argv[2:]
if how == "listen":
    path = os.path.join(os.path.dirname(sys.argv[0]), "sock")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen()
else:
    s, b = socket.socketpair()
    b.close()
fd = s.fileno()
cmd = [args[0], "--kiln-child-proof=%d" % fd] + args[1:]
if how == "child":
    sys.exit(subprocess.run(cmd, pass_fds=[fd]).returncode)
os.set_inheritable(fd, True)
os.execv(cmd[0], cmd)
PY
for how in child execv listen; do
    GEN=1 run "$PY" "$T/forge.py" $how "$T/bin/app" "$T/bin/app" a
    expect_eq "forged ($how): status" 0 "$RC"
    expect_contains "forged ($how): the app's own argv" \
        "1 ['$T/bin/app', '--kiln-child-proof=" "$OUT"
    expect_contains "forged ($how): warning" \
        "kiln: warning: $T/bin/app has the command line of a child that runs the app again, but no proof that the app itself started it (" "$ERR"
done
GEN=1 run "$PY" "$T/forge.py" child "$T/bin/app" "$T/bin/app" a
expect_contains "forged by another program: why" "runs another executable" "$ERR"
GEN=1 run "$PY" "$T/forge.py" execv "$T/bin/app" "$T/bin/app" a
expect_contains "forged in place: why" "holds no proof that kiln made" "$ERR"
GEN=1 run "$PY" "$T/forge.py" listen "$T/bin/app" "$T/bin/app" a
expect_contains "a listening socket: why" "holds no proof that kiln made" "$ERR"
finish
