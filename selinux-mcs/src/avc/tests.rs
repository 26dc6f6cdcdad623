#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use super::*;
use crate::policydb::{AccessError, Policy};

const BODY: &str = "avc:  denied  { read write } for  pid=4242 comm=\"cat\" name=\"data\" dev=\"sda1\" ino=1234 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0";

fn one(line: &str) -> AvcRecord {
    AvcRecord::parse(line, 1).unwrap().unwrap()
}

#[test]
fn every_log_format_gives_the_same_record() {
    let formats = [
        BODY.to_owned(),
        format!("[ 1234.567890] audit: type=1400 audit(1701597600.123:456): {BODY}"),
        format!("[Sun Dec  3 10:00:00 2023] audit: type=1400 audit(1701597600.123:456): {BODY}"),
        format!("Dec 03 10:00:00 host kernel: audit: type=1400 audit(1701597600.123:456): {BODY}"),
        format!("2023-12-03T10:00:00+0000 host kernel: audit: type=1400 audit(1701597600.123:456): {BODY}"),
        format!("type=AVC msg=audit(1701597600.123:456): {BODY}"),
        format!("type=AVC msg=audit(12/03/2023 10:00:00.123:456) : {BODY}"),
        format!("type=AVC msg=audit(1701597600.123:456): {BODY}\u{1d}ARCH=x86_64 SYSCALL=openat AUID=\"root\""),
        format!("type=AVC msg=audit(1701597600.123:456): {BODY}\r"),
    ];
    let want = one(BODY);
    for f in &formats {
        let r = AvcRecord::parse(f, 1)
            .unwrap()
            .unwrap_or_else(|| panic!("{f}"));
        assert_eq!(r.permissions(), want.permissions(), "{f}");
        assert_eq!(r.scontext(), want.scontext(), "{f}");
        assert_eq!(r.tcontext(), want.tcontext(), "{f}");
        assert_eq!(r.tclass(), "file", "{f}");
        assert_eq!(r.permissive(), Some(false), "{f}");
        assert_eq!(r.comm(), Some(&b"cat"[..]), "{f}");
        assert_eq!(r.field("ino"), Some(&b"1234"[..]), "{f}");
        assert!(!r.is_user());
    }
    assert_eq!(
        AvcRecord::parse(&formats[5], 1).unwrap().unwrap().event(),
        Some("1701597600.123:456")
    );
    assert_eq!(
        AvcRecord::parse(&formats[6], 1).unwrap().unwrap().event(),
        Some("12/03/2023 10:00:00.123:456")
    );
}

#[test]
fn hex_values_are_decoded_only_where_the_kernel_writes_them() {
    let r = one("avc:  denied  { read } for  pid=1 comm=636174206D65 name=2F7661722F782079 path=41 ino=1234 dev=ABCD scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file");
    assert_eq!(r.comm(), Some(&b"cat me"[..]));
    assert_eq!(r.name(), Some(&b"/var/x y"[..]));
    assert_eq!(r.path(), Some(&b"A"[..]));
    assert_eq!(r.field("ino"), Some(&b"1234"[..]));
    assert_eq!(r.field("dev"), Some(&b"ABCD"[..]));
    let r = one("avc:  denied  { read } for  comm=FFFE0A exe=414 name=ab scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file");
    assert_eq!(r.comm(), Some(&b"\xff\xfe\n"[..]));
    // Odd length, lowercase: not the kernel's hex.
    assert_eq!(r.field("exe"), Some(&b"414"[..]));
    assert_eq!(r.name(), Some(&b"ab"[..]));
    // ausearch -i has decoded them already.
    let r = one("type=AVC msg=audit(12/03/2023 10:00:00.123:456) : avc:  denied  { read } for  comm=BEEF scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file");
    assert_eq!(r.comm(), Some(&b"BEEF"[..]));
}

#[test]
fn user_avc_granted_and_notices() {
    let r = one("type=USER_AVC msg=audit(1701597600.123:456): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  denied  { start } for auid=n/a uid=0 gid=0 path=\"/usr/lib/systemd/system/x.service\" cmdline=\"\" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:init_t:s0 tclass=service permissive=0 exe=\"/usr/lib/systemd/systemd\" sauid=0 hostname=? addr=? terminal=?'");
    assert!(r.is_user());
    assert_eq!(r.tclass(), "service");
    assert_eq!(r.field("terminal"), Some(&b"?"[..]));
    assert_eq!(r.path(), Some(&b"/usr/lib/systemd/system/x.service"[..]));
    let r = one("audit: type=1400 audit(1.2:3): avc:  granted  { setenforce } for  pid=1 comm=\"x\" scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=security");
    assert_eq!(r.kind(), AvcKind::Granted);
    assert_eq!(r.permissive(), None);
    for notice in [
        "audit: type=1403 audit(1.2:3): avc:  op=load_policy lsm=selinux seqno=2 res=1",
        "kernel: SELinux: avc:  received policyload notice (seqno=2)",
        "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=257 success=no exit=-13",
        "",
        "avcs: denied { read }",
    ] {
        assert_eq!(AvcRecord::parse(notice, 1), Ok(None), "{notice}");
    }
}

#[test]
fn malformed_records_name_the_line_the_byte_and_the_text() {
    let cases: &[(&str, &str)] = &[
        (
            "avc: denied",
            r#"line 9, byte 11: expected "{" after "denied", found the end of the line"#,
        ),
        (
            "avc: granted read",
            r#"line 9, byte 13: expected "{" after "granted", found "read""#,
        ),
        (
            "avc: refused { read }",
            r#"line 9, byte 5: expected "denied" or "granted" after "avc:", found "refused""#,
        ),
        (
            "avc: denied { read",
            r#"line 9, byte 18: expected a permission name or "}", found the end of the line"#,
        ),
        (
            "avc: denied { re-ad }",
            r#"line 9, byte 16: expected a permission name or "}", found "-ad""#,
        ),
        (
            "avc: denied { } for",
            "line 9, byte 14: the braces hold no permission",
        ),
        (
            "avc: denied { read } for pid=1 junk scontext=u:r:t:s0",
            r#"line 9, byte 31: expected a key=value field, found "junk""#,
        ),
        (
            "avc: denied { read } for comm=\"cat",
            r#"line 9, byte 25: the quote is never closed: "comm=\"cat""#,
        ),
        (
            "avc: denied { read } for scontext=u:r:t:s0 tclass=file",
            "line 9, byte 54: the record has no tcontext= field",
        ),
        (
            "avc: denied { read } for scontext=u:r:t:s0 scontext=u:r:t:s0",
            r#"line 9, byte 43: scontext= appears twice, found "u:r:t:s0""#,
        ),
        (
            "avc: denied { read } for scontext=u:r:t:s0:c5.c1",
            r#"line 9, byte 34: bad context "u:r:t:s0:c5.c1": category range c5.c1 at byte 9: the first category must be lower than the second"#,
        ),
        (
            "avc: denied { read } for permissive=2",
            r#"line 9, byte 36: expected permissive=0 or permissive=1, found "2""#,
        ),
        (
            "avc: denied { read } for tclass=fi/le",
            r#"line 9, byte 25: expected a key=value field, found "fi/le""#,
        ),
    ];
    for (line, want) in cases {
        let err = AvcRecord::parse(line, 9).unwrap_err();
        assert_eq!(err.to_string(), *want, "{line}");
        assert_eq!(err.line(), 9);
    }
    let long = format!("avc: denied {{ read }} for {}", "x".repeat(200));
    let err = AvcRecord::parse(&long, 1).unwrap_err();
    assert!(err.found().len() <= 83, "{}", err.found());
    assert_eq!(err.offset(), 25);
}

#[test]
fn records_print_back_to_themselves() {
    for line in [
        format!("type=AVC msg=audit(1701597600.123:456): {BODY}"),
        "avc:  denied  { read } for  comm=FFFE0A name=\"a b\" dev=\"x y\" scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file".to_owned(),
        "type=USER_AVC msg=audit(1.2:3): msg='avc:  granted  { start } for cmdline=\"it's\" scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=service'".to_owned(),
        "type=AVC msg=audit(12/03/2023 10:00:00.123:456) : avc:  denied  { read } for  comm=BEEF scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file".to_owned(),
    ] {
        let r = one(&line);
        let printed = r.to_string();
        let again = AvcRecord::parse(&printed, 1).unwrap().unwrap();
        assert_eq!(again, r, "{line}\n{printed}");
    }
    assert_eq!(
        one("avc: denied {read} for comm=636174206D65 scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file").to_string(),
        "avc:  denied  { read } for  comm=636174206D65 scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file"
    );
}

#[test]
fn a_log_skips_other_lines_reports_bad_ones_and_groups_the_rest() {
    let text = format!(
        "----\n\
         type=PROCTITLE msg=audit(1.0:7): proctitle=636174\n\
         type=PATH msg=audit(1.0:7): item=0 name=\"data/x\" inode=1 nametype=NORMAL\n\
         type=CWD msg=audit(1.0:7): cwd=\"/srv/vol\"\n\
         type=AVC msg=audit(1.0:7): {BODY}\n\
         avc: denied {{ read }} garbage\n\
         type=AVC msg=audit(1.0:8): {BODY}\n\
         type=AVC msg=audit(1.0:9): {}\n",
        BODY.replace("{ read write }", "{ write read }")
    );
    let log = AvcLog::parse(text.as_bytes());
    assert_eq!(log.records().len(), 3);
    assert_eq!(log.errors().len(), 1);
    assert_eq!(log.errors()[0].line(), 6);
    assert_eq!(log.records()[0].path(), Some(&b"/srv/vol/data/x"[..]));
    assert_eq!(log.records()[1].path(), None);
    let groups = log.groups();
    assert_eq!(groups.len(), 1, "the order of permissions does not matter");
    assert_eq!(groups[0].lines(), [5, 7, 8]);
    assert_eq!(groups[0].count(), 3);
    // Different target: another group.
    let other = one(&BODY.replace("s0:c1,c3", "s0:c1,c4"));
    assert_eq!(group([one(BODY), other, one(BODY)]).len(), 2);
}

fn fixture() -> Policy {
    Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/policydb/mls.33"
    ))
    .unwrap()
}

fn avc(perms: &str, s: &str, t: &str, class: &str) -> AvcRecord {
    one(&format!(
        "avc:  denied  {{ {perms} }} for  pid=7 comm=\"app\" name=\"data\" dev=\"sda1\" ino=99 scontext={s} tcontext={t} tclass={class} permissive=0"
    ))
}

#[test]
fn every_cause_on_the_fixture() {
    let p = fixture();
    let access = p.access();
    let why = Why::new(&access);
    let container = "system_u:system_r:container_t:s0:c1,c2";
    let v = why
        .explain(&avc(
            "read",
            container,
            "system_u:object_r:container_file_t:s0:c1,c3",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause.class(), "mcs");
    assert_eq!(
        v.cause,
        Cause::Constraint {
            mls: true,
            expression: "(l1 dom l2 or t1 == kernel_t)".into(),
            missing_categories: vec!["c3".into()],
        }
    );
    assert_eq!(
        v.fix,
        "relabel the volume with the container's pair: relabel apply --private --level s0:c1,c2 PATH (the volume holding \"data\" on sda1, inode 99)"
    );
    assert!(
        v.explanation
            .starts_with("MCS: the source (s0:c1,c2) lacks category c3 of the target (s0:c1,c3)"),
        "{}",
        v.explanation
    );

    // Two categories missing, a file of another type, a path in the record.
    let r = one("avc:  denied  { read } for  pid=7 path=2F7372762F61206227 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:exec_t:s0:c3,c4 tclass=file");
    let v = why.explain(&r).unwrap();
    assert_eq!(v.cause.class(), "mcs");
    assert!(
        v.explanation
            .contains("lacks categories c3,c4 of the target"),
        "{}",
        v.explanation
    );
    assert_eq!(
        v.fix,
        "relabel the volume with the container's pair: relabel apply --private --level s0:c1,c2 --file-context system_u:object_r:exec_t:s0 '/srv/a b'\\''' (or the volume's top directory, to relabel it all)"
    );

    let v = why
        .explain(&avc(
            "write",
            "user_u:user_r:user_t:s0",
            "system_u:object_r:exec_t:s0",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause, Cause::TypeEnforcement);
    assert_eq!(v.allow_rule, "allow user_t exec_t:file write;");
    assert!(
        v.fix.ends_with("allow user_t exec_t:file write;"),
        "{}",
        v.fix
    );

    let v = why
        .explain(&avc(
            "write open",
            "user_u:user_r:user_t:s0",
            "system_u:object_r:file_t:s0",
            "file",
        ))
        .unwrap();
    assert_eq!(
        v.cause,
        Cause::Boolean {
            booleans: vec![("allow_other".into(), true), ("allow_write".into(), true)]
        }
    );
    assert_eq!(
        v.fix,
        "one of: setsebool -P allow_other on; setsebool -P allow_write on"
    );
    assert_eq!(v.allow_rule, "allow user_t file_t:file { open write };");

    let v = why
        .explain(&avc(
            "write",
            container,
            "system_u:object_r:file_t:s0",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause, Cause::Dontaudit);
    assert!(!v.audited);

    let v = why
        .explain(&avc(
            "create",
            container,
            "user_u:object_r:container_file_t:s0:c1,c2",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause.class(), "constraint");
    assert!(
        v.explanation.contains("users system_u and user_u"),
        "{}",
        v.explanation
    );

    let v = why
        .explain(&avc(
            "transition",
            "system_u:system_r:init_t:s0",
            "system_u:object_r:container_t:s0",
            "process",
        ))
        .unwrap();
    assert_eq!(
        v.cause,
        Cause::RoleAllow {
            from: "system_r".into(),
            to: "object_r".into()
        }
    );
    assert_eq!(
        v.fix,
        "a policy module with the role allow rule: allow system_r object_r;"
    );

    let v = why
        .explain(&avc(
            "read",
            container,
            "system_u:object_r:container_file_t:s0:c1",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause, Cause::AllowedNow);
    assert!(v.permissions.iter().all(|p| p.allowed()));

    let v = why
        .explain(&avc(
            "write",
            "system_u:system_r:child_t:s0",
            "system_u:object_r:exec_t:s0",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause, Cause::TypeEnforcement);
    assert!(v.permissive_type);
    assert!(
        v.explanation.contains("child_t is a permissive type"),
        "{}",
        v.explanation
    );

    let granted = one("avc:  granted  { execute } for  pid=1 scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:exec_t:s0 tclass=file");
    let v = why.explain(&granted).unwrap();
    assert_eq!(v.cause, Cause::AllowedNow);
    assert!(v.explanation.contains("auditallow"), "{}", v.explanation);
}

#[test]
fn booleans_given_change_the_verdict() {
    let p = fixture();
    let access = p.access_with(p.booleans_with([("allow_write", true)]).unwrap());
    let why = Why::new(&access);
    let v = why
        .explain(&avc(
            "write",
            "user_u:user_r:user_t:s0",
            "system_u:object_r:file_t:s0",
            "file",
        ))
        .unwrap();
    assert_eq!(v.cause, Cause::AllowedNow);
    assert!(
        v.explanation.starts_with("Allowed now"),
        "{}",
        v.explanation
    );
}

#[test]
fn records_the_policy_cannot_explain_are_errors() {
    let p = fixture();
    let access = p.access();
    let why = Why::new(&access);
    let s = "system_u:system_r:container_t:s0";
    let t = "system_u:object_r:container_file_t:s0";
    assert_eq!(
        why.explain(&avc("read", s, t, "socket")),
        Err(AccessError::UnknownClass("socket".into()))
    );
    assert_eq!(
        why.explain(&avc("fly", s, t, "file")),
        Err(AccessError::UnknownPermission {
            class: "file".into(),
            perm: "fly".into()
        })
    );
    let err = why
        .explain(&avc("read", "system_u:system_r:nope_t:s0", t, "file"))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("source context system_u:system_r:nope_t:s0: unknown type nope_t"),
        "{err}"
    );
}

#[test]
fn json_has_the_documented_shape() {
    let p = fixture();
    let access = p.access();
    let why = Why::new(&access);
    let log = AvcLog::parse(
        format!(
            "{}\n{}\n",
            avc(
                "read",
                "system_u:system_r:container_t:s0:c1,c2",
                "system_u:object_r:container_file_t:s0:c1,c3",
                "file"
            ),
            avc(
                "read",
                "system_u:system_r:container_t:s0:c1,c2",
                "system_u:object_r:container_file_t:s0:c1,c3",
                "file"
            )
        )
        .as_bytes(),
    );
    let groups = log.groups();
    let v = why.explain(groups[0].record()).unwrap();
    let doc = groups[0].to_json(Ok(&v));
    assert_eq!(doc["count"], 2);
    assert_eq!(doc["lines"], serde_json::json!([1, 2]));
    assert_eq!(doc["verdict"], "mcs");
    assert_eq!(
        doc["constraint"]["missing_categories"],
        serde_json::json!(["c3"])
    );
    assert_eq!(doc["permission_verdicts"][0]["denied_by"], "mcs");
    assert_eq!(doc["name"], "data");
    assert_eq!(doc["path"], serde_json::Value::Null);
    assert_eq!(doc["error"], serde_json::Value::Null);
    let err = AccessError::UnknownClass("x".into());
    let doc = groups[0].to_json(Err(&err));
    assert_eq!(
        (doc["verdict"].as_str(), doc["error"].as_str()),
        (Some("error"), Some("unknown class x"))
    );
}

#[test]
fn reading_a_stream_gives_what_parsing_gives_and_skips_huge_lines() {
    let text = format!(
        "type=AVC msg=audit(1.0:7): {BODY}\r\nnoise\n{}\navc: denied\n{BODY}",
        "x".repeat(MAX_LINE + 10)
    );
    let parsed = AvcLog::parse(text.as_bytes());
    let read = AvcLog::read(std::io::BufReader::with_capacity(100, text.as_bytes())).unwrap();
    assert_eq!(read.records(), parsed.records());
    assert_eq!(read.records().len(), 2);
    assert_eq!(read.records()[1].line(), 5);
    let errors: Vec<String> = read.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "line 3, byte 65536: the line is longer than 64 KiB (audit records are under 9 KiB); skipped",
            "line 4, byte 11: expected \"{\" after \"denied\", found the end of the line"
        ]
    );
}
