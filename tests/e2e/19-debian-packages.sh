# Acceptance: real packages from Debian, each packed into one file with
# --package, run with /usr/lib/python3.11 and /usr/lib/python3/dist-packages
# hidden: zope.interface with its C optimizations, zstandard with its C
# backend, and Debian's hg script with the mercurial distribution.
. "$(dirname "$0")/lib.sh"
DIST=/usr/lib/python3/dist-packages

# hidden CMD...: runs CMD where Python's own folders are empty tmpfs mounts.
hidden() {
    local opt=-m
    [ "$(id -u)" = 0 ] || opt=-rm
    unshare $opt sh -c 'mount -t tmpfs none /usr/lib/python3.11 &&
        mount -t tmpfs none /usr/lib/python3/dist-packages && exec "$@"' \
        hidden "$@"
}
run hidden "$PY" -c 'import json'
[ "$RC" -ne 0 ] || fail "the stdlib is not hidden: $OUT $ERR"

# zope.interface: InterfaceBase comes from the C optimizations.
cat >"$T/zi.py" <<'PY'
import zope.interface
from zope.interface import Interface, implementer
import zope.interface.interface as zii
class IGreeter(Interface):
    def greet(): pass
@implementer(IGreeter)
class Greeter:
    def greet(self): return "hi"
print(zii.InterfaceBase.__module__, IGreeter.providedBy(Greeter()))
PY
build "$T/zi.py" --package zope.interface -o "$T/zi"
run hidden "$T/zi"
expect_eq "zope.interface C optimizations" "_zope_interface_coptimizations True" "$OUT"
expect_eq "zope.interface stderr" "" "$ERR"

# zstandard: the C backend and a round trip.
cat >"$T/zst.py" <<'PY'
import zstandard
data = b"kiln " * 1000
packed = zstandard.ZstdCompressor(level=3).compress(data)
print(zstandard.backend, len(packed) < len(data),
      zstandard.ZstdDecompressor().decompress(packed) == data)
PY
build "$T/zst.py" --package zstandard -o "$T/zst"
run hidden "$T/zst"
expect_eq "zstandard C backend" "cext True True" "$OUT"
expect_eq "zstandard stderr" "" "$ERR"

# mercurial: Debian's hg script, byte-identical output to Debian's hg.
build /usr/bin/hg --package mercurial -o "$T/hg"
export HGRCPATH= HGPLAIN=1 HGUSER="kiln <kiln@example.org>" HGENCODING=utf-8
session() { # session HG DIR: init, add, commit, diff, status, log
    mkdir -p "$2" && cd "$2" || return 1
    $1 init && echo one >a && $1 add a && $1 commit -m first -d "0 0" &&
        echo two >>a && echo new >b && $1 diff --nodates && $1 status &&
        $1 add b && $1 commit -m second -d "1 0" && $1 log && $1 status
    echo "status $?"
}
want=$(session /usr/bin/hg "$T/repo-debian" 2>&1)
got=$(hidden bash -c "$(declare -f session); session '$T/hg' '$T/repo-kiln'" 2>&1)
expect_eq "hg session identical to Debian's hg" "$want" "$got"
expect_contains "hg session ran" "status 0" "$got"
run hidden "$T/hg" debuginstall
expect_contains "hg module policy" "checking module policy (c)" "$OUT"
expect_contains "hg debuginstall clean" "no problems detected" "$OUT"
finish
