//! `selinux_mcs::process` on the test host.
//!
//! With SELinux off (this project's hosts and CI's): every function that
//! asks the kernel returns `ProcessError::Disabled`, whose reason matches
//! what `/proc/filesystems` and `/proc/self/mountinfo` say, in one line,
//! without a panic, from any thread. With SELinux on, the same functions
//! must agree with `/proc`. The behaviour on a real SELinux kernel is
//! checked in tests/vm (check 6).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::os::unix::net::UnixStream;

use selinux_mcs::policy::Mode;
use selinux_mcs::process::{self, Attr, Disabled, ProcessError};
use selinux_mcs::SecurityContext;

/// Every function of `process` that asks the kernel, with its name.
fn every_kernel_call() -> Vec<(&'static str, Result<String, ProcessError>)> {
    let ctx: SecurityContext = "system_u:system_r:container_t:s0:c1,c2".parse().unwrap();
    let me = std::process::id() as i32;
    let (a, _b) = UnixStream::pair().unwrap();
    let file = std::fs::File::open("/proc/self/status").unwrap();
    let show = |r: Result<Option<SecurityContext>, ProcessError>| r.map(|c| format!("{c:?}"));
    let one = |r: Result<SecurityContext, ProcessError>| r.map(|c| c.to_string());
    let unit = |r: Result<(), ProcessError>| r.map(|()| String::new());
    let mut calls = vec![
        ("current", one(process::current())),
        ("prev", one(process::prev())),
        ("exec", show(process::exec())),
        ("fscreate", show(process::fscreate())),
        ("keycreate", show(process::keycreate())),
        ("sockcreate", show(process::sockcreate())),
        ("set_current", unit(process::set_current(&ctx))),
        ("set_exec", unit(process::set_exec(&ctx))),
        ("clear_exec", unit(process::clear_exec())),
        ("set_fscreate", unit(process::set_fscreate(&ctx))),
        ("clear_fscreate", unit(process::clear_fscreate())),
        ("set_keycreate", unit(process::set_keycreate(&ctx))),
        ("clear_keycreate", unit(process::clear_keycreate())),
        ("set_sockcreate", unit(process::set_sockcreate(&ctx))),
        ("clear_sockcreate", unit(process::clear_sockcreate())),
        ("pid_label", one(process::pid_label(me))),
        ("pid_label of pid 1", one(process::pid_label(1))),
        ("pid_label of no process", one(process::pid_label(i32::MAX))),
        ("pid_prev", one(process::pid_prev(me))),
        ("peer_label", one(process::peer_label(&a))),
        ("fd_label", one(process::fd_label(&file))),
        (
            "enforce_mode",
            process::enforce_mode().map(|m| m.to_string()),
        ),
        (
            "set_enforce_mode",
            unit(process::set_enforce_mode(Mode::Permissive)),
        ),
        ("mls_enabled", process::mls_enabled().map(|b| b.to_string())),
        (
            "policy_version",
            process::policy_version().map(|v| v.to_string()),
        ),
        (
            "class_index",
            process::class_index("file").map(|v| v.to_string()),
        ),
        (
            "permission_bit",
            process::permission_bit("file", "read").map(|v| v.to_string()),
        ),
        ("check_context", unit(process::check_context(ctx.as_str()))),
        (
            "canonicalize_context",
            one(process::canonicalize_context(ctx.as_str())),
        ),
        (
            "compute_create",
            one(process::compute_create(&ctx, &ctx, "file")),
        ),
    ];
    for attr in Attr::ALL {
        calls.push(("thread_attr", show(process::thread_attr(attr))));
        calls.push(("pid_attr", show(process::pid_attr(me, attr))));
    }
    for attr in [
        Attr::Exec,
        Attr::FsCreate,
        Attr::KeyCreate,
        Attr::SockCreate,
    ] {
        calls.push((
            "set_thread_attr",
            unit(process::set_thread_attr(attr, None)),
        ));
    }
    calls
}

/// Why SELinux is off, found without the library.
fn expected_reason() -> Disabled {
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap();
    if !filesystems.lines().any(|l| l.ends_with("\tselinuxfs")) {
        return Disabled::NotInKernel;
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(" - selinuxfs "),
        "selinuxfs is mounted but the library says disabled: {:?}",
        process::selinuxfs_mount()
    );
    Disabled::NotMounted
}

#[test]
fn with_selinux_off_every_call_says_so_and_how_we_can_tell() {
    let Err(why) = process::selinuxfs_mount() else {
        eprintln!("SELinux is enabled here: see with_selinux_on_the_answers_match_proc");
        return;
    };
    assert!(!process::is_enabled());
    // Read-only and no-policy are states of a mounted selinuxfs; here it is
    // not in the kernel, or not mounted.
    assert_eq!(why, expected_reason());
    let text = why.to_string();
    assert!(!text.contains('\n'), "{text}");
    for (name, result) in every_kernel_call() {
        match result {
            Err(ProcessError::Disabled { subject, why: w }) => {
                assert_eq!(w, why, "{name}");
                let e = ProcessError::Disabled {
                    subject: subject.clone(),
                    why: w,
                };
                let line = e.to_string();
                assert_eq!(
                    line,
                    format!("{subject}: SELinux is not enabled: {text}"),
                    "{name}"
                );
                assert!(!line.contains('\n'), "{name}: {line}");
                assert!(e.is_disabled());
                assert_eq!(e.raw_os_error(), None);
            }
            other => panic!("{name}: expected Disabled, got {other:?}"),
        }
    }
}

#[test]
fn the_disabled_error_names_what_was_asked() {
    if process::is_enabled() {
        return;
    }
    let subject = |r: ProcessError| match r {
        ProcessError::Disabled { subject, .. } => subject,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        subject(process::exec().unwrap_err()),
        "/proc/thread-self/attr/exec"
    );
    assert_eq!(
        subject(process::pid_label(42).unwrap_err()),
        "/proc/42/attr/current"
    );
    assert_eq!(
        subject(process::enforce_mode().unwrap_err()),
        "/sys/fs/selinux/enforce"
    );
    assert_eq!(
        subject(process::class_index("file").unwrap_err()),
        "/sys/fs/selinux/class/file/index"
    );
    let (a, _b) = UnixStream::pair().unwrap();
    let s = subject(process::peer_label(&a).unwrap_err());
    assert!(s.ends_with("(getsockopt SO_PEERSEC)"), "{s}");
    // enforce_mode never says Disabled through Ok; unwrap_or gives go-selinux's three states.
    assert_eq!(
        process::enforce_mode().unwrap_or(Mode::Disabled),
        Mode::Disabled
    );
}

/// Many threads at once: no panic, the same answer.
#[test]
fn every_thread_gets_the_same_answer() {
    let answers: Vec<String> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                let r = process::set_exec(&"u:r:t:s0".parse().unwrap());
                let _ = process::clear_exec();
                format!("{:?}", r.map_err(|e| e.is_disabled()))
            })
        })
        .map(|t| t.join().unwrap())
        .collect();
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

#[test]
fn with_selinux_on_the_answers_match_proc() {
    if !process::is_enabled() {
        eprintln!(
            "SELinux is off here: see with_selinux_off_every_call_says_so_and_how_we_can_tell"
        );
        return;
    }
    let raw = std::fs::read_to_string("/proc/thread-self/attr/current").unwrap();
    let me = process::current().unwrap();
    assert_eq!(me.as_str(), raw.trim_end_matches('\0'));
    assert_eq!(process::pid_label(std::process::id() as i32).unwrap(), me);
    let enforce = std::fs::read_to_string("/sys/fs/selinux/enforce").unwrap();
    let want = if enforce.trim() == "1" {
        Mode::Enforcing
    } else {
        Mode::Permissive
    };
    assert_eq!(process::enforce_mode().unwrap(), want);
    let (a, _b) = UnixStream::pair().unwrap();
    assert_eq!(process::peer_label(&a).unwrap(), me);
    assert!(process::exec().unwrap().is_none());
    let e = process::pid_label(i32::MAX).unwrap_err();
    assert!(
        matches!(e, ProcessError::NoSuchProcess { pid: i32::MAX, .. }),
        "{e:?}"
    );
}
