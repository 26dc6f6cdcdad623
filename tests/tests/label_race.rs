//! A directory swapped for a symlink during the walk must not lead the walk,
//! or any write, outside the tree.

mod label_support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use label_support::{ctx, label_of, protection, xattrs_work};
use selinux_mcs::label::{Relabel, Target};

const SENTINEL: &str = "system_u:object_r:sentinel_t:s0";

fn sentinel_entries(sentinel: &Path) -> Vec<std::path::PathBuf> {
    ["", "f1", "f2", "sub", "sub/g", "sub/deeper", "sub/deeper/h"]
        .iter()
        .map(|p| sentinel.join(p))
        .collect()
}

#[test]
fn swapping_a_directory_for_a_symlink_never_reaches_the_sentinel() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("tree");
    let sentinel = tmp.path().join("sentinel");
    std::fs::create_dir_all(sentinel.join("sub/deeper")).unwrap();
    for f in ["f1", "f2", "sub/g", "sub/deeper/h"] {
        std::fs::write(sentinel.join(f), "secret").unwrap();
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
    std::os::unix::fs::symlink(sentinel.join("sub"), root.join("d/y")).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = |a: std::path::PathBuf, b: std::path::PathBuf| {
        let stop = Arc::clone(&stop);
        let swaps = Arc::clone(&swaps);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // d/ may be swapped away while we exchange inside it.
                if rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    &a,
                    rustix::fs::CWD,
                    &b,
                    rustix::fs::RenameFlags::EXCHANGE,
                )
                .is_ok()
                {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let top = swapper(root.join("d"), root.join("x"));
    let inner = swapper(root.join("d/inner"), root.join("d/y"));

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
