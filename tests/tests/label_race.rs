//! A directory swapped for a symlink during the walk must not lead the walk,
//! or any write, outside the tree.

mod label_support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use label_support::{ctx, label_of, protection, xattrs_work};
use selinux_mcs::label::{Relabel, Target};

const SENTINEL: &str = "system_u:object_r:sentinel_t:s0";

/// The sentinel mirrors the names inside the tree, so that a walker that
/// resolved paths again (instead of using directory fds) would hit its files.
fn sentinel_entries(sentinel: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = ["", "inner", "inner/more"]
        .iter()
        .map(|p| sentinel.join(p))
        .collect();
    for i in 0..20 {
        for dir in ["", "inner/", "inner/more/"] {
            v.push(sentinel.join(format!("{dir}file{i}")));
        }
    }
    v
}

#[test]
fn swapping_a_directory_for_a_symlink_never_reaches_the_sentinel() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("tree");
    let sentinel = tmp.path().join("sentinel");
    std::fs::create_dir_all(sentinel.join("inner/more")).unwrap();
    for e in sentinel_entries(&sentinel) {
        if !e.exists() {
            std::fs::write(&e, "secret").unwrap();
        }
    }
    for e in sentinel_entries(&sentinel) {
        selinux_mcs::label::set(&e, &ctx(SENTINEL)).unwrap();
    }
    // tree/d is a real directory with a few levels; tree/x is a symlink to
    // the sentinel; a thread keeps exchanging the two names atomically.
    // tree/d/inner and tree/d/y are swapped the same way one level down.
    std::fs::create_dir_all(root.join("d/inner/more")).unwrap();
    for i in 0..20 {
        std::fs::write(root.join(format!("d/file{i}")), "x").unwrap();
        std::fs::write(root.join(format!("d/inner/file{i}")), "x").unwrap();
        std::fs::write(root.join(format!("d/inner/more/file{i}")), "x").unwrap();
    }
    std::os::unix::fs::symlink(&sentinel, root.join("x")).unwrap();
    std::os::unix::fs::symlink(sentinel.join("inner"), root.join("d/y")).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    // The swappers work relative to directory fds, so that they themselves
    // never resolve a path through the symlink (which could move the
    // sentinel's own entries into the tree).
    let swapper = |dir: std::fs::File, a: &'static str, b: &'static str| {
        let stop = Arc::clone(&stop);
        let swaps = Arc::clone(&swaps);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if rustix::fs::renameat_with(&dir, a, &dir, b, rustix::fs::RenameFlags::EXCHANGE)
                    .is_ok()
                {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let top = swapper(std::fs::File::open(&root).unwrap(), "d", "x");
    let inner = swapper(std::fs::File::open(root.join("d")).unwrap(), "inner", "y");

    let targets = [
        ctx("system_u:object_r:container_file_t:s0:c1,c2"),
        ctx("system_u:object_r:container_file_t:s0:c3,c4"),
    ];
    let mut changed = 0;
    for round in 0..300 {
        let report = Relabel::new(Target::Context(targets[round % 2].clone()))
            .protection(protection())
            .threads(1 + round % 3)
            .proc_fd_fallback(round % 4 == 3)
            .run(&root)
            .unwrap();
        changed += report.changed;
        assert!(
            report.failures.is_empty(),
            "round {round}: {:?}",
            report.failures
        );
    }
    stop.store(true, Ordering::Relaxed);
    top.join().unwrap();
    inner.join().unwrap();

    assert!(swaps.load(Ordering::Relaxed) > 100, "the swapper ran");
    assert!(changed > 0);
    for e in sentinel_entries(&sentinel) {
        assert_eq!(label_of(&e).as_deref(), Some(SENTINEL), "{}", e.display());
    }
}
