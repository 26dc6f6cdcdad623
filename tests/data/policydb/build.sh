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
# The same policy with 24 sensitivities (generated from mls.conf).
python3 - <<'PY'
s = open("mls.conf").read()
s = s.replace("sensitivity s15;\n", "sensitivity s15;\n" + "".join(f"sensitivity s{i};\n" for i in range(16, 24)))
s = s.replace("s13 s14 s15 }", "s13 s14 s15 " + " ".join(f"s{i}" for i in range(16, 24)) + " }")
s = s.replace("level s15:c0.c31;\n", "level s15:c0.c31;\n" + "".join(f"level s{i}:c0.c31;\n" for i in range(16, 24)))
s = s.replace("range s0 - s15:c0.c31;", "range s0 - s23:c0.c31;")
open("/tmp/mls24.conf", "w").write(s)
PY
checkpolicy -M -c 33 -o mls24.33 /tmp/mls24.conf >/dev/null
