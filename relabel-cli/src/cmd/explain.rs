//! `relabel explain`: every field of a context and its canonical form.

use serde_json::{json, Value};

use selinux_mcs::mls::Level;
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};

/// Arguments of `relabel explain`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  relabel explain system_u:system_r:svirt_lxc_net_t:s0:c641,c186"
)]
pub struct Args {
    /// The context to explain, e.g. system_u:system_r:container_t:s0:c1,c2.
    pub context: String,
    /// Print one JSON object: user, role, type, canonical, range, low, high
    /// (levels as {"sensitivity": "s0", "categories": ["c1", ...]}, null without an MLS field).
    #[arg(long)]
    pub json: bool,
}

/// A level as JSON: `{"sensitivity": "s0", "categories": ["c1", "c2"]}`.
pub fn level_json(level: &Level) -> Value {
    json!({
        "sensitivity": level.sensitivity().to_string(),
        "categories": level.categories().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    })
}

/// Runs `relabel explain`.
pub fn run(args: Args) -> CmdResult {
    let ctx: SecurityContext = args
        .context
        .parse()
        .map_err(|e| CliError::usage(format!("bad context {:?}: {e}", args.context)))?;
    if args.json {
        let doc = json!({
            "context": args.context,
            "canonical": ctx.to_string(),
            "user": ctx.user(),
            "role": ctx.role(),
            "type": ctx.type_(),
            "range": ctx.range().map(|r| r.to_string()),
            "low": ctx.level().map(level_json),
            "high": ctx.high_level().map(level_json),
        });
        println!("{doc}");
        return Ok(Exit::Success);
    }
    println!("context:    {}", args.context);
    println!("canonical:  {ctx}");
    println!("user:       {}", ctx.user());
    println!("role:       {}", ctx.role());
    println!("type:       {}", ctx.type_());
    match ctx.range() {
        None => println!("range:      none (the context has no MLS field)"),
        Some(range) => {
            if range.is_single() {
                println!("range:      {range} (a single level)");
            } else {
                println!(
                    "range:      {range} (from {} to {})",
                    range.low(),
                    range.high()
                );
            }
            print_level("low", range.low());
            if !range.is_single() {
                print_level("high", range.high());
            }
        }
    }
    Ok(Exit::Success)
}

fn print_level(which: &str, level: &Level) {
    println!("{which} level:  {level}");
    println!("  sensitivity: {}", level.sensitivity());
    let cats = level.categories();
    match cats.len() {
        0 => println!("  categories:  none"),
        1 => println!("  categories:  {cats} (1 category)"),
        n => println!("  categories:  {cats} ({n} categories)"),
    }
}
