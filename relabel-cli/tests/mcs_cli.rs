//! `relabel alloc | reserve | release | list` end to end, on a registry in a
//! temporary directory.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// `relabel` with no registry taken from the environment (every test passes
/// `--db` on a temporary file).
fn relabel(_db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("relabel").expect("the relabel binary");
    cmd.env_remove("SELINUX_MCS_DB");
    cmd
}

fn run_json(db: &Path, args: &[&str]) -> Value {
    let out = relabel(db)
        .args(args)
        .arg("--db")
        .arg(db)
        .arg("--json")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn is_pair(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("s0:c") else {
        return false;
    };
    let Some((a, b)) = rest.split_once(",c") else {
        return false;
    };
    matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a < b && b <= 1023)
}

#[test]
fn alloc_prints_one_level_a_line_and_json_arrays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let out = relabel(&db)
        .args(["alloc", "--count", "3", "--db"])
        .arg(&db)
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| is_pair(l)), "{text}");

    let doc = run_json(&db, &["alloc", "--owner", "volume:pg"]);
    let arr = doc.as_array().expect("an array");
    assert_eq!(arr.len(), 1);
    let obj = arr[0].as_object().expect("an object");
    // serde_json's map sorts keys; the order printed is checked below.
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["level", "owner"]);
    assert_eq!(obj["owner"], "volume:pg");
    let level = obj["level"].as_str().expect("string").to_owned();
    assert!(is_pair(&level));
    // The same owner gets the same pair back.
    let again = run_json(&db, &["alloc", "--owner", "volume:pg"]);
    assert_eq!(again[0]["level"], level.as_str());
    relabel(&db)
        .args(["alloc", "--owner", "volume:pg", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout(format!("{level}\n"));

    // The keys come out in the documented order.
    relabel(&db)
        .args(["alloc", "--owner", "volume:pg", "--json", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout(format!(
            "[{{\"owner\":\"volume:pg\",\"level\":\"{level}\"}}]\n"
        ));
    relabel(&db)
        .args(["list", "--json", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{{\"owner\":\"volume:pg\",\"level\":\"{level}\",\"created\":"
        )));

    let list = run_json(&db, &["list"]);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 4);
    for e in list {
        let o = e.as_object().expect("object");
        assert_eq!(o.keys().collect::<Vec<_>>(), ["created", "level", "owner"]);
        assert!(o["created"].as_i64().expect("unix seconds") > 1_600_000_000);
    }
    relabel(&db)
        .args(["list", "--db"])
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("volume:pg\t{level}\t")));
}

#[test]
fn reserve_release_and_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let ok = |args: &[&str]| {
        relabel(&db)
            .args(args)
            .arg("--db")
            .arg(&db)
            .assert()
            .success()
    };
    ok(&["reserve", "s0:c5,c2", "--owner", "web"]).stdout("s0:c2,c5\n");
    let doc = run_json(&db, &["reserve", "s0:c2,c5", "--owner", "web"]);
    assert_eq!(
        doc,
        serde_json::json!({"owner": "web", "level": "s0:c2,c5"})
    );
    relabel(&db)
        .args(["reserve", "s0:c2,c5", "--owner", "db", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already taken by owner \"web\""));
    for (level, msg) in [
        ("s0:c2", "not an MCS pair"),
        ("s0:c1.c3", "not an MCS pair"),
        ("s0:c1,,c2", "byte 6"),
        ("s1:c1,c2", "s1"),
    ] {
        relabel(&db)
            .args(["reserve", level, "--owner", "x", "--db"])
            .arg(&db)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
    ok(&["release", "--owner", "web"]).stdout("released s0:c2,c5 (owner web)\n");
    relabel(&db)
        .args(["release", "--owner", "web", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("holds no pair"));
    ok(&["reserve", "s0:c2,c5", "--owner", "db"]);
    let doc = run_json(&db, &["release", "s0:c5,c2"]);
    assert_eq!(doc, serde_json::json!({"owner": "db", "level": "s0:c2,c5"}));
    relabel(&db)
        .args(["release", "--db"])
        .arg(&db)
        .assert()
        .code(2);
}

#[test]
fn exhausted_pool_exits_3_with_its_size_and_bad_pools_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    relabel(&db)
        .args(["alloc", "--pool", "c0.c3", "--count", "6", "--db"])
        .arg(&db)
        .assert()
        .success();
    relabel(&db)
        .args(["alloc", "--pool", "c0.c3", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the pool c0.c3 holds 6 pairs"));
    // All or nothing: 5 from a 10-pair pool that has 4 left.
    relabel(&db)
        .args(["alloc", "--pool", "c0.c4", "--count", "5", "--db"])
        .arg(&db)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "asked for 5 pairs; the pool has 4 free of 10",
        ));
    assert_eq!(run_json(&db, &["list"]).as_array().map(Vec::len), Some(6));
    relabel(&db)
        .args([
            "alloc",
            "--pool",
            "c0.c1023",
            "--exclude",
            "c0.c1021",
            "--db",
        ])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "makes no pair that can be handed out",
        ));
    for (pool, msg) in [
        ("c7", "holds 1 category"),
        ("c5.c1", "byte 0"),
        ("x", "bad pool"),
    ] {
        relabel(&db)
            .args(["alloc", "--pool", pool, "--db"])
            .arg(&db)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
    relabel(&db)
        .args(["alloc", "--owner", "a", "--count", "2", "--db"])
        .arg(&db)
        .assert()
        .code(2);
}

#[test]
fn a_foreign_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("notes.txt");
    std::fs::write(&db, "my precious notes\n".repeat(100)).expect("write");
    for args in [
        &["list"][..],
        &["alloc"],
        &["reserve", "s0:c1,c2", "--owner", "x"],
    ] {
        relabel(&db)
            .args(args)
            .arg("--db")
            .arg(&db)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("is not a selinux-mcs registry"));
    }
    assert_eq!(
        std::fs::read_to_string(&db).expect("read"),
        "my precious notes\n".repeat(100)
    );
}

#[test]
fn selinux_mcs_db_sets_the_default_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("sub/mcs.db");
    let out = Command::cargo_bin("relabel")
        .expect("bin")
        .env("SELINUX_MCS_DB", &db)
        .args(["alloc", "--owner", "env"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
}

#[test]
fn adopt_records_the_pairs_this_host_uses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let proc_root = dir.path().join("proc");
    for (pid, label) in [
        ("20", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("21", "system_u:system_r:container_t:s0:c7,c9\0"),
        ("22", "system_u:system_r:spc_t:s0\0"),
        ("23", "garbage"),
    ] {
        let attr = proc_root.join(pid).join("attr");
        std::fs::create_dir_all(&attr).expect("mkdir");
        std::fs::write(attr.join("current"), label).expect("write");
    }
    let report = run_json(&db, &["adopt", "--proc", proc_root.to_str().expect("utf8")]);
    assert_eq!(
        report["adopted"].as_array().expect("array").len(),
        1,
        "{report}"
    );
    let adopted = &report["adopted"][0];
    assert_eq!(adopted["level"], "s0:c7,c9");
    assert_eq!(
        adopted["owner"],
        format!("adopted:{}", proc_root.join("20").display())
    );
    assert_eq!(
        adopted["source"],
        proc_root.join("20/attr/current").display().to_string()
    );
    assert_eq!(report["already_held"], 1);
    assert_eq!(report["not_pairs"], 1);
    assert_eq!(report["unreadable"], 1);
    // Text output; a second run records nothing new.
    relabel(&db)
        .args(["adopt", "--proc"])
        .arg(&proc_root)
        .arg("--db")
        .arg(&db)
        .assert()
        .success()
        .stdout("0 adopted, 2 already held, 1 not pairs, 1 unreadable, 0 unlabeled\n");
    // The adopted pair is never handed out.
    relabel(&db)
        .args(["reserve", "s0:c7,c9", "--owner", "new", "--db"])
        .arg(&db)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already taken"));
    // A path that does not exist is an error naming it.
    relabel(&db)
        .args(["adopt", "--no-processes", "--db"])
        .arg(&db)
        .arg(dir.path().join("nope"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nope"));
}

#[test]
fn a_bad_registry_url_is_a_usage_error_naming_the_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    relabel(&db)
        .args(["alloc", "--db", "etcd://10.0.0.1:x/mcs"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad registry location \"etcd://10.0.0.1:x/mcs\" at byte 16: port \"x\"",
        ));
    relabel(&db)
        .env("SELINUX_MCS_DB", "http://10.0.0.1:2379")
        .args(["list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in $SELINUX_MCS_DB"));
    relabel(&db)
        .args(["list", "--timeout", "5h", "--db"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a duration"));
    assert!(!db.exists());
}

#[cfg(not(feature = "etcd"))]
#[test]
fn without_the_etcd_feature_an_etcd_url_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    relabel(dir.path())
        .args(["alloc", "--db", "etcd://127.0.0.1:2379/mcs"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "registry etcd://127.0.0.1:2379/mcs: this build of selinux-mcs has no etcd support",
        ));
}
