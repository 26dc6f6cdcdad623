//! Unit tests of the relabel walker.

use super::engine::{same_bytes, BATCH_DIRS, BATCH_ENTRIES};
use super::*;
use std::sync::Mutex;

fn xattrs_work(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    std::fs::write(&probe, "").unwrap();
    let ok = match super::super::set(&probe, &DEFAULT_FILE_CONTEXT.parse().unwrap()) {
        Ok(()) => true,
        Err(e) if std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1") => {
            panic!("security.selinux xattrs are required: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    };
    std::fs::remove_file(&probe).unwrap();
    ok
}

fn relabel(target: Target) -> Relabel {
    let mut r = Relabel::new(target);
    r.protection(Protection::with_homes(Vec::<PathBuf>::new()));
    r
}

#[test]
fn same_bytes_ignores_one_trailing_nul() {
    assert!(same_bytes(b"u:r:t:s0\0", b"u:r:t:s0\0"));
    assert!(same_bytes(b"u:r:t:s0", b"u:r:t:s0\0"));
    assert!(!same_bytes(b"u:r:t:s0:c1", b"u:r:t:s0\0"));
    assert!(!same_bytes(b"", b"u:r:t:s0\0"));
}

#[test]
fn the_queue_stays_small_in_a_wide_directory() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("wide");
    for i in 0..2000 {
        std::fs::create_dir_all(root.join(format!("d{i}"))).unwrap();
    }
    let (report, peak) = relabel(Target::Shared)
        .threads(1)
        .dry_run(true)
        .run_counting(&root)
        .unwrap();
    assert_eq!(report.visited, 2001);
    // At most one getdents buffer of subdirectories (and the directory
    // set aside) at a time, not all 2000.
    assert!(peak <= DENTS / 24 + 1, "peak queue {peak}");
}

/// Entries are labeled in batches across directories: a tree with more
/// directories than a batch holds, and a directory with more entries
/// than a batch holds, are labeled whole, on one thread and on several.
#[test]
fn batches_across_directories_label_everything() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("tree");
    for d in 0..(BATCH_DIRS * 3) {
        let dir = root.join(format!("d{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..3 {
            std::fs::write(dir.join(format!("f{f}")), "").unwrap();
        }
    }
    let wide = root.join("wide");
    std::fs::create_dir_all(&wide).unwrap();
    for f in 0..(BATCH_ENTRIES + 500) {
        std::fs::write(wide.join(format!("f{f}")), "").unwrap();
    }
    let total = 1 + BATCH_DIRS * 3 * 4 + 1 + BATCH_ENTRIES + 500;
    for (threads, level) in [(1, "s0:c1,c2"), (3, "s0:c3,c4")] {
        let level: crate::mls::Level = level.parse().unwrap();
        let report = relabel(Target::Private(level))
            .threads(threads)
            .run(&root)
            .unwrap();
        assert_eq!(report.failed, 0, "{:?}", report.failures);
        assert_eq!(report.visited as usize, total);
        assert_eq!(report.changed as usize, total);
        let again = relabel(Target::Private(level))
            .threads(threads)
            .run(&root)
            .unwrap();
        assert_eq!((again.changed, again.unchanged as usize), (0, total));
        let last = wide.join(format!("f{}", BATCH_ENTRIES + 499));
        let label = super::super::get(&last).unwrap();
        assert_eq!(label.level(), Some(&level));
    }
}

#[test]
fn equivalent_spellings_and_long_labels() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("t");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("f"), "").unwrap();
    // Stored without the NUL and in a non-canonical order: the same
    // context, so nothing is written.
    for p in [root.join("f"), root.clone()] {
        rustix::fs::lsetxattr(
            &p,
            "security.selinux",
            b"system_u:object_r:container_file_t:s0:c5,c2",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
    }
    let report = relabel(Target::Private("s0:c2,c5".parse().unwrap()))
        .run(&root)
        .unwrap();
    assert_eq!((report.changed, report.unchanged), (0, 2));

    // A label longer than the inline buffer is read whole.
    let long_type = "t".repeat(400);
    let long: SecurityContext = format!("u:r:{long_type}:s0").parse().unwrap();
    super::super::set(root.join("f"), &long).unwrap();
    let report = relabel(Target::Context(long.clone())).run(&root).unwrap();
    assert_eq!((report.changed, report.unchanged), (1, 1));
    assert_eq!(super::super::get(root.join("f")).unwrap(), long);
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    relabel(Target::Custom(Arc::new(move |p, _, cur| {
        if p.ends_with("f") {
            *s.lock().unwrap() = cur.cloned();
        }
        Ok(None)
    })))
    .run(&root)
    .unwrap();
    assert_eq!(seen.lock().unwrap().as_ref(), Some(&long));
}

#[test]
fn a_symlink_root_is_followed_unless_told_not_to() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::write(real.join("f"), "").unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let mut spelled = link.clone().into_os_string();
    spelled.push("/");
    // Not dereferenced: the link itself, even spelled `link/`.
    for p in [link.as_os_str(), spelled.as_os_str()] {
        let report = relabel(Target::Shared).dereference(false).run(p).unwrap();
        assert_eq!(report.visited, 1);
        assert!(super::super::get(real.join("f")).is_err());
        assert!(super::super::get(&link).is_ok());
    }
    // Dereferenced (the default): the directory it points to, walked.
    let report = relabel(Target::Private("s0:c1,c2".parse().unwrap()))
        .run(&link)
        .unwrap();
    assert_eq!((report.visited, report.changed), (2, 2));
    let want = "system_u:object_r:container_file_t:s0:c1,c2";
    assert_eq!(super::super::get(real.join("f")).unwrap().to_string(), want);
    assert_eq!(super::super::get(&real).unwrap().to_string(), want);
    // The link keeps the label it had.
    assert_eq!(
        super::super::get(&link).unwrap().to_string(),
        "system_u:object_r:container_file_t:s0"
    );
}

#[test]
fn a_panicking_rule_does_not_hang_the_walk() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..20 {
        std::fs::create_dir_all(tmp.path().join(format!("d{i}/e"))).unwrap();
    }
    for threads in [1, 3] {
        let result = std::panic::catch_unwind(|| {
            relabel(Target::Custom(Arc::new(|p, _, _| {
                if p.ends_with("e") {
                    panic!("rule failed");
                }
                Ok(None)
            })))
            .threads(threads)
            .dry_run(true)
            .run(tmp.path())
        });
        assert!(result.is_err(), "the panic reaches the caller");
    }
}

#[test]
fn entries_that_vanish_are_not_failures() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("v");
    for i in 0..50 {
        std::fs::create_dir_all(root.join(format!("d{i}"))).unwrap();
        for j in 0..20 {
            std::fs::write(root.join(format!("d{i}/f{j}")), "").unwrap();
        }
    }
    let r2 = root.clone();
    let remover = std::thread::spawn(move || {
        for i in (0..50).rev() {
            let _ = std::fs::remove_dir_all(r2.join(format!("d{i}")));
        }
    });
    for _ in 0..20 {
        let report = relabel(Target::Shared).threads(2).run(&root).unwrap();
        assert_eq!(report.failures, vec![]);
    }
    remover.join().unwrap();
}
