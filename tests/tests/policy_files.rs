//! The other policy files of the fixture under tests/data/policy: config,
//! lxc_contexts, customizable_types, setrans.conf (with Include), restore
//! decisions on the Debian-style file_contexts, and malformed files.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::Path;

use selinux_mcs::explain::Explanation;
use selinux_mcs::mls::MlsRange;
use selinux_mcs::policy::{
    Config, ContainerContexts, CustomizableTypes, FileContexts, Mode, PolicyError, RestoreAction,
    Restorer, Root, Translations,
};
use selinux_mcs::{FileKind, SecurityContext};
use selinux_mcs_tests::data_file;

fn root() -> Root {
    Root::new(data_file("policy/etc/selinux"))
        .with_containers_contexts(data_file("policy/no-containers-contexts"))
}

fn ctx(s: &str) -> SecurityContext {
    s.parse().unwrap()
}

#[test]
fn config_and_container_contexts() {
    let root = root();
    let config = root.config().unwrap();
    assert_eq!(config.mode(), Some(Mode::Enforcing));
    assert_eq!(config.policy_type(), "default");
    let contexts = root.container_contexts().unwrap();
    assert_eq!(contexts.process().unwrap().type_(), "container_t");
    assert_eq!(contexts.file().unwrap().type_(), "container_file_t");
    assert_eq!(contexts.ro_file().unwrap().type_(), "container_ro_file_t");
    assert_eq!(contexts.kvm_process().unwrap().type_(), "container_kvm_t");
    assert_eq!(contexts.init_process().unwrap().type_(), "container_init_t");
    assert_eq!(
        contexts.engine_process().unwrap().type_(),
        "container_engine_t"
    );
    assert_eq!(contexts.get("content").unwrap().type_(), "virt_var_lib_t");
    assert!(root
        .customizable_types()
        .unwrap()
        .contains("container_file_t"));
}

#[test]
fn setrans_with_include() {
    let path = root().setrans_path().unwrap();
    let t = Translations::from_path(&path).unwrap();
    assert_eq!(
        t.sources().len(),
        2,
        "setrans.conf and setrans.d/containers.conf"
    );
    let r = |s: &str| s.parse::<MlsRange>().unwrap();
    assert_eq!(t.translate(&r("s0")), "SystemLow");
    assert_eq!(t.translate(&r("s0-s0:c0.c1023")), "SystemLow-SystemHigh");
    assert_eq!(t.translate(&r("s0:c0.c1023")), "SystemHigh");
    // The key was written s0:c3,c1: canonical keys match.
    assert_eq!(t.translate(&r("s0:c1,c3")), "CompanyConfidentialRedHat");
    // From the included file.
    assert_eq!(t.translate(&r("s0:c186,c641")), "WebFrontend");
    // Half by half.
    assert_eq!(t.translate(&r("s0-s0:c186,c641")), "SystemLow-WebFrontend");
    assert_eq!(t.translate(&r("s0:c5-s0:c0.c1023")), "s0:c5-SystemHigh");
    assert_eq!(t.translation(&r("s0:c5,c6")), None);
    // Back again.
    for raw in [
        "s0",
        "s0-s0:c0.c1023",
        "s0:c1,c3",
        "s0-s0:c186,c641",
        "s0:c5-s0:c0.c1023",
    ] {
        assert_eq!(t.untranslate(&t.translate(&r(raw))), Some(r(raw)), "{raw}");
    }
    assert_eq!(t.untranslate("NoSuchName"), None);
    let c = ctx("system_u:system_r:container_t:s0:c186,c641");
    assert_eq!(
        t.translate_context(&c),
        "system_u:system_r:container_t:WebFrontend"
    );
    let e = Explanation::with_translations(&c, &t);
    assert_eq!(e.translation(), Some("WebFrontend"));
}

#[test]
fn restore_decisions_on_the_fixture() {
    let root = root();
    let fc = FileContexts::from_path(root.file_contexts_path().unwrap()).unwrap();
    let mut restorer = Restorer::new(&fc);
    restorer.customizable_types(root.customizable_types().unwrap());
    let cur = ctx("unconfined_u:object_r:user_home_t:s0:c1,c2");
    let p = |s: &str| Path::new(s).to_path_buf();
    // Only the type changes.
    assert_eq!(
        restorer.decide(&p("/etc/passwd"), FileKind::File, Some(&cur)),
        RestoreAction::Write(ctx("unconfined_u:object_r:passwd_file_t:s0:c1,c2"))
    );
    // Already right (type-wise): nothing to write.
    let right = ctx("unconfined_u:object_r:passwd_file_t:s0:c1,c2");
    assert_eq!(
        restorer.decide(&p("/etc/passwd"), FileKind::File, Some(&right)),
        RestoreAction::Unchanged
    );
    // Force replaces the whole context, and then it is not "right" any more.
    let mut forced = Restorer::new(&fc);
    forced.force(true);
    assert_eq!(
        forced.target_for(&p("/etc/passwd"), FileKind::File, Some(&right)),
        Some(ctx("system_u:object_r:passwd_file_t:s0"))
    );
    // Customizable types are kept unless forced.
    let custom = ctx("system_u:object_r:container_file_t:s0:c5,c6");
    assert_eq!(
        restorer.decide(&p("/srv/other"), FileKind::File, Some(&custom)),
        RestoreAction::Customizable
    );
    assert!(forced
        .target_for(&p("/srv/other"), FileKind::File, Some(&custom))
        .is_some());
    // <<none>> and no label.
    assert_eq!(
        restorer.decide(&p("/tmp/foo"), FileKind::File, Some(&cur)),
        RestoreAction::NoLabel
    );
    assert_eq!(
        restorer.target_for(
            &p("/var/lib/containers/storage/overlay/l"),
            FileKind::Dir,
            None
        ),
        Some(ctx("system_u:object_r:container_ro_file_t:s0"))
    );
    // Substitutions apply: /var/run is /run.
    assert_eq!(
        restorer
            .target_for(&p("/var/run/docker.sock"), FileKind::Socket, None)
            .unwrap()
            .type_(),
        "container_var_run_t"
    );
}

fn err_of(r: Result<impl std::fmt::Debug, PolicyError>) -> PolicyError {
    r.expect_err("the bad fixture must not load")
}

#[test]
fn malformed_files_name_file_and_line() {
    let bad = |name: &str| data_file(&format!("policy/bad/{name}"));
    let cases: Vec<(PolicyError, &str, usize, &str)> = vec![
        (
            err_of(FileContexts::from_path(bad("file_contexts.bad_type"))),
            "file_contexts.bad_type",
            2,
            "unknown file type \"-q\"",
        ),
        (
            err_of(FileContexts::from_path(bad("file_contexts.pcre2"))),
            "file_contexts.pcre2",
            4,
            "invalid regex \"/usr/lib**\": PCRE2 rejects it",
        ),
        (
            err_of(FileContexts::from_path(bad("file_contexts.bad_regex"))),
            "file_contexts.bad_regex",
            2,
            "invalid regex",
        ),
        (
            err_of(FileContexts::from_path(bad("file_contexts.bad_context"))),
            "file_contexts.bad_context",
            1,
            "bad context",
        ),
        (
            err_of(FileContexts::from_path(bad(
                "file_contexts.missing_context",
            ))),
            "file_contexts.missing_context",
            1,
            "missing fields",
        ),
        (
            err_of(Translations::from_path(bad("setrans.base.conf"))),
            "setrans.base.conf",
            3,
            "unsupported: mcstrans `Base=`",
        ),
        (
            err_of(Translations::from_path(bad("setrans.dup.conf"))),
            "setrans.dup.conf",
            2,
            "already stands for s0:c1",
        ),
        (
            err_of(Translations::from_path(bad("setrans.constraint.conf"))),
            "setrans.constraint.conf",
            2,
            "constraints",
        ),
        (
            err_of(Translations::from_path(bad("setrans.badlevel.conf"))),
            "setrans.badlevel.conf",
            2,
            "neither a level",
        ),
        (
            err_of(ContainerContexts::from_path(bad("lxc_contexts.bad"))),
            "lxc_contexts.bad",
            2,
            "bad context",
        ),
        (
            err_of(Config::from_path(bad("config.bad"))),
            "config.bad",
            1,
            "unknown mode",
        ),
        (
            err_of(CustomizableTypes::from_path(bad("customizable_types.bad"))),
            "customizable_types.bad",
            2,
            "one type name",
        ),
    ];
    for (e, file, line, needle) in cases {
        let msg = e.to_string();
        assert_eq!(e.line(), Some(line), "{msg}");
        assert!(msg.contains(&format!("{file}:{line}: ")), "{msg}");
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
}

#[test]
fn missing_files_are_named() {
    let root = Root::new(data_file("policy/nowhere"));
    let e = root.file_contexts_path().unwrap_err();
    assert!(e.to_string().contains("nowhere/config"), "{e}");
    let e = FileContexts::from_path(data_file("policy/nowhere/file_contexts")).unwrap_err();
    assert!(e.to_string().contains("nowhere/file_contexts"), "{e}");
}
