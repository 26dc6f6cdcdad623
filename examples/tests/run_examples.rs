//! Runs every example and checks what it prints (cargo builds the examples
//! of a package before running its tests).

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> Command {
    // target/<profile>/deps/run_examples-HASH -> target/<profile>/examples/NAME
    let exe = std::env::current_exe().expect("test executable");
    let dir: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|p| p.join("examples"))
        .expect("target layout");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "example {name} not built at {}",
        path.display()
    );
    Command::new(path)
}

fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn explain() {
    let (code, out, err) = output(example("explain").args([
        "system_u:system_r:svirt_lxc_net_t:s0:c641,c186",
        "u:r:t:s0:c5.c1",
    ]));
    assert_eq!(code, 2);
    assert!(
        out.contains("canonical: system_u:system_r:svirt_lxc_net_t:s0:c186,c641"),
        "{out}"
    );
    assert!(out.contains("private MCS pair c186,c641"), "{out}");
    assert!(err.contains("category range c5.c1 at byte 9"), "{err}");
}

#[test]
fn container_labels() {
    let (code, out, err) = output(&mut example("container_labels"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("process: system_u:system_r:container_t:s0:c100,c200"),
        "{out}"
    );
    assert!(out.contains("registry: container:db s0:c100,c200"), "{out}");
    // The web container's pair is the same on the second request.
    let pair = out
        .lines()
        .find_map(|l| l.strip_prefix("  file:    system_u:object_r:container_file_t:"))
        .expect("a file label");
    assert!(
        out.contains(&format!("container:web again: {pair}")),
        "{out}"
    );
}

#[test]
fn relabel_volume() {
    let (code, out, err) = output(&mut example("relabel_volume"));
    let required = std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1");
    if out.contains("failed: ") && !required {
        eprintln!("skipping: no security.selinux xattrs here: {out}");
        return;
    }
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("first run:  6 visited, 6 changed, 0 unchanged, 0 failed"),
        "{out}"
    );
    assert!(
        out.contains("second run: 6 visited, 0 changed, 6 unchanged"),
        "{out}"
    );
    assert!(
        out.contains("system_u:object_r:container_file_t:s0:c186,c641 passwd"),
        "{out}"
    );
}

#[test]
fn check_access() {
    let (code, out, _) = output(example("check_access").args([
        "system_u:system_r:container_t:s0:c1,c2",
        "system_u:object_r:container_file_t:s0:c1,c3",
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("Read: denied"), "{out}");
    assert!(out.contains("the process lacks c3"), "{out}");
    let (_, out, _) = output(example("check_access").args([
        "system_u:system_r:container_t:s0:c1,c2",
        "system_u:object_r:container_file_t:s0-s0:c1,c2",
    ]));
    assert!(out.contains("Read: allowed"), "{out}");
    assert!(out.contains("Create: denied"), "{out}");
}
