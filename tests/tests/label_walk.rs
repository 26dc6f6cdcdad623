//! The relabel walker on real xattrs in temporary directories.

mod label_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use label_support::{bind_ro, ctx, label_of, mount_fs, protection, xattrs_work};
use selinux_mcs::label::{ErrorKind, Relabel, RelabelError, Target};
use selinux_mcs::FileKind;

const SHARED: &str = "system_u:object_r:container_file_t:s0";
const OUTSIDE: &str = "system_u:object_r:outside_t:s0";

/// A tree with every kind of entry, and an outside directory its symlinks
/// point into.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

impl Fixture {
    fn new() -> Option<Fixture> {
        let tmp = tempfile::tempdir().expect("build the fixture");
        if !xattrs_work(tmp.path()) {
            return None;
        }
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        for d in ["root/a/b/c", "outside/dir"] {
            std::fs::create_dir_all(tmp.path().join(d)).expect("build the fixture");
        }
        for f in [
            "root/a/f1",
            "root/a/f2",
            "root/a/b/c/deep",
            "root/file",
            "root/hard1",
            "outside/file",
            "outside/dir/inner",
        ] {
            std::fs::write(tmp.path().join(f), f).expect("build the fixture");
        }
        std::fs::hard_link(root.join("hard1"), root.join("hard2")).expect("build the fixture");
        std::os::unix::fs::symlink("/nonexistent/target", root.join("dangling"))
            .expect("build the fixture");
        std::os::unix::fs::symlink(outside.join("file"), root.join("to_outside"))
            .expect("build the fixture");
        std::os::unix::fs::symlink(outside.join("dir"), root.join("to_dir"))
            .expect("build the fixture");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("fifo"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("build the fixture");
        for p in ["", "file", "dir", "dir/inner"] {
            selinux_mcs::label::set(outside.join(p), &ctx(OUTSIDE)).expect("build the fixture");
        }
        Some(Fixture {
            _tmp: tmp,
            root,
            outside,
        })
    }

    /// Every entry of the tree, the root first.
    fn entries(&self) -> Vec<PathBuf> {
        [
            "",
            "a",
            "a/f1",
            "a/f2",
            "a/b",
            "a/b/c",
            "a/b/c/deep",
            "file",
            "hard1",
            "hard2",
            "dangling",
            "to_outside",
            "to_dir",
            "fifo",
        ]
        .iter()
        .map(|p| {
            if p.is_empty() {
                self.root.clone()
            } else {
                self.root.join(p)
            }
        })
        .collect()
    }

    fn assert_outside_untouched(&self) {
        for p in ["", "file", "dir", "dir/inner"] {
            assert_eq!(
                label_of(&self.outside.join(p)).as_deref(),
                Some(OUTSIDE),
                "{p}"
            );
        }
    }
}

fn relabel(target: Target) -> Relabel {
    let mut r = Relabel::new(target);
    r.protection(protection());
    r
}

#[test]
fn shared_labels_everything_and_follows_nothing() {
    for fallback in [false, true] {
        for threads in [1, 4] {
            let Some(fx) = Fixture::new() else { return };
            let report = relabel(Target::Shared)
                .threads(threads)
                .proc_fd_fallback(fallback)
                .run(&fx.root)
                .unwrap();
            assert_eq!(report.failures, vec![], "fallback {fallback}");
            assert_eq!(report.visited, 14);
            // hard2 is hard1: the second name finds the label already there.
            assert_eq!(report.changed, 13);
            assert_eq!(report.unchanged, 1);
            for e in fx.entries() {
                assert_eq!(label_of(&e).as_deref(), Some(SHARED), "{}", e.display());
            }
            fx.assert_outside_untouched();

            // A second run changes nothing.
            let again = relabel(Target::Shared)
                .threads(threads)
                .run(&fx.root)
                .unwrap();
            assert_eq!((again.visited, again.changed, again.unchanged), (14, 0, 14));
        }
    }
}

#[test]
fn private_and_context_targets() {
    let Some(fx) = Fixture::new() else { return };
    let report = relabel(Target::Private("s0:c7,c3".parse().unwrap()))
        .run(&fx.root)
        .unwrap();
    assert_eq!(report.failed, 0);
    assert_eq!(
        label_of(&fx.root.join("a/b/c/deep")).as_deref(),
        Some("system_u:object_r:container_file_t:s0:c3,c7")
    );
    let mut r = relabel(Target::Private("s0:c1,c2".parse().unwrap()));
    r.file_context(ctx("u:object_r:my_file_t:s0"));
    r.run(&fx.root).unwrap();
    assert_eq!(
        label_of(&fx.root).as_deref(),
        Some("u:object_r:my_file_t:s0:c1,c2")
    );

    relabel(Target::Context(ctx("u:r:whole_t:s0-s0:c0.c1023")))
        .run(&fx.root)
        .unwrap();
    assert_eq!(
        label_of(&fx.root.join("fifo")).as_deref(),
        Some("u:r:whole_t:s0-s0:c0.c1023")
    );
    fx.assert_outside_untouched();
}

#[test]
fn dry_run_writes_nothing() {
    let Some(fx) = Fixture::new() else { return };
    let before: Vec<_> = fx.entries().iter().map(|e| label_of(e)).collect();
    let report = relabel(Target::Shared).dry_run(true).run(&fx.root).unwrap();
    assert_eq!(report.visited, 14);
    assert_eq!(
        report.changed, 14,
        "hard links count twice: nothing was written"
    );
    let after: Vec<_> = fx.entries().iter().map(|e| label_of(e)).collect();
    assert_eq!(before, after);
}

#[test]
fn custom_target_sees_path_kind_and_label_and_the_root_comes_last() {
    let Some(fx) = Fixture::new() else { return };
    relabel(Target::Shared).run(&fx.root).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let report = relabel(Target::Custom(Arc::new(move |path, kind, current| {
        s.lock()
            .unwrap()
            .push((path.to_path_buf(), kind, current.map(|c| c.to_string())));
        // Only regular files get a new type; everything else is left alone.
        Ok((kind == FileKind::File).then(|| "u:r:files_t:s0".parse().unwrap()))
    })))
    .threads(3)
    .run(&fx.root)
    .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 14);
    assert_eq!(seen.last().unwrap().0, fx.root, "the root is labeled last");
    let kind_of = |p: &str| seen.iter().find(|e| e.0 == fx.root.join(p)).unwrap().1;
    assert_eq!(kind_of("fifo"), FileKind::Fifo);
    assert_eq!(kind_of("to_dir"), FileKind::Symlink);
    assert_eq!(kind_of("a/b"), FileKind::Dir);
    assert_eq!(kind_of("a/b/c/deep"), FileKind::File);
    // Every entry had the shared label, but for the second name of the hard
    // link, which sees what the first name got.
    let stale: Vec<_> = seen
        .iter()
        .filter(|e| e.2.as_deref() != Some(SHARED))
        .collect();
    assert!(stale.len() <= 1, "{stale:?}");
    assert!(stale
        .iter()
        .all(|e| e.0.ends_with("hard1") || e.0.ends_with("hard2")));
    // f1, f2, deep, file, hard1 (hard2 then already has it).
    assert_eq!(report.changed, 5);
    assert_eq!(report.unchanged, 9);
    assert_eq!(
        label_of(&fx.root.join("hard2")).as_deref(),
        Some("u:r:files_t:s0")
    );
    assert_eq!(label_of(&fx.root.join("dangling")).as_deref(), Some(SHARED));
}

#[test]
fn excluded_paths_are_left_alone() {
    let Some(fx) = Fixture::new() else { return };
    let report = relabel(Target::Shared)
        .exclude(fx.root.join("a/b"))
        .exclude(fx.root.join("fifo"))
        .run(&fx.root)
        .unwrap();
    assert_eq!(report.visited, 14 - 4);
    assert_eq!(label_of(&fx.root.join("a/b")), None);
    assert_eq!(label_of(&fx.root.join("a/b/c/deep")), None);
    assert_eq!(label_of(&fx.root.join("fifo")), None);
    assert_eq!(label_of(&fx.root.join("a/f1")).as_deref(), Some(SHARED));
}

#[test]
fn a_symlink_root_is_labeled_itself_without_dereference() {
    let Some(fx) = Fixture::new() else { return };
    let report = relabel(Target::Shared)
        .dereference(false)
        .run(fx.root.join("to_dir"))
        .unwrap();
    assert_eq!((report.visited, report.changed), (1, 1));
    assert_eq!(label_of(&fx.root.join("to_dir")).as_deref(), Some(SHARED));
    fx.assert_outside_untouched();
}

#[test]
fn progress_is_reported() {
    let Some(fx) = Fixture::new() else { return };
    let last = Arc::new(Mutex::new(None));
    let l = Arc::clone(&last);
    let report = relabel(Target::Shared)
        .progress(move |p| *l.lock().unwrap() = Some(*p))
        .run(&fx.root)
        .unwrap();
    let p = last.lock().unwrap().expect("progress was called");
    assert_eq!(p.seen, report.visited);
    assert_eq!(p.changed, report.changed);
}

#[test]
fn protected_roots_are_refused_in_every_spelling() {
    // Dry runs: even a broken check could not write anything.
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("etc-link");
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let etc_link = link.to_str().unwrap().to_owned();
    let rel_usr = "../".repeat(std::env::current_dir().unwrap().components().count()) + "usr";
    for spelling in [
        "/",
        "/usr//",
        "/etc/../usr",
        "/var/lib/",
        "/tmp/.",
        &etc_link,
        &rel_usr,
    ] {
        let err = Relabel::new(Target::Shared)
            .dry_run(true)
            .force(true)
            .run(spelling)
            .unwrap_err();
        assert!(
            matches!(err, RelabelError::Protected(_)),
            "{spelling}: {err}"
        );
    }
    let err = Relabel::new(Target::Shared)
        .dry_run(true)
        .run("/usr/share")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to relabel /usr/share without force: it is inside /usr"
    );
}

#[test]
fn a_filesystem_without_xattrs_yields_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("ramfs");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_m) = mount_fs("ramfs", &mnt) else {
        return;
    };
    std::fs::create_dir(mnt.join("d")).unwrap();
    for f in ["f", "d/g"] {
        std::fs::write(mnt.join(f), "x").unwrap();
    }
    std::os::unix::fs::symlink("f", mnt.join("l")).unwrap();
    let report = relabel(Target::Shared).run(&mnt).unwrap();
    assert_eq!((report.visited, report.failed, report.changed), (5, 5, 0));
    assert!(report
        .failures
        .iter()
        .all(|f| f.error.kind() == ErrorKind::NotSupported));
    let paths: Vec<&Path> = report.failures.iter().map(|f| f.path.as_path()).collect();
    assert!(paths.contains(&mnt.join("d/g").as_path()));
    assert_eq!(
        report.failures.last().unwrap().path,
        mnt,
        "the root is last"
    );

    // stop_on_first_error stops and leaves the root alone.
    let report = relabel(Target::Shared)
        .threads(1)
        .stop_on_first_error(true)
        .run(&mnt)
        .unwrap();
    assert_eq!(report.failed, 1);
    assert!(report.stopped);
}

#[test]
fn a_read_only_mount_yields_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let src = tmp.path().join("src");
    let ro = tmp.path().join("ro");
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::create_dir(&ro).unwrap();
    std::fs::write(src.join("d/f"), "x").unwrap();
    let Some(_m) = bind_ro(&src, &ro) else { return };
    let report = relabel(Target::Shared).run(&ro).unwrap();
    assert_eq!(report.failed, 3);
    assert!(
        report
            .failures
            .iter()
            .all(|f| f.error.kind() == ErrorKind::ReadOnly),
        "{:?}",
        report.failures
    );
    assert_eq!(label_of(&src.join("d/f")), None);
}

#[test]
fn other_filesystems_are_not_entered_unless_asked() {
    let Some(fx) = Fixture::new() else { return };
    let mnt = fx.root.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_m) = mount_fs("tmpfs", &mnt) else {
        return;
    };
    std::fs::write(mnt.join("inside"), "x").unwrap();
    let report = relabel(Target::Shared).run(&fx.root).unwrap();
    assert_eq!(report.visited, 14, "the mount point is skipped");
    assert_ne!(label_of(&mnt.join("inside")).as_deref(), Some(SHARED));
    let report = relabel(Target::Shared)
        .one_file_system(false)
        .run(&fx.root)
        .unwrap();
    assert_eq!(report.changed, 2);
    assert_eq!(label_of(&mnt.join("inside")).as_deref(), Some(SHARED));
}

#[test]
fn json_report_shape() {
    let Some(fx) = Fixture::new() else { return };
    let report = relabel(Target::Shared).run(&fx.root).unwrap();
    let mut json = serde_json::to_value(&report).unwrap();
    // hard1 and hard2 are one inode: whichever is met first is written
    // (and listed); the other then has its label already.
    let hardlinks = json.as_object_mut().unwrap().remove("hardlinks").unwrap();
    let names: Vec<_> = ["hard1", "hard2"]
        .iter()
        .map(|n| serde_json::json!([{"path": fx.root.join(n).to_str().unwrap()}]))
        .collect();
    assert!(names.contains(&hardlinks), "{hardlinks}");
    assert_eq!(
        json,
        serde_json::json!({"visited": 14, "changed": 13, "unchanged": 1, "failed": 0, "failures": [],
            "skipped_mounts": 0, "mount_points": [], "hardlinked": 1,
            "customized": 0, "customized_paths": []})
    );
}

#[test]
fn only_differing_labels_are_written() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("mixed");
    std::fs::create_dir(&root).unwrap();
    // Unlabeled, already right, and wrong entries, interleaved, so that the
    // walker switches between its create-first and read-first paths.
    let mut right = Vec::new();
    for i in 0..60 {
        let f = root.join(format!("f{i:02}"));
        std::fs::write(&f, "x").unwrap();
        match i % 3 {
            0 => {}
            1 => {
                selinux_mcs::label::set(&f, &ctx(SHARED)).unwrap();
                right.push(f);
            }
            _ => selinux_mcs::label::set(&f, &ctx("u:r:wrong_t:s0")).unwrap(),
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    let ctimes: Vec<_> = right
        .iter()
        .map(|f| std::fs::symlink_metadata(f).unwrap().ctime_nsec())
        .collect();
    let report = relabel(Target::Shared).threads(1).run(&root).unwrap();
    assert_eq!(
        (report.visited, report.changed, report.unchanged),
        (61, 41, 20)
    );
    for i in 0..60 {
        assert_eq!(
            label_of(&root.join(format!("f{i:02}"))).as_deref(),
            Some(SHARED)
        );
    }
    let after: Vec<_> = right
        .iter()
        .map(|f| std::fs::symlink_metadata(f).unwrap().ctime_nsec())
        .collect();
    assert_eq!(ctimes, after, "files that had the label were not written");
}

#[test]
fn an_immutable_file_yields_permission_denied() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let root = tmp.path().join("imm");
    std::fs::create_dir(&root).unwrap();
    let f = root.join("locked");
    std::fs::write(&f, "x").unwrap();
    let file = std::fs::File::open(&f).unwrap();
    let flags = rustix::fs::ioctl_getflags(&file).unwrap();
    if rustix::fs::ioctl_setflags(&file, flags | rustix::fs::IFlags::IMMUTABLE).is_err() {
        assert!(!label_support::required(), "chattr +i is required");
        eprintln!("skipping: this filesystem has no immutable flag");
        return;
    }
    let report = relabel(Target::Shared).run(&root);
    rustix::fs::ioctl_setflags(&file, flags).unwrap();
    let report = report.unwrap();
    assert_eq!((report.visited, report.changed, report.failed), (2, 1, 1));
    let failure = &report.failures[0];
    assert_eq!(failure.path, f);
    assert_eq!(failure.error.kind(), ErrorKind::PermissionDenied);
    // setxattrat, or lsetxattr on /proc/self/fd/N/locked before Linux 6.13.
    assert!(matches!(
        failure.error.call(),
        Some("setxattrat" | "lsetxattr")
    ));
}

/// Issue 13: a rule that cannot decide is an ordinary failure of that entry.
#[test]
fn a_failing_rule_is_a_failure_of_that_entry() {
    let Some(fx) = Fixture::new() else { return };
    let report = relabel(Target::Custom(Arc::new(|path, _, _| {
        if path.ends_with("a/f1") {
            Err("no rule for this one".into())
        } else {
            Ok(Some("u:r:ok_t:s0".parse().unwrap()))
        }
    })))
    .run(&fx.root)
    .unwrap();
    assert_eq!(report.failed, 1);
    assert_eq!(report.failures[0].path, fx.root.join("a/f1"));
    assert_eq!(report.failures[0].error.kind(), ErrorKind::Rule);
    assert!(report.failures[0]
        .error
        .to_string()
        .ends_with("no rule for this one"));
    assert_eq!(report.visited, 14);
    assert_eq!(label_of(&fx.root.join("a/f1")), None);
}

/// Issue 13: run_all checks every root before writing anything.
#[test]
fn run_all_refuses_before_writing_and_reports_missing_roots() {
    let Some(fx) = Fixture::new() else { return };
    let err = relabel(Target::Shared)
        .run_all(&[fx.root.clone(), "/usr".into()])
        .unwrap_err();
    assert!(matches!(err, RelabelError::Protected(_)), "{err}");
    assert_eq!(label_of(&fx.root), None, "nothing written");
    // A missing root cannot be checked: refused too, before any write.
    let missing = fx.root.join("missing");
    let err = relabel(Target::Shared)
        .run_all(&[fx.root.clone(), missing])
        .unwrap_err();
    assert!(matches!(err, RelabelError::Protected(_)), "{err}");
    assert_eq!(label_of(&fx.root), None, "nothing written");
    let report = relabel(Target::Shared)
        .recursive(false)
        .run_all(&[fx.root.clone(), fx.root.join("a")])
        .unwrap();
    assert_eq!((report.visited, report.changed), (2, 2));
    assert_eq!(label_of(&fx.root).as_deref(), Some(SHARED));
    assert_eq!(label_of(&fx.root.join("a/f1")), None, "not recursive");
}
