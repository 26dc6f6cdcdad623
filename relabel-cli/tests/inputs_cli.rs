//! Issue 12, findings 9, 10, 14 and 15 end to end: read-only registry
//! commands create nothing, input files are regular files of bounded size
//! (a FIFO never blocks), `alloc --count` above the free pairs fails at
//! once, and a file_contexts regex too big to compile is a load error.
//!
//! Every command that could block runs under a timeout, so a regression
//! fails instead of hanging.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

/// Long enough for a slow CI machine, short enough that a hang fails.
const TIMEOUT: Duration = Duration::from_secs(20);

fn relabel() -> Command {
    let mut cmd = Command::cargo_bin("relabel").expect("the relabel binary");
    cmd.env_remove("SELINUX_MCS_DB")
        .env("SELINUX_MCS_POLICY", "none")
        .timeout(TIMEOUT);
    cmd
}

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("mkfifo");
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------
// Finding 9: read-only registry commands

#[test]
fn list_and_release_on_a_missing_registry_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("typo.db");
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["release", "--owner", "volume:pg"],
        &["release", "s0:c1,c2"],
    ] {
        relabel()
            .args(args)
            .arg("--db")
            .arg(&db)
            .assert()
            .code(1)
            .stderr(format!("relabel: no registry at {}\n", db.display()));
        assert_eq!(names(dir.path()), Vec::<String>::new(), "{args:?}");
    }
    // The default path (here from $SELINUX_MCS_DB): its directory is not
    // made either.
    let default = dir.path().join("state/selinux-mcs/mcs.db");
    relabel()
        .env("SELINUX_MCS_DB", &default)
        .arg("list")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no registry at"));
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn an_empty_or_foreign_file_is_never_made_a_registry_by_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").expect("write");
    for args in [&["list"][..], &["release", "--owner", "x"]] {
        relabel()
            .args(args)
            .arg("--db")
            .arg(&empty)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "is not a selinux-mcs registry: an empty file",
            ));
    }
    let short = dir.path().join("short.db");
    std::fs::write(&short, "abc").expect("write");
    relabel()
        .args(["list", "--db"])
        .arg(&short)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an SQLite database"));
    assert_eq!(std::fs::read(&empty).expect("read"), b"");
    assert_eq!(std::fs::read(&short).expect("read"), b"abc");
    assert_eq!(names(dir.path()), ["empty.db", "short.db"]);
}

#[test]
fn release_of_nothing_held_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    relabel()
        .args(["reserve", "s0:c1,c2", "--owner", "web", "--db"])
        .arg(&db)
        .assert()
        .success();
    let before = std::fs::read(&db).expect("read");
    let modified = std::fs::metadata(&db)
        .and_then(|m| m.modified())
        .expect("mtime");
    relabel()
        .args(["release", "--owner", "nobody", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("holds no pair"));
    relabel()
        .args(["release", "s0:c3,c4", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nobody holds s0:c3,c4"));
    relabel()
        .args(["list", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("web\ts0:c1,c2\t"));
    assert_eq!(std::fs::read(&db).expect("read"), before);
    assert_eq!(
        std::fs::metadata(&db)
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified
    );
    // Releasing what is held still works.
    relabel()
        .args(["release", "--owner", "web", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout("released s0:c1,c2 (owner web)\n");
}

// ---------------------------------------------------------------------------
// Finding 10: input files

#[test]
fn a_fifo_as_the_registry_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("mcs.db");
    mkfifo(&fifo);
    for args in [
        &["list"][..],
        &["alloc"],
        &["reserve", "s0:c1,c2", "--owner", "x"],
        &["release", "--owner", "x"],
    ] {
        relabel()
            .args(args)
            .arg("--db")
            .arg(&fifo)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "{} is not a selinux-mcs registry: a FIFO, not a regular file",
                fifo.display()
            )));
    }
    assert_eq!(names(dir.path()), ["mcs.db"]);
}

fn write_rules(dir: &Path) -> PathBuf {
    let fc = dir.join("file_contexts");
    std::fs::write(&fc, "/srv(/.*)?  system_u:object_r:var_t:s0\n").expect("write");
    fc
}

#[test]
fn a_fifo_as_file_contexts_or_a_sibling_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    relabel()
        .args(["lookup", "/srv/a", "--file-contexts"])
        .arg(&fifo)
        .assert()
        .code(2)
        .stderr(format!(
            "relabel: {} is a FIFO, not a regular file\n",
            fifo.display()
        ));
    let fc = write_rules(dir.path());
    for suffix in ["homedirs", "local", "subs_dist", "subs"] {
        let sibling = dir.path().join(format!("file_contexts.{suffix}"));
        mkfifo(&sibling);
        relabel()
            .args(["lookup", "/srv/a", "--file-contexts"])
            .arg(&fc)
            .assert()
            .code(2)
            .stderr(format!(
                "relabel: {} is a FIFO, not a regular file\n",
                sibling.display()
            ));
        std::fs::remove_file(&sibling).expect("rm");
    }
    relabel()
        .args(["lookup", "/srv/a", "--file-contexts"])
        .arg(&fc)
        .assert()
        .success()
        .stdout("/srv/a\tsystem_u:object_r:var_t:s0\n");
}

#[test]
fn dev_zero_is_refused_at_once_not_read() {
    let start = Instant::now();
    relabel()
        .args(["lookup", "/srv/a", "--file-contexts", "/dev/zero"])
        .assert()
        .code(2)
        .stderr("relabel: /dev/zero is a character device, not a regular file\n");
    relabel()
        .args([
            "explain",
            "--setrans",
            "/dev/zero",
            "system_u:system_r:container_t:s0:c1,c2",
        ])
        .assert()
        .code(2)
        .stderr("relabel: /dev/zero is a character device, not a regular file\n");
    assert!(start.elapsed() < TIMEOUT, "{:?}", start.elapsed());
}

#[test]
fn files_over_64_mib_are_refused_naming_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fc = write_rules(dir.path());
    // A sparse file: no disk space, no data read.
    let local = dir.path().join("file_contexts.local");
    std::fs::File::create(&local)
        .and_then(|f| f.set_len((64 << 20) + (1 << 20)))
        .expect("sparse file");
    relabel()
        .args(["lookup", "/srv/a", "--file-contexts"])
        .arg(&fc)
        .assert()
        .code(2)
        .stderr(format!(
            "relabel: {} is 65 MiB, over the 64 MiB limit\n",
            local.display()
        ));
    let setrans = dir.path().join("setrans.conf");
    std::fs::File::create(&setrans)
        .and_then(|f| f.set_len(4_200_000_000))
        .expect("sparse file");
    relabel()
        .args(["explain", "system_u:system_r:container_t:s0", "--setrans"])
        .arg(&setrans)
        .assert()
        .code(2)
        .stderr(format!(
            "relabel: {} is 3.9 GiB, over the 64 MiB limit\n",
            setrans.display()
        ));
}

// ---------------------------------------------------------------------------
// Finding 14: alloc --count above the free pairs

#[test]
fn alloc_count_above_the_free_pairs_fails_at_once_allocating_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    relabel()
        .args(["alloc", "--pool", "c4.c9", "--count", "16", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr("relabel: asked for 16 pairs; the pool has 15 free of 15\n");
    let start = Instant::now();
    relabel()
        .args(["alloc", "--count", "4294967295", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr("relabel: asked for 4294967295 pairs; the pool has 523775 free of 523775\n");
    // Before the fix this took 13 s (the whole pool, then a rollback).
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    relabel()
        .args(["list", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout("");
    // 15 fit; then 2 more do not, and 1 more is "exhausted".
    relabel()
        .args(["alloc", "--pool", "c4.c9", "--count", "15", "--db"])
        .arg(&db)
        .assert()
        .success();
    relabel()
        .args(["alloc", "--pool", "c4.c9", "--count", "2", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr("relabel: asked for 2 pairs; the pool has 0 free of 15\n");
    relabel()
        .args(["alloc", "--pool", "c4.c9", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("every one is taken"));
}

#[test]
fn a_pool_with_no_pairs_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    relabel()
        .args(["alloc", "--pool", "c4", "--db"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds 1 category"));
    // One pair, and it is the privileged containers' reserved pair.
    relabel()
        .args(["alloc", "--pool", "c1022,c1023", "--db"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(
            "relabel: the pool c1022,c1023 makes no pair that can be handed out \
             (its 1 pair is reserved)\n",
        );
}

// ---------------------------------------------------------------------------
// Finding 15: a regex too big to compile

#[test]
fn a_regex_too_big_to_compile_is_a_load_error_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fc = dir.path().join("file_contexts");
    std::fs::write(
        &fc,
        "/big(/.*)?  system_u:object_r:usr_t:s0\n\
         /big/a{0,1000}{0,1000}  system_u:object_r:etc_t:s0\n",
    )
    .expect("write");
    // Before the fix the rule silently never matched: usr_t, exit 0. PCRE2
    // (libselinux's engine) rejects the stacked quantifier outright.
    relabel()
        .args(["lookup", "/big/aaaa", "--file-contexts"])
        .arg(&fc)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "relabel: {}:2: invalid regex \"/big/a{{0,1000}}{{0,1000}}\": PCRE2 rejects it",
            fc.display()
        )));
}
