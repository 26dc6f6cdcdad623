//! `relabel lookup`, `relabel check`, `relabel explain` and `relabel restore`
//! end to end, on the fixture under tests/data/policy.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/policy")
        .join(rel)
}

fn fixture_fc() -> PathBuf {
    data("etc/selinux/default/contexts/files/file_contexts")
}

fn relabel() -> Command {
    let mut cmd = Command::cargo_bin("relabel").unwrap();
    // The installed policy (if any) stays out of these tests' output.
    cmd.env("SELINUX_MCS_POLICY", "none");
    cmd
}

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("stdout is JSON")
}

#[test]
fn lookup_prints_path_tab_context() {
    relabel()
        .args(["lookup", "--file-contexts"])
        .arg(fixture_fc())
        .args([
            "/nonexistent-dir/etc/x",
            "/var/lib/containers/storage/overlay/abc",
            "/tmp/x",
            "/var/run/docker.sock",
        ])
        .assert()
        .success()
        .stdout(
            "/nonexistent-dir/etc/x\tsystem_u:object_r:default_t:s0\n\
             /var/lib/containers/storage/overlay/abc\tsystem_u:object_r:container_ro_file_t:s0\n\
             /tmp/x\t<<none>>\n\
             /var/run/docker.sock\tsystem_u:object_r:container_var_run_t:s0\n",
        );
}

#[test]
fn lookup_type_and_json() {
    let out = relabel()
        .args(["lookup", "--json", "--type", "dir", "--file-contexts"])
        .arg(fixture_fc())
        .args(["/run/x-does-not-exist-42", "/mnt/data"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc = json_of(&out.stdout);
    assert_eq!(
        doc,
        serde_json::json!([
            {"path": "/run/x-does-not-exist-42", "context": null},
            {"path": "/mnt/data", "context": "system_u:object_r:mnt_t:s0"},
        ])
    );
    // The same path as a regular file: the -d rule does not apply.
    relabel()
        .args(["lookup", "-t", "file", "--file-contexts"])
        .arg(fixture_fc())
        .arg("/mnt/data")
        .assert()
        .success()
        .stdout("/mnt/data\tsystem_u:object_r:default_t:s0\n");
}

#[test]
fn lookup_bad_input_exits_2() {
    relabel()
        .args(["lookup", "--file-contexts"])
        .arg(data("bad/file_contexts.pcre2"))
        .arg("/usr")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("file_contexts.pcre2:4:"))
        .stderr(predicate::str::contains("PCRE2 rejects it"));
    relabel()
        .args(["lookup", "--type", "door", "/x"])
        .assert()
        .code(2);
}

#[test]
fn check_json_shape() {
    let out = relabel()
        .args([
            "check",
            "--json",
            "system_u:system_r:container_t:s0:c1,c2",
            "system_u:object_r:container_file_t:s0:c1,c3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out.stdout);
    for key in ["read", "write", "create"] {
        assert_eq!(doc[key]["allowed"], Value::Bool(false), "{key}");
        assert!(doc[key]["reason"]
            .as_str()
            .unwrap()
            .contains("does not dominate"));
    }
    assert_eq!(doc["missing_categories"], serde_json::json!(["c3"]));
    assert_eq!(doc.as_object().unwrap().len(), 6);
    assert_eq!(doc["mode"], "mcs-only");
    assert_eq!(doc["constrained_by"], "built-in list");

    let out = relabel()
        .args([
            "check",
            "--json",
            "system_u:system_r:container_t:s0:c1,c2",
            "system_u:object_r:container_file_t:s0-s0:c1,c2",
        ])
        .output()
        .unwrap();
    let doc = json_of(&out.stdout);
    assert_eq!(doc["read"]["allowed"], Value::Bool(true));
    assert_eq!(doc["write"]["allowed"], Value::Bool(true));
    assert_eq!(doc["create"]["allowed"], Value::Bool(false));
    assert_eq!(doc["missing_categories"], serde_json::json!([]));
}

#[test]
fn check_human_and_bad_input() {
    relabel()
        .args([
            "check",
            "system_u:system_r:spc_t:s0",
            "system_u:object_r:container_file_t:s0:c1,c2",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "read:   allowed: spc_t is not MCS-constrained",
        ));
    relabel()
        .args([
            "check",
            "system_u:system_r:container_t:s0:c2,c1,",
            "u:r:t:s0",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad process context"));
}

#[test]
fn explain_json_adds_meaning_and_translation() {
    let out = relabel()
        .args(["explain", "--json", "--setrans"])
        .arg(data("etc/selinux/default/setrans.conf"))
        .arg("system_u:system_r:svirt_lxc_net_t:s0:c641,c186")
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc = json_of(&out.stdout);
    for key in [
        "context",
        "canonical",
        "user",
        "role",
        "type",
        "range",
        "low",
        "high",
    ] {
        assert!(doc.get(key).is_some(), "{key} kept");
    }
    assert_eq!(doc["translation"], "WebFrontend");
    assert!(doc["meaning"]
        .as_str()
        .unwrap()
        .starts_with("A container process (svirt_lxc_net_t, an alias of container_t)"));
    // No entry: null.
    let out = relabel()
        .args(["explain", "--json", "--setrans"])
        .arg(data("etc/selinux/default/setrans.conf"))
        .arg("system_u:object_r:container_file_t:s0:c7,c8")
        .output()
        .unwrap();
    assert_eq!(json_of(&out.stdout)["translation"], Value::Null);
}

#[test]
fn explain_human_uses_the_explanation() {
    relabel()
        .args(["explain", "--setrans"])
        .arg(data("etc/selinux/default/setrans.conf"))
        .arg("system_u:object_r:container_file_t:s0:c0.c1023")
        .assert()
        .success()
        .stdout(predicate::str::contains("translation:  SystemHigh"))
        .stdout(predicate::str::contains(
            "meaning:      Container content (container_file_t) at system high",
        ));
    relabel()
        .args(["explain", "--setrans"])
        .arg(data("bad/setrans.base.conf"))
        .arg("u:r:t:s0")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("setrans.base.conf:3:"));
}

#[test]
fn restore_refuses_a_missing_path() {
    relabel()
        .args([
            "restore",
            "-R",
            "-n",
            "-F",
            "-v",
            "--json",
            "--file-contexts",
        ])
        .arg(fixture_fc())
        .arg("/nonexistent")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent"));
}

/// Paths of every kind of rule in the fixture, looked up as files and with
/// no kind.
const LOOKUP_PATHS: [&str; 6] = [
    "/nonexistent-dir/etc/x",
    "/var/lib/containers/storage/overlay/abc",
    "/tmp/x",
    "/var/run/docker.sock",
    "/mnt/data",
    "/run/x-does-not-exist-42",
];

#[cfg(feature = "libselinux")]
#[test]
fn lookup_backends_agree() {
    for kind in [&[][..], &["--type", "file"][..], &["--type", "dir"][..]] {
        let run = |backend: &str| {
            let out = relabel()
                .args(["lookup", "--backend", backend])
                .args(kind)
                .arg("--file-contexts")
                .arg(fixture_fc())
                .args(LOOKUP_PATHS)
                .output()
                .expect("runs");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{backend}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("UTF-8")
        };
        let ours = run("ours");
        assert_eq!(ours.lines().count(), LOOKUP_PATHS.len());
        assert_eq!(run("libselinux"), ours, "lookup {kind:?}");
    }
}

#[cfg(not(feature = "libselinux"))]
#[test]
fn lookup_libselinux_backend_needs_the_feature() {
    relabel()
        .args(["lookup", "--backend", "libselinux", "--file-contexts"])
        .arg(fixture_fc())
        .args(LOOKUP_PATHS)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "built without the `libselinux` feature",
        ));
}
