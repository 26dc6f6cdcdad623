//! The host's policies that the differential tests compare against:
//! Debian's installed `policy.33`, and Debian's policy with
//! tests/vm/container.cil built into a private copy of the policy store.
//! Without them a test says so and passes, unless
//! `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1` (CI sets it): then it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the system's policy tools must be there (CI).
pub fn required() -> bool {
    std::env::var("SELINUX_MCS_REQUIRE_SYSTEM_POLICY").as_deref() == Ok("1")
}

/// Says why a test is skipped, or fails when it must run.
pub fn skip(why: &str) {
    assert!(!required(), "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but {why}");
    eprintln!("skipped: {why}");
}

/// Debian's installed policy, when there is one.
pub fn debian_policy() -> Option<PathBuf> {
    let path = PathBuf::from("/etc/selinux/default/policy/policy.33");
    if path.exists() {
        return Some(path);
    }
    skip(&format!(
        "{} is missing (apt install selinux-policy-default)",
        path.display()
    ));
    None
}

/// Debian's policy with tests/vm/container.cil, built into a private copy
/// of the policy store under `dir` (never the host's) with `semodule -p`.
pub fn container_policy(dir: &Path) -> Option<PathBuf> {
    let have = Command::new("semodule").arg("--help").output().is_ok()
        && Path::new("/var/lib/selinux/default").exists();
    if !have {
        skip("semodule or /var/lib/selinux/default is missing (apt install semodule-utils selinux-policy-default)");
        return None;
    }
    let run = |cmd: &mut Command| {
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for sub in ["var/lib", "etc"] {
        std::fs::create_dir_all(dir.join(sub))
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.join(sub).display()));
    }
    run(Command::new("cp")
        .args(["-a", "/var/lib/selinux"])
        .arg(dir.join("var/lib/")));
    run(Command::new("cp")
        .args(["-a", "/etc/selinux"])
        .arg(dir.join("etc/")));
    run(Command::new("semodule")
        .arg("-p")
        .arg(dir)
        .args(["-s", "default", "-n", "-i"])
        .arg(crate::workspace_root().join("tests/vm/container.cil")));
    Some(dir.join("etc/selinux/default/policy/policy.33"))
}
