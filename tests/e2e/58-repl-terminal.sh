#!/bin/bash
# The REPL of a kiln interpreter in a real terminal (tmux): a multi-line
# def, its call, and on 3.13 the new REPL (_pyrepl) that python3.13 uses
# in a terminal. Run for each installation by the version matrix.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
command -v tmux >/dev/null || { echo "  (skipped: no tmux; apt-get install tmux)" >&2; exit 0; }

build --interpreter -o py || exit 1
repl=$("$PY" -c 'import sys; print(int(sys.version_info >= (3, 13)))')
sock=$T/tmux.sock
session() { tmux -S "$sock" "$@"; }
# A fresh server with a known terminal; HOME keeps the history file here.
session new-session -d -x 120 -y 40 \
    "env -i HOME=$T TERM=xterm-256color PATH=/usr/bin:/bin ./py" || fail "tmux"
trap 'session kill-server 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT

# wait_for TEXT: until the pane shows TEXT (10 s at most).
wait_for() {
    for _ in $(seq 100); do
        session capture-pane -p | grep -qF -- "$1" && return 0
        sleep 0.1
    done
    fail "the REPL never showed [$1]: $(session capture-pane -p)"
    return 1
}
wait_for ">>>" # capture-pane drops trailing spaces
session send-keys "def twice(x):" Enter
wait_for "..."
# The new REPL indents the body itself; the old one needs the spaces.
if [ "$repl" = 1 ]; then
    session send-keys "return x * 2" Enter Enter
else
    session send-keys "    return x * 2" Enter Enter
fi
session send-keys "print(twice(21) + 1000)" Enter
wait_for "1042"
session send-keys "import sys; print('pyrepl', '_pyrepl.unix_console' in sys.modules)" Enter
wait_for "pyrepl "
pane=$(session capture-pane -p)
if [ "$repl" = 1 ]; then
    expect_contains "3.13's new REPL runs the terminal" "pyrepl True" "$pane"
else
    expect_contains "the classic REPL" "pyrepl False" "$pane"
fi
session send-keys "exit()" Enter
for _ in $(seq 50); do session has-session 2>/dev/null || break; sleep 0.1; done
session has-session 2>/dev/null && fail "the REPL did not exit on exit()"

exit $((FAILS > 0))
