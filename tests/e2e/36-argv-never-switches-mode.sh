# An app's argv never switches it into multiprocessing-child mode: an argv
# shaped like a child's runs the app's main, as `python3 app.py ARGS` does,
# unless the app itself started the process (childproof.c). A proof forged
# outside the app is refused; the app's own children work.
. "$(dirname "$0")/lib.sh"
cat >"$T/app.py" <<'PY'
import sys
if __name__ == "__main__":  # not again in a spawned child
    print("app argv", sys.argv[1:])
if __name__ == "__main__" and sys.argv[1:] == ["children"]:
    import multiprocessing as mp
    import threading
    from concurrent.futures import ProcessPoolExecutor

    def start(ctx, q, i):
        p = ctx.Process(target=q.put, args=(i,))
        p.start()
        p.join()
        results.append(p.exitcode)

    # Threads start spawn children at the same time: each gets its proof.
    spawn = mp.get_context("spawn")
    q, results = spawn.Queue(), []
    threads = [threading.Thread(target=start, args=(spawn, q, i))
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("threads", sorted(q.get() for _ in range(4)), results)
    with ProcessPoolExecutor(2, mp_context=mp.get_context("forkserver")) as ex:
        print("forkserver", list(ex.map(abs, [-1, -2])))
if __name__ == "__main__" and sys.argv[1:] == ["replaced"]:
    # A rebuild renames a new file into place: its children could not
    # prove that this process started them, so none starts.
    import multiprocessing as mp, os, shutil
    shutil.copy(sys.executable, sys.executable + ".new")
    os.replace(sys.executable + ".new", sys.executable)
    try:
        mp.get_context("spawn").Process(target=print, args=("child",)).start()
    except RuntimeError as e:
        print(e)
PY
# What the attacks would run, if they ran anything.
cat >"$T/payload.py" <<PY
open("$T/pwned", "w").write("payload")
print("payload ran")
PY
"$PY" -c '
import pickle, sys
class Evil:
    def __reduce__(self):
        return exec, ("open(%r, \"w\").write(\"pickle\"); print(\"unpickled\")"
                      % sys.argv[2],)
pickle.dump(Evil(), open(sys.argv[1], "wb"))' "$T/evil.pickle" "$T/pwned"
# forge.py HOW APP ARGS...: starts APP with --kiln-child-proof=FD right
# after it and FD inherited: a socket it made itself ("direct"), the same
# socket through sh, so that the app's parent is not its maker ("sh"), or
# a pipe ("pipe").
cat >"$T/forge.py" <<'PY'
import os, socket, subprocess, sys
how, app, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if how == "pipe":
    fd = os.pipe()[0]
else:
    a, b = socket.socketpair()
    b.close()
    fd = a.fileno()
cmd = [app, "--kiln-child-proof=%d" % fd] + args
if how == "sh":
    cmd = ["sh", "-c", '"$@"; status=$?; exit $status', "sh"] + cmd
sys.exit(subprocess.run(cmd, pass_fds=[fd]).returncode)
PY

build "$T/app.py" -o "$T/app"
cd "$T" || exit 1

# python3 app.py ARGS: what the app must print for each argv.
as_python() { "$PY" "$T/app.py" "$@" </dev/null 2>&1; }
forkserver_code="from multiprocessing.forkserver import main; main(0, 0, ['__main__'], '$T/payload.py')"
spawn_code='from multiprocessing.spawn import spawn_main; spawn_main(0)'

for flags in "" "-B -S -I" "-I -X faulthandler -W ignore"; do
    # shellcheck disable=SC2086
    run "$T/app" $flags -c "$forkserver_code"
    expect_eq "forkserver argv ($flags): status" 0 "$RC"
    # shellcheck disable=SC2086
    expect_eq "forkserver argv ($flags): the app's main" \
        "$(as_python $flags -c "$forkserver_code")" "$OUT"
    expect_eq "forkserver argv ($flags): stderr" "" "$ERR"
done
expect_eq "forkserver argv: payload" "" "$(cat "$T/pwned" 2>/dev/null)"

"$T/app" -B -S -I -c "$spawn_code" --multiprocessing-fork \
    <"$T/evil.pickle" >"$T/out" 2>"$T/err"
expect_eq "spawn argv with a pickle on stdin: status" 0 "$?"
expect_eq "spawn argv with a pickle on stdin: the app's main" \
    "$(as_python -B -S -I -c "$spawn_code" --multiprocessing-fork)" \
    "$(cat "$T/out")"
expect_eq "spawn argv with a pickle on stdin: stderr" "" "$(cat "$T/err")"
expect_eq "spawn argv: unpickled" "" "$(cat "$T/pwned" 2>/dev/null)"

# The compile server is the bare launcher's: an app given its flag, and
# frames on stdin that load and run code (op L of protocol version 2, then
# I), runs its main.
"$PY" -c 'import struct, sys
code = b"def info(s): open(%r, \"w\").write(\"server\"); return \"\"" % (
    sys.argv[1])
frames = struct.pack("4I", ord("L"), 2 << 8 | ord("I"), 1, len(code))
frames += b"x" + code
frames += struct.pack("4I", ord("I"), 0, 1, 0) + b"x"
sys.stdout.buffer.write(frames)' "$T/pwned" >"$T/frames"
"$T/app" --kiln-compile-server <"$T/frames" >"$T/out" 2>"$T/err"
expect_eq "compile server argv: status" 0 "$?"
expect_eq "compile server argv: the app's main" \
    "app argv ['--kiln-compile-server']" "$(cat "$T/out")"
expect_eq "compile server argv: stderr" "" "$(cat "$T/err")"
expect_eq "compile server argv: code run" "" "$(cat "$T/pwned" 2>/dev/null)"
"$(dirname "$KILN")/kiln-launcher-3.11" --kiln-compile-server \
    <"$T/frames" >/dev/null 2>&1
expect_eq "the bare launcher runs the code it is sent" server \
    "$(cat "$T/pwned" 2>/dev/null)"
rm -f "$T/pwned"

# Forged proofs: made by python3.11, not by the app.
for how in direct sh pipe; do
    run "$PY" "$T/forge.py" $how "$T/app" -I -c "$forkserver_code"
    expect_eq "forged proof ($how): status" 0 "$RC"
    expect_contains "forged proof ($how): the app's main" \
        "app argv ['--kiln-child-proof=" "$OUT"
    expect_contains "forged proof ($how): the app's arguments as given" \
        "', '-I', '-c', \"$forkserver_code\"]" "$OUT"
    expect_contains "forged proof ($how): warning" \
        "kiln: warning: $T/app has a multiprocessing child's command line, but no proof that the app itself started it (" "$ERR"
    expect_eq "forged proof ($how): one line of warning" 1 \
        "$(printf '%s\n' "$ERR" | wc -l)"
done
run "$PY" "$T/forge.py" direct "$T/app" -I -c "$forkserver_code"
expect_contains "forged proof: why" "runs another executable" "$ERR"
run "$PY" "$T/forge.py" sh "$T/app" -I -c "$forkserver_code"
expect_contains "forged proof through sh: why" ", not by the parent process" "$ERR"
run "$PY" "$T/forge.py" pipe "$T/app" -I -c "$forkserver_code"
expect_contains "forged proof, a pipe: why" "is not a Unix socket" "$ERR"
run "$T/app" --kiln-child-proof=x -c "$forkserver_code"
expect_contains "proof argument, no number: why" \
    "(--kiln-child-proof=x is not a descriptor number)" "$ERR"
expect_eq "forged proofs: payload" "" "$(cat "$T/pwned" 2>/dev/null)"

# The proof argument without a child's command line is an argument.
run "$T/app" --kiln-child-proof=1 hello
expect_eq "proof argument alone: output" "app argv ['--kiln-child-proof=1', 'hello']" "$OUT"
expect_eq "proof argument alone: stderr" "" "$ERR"

# The app's own children prove themselves.
run timeout -k 10 "${MP_TIMEOUT:-300}" "$T/app" children
expect_eq "children: status" 0 "$RC"
expect_eq "children: output" "app argv ['children']
threads [0, 1, 2, 3] [0, 0, 0, 0]
forkserver [1, 2]" "$OUT"
expect_eq "children: stderr" "" "$ERR"
cp "$T/app" "$T/app-replaced"
run timeout -k 10 "${MP_TIMEOUT:-300}" "$T/app-replaced" replaced
expect_eq "replaced executable: output" "app argv ['replaced']
kiln: cannot start a multiprocessing child of $T/app-replaced: the file was replaced since this app started (rebuilt?), and a child started from it could not prove that this app started it; restart the app" "$OUT"
expect_eq "replaced executable: stderr" "" "$ERR"
finish
