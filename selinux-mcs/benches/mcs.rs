//! MCS pair allocation: in memory and in the SQLite registry.
//!
//! ```text
//! cargo bench -p selinux-mcs --bench mcs
//! ```
//!
//! - `inmem/whole_default_space`: a fresh `Allocator` over c0..c1023 hands
//!   out all 523,775 pairs (target: under 0.5 s in all).
//! - `inmem/allocate_release_at_99.9%`: one allocate + release with 99.9% of
//!   the pool taken.
//! - `registry/allocate_for`: one durable allocation per transaction
//!   (WAL, synchronous=FULL, one fsync each), one process; the database is
//!   in a temporary directory under `$MCS_BENCH_DIR` (default: the target
//!   directory, which is on disk, unlike a tmpfs /tmp).
//! - `registry/allocate_anonymous_x100`: 100 allocations per transaction.
//! - After criterion: the same durable allocations from 1 and 4 processes at
//!   once (this binary re-run as workers), as allocations per second of wall
//!   time over all processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use selinux_mcs::mcs::{Allocator, PairSpace, Registry};

fn bench_dir() -> PathBuf {
    std::env::var_os("MCS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn tempdir() -> tempfile::TempDir {
    let base = bench_dir();
    std::fs::create_dir_all(&base).expect("bench dir");
    tempfile::tempdir_in(base).expect("tempdir")
}

fn inmem(c: &mut Criterion) {
    let mut g = c.benchmark_group("inmem");
    g.sample_size(10);
    g.throughput(Throughput::Elements(523_775));
    g.bench_function("whole_default_space", |b| {
        b.iter(|| {
            let mut alloc = Allocator::new(PairSpace::default());
            for _ in 0..523_775 {
                std::hint::black_box(alloc.allocate().expect("free"));
            }
            assert!(alloc.allocate().is_err());
        })
    });
    let mut alloc = Allocator::new(PairSpace::default());
    let keep_free = 524; // 0.1% of the pool
    for _ in 0..523_775 - keep_free {
        alloc.allocate().expect("free");
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("allocate_release_at_99.9%", |b| {
        b.iter(|| {
            let pair = alloc.allocate().expect("free");
            alloc.release(&pair.level()).expect("pair");
        })
    });
    g.finish();
}

fn registry(c: &mut Criterion) {
    let mut g = c.benchmark_group("registry");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));
    let dir = tempdir();
    let reg = Registry::open(dir.path().join("one.db")).expect("open");
    let mut n = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("allocate_for", |b| {
        b.iter(|| {
            n += 1;
            reg.allocate_for(&format!("bench-{n}")).expect("allocate")
        })
    });
    let reg = Registry::open(dir.path().join("batch.db")).expect("open");
    let mut held = 0usize;
    g.throughput(Throughput::Elements(100));
    g.bench_with_input(
        BenchmarkId::new("allocate_anonymous", 100),
        &100,
        |b, &k| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    if held + k > 400_000 {
                        // Keep the pool from running out over long runs
                        // (not timed).
                        for e in reg.list().expect("list") {
                            reg.release_owner(&e.owner).expect("release");
                        }
                        held = 0;
                    }
                    let start = Instant::now();
                    reg.allocate_anonymous(k).expect("allocate");
                    spent += start.elapsed();
                    held += k;
                }
                spent
            })
        },
    );
    g.finish();
}

criterion_group!(benches, inmem, registry);

/// Worker mode: `MCS_BENCH_WORKER=DB,PREFIX,COUNT`. Allocates COUNT pairs,
/// one transaction each, and prints `START_NS END_NS` of the loop.
fn worker(spec: &str) {
    let mut parts = spec.splitn(3, ',');
    let (Some(db), Some(prefix), Some(count)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("bad MCS_BENCH_WORKER {spec:?}");
    };
    let count: u64 = count.parse().expect("count");
    let reg = Registry::open(db).expect("open");
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    };
    let start = now();
    for i in 0..count {
        reg.allocate_for(&format!("{prefix}-{i}"))
            .expect("allocate");
    }
    println!("{start} {}", now());
}

/// Runs `procs` workers of `each` allocations on one database; returns
/// allocations per second over the union of their loops.
fn processes(db: &Path, procs: usize, each: u64, tag: &str) -> f64 {
    let exe = std::env::current_exe().expect("current exe");
    let children: Vec<_> = (0..procs)
        .map(|i| {
            Command::new(&exe)
                .env(
                    "MCS_BENCH_WORKER",
                    format!("{},{tag}{i},{each}", db.display()),
                )
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    let (mut first, mut last) = (u128::MAX, 0u128);
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "worker failed");
        let text = String::from_utf8(out.stdout).expect("utf8");
        let mut it = text
            .split_whitespace()
            .map(|t| t.parse::<u128>().expect("ns"));
        let (Some(s), Some(e)) = (it.next(), it.next()) else {
            panic!("worker printed {text:?}");
        };
        first = first.min(s);
        last = last.max(e);
    }
    (procs as u64 * each) as f64 / ((last - first) as f64 / 1e9)
}

fn main() {
    if let Ok(spec) = std::env::var("MCS_BENCH_WORKER") {
        worker(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();

    // Skip the process runs when criterion was asked for a subset.
    let filtered = std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"processes".contains(a.as_str()));
    if filtered {
        return;
    }
    let each = 4000;
    for procs in [1usize, 4] {
        let dir = tempdir();
        let db = dir.path().join("procs.db");
        drop(Registry::open(&db).expect("create"));
        let mut rates: Vec<f64> = (0..3)
            .map(|round| processes(&db, procs, each, &format!("r{round}p")))
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "registry/processes/{procs}: {} durable allocations per run, \
             median {:.0} allocations/s over all processes (runs: {})",
            procs as u64 * each,
            rates[1],
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
