//! Loading Debian's policy takes under 3x the file's size in memory (the
//! issue's bound), counted by a global allocator around one load: the peak
//! of live heap bytes during `Policy::from_path` (the file's bytes
//! included) and the bytes the loaded `Policy` keeps. The figures are
//! printed; `cargo bench -p selinux-mcs --bench policydb` prints them too,
//! beside the load time.
//!
//! Without Debian's policy the test says so and passes, unless
//! `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1` (CI sets it).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use selinux_mcs::policydb::Policy;
use selinux_mcs_tests::system_policy::debian_policy;

/// Counts live heap bytes and their peak while `ON` is set. The test
/// harness's other threads allocate too: this file holds one test, and
/// counting is on only around the load.
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

#[test]
fn loading_debians_policy_takes_under_3x_its_size() {
    let Some(path) = debian_policy() else {
        return;
    };
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
    let policy = Policy::from_path(&path);
    ON.store(false, Ordering::Relaxed);
    let policy = policy.unwrap();
    // Counted from zero: what is live now is what the Policy keeps.
    let (peak, kept) = (
        PEAK.load(Ordering::Relaxed) as f64,
        LIVE.load(Ordering::Relaxed) as f64,
    );
    let mib = |b: f64| b / (1024.0 * 1024.0);
    eprintln!(
        "{}: {:.2} MiB; peak during from_path {:.2} MiB ({:.2}x, the file's bytes included), kept {:.2} MiB ({:.2}x)",
        path.display(),
        mib(size),
        mib(peak),
        peak / size,
        mib(kept),
        kept / size
    );
    assert!(
        peak < 3.0 * size,
        "peak {peak} bytes for a {size}-byte file"
    );
    assert!(
        kept < 3.0 * size,
        "kept {kept} bytes for a {size}-byte file"
    );
    assert!(policy.types().len() > 1000);
}
