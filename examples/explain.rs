//! Parses and explains the contexts given on the command line: every field,
//! what the type is for, what the level means, and the canonical form.
//!
//! `cargo run -p selinux-mcs-examples --example explain -- system_u:system_r:svirt_lxc_net_t:s0:c641,c186`

use selinux_mcs::explain::Explanation;
use selinux_mcs::SecurityContext;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: explain CONTEXT...");
        std::process::exit(2);
    }
    let mut failed = false;
    for arg in args {
        match arg.parse::<SecurityContext>() {
            Ok(ctx) => {
                println!("{arg}");
                println!("  canonical: {ctx}");
                println!("  user:      {}", ctx.user());
                println!("  role:      {}", ctx.role());
                println!("  type:      {}", ctx.type_());
                if let Some(range) = ctx.range() {
                    println!("  range:     {range}");
                }
                println!("  meaning:   {}", Explanation::new(&ctx).meaning());
            }
            Err(e) => {
                // The error names the byte offset and the offending text.
                eprintln!("{arg}: {e}");
                failed = true;
            }
        }
    }
    std::process::exit(if failed { 2 } else { 0 });
}
