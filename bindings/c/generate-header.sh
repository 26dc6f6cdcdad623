#!/usr/bin/env bash
# Generates include/selinux_mcs.h from the crate's sources with cbindgen
# (`cargo install cbindgen --locked`). The header is committed; with
# --check, regenerate into a temporary file and fail if the committed one
# differs (CI).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
header="$here/include/selinux_mcs.h"

if ! command -v cbindgen >/dev/null 2>&1; then
    echo "generate-header.sh: cbindgen not found; install it with: cargo install cbindgen --locked" >&2
    exit 2
fi

generate() {
    # Quiet: cbindgen warns about items it skips on purpose (crate-private ones).
    (cd "$here" && cbindgen --quiet --config cbindgen.toml --crate selinux-mcs-c --output "$1" .)
}

case "${1:-}" in
    "")
        generate "$header"
        echo "wrote $header"
        ;;
    --check)
        tmp="$(mktemp)"
        trap 'rm -f "$tmp"' EXIT
        generate "$tmp"
        if ! diff -u "$header" "$tmp"; then
            echo "generate-header.sh: $header is stale: run bindings/c/generate-header.sh and commit it" >&2
            exit 1
        fi
        echo "$header is up to date"
        ;;
    *)
        echo "usage: generate-header.sh [--check]" >&2
        exit 2
        ;;
esac
