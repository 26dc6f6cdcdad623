#!/usr/bin/env python3
"""Parse 100,000 contexts from Python: selinux_mcs against libselinux's
Python bindings (python3-selinux, ``selinux.context_new``), in one run.

The corpus is the Rust benchmarks' (selinux-mcs/benches/common/corpus.rs):
the same generator and seed, contexts as a host holds them. Each round
times both on the whole corpus back to back, alternating which goes
first. Times are the fastest round of each (other work on the machine
only ever adds time); the speedup is the median over the rounds of each
round's ratio, so that load that comes and goes weighs on both sides
alike.

Workloads, each a Python loop over the corpus:
  parse         selinux_mcs: Context(text)
                libselinux:  context_new(text), then context_free
  parse+print   selinux_mcs: str(Context(text)) (the kernel's canonical form)
                libselinux:  context_str(context_new(text)), then context_free
                (libselinux only splits at colons and prints the text back)
  parse+fields  selinux_mcs: ctx = Context(text); ctx.type; ctx.range
                libselinux:  context_new, context_type_get, context_range_get,
                             context_free

Run with an interpreter that imports both (see README.md):
  python3 bindings/python/bench/parse_bench.py [--count 100000] [--rounds 11]
  [--min-speedup X]  exits 1 when the parse speedup is below X
"""

import argparse
import statistics
import sys
import time

NAMES = [
    "system_u:object_r:container_file_t",
    "system_u:system_r:container_t",
    "system_u:system_r:svirt_lxc_net_t",
    "unconfined_u:unconfined_r:unconfined_t",
    "system_u:object_r:container_ro_file_t",
    "system_u:system_r:spc_t",
]
MASK = (1 << 64) - 1


class Lcg:
    """The Rust corpus's generator (same constants, same seed)."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self) -> int:
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return self.state >> 33

    def below(self, n: int) -> int:
        return self.next() % n


def corpus(n: int, canonical: bool = True):
    from selinux_mcs import Level

    rng = Lcg(0x05E110C5)
    out = []

    def pair():
        a = rng.below(1023)
        return a, a + 1 + rng.below(1023 - a)

    for _ in range(n):
        names = NAMES[rng.below(len(NAMES))]
        k = rng.below(6)
        if k == 0:
            mls = "s0"
        elif k == 1:
            a, b = pair()
            mls = f"s0:c{a},c{b}"
        elif k == 2:
            mls = "s0-s0:c0.c1023"
        elif k == 3:
            a, b = pair()
            mls = f"s0:c{a}.c{b}"
        elif k == 4:
            count = 3 + rng.below(10)
            cats = [f"c{rng.below(1024)}" for _ in range(count)]
            written = "s0:" + ",".join(cats)
            # As the kernel prints it (sorted runs): what xattrs and /proc hold.
            mls = str(Level(written)) if canonical else written
        else:
            a, b = pair()
            mls = f"s0-s0:c{a},c{b}"
        out.append(f"{names}:{mls}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--unsorted", action="store_true", help="category lists in random order (not canonical)")
    parser.add_argument("--min-speedup", type=float, default=None)
    args = parser.parse_args()

    import selinux_mcs
    from selinux_mcs import Context

    try:
        import selinux
    except ImportError:
        print(
            "libselinux's Python bindings are not importable here (Debian: python3-selinux, for "
            "/usr/bin/python3; run this with a venv made with --system-site-packages)",
            file=sys.stderr,
        )
        return 2

    texts = corpus(args.count, canonical=not args.unsorted)
    new, to_str, free = selinux.context_new, selinux.context_str, selinux.context_free
    type_get, range_get = selinux.context_type_get, selinux.context_range_get

    # Both accept the whole corpus and agree on the fields (libselinux prints
    # the text back as it was; ours prints the canonical form, which parses
    # to the same value).
    for t in texts:
        c = new(t)
        ctx = Context(t)
        assert c is not None and to_str(c) == t, t
        assert type_get(c) == ctx.type and Context(str(ctx)) == ctx, t
        assert Context(f"u:r:t:{range_get(c)}").range == ctx.range, t
        free(c)

    def ours_parse():
        for t in texts:
            Context(t)

    def theirs_parse():
        for t in texts:
            free(new(t))

    def ours_print():
        for t in texts:
            str(Context(t))

    def theirs_print():
        for t in texts:
            c = new(t)
            to_str(c)
            free(c)

    def ours_fields():
        for t in texts:
            c = Context(t)
            c.type
            c.range

    def theirs_fields():
        for t in texts:
            c = new(t)
            type_get(c)
            range_get(c)
            free(c)

    workloads = {
        "parse": (ours_parse, theirs_parse),
        "parse+print": (ours_print, theirs_print),
        "parse+fields": (ours_fields, theirs_fields),
    }
    times = {(w, who): [] for w in workloads for who in ("ours", "theirs")}
    for r in range(args.rounds):
        for w, (ours, theirs) in workloads.items():
            pairs = [("ours", ours), ("theirs", theirs)]
            if r % 2:
                pairs.reverse()
            for who, fn in pairs:
                start = time.perf_counter()
                fn()
                times[(w, who)].append(time.perf_counter() - start)

    print(
        f"{args.count:,} contexts ({'random category order' if args.unsorted else 'canonical'}), "
        f"{args.rounds} rounds; Python {sys.version.split()[0]}; "
        f"selinux_mcs from {selinux_mcs.__file__.rsplit('/', 2)[0]}"
    )
    print(f"{'workload':<13} {'selinux_mcs (fastest)':>22} {'libselinux (fastest)':>22} {'speedup (median)':>17}")
    speedups = {}
    for w in workloads:
        ours, theirs = times[(w, "ours")], times[(w, "theirs")]
        speedups[w] = statistics.median(b / a for a, b in zip(ours, theirs))
        per = lambda s: f"{s * 1e3:7.1f} ms {s / args.count * 1e9:5.0f} ns"  # noqa: E731
        print(f"{w:<13} {per(min(ours)):>22} {per(min(theirs)):>22} {speedups[w]:16.2f}x")
    if args.min_speedup is not None and speedups["parse"] < args.min_speedup:
        print(f"the parse speedup is below --min-speedup {args.min_speedup}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
