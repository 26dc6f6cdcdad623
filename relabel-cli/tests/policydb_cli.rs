//! The commands that read the binary policy, against the committed MLS
//! fixture (tests/data/policydb/mls.33): validate, booleans, policy,
//! explain and check with a policy, and apply/mount-option refusing labels
//! the policy rejects.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use std::path::PathBuf;

use common::relabel;
use serde_json::Value;

fn fixture() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/policydb/mls.33");
    p.to_str().unwrap().to_owned()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = relabel()
        .env("SELINUX_MCS_POLICY", fixture())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn validate_exit_statuses_and_reasons() {
    let (code, out, _) = run(&["validate", "system_u:system_r:container_t:s0:c1,c2"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "system_u:system_r:container_t:s0:c1,c2: valid\n")
    );
    let (code, out, _) = run(&["validate", "system_u:object_r:svirt_sandbox_file_t:s0"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("valid (the kernel writes it system_u:object_r:container_file_t:s0)"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "validate",
        "system_u:object_r:container_t:s0",
        "system_u:object_r:container_fle_t:s0",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("container_fle_t:s0: invalid: unknown type container_fle_t; did you mean container_file_t?"), "{out}");
    let (code, out, _) = run(&["validate", "user_u:system_r:init_t:s0", "nope"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("user user_u may not take role system_r (its roles: user_r)"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "validate",
        "--json",
        "user_u:user_r:user_t:s0:c9",
        "system_u:object_r:file_t:s15:c0.c31",
    ]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc[0]["valid"], false);
    assert_eq!(doc[0]["error"]["rule"], "user_range");
    assert_eq!(doc[1]["valid"], true);
    assert_eq!(doc[1]["canonical"], "system_u:object_r:file_t:s15:c0.c31");
}

#[test]
fn validate_without_any_policy_says_so() {
    let out = relabel()
        .args(["validate", "system_u:object_r:file_t:s0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--policy FILE"), "{err}");
    let out = relabel()
        .args(["validate", "--policy", "/nonexistent/policy.33", "u:r:t:s0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/policy.33"));
}

#[test]
fn a_malformed_policy_is_an_error_naming_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.33");
    let bytes = std::fs::read(fixture()).unwrap();
    std::fs::write(&path, &bytes[..1000]).unwrap();
    let out = relabel()
        .args(["policy", "--policy"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("malformed policy at byte") && err.contains("policy.33"),
        "{err}"
    );
}

#[test]
fn explain_uses_the_policy() {
    let (code, out, _) = run(&["explain", "system_u:system_r:svirt_lxc_net_t:s0:c1,c2"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("policy:       valid in the loaded policy"),
        "{out}"
    );
    assert!(
        out.contains("svirt_lxc_net_t is an alias of container_t"),
        "{out}"
    );
    assert!(
        out.contains("attributes:   domain, mcs_constrained_type"),
        "{out}"
    );
    assert!(
        out.contains("mcs:          svirt_lxc_net_t is MCS-constrained"),
        "{out}"
    );
    let (code, out, _) = run(&["explain", "system_u:object_r:container_fle_t:s0:c1,c2"]);
    assert_eq!(code, 0);
    assert!(out.contains("NOT VALID in the loaded policy: unknown type container_fle_t; did you mean container_file_t?"), "{out}");
    let (_, out, _) = run(&["explain", "--json", "system_u:system_r:user_t:s0"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["policy"]["valid"], false);
    assert_eq!(doc["policy"]["invalid"]["rule"], "role_types");
    assert_eq!(doc["policy"]["mcs_constrained"], false);
    assert_eq!(doc["policy"]["path"], fixture());
    let (_, out, _) = run(&["explain", "--no-policy", "system_u:system_r:user_t:s0"]);
    assert!(!out.contains("policy:"), "{out}");
}

#[test]
fn check_is_exact_with_the_policy() {
    // MCS: the mlsconstrain on file reads fails, naming the category.
    let (code, out, _) = run(&[
        "check",
        "system_u:system_r:container_t:s0:c1,c2",
        "system_u:object_r:container_file_t:s0:c1,c3",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("read:   denied: mlsconstrain (l1 dom l2 or t1 == { kernel_t ... }) fails")
            || out.contains("read:   denied: mlsconstrain"),
        "{out}"
    );
    assert!(out.contains("(the source lacks c3)"), "{out}");
    assert!(out.contains("missing categories: c3"), "{out}");
    // Type enforcement: user_t has no write on file_t unless a boolean.
    let (_, out, _) = run(&[
        "check",
        "--json",
        "--perm",
        "write,read",
        "user_u:user_r:user_t:s0",
        "system_u:object_r:file_t:s0",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["mode"], "policy");
    assert_eq!(doc["constrained_by"], fixture());
    assert_eq!(doc["read"]["allowed"], true);
    assert_eq!(doc["write"]["allowed"], false);
    assert_eq!(doc["write"]["rule"], "te");
    // `if (allow_write ^ allow_other) { allow user_t file_t:file write; }`
    assert_eq!(
        doc["write"]["booleans"],
        serde_json::json!(["allow_other=on"])
    );
    let (_, out, _) = run(&[
        "check",
        "--json",
        "--perm",
        "write",
        "--boolean",
        "allow_write=on",
        "user_u:user_r:user_t:s0",
        "system_u:object_r:file_t:s0",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["write"]["allowed"], true);
    // Other classes, and errors that name what is wrong.
    let (code, out, _) = run(&[
        "check",
        "--class",
        "process",
        "--perm",
        "transition",
        "system_u:system_r:init_t:s0",
        "system_u:system_r:container_t:s0",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("transition: allowed"), "{out}");
    let (code, _, err) = run(&[
        "check",
        "--perm",
        "fly",
        "user_u:user_r:user_t:s0",
        "system_u:object_r:file_t:s0",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("class file has no permission fly"), "{err}");
    let (code, _, err) = run(&[
        "check",
        "system_u:system_r:file_t:s0",
        "system_u:object_r:file_t:s0",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("role system_r may not hold type file_t"),
        "{err}"
    );
    // Without a policy: MCS only, and it says so.
    let (_, out, _) = run(&[
        "check",
        "--no-policy",
        "system_u:system_r:container_t:s0:c1,c2",
        "system_u:object_r:file_t:s0:c3",
    ]);
    assert!(
        out.contains("(MCS only: no binary policy was read"),
        "{out}"
    );
}

#[test]
fn booleans_and_summary() {
    let (code, out, _) = run(&["booleans"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "allow_exec   on (default)\nallow_other  off (default)\nallow_write  off (default)\n"
    );
    let (_, out, _) = run(&["booleans", "--json", "write"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        doc,
        serde_json::json!([{"name": "allow_write", "default": false, "current": null}])
    );
    let (_, out, _) = run(&["booleans", "--container"]);
    assert_eq!(out, "");
    let (code, out, _) = run(&["policy", "--json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], 33);
    assert_eq!(doc["types"], 12);
    assert_eq!(doc["sensitivities"], 16);
    assert_eq!(doc["booleans"], 3);
    assert_eq!(
        doc["capabilities"],
        serde_json::json!(["network_peer_controls", "open_perms"])
    );
    let (_, out, _) = run(&["policy"]);
    assert!(
        out.contains("version:         33 (MLS enabled), unknown classes: deny"),
        "{out}"
    );
}

#[test]
fn labels_the_policy_rejects_are_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let check_xattrs = common::xattrs_work(dir.path());
    let (code, _, err) = run(&[
        "apply",
        "--context",
        "system_u:object_r:container_fle_t:s0",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown type container_fle_t; did you mean container_file_t?"),
        "{err}"
    );
    if check_xattrs {
        assert!(xattr::get(&file, "security.selinux")
            .unwrap()
            .is_none_or(|v| !v.starts_with(b"system_u:object_r:container_fle_t")));
    }
    let (code, _, err) = run(&[
        "apply",
        "--shared",
        "--file-context",
        "system_u:object_r:domain:s0",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("domain is an attribute"), "{err}");
    if check_xattrs {
        let (code, _, err) = run(&[
            "apply",
            "--no-policy-check",
            "--context",
            "system_u:object_r:container_fle_t:s0",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            xattr::get(&file, "security.selinux").unwrap().unwrap(),
            b"system_u:object_r:container_fle_t:s0\0"
        );
        let (code, _, err) = run(&[
            "apply",
            "--context",
            "system_u:object_r:container_file_t:s0:c1,c2",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let (code, _, err) = run(&["mount-option", "system_u:object_r:container_file_t:s0:c99"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown category c99 (the policy defines c0.c31)"),
        "{err}"
    );
    let (code, out, _) = run(&[
        "mount-option",
        "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2",
    ]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "context=\"system_u:object_r:svirt_sandbox_file_t:s0:c1,c2\"\n"
        )
    );
    // With no policy on the host: as before, nothing is checked.
    let out = relabel()
        .args(["mount-option", "system_u:object_r:container_fle_t:s0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_policy_with_more_sensitivities_widens_what_parses() {
    let mls24 = fixture().replace("mls.33", "mls24.33");
    let out = relabel()
        .args([
            "validate",
            "--policy",
            &mls24,
            "system_u:object_r:file_t:s23:c0.c31",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, out, _) = run(&["validate", "system_u:object_r:file_t:s16"]);
    assert_eq!(
        code, 2,
        "past s15 with a 16-sensitivity policy: a syntax error, {out}"
    );
    let out = relabel()
        .args([
            "validate",
            "--policy",
            &mls24,
            "system_u:object_r:file_t:s24",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
