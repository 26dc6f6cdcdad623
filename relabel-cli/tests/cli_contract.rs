//! The CLI contract, command by command: every exit status, bad input on
//! every argument that takes a context, a level, a path or a number, the
//! JSON shapes README documents, and help that says what each command
//! writes.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn relabel() -> Command {
    let mut cmd = Command::cargo_bin("relabel").expect("the relabel binary is built");
    // The installed policy (if any) stays out of these tests' output.
    cmd.env("SELINUX_MCS_POLICY", "none");
    cmd
}

/// Runs `relabel ARGS`, expects `code`, and returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = relabel().args(args).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "relabel {args:?}: stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Expects exit 2 and a message on stderr that names `offending`.
fn bad_input(args: &[&str], offending: &str) {
    let out = relabel().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "relabel {args:?}: {stderr}");
    assert!(
        stderr.contains(offending),
        "relabel {args:?}: stderr does not name {offending:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "relabel {args:?} printed to stdout");
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

const COMMANDS: [&str; 19] = [
    "explain",
    "check",
    "why",
    "validate",
    "booleans",
    "policy",
    "alloc",
    "reserve",
    "release",
    "list",
    "adopt",
    "apply",
    "show",
    "exec",
    "mount-option",
    "lookup",
    "restore",
    "completions",
    "man",
];

#[test]
fn every_command_has_an_example_and_says_what_it_writes() {
    for c in COMMANDS {
        let help = run(&[c, "--help"], 0);
        assert!(
            help.contains("Example"),
            "relabel {c} --help has no example"
        );
        assert!(
            help.contains("Writes:"),
            "relabel {c} --help does not say what it writes"
        );
        for line in help.lines() {
            assert!(
                line.chars().count() <= 100,
                "relabel {c} --help: line too wide: {line}"
            );
        }
    }
    let top = run(&["--help"], 0);
    for status in [
        "0  success",
        "1  the operation failed",
        "2  bad usage",
        "3  the MCS pool",
    ] {
        assert!(
            top.contains(status),
            "relabel --help does not document {status:?}"
        );
    }
}

#[test]
fn bad_contexts_levels_and_numbers_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let db = db.to_str().expect("UTF-8 path");
    bad_input(&["explain", "u:r:t:s0:c5.c1"], "c5.c1");
    bad_input(
        &["check", "u:r:container_t:s0:c1,,c2", "u:r:t:s0"],
        "byte 22",
    );
    bad_input(&["check", "u:r:container_t:s0", "u:r:t:s0:c1024"], "c1024");
    bad_input(
        &["reserve", "s0:c5.c1", "--owner", "x", "--db", db],
        "c5.c1",
    );
    bad_input(&["reserve", "s0:c1", "--owner", "x", "--db", db], "s0:c1");
    bad_input(&["release", "s0:c01,c2", "--db", db], "c01");
    bad_input(&["alloc", "--pool", "c3.c1", "--db", db], "c3.c1");
    bad_input(&["alloc", "--pool", "c7", "--db", db], "c7");
    bad_input(&["alloc", "--count", "many", "--db", db], "many");
    bad_input(&["alloc", "--count", "0", "--db", db], "0");
    bad_input(
        &[
            "apply",
            "--context",
            "u:r:t:s0-",
            dir.path().to_str().expect("UTF-8"),
        ],
        "s0-",
    );
    bad_input(
        &[
            "apply",
            "--private",
            "--level",
            "s0:110",
            dir.path().to_str().expect("UTF-8"),
        ],
        "s0:110",
    );
    bad_input(
        &["apply", "--shared", "--threads", "x", "/nonexistent"],
        "x",
    );
    bad_input(&["mount-option", "not a context"], "not a context");
    bad_input(&["lookup", "--type", "door", "/x"], "door");
    bad_input(&["completions", "tcsh"], "tcsh");
    // Nothing was written to the registry by any of these.
    assert!(!Path::new(db).exists() || run(&["list", "--db", db], 0).is_empty());
}

#[test]
fn bad_paths_exit_2() {
    bad_input(
        &["apply", "--shared", "/nonexistent/volume"],
        "/nonexistent/volume",
    );
    bad_input(&["apply", "--shared", "/usr//"], "/usr");
    bad_input(&["apply", "--shared", "/etc/../var/lib/"], "/var/lib");
    bad_input(
        &["restore", "--file-contexts", "/nonexistent/fc", "/tmp"],
        "/nonexistent/fc",
    );
    bad_input(
        &["lookup", "--file-contexts", "/nonexistent/fc", "/x"],
        "/nonexistent/fc",
    );
    bad_input(
        &[
            "explain",
            "--setrans",
            "/nonexistent/setrans.conf",
            "u:r:t:s0",
        ],
        "/nonexistent/setrans.conf",
    );
}

#[test]
fn exit_1_when_the_operation_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let db = db.to_str().expect("UTF-8 path");
    let out = relabel()
        .args(["release", "--owner", "nobody", "--db", db])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    relabel()
        .args(["show", "/nonexistent/file"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent/file"));
    // A registry file that is not ours: refused, left as it was.
    let foreign = dir.path().join("foreign.db");
    std::fs::write(&foreign, "x").expect("write");
    relabel()
        .args(["list", "--db"])
        .arg(&foreign)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("foreign.db"));
    assert_eq!(std::fs::read(&foreign).expect("read"), b"x");
}

#[test]
fn exit_3_when_the_pool_is_exhausted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let db = db.to_str().expect("UTF-8 path");
    // c0,c1,c2 make three pairs.
    run(&["alloc", "--pool", "c0.c2", "--count", "3", "--db", db], 0);
    relabel()
        .args(["alloc", "--pool", "c0.c2", "--db", db])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("3"));
}

#[test]
fn json_shapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcs.db");
    let db = db.to_str().expect("UTF-8 path");

    let v = json(&run(
        &[
            "explain",
            "--json",
            "system_u:system_r:container_t:s0:c1,c2",
        ],
        0,
    ));
    assert_eq!(
        keys(&v),
        [
            "canonical",
            "context",
            "high",
            "low",
            "meaning",
            "range",
            "role",
            "translation",
            "type",
            "user"
        ]
    );
    assert_eq!(keys(&v["low"]), ["categories", "sensitivity"]);

    let v = json(&run(
        &[
            "check",
            "--json",
            "system_u:system_r:container_t:s0:c1,c2",
            "system_u:object_r:container_file_t:s0:c1,c3",
        ],
        0,
    ));
    assert_eq!(
        keys(&v),
        [
            "constrained_by",
            "create",
            "missing_categories",
            "mode",
            "read",
            "write"
        ]
    );
    assert_eq!(keys(&v["read"]), ["allowed", "reason"]);
    assert_eq!(v["read"]["allowed"], false);
    assert_eq!(v["missing_categories"], serde_json::json!(["c3"]));

    let v = json(&run(&["alloc", "--json", "--owner", "vol", "--db", db], 0));
    assert_eq!(keys(&v[0]), ["level", "owner"]);
    let v = json(&run(
        &[
            "reserve", "--json", "s0:c7,c9", "--owner", "web", "--db", db,
        ],
        0,
    ));
    assert_eq!(keys(&v), ["level", "owner"]);
    let v = json(&run(&["list", "--json", "--db", db], 0));
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(keys(&v[0]), ["created", "level", "owner"]);
    let v = json(&run(
        &["release", "--json", "--owner", "web", "--db", db],
        0,
    ));
    assert_eq!(keys(&v), ["level", "owner"]);
    let proc_root = dir.path().join("proc");
    std::fs::create_dir_all(proc_root.join("7/attr")).expect("mkdir");
    std::fs::write(
        proc_root.join("7/attr/current"),
        "system_u:system_r:container_t:s0:c3,c4\0",
    )
    .expect("write");
    let proc_root = proc_root.to_str().expect("UTF-8 path");
    let v = json(&run(
        &["adopt", "--json", "--proc", proc_root, "--db", db],
        0,
    ));
    assert_eq!(
        keys(&v),
        [
            "adopted",
            "already_held",
            "not_pairs",
            "unlabeled",
            "unreadable"
        ]
    );
    assert_eq!(keys(&v["adopted"][0]), ["level", "owner", "source"]);

    let v = json(&run(
        &[
            "mount-option",
            "--json",
            "system_u:object_r:container_file_t:s0:c1,c2",
        ],
        0,
    ));
    assert_eq!(
        v["option"],
        "context=\"system_u:object_r:container_file_t:s0:c1,c2\""
    );

    let fc = dir.path().join("file_contexts");
    std::fs::write(&fc, "/srv(/.*)?\tsystem_u:object_r:var_t:s0\n").expect("write");
    let v = json(&run(
        &[
            "lookup",
            "--json",
            "--file-contexts",
            fc.to_str().expect("UTF-8"),
            "/srv/a",
            "/x",
        ],
        0,
    ));
    assert_eq!(keys(&v[0]), ["context", "path"]);
    assert_eq!(v[0]["context"], "system_u:object_r:var_t:s0");
    assert!(v[1]["context"].is_null());

    // apply, restore and show need xattrs; their shapes are checked in
    // label_cli.rs and restore_cli.rs, which skip without them (and fail
    // when SELINUX_MCS_REQUIRE_XATTR=1).
}

#[test]
fn completions_and_man_page_come_from_the_parser() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run(&["completions", shell], 0);
        assert!(script.contains("relabel"), "{shell}");
        assert!(
            script.contains("mount-option"),
            "{shell} completions lack a command"
        );
    }
    let page = run(&["man"], 0);
    assert!(page.starts_with(".ie") || page.contains(".TH"), "not roff");
    assert!(page.contains("mount\\-option") || page.contains("mount-option"));
    let dir = tempfile::tempdir().expect("tempdir");
    run(&["man", "--dir", dir.path().to_str().expect("UTF-8")], 0);
    for c in COMMANDS {
        let page = dir.path().join(format!("relabel-{c}.1"));
        assert!(page.exists(), "no {}", page.display());
    }
}
