//! `relabel explain`: every field of a context and its canonical form.

use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{json, Value};

use selinux_mcs::explain::Explanation;
use selinux_mcs::policy::{Root, Translations};
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Arguments of `relabel explain`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Writes: nothing (prints the explanation).\n\n\
    Example:\n  relabel explain system_u:system_r:svirt_lxc_net_t:s0:c641,c186\n  \
    relabel explain --json unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023")]
pub struct Args {
    /// The context to explain, e.g. system_u:system_r:container_t:s0:c1,c2.
    pub context: String,
    /// Print one JSON object: context, canonical, user, role, type, range, low, high
    /// (levels as {"sensitivity": "s0", "categories": ["c1", ...]}, null without an MLS field),
    /// meaning (a sentence) and translation (the setrans.conf name, or null); with a policy,
    /// also "policy": {"path", "valid", "invalid": {"rule", "message"} or null,
    /// "primary_type", "type_aliases", "type_attributes", "mcs_constrained"}.
    #[arg(long)]
    pub json: bool,
    /// The setrans.conf to translate the range with (default: the system's, when the
    /// policy has one).
    #[arg(long, value_name = "FILE")]
    pub setrans: Option<PathBuf>,
    /// Also ask the running kernel: whether the loaded policy accepts the context
    /// (security_check_context) and its canonical form (security_canonicalize_context).
    /// Needs SELinux enabled and a build with the `libselinux` feature; exit status 2
    /// otherwise, or when the policy rejects the context. Adds to --json the key "kernel":
    /// {"valid": true, "canonical": ...}.
    #[arg(long)]
    pub kernel: bool,
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyArgs,
}

/// What the kernel says about a context: its canonical text.
#[cfg(feature = "libselinux")]
fn ask_kernel(context: &str) -> Result<String, CliError> {
    use selinux_mcs::system;
    system::validate(context)
        .and_then(|()| system::canonicalize(context))
        .map_err(|e| CliError::usage(format!("--kernel: {e}")))
}

#[cfg(not(feature = "libselinux"))]
fn ask_kernel(_context: &str) -> Result<String, CliError> {
    Err(CliError::usage(
        "--kernel: this relabel was built without the `libselinux` feature \
         (rebuild with `cargo build -p relabel-cli --features libselinux`)",
    ))
}

/// The translations: `--setrans FILE` (an error if it does not load), else
/// the system's setrans.conf when present (a warning if it does not load).
fn translations(path: Option<&PathBuf>) -> Result<Option<Translations>, CliError> {
    if let Some(path) = path {
        return Translations::from_path(path)
            .map(Some)
            .map_err(CliError::usage);
    }
    let Ok(path) = Root::default().setrans_path() else {
        return Ok(None);
    };
    if !path.exists() {
        return Ok(None);
    }
    match Translations::from_path(&path) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "relabel: warning: not translating: {e}");
            Ok(None)
        }
    }
}

/// Runs `relabel explain`.
pub fn run(args: Args) -> CmdResult {
    let loaded = args.policy.load()?;
    let ctx: SecurityContext =
        super::binpolicy::parse_context("context", &args.context, loaded.as_ref())?;
    // The kernel is asked first, so a refusal prints nothing but the error.
    let kernel = if args.kernel {
        Some(ask_kernel(&args.context)?)
    } else {
        None
    };
    let mut explanation = match translations(args.setrans.as_ref())? {
        Some(t) => Explanation::with_translations(&ctx, &t),
        None => Explanation::new(&ctx),
    };
    if let Some(l) = &loaded {
        explanation = explanation.with_policy(&l.policy);
    }
    if args.json {
        let mut doc = explanation.to_json(&args.context);
        // The key only with --kernel, so the shape without it stays as it was.
        if let (Some(canonical), Value::Object(map)) = (&kernel, &mut doc) {
            map.insert(
                "kernel".into(),
                json!({"valid": true, "canonical": canonical}),
            );
        }
        if let (Some(l), Some(Value::Object(p))) = (&loaded, doc.get_mut("policy")) {
            p.insert("path".into(), json!(l.path.display().to_string()));
        }
        out::json(&doc)?;
        return Ok(Exit::Success);
    }
    // The context parsed, so it holds no control characters; escaped all
    // the same, as every label is. The explanation escapes its translation.
    outln!("context:      {}", Escaped::str(&args.context));
    outln!("{explanation}");
    if let Some(l) = &loaded {
        outln!(
            "checked:      against {} (--no-policy to skip)",
            Escaped::str(&l.path.display().to_string())
        );
    }
    if let Some(canonical) = kernel {
        outln!(
            "kernel:       accepted by the loaded policy, canonical {}",
            Escaped::str(&canonical)
        );
    }
    Ok(Exit::Success)
}
