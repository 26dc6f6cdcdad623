//! `relabel check`: may a process read, write or create a file? Exactly,
//! from the binary policy, when there is one; under MCS alone otherwise.

use serde_json::json;

use selinux_mcs::mcs::{ConstrainedTypes, Decision, Permission};
use selinux_mcs::policydb::Denial;
use selinux_mcs::SecurityContext;

use super::binpolicy::Loaded;
use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Arguments of `relabel check`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
With the installed (or --policy) binary policy, the decision is the kernel's: type
enforcement through attributes, conditional rules under the booleans (their defaults, or
--boolean NAME=on|off), constraints and MLS/MCS constraints, the role allow check and type
bounds; each permission says which rule denies it, the categories an MCS denial lacks, and
booleans that would allow it. Without a policy (or with --no-policy) only MCS is evaluated,
and the output says so: processes whose type is not MCS-constrained (spc_t, unconfined_t,
...) pass, from a built-in list of constrained types (plus --constrained).

Exit status 0 when the evaluation ran, whatever it decided; 2 when a context does not parse,
is not valid in the policy, or names an unknown class, permission or boolean.
Writes: nothing (prints the decisions).

Examples:
  relabel check system_u:system_r:container_t:s0:c1,c2 system_u:object_r:container_file_t:s0:c1,c3
  relabel check --class dir --perm search,add_name PROC FILE
  relabel check --boolean virt_use_nfs=on --perm read PROC FILE")]
pub struct Args {
    /// The process context, e.g. system_u:system_r:container_t:s0:c1,c2.
    pub process: String,
    /// The file context, e.g. system_u:object_r:container_file_t:s0:c1,c3.
    pub file: String,
    /// MCS only: also treat TYPE as MCS-constrained (repeatable; added to the
    /// built-in list: container_t, svirt_lxc_net_t, container_init_t,
    /// container_kvm_t, svirt_t, ...).
    #[arg(long = "constrained", value_name = "TYPE")]
    pub constrained: Vec<String>,
    /// The object class (with a policy; default file).
    #[arg(long, value_name = "CLASS", default_value = "file")]
    pub class: String,
    /// The permissions to decide, comma-separated (default read,write,create).
    #[arg(
        long,
        value_name = "PERMS",
        value_delimiter = ',',
        default_value = "read,write,create"
    )]
    pub perm: Vec<String>,
    /// Decide with this boolean set (repeatable; with a policy).
    #[arg(long = "boolean", value_name = "NAME=on|off")]
    pub booleans: Vec<String>,
    /// Print {"<perm>": {"allowed": bool, "reason": str, "rule": "te"|"constraint"|"mls"|
    /// "rbac"|"bounds"|null, "booleans": [...]}, ..., "missing_categories": ["c3", ...],
    /// "mode": "policy"|"mcs-only", "constrained_by": the policy's path or "built-in list"}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyArgs,
}

/// Runs `relabel check`.
pub fn run(args: Args) -> CmdResult {
    let loaded = args.policy.load()?;
    let process =
        super::binpolicy::parse_context("process context", &args.process, loaded.as_ref())?;
    let file = super::binpolicy::parse_context("file context", &args.file, loaded.as_ref())?;
    if let Some(l) = &loaded {
        if args.constrained.is_empty() {
            return exact(&args, &process, &file, l);
        }
        return Err(CliError::usage(
            "--constrained applies to the MCS-only answer; add --no-policy (with a policy, the constrained types are the policy's)",
        ));
    }
    if !args.booleans.is_empty() || args.class != "file" {
        return Err(CliError::usage(
            "--class and --boolean need a policy (--policy FILE); without one only MCS on files is evaluated",
        ));
    }
    let mut types = ConstrainedTypes::builtin();
    for t in args.constrained {
        types.insert(t);
    }
    let perms: Vec<Permission> = args
        .perm
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|e| CliError::usage(format!("--perm: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let decisions: Vec<(Permission, Decision)> = perms
        .into_iter()
        .map(|p| (p, types.decide(&process, &file, p)))
        .collect();
    // Read and write need the same categories; create may also fail on the
    // range, which is no missing category.
    let missing = decisions
        .first()
        .map(|d| d.1.missing_categories())
        .unwrap_or_default();
    if args.json {
        let mut doc = serde_json::Map::new();
        for (p, d) in &decisions {
            doc.insert(
                p.name().to_owned(),
                json!({"allowed": d.allowed(), "reason": d.reason().to_string()}),
            );
        }
        doc.insert("constrained_by".to_owned(), json!("built-in list"));
        doc.insert("mode".to_owned(), json!("mcs-only"));
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
    outln!("(MCS only: no binary policy was read, so type enforcement is not evaluated; --policy FILE for the exact answer)");
    Ok(Exit::Success)
}

/// The kernel's answer, from the policy.
fn exact(args: &Args, process: &SecurityContext, file: &SecurityContext, l: &Loaded) -> CmdResult {
    let policy = &l.policy;
    let mut overrides = vec![];
    for b in &args.booleans {
        let (name, state) = b
            .split_once('=')
            .and_then(|(n, v)| match v {
                "on" | "1" | "true" => Some((n, true)),
                "off" | "0" | "false" => Some((n, false)),
                _ => None,
            })
            .ok_or_else(|| {
                CliError::usage(format!("--boolean {b:?}: expected NAME=on or NAME=off"))
            })?;
        overrides.push((name, state));
    }
    let booleans = policy
        .booleans_with(overrides)
        .map_err(|e| CliError::usage(format!("--boolean: {e}")))?;
    let access = policy.access_with(booleans);
    let perms: Vec<&str> = args.perm.iter().map(String::as_str).collect();
    let verdicts = access
        .explain(process, file, &args.class, &perms)
        .map_err(CliError::usage)?;
    let mut missing: Vec<String> = vec![];
    for v in &verdicts {
        if let Some(Denial::Constraint {
            missing_categories, ..
        }) = &v.denial
        {
            for c in missing_categories {
                if !missing.contains(c) {
                    missing.push(c.clone());
                }
            }
        }
    }
    let rule = |d: &Denial| match d {
        Denial::TypeEnforcement { .. } => "te",
        Denial::Constraint { mls: true, .. } => "mls",
        Denial::Constraint { .. } => "constraint",
        Denial::RoleAllow { .. } => "rbac",
        Denial::Bounds { .. } => "bounds",
        _ => "other",
    };
    if args.json {
        let mut doc = serde_json::Map::new();
        for v in &verdicts {
            let booleans: Vec<String> = match &v.denial {
                Some(Denial::TypeEnforcement { booleans }) => booleans
                    .iter()
                    .map(|(n, s)| format!("{n}={}", if *s { "on" } else { "off" }))
                    .collect(),
                _ => vec![],
            };
            doc.insert(
                v.permission.clone(),
                json!({
                    "allowed": v.allowed(),
                    "reason": v.denial.as_ref().map_or("allowed by the policy".to_owned(), |d| d.to_string()),
                    "rule": v.denial.as_ref().map(rule),
                    "booleans": booleans,
                    "audited": v.audited,
                    "permissive": v.permissive,
                }),
            );
        }
        doc.insert("missing_categories".to_owned(), json!(missing));
        doc.insert("mode".to_owned(), json!("policy"));
        doc.insert(
            "constrained_by".to_owned(),
            json!(l.path.display().to_string()),
        );
        out::json(&doc)?;
        return Ok(Exit::Success);
    }
    outln!("process: {process}");
    outln!("file:    {file}");
    outln!(
        "policy:  {} (class {})",
        Escaped::str(&l.path.display().to_string()),
        args.class
    );
    let width = verdicts
        .iter()
        .map(|v| v.permission.len())
        .max()
        .unwrap_or(0)
        + 1;
    for v in &verdicts {
        let label = format!("{}:", v.permission);
        match &v.denial {
            None => outln!("{label:<width$} allowed"),
            Some(d) => {
                let mut note = String::new();
                if v.permissive {
                    note.push_str(" (the domain is permissive: logged, not enforced)");
                } else if !v.audited {
                    note.push_str(" (dontaudit: not logged)");
                }
                outln!("{label:<width$} denied: {d}{note}");
            }
        }
    }
    if !missing.is_empty() {
        outln!("missing categories: {}", missing.join(","));
    }
    Ok(Exit::Success)
}
