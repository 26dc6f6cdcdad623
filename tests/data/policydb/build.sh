#!/bin/sh
# Rebuilds the binary fixtures from mls.conf with checkpolicy (Debian's
# `checkpolicy` package), one per policy version the reader supports.
# The binaries are committed so that `cargo test --workspace` needs no
# system package; tests/tests/policydb_setools.rs checks them against
# setools when it is installed.
set -eu
cd "$(dirname "$0")"
for v in 30 31 32 33; do
    checkpolicy -M -c "$v" -o "mls.$v" mls.conf >/dev/null
done
