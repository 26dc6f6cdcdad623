//! `relabel explain` end to end.

use assert_cmd::Command;
use predicates::prelude::*;

fn relabel() -> Command {
    let mut cmd = Command::cargo_bin("relabel").expect("the relabel binary is built");
    // The installed policy (if any) stays out of these tests' output.
    cmd.env("SELINUX_MCS_POLICY", "none");
    cmd
}

#[test]
fn explains_every_field() {
    let out = relabel()
        .args(["explain", "system_u:system_r:svirt_lxc_net_t:s0:c641,c186"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let field = |name: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name:?} line in:\n{text}"))
    };
    assert_eq!(
        field("canonical"),
        "system_u:system_r:svirt_lxc_net_t:s0:c186,c641"
    );
    assert!(field("user").starts_with("system_u"));
    assert!(field("role").starts_with("system_r"));
    assert!(field("type").starts_with("svirt_lxc_net_t"));
    assert_eq!(field("sensitivity"), "s0");
    assert!(field("categories").starts_with("c186,c641"));
}

#[test]
fn json_has_the_documented_keys() {
    let out = relabel()
        .args(["explain", "--json", "u:r:t:s0:c2,c1-s0:c0.c3"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["user"], "u");
    assert_eq!(v["role"], "r");
    assert_eq!(v["type"], "t");
    assert_eq!(v["canonical"], "u:r:t:s0:c1,c2-s0:c0.c3");
    assert_eq!(v["low"]["sensitivity"], "s0");
    assert_eq!(v["low"]["categories"], serde_json::json!(["c1", "c2"]));
    assert_eq!(
        v["high"]["categories"],
        serde_json::json!(["c0", "c1", "c2", "c3"])
    );
}

#[test]
fn json_without_mls_has_null_levels() {
    let out = relabel()
        .args(["explain", "--json", "system_u:system_r:kernel_t"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["low"].is_null());
    assert!(v["high"].is_null());
}

#[test]
fn bad_input_exits_2_and_names_offset_and_text() {
    relabel()
        .args(["explain", "system_u:object_r:container_file_t:s0:c5.c1"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("category range c5.c1 at byte 38"));
    relabel()
        .args(["explain", "--json", "u:r:t:s0:c1024"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("c1024 at byte 9"));
    relabel().args(["explain"]).assert().code(2);
}

#[cfg(not(feature = "libselinux"))]
#[test]
fn kernel_needs_the_feature() {
    relabel()
        .args(["explain", "--kernel", "system_u:object_r:etc_t:s0"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "--kernel: this relabel was built without the `libselinux` feature",
        ));
}

#[cfg(feature = "libselinux")]
#[test]
fn kernel_answers_or_says_selinux_is_off() {
    let out = relabel()
        .args([
            "explain",
            "--kernel",
            "--json",
            "system_u:object_r:etc_t:s0-s0",
        ])
        .output()
        .expect("runs");
    if selinux_mcs::system::is_enabled() {
        // Whatever the policy, etc_t exists in every reference policy.
        assert_eq!(out.status.code(), Some(0));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["kernel"]["valid"], true);
        assert!(doc["kernel"]["canonical"]
            .as_str()
            .is_some_and(|c| c.contains(":etc_t")));
        relabel()
            .args(["explain", "--kernel", "no_such_u:no_such_r:no_such_t:s0"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("rejects"));
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--kernel: SELinux is not enabled in the running kernel"),
            "{err}"
        );
    }
    // Without --kernel the JSON has no "kernel" key.
    let out = relabel()
        .args(["explain", "--json", "system_u:object_r:etc_t:s0"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(doc.get("kernel").is_none());
}
