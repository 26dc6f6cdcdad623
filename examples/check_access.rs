//! Says whether a process may read, write and create files of a given
//! context under MCS, and why: the question behind many AVC denials in
//! containers.
//!
//! `cargo run -p selinux-mcs-examples --example check_access -- system_u:system_r:container_t:s0:c1,c2 system_u:object_r:container_file_t:s0:c1,c3`

use selinux_mcs::mcs::{decide, Permission};
use selinux_mcs::SecurityContext;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (process, file) = match args.as_slice() {
        [p, f] => (p.parse::<SecurityContext>()?, f.parse::<SecurityContext>()?),
        _ => {
            eprintln!("usage: check_access PROCESS_CONTEXT FILE_CONTEXT");
            std::process::exit(2);
        }
    };
    println!("process {process}");
    println!("file    {file}");
    for permission in [Permission::Read, Permission::Write, Permission::Create] {
        let d = decide(&process, &file, permission);
        let verdict = if d.allowed() { "allowed" } else { "denied" };
        println!("{permission:?}: {verdict}: {}", d.reason());
    }
    let missing = decide(&process, &file, Permission::Read).missing_categories();
    if !missing.is_empty() {
        println!("the process lacks {missing}");
    }
    Ok(())
}
