//! `relabel` with `--db etcd://...` (feature `etcd`), against a real etcd
//! the tests start on loopback (`selinux_mcs_tests::etcd`). Skipped without
//! an etcd binary unless `SELINUX_MCS_REQUIRE_ETCD=1` (CI), when they fail.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use selinux_mcs_tests::etcd::{free_port, Cluster};
use serde_json::Value;

fn relabel() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relabel"));
    cmd.env_remove("SELINUX_MCS_DB");
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn alloc_reserve_release_list_on_etcd() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("cli");
    let a = ok(relabel().args(["alloc", "--owner", "volume:pgdata", "--db", &url]));
    let b = ok(relabel().args(["alloc", "--owner", "volume:pgdata", "--db", &url]));
    assert_eq!(a, b, "the same owner gets the same pair");
    // $SELINUX_MCS_DB picks the registry too.
    let c = ok(relabel()
        .env("SELINUX_MCS_DB", &url)
        .args(["alloc", "--owner", "volume:pgdata"]));
    assert_eq!(a, c);
    ok(relabel().args([
        "reserve",
        "s0:c1,c2",
        "--owner",
        "container:web",
        "--db",
        &url,
    ]));
    let out = relabel()
        .args([
            "reserve",
            "s0:c1,c2",
            "--owner",
            "container:db",
            "--db",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already taken by owner \"container:web\"")
    );
    let two = ok(relabel().args(["alloc", "--count", "2", "--json", "--db", &url]));
    let two: Value = serde_json::from_str(&two).unwrap();
    assert_eq!(two.as_array().unwrap().len(), 2);
    // One etcd transaction holds at most 63 pairs: a usage error, nothing allocated.
    let out = relabel()
        .args(["alloc", "--count", "64", "--db", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 63"));

    let list: Value =
        serde_json::from_str(&ok(relabel().args(["list", "--json", "--db", &url]))).unwrap();
    let owners: HashSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["owner"].as_str().unwrap())
        .collect();
    assert_eq!(owners.len(), 4);
    assert!(owners.contains("volume:pgdata") && owners.contains("container:web"));

    let released = ok(relabel().args(["release", "--owner", "volume:pgdata", "--db", &url]));
    assert!(
        released.starts_with(&format!("released {}", a.trim())),
        "{released}"
    );
    let out = relabel()
        .args(["release", "--owner", "volume:pgdata", "--db", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // list on an empty prefix creates nothing: "no registry".
    let out = relabel()
        .args(["list", "--db", &cluster.url("nothing-here")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no registry"));
}

#[test]
fn sixteen_processes_allocating_for_one_owner_get_one_pair() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("owner16");
    let children: Vec<_> = (0..16)
        .map(|_| {
            relabel()
                .args([
                    "alloc",
                    "--owner",
                    "volume:shared",
                    "--timeout",
                    "30s",
                    "--db",
                    &url,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut printed = HashSet::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.insert(String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(printed.len(), 1, "{printed:?}");
    let list = ok(relabel().args(["list", "--db", &url]));
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains(printed.iter().next().unwrap().trim()));
}

#[test]
fn an_unreachable_etcd_exits_1_within_the_timeout_naming_the_endpoints() {
    let (p1, p2) = (free_port(), free_port());
    let url = format!("etcd://127.0.0.1:{p1},127.0.0.1:{p2}/x");
    for args in [
        vec!["alloc", "--owner", "vol", "--timeout", "1s"],
        vec!["list", "--timeout", "1s"],
        vec!["adopt", "--no-processes", "--timeout", "1s"],
    ] {
        let start = Instant::now();
        let out = relabel().args(&args).args(["--db", &url]).output().unwrap();
        let took = start.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            err.contains(&format!("127.0.0.1:{p1},127.0.0.1:{p2}")),
            "{err}"
        );
        assert!(err.contains("etcd gave no answer within"), "{err}");
        assert!(took < Duration::from_secs(4), "{args:?} took {took:?}");
    }
    // The default timeout is a few seconds, not forever.
    let start = Instant::now();
    let out = relabel().args(["alloc", "--db", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        start.elapsed() < Duration::from_secs(9),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn adopt_records_process_and_path_labels_in_etcd() {
    let Some(cluster) = Cluster::start(1) else {
        return;
    };
    let url = cluster.url("adopt");
    let dir = tempfile::tempdir().unwrap();
    let proc_root = dir.path().join("proc");
    for (pid, label) in [
        ("20", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("21", "system_u:system_r:spc_t:s0\0"),
        ("22", "garbage"),
    ] {
        let attr = proc_root.join(pid).join("attr");
        std::fs::create_dir_all(&attr).unwrap();
        std::fs::write(attr.join("current"), label).unwrap();
    }
    let out = ok(relabel()
        .args(["adopt", "--json", "--proc"])
        .arg(&proc_root)
        .args(["--db", &url]));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["adopted"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["adopted"][0]["level"], "s0:c7,c9");
    assert_eq!(report["not_pairs"], 1);
    assert_eq!(report["unreadable"], 1);
    let again = ok(relabel()
        .args(["adopt", "--proc"])
        .arg(&proc_root)
        .args(["--db", &url]));
    assert!(again.starts_with("0 adopted, 1 already held"), "{again}");
    let out = relabel()
        .args(["reserve", "s0:c7,c9", "--owner", "new", "--db", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an adopted pair is taken");
}
