//! `relabel exec` and `relabel show --pid` end to end on the test host.
//!
//! With SELinux off (CI's hosts, and this project's): both exit 1 with one
//! line on stderr that says how we can tell, print nothing on stdout, and
//! `exec` never runs the command. With SELinux on, `show --pid` prints the
//! kernel's label. The behaviour on a real SELinux kernel (a command run
//! in another context, another process's label) is checked in tests/vm
//! (check 6).

use std::process::Output;

use assert_cmd::Command;
use selinux_mcs::process;

fn relabel() -> Command {
    Command::cargo_bin("relabel").expect("the relabel binary is built")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 1, nothing on stdout, exactly one line on stderr naming why.
fn one_clear_line(out: &Output, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(out.stdout.is_empty(), "{what} printed to stdout");
    assert_eq!(err.lines().count(), 1, "{what}: not one line: {err}");
    assert!(err.starts_with("relabel: "), "{what}: {err}");
    let why = process::selinuxfs_mount().expect_err("SELinux is off here");
    assert!(
        err.contains(&format!("SELinux is not enabled: {why}")),
        "{what}: {err}"
    );
}

#[test]
fn exec_refuses_with_one_line_and_runs_nothing_when_selinux_is_off() {
    if process::is_enabled() {
        eprintln!("SELinux is enabled here: tests/vm check 6 covers exec");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    for args in [
        vec!["--context", "system_u:system_r:container_t:s0:c1,c2", "--"],
        vec![
            "--context",
            "system_u:system_r:container_t:s0",
            "--level",
            "s0:c3,c4",
        ],
        vec!["--context", "u:r:t"],
    ] {
        let out = relabel()
            .arg("exec")
            .args(&args)
            .arg("touch")
            .arg(&marker)
            .output()
            .expect("runs");
        one_clear_line(&out, &format!("exec {args:?}"));
        assert!(
            stderr(&out).contains("/proc/thread-self/attr/exec"),
            "{}",
            stderr(&out)
        );
        assert!(!marker.exists(), "exec {args:?} ran the command");
    }
}

#[test]
fn show_pid_refuses_with_one_line_when_selinux_is_off() {
    let me = std::process::id().to_string();
    if process::is_enabled() {
        let out = relabel()
            .args(["show", "--pid", &me])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let want = format!("{} {me}\n", process::current().expect("current"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
        return;
    }
    for args in [
        vec!["show", "--pid", &me],
        vec!["show", "--pid", &me, "1", "--json"],
        // A pid that does not exist: still the one line, not one per pid.
        vec!["show", "--pid", "2147483647"],
    ] {
        let out = relabel().args(&args).output().expect("runs");
        one_clear_line(&out, &format!("{args:?}"));
    }
}

#[test]
fn bad_usage_exits_2_before_asking_the_kernel() {
    for (args, offending) in [
        (
            vec!["exec", "--context", "u:r:t:s0:c5.c1", "--", "true"],
            "c5.c1",
        ),
        (
            vec!["exec", "--context", "not a context", "true"],
            "not a context",
        ),
        (
            vec!["exec", "--context", "u:r:t:s0", "--level", "s0-", "true"],
            "s0-",
        ),
        (vec!["exec", "--context", "u:r:t:s0"], "COMMAND"),
        (vec!["exec", "--", "true"], "--context"),
        (vec!["show", "--pid", "0"], "0"),
        (vec!["show", "--pid", "-5"], "-5"),
        (vec!["show", "--pid", "self"], "self"),
        (vec!["show", "--pid", "1", "-R"], "--recursive"),
        (vec!["show", "--pid", "1", "--", "/tmp"], "[PATH]"),
    ] {
        let out = relabel().args(&args).output().expect("runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(offending), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn help_documents_the_exit_statuses_of_exec() {
    let top = relabel().arg("--help").output().expect("runs");
    let top = String::from_utf8_lossy(&top.stdout);
    for status in [
        "`show --pid`, SELinux is not enabled",
        "126  exec: the command cannot be executed",
        "127  exec: the command was not found",
        "Otherwise `exec` exits with the command's own status",
    ] {
        assert!(top.contains(status), "relabel --help lacks {status:?}");
    }
    let help = relabel().args(["exec", "--help"]).output().expect("runs");
    // Wrapped to the terminal: compare words.
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("126 (COMMAND cannot be executed"), "{help}");
    assert!(help.contains("127 (COMMAND not found)"), "{help}");
}
