//! The registry across real processes: the `mcs-worker` helper binary
//! (`tests/src/bin/mcs-worker.rs`) allocates from one database file.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use selinux_mcs::mcs::Registry;
use selinux_mcs::mls::Level;

const WORKER: &str = env!("CARGO_BIN_EXE_mcs-worker");

fn worker(db: &Path, prefix: &str, count: u64) -> Command {
    let mut cmd = Command::new(WORKER);
    cmd.arg(db).arg(prefix).arg(count.to_string());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

#[test]
fn eight_processes_allocate_8000_distinct_pairs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    // Create it first so that the workers race on allocation, not creation.
    drop(Registry::open(&db).expect("create"));
    let children: Vec<_> = (0..8)
        .map(|i| {
            worker(&db, &format!("w{i}"), 1000)
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    let mut seen = HashSet::new();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1000);
        for line in lines {
            let level: Level = line.parse().expect("a level");
            assert!(seen.insert(level), "pair {line} handed out twice");
        }
    }
    assert_eq!(seen.len(), 8000);
    let reg = Registry::open(&db).expect("open");
    let listed: HashSet<Level> = reg
        .list()
        .expect("list")
        .into_iter()
        .map(|e| e.level)
        .collect();
    assert_eq!(listed, seen);
    reg.check().expect("integrity");
}

#[test]
fn a_worker_killed_mid_allocation_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    drop(Registry::open(&db).expect("create"));
    let mut printed = HashSet::new();
    for round in 0..6u64 {
        // Two workers at once, so the kill can land while one waits for the
        // lock and the other is inside its transaction.
        let mut children: Vec<_> = (0..2)
            .map(|i| {
                worker(&db, &format!("r{round}w{i}"), 1_000_000)
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + 37 * round));
        for child in &mut children {
            // SIGKILL: no destructor, no rollback, no checkpoint.
            child.kill().expect("kill");
        }
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(!out.status.success(), "worker should have been killed");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let level: Level = line.parse().expect("a whole line is a level");
                assert!(printed.insert(level), "pair {line} handed out twice");
            }
        }
        // The database opens, holds every pair a worker reported, and no pair twice.
        let reg = Registry::open(&db).expect("reopen after SIGKILL");
        reg.check().expect("integrity after SIGKILL");
        let entries = reg.list().expect("list");
        let levels: HashSet<Level> = entries.iter().map(|e| e.level).collect();
        assert_eq!(levels.len(), entries.len(), "a pair with two owners");
        let owners: HashSet<&str> = entries.iter().map(|e| e.owner.as_str()).collect();
        assert_eq!(owners.len(), entries.len(), "an owner with two pairs");
        // A committed transaction may be killed before its line is printed,
        // never the other way round.
        assert!(printed.is_subset(&levels), "a reported pair is missing");
        assert!(levels.len() - printed.len() <= 2 * (round as usize + 1));
        // And it keeps working.
        let e = reg
            .allocate_for(&format!("after-{round}"))
            .expect("allocate");
        assert!(!printed.contains(&e.level));
        printed.insert(e.level);
    }
    assert!(printed.len() > 12, "the workers did allocate something");
}

#[test]
fn processes_sharing_a_tiny_pool_exhaust_it_without_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    drop(Registry::open(&db).expect("create"));
    // c0.c19: 190 pairs for 4 x 100 requests.
    let children: Vec<_> = (0..4)
        .map(|i| {
            let mut cmd = worker(&db, &format!("t{i}"), 100);
            cmd.arg("c0.c19");
            cmd.spawn().expect("spawn")
        })
        .collect();
    let mut seen = HashSet::new();
    let mut exhausted = 0;
    for child in children {
        let out = child.wait_with_output().expect("wait");
        match out.status.code() {
            Some(0) => {}
            Some(3) => {
                exhausted += 1;
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("holds 190 pairs"), "{err}");
            }
            other => panic!(
                "worker exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            assert!(seen.insert(line.to_owned()), "pair {line} handed out twice");
        }
    }
    assert_eq!(seen.len(), 190);
    assert!(exhausted >= 2);
}

#[test]
fn processes_creating_the_database_at_once_agree_on_it() {
    for round in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("fresh.db");
        let children: Vec<_> = (0..4)
            .map(|i| {
                worker(&db, &format!("c{round}-{i}"), 50)
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        let mut seen = HashSet::new();
        for child in children {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "worker failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                assert!(seen.insert(line.to_owned()), "pair {line} handed out twice");
            }
        }
        assert_eq!(seen.len(), 200);
        let reg = Registry::open(&db).expect("open");
        assert_eq!(reg.len().expect("len"), 200);
    }
}
