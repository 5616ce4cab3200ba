#!/bin/sh
# optimized-python.sh DIR - builds CPython 3.11 with PGO and LTO from the
# source of Debian's python3.11 package, as a static libpython for the kiln
# launcher (make optimized). Debian's own static libpython3.11.a is built
# without PGO and LTO, unlike /usr/bin/python3.11; see docs/performance.md.
# The stdlib and lib-dynload still come from Debian's python3.11: same
# version, same ABI. Takes about 20 minutes on two quiet cores.
set -eu
DIR=${1:?usage: optimized-python.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
version=$(dpkg-query -W -f='${Version}' libpython3.11-dev | sed 's/-.*//')
src=$DIR/Python-$version
if [ ! -f "$src/configure" ]; then
    # Debian's source of python3.11, through a private deb-src list, so the
    # machine's apt configuration stays as it is.
    apt_dir=$DIR/apt
    mkdir -p "$apt_dir/lists/partial"
    echo "deb-src http://deb.debian.org/debian bookworm main" >"$apt_dir/sources.list"
    echo "deb-src http://deb.debian.org/debian-security bookworm-security main" >>"$apt_dir/sources.list"
    opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$apt_dir/lists"
    # shellcheck disable=SC2086
    apt-get $opts update -qq
    # shellcheck disable=SC2086
    uri=$(apt-get $opts source --print-uris -qq python3.11 | tr -d "'" |
          awk '/orig\.tar/ {print $1; exit}')
    [ -n "$uri" ] || { echo "optimized-python: no source for python3.11" >&2; exit 1; }
    echo "optimized-python: fetching $uri"
    command -v curl >/dev/null || { echo "optimized-python: needs curl" >&2; exit 1; }
    (cd "$DIR" && curl -fsSLO "$uri")
    tar -C "$DIR" -xzf "$DIR/$(basename "$uri")"
fi
cd "$src"
# Debian's list of modules built into libpython (zlib, _socket, math, ...).
cp /usr/lib/python3.11/config-3.11-x86_64-linux-gnu/Setup.local Modules/Setup.local
if [ ! -f libpython3.11.a ] || [ ! -f .kiln-optimized ]; then
    ./configure --prefix=/usr --enable-optimizations --with-lto \
        --with-computed-gotos --without-ensurepip --with-system-expat \
        --enable-ipv6 >"$DIR/configure.log"
    make -j"$(nproc)" >"$DIR/make.log" 2>&1 ||
        { tail -30 "$DIR/make.log" >&2; exit 1; }
    touch .kiln-optimized
fi
ln -sfn "$src" "$DIR/current"
echo "optimized-python: $DIR/current/libpython3.11.a"
