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

/// A small deterministic generator, so every run measures the same corpus.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The corpus, as text (some of it not canonical, as real input is not).
pub fn corpus(n: usize, canonical: bool) -> Vec<String> {
    const NAMES: [&str; 6] = [
        "system_u:object_r:container_file_t",
        "system_u:system_r:container_t",
        "system_u:system_r:svirt_lxc_net_t",
        "unconfined_u:unconfined_r:unconfined_t",
        "system_u:object_r:container_ro_file_t",
        "system_u:system_r:spc_t",
    ];
    let mut rng = Lcg(0x05e1_10c5);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let names = NAMES[rng.below(NAMES.len() as u64) as usize];
        let pair = |rng: &mut Lcg| {
            let a = rng.below(1023);
            let b = a + 1 + rng.below(1023 - a);
            (a, b)
        };
        let mls = match rng.below(6) {
            0 => "s0".to_owned(),
            1 => {
                let (a, b) = pair(&mut rng);
                format!("s0:c{a},c{b}")
            }
            2 => "s0-s0:c0.c1023".to_owned(),
            3 => {
                let (a, b) = pair(&mut rng);
                format!("s0:c{a}.c{b}")
            }
            4 => {
                let k = 3 + rng.below(10);
                let cats: Vec<String> = (0..k).map(|_| format!("c{}", rng.below(1024))).collect();
                let written = format!("s0:{}", cats.join(","));
                if canonical {
                    // As the kernel prints it (sorted runs): what xattrs and
                    // /proc hold.
                    let level: selinux_mcs::mls::Level = written.parse().expect("valid level");
                    level.to_string()
                } else {
                    written
                }
            }
            _ => {
                let (a, b) = pair(&mut rng);
                format!("s0-s0:c{a},c{b}")
            }
        };
        out.push(format!("{names}:{mls}"));
    }
    out
}

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
                let ctx: SecurityContext = s.parse().expect("valid");
                buf.clear();
                ctx.write_to(&mut buf).expect("writes to a String");
                black_box(&buf);
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

criterion_group!(benches, bench);
criterion_main!(benches);
