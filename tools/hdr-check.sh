#!/bin/sh
# hdr-check.sh CC CFLAGS... -- HEADER... : compiles each header on its own,
# as git's `make hdr-check` does, so that every header includes what it
# uses. The flags are the include paths of the header's own side.
set -eu
cc=$1
shift
flags=""
while [ "$1" != "--" ]; do
    flags="$flags $1"
    shift
done
shift
status=0
for h in "$@"; do
    # shellcheck disable=SC2086 # the flags are words
    if ! printf '#include "%s"\n' "$(basename "$h")" |
        $cc $flags -iquote "$(dirname "$h")" -fsyntax-only -x c - ; then
        echo "hdr-check: $h does not compile on its own" >&2
        status=1
    fi
done
exit $status
