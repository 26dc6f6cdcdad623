//! Unit tests of the SQLite registry: one process, one or more connections.

use std::collections::HashSet;

use super::*;
use crate::mcs::{Location, Registry};

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mcs.db");
    (dir, path)
}

fn level(text: &str) -> Level {
    text.parse().expect("level")
}

#[test]
fn allocate_is_idempotent_per_owner_and_persists() {
    let (_dir, path) = temp();
    let reg = Registry::open(&path).expect("open");
    let a = reg.allocate_for("volume:a").expect("alloc");
    let b = reg.allocate_for("volume:b").expect("alloc");
    assert_ne!(a.level, b.level);
    assert_eq!(reg.allocate_for("volume:a").expect("again"), a);
    assert!(a.source.is_none());
    assert!(a.created > 1_600_000_000);
    drop(reg);
    let reg = Registry::open(&path).expect("reopen");
    assert_eq!(reg.allocate_for("volume:a").expect("after reopen"), a);
    assert_eq!(reg.get("volume:b").expect("get"), Some(b.clone()));
    assert_eq!(reg.holder(&b.level).expect("holder"), Some(b));
    assert_eq!(reg.len().expect("len"), 2);
}

#[test]
fn release_then_reuse_in_a_tiny_pool() {
    let (_dir, path) = temp();
    let space = PairSpace::new("c0,c1,c2".parse().expect("set")).expect("space");
    let reg = Registry::open_with_space(&path, space).expect("open");
    let got: HashSet<Level> = (0..3)
        .map(|i| reg.allocate_for(&format!("o{i}")).expect("alloc").level)
        .collect();
    assert_eq!(got.len(), 3);
    let err = reg.allocate_for("o3").unwrap_err();
    assert!(
        matches!(err, McsError::Exhausted { capacity: 3, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "no free MCS pair left: the pool c0.c2 holds 3 pairs and every one is taken"
    );
    let freed = reg.release_owner("o1").expect("release").expect("held");
    assert_eq!(reg.release_owner("o1").expect("release again"), None);
    assert_eq!(reg.allocate_for("o3").expect("reuse").level, freed.level);
    let e = reg
        .release_level(&freed.level)
        .expect("release")
        .expect("held");
    assert_eq!(e.owner, "o3");
    assert!(matches!(
        reg.release_level(&level("s0:c1")),
        Err(McsError::NotAPair { .. })
    ));
}

#[test]
fn two_owners_never_hold_one_pair_even_through_reserve() {
    let (_dir, path) = temp();
    let reg = Registry::open(&path).expect("open");
    let other = Registry::open(&path).expect("second connection");
    let l = level("s0:c5,c2");
    let e = reg.reserve(&l, "web").expect("reserve");
    assert_eq!(e.level.to_string(), "s0:c2,c5");
    assert_eq!(reg.reserve(&l, "web").expect("idempotent"), e);
    let err = other.reserve(&l, "db").unwrap_err();
    assert!(
        matches!(&err, McsError::Taken { owner: Some(o), .. } if o == "web"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "level s0:c2,c5 is already taken by owner \"web\""
    );
    let err = other.reserve(&level("s0:c7,c8"), "web").unwrap_err();
    assert!(matches!(err, McsError::OwnerHoldsOther { .. }), "{err}");
    // The other connection never allocates the reserved pair: fill a pool
    // of 3 around it.
    let space = PairSpace::new("c2,c5,c9".parse().expect("set")).expect("space");
    let small = Registry::open_with_space(&path, space).expect("open");
    let mut got = HashSet::new();
    while let Ok(e) = small.allocate_for(&format!("x{}", got.len())) {
        got.insert(e.level);
    }
    assert_eq!(got.len(), 2);
    assert!(!got.contains(&e.level));
    for text in ["s0", "s0:c1", "s0:c1.c3", "s0:c0.c1023"] {
        assert!(matches!(
            reg.reserve(&level(text), "z"),
            Err(McsError::NotAPair { .. })
        ));
    }
    assert!(matches!(
        reg.reserve(&level("s0:c1022,c1023"), "z"),
        Err(McsError::Reserved { .. })
    ));
    // Outside the handle's pool is fine: another process may use a bigger one.
    let small2 = Registry::open_with_space(
        &path,
        PairSpace::new("c0.c3".parse().expect("set")).expect("space"),
    )
    .expect("open");
    small2
        .reserve(&level("s0:c100,c200"), "big")
        .expect("outside the pool");
    assert!(matches!(
        reg.allocate_for(""),
        Err(McsError::BadOwner { .. })
    ));
    assert!(matches!(
        reg.reserve(&l, "a\nb"),
        Err(McsError::BadOwner { .. })
    ));
}

#[test]
fn connections_see_each_others_changes() {
    let (_dir, path) = temp();
    let space = || PairSpace::new("c0.c4".parse().expect("set")).expect("space");
    let a = Registry::open_with_space(&path, space()).expect("open");
    let b = Registry::open_with_space(&path, space()).expect("open");
    let mut all = HashSet::new();
    for i in 0..5 {
        assert!(all.insert(a.allocate_for(&format!("a{i}")).expect("a").level));
        assert!(all.insert(b.allocate_for(&format!("b{i}")).expect("b").level));
    }
    assert!(matches!(
        a.allocate_for("a9"),
        Err(McsError::Exhausted { .. })
    ));
    assert!(matches!(
        b.allocate_for("b9"),
        Err(McsError::Exhausted { .. })
    ));
    b.release_owner("a3").expect("release");
    let e = a.allocate_for("a9").expect("freed by b");
    assert_eq!(a.list().expect("list").len(), 10);
    assert_eq!(b.get("a9").expect("get"), Some(e));
}

#[test]
fn a_pruned_change_log_forces_a_full_reload() {
    let (_dir, path) = temp();
    let space = || PairSpace::new("c0.c3".parse().expect("set")).expect("space");
    let a = Registry::open_with_space(&path, space()).expect("open");
    let b = Registry::open_with_space(&path, space()).expect("open");
    for i in 0..4 {
        a.allocate_for(&format!("a{i}")).expect("a");
    }
    // Drop the log rows b has not seen, as pruning does when b lags behind.
    let raw = Connection::open(&path).expect("raw");
    raw.execute(
        "DELETE FROM changes WHERE seq < (SELECT max(seq) FROM changes)",
        [],
    )
    .expect("prune");
    drop(raw);
    let mut got = HashSet::new();
    while let Ok(e) = b.allocate_for(&format!("b{}", got.len())) {
        got.insert(e.level);
    }
    assert_eq!(got.len(), 2);
    assert_eq!(a.len().expect("len"), 6);
}

#[test]
fn a_file_of_another_program_is_refused_and_untouched() {
    let (_dir, path) = temp();
    let other = Connection::open(&path).expect("raw");
    other
        .execute_batch("CREATE TABLE things(x); INSERT INTO things VALUES (1);")
        .expect("other program");
    drop(other);
    let before = std::fs::read(&path).expect("read");
    let err = Registry::open(&path).unwrap_err();
    assert!(matches!(err, McsError::NotARegistry { .. }), "{err}");
    assert!(
        err.to_string().contains("is not a selinux-mcs registry"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);

    let other = Connection::open(&path).expect("raw");
    other
        .execute_batch("PRAGMA application_id = 1234")
        .expect("id");
    drop(other);
    let before = std::fs::read(&path).expect("read");
    let err = Registry::open(&path).unwrap_err();
    assert!(err.to_string().contains("application_id 0x4d2"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before);

    let text = b"# not a database at all\nhello\n".repeat(200);
    std::fs::write(&path, &text).expect("write");
    let err = Registry::open(&path).unwrap_err();
    assert!(matches!(err, McsError::NotARegistry { .. }), "{err}");
    assert!(err.to_string().contains("not an SQLite database"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), text);
    assert!(!path.with_extension("db-wal").exists());
    assert!(
        !path.with_extension("db-lock").exists(),
        "no lock file next to a foreign file"
    );

    // Shorter than SQLite's header: SQLite alone would take it for an empty
    // database and write a registry over it.
    for short in [&b"x"[..], b"hello\n", b"SQLite format"] {
        std::fs::write(&path, short).expect("write");
        let err = Registry::open(&path).unwrap_err();
        assert!(matches!(err, McsError::NotARegistry { .. }), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), short);
    }
    // A directory is not a registry either.
    let err = Registry::open(path.parent().expect("parent")).unwrap_err();
    assert!(matches!(err, McsError::NotARegistry { .. }), "{err}");
}

#[test]
fn a_damaged_registry_is_refused_and_untouched() {
    let (_dir, path) = temp();
    let reg = Registry::open(&path).expect("open");
    let owners: Vec<String> = (0..3000).map(|i| format!("owner-{i}")).collect();
    reg.allocate_many(&owners).expect("fill");
    drop(reg); // the last connection checkpoints and removes the WAL
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 16 * 4096);
    // Scribble over every page but the first (header and schema).
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let err = Registry::open(&path).unwrap_err();
    assert!(matches!(err, McsError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("is corrupted"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);

    // A row whose level disagrees with its pair number.
    let (_dir2, path) = temp();
    let reg = Registry::open(&path).expect("open");
    reg.reserve(&level("s0:c1,c2"), "x").expect("reserve");
    drop(reg);
    let raw = Connection::open(&path).expect("raw");
    raw.execute("UPDATE pairs SET level = 's0:c3,c4'", [])
        .expect("tamper");
    drop(raw);
    let err = Registry::open(&path).unwrap_err();
    assert!(
        err.to_string().contains("its row says \"s0:c3,c4\""),
        "{err}"
    );

    // A newer schema.
    let (_dir3, path) = temp();
    drop(Registry::open(&path).expect("open"));
    let raw = Connection::open(&path).expect("raw");
    raw.execute_batch("PRAGMA user_version = 9").expect("bump");
    drop(raw);
    let err = Registry::open(&path).unwrap_err();
    assert!(
        matches!(err, McsError::UnsupportedVersion { found: 9, .. }),
        "{err}"
    );
}

#[test]
fn an_empty_file_becomes_a_registry_in_wal_mode() {
    let (_dir, path) = temp();
    std::fs::write(&path, b"").expect("touch");
    let reg = Registry::open(&path).expect("open");
    reg.allocate_for("x").expect("alloc");
    let mode: String = reg
        .sqlite()
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    let sync: i64 = reg
        .sqlite()
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .expect("sync");
    assert_eq!(sync, 2, "synchronous=FULL");
    reg.check().expect("integrity");
}

#[test]
fn default_location_follows_the_environment() {
    // Only SELINUX_MCS_DB is exercised: the test runner is shared, and the
    // other variables are read by the same function.
    let saved = std::env::var_os("SELINUX_MCS_DB");
    let location = |text: &str| {
        std::env::set_var("SELINUX_MCS_DB", text);
        Registry::default_location()
    };
    let file = location("/tmp/x/mcs.db");
    let etcd = location("etcd://10.1.2.3:2379,10.1.2.4:2379/mcs");
    let bad = location("etcd://10.1.2.3:x");
    match saved {
        Some(v) => std::env::set_var("SELINUX_MCS_DB", v),
        None => std::env::remove_var("SELINUX_MCS_DB"),
    }
    assert_eq!(
        file.expect("a path"),
        Location::File(PathBuf::from("/tmp/x/mcs.db"))
    );
    match etcd.expect("a URL") {
        Location::Etcd(url) => {
            assert_eq!(url.endpoints(), ["10.1.2.3:2379", "10.1.2.4:2379"]);
            assert_eq!(url.prefix(), "/mcs");
        }
        other => panic!("{other:?}"),
    }
    let bad = bad.expect_err("a bad URL");
    assert!(bad.to_string().contains("in $SELINUX_MCS_DB"), "{bad}");
    if rustix::process::geteuid().is_root() && std::env::var_os("SELINUX_MCS_DB").is_none() {
        assert_eq!(
            Registry::default_location().expect("default"),
            Location::File(PathBuf::from("/var/lib/selinux-mcs/mcs.db"))
        );
    }
}

#[test]
fn adopt_reserves_process_and_directory_pairs() {
    let (dir, path) = temp();
    let proc_root = dir.path().join("proc");
    for (pid, label) in [
        ("1", "system_u:system_r:init_t:s0-s0:c0.c1023\0"),
        ("20", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("21", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("30", "system_u:system_r:container_t:s0:c1,c2\n"),
        ("31", "garbage"),
        ("40", "system_u:system_r:spc_t:s0\0"),
    ] {
        let attr = proc_root.join(pid).join("attr");
        std::fs::create_dir_all(&attr).expect("mkdir");
        std::fs::write(attr.join("current"), label).expect("write");
    }
    std::fs::create_dir_all(proc_root.join("55")).expect("no attr"); // exited
    std::fs::create_dir_all(proc_root.join("self")).expect("not a pid");

    let reg = Registry::open(&path).expect("open");
    reg.reserve(&level("s0:c1,c2"), "known").expect("reserve");
    let mut in_use = InUse::new();
    in_use.processes(&proc_root);
    let report = reg.adopt_in_use(&in_use).expect("adopt");
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    let e = &report.adopted[0];
    assert_eq!(e.level, level("s0:c7,c9"));
    assert_eq!(
        e.owner,
        format!("adopted:{}", proc_root.join("20").display())
    );
    assert_eq!(
        e.source.as_deref(),
        Some(proc_root.join("20/attr/current").to_str().expect("utf8"))
    );
    assert_eq!(report.already_held, 2); // pid 21 (same pair), pid 30 (known)
    assert_eq!(report.not_pairs, 2); // init_t s0-s0:c0.c1023, spc_t s0
    assert_eq!(report.unreadable, 2); // garbage, exited
                                      // Adopting again changes nothing.
    let again = reg.adopt_in_use(&in_use).expect("adopt");
    assert!(again.adopted.is_empty());
    assert_eq!(reg.list().expect("list").len(), 2);

    // A missing directory is an error naming it.
    let mut in_use = InUse::new();
    in_use.directory(dir.path().join("nope"));
    let err = reg.adopt_in_use(&in_use).unwrap_err();
    assert!(err.to_string().starts_with("lgetxattr "), "{err}");
}

#[test]
fn anonymous_pairs_own_themselves() {
    let (_dir, path) = temp();
    let space = PairSpace::new("c0.c3".parse().expect("set")).expect("space");
    let reg = Registry::open_with_space(&path, space).expect("open");
    let got = reg.allocate_anonymous(4).expect("alloc");
    for e in &got {
        assert_eq!(e.owner, format!("pair:{}", e.level));
    }
    // All or nothing: 3 more do not fit in the 2 left, said before drawing.
    let err = reg.allocate_anonymous(3).unwrap_err();
    assert!(
        matches!(
            err,
            McsError::TooMany {
                asked: 3,
                free: 2,
                capacity: 6,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(reg.len().expect("len"), 4);
    assert_eq!(reg.allocate_anonymous(2).expect("fits").len(), 2);
}

/// Writes `security.selinux` on `path` (no-follow); `false` when the
/// filesystem or kernel refuses, which fails the test instead when
/// `SELINUX_MCS_REQUIRE_XATTR=1`.
fn set_label(path: &Path, label: &str) -> bool {
    let mut value = label.as_bytes().to_vec();
    value.push(0);
    match rustix::fs::lsetxattr(
        path,
        "security.selinux",
        &value,
        rustix::fs::XattrFlags::empty(),
    ) {
        Ok(()) => true,
        Err(e) => {
            assert!(
                std::env::var_os("SELINUX_MCS_REQUIRE_XATTR").is_none_or(|v| v != "1"),
                "lsetxattr {}: {e} (SELINUX_MCS_REQUIRE_XATTR=1)",
                path.display()
            );
            eprintln!("skipping: lsetxattr {}: {e}", path.display());
            false
        }
    }
}

#[test]
fn adopt_reads_the_label_of_directories_themselves() {
    let (dir, path) = temp();
    let vol = dir.path().join("volumes/pg");
    let inner = vol.join("data");
    std::fs::create_dir_all(&inner).expect("mkdir");
    let shared = dir.path().join("volumes/shared");
    std::fs::create_dir_all(&shared).expect("mkdir");
    let bare = dir.path().join("volumes/bare");
    std::fs::create_dir_all(&bare).expect("mkdir");
    if !set_label(&vol, "system_u:object_r:container_file_t:s0:c12,c34")
        || !set_label(&inner, "system_u:object_r:container_file_t:s0:c56,c78")
        || !set_label(&shared, "system_u:object_r:container_file_t:s0")
    {
        return;
    }
    let reg = Registry::open(&path).expect("open");
    let mut in_use = InUse::new();
    in_use.directory(&vol).directory(&shared).directory(&bare);
    let report = reg.adopt_in_use(&in_use).expect("adopt");
    assert_eq!(report.adopted.len(), 1, "{report:?}");
    let e = &report.adopted[0];
    assert_eq!(e.level, level("s0:c12,c34"));
    assert_eq!(e.source.as_deref(), vol.to_str());
    assert_eq!(e.owner, format!("adopted:{}", vol.display()));
    assert_eq!(report.not_pairs, 1); // shared s0
                                     // `bare` has no label unless the kernel gives every file one (SELinux on).
    assert!(report.unlabeled <= 1);
    // The tree below was not walked: c56,c78 is still free.
    assert!(reg.holder(&level("s0:c56,c78")).expect("holder").is_none());
}

#[test]
fn the_change_log_is_pruned_whoever_writes() {
    let (_dir, path) = temp();
    let reg = Registry::open(&path).expect("open");
    for i in 0..10 {
        reg.allocate_for(&format!("o{i}")).expect("alloc");
    }
    drop(reg);
    // Pretend the log has grown to just below a pruning point, far past
    // LOG_KEEP (the row names the reserved pair, which every process ignores).
    let jump = (LOG_KEEP as u64 / PRUNE_EVERY + 2) * PRUNE_EVERY - 1;
    let raw = Connection::open(&path).expect("raw");
    raw.execute(
        "INSERT INTO changes(seq, key, taken) VALUES (?1, 523775, 1)",
        [jump as i64],
    )
    .expect("jump");
    drop(raw);
    // One write from a fresh, short-lived connection (one CLI call) prunes.
    let reg = Registry::open(&path).expect("open");
    reg.allocate_for("one-more").expect("alloc");
    let (min, max): (i64, i64) = reg
        .sqlite()
        .conn
        .query_row("SELECT min(seq), max(seq) FROM changes", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("log");
    assert_eq!(max as u64, jump + 1);
    assert_eq!(min as u64, jump, "rows older than LOG_KEEP are gone");
    assert_eq!(reg.len().expect("len"), 11);
}
