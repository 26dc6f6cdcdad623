//! Loading the kernel's binary policy (`Policy::from_path`), beside
//! setools' `seinfo` on the same file in the same run.
//!
//! The policy: `$SELINUX_MCS_BENCH_POLICY` if set, else Debian's
//! `/etc/selinux/default/policy/policy.33` (selinux-policy-default); without
//! either the bench says so and measures nothing.
//!
//! ```text
//! cargo bench -p selinux-mcs --bench policydb
//! ```
//!
//! Printed beside criterion's figures:
//! - `seinfo POLICY` (setools 4, which loads the file through libsepol and
//!   prints its statistics) as a process, wall time, the median of 5 runs;
//!   and `python3 -c 'import setools'` alone, the interpreter's share;
//! - memory, from a counting allocator around one load: the peak of live
//!   heap bytes during `from_bytes` and `from_path` (which holds the file's
//!   bytes too), and the bytes the loaded `Policy` keeps, each as a
//!   multiple of the file's size (the issue asks for under 3x).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selinux_mcs::policydb::Policy;

/// Counts live heap bytes and their peak while `ON` is set (one relaxed
/// load per call otherwise, so the timed loads pay next to nothing).
struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` holds for `System`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from `alloc`/`realloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` holds for `System`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` with counting on from zero: (its result, peak live bytes).
/// Frees inside `f` of blocks allocated before are not seen (`f` here only
/// frees what it allocated).
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
    let out = f();
    ON.store(false, Ordering::Relaxed);
    (out, PEAK.load(Ordering::Relaxed))
}

fn policy_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SELINUX_MCS_BENCH_POLICY") {
        return Some(PathBuf::from(p));
    }
    let debian = Path::new("/etc/selinux/default/policy/policy.33");
    debian.exists().then(|| debian.to_owned())
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The median wall time of `runs` runs of a command, if it runs and succeeds.
fn median_wall(cmd: &[&str], runs: usize) -> Option<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(cmd[0]).args(&cmd[1..]).output().ok()?;
        if !out.status.success() {
            eprintln!(
                "policydb bench: {} failed: {}",
                cmd.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        times.push(start.elapsed());
    }
    times.sort();
    times.get(runs / 2).copied()
}

fn memory(path: &Path, size: usize) {
    let bytes = std::fs::read(path).expect("read the policy");
    let (policy, peak) = counted(|| Policy::from_bytes(&bytes).expect("load"));
    // Counted from zero, so what is still live is what the Policy keeps.
    let retained = LIVE.load(Ordering::Relaxed);
    drop(policy);
    drop(bytes);
    let (policy, peak_path) = counted(|| Policy::from_path(path).expect("load"));
    drop(policy);
    println!(
        "policydb memory: file {:.2} MiB; from_bytes peak {:.2} MiB ({:.2}x the file), \
         from_path peak (the file's bytes included) {:.2} MiB ({:.2}x), \
         the loaded Policy keeps {:.2} MiB ({:.2}x)",
        mib(size),
        mib(peak),
        peak as f64 / size as f64,
        mib(peak_path),
        peak_path as f64 / size as f64,
        mib(retained),
        retained as f64 / size as f64,
    );
}

fn seinfo(path: &Path) {
    let p = path.to_string_lossy();
    match median_wall(&["seinfo", &p], 5) {
        Some(t) => {
            let python = median_wall(&["/usr/bin/python3", "-c", "import setools"], 5);
            println!(
                "policydb reference: `seinfo {p}` {:.1} ms wall (median of 5; \
                 `python3 -c 'import setools'` alone: {})",
                t.as_secs_f64() * 1e3,
                python.map_or("n/a".to_owned(), |d| format!(
                    "{:.1} ms",
                    d.as_secs_f64() * 1e3
                ))
            );
        }
        None => println!("policydb reference: seinfo is not installed (apt install setools)"),
    }
}

fn bench(c: &mut Criterion) {
    let Some(path) = policy_path() else {
        println!(
            "policydb bench: skipped: no /etc/selinux/default/policy/policy.33 \
             (apt install selinux-policy-default) and no $SELINUX_MCS_BENCH_POLICY"
        );
        return;
    };
    let bytes = std::fs::read(&path).expect("read the policy");
    let size = bytes.len();
    println!("policydb bench: {} ({:.2} MiB)", path.display(), mib(size));
    memory(&path, size);
    seinfo(&path);
    let mut g = c.benchmark_group("policydb");
    g.throughput(Throughput::Bytes(size as u64));
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("from_bytes", |b| {
        b.iter(|| Policy::from_bytes(black_box(&bytes)).expect("load"))
    });
    g.bench_function("from_path", |b| {
        b.iter(|| Policy::from_path(black_box(&path)).expect("load"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
