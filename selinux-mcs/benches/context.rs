//! Parse and canonical print of 100,000 realistic contexts.
//!
//! `cargo bench -p selinux-mcs --bench context`
//!
//! The corpus mixes what container hosts hold: `s0`, private pairs
//! `s0:cA,cB`, `s0-s0:c0.c1023`, category ranges `s0:cA.cB`, lists of 3 to 12
//! categories, and ranges `s0-s0:cA,cB`. Figures are per corpus; divide by
//! 100,000 for per-context time (criterion prints throughput in elements/s).
//!
//! Two corpora: `context_100k` as a host holds them (the kernel prints
//! canonical text, so xattrs and /proc hold canonical text), and
//! `context_100k_unsorted_lists`, where the lists are written in random
//! order, so a sixth of the contexts must be re-printed canonically.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selinux_mcs::SecurityContext;

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

fn bench(c: &mut Criterion) {
    bench_corpus(c, "context_100k", &corpus(100_000, true));
    bench_corpus(c, "context_100k_unsorted_lists", &corpus(100_000, false));
}

fn bench_corpus(c: &mut Criterion, name: &str, corpus: &[String]) {
    let parsed: Vec<SecurityContext> = corpus
        .iter()
        .map(|s| s.parse().expect("corpus is valid"))
        .collect();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.sample_size(20);
    group.bench_function("parse", |b| {
        b.iter(|| {
            for s in corpus {
                black_box(s.parse::<SecurityContext>().expect("valid"));
            }
        })
    });
    let mut buf = String::with_capacity(256);
    group.bench_function("print", |b| {
        b.iter(|| {
            for ctx in &parsed {
                buf.clear();
                ctx.write_to(&mut buf).expect("writes to a String");
                black_box(&buf);
            }
        })
    });
    group.bench_function("parse_and_print", |b| {
        b.iter(|| {
            for s in corpus {
                black_box(parse_and_print(s, &mut buf));
            }
        })
    });
    // The range's category sets are built on first use when the parse did
    // not need them: this is parse and print plus that first use.
    group.bench_function("parse_print_and_range", |b| {
        b.iter(|| {
            for s in corpus {
                let ctx = parse_and_print(s, &mut buf);
                black_box(ctx.range());
            }
        })
    });
    group.bench_function("parse_and_to_string", |b| {
        b.iter(|| {
            for s in corpus {
                let ctx: SecurityContext = s.parse().expect("valid");
                black_box(ctx.to_string());
            }
        })
    });
    group.finish();
    // Keep `write!` in use for the String import above.
    let _ = write!(buf, "");
}

/// Parses `s` and prints it into `buf`; returns the context.
#[inline(always)]
fn parse_and_print(s: &str, buf: &mut String) -> SecurityContext {
    let ctx: SecurityContext = s.parse().expect("valid");
    buf.clear();
    ctx.write_to(buf).expect("writes to a String");
    black_box(&*buf);
    ctx
}

criterion_group!(benches, bench);
criterion_main!(benches);
