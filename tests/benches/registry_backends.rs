//! Allocations per second from 1 and 8 client processes, on the SQLite
//! registry and on etcd (one member, and a three-member cluster on
//! loopback), in one run on one machine:
//!
//! ```text
//! cargo bench -p selinux-mcs-tests --features etcd --bench registry_backends [-- --each N --rounds R]
//! ```
//!
//! Each client is a process (`mcs-worker`) that opens the registry once and
//! allocates EACH pairs for distinct owners, one transaction each, printing
//! each pair as it gets it (as `relabel alloc` would). The rate is every
//! client's allocations over the wall time from the first spawn to the last
//! exit (process start and connecting included), the median of ROUNDS runs,
//! each on a fresh database file or etcd prefix. Files and etcd data live
//! under the target directory (on disk: /tmp may be a tmpfs, which would
//! flatter the fsyncs of both). etcd is Debian's `etcd-server`, started with
//! its defaults (fsync on every commit); the checks of every test apply:
//! each run verifies that no pair was printed twice.
//!
//! Then, when `target/release/relabel` exists and was built with the `etcd`
//! feature (`cargo build --release -p relabel-cli --features etcd`), the
//! latency of one command: 50 `relabel alloc --owner` in a row (a process
//! each: start, connect, allocate, print), as milliseconds per call.
#![allow(clippy::unwrap_used)] // a bench: a panic is the failure report

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use selinux_mcs_tests::etcd::Cluster;

const WORKER: &str = env!("CARGO_BIN_EXE_mcs-worker");

/// Runs `clients` workers of `each` allocations on `location`; returns
/// allocations per second.
fn run(location: &str, clients: usize, each: u64, tag: &str) -> f64 {
    let start = Instant::now();
    let children: Vec<_> = (0..clients)
        .map(|i| {
            Command::new(WORKER)
                .arg(location)
                .arg(format!("{tag}c{i}"))
                .arg(each.to_string())
                .env("MCS_WORKER_TIMEOUT_MS", "60000")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = HashSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            assert!(seen.insert(line.to_owned()), "{line} handed out twice");
        }
    }
    let took = start.elapsed();
    assert_eq!(seen.len() as u64, clients as u64 * each);
    seen.len() as f64 / took.as_secs_f64()
}

/// Milliseconds per `relabel alloc --owner` call, 50 in a row; `None`
/// when the binary cannot use `location`.
fn cli(relabel: &Path, location: &str) -> Option<f64> {
    let calls = 50;
    let start = Instant::now();
    for i in 0..calls {
        let out = Command::new(relabel)
            .args(["alloc", "--owner", &format!("cli-{i}"), "--db", location])
            .env_remove("SELINUX_MCS_DB")
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!("relabel: {}", String::from_utf8_lossy(&out.stderr).trim());
            return None;
        }
    }
    Some(start.elapsed().as_secs_f64() * 1000.0 / f64::from(calls))
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes --bench; a filter argument other than ours is ignored.
    let each = arg("--each", 300);
    let rounds = arg("--rounds", 3) as usize;
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    let files = tempfile::tempdir_in(base).unwrap();
    let one = Cluster::start_in(1, Some(base)).expect("etcd (install etcd-server)");
    let three = Cluster::start_in(3, Some(base)).expect("etcd (install etcd-server)");
    println!(
        "| registry | clients | allocations per run | allocations/s (median of {rounds}) | runs |"
    );
    println!("|---|---|---|---|---|");
    for (name, location) in [
        ("SQLite (file)", None),
        ("etcd, 1 member", Some(&one)),
        ("etcd, 3 members", Some(&three)),
    ] {
        for clients in [1usize, 8] {
            let mut rates: Vec<f64> = (0..rounds)
                .map(|r| {
                    let prefix = format!("bench-{clients}-{r}");
                    let loc = match location {
                        None => files
                            .path()
                            .join(format!("{prefix}.db"))
                            .to_string_lossy()
                            .into_owned(),
                        Some(cluster) => cluster.url(&prefix),
                    };
                    run(&loc, clients, each, &prefix)
                })
                .collect();
            rates.sort_by(f64::total_cmp);
            println!(
                "| {name} | {clients} | {} | {:.0} | {} |",
                clients as u64 * each,
                rates[rates.len() / 2],
                rates
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let relabel: PathBuf = base.join("../release/relabel");
    if !relabel.exists() {
        println!("(no {}: no command latency)", relabel.display());
        return;
    }
    println!();
    println!("| registry | `relabel alloc --owner`, ms per call (50 in a row) |");
    println!("|---|---|");
    for (name, location) in [
        ("SQLite (file)", None),
        ("etcd, 1 member", Some(&one)),
        ("etcd, 3 members", Some(&three)),
    ] {
        let loc = match location {
            None => files.path().join("cli.db").to_string_lossy().into_owned(),
            Some(cluster) => cluster.url("cli"),
        };
        match cli(&relabel, &loc) {
            Some(ms) => println!("| {name} | {ms:.1} |"),
            None => println!("| {name} | (this relabel cannot use it) |"),
        }
    }
}
