#!/bin/sh
# bench.sh BUILD [TARGET] - runs bench.py with Debian's python3.11 (kiln
# itself embeds no Python of its own). TARGET: a NAME of BUILD/targets.txt
# (3.12), measured against that installation's python; default: the first.
set -eu
exec /usr/bin/python3.11 -I "$(dirname "$0")/bench.py" "${1:-build}" ${2:+"$2"}
