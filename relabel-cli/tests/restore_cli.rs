//! `relabel restore` end to end: file_contexts rules applied to a temporary
//! tree, with restorecon's rules for force, customizable types and <<none>>.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use selinux_mcs::label;

mod common;
use common::{relabel, xattrs_work};

const OLD: &str = "unconfined_u:object_r:user_tmp_t:s0";

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    file_contexts: PathBuf,
    customizable: PathBuf,
}

/// A policy directory (contexts/files/file_contexts and
/// contexts/customizable_types) whose rules name a temporary tree, and the
/// tree, every entry labeled `OLD`.
fn fixture() -> Option<Fixture> {
    let tmp = tempfile::tempdir().expect("test setup");
    // Resolved, as the rules must name real paths.
    let base = std::fs::canonicalize(tmp.path()).expect("test setup");
    if !xattrs_work(&base) {
        return None;
    }
    let root = base.join("vol");
    for d in ["bin", "data", "keep"] {
        std::fs::create_dir_all(root.join(d)).expect("test setup");
    }
    for f in ["bin/tool", "data/a", "data/b", "keep/x", "custom"] {
        std::fs::write(root.join(f), "x").expect("test setup");
    }
    std::os::unix::fs::symlink("/etc/passwd", root.join("link")).expect("test setup");
    let r = root.display().to_string();
    let policy = base.join("policy/contexts");
    std::fs::create_dir_all(policy.join("files")).expect("test setup");
    let file_contexts = policy.join("files/file_contexts");
    std::fs::write(
        &file_contexts,
        format!(
            "{r}(/.*)?\tsystem_u:object_r:container_file_t:s0\n\
             {r}/bin(/.*)?\t--\tsystem_u:object_r:bin_t:s0\n\
             {r}/keep(/.*)?\t<<none>>\n\
             {r}/link\t-l\tsystem_u:object_r:link_t:s0\n\
             {r}/custom\tsystem_u:object_r:custom_t:s0\n"
        ),
    )
    .expect("test setup");
    let customizable = policy.join("customizable_types");
    std::fs::write(&customizable, "user_home_t\n").expect("test setup");
    let tree = walk(&root);
    for p in &tree {
        label::set(p, &OLD.parse().expect("valid")).expect("test setup");
    }
    // A customizable type on one file: left alone without --force.
    label::set(
        root.join("custom"),
        &"unconfined_u:object_r:user_home_t:s0"
            .parse()
            .expect("valid"),
    )
    .expect("test setup");
    Some(Fixture {
        _tmp: tmp,
        root,
        file_contexts,
        customizable,
    })
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if std::fs::symlink_metadata(&p).expect("exists").is_dir() {
            for e in std::fs::read_dir(&p).expect("readable") {
                out.push(e.expect("entry").path());
            }
        }
        i += 1;
    }
    out
}

fn label_of(p: &Path) -> String {
    label::get(p).expect("labeled").to_string()
}

#[test]
fn recursive_restore_replaces_only_the_type() {
    let Some(f) = fixture() else { return };
    let out = relabel()
        .args(["restore", "-R", "--json", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(&f.root)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // vol, bin, data, keep, bin/tool, data/a, data/b, keep/x, custom, link.
    assert_eq!(report["failed"], 0);
    assert_eq!(report["visited"], 10);
    // Without force: the user (unconfined_u) stays, the type changes.
    assert_eq!(
        label_of(&f.root),
        "unconfined_u:object_r:container_file_t:s0"
    );
    assert_eq!(
        label_of(&f.root.join("data/a")),
        "unconfined_u:object_r:container_file_t:s0"
    );
    assert_eq!(
        label_of(&f.root.join("bin/tool")),
        "unconfined_u:object_r:bin_t:s0"
    );
    // The `--` rule is for regular files: the directory takes the general one.
    assert_eq!(
        label_of(&f.root.join("bin")),
        "unconfined_u:object_r:container_file_t:s0"
    );
    // The symlink is labeled itself (its target, /etc/passwd, untouched).
    assert_eq!(
        label_of(&f.root.join("link")),
        "unconfined_u:object_r:link_t:s0"
    );
    // <<none>>: left alone.
    assert_eq!(label_of(&f.root.join("keep/x")), OLD);
    assert_eq!(label_of(&f.root.join("keep")), OLD);
    // Customizable type: left alone without force.
    assert_eq!(
        label_of(&f.root.join("custom")),
        "unconfined_u:object_r:user_home_t:s0"
    );
    // ... and the report says so (restorecon's "not reset as customized").
    assert_eq!(report["customized"], 1);
    assert_eq!(
        report["customized_paths"][0]["path"],
        f.root.join("custom").to_str().expect("utf-8")
    );
    // A second run changes nothing.
    let out = relabel()
        .args(["restore", "-R", "--json", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(&f.root)
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["changed"], 0);
}

#[test]
fn force_replaces_whole_contexts_and_customizable_types() {
    let Some(f) = fixture() else { return };
    relabel()
        .args(["restore", "-R", "-F", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(&f.root)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 failed"));
    assert_eq!(
        label_of(&f.root.join("data/a")),
        "system_u:object_r:container_file_t:s0"
    );
    assert_eq!(
        label_of(&f.root.join("custom")),
        "system_u:object_r:custom_t:s0"
    );
    assert_eq!(label_of(&f.root.join("keep/x")), OLD);
}

#[test]
fn dry_run_and_non_recursive() {
    let Some(f) = fixture() else { return };
    relabel()
        .args(["restore", "-R", "-n", "-v", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(&f.root)
        .assert()
        .success()
        .stdout(predicate::str::contains("would relabel"));
    assert_eq!(label_of(&f.root.join("data/a")), OLD);
    // Without -R only the named path changes.
    relabel()
        .args(["restore", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(f.root.join("data"))
        .assert()
        .success();
    assert_eq!(
        label_of(&f.root.join("data")),
        "unconfined_u:object_r:container_file_t:s0"
    );
    assert_eq!(label_of(&f.root.join("data/a")), OLD);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let Some(f) = fixture() else { return };
    relabel()
        .args([
            "restore",
            "-R",
            "--file-contexts",
            "/nonexistent/file_contexts",
        ])
        .arg(&f.root)
        .assert()
        .code(2);
    relabel()
        .args(["restore", "-R", "--file-contexts"])
        .arg(&f.file_contexts)
        .arg("--customizable-types")
        .arg(&f.customizable)
        .arg(f.root.join("missing"))
        .arg(&f.root)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing"));
    // The valid path named beside the missing one was not touched.
    assert_eq!(label_of(&f.root.join("data/a")), OLD);
    let bad = f.file_contexts.with_file_name("bad_contexts");
    std::fs::write(&bad, "/x(/.*)?\tnot_a_context\n").expect("test setup");
    relabel()
        .args(["restore", "--file-contexts"])
        .arg(&bad)
        .arg(&f.root)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(":1"));
}

/// Every label under `root`, by path relative to it.
#[cfg(feature = "libselinux")]
fn labels(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out: Vec<_> = walk(root)
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).expect("under root").to_path_buf();
            (rel, label_of(p))
        })
        .collect();
    out.sort();
    out
}

#[cfg(feature = "libselinux")]
#[test]
fn libselinux_backend_gives_the_same_labels() {
    for extra in [&[][..], &["-F"][..]] {
        let (Some(ours), Some(theirs)) = (fixture(), fixture()) else {
            return;
        };
        for (f, backend) in [(&ours, "ours"), (&theirs, "libselinux")] {
            let out = relabel()
                .args(["restore", "-R", "--json", "--backend", backend])
                .args(extra)
                .arg("--file-contexts")
                .arg(&f.file_contexts)
                .arg("--customizable-types")
                .arg(&f.customizable)
                .arg(&f.root)
                .output()
                .expect("runs");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{backend}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(report["failed"], 0, "{backend}");
            assert_eq!(report["visited"], 10, "{backend}");
        }
        assert_eq!(
            labels(&ours.root),
            labels(&theirs.root),
            "restore {extra:?}"
        );
        assert_eq!(
            label_of(&theirs.root.join("bin/tool")),
            if extra.is_empty() {
                "unconfined_u:object_r:bin_t:s0"
            } else {
                "system_u:object_r:bin_t:s0"
            }
        );
    }
}

#[cfg(not(feature = "libselinux"))]
#[test]
fn libselinux_backend_needs_the_feature() {
    let tmp = tempfile::tempdir().expect("test setup");
    relabel()
        .args(["restore", "--backend", "libselinux", "--file-contexts"])
        .arg(tmp.path().join("file_contexts"))
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "built without the `libselinux` feature",
        ));
}

#[test]
fn unknown_backend_is_a_usage_error() {
    relabel()
        .args(["restore", "--backend", "selinuxfs", "/nonexistent"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ours").and(predicate::str::contains("libselinux")));
}

/// Issue 13: a current label that is not a context is reported for that
/// file and left as it is, as selinux_restorecon does.
#[test]
fn an_unparseable_current_label_is_a_failure_and_is_kept() {
    let Some(f) = fixture() else { return };
    let bad = f.root.join("data/a");
    for raw in [&b"garbage\0"[..], b"u:r:t:s0:c5.c1\0"] {
        rustix::fs::lsetxattr(
            &bad,
            "security.selinux",
            raw,
            rustix::fs::XattrFlags::empty(),
        )
        .expect("test setup");
        let out = relabel()
            .args(["restore", "-R", "--file-contexts"])
            .arg(&f.file_contexts)
            .arg("--customizable-types")
            .arg(&f.customizable)
            .arg(&f.root)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("data/a") && err.contains("is not a valid context"),
            "{err}"
        );
        let stored = rustix::fs::lgetxattr(&bad, "security.selinux", &mut [0u8; 64][..])
            .expect("still labeled");
        assert_eq!(stored, raw.len(), "left as it was");
        // The others are restored as usual (only the type, without -F).
        assert!(label_of(&f.root.join("data/b")).ends_with(":object_r:container_file_t:s0"));
    }
}
