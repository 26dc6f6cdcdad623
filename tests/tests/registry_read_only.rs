//! Issue 12, finding 9, at the library: a read-only open of the registry
//! creates and writes nothing.

use std::path::Path;

use selinux_mcs::mcs::{McsError, Registry};

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
