//! Makes the process and file labels of a new container, the way a runtime
//! would (go-selinux `InitLabels`), with its MCS pair from a registry: here
//! a registry in a temporary directory, so the example touches nothing else.
//!
//! `cargo run -p selinux-mcs-examples --example container_labels`

use selinux_mcs::label::{init_labels, mount_option, LabelOption};
use selinux_mcs::mcs::Registry;
use selinux_mcs::policy::ContainerContexts;
use std::str::FromStr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let registry = Registry::open(dir.path().join("mcs.db"))?;

    // On a host: Root::default().container_contexts()? reads
    // /usr/share/containers/selinux/contexts or the policy's lxc_contexts.
    let contexts = ContainerContexts::from_str(
        "process = \"system_u:system_r:container_t:s0\"\n\
         file = \"system_u:object_r:container_file_t:s0\"\n\
         ro_file = \"system_u:object_r:container_ro_file_t:s0\"\n",
    )?;

    // Two containers: one gets a fresh pair, one asks for its own level.
    for (owner, options) in [
        ("container:web", vec![]),
        (
            "container:db",
            vec!["level:s0:c100,c200".parse::<LabelOption>()?],
        ),
    ] {
        let labels = init_labels(&contexts, &options, |asked| match asked {
            Some(level) => registry.reserve(level, owner).map(|e| e.level),
            None => registry.allocate_for(owner).map(|e| e.level),
        })?;
        let process = labels.process.map(|p| p.to_string()).unwrap_or_default();
        println!("{owner}");
        println!("  process: {process}");
        println!("  file:    {}", labels.file);
        println!("  mount:   {}", mount_option(&labels.file));
    }

    // The same owner keeps its pair across restarts.
    let again = registry.allocate_for("container:web")?;
    println!("container:web again: {}", again.level);
    for entry in registry.list()? {
        println!("registry: {} {}", entry.owner, entry.level);
    }
    Ok(())
}
