//! `relabel check`: may a process read, write or create a file under MCS?

use serde_json::json;

use selinux_mcs::mcs::{ConstrainedTypes, Decision, Permission};
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out;

/// Arguments of `relabel check`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Only MCS is evaluated (type enforcement may still deny what MCS allows). Processes whose
type is not MCS-constrained (spc_t, unconfined_t, ...) pass. The constrained types are those
with the mcs_constrained_type attribute in the installed (or --policy) binary policy; with no
policy, or --no-policy, a built-in list.

Exit status 0 when the evaluation ran, whatever it decided; 2 when a context does not parse.
Writes: nothing (prints the decisions).

Example:
  relabel check system_u:system_r:container_t:s0:c1,c2 system_u:object_r:container_file_t:s0:c1,c3")]
pub struct Args {
    /// The process context, e.g. system_u:system_r:container_t:s0:c1,c2.
    pub process: String,
    /// The file context, e.g. system_u:object_r:container_file_t:s0:c1,c3.
    pub file: String,
    /// Also treat TYPE as MCS-constrained (repeatable; added to the policy's
    /// mcs_constrained_type types, or to the built-in list: container_t,
    /// svirt_lxc_net_t, container_init_t, container_kvm_t, svirt_t, ...).
    #[arg(long = "constrained", value_name = "TYPE")]
    pub constrained: Vec<String>,
    /// Print {"read": {"allowed": bool, "reason": str}, "write": {...}, "create": {...},
    /// "missing_categories": ["c3", ...], "constrained_by": the policy's path or "built-in list"}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyArgs,
}

/// Runs `relabel check`.
pub fn run(args: Args) -> CmdResult {
    let parse = |what: &str, text: &str| {
        text.parse::<SecurityContext>()
            .map_err(|e| CliError::usage(format!("bad {what} context {text:?}: {e}")))
    };
    let process = parse("process", &args.process)?;
    let file = parse("file", &args.file)?;
    let loaded = args.policy.load()?;
    let mut types = match &loaded {
        Some(l) => ConstrainedTypes::from_policy(&l.policy),
        None => ConstrainedTypes::builtin(),
    };
    for t in args.constrained {
        types.insert(t);
    }
    let decisions: Vec<(Permission, Decision)> =
        [Permission::Read, Permission::Write, Permission::Create]
            .into_iter()
            .map(|p| (p, types.decide(&process, &file, p)))
            .collect();
    // Read and write need the same categories; create may also fail on the
    // range, which is no missing category.
    let missing = decisions[0].1.missing_categories();
    if args.json {
        let mut doc = serde_json::Map::new();
        for (p, d) in &decisions {
            doc.insert(
                p.name().to_owned(),
                json!({"allowed": d.allowed(), "reason": d.reason().to_string()}),
            );
        }
        doc.insert(
            "constrained_by".to_owned(),
            json!(loaded
                .as_ref()
                .map_or("built-in list".to_owned(), |l| l.path.display().to_string())),
        );
        doc.insert(
            "missing_categories".to_owned(),
            json!(missing.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
        );
        out::json(&doc)?;
        return Ok(Exit::Success);
    }
    // Parsed contexts hold no control characters and print canonically.
    outln!("process: {process}");
    outln!("file:    {file}");
    for (p, d) in &decisions {
        let verdict = if d.allowed() { "allowed" } else { "denied" };
        outln!("{:<7} {verdict}: {}", format!("{p}:"), d.reason());
    }
    if !missing.is_empty() {
        outln!("missing categories: {missing}");
    }
    Ok(Exit::Success)
}
