//! Helpers shared by the CLI tests.

use std::path::Path;

use assert_cmd::Command;

/// The `relabel` binary under test.
pub fn relabel() -> Command {
    let mut cmd = Command::cargo_bin("relabel").expect("the relabel binary is built");
    // The installed policy (if any) stays out of these tests' output.
    cmd.env("SELINUX_MCS_POLICY", "none");
    cmd
}

/// Whether security.selinux xattrs work in `dir`; panics when they do not
/// and `SELINUX_MCS_REQUIRE_XATTR=1` (CI), so labeling tests never pass by
/// skipping there.
pub fn xattrs_work(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    std::fs::write(&probe, "").expect("test setup");
    let ctx = "system_u:object_r:probe_t:s0".parse().expect("test setup");
    let r = selinux_mcs::label::set(&probe, &ctx);
    std::fs::remove_file(&probe).expect("test setup");
    match r {
        Ok(()) => true,
        Err(e) if std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1") => {
            panic!("security.selinux xattrs are required: {e}")
        }
        Err(e) => {
            eprintln!("skipping: no security.selinux xattrs here ({e})");
            false
        }
    }
}
