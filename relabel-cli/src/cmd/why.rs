//! `relabel why`: AVC denials explained from the policy, as audit2why
//! classifies them, with the fix.

use std::io::{BufReader, IsTerminal as _};
use std::path::{Path, PathBuf};

use serde_json::json;

use selinux_mcs::avc::{AvcGroup, AvcLog, Verdict, Why};
use selinux_mcs::policydb::AccessError;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Arguments of `relabel why`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Reads AVC records from the arguments, --file, or standard input, in the kernel's, dmesg's, \
the journal's, syslog's or auditd's format (ausearch -m avc, with or without -i; USER_AVC \
records of systemd or dbus too). Other lines are skipped. Identical records (same source, \
target, class and permissions) are explained once, with their count.

For each, the decision is recomputed from the binary policy, with the booleans at their \
defaults (or as --boolean sets them), and classified as audit2why classifies it:
  type-enforcement  no allow rule grants it (the fix: the rule audit2allow would write)
  boolean           a boolean would allow it (the fix: setsebool -P NAME on)
  dontaudit         no allow rule, and the policy would not even log it
  mcs               an MLS constraint the source fails for lack of categories, with the
                    missing ones (for a container on a file: relabel apply --private
                    --level <the container's pair> PATH)
  mls, constraint   another mlsconstrain or constrain fails (an allow rule cannot help)
  rbac              a process transition changes role with no role allow
  bounds            the source's typebounds parent lacks it
  allowed-now       the policy allows it: policy or booleans changed since, or another host

Exit status: 0 every record was explained; 1 some lines hold malformed records (each \
reported with its line number and skipped), some record names a context, class or \
permission the policy lacks, or the input holds no AVC record; 2 bad usage, an unknown \
boolean, an unreadable --file, or no policy could be read.
Writes: nothing.

Examples:
  ausearch -m avc -ts recent | relabel why
  relabel why --file /var/log/audit/audit.log --json
  journalctl -k --grep avc: | relabel why --boolean container_use_cephfs=on
  relabel why \"$(dmesg | grep 'avc:  denied' | tail -n 1)\"")]
pub struct Args {
    /// AVC records, one per argument (or several lines in one); none: read
    /// --file, else standard input.
    #[arg(value_name = "RECORD")]
    pub records: Vec<String>,
    /// Read the records from FILE ("-" for standard input).
    #[arg(long, short = 'f', value_name = "FILE", conflicts_with = "records")]
    pub file: Option<PathBuf>,
    /// Decide with a boolean set (repeatable): NAME=on or NAME=off (also
    /// 1/0, true/false).
    #[arg(long = "boolean", short = 'b', value_name = "NAME=on|off")]
    pub booleans: Vec<String>,
    /// Print one JSON object: {"policy": path, "booleans": {name: bool} (the
    /// ones set), "records": n, "groups": [one object per group: "line",
    /// "lines", "count", "kind", "permissions", "scontext", "tcontext",
    /// "tclass", "permissive", "event", "comm", "name", "path", "verdict",
    /// "explanation", "fix", "allow_rule", "booleans", "constraint",
    /// "role_allow", "bounds", "audited", "permissive_type",
    /// "permission_verdicts", "error"], "errors": [{"line", "offset",
    /// "message"}]}. See the library's AvcGroup::to_json for each field.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyArgs,
}

fn parse_boolean(text: &str) -> Result<(&str, bool), CliError> {
    let bad = || {
        CliError::usage(format!(
            "bad --boolean {text:?}: expected NAME=on or NAME=off"
        ))
    };
    let (name, value) = text.split_once('=').ok_or_else(bad)?;
    let value = match value {
        "on" | "1" | "true" => true,
        "off" | "0" | "false" => false,
        _ => return Err(bad()),
    };
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name, value))
}

fn read_input(args: &Args) -> Result<AvcLog, CliError> {
    if !args.records.is_empty() {
        return Ok(AvcLog::parse(args.records.join("\n").as_bytes()));
    }
    match args.file.as_deref() {
        Some(path) if path != Path::new("-") => {
            let file = std::fs::File::open(path).map_err(|e| {
                CliError::usage(format!("cannot read {}: {e}", Escaped::path(path)))
            })?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(CliError::usage(format!(
                    "cannot read {}: it is a directory",
                    Escaped::path(path)
                )));
            }
            AvcLog::read(BufReader::new(file))
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", Escaped::path(path))))
        }
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                out::warn(format_args!(
                    "reading AVC records from the terminal (end with Ctrl-D; see relabel why --help)"
                ));
            }
            AvcLog::read(stdin.lock())
                .map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))
        }
    }
}

/// Runs `relabel why`.
pub fn run(args: Args) -> CmdResult {
    let loaded = args.policy.require()?;
    let policy = &loaded.policy;
    let overrides = args
        .booleans
        .iter()
        .map(|b| parse_boolean(b))
        .collect::<Result<Vec<_>, _>>()?;
    let booleans = policy
        .booleans_with(overrides.iter().copied())
        .map_err(|e| CliError::usage(format!("--boolean: {e}")))?;
    let access = policy.access_with(booleans);
    let why = Why::new(&access);
    let log = read_input(&args)?;
    let groups = log.groups();
    let verdicts: Vec<Result<Verdict, AccessError>> =
        groups.iter().map(|g| why.explain(g.record())).collect();
    let unexplained = verdicts.iter().filter(|v| v.is_err()).count();
    let exit = if log.errors().is_empty() && unexplained == 0 && !groups.is_empty() {
        Exit::Success
    } else {
        Exit::Failed
    };
    if args.json {
        let doc = json!({
            "policy": loaded.path.display().to_string(),
            "booleans": overrides.iter().map(|(n, v)| ((*n).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "records": log.records().len(),
            "groups": groups.iter().zip(&verdicts).map(|(g, v)| g.to_json(v.as_ref())).collect::<Vec<_>>(),
            "errors": log.errors().iter().map(|e| json!({"line": e.line(), "offset": e.offset(), "message": e.to_string()})).collect::<Vec<_>>(),
        });
        out::json(&doc)?;
        return Ok(exit);
    }
    for e in log.errors() {
        out::warn(format_args!("{e}"));
    }
    for (i, (g, v)) in groups.iter().zip(&verdicts).enumerate() {
        if i > 0 {
            outln!();
        }
        print_group(g, v.as_ref());
    }
    if groups.is_empty() {
        out::warn(format_args!("no AVC record in the input"));
    } else if exit != Exit::Success {
        out::warn(format_args!(
            "{} of {} lines with AVC records could not be explained (see above)",
            log.errors().len() + unexplained,
            log.errors().len() + log.records().len()
        ));
    }
    Ok(exit)
}

fn print_group(g: &AvcGroup, verdict: Result<&Verdict, &AccessError>) {
    let r = g.record();
    let mut head = format!("line {}", r.line());
    if g.count() > 1 {
        let lines: Vec<String> = g.lines().iter().map(ToString::to_string).collect();
        head = format!("{head} ({} records: lines {})", g.count(), lines.join(", "));
    }
    let mut what = format!("{} {{ {} }}", r.kind(), r.permissions().join(" "));
    if let Some(comm) = r.comm() {
        what = format!("{what} comm=\"{}\"", Escaped::bytes(comm));
    }
    match (r.path(), r.name()) {
        (Some(path), _) => what = format!("{what} path=\"{}\"", Escaped::bytes(path)),
        (None, Some(name)) => what = format!("{what} name=\"{}\"", Escaped::bytes(name)),
        _ => {}
    }
    if r.permissive() == Some(true) {
        what.push_str(" permissive=1");
    }
    outln!("{head}: {what}");
    outln!("  source:  {}", r.scontext());
    outln!("  target:  {} ({})", r.tcontext(), r.tclass());
    match verdict {
        Err(e) => outln!("  error:   {e}"),
        Ok(v) => {
            outln!("  verdict: {}", v.cause.class());
            outln!("  why:     {}", v.explanation);
            if v.permissions.len() > 1 {
                let width = v
                    .permissions
                    .iter()
                    .map(|p| p.permission.len())
                    .max()
                    .unwrap_or(0);
                for p in &v.permissions {
                    match &p.denial {
                        None => outln!("    {:<width$}  allowed", p.permission),
                        Some(d) => outln!("    {:<width$}  denied: {d}", p.permission),
                    }
                }
            }
            outln!("  fix:     {}", v.fix);
        }
    }
}
