#!/usr/bin/env bash
# Builds libselinux_mcs (cargo build -p selinux-mcs-c), checks the header
# compiles on its own with -Wall -Wextra -Werror -std=c11, compiles the C
# tests (tests/*.c) against the shared and the static library and the
# example (examples/*.c) through pkg-config, runs them all, then runs the
# tests again under valgrind: any leak (definite, indirect) or invalid
# access fails.
#
# usage: run-tests.sh [--valgrind | --no-valgrind]
#   default        valgrind and the pkg-config example when the tools are
#                  installed (a warning when they are not)
#   --valgrind     CI: valgrind and pkg-config are required
#   --no-valgrind  skip the valgrind pass
#
# A test that exits 77 was skipped (test_label without xattrs); with
# SELINUX_MCS_REQUIRE_XATTR=1 it fails instead. Labels are only written in
# mkdtemp() directories under /tmp.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

valgrind=auto
strict=no
case "${1:-}" in
    "") ;;
    --valgrind) valgrind=yes; strict=yes ;;
    --no-valgrind) valgrind=no ;;
    *) echo "usage: run-tests.sh [--valgrind | --no-valgrind]" >&2; exit 2 ;;
esac
if [ "$valgrind" = auto ]; then
    if command -v valgrind >/dev/null 2>&1; then
        valgrind=yes
    else
        echo "run-tests.sh: valgrind is not installed: skipping the valgrind pass" >&2
        valgrind=no
    fi
fi
if [ "$valgrind" = yes ] && ! command -v valgrind >/dev/null 2>&1; then
    echo "run-tests.sh: valgrind is not installed" >&2
    exit 1
fi
if [ -z "${CC:-}" ]; then
    if command -v gcc >/dev/null 2>&1; then CC=gcc; else CC=cc; fi
fi
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -pthread)

cd "$root"
echo "== cargo build -p selinux-mcs-c"
cargo build -p selinux-mcs-c
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
lib="$target/debug"
out="$target/c-tests"
rm -rf "$out"
mkdir -p "$out"

echo "== header: $CC ${CFLAGS[*]}"
printf '#include "selinux_mcs.h"\nint main(void) { return selinux_mcs_version() == 0; }\n' > "$out/header.c"
"$CC" "${CFLAGS[@]}" -I "$here/include" "$out/header.c" -o "$out/header" -L "$lib" -Wl,-rpath,"$lib" -lselinux_mcs
if command -v g++ >/dev/null 2>&1; then
    g++ -std=c++11 -Wall -Wextra -Werror -pedantic -x c++ -I "$here/include" -c "$out/header.c" -o "$out/header-cxx.o"
fi

# Every function the header declares is called by a test.
missing=()
for fn in $(grep -o '^[a-z][a-z0-9_ *]* \**selinux_mcs_[a-z0-9_]*(' "$here/include/selinux_mcs.h" | grep -o 'selinux_mcs_[a-z0-9_]*'); do
    grep -q "\b$fn(" "$here"/tests/*.c || missing+=("$fn")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "run-tests.sh: no C test calls: ${missing[*]}" >&2
    exit 1
fi

# The libraries that libselinux_mcs.a needs, as Libs.private lists them.
static_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
# PCRE2 (file_contexts regexes): pcre2-sys links the system's libpcre2-8
# when pkg-config finds it, else its vendored copy is inside the .a.
if pkg-config --exists libpcre2-8 2>/dev/null; then
    static_libs=($(pkg-config --libs libpcre2-8) "${static_libs[@]}")
fi

tests=()
for src in "$here"/tests/*.c; do
    name="$(basename "$src" .c)"
    echo "== compile $name (shared and static)"
    "$CC" "${CFLAGS[@]}" -I "$here/include" "$src" -o "$out/$name" \
        -L "$lib" -Wl,-rpath,"$lib" -lselinux_mcs
    "$CC" "${CFLAGS[@]}" -I "$here/include" "$src" -o "$out/$name-static" \
        "$lib/libselinux_mcs.a" "${static_libs[@]}"
    tests+=("$name")
done

# The examples build the way the README says: through pkg-config, against
# an installed copy.
examples=()
if command -v pkg-config >/dev/null 2>&1; then
    "$here/install.sh" --debug "$out/prefix" >/dev/null
    export PKG_CONFIG_PATH="$out/prefix/lib/pkgconfig"
    pkg_flags=($(pkg-config --cflags --libs selinux-mcs))
    for src in "$here"/examples/*.c; do
        name="$(basename "$src" .c)"
        echo "== compile example $name: $CC ... \$(pkg-config --cflags --libs selinux-mcs)"
        "$CC" "${CFLAGS[@]}" "$src" -o "$out/$name" "${pkg_flags[@]}" -Wl,-rpath,"$out/prefix/lib"
        examples+=("$name")
    done
elif [ "$strict" = yes ]; then
    echo "run-tests.sh: pkg-config is not installed" >&2
    exit 1
else
    echo "run-tests.sh: pkg-config is not installed: skipping the examples" >&2
fi

# Runs one program; 77 is a skip.
run() {
    local rc=0
    "$@" || rc=$?
    if [ "$rc" -eq 77 ]; then
        echo "   (skipped)"
    elif [ "$rc" -ne 0 ]; then
        echo "run-tests.sh: FAILED ($rc): $*" >&2
        exit 1
    fi
}

for name in "${tests[@]}"; do
    echo "== run $name"
    run "$out/$name"
    echo "== run $name-static"
    run "$out/$name-static"
done
for name in "${examples[@]}"; do
    echo "== run example $name"
    run "$out/$name"
done

if [ "$valgrind" = yes ]; then
    for name in "${tests[@]}" "${examples[@]}"; do
        echo "== valgrind $name"
        run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect --error-exitcode=1 "$out/$name"
    done
fi
echo "== C tests passed"
