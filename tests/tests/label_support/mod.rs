//! Helpers for the labeling tests: xattr support checks, temporary mounts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use selinux_mcs::label::protected::Protection;
use selinux_mcs::label::{self, ErrorKind};
use selinux_mcs::SecurityContext;

/// Whether `SELINUX_MCS_REQUIRE_XATTR=1` (CI): skipping is then a failure.
pub fn required() -> bool {
    std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1")
}

/// Skips (returns false) when `dir`'s filesystem has no security.selinux
/// xattr, unless required; panics when required.
pub fn xattrs_work(dir: &Path) -> bool {
    let probe = dir.join(".xattr-probe");
    std::fs::write(&probe, b"").expect("create probe file");
    let result = label::set(&probe, &ctx("system_u:object_r:probe_t:s0"));
    std::fs::remove_file(&probe).expect("remove probe file");
    match result {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::NotSupported && !required() => {
            eprintln!(
                "skipping: {} has no security.selinux xattrs ({e})",
                dir.display()
            );
            false
        }
        Err(e) => panic!("security.selinux xattrs are required here: {e}"),
    }
}

/// A context from text.
pub fn ctx(s: &str) -> SecurityContext {
    s.parse().expect("test context")
}

/// The label of `path` (not followed), as text; None without one.
pub fn label_of(path: &Path) -> Option<String> {
    match label::get(path) {
        Ok(c) => Some(c.to_string()),
        Err(e) if e.kind() == ErrorKind::NoLabel => None,
        Err(e) => panic!("{e}"),
    }
}

/// The protection policy for tests: the system lists, no homes (temporary
/// directories are never a home).
pub fn protection() -> Protection {
    Protection::with_homes(Vec::<PathBuf>::new())
}

/// A temporary mount, unmounted (lazily) on drop.
pub struct Mount {
    pub path: PathBuf,
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn run(args: &[&str], path: &Path) -> bool {
    Command::new("mount")
        .args(args)
        .arg(path)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Mounts a filesystem of `fstype` on `path` (an empty directory inside a
/// temporary directory); None (with a message) when mounting is not
/// permitted, unless required.
pub fn mount_fs(fstype: &str, path: &Path) -> Option<Mount> {
    if run(&["-t", fstype, "none"], path) {
        return Some(Mount {
            path: path.to_path_buf(),
        });
    }
    skip_mount(&format!("mount -t {fstype}"))
}

/// A read-only bind mount of `src` on `path`.
pub fn bind_ro(src: &Path, path: &Path) -> Option<Mount> {
    let src = src.to_str().expect("utf-8 temp path");
    if !run(&["--bind", src], path) {
        return skip_mount("mount --bind");
    }
    let m = Mount {
        path: path.to_path_buf(),
    };
    if !run(&["-o", "remount,bind,ro"], path) {
        return skip_mount("mount -o remount,bind,ro");
    }
    Some(m)
}

fn skip_mount(what: &str) -> Option<Mount> {
    if required() {
        panic!("{what} failed and SELINUX_MCS_REQUIRE_XATTR=1: mounting is required");
    }
    eprintln!("skipping: {what} is not permitted here");
    None
}
