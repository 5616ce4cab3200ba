# Exit statuses, SIGINT and stdin behave as under python3.11.
. "$(dirname "$0")/lib.sh"
cat >"$T/app.py" <<'PY'
import sys, os, time
mode = sys.argv[1]
if mode == "exit5":
    sys.exit(5)
elif mode == "exitmsg":
    sys.exit("fatal: bad things")
elif mode == "exitnone":
    sys.exit(None)
elif mode == "raise":
    raise RuntimeError("kaput")
elif mode == "osexit":
    sys.stdout.flush()
    os._exit(7)
elif mode == "stdin":
    data = sys.stdin.read()
    print(len(data), data.upper().strip())
elif mode == "lines":
    for line in sys.stdin:
        print("got", line.strip())
elif mode == "sleep":
    print("ready", flush=True)
    time.sleep(30)
PY
build "$T/app.py" -o "$T/app"
for mode in exit5 exitmsg exitnone raise osexit; do
    run "$T/app" $mode
    app_rc=$RC app_err=$ERR
    run "$PY" -I -S "$T/app.py" $mode
    expect_eq "exit status of $mode" "$RC" "$app_rc"
    expect_eq "stderr of $mode" "$(echo "$ERR" | sed "s|$T/app.py|X|")" \
        "$(echo "$app_err" | sed "s|$T/app/app.py|X|")"
done

# A failed flush of stdout at exit: status 120, as python3.
echo 'print("small")' >"$T/small.py"
build "$T/small.py" -o "$T/small"
"$T/small" >/dev/full 2>"$T/full.err"
expect_eq "flush failure at exit" 120 "$?"
expect_contains "flush failure message" "No space left on device" "$(cat "$T/full.err")"

out=$(printf 'abc\ndef\n' | "$T/app" stdin)
expect_eq "stdin" "8 ABC
DEF" "$out"
out=$(printf 'x\ny\n' | "$T/app" lines)
expect_eq "stdin lines" "got x
got y" "$out"

# Ctrl-C: KeyboardInterrupt, then death by SIGINT (status 130), as python3.
sigint() {
    env --default-signal=INT "$@" >"$T/sig.out" 2>"$T/sig.err" &
    local pid=$! i
    for i in $(seq 100); do
        grep -q ready "$T/sig.out" 2>/dev/null && break
        sleep 0.1
    done
    kill -INT "$pid"
    wait "$pid"
    echo $?
}
expect_eq "SIGINT status" 130 "$(sigint "$T/app" sleep)"
expect_contains "KeyboardInterrupt shown" "KeyboardInterrupt" "$(cat "$T/sig.err")"
expect_eq "python3.11 SIGINT status" 130 "$(sigint "$PY" -I -S "$T/app.py" sleep)"
finish
