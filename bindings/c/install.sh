#!/usr/bin/env bash
# Builds the C library and installs it under a prefix:
#   PREFIX/lib/libselinux_mcs.so, PREFIX/lib/libselinux_mcs.a,
#   PREFIX/include/selinux_mcs.h, PREFIX/lib/pkgconfig/selinux-mcs.pc
#
# usage: install.sh [--debug] [--libdir DIR] PREFIX
#   --debug       install the debug build (default: release)
#   --libdir DIR  where the libraries and pkgconfig/ go (default PREFIX/lib)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

profile=release
libdir=""
prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --libdir) libdir="$2"; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        -*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
        *) prefix="$1" ;;
    esac
    shift
done
if [ -z "$prefix" ]; then
    echo "usage: install.sh [--debug] [--libdir DIR] PREFIX" >&2
    exit 2
fi
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
libdir="${libdir:-$prefix/lib}"
includedir="$prefix/include"

cd "$root"
if [ "$profile" = release ]; then
    cargo build --release -p selinux-mcs-c
else
    cargo build -p selinux-mcs-c
fi
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
built="$target/$profile"
version="$(cargo pkgid -p selinux-mcs-c | sed 's/.*[#@]//')"

install -d "$libdir/pkgconfig" "$includedir"
install -m 0755 "$built/libselinux_mcs.so" "$libdir/"
install -m 0644 "$built/libselinux_mcs.a" "$libdir/"
install -m 0644 "$here/include/selinux_mcs.h" "$includedir/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@INCLUDEDIR@|$includedir|" \
    -e "s|@VERSION@|$version|" "$here/selinux-mcs.pc.in" > "$libdir/pkgconfig/selinux-mcs.pc"
echo "installed selinux-mcs $version ($profile) under $prefix"
