#!/bin/sh
# deps.sh - makes sure the Debian packages kiln needs are installed.
#   deps.sh build   what `make` and `make demo` need
#   deps.sh check   that, plus what `make check` and `make bench` need
# As root it installs what is missing; otherwise it prints the apt-get line.
set -eu
build="gcc make libc6-dev python3.11 libpython3.11-dev libxxhash-dev zlib1g-dev libexpat1-dev hyperfine"
# The end-to-end tests pack real Debian packages.
check="$build clang libclang-rt-14-dev strace util-linux valgrind mercurial python3-zope.interface python3-zstandard python3-requests python3-pkg-resources libpython3.11-testsuite"
# Tools that load user code or hide their imports (tests 44, 48-51).
check="$check python3-coverage mypy flake8 python3-jedi python3-django pylint"
# Real packages on every CPython (57), the REPL in a terminal (58).
check="$check python3-jinja2 python3-yaml python3-pygments python3-attr tmux"
case "${1:-build}" in
    build) want=$build ;;
    check) want=$check ;;
    *) echo "usage: $0 build|check" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "kiln: installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
else
    echo "kiln: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get install$missing" >&2
    exit 1
fi
