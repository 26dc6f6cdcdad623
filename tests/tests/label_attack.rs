//! Issue 12: an attacker's attempts to make a relabel write outside what it
//! promises to protect. Each test fails on the code that spelled paths out
//! again after checking them, and passes when roots are held by fd and
//! protected objects compared by identity. Anything that could touch a real
//! system object runs as a dry run, so a regression counts instead of
//! writing.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod label_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use label_support::{bind_ro, ctx, label_of, mount_fs, protection, xattrs_work, Mount};
use selinux_mcs::label::protected::Protection;
use selinux_mcs::label::{ErrorKind, Relabel, RelabelError, Target};

const SENTINEL: &str = "system_u:object_r:sentinel_t:s0";
const DECOY: &str = "system_u:object_r:decoy_t:s0";

fn target() -> Target {
    Target::Context(ctx("system_u:object_r:container_file_t:s0:c1,c2"))
}

/// Exchanges `a` and `b` in `dir` until stopped (relative to the dir's fd,
/// so the swapper itself never resolves through the symlink).
fn swapper(
    dir: &Path,
    a: &'static str,
    b: &'static str,
) -> (Arc<AtomicBool>, Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let dir = std::fs::File::open(dir).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let (s, n) = (Arc::clone(&stop), Arc::clone(&swaps));
    let h = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            if rustix::fs::renameat_with(&dir, a, &dir, b, rustix::fs::RenameFlags::EXCHANGE)
                .is_ok()
            {
                n.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    (stop, swaps, h)
}

/// A protected home (`real/home`, with `.ssh/id_rsa`) and a decoy tree
/// `x/a/home`, `x/a/id_rsa`; `x/b` is a symlink to `real` (or, for the
/// file race, to `real/home/.ssh`). `x/a` and `x/b` are exchanged
/// continuously, so `x/a/home` names the decoy or the home.
struct Race {
    _tmp: tempfile::TempDir,
    x: PathBuf,
    home: PathBuf,
    secrets: Vec<PathBuf>,
}

fn race_setup(link_to_ssh: bool) -> Option<Race> {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return None;
    }
    let real = tmp.path().join("real");
    let home = real.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join("notes"), "x").unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "secret").unwrap();
    let secrets = vec![
        home.clone(),
        home.join("notes"),
        home.join(".ssh"),
        home.join(".ssh/id_rsa"),
    ];
    for s in &secrets {
        selinux_mcs::label::set(s, &ctx(SENTINEL)).unwrap();
    }
    let x = tmp.path().join("x");
    std::fs::create_dir_all(x.join("a/home")).unwrap();
    std::fs::write(x.join("a/home/notes"), "decoy").unwrap();
    std::fs::write(x.join("a/id_rsa"), "decoy").unwrap();
    let link = if link_to_ssh { home.join(".ssh") } else { real };
    std::os::unix::fs::symlink(link, x.join("b")).unwrap();
    Some(Race {
        x,
        home,
        secrets,
        _tmp: tmp,
    })
}

/// Runs relabels of `root` for `secs` while `x/a` and `x/b` swap; returns
/// (successful runs, refused runs, swaps).
fn race(r: &Race, root: &Path, secs: u64) -> (u64, u64, u64) {
    let (stop, swaps, h) = swapper(&r.x, "a", "b");
    let p = Protection::with_homes([r.home.clone()]);
    let (mut ok, mut refused) = (0, 0);
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        match Relabel::new(target())
            .protection(p.clone())
            .threads(1)
            .run(root)
        {
            Ok(_) => ok += 1,
            Err(RelabelError::Protected(_)) | Err(RelabelError::Root(_)) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
    (ok, refused, swaps.load(Ordering::Relaxed))
}

/// Relabels `x/a/NAME` while `x/a` and `x/b` swap: the protected home's
/// entries keep their sentinel label, and the race ran both ways.
fn no_escape(link_to_ssh: bool, name: &str) {
    let Some(r) = race_setup(link_to_ssh) else {
        return;
    };
    let (ok, refused, swaps) = race(&r, &r.x.join("a").join(name), 3);
    for s in &r.secrets {
        assert_eq!(
            label_of(s).as_deref(),
            Some(SENTINEL),
            "{} escaped",
            s.display()
        );
    }
    eprintln!("{ok} runs relabeled the decoy, {refused} were refused, {swaps} swaps");
    assert!(
        ok > 0 && refused > 0 && swaps > 100,
        "the race ran both ways"
    );
}

#[test]
fn finding_1_a_swapped_directory_root_never_reaches_the_protected_home() {
    no_escape(false, "home");
}

#[test]
fn finding_2_a_swapped_file_root_never_reaches_the_protected_key() {
    no_escape(true, "id_rsa");
}

#[test]
fn finding_3_a_bind_mount_of_etc_is_etc() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let vol = tmp.path().join("vol");
    std::fs::create_dir_all(vol.join("etc")).unwrap();
    let Some(_m) = bind_ro(Path::new("/etc"), &vol.join("etc")) else {
        return;
    };
    let dry = |root: &Path, force: bool| {
        Relabel::new(Target::Shared)
            .protection(protection())
            .dry_run(true)
            .force(force)
            .run(root)
    };
    // The bind mount itself: refused even with force.
    let err = dry(&vol.join("etc"), true).unwrap_err();
    assert!(
        matches!(&err, RelabelError::Protected(e) if e.matched() == Path::new("/etc")),
        "{err}"
    );
    // Something under it needs force, as under /etc.
    if vol.join("etc/ssh").is_dir() {
        let err = dry(&vol.join("etc/ssh"), false).unwrap_err();
        assert!(
            matches!(&err, RelabelError::Protected(e) if e.needs_force()),
            "{err}"
        );
    }
    // /etc/passwd through the bind mount: refused.
    let err = dry(&vol.join("etc/passwd"), true).unwrap_err();
    assert!(matches!(err, RelabelError::Protected(_)), "{err}");
    // Inside a tree walked with --cross-mounts, the bind mount is entered
    // by no one: it is a failure naming /etc, and nothing under it counts.
    std::fs::write(vol.join("f"), "").unwrap();
    let report = Relabel::new(Target::Shared)
        .protection(protection())
        .dry_run(true)
        .one_file_system(false)
        .run(&vol)
        .unwrap();
    assert_eq!(report.failed, 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].error.kind(), ErrorKind::Protected);
    assert_eq!(report.visited, 3, "vol, vol/f and the refused vol/etc");
}

#[test]
fn finding_4_bind_mounts_of_the_same_file_system_and_single_files_are_mount_points() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let vol = tmp.path().join("vol");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(vol.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), "").unwrap();
    selinux_mcs::label::set(outside.join("secret"), &ctx(SENTINEL)).unwrap();
    selinux_mcs::label::set(&outside, &ctx(SENTINEL)).unwrap();
    // Same file system (same st_dev), bind-mounted into the tree.
    let Some(_dir) = bind(&outside, &vol.join("dir")) else {
        return;
    };
    // A single file from a tmpfs, bind-mounted onto a file of the tree.
    let t = tmp.path().join("t");
    std::fs::create_dir(&t).unwrap();
    let Some(_tmpfs) = mount_fs("tmpfs", &t) else {
        return;
    };
    std::fs::write(t.join("f"), "").unwrap();
    selinux_mcs::label::set(t.join("f"), &ctx(SENTINEL)).unwrap();
    std::fs::write(vol.join("file"), "").unwrap();
    let Some(_file) = bind(&t.join("f"), &vol.join("file")) else {
        return;
    };
    let report = Relabel::new(target())
        .protection(protection())
        .run(&vol)
        .unwrap();
    assert_eq!(report.failures, vec![]);
    assert_eq!(report.skipped_mounts, 2);
    let mut mounts = report.mount_points.clone();
    mounts.sort();
    assert_eq!(mounts, [vol.join("dir"), vol.join("file")]);
    assert_eq!(report.visited, 1, "only the root");
    for p in [outside.join("secret"), outside.clone(), t.join("f")] {
        assert_eq!(label_of(&p).as_deref(), Some(SENTINEL), "{}", p.display());
    }
}

fn bind(src: &Path, dst: &Path) -> Option<Mount> {
    let ok = std::process::Command::new("mount")
        .arg("--bind")
        .arg(src)
        .arg(dst)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!label_support::required(), "mount --bind is required here");
        eprintln!("skipping: mount --bind is not permitted");
        return None;
    }
    Some(Mount {
        path: dst.to_path_buf(),
    })
}

#[test]
fn finding_5_nested_mounts_are_reported_and_entered_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let vol = tmp.path().join("vol");
    std::fs::create_dir_all(vol.join("m")).unwrap();
    let Some(_m) = mount_fs("tmpfs", &vol.join("m")) else {
        return;
    };
    std::fs::write(vol.join("m/f"), "").unwrap();
    let report = Relabel::new(target())
        .protection(protection())
        .run(&vol)
        .unwrap();
    assert_eq!(report.skipped_mounts, 1);
    assert_eq!(report.mount_points, [vol.join("m")]);
    assert_eq!(label_of(&vol.join("m/f")), None);
    let report = Relabel::new(target())
        .protection(protection())
        .one_file_system(false)
        .run(&vol)
        .unwrap();
    assert_eq!((report.skipped_mounts, report.changed), (0, 2));
    assert!(label_of(&vol.join("m/f")).is_some());
}

#[test]
fn pseudo_file_systems_are_refused_by_magic() {
    // /proc under another name: a bind mount of /proc/sys in a temp dir,
    // dry run (a regression counts, never writes).
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("innocent");
    std::fs::create_dir(&p).unwrap();
    let Some(_m) = bind(Path::new("/proc/sys"), &p) else {
        return;
    };
    let err = Relabel::new(Target::Shared)
        .protection(protection())
        .dry_run(true)
        .force(true)
        .run(&p)
        .unwrap_err();
    assert!(err.to_string().contains("proc file system"), "{err}");
    // Some real ones, by their own names too.
    for p in ["/proc/self", "/sys/kernel", "/proc/sys/kernel"] {
        if Path::new(p).exists() {
            let err = Relabel::new(Target::Shared)
                .protection(protection())
                .dry_run(true)
                .force(true)
                .run(p)
                .unwrap_err();
            assert!(matches!(err, RelabelError::Protected(_)), "{p}: {err}");
        }
    }
}

#[test]
fn finding_6_a_symlink_root_labels_its_target_tree() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("sub/f"), "").unwrap();
    let link = tmp.path().join("linkdir");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let report = Relabel::new(target())
        .protection(protection())
        .run(&link)
        .unwrap();
    assert_eq!((report.visited, report.changed), (3, 3));
    assert!(label_of(&data.join("sub/f")).is_some());
    assert_eq!(label_of(&link), None, "the link itself is not the volume");
}

#[test]
fn finding_7_hard_links_are_counted_listed_and_skippable() {
    let tmp = tempfile::tempdir().unwrap();
    if !xattrs_work(tmp.path()) {
        return;
    }
    let vol = tmp.path().join("vol");
    std::fs::create_dir(&vol).unwrap();
    let outside = tmp.path().join("outside");
    std::fs::write(&outside, "").unwrap();
    selinux_mcs::label::set(&outside, &ctx(DECOY)).unwrap();
    std::fs::hard_link(&outside, vol.join("inside")).unwrap();
    std::fs::write(vol.join("plain"), "").unwrap();
    let report = Relabel::new(target())
        .protection(protection())
        .skip_hardlinks(true)
        .run(&vol)
        .unwrap();
    assert_eq!(report.hardlinked, 1);
    assert_eq!(report.hardlinks, [vol.join("inside")]);
    assert_eq!(report.visited, 2, "the root and plain");
    assert_eq!(label_of(&outside).as_deref(), Some(DECOY));
    let report = Relabel::new(target())
        .protection(protection())
        .run(&vol)
        .unwrap();
    assert_eq!((report.hardlinked, report.changed), (1, 1));
    assert_ne!(
        label_of(&outside).as_deref(),
        Some(DECOY),
        "labeled, as chcon does"
    );
}

#[test]
fn a_hard_link_to_a_protected_file_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = tmp.path().join("vol");
    std::fs::create_dir(&vol).unwrap();
    // Only where /etc/passwd is on the temp dir's file system; dry run.
    if std::fs::hard_link("/etc/passwd", vol.join("passwd")).is_err() {
        eprintln!("skipping: /etc/passwd is on another file system");
        return;
    }
    let report = Relabel::new(Target::Shared)
        .protection(protection())
        .dry_run(true)
        .force(true)
        .run(&vol);
    let _ = std::fs::remove_file(vol.join("passwd"));
    let report = report.unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.failures[0].error.kind(), ErrorKind::Protected);
    assert_eq!(report.changed, 1, "only the root");
}

#[test]
fn finding_13_listing_a_tree_never_follows_a_swapped_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let sentinel = tmp.path().join("sentinel");
    std::fs::create_dir_all(root.join("d/inner")).unwrap();
    std::fs::create_dir_all(sentinel.join("inner")).unwrap();
    for i in 0..20 {
        std::fs::write(root.join(format!("d/f{i}")), "").unwrap();
        std::fs::write(sentinel.join(format!("SECRET{i}")), "").unwrap();
        std::fs::write(sentinel.join(format!("inner/SECRET{i}")), "").unwrap();
    }
    std::os::unix::fs::symlink(&sentinel, root.join("x")).unwrap();
    let (stop, swaps, h) = swapper(&root, "d", "x");
    let end = Instant::now() + Duration::from_secs(3);
    let (mut runs, mut escapes) = (0u64, 0u64);
    while Instant::now() < end {
        selinux_mcs::label::list_labels(&root, true, |e| {
            if e.path.to_string_lossy().contains("SECRET") {
                escapes += 1;
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        runs += 1;
    }
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
    eprintln!("{runs} listings, {} swaps", swaps.load(Ordering::Relaxed));
    assert!(runs > 50 && swaps.load(Ordering::Relaxed) > 100);
    assert_eq!(escapes, 0);
}
