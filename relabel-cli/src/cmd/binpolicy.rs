//! The host's binary policy for the CLI (`--policy FILE`, `--no-policy`),
//! and the commands that read it: `relabel validate`, `relabel booleans`
//! and `relabel policy`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use selinux_mcs::policydb::{Policy, PolicyDbError};
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Overrides where the CLI looks for the installed policy: a path, or
/// `none` for no policy at all (tests, and hosts whose policy is elsewhere).
pub const POLICY_ENV: &str = "SELINUX_MCS_POLICY";

/// Which binary policy a command consults.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PolicyArgs {
    /// The binary policy to check against (default: $SELINUX_MCS_POLICY, else
    /// /sys/fs/selinux/policy when SELinux is on, else the highest
    /// /etc/selinux/<SELINUXTYPE>/policy/policy.NN; none when there is none).
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy")]
    pub policy: Option<PathBuf>,
    /// Do not read the installed policy (explain and check from built-in
    /// knowledge only).
    #[arg(long)]
    pub no_policy: bool,
}

/// The policy check of commands that write or print a label.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PolicyCheckArgs {
    /// Check the label against this binary policy (default: the installed
    /// one, as for explain; none when the host has none).
    #[arg(long, value_name = "FILE", conflicts_with = "no_policy_check")]
    pub policy: Option<PathBuf>,
    /// Use the label even if the installed policy rejects it.
    #[arg(long)]
    pub no_policy_check: bool,
}

impl PolicyCheckArgs {
    /// The policy to check labels against, if any.
    pub fn load(&self) -> Result<Option<Loaded>, CliError> {
        PolicyArgs {
            policy: self.policy.clone(),
            no_policy: self.no_policy_check,
        }
        .load()
    }
}

/// A policy loaded for a command, and where it came from.
pub struct Loaded {
    pub path: PathBuf,
    pub policy: Policy,
}

impl PolicyArgs {
    /// The policy to use: `--policy FILE` (an error, exit 2, if it does not
    /// load), none with `--no-policy`, else the host's when there is one (a
    /// warning, and none, if it does not load).
    pub fn load(&self) -> Result<Option<Loaded>, CliError> {
        if self.no_policy {
            return Ok(None);
        }
        if let Some(path) = &self.policy {
            return load_path(path).map(Some).map_err(CliError::usage);
        }
        match std::env::var_os(POLICY_ENV) {
            Some(v) if v == "none" => return Ok(None),
            Some(v) if !v.is_empty() => {
                return load_path(Path::new(&v))
                    .map(Some)
                    .map_err(|e| CliError::usage(format!("${POLICY_ENV}: {e}")));
            }
            _ => {}
        }
        let path = match Policy::default_path(&selinux_mcs::policy::Root::default()) {
            Ok(p) => p,
            Err(PolicyDbError::NotFound { .. }) => return Ok(None),
            Err(e) => {
                warn(&e);
                return Ok(None);
            }
        };
        match load_path(&path) {
            Ok(l) => Ok(Some(l)),
            Err(e) => {
                warn(&e);
                Ok(None)
            }
        }
    }

    /// Like [`load`](Self::load), but a command that cannot work without a
    /// policy says where it looked (exit 2).
    pub fn require(&self) -> Result<Loaded, CliError> {
        if self.no_policy {
            return Err(CliError::usage(
                "this command needs a policy; drop --no-policy",
            ));
        }
        match self.load()? {
            Some(l) => Ok(l),
            None => {
                let tried = match Policy::default_path(&selinux_mcs::policy::Root::default()) {
                    Err(e) => e.to_string(),
                    Ok(p) => format!("{} did not load", p.display()),
                };
                Err(CliError::usage(format!(
                    "{tried}; name one with --policy FILE"
                )))
            }
        }
    }
}

fn load_path(path: &Path) -> Result<Loaded, PolicyDbError> {
    Ok(Loaded {
        path: path.to_owned(),
        policy: Policy::from_path(path)?,
    })
}

fn warn(e: &dyn std::fmt::Display) {
    let _ = writeln!(
        std::io::stderr(),
        "relabel: warning: not using the installed policy: {e}"
    );
}

/// Parses a context as the policy reads it when there is one (its
/// sensitivity and category aliases, and its limits: a policy with more
/// sensitivities than s15 widens them), else with the defaults.
pub fn parse_context(
    what: &str,
    text: &str,
    loaded: Option<&Loaded>,
) -> Result<SecurityContext, CliError> {
    let limits = loaded.map_or_else(selinux_mcs::mls::Limits::default, |l| {
        l.policy.parse_limits()
    });
    SecurityContext::parse_with(text, &limits)
        .map_err(|e| CliError::usage(format!("bad {what} {text:?}: {e}")))
}

/// Refuses a label the policy rejects (exit 2), naming the rule it breaks.
pub fn check_label(
    what: &str,
    ctx: &SecurityContext,
    loaded: Option<&Loaded>,
) -> Result<(), CliError> {
    let Some(l) = loaded else { return Ok(()) };
    ctx.validate(&l.policy).map_err(|e| {
        CliError::usage(format!(
            "{what} {ctx} is not valid in the policy {}: {e} (--no-policy-check to write it anyway)",
            l.path.display()
        ))
    })
}

// ---------------------------------------------------------------- validate

/// Arguments of `relabel validate`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Checks each context with the kernel's rules against the binary policy: the user, role and \
type exist (an attribute is not a type), the role may hold the type and the user may take \
the role (object_r takes any), the sensitivities and categories exist and go together, and \
the range lies within the user's. Near-miss names are suggested.

Exit status: 0 every context is valid; 1 some context is not (each reason printed); 2 some \
context does not parse, or no policy could be read.
Writes: nothing.

Examples:
  relabel validate system_u:object_r:container_file_t:s0:c1,c2
  relabel validate --json --policy ./policy.33 system_u:object_r:container_fle_t:s0")]
pub struct ValidateArgs {
    /// The contexts to check.
    #[arg(required = true, value_name = "CTX")]
    pub contexts: Vec<String>,
    /// Print [{"context": ..., "valid": bool, "canonical": ... or null,
    /// "error": {"rule": ..., "message": ...} or null}, ...].
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Runs `relabel validate`.
pub fn validate(args: ValidateArgs) -> CmdResult {
    let loaded = args.policy.require()?;
    let policy = &loaded.policy;
    let mut exit = Exit::Success;
    let mut docs = vec![];
    for text in &args.contexts {
        let (valid, canonical, error) = match policy.parse_context(text) {
            Err(e) => {
                exit = Exit::Usage;
                (
                    false,
                    None,
                    json!({"rule": "syntax", "message": e.to_string()}),
                )
            }
            Ok(ctx) => match policy.canonical_context(&ctx) {
                Ok(c) => (true, Some(c.to_string()), serde_json::Value::Null),
                Err(e) => {
                    if exit == Exit::Success {
                        exit = Exit::Failed;
                    }
                    (
                        false,
                        None,
                        json!({"rule": e.rule(), "message": e.to_string()}),
                    )
                }
            },
        };
        if args.json {
            docs.push(
                json!({"context": text, "valid": valid, "canonical": canonical, "error": error}),
            );
        } else if valid {
            let c = canonical.unwrap_or_default();
            if c == *text {
                outln!("{}: valid", Escaped::str(text));
            } else {
                outln!(
                    "{}: valid (the kernel writes it {})",
                    Escaped::str(text),
                    Escaped::str(&c)
                );
            }
        } else {
            let msg = error["message"].as_str().unwrap_or_default();
            outln!("{}: invalid: {}", Escaped::str(text), Escaped::str(msg));
        }
    }
    if args.json {
        out::json(&docs)?;
    }
    Ok(exit)
}

// ---------------------------------------------------------------- booleans

/// Arguments of `relabel booleans`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Lists the policy's booleans with their default (the state in the policy file) and, on a \
running SELinux system, their current state (/sys/fs/selinux/booleans). PATTERN keeps the \
names that contain it; --container keeps those about containers and virtual machines \
(container_*, virt_*, sandbox*, svirt*).

Exit status: 0 listed (even if nothing matched); 2 no policy could be read.
Writes: nothing.

Examples:
  relabel booleans --container
  relabel booleans nfs --json")]
pub struct BooleansArgs {
    /// Keep the booleans whose name contains PATTERN.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Keep the container and virtualization booleans.
    #[arg(long)]
    pub container: bool,
    /// Print [{"name": ..., "default": bool, "current": bool or null}, ...].
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Whether a boolean is about containers or virtual machines.
fn container_related(name: &str) -> bool {
    [
        "container",
        "virt_",
        "sandbox",
        "svirt",
        "docker",
        "podman",
        "kata",
    ]
    .iter()
    .any(|k| name.contains(k))
}

/// A boolean's current state from selinuxfs ("1 1": current, pending).
fn current_state(name: &str) -> Option<bool> {
    let text = std::fs::read_to_string(Path::new("/sys/fs/selinux/booleans").join(name)).ok()?;
    match text.split_whitespace().next()? {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// Runs `relabel booleans`.
pub fn booleans(args: BooleansArgs) -> CmdResult {
    let loaded = args.policy.require()?;
    let mut rows: Vec<_> = loaded
        .policy
        .booleans()
        .iter()
        .filter(|b| args.pattern.as_deref().is_none_or(|p| b.name.contains(p)))
        .filter(|b| !args.container || container_related(&b.name))
        .map(|b| (b.name.to_string(), b.default, current_state(&b.name)))
        .collect();
    rows.sort();
    if args.json {
        let doc: Vec<_> = rows
            .iter()
            .map(|(n, d, c)| json!({"name": n, "default": d, "current": c}))
            .collect();
        out::json(&doc)?;
        return Ok(Exit::Success);
    }
    let on = |b: bool| if b { "on" } else { "off" };
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (name, default, current) in &rows {
        match current {
            Some(c) => outln!("{name:<width$}  {} (default {})", on(*c), on(*default)),
            None => outln!("{name:<width$}  {} (default)", on(*default)),
        }
    }
    Ok(Exit::Success)
}

// ---------------------------------------------------------------- policy

/// Arguments of `relabel policy`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Summarizes the binary policy as seinfo's statistics do (same counts).

Exit status: 0 printed; 2 no policy could be read.
Writes: nothing.

Example:
  relabel policy --policy /etc/selinux/default/policy/policy.33 --json")]
pub struct PolicyInfoArgs {
    /// Print the statistics as one JSON object (plus "path" and "capabilities").
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// Runs `relabel policy`.
pub fn policy_info(args: PolicyInfoArgs) -> CmdResult {
    let loaded = args.policy.require()?;
    let p = &loaded.policy;
    let s = p.stats();
    if args.json {
        let mut doc = serde_json::to_value(&s).map_err(CliError::usage)?;
        if let Some(map) = doc.as_object_mut() {
            map.insert("path".into(), json!(loaded.path.display().to_string()));
            map.insert("capabilities".into(), json!(p.capabilities()));
        }
        out::json(&doc)?;
        return Ok(Exit::Success);
    }
    outln!(
        "policy:          {}",
        Escaped::str(&loaded.path.display().to_string())
    );
    outln!(
        "version:         {} (MLS {}), unknown classes: {}",
        s.version,
        if s.mls { "enabled" } else { "disabled" },
        s.handle_unknown
    );
    outln!("capabilities:    {}", p.capabilities().join(", "));
    let rows: [(&str, usize, &str, usize); 14] = [
        ("classes", s.classes, "permissions", s.permissions),
        ("sensitivities", s.sensitivities, "categories", s.categories),
        ("types", s.types, "attributes", s.attributes),
        ("users", s.users, "roles", s.roles),
        ("booleans", s.booleans, "conditionals", s.conditionals),
        ("allow", s.allow, "auditallow", s.auditallow),
        (
            "dontaudit",
            s.dontaudit,
            "type_transition",
            s.type_transition,
        ),
        ("type_change", s.type_change, "type_member", s.type_member),
        (
            "range_transition",
            s.range_transition,
            "role_transition",
            s.role_transition,
        ),
        ("role allow", s.role_allow, "permissives", s.permissives),
        (
            "constraints",
            s.constraints,
            "mlsconstraints",
            s.mls_constraints,
        ),
        (
            "validatetrans",
            s.validatetrans,
            "mlsvalidatetrans",
            s.mls_validatetrans,
        ),
        (
            "allowxperm",
            s.allowxperm,
            "dontauditxperm",
            s.dontauditxperm,
        ),
        ("portcon", s.portcon, "genfscon", s.genfscon),
    ];
    for (a, x, b, y) in rows {
        outln!(
            "{:<17}{x:>7}    {:<17}{y:>7}",
            format!("{a}:"),
            format!("{b}:")
        );
    }
    outln!(
        "{:<17}{:>7}    {:<17}{:>7}",
        "initial SIDs:",
        s.initial_sids,
        "fs_use:",
        s.fs_use
    );
    Ok(Exit::Success)
}
