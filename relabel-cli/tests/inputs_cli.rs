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
    cmd.env_remove("SELINUX_MCS_DB").timeout(TIMEOUT);
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
