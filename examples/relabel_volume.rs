//! Relabels a volume privately (podman's `:Z`) and prints the report: builds
//! a small tree in a temporary directory, labels it with a container's pair,
//! then runs again to show that nothing is rewritten.
//!
//! `cargo run -p selinux-mcs-examples --example relabel_volume`
//!
//! Needs a filesystem with `security.*` xattrs and the right to set them
//! (root, even with SELinux disabled).

use std::fs;
use std::os::unix::fs::symlink;

use selinux_mcs::label::{self, Relabel, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let volume = dir.path().join("volume");
    fs::create_dir_all(volume.join("data/logs"))?;
    fs::write(volume.join("data/app.conf"), "listen = 8080\n")?;
    fs::write(volume.join("data/logs/today.log"), "started\n")?;
    // A symlink out of the volume: labeled itself, never followed.
    symlink("/etc/passwd", volume.join("passwd"))?;

    let level = "s0:c186,c641".parse()?;
    let mut relabel = Relabel::new(Target::Private(level));
    relabel.file_context("system_u:object_r:container_file_t:s0".parse()?);

    let report = relabel.run(&volume)?;
    println!(
        "first run:  {} visited, {} changed, {} unchanged, {} failed",
        report.visited, report.changed, report.unchanged, report.failed
    );
    for failure in &report.failures {
        println!("  failed: {}", failure.error);
    }

    let again = relabel.run(&volume)?;
    println!(
        "second run: {} visited, {} changed, {} unchanged",
        again.visited, again.changed, again.unchanged
    );

    for path in ["data/app.conf", "passwd"] {
        match label::get(volume.join(path)) {
            Ok(ctx) => println!("{ctx} {path}"),
            Err(e) => println!("? {path} ({e})"),
        }
    }
    Ok(())
}
