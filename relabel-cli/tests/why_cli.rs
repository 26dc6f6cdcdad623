//! `relabel why` end to end on the committed MLS fixture
//! (tests/data/policydb/mls.33: container_t is MCS-constrained, booleans
//! allow_exec/allow_write/allow_other, child_t is permissive).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

#[allow(dead_code)] // the labeling helpers: this file writes no labels
mod common;

use std::path::PathBuf;

use common::relabel;
use serde_json::Value;

fn fixture() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/policydb/mls.33");
    p.to_str().unwrap().to_owned()
}

fn run_with(args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = relabel()
        .env("SELINUX_MCS_POLICY", fixture())
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const MCS: &str = "type=AVC msg=audit(1701597600.123:456): avc:  denied  { read } for  pid=4242 comm=\"cat\" name=\"data\" dev=\"sda1\" ino=1234 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0";
const BOOLEAN: &str = "Dec 03 10:00:01 host kernel: audit: type=1400 audit(1701597601.000:457): avc:  denied  { write open } for  pid=4243 comm=6D7920617070 name=\"log\" dev=\"sda1\" ino=99 scontext=user_u:user_r:user_t:s0 tcontext=system_u:object_r:file_t:s0 tclass=file permissive=0";
const TE: &str = "[ 12.000000] audit: type=1400 audit(1701597602.000:458): avc:  denied  { write } for  pid=1 comm=\"x\" scontext=user_u:user_r:user_t:s0 tcontext=system_u:object_r:exec_t:s0 tclass=file permissive=0";

#[test]
fn explains_each_group_with_the_fix() {
    let input = format!(
        "type=PATH msg=audit(1701597600.123:456): item=0 name=\"/srv/vol/data\" inode=1234 nametype=NORMAL\n\
         {MCS}\n\
         type=SYSCALL msg=audit(1701597600.123:456): arch=c000003e syscall=257 success=no exit=-13\n\
         ----\n\
         {BOOLEAN}\n{BOOLEAN}\n{TE}\n"
    );
    let (code, out, err) = run_with(&["why"], &input);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err, "");
    let want = "\
line 2: denied { read } comm=\"cat\" path=\"/srv/vol/data\"
  source:  system_u:system_r:container_t:s0:c1,c2
  target:  system_u:object_r:container_file_t:s0:c1,c3 (file)
  verdict: mcs
  why:     MCS: the source (s0:c1,c2) lacks category c3 of the target (s0:c1,c3); mlsconstrain (l1 dom l2 or t1 == kernel_t) fails.
  fix:     relabel the volume with the container's pair: relabel apply --private --level s0:c1,c2 /srv/vol/data (or the volume's top directory, to relabel it all)

line 5 (2 records: lines 5, 6): denied { write open } comm=\"my app\" name=\"log\"
  source:  user_u:user_r:user_t:s0
  target:  system_u:object_r:file_t:s0 (file)
  verdict: boolean
  why:     Type enforcement: no allow rule grants it with the booleans as they are; a conditional rule would with allow_other=on or allow_write=on.
    write  denied: no allow rule grants it with the current booleans; allow_other=on would
    open   allowed
  fix:     one of: setsebool -P allow_other on; setsebool -P allow_write on

line 7: denied { write } comm=\"x\"
  source:  user_u:user_r:user_t:s0
  target:  system_u:object_r:exec_t:s0 (file)
  verdict: type-enforcement
  why:     Type enforcement: no allow rule gives user_t { write } on exec_t (class file), and no boolean would.
  fix:     a policy module with the rule audit2allow writes: allow user_t exec_t:file write;
";
    assert_eq!(out, want);
}

#[test]
fn malformed_lines_are_reported_with_their_number_and_skipped() {
    let input = format!("{TE}\navc:  denied  {{ read }} for  pid=3 scontext=system_u:system_r:container_t:s0:c1,c2\n{TE}\n");
    let path = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(path.path(), &input).unwrap();
    let (code, out, err) = run_with(&["why", "--file", path.path().to_str().unwrap()], "");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("line 1 (2 records: lines 1, 3): denied { write }"),
        "{out}"
    );
    assert_eq!(
        err,
        "relabel: line 2, byte 81: the record has no tcontext= field\n\
         relabel: 1 of 3 lines with AVC records could not be explained (see above)\n"
    );
}

#[test]
fn records_the_policy_lacks_are_errors() {
    let unknown = TE.replace("exec_t", "nosuch_t");
    let (code, out, _) = run_with(&["why", &unknown, TE], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "  error:   target context system_u:object_r:nosuch_t:s0: unknown type nosuch_t"
        ),
        "{out}"
    );
    assert!(
        out.contains("line 2: denied { write }"),
        "arguments are lines 1, 2, ...: {out}"
    );
}

#[test]
fn booleans_change_the_verdict() {
    let (code, out, _) = run_with(&["why", "--boolean", "allow_write=on", BOOLEAN], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("  verdict: allowed-now\n"), "{out}");
    let (code, out, _) = run_with(
        &[
            "why",
            "-b",
            "allow_write=1",
            "-b",
            "allow_other=true",
            BOOLEAN,
        ],
        "",
    );
    assert_eq!(code, 0);
    // Both on: the xor is false again, and turning either off allows it.
    assert!(out.contains("  verdict: boolean\n"), "{out}");
    assert!(
        out.contains(
            "  fix:     one of: setsebool -P allow_other off; setsebool -P allow_write off\n"
        ),
        "{out}"
    );
    let (code, _, err) = run_with(&["why", "--boolean", "allow_wrte=on", BOOLEAN], "");
    assert_eq!(code, 2);
    assert_eq!(err, "relabel: --boolean: unknown boolean allow_wrte\n");
    let (code, _, err) = run_with(&["why", "--boolean", "allow_write", BOOLEAN], "");
    assert_eq!(code, 2);
    assert!(
        err.contains("bad --boolean \"allow_write\": expected NAME=on or NAME=off"),
        "{err}"
    );
}

#[test]
fn json_output() {
    let (code, out, _) = run_with(
        &[
            "why",
            "--json",
            "--boolean",
            "allow_exec=off",
            MCS,
            MCS,
            "avc: denied",
        ],
        "",
    );
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["policy"], fixture());
    assert_eq!(doc["booleans"], serde_json::json!({"allow_exec": false}));
    assert_eq!(doc["records"], 2);
    let g = &doc["groups"][0];
    assert_eq!(doc["groups"].as_array().unwrap().len(), 1);
    assert_eq!(
        (g["count"].as_u64(), g["lines"].clone()),
        (Some(2), serde_json::json!([1, 2]))
    );
    assert_eq!(g["verdict"], "mcs");
    assert_eq!(
        g["constraint"]["missing_categories"],
        serde_json::json!(["c3"])
    );
    assert_eq!(
        g["allow_rule"],
        "allow container_t container_file_t:file read;"
    );
    assert_eq!(g["comm"], "cat");
    assert_eq!(g["event"], "1701597600.123:456");
    assert_eq!(
        doc["errors"],
        serde_json::json!([{"line": 3, "offset": 11, "message": "line 3, byte 11: expected \"{\" after \"denied\", found the end of the line"}])
    );
}

#[test]
fn no_records_no_policy_no_file() {
    let (code, out, err) = run_with(&["why"], "type=SYSCALL msg=audit(1.0:1): arch=c000003e\n");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, "relabel: no AVC record in the input\n");
    let out = relabel().args(["why", TE]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy FILE"));
    let (code, _, err) = run_with(&["why", "--file", "/nonexistent/audit.log"], "");
    assert_eq!(code, 2);
    assert!(
        err.starts_with("relabel: cannot read /nonexistent/audit.log: "),
        "{err}"
    );
    let (code, _, err) = run_with(&["why", "--file", "/"], "");
    assert_eq!(code, 2);
    assert_eq!(err, "relabel: cannot read /: it is a directory\n");
    let (code, _, _) = run_with(&["why", "--file", "-", TE], "");
    assert_eq!(code, 2, "--file and records conflict");
    let (code, out, _) = run_with(&["why", "--file", "-"], TE);
    assert_eq!(code, 0);
    assert!(out.contains("verdict: type-enforcement"));
}

#[test]
fn help_documents_the_classes_and_exit_statuses() {
    let out = relabel().args(["why", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for want in [
        "Example",
        "Writes: nothing",
        "Exit status: 0",
        "allowed-now",
        "mcs",
        "dontaudit",
    ] {
        assert!(help.contains(want), "{want}: {help}");
    }
    for line in help.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    let out = relabel().arg("--help").output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("for `why`: some AVC lines are malformed")
    );
}
