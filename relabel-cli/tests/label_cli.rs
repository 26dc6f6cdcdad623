//! `relabel apply`, `show` and `mount-option` end to end.

use predicates::prelude::*;

mod common;
use common::{relabel, xattrs_work};

fn volume() -> Option<tempfile::TempDir> {
    let tmp = tempfile::tempdir().expect("test setup");
    if !xattrs_work(tmp.path()) {
        return None;
    }
    std::fs::create_dir_all(tmp.path().join("v/a")).expect("test setup");
    std::fs::write(tmp.path().join("v/a/f"), "x").expect("test setup");
    std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("v/passwd")).expect("test setup");
    Some(tmp)
}

#[test]
fn apply_shared_json_then_nothing_to_change() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    let out = relabel()
        .args(["apply", "--shared", "--json"])
        .arg(&v)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"visited": 4, "changed": 4, "unchanged": 0, "failed": 0, "failures": [],
            "skipped_mounts": 0, "mount_points": [], "hardlinked": 0, "hardlinks": [],
            "customized": 0, "customized_paths": []})
    );
    relabel()
        .args(["apply", "--shared"])
        .arg(&v)
        .assert()
        .success()
        .stdout("4 visited, 0 changed, 4 unchanged, 0 failed\n");
    relabel()
        .args(["show", "-R"])
        .arg(&v)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "system_u:object_r:container_file_t:s0 {}/passwd\n",
            v.display()
        )));
}

#[test]
fn apply_private_level_dry_run_verbose() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    relabel()
        .args([
            "apply",
            "--private",
            "--level",
            "s0:c9,c1",
            "--dry-run",
            "-v",
        ])
        .arg(&v)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "would relabel {}/a/f to system_u:object_r:container_file_t:s0:c1,c9",
            v.display()
        )))
        .stdout(predicate::str::ends_with(
            "4 visited, 4 would change, 0 unchanged, 0 failed\n",
        ));
    // Nothing was written.
    relabel()
        .args(["show", "--json"])
        .arg(v.join("a/f"))
        .assert()
        .success()
        .stdout(format!(
            "[{{\"error\":null,\"label\":null,\"path\":\"{}\"}}]\n",
            v.join("a/f").display()
        ));
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    relabel()
        .args(["apply", "--context", "u:r:t:s0:c5.c1"])
        .arg(&v)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad context \"u:r:t:s0:c5.c1\""));
    relabel()
        .args(["apply", "--private"])
        .arg(&v)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--private needs --level LEVEL or --owner NAME",
        ));
    // A registry file that is not ours: refused, nothing written to it or
    // to the volume.
    let foreign = tmp.path().join("foreign.db");
    std::fs::write(&foreign, "not a database").unwrap();
    relabel()
        .args(["apply", "--private", "--owner", "web", "--db"])
        .arg(&foreign)
        .arg(&v)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("foreign.db"));
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not a database");
    // A protected path among good ones: refused before anything is written.
    relabel()
        .args(["apply", "--shared"])
        .arg(&v)
        .arg("/usr//")
        .assert()
        .code(2)
        .stderr(
            "relabel: refusing to relabel /usr//: it resolves to /usr, the protected path /usr\n",
        );
    relabel()
        .args(["show"])
        .arg(&v)
        .assert()
        .stdout(format!("? {}\n", v.display()));
    relabel().args(["apply", "--shared"]).assert().code(2);
}

#[test]
fn apply_help_lists_the_protected_paths() {
    relabel()
        .args(["apply", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("/var/lib"))
        .stdout(predicate::str::contains("~/.ssh"));
}

#[test]
fn missing_paths_are_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    relabel()
        .args(["apply", "--shared"])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot resolve"));
    relabel().arg("show").arg(&missing).assert().code(1);
}

#[test]
fn failures_exit_1_and_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("ramfs");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "ramfs", "none"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            !std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1"),
            "mount -t ramfs is required"
        );
        eprintln!("skipping: cannot mount ramfs here");
        return;
    }
    std::fs::write(mnt.join("f"), "x").unwrap();
    let out = relabel()
        .args(["apply", "--shared", "--json"])
        .arg(&mnt)
        .output()
        .unwrap();
    let _ = std::process::Command::new("umount")
        .arg("-l")
        .arg(&mnt)
        .status();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["failed"], 2);
    let failures = json["failures"].as_array().unwrap();
    assert_eq!(failures[0]["path"], mnt.join("f").to_str().unwrap());
    assert!(
        failures[0]["error"]
            .as_str()
            .unwrap()
            .contains("the filesystem does not support SELinux labels"),
        "{failures:?}"
    );
}

#[test]
fn mount_option() {
    relabel()
        .args([
            "mount-option",
            "system_u:object_r:container_file_t:s0:c5,c2",
        ])
        .assert()
        .success()
        .stdout("context=\"system_u:object_r:container_file_t:s0:c2,c5\"\n");
    relabel()
        .args(["mount-option", "s0:110"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad label \"s0:110\""));
}

#[test]
fn apply_private_owner_takes_its_pair_from_the_registry() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    let db = tmp.path().join("mcs.db");
    let run = || {
        relabel()
            .args(["apply", "--private", "--owner", "vol1", "--db"])
            .arg(&db)
            .arg(&v)
            .assert()
            .success();
        selinux_mcs::label::get(v.join("a/f")).unwrap()
    };
    let first = run();
    let level = first.level().unwrap().to_string();
    assert_eq!(first.level().unwrap().categories().len(), 2, "{first}");
    // The same owner keeps its pair.
    assert_eq!(run(), first);
    let out = relabel()
        .args(["list", "--json", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["owner"], "vol1");
    assert_eq!(list[0]["level"], level.as_str());
}

/// Issue 12, finding 6: a symlink given as the volume is followed to the
/// directory (as chcon does); `-h` labels the link itself.
#[test]
fn a_symlink_volume_is_followed_unless_no_dereference() {
    let Some(tmp) = volume() else { return };
    let link = tmp.path().join("linkdir");
    std::os::unix::fs::symlink(tmp.path().join("v/a"), &link).expect("test setup");
    relabel()
        .args(["apply", "--shared", "-h"])
        .arg(&link)
        .assert()
        .success()
        .stdout("1 visited, 1 changed, 0 unchanged, 0 failed\n");
    assert!(selinux_mcs::label::get(tmp.path().join("v/a/f")).is_err());
    relabel()
        .args(["apply", "--shared"])
        .arg(&link)
        .assert()
        .success()
        .stdout("2 visited, 2 changed, 0 unchanged, 0 failed\n");
    let f = selinux_mcs::label::get(tmp.path().join("v/a/f")).expect("labeled");
    assert_eq!(f.to_string(), "system_u:object_r:container_file_t:s0");
    // --help is still there, long only.
    relabel()
        .args(["apply", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--no-dereference"));
}

/// Issue 12, finding 8: contradictory flags and absurd thread counts are
/// bad input naming the flags, and nothing is written.
#[test]
fn contradictory_flags_and_thread_counts_are_refused() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    for (args, names) in [
        (
            &["--shared", "--level", "s0:c1,c2"][..],
            ["--shared", "--level"],
        ),
        (
            &["--context", "u:r:t:s0", "--level", "s0:c1,c2"][..],
            ["--context", "--level"],
        ),
        (&["--shared", "--owner", "x"][..], ["--shared", "--owner"]),
        (
            &["--private", "--level", "s0:c1,c2", "--owner", "x"][..],
            ["--level", "--owner"],
        ),
    ] {
        let out = relabel()
            .arg("apply")
            .args(args)
            .arg(&v)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        for n in names {
            assert!(err.contains(n), "{args:?}: {err}");
        }
    }
    for n in ["0", "257", "18446744073709551615", "-1"] {
        relabel()
            .args(["apply", "--shared", &format!("--threads={n}")])
            .arg(&v)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--threads"));
    }
    assert!(
        selinux_mcs::label::get(v.join("a/f")).is_err(),
        "nothing written"
    );
    relabel()
        .args(["apply", "--shared", "--threads", "256"])
        .arg(&v)
        .assert()
        .success();
}

/// Issue 12, finding 13: `show -R` walks by fd: past PATH_MAX, and JSON is
/// streamed as valid JSON.
#[test]
fn show_recursive_goes_past_path_max() {
    let Some(tmp) = volume() else { return };
    let root = tmp.path().join("deep");
    std::fs::create_dir(&root).expect("test setup");
    // 20 levels of 250-byte names: about 5,000 bytes, over PATH_MAX.
    let name = "d".repeat(250);
    let mut dir = std::fs::File::open(&root).expect("test setup");
    for _ in 0..20 {
        rustix::fs::mkdirat(&dir, name.as_str(), rustix::fs::Mode::from_raw_mode(0o755))
            .expect("test setup");
        let next = rustix::fs::openat(
            &dir,
            name.as_str(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
            rustix::fs::Mode::empty(),
        )
        .expect("test setup");
        dir = std::fs::File::from(next);
    }
    rustix::fs::openat(
        &dir,
        "leaf",
        rustix::fs::OFlags::CREATE | rustix::fs::OFlags::WRONLY,
        rustix::fs::Mode::from_raw_mode(0o644),
    )
    .expect("test setup");
    let out = relabel()
        .args(["show", "-R"])
        .arg(&root)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 22);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("? ") && last.ends_with("/leaf"), "{last}");
    assert!(last.len() > 5000);
    let out = relabel()
        .args(["show", "-R", "--json"])
        .arg(&root)
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(22));
}

/// Issue 12, finding 9: every check comes before the registry; a dry run
/// allocates nothing and creates no registry.
#[test]
fn a_dry_run_or_a_refused_path_allocates_nothing() {
    let Some(tmp) = volume() else { return };
    let v = tmp.path().join("v");
    let db = tmp.path().join("mcs.db");
    relabel()
        .args(["apply", "-n", "--private", "--owner", "vol:x", "--db"])
        .arg(&db)
        .arg(&v)
        .assert()
        .success()
        .stderr(predicate::str::contains("a new pair would be allocated"))
        .stdout("4 visited, 4 would change, 0 unchanged, 0 failed\n");
    assert!(!db.exists(), "a dry run created the registry");
    assert!(!tmp.path().join("mcs.db.lock").exists());
    // A missing path and a protected one: refused before the registry.
    for bad in [tmp.path().join("missing"), "/usr".into()] {
        let out = relabel()
            .args(["apply", "--private", "--owner", "vol:x", "--db"])
            .arg(&db)
            .arg(&v)
            .arg(&bad)
            .output()
            .expect("runs");
        assert_ne!(out.status.code(), Some(0), "{}", bad.display());
        assert!(!db.exists(), "{} allocated", bad.display());
    }
    assert!(
        selinux_mcs::label::get(v.join("a/f")).is_err(),
        "nothing written"
    );
    // For real: allocates; then a dry run names the pair it holds.
    relabel()
        .args(["apply", "--private", "--owner", "vol:x", "--db"])
        .arg(&db)
        .arg(&v)
        .assert()
        .success();
    relabel()
        .args(["apply", "-n", "--private", "--owner", "vol:x", "--db"])
        .arg(&db)
        .arg(&v)
        .assert()
        .success()
        .stderr(predicate::str::contains("vol:x holds s0:c"))
        .stdout("4 visited, 0 would change, 4 unchanged, 0 failed\n");
}

/// Issue 13: `apply --shared` writes the host's file context, the library's
/// one answer (selinux-mcs-c's `shared_and_private_use_the_hosts_file_context`
/// checks that the C API writes the same).
#[test]
fn shared_label_is_the_hosts_file_context() {
    let Some(tmp) = volume() else { return };
    let f = tmp.path().join("v/a/f");
    relabel()
        .args(["apply", "--shared"])
        .arg(&f)
        .assert()
        .success();
    let host = selinux_mcs::policy::Root::default().container_file_context();
    let s0 = "s0".parse().expect("level");
    assert_eq!(
        selinux_mcs::label::get(&f).expect("labeled"),
        host.with_level(s0)
    );
}
