//! Parses the contexts given on the command line and prints each field and
//! the canonical form.
//!
//! `cargo run -p selinux-mcs-examples --example explain -- system_u:system_r:svirt_lxc_net_t:s0:c641,c186`

use selinux_mcs::SecurityContext;

fn main() {
    let mut failed = false;
    for arg in std::env::args().skip(1) {
        match arg.parse::<SecurityContext>() {
            Ok(ctx) => {
                println!("{arg}");
                println!("  user:      {}", ctx.user());
                println!("  role:      {}", ctx.role());
                println!("  type:      {}", ctx.type_());
                match ctx.range() {
                    Some(range) => println!("  range:     {range}"),
                    None => println!("  range:     (none)"),
                }
                println!("  canonical: {ctx}");
            }
            Err(e) => {
                eprintln!("{arg}: {e}");
                failed = true;
            }
        }
    }
    std::process::exit(i32::from(failed) * 2);
}
