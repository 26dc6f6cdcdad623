//! Issue 12, findings 9 and 14, at the library: a read-only open of the
//! registry creates and writes nothing, and asking for more pairs than are
//! free fails at once, allocating nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use selinux_mcs::mcs::{McsError, PairSpace, Registry};

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn read_only_open_of_a_missing_registry_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mcs.db");
    let e = Registry::open_read_only(&path).expect_err("missing");
    assert!(
        matches!(&e, McsError::NoRegistry { path: p } if p == &path),
        "{e:?}"
    );
    assert_eq!(e.to_string(), format!("no registry at {}", path.display()));
    // A dangling symlink is no registry either, and is not followed to
    // create its target.
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(dir.path().join("target.db"), &link).expect("symlink");
    let e = Registry::open_read_only(&link).expect_err("dangling");
    assert!(matches!(e, McsError::NoRegistry { .. }), "{e:?}");
    assert_eq!(names(dir.path()), ["link.db"]);
}

#[test]
fn read_only_open_never_makes_a_registry_of_an_empty_or_foreign_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").expect("write");
    let e = Registry::open_read_only(&empty).expect_err("empty");
    assert_eq!(
        e.to_string(),
        format!(
            "{} is not a selinux-mcs registry: an empty file; refusing to touch it",
            empty.display()
        )
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "notes\n".repeat(10)).expect("write");
    let e = Registry::open_read_only(&text).expect_err("text");
    assert!(matches!(e, McsError::NotARegistry { .. }), "{e:?}");
    assert_eq!(std::fs::read(&empty).expect("read"), b"");
    assert_eq!(names(dir.path()), ["empty.db", "notes.txt"]);
}

#[test]
fn read_only_handles_read_and_refuse_every_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mcs.db");
    let level = {
        let reg = Registry::open(&path).expect("open");
        reg.allocate_for("volume:pg").expect("alloc").level
    };
    std::fs::remove_file(dir.path().join("mcs.db-lock")).expect("rm lock");
    let before = std::fs::read(&path).expect("read");
    let reg = Registry::open_read_only(&path).expect("read-only");
    assert!(reg.is_read_only());
    assert_eq!(
        reg.get("volume:pg").expect("get").map(|e| e.level),
        Some(level)
    );
    assert_eq!(
        reg.holder(&level).expect("holder").map(|e| e.owner),
        Some("volume:pg".into())
    );
    assert_eq!(reg.list().expect("list").len(), 1);
    assert_eq!(reg.available().expect("available"), 523_775 - 1);
    for e in [
        reg.allocate_for("x").map(drop).expect_err("allocate"),
        reg.allocate_anonymous(1).map(drop).expect_err("anonymous"),
        reg.reserve(&"s0:c1,c2".parse().expect("level"), "x")
            .map(drop)
            .expect_err("reserve"),
        reg.release_owner("volume:pg")
            .map(drop)
            .expect_err("release"),
        reg.release_level(&level)
            .map(drop)
            .expect_err("release level"),
    ] {
        assert!(matches!(e, McsError::ReadOnly { .. }), "{e:?}");
    }
    drop(reg);
    assert_eq!(std::fs::read(&path).expect("read"), before);
    // No lock file: a reader takes no write lock.
    assert!(!dir.path().join("mcs.db-lock").exists());
}

#[test]
fn asking_for_more_pairs_than_are_free_fails_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mcs.db");
    let space = PairSpace::new("c4.c9".parse().expect("pool")).expect("space");
    let reg = Registry::open_with_space(&path, space).expect("open");
    let e = reg.allocate_anonymous(16).expect_err("16 of 15");
    assert!(
        matches!(
            e,
            McsError::TooMany {
                asked: 16,
                free: 15,
                capacity: 15,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "asked for 16 pairs; the pool has 15 free of 15"
    );
    assert!(reg.is_empty().expect("len"));
    reg.allocate_anonymous(14).expect("14 fit");
    let owners = ["a", "b", "a"];
    let e = reg
        .allocate_many(&owners)
        .expect_err("2 new owners, 1 free");
    assert!(
        matches!(
            e,
            McsError::TooMany {
                asked: 2,
                free: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(reg.len().expect("len"), 14);
    assert_eq!(
        reg.allocate_many(&["a", "a"]).expect("1 new owner").len(),
        2
    );

    // The whole default pool: refused before drawing a single pair.
    let reg = Registry::open(dir.path().join("big.db")).expect("open");
    let start = Instant::now();
    let e = reg
        .allocate_anonymous(u32::MAX as usize)
        .expect_err("too many");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        e.to_string(),
        "asked for 4294967295 pairs; the pool has 523775 free of 523775"
    );
    assert!(reg.is_empty().expect("len"));
}

#[test]
fn a_space_whose_pairs_are_all_reserved_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let space = PairSpace::new("c1022,c1023".parse().expect("pool")).expect("space");
    let reg = Registry::open_with_space(dir.path().join("mcs.db"), space).expect("open");
    for e in [
        reg.allocate_anonymous(1).map(drop).expect_err("anonymous"),
        reg.allocate_for("x").map(drop).expect_err("owner"),
        reg.allocate_many(&["x"]).map(drop).expect_err("many"),
    ] {
        assert!(matches!(e, McsError::NoPairs { len: 1, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the pool c1022,c1023 makes no pair that can be handed out (its 1 pair is reserved)"
        );
    }
}
