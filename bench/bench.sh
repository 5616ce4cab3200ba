#!/bin/sh
# bench.sh BUILD - runs bench.py with Debian's python3.11 (the baseline it
# measures against; kiln itself embeds no Python of its own).
set -eu
exec /usr/bin/python3.11 -I "$(dirname "$0")/bench.py" "${1:-build}"
