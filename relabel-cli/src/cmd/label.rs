//! `relabel apply`, `relabel show` and `relabel mount-option`: relabel
//! trees, print labels as `ls -Z` does, and print the mount option that
//! labels a fresh mount.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use selinux_mcs::label::protected::{self, Protection};
use selinux_mcs::label::{
    self, ErrorKind, Failure, LabelError, Relabel, RelabelError, Report, Target,
    DEFAULT_FILE_CONTEXT,
};
use selinux_mcs::mls::Level;
use selinux_mcs::policy::Root;
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};

fn apply_help() -> String {
    format!(
        "Writes: the security.selinux label of every entry whose label differs (none with --dry-run); \
         the registry with --owner.\n\n\
         Protected paths (compared after resolving ., .., //, relative paths and symlinks):\n{}\n\n\
         Examples:\n  relabel apply --shared /srv/volume\n  \
         relabel apply --private --level s0:c1,c2 --json /srv/volume\n  \
         relabel apply --context system_u:object_r:container_file_t:s0 --dry-run -v /srv/volume",
        protected::describe()
    )
}

/// Arguments of `relabel apply`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = apply_help(),
    group(clap::ArgGroup::new("target").required(true).args(["context", "shared", "private"]))
)]
pub struct ApplyArgs {
    /// The trees (or single files) to relabel. Symlinks are labeled
    /// themselves, never followed.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Give every entry this exact context.
    #[arg(long, value_name = "CTX")]
    pub context: Option<String>,
    /// The file label at s0, readable by every container (podman's :z).
    #[arg(long)]
    pub shared: bool,
    /// The file label at a container's own level (podman's :Z); needs
    /// --level or --owner.
    #[arg(long)]
    pub private: bool,
    /// With --private: the level, e.g. s0:c1,c2.
    #[arg(
        long,
        value_name = "LEVEL",
        requires = "private",
        conflicts_with = "owner"
    )]
    pub level: Option<String>,
    /// With --private: the owner whose pair the MCS registry holds
    /// (allocated on first use, the same afterwards).
    #[arg(long, value_name = "NAME", requires = "private")]
    pub owner: Option<String>,
    /// With --owner: the registry database (default: $SELINUX_MCS_DB, else
    /// /var/lib/selinux-mcs/mcs.db for root, the XDG state directory otherwise).
    #[arg(long, value_name = "PATH", requires = "owner", alias = "registry")]
    pub db: Option<PathBuf>,
    /// The file context whose user, role and type --shared and --private
    /// use (default: the container contexts file's `file`, else
    /// system_u:object_r:container_file_t:s0).
    #[arg(long, value_name = "CTX", conflicts_with = "context")]
    pub file_context: Option<String>,
    /// Count what would change; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Enter other filesystems mounted inside the tree (default: stay on
    /// the root's filesystem).
    #[arg(long)]
    pub cross_mounts: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Allow paths under /etc, /usr, /boot, ~/.ssh and ~/.gnupg.
    #[arg(short = 'F', long)]
    pub force: bool,
    /// Leave this path and everything under it alone (repeatable).
    #[arg(long, value_name = "PATH")]
    pub exclude: Vec<PathBuf>,
    /// Print the report as JSON: {"visited": n, "changed": n, "unchanged":
    /// n, "failed": n, "failures": [{"path": ..., "error": ...}]}.
    #[arg(long)]
    pub json: bool,
    /// Print every path changed (or, with --dry-run, that would be).
    #[arg(short, long)]
    pub verbose: bool,
}

/// The level the MCS registry holds for `owner` (allocating it on first
/// use, the same afterwards).
pub fn registry_level(owner: &str, db: Option<&Path>) -> Result<Level, CliError> {
    super::registry::owner_level(owner, db)
}

fn parse_context(what: &str, text: &str) -> Result<SecurityContext, CliError> {
    text.parse()
        .map_err(|e| CliError::usage(format!("bad {what} {text:?}: {e}")))
}

/// The file context Shared and Private start from.
fn file_context(arg: Option<&str>) -> Result<SecurityContext, CliError> {
    if let Some(text) = arg {
        return parse_context("--file-context", text);
    }
    let system = Root::default()
        .container_contexts()
        .ok()
        .and_then(|c| c.file().cloned());
    match system {
        Some(ctx) => Ok(ctx),
        None => parse_context("default file context", DEFAULT_FILE_CONTEXT),
    }
}

/// Runs `relabel apply`.
pub fn apply(args: ApplyArgs) -> CmdResult {
    // Everything is checked before anything is written.
    let target = if let Some(text) = &args.context {
        Target::Context(parse_context("context", text)?)
    } else if args.shared {
        Target::Shared
    } else if let Some(text) = &args.level {
        Target::Private(
            text.parse()
                .map_err(|e| CliError::usage(format!("bad level {text:?}: {e}")))?,
        )
    } else if let Some(owner) = &args.owner {
        Target::Private(registry_level(owner, args.db.as_deref())?)
    } else {
        return Err(CliError::usage(
            "--private needs --level LEVEL or --owner NAME",
        ));
    };
    let mut relabel = Relabel::new(target);
    if args.context.is_none() {
        relabel.file_context(file_context(args.file_context.as_deref())?);
    }
    let protection = Protection::system();
    for path in &args.paths {
        protection
            .check(path, args.force)
            .map_err(CliError::usage)?;
    }
    relabel
        .protection(protection)
        .force(args.force)
        .dry_run(args.dry_run)
        .one_file_system(!args.cross_mounts)
        .threads(args.threads.unwrap_or(0));
    for e in &args.exclude {
        relabel.exclude(e);
    }
    if args.verbose && !args.json {
        let verb = if args.dry_run {
            "would relabel"
        } else {
            "relabeled"
        };
        relabel.on_change(move |path, ctx| println!("{verb} {} to {ctx}", path.display()));
    }
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    if let Some(bar) = &bar {
        let bar = bar.clone();
        relabel.progress(move |p| {
            bar.set_message(format!(
                "{} seen, {} changed, {} failed, {} directories",
                p.seen, p.changed, p.failed, p.dirs
            ));
        });
    }

    let result = run_all(&relabel, &args.paths);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;

    finish(&report, args.json, args.dry_run)
}

/// Prints a report (JSON, or failures on stderr and a summary line) and
/// gives the exit status: 0 when nothing failed, 1 otherwise. `apply` and
/// `restore` share it, so their output and statuses agree.
pub fn finish(report: &Report, json: bool, dry_run: bool) -> CmdResult {
    if json {
        let text = serde_json::to_string(report)
            .map_err(|e| CliError::failed(format!("cannot print the report: {e}")))?;
        println!("{text}");
    } else {
        for f in &report.failures {
            eprintln!("relabel: {}", f.error);
        }
        if report.failures.len() as u64 != report.failed {
            eprintln!(
                "relabel: ... and {} more failures",
                report.failed - report.failures.len() as u64
            );
        }
        println!(
            "{} visited, {} {}, {} unchanged, {} failed",
            report.visited,
            report.changed,
            if dry_run { "would change" } else { "changed" },
            report.unchanged,
            report.failed
        );
    }
    Ok(if report.is_success() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// Relabels every path, one report for all. A root that cannot be opened
/// is a failure in the report; a protected one is bad input.
pub fn run_all(relabel: &Relabel, paths: &[PathBuf]) -> Result<Report, CliError> {
    let mut report = Report::default();
    for path in paths {
        match relabel.run(path) {
            Ok(r) => report.merge(r),
            Err(RelabelError::Protected(e)) => return Err(CliError::usage(e)),
            Err(RelabelError::Root(e)) => {
                report.visited += 1;
                report.failed += 1;
                report.failures.push(Failure::new(path, e));
            }
            Err(e) => return Err(CliError::failed(e)),
        }
    }
    Ok(report)
}

/// Arguments of `relabel show`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Prints `LABEL PATH` per line, as `ls -Z` does (`?` for no label).\n\
    With --json, one array: [{\"path\": ..., \"label\": ... or null, \"error\": ... or null}].\n\
    Symlinks are shown themselves, never followed.\n\
    Writes: nothing.\n\n\
    Example:\n  relabel show -R /srv/volume"
)]
pub struct ShowArgs {
    /// The files to show.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Show directories' contents too, recursively (not following symlinks).
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel show`.
pub fn show(args: ShowArgs) -> CmdResult {
    let mut failed = false;
    let mut out = Vec::new();
    // Text is printed as the walk goes; JSON is one array at the end.
    let mut emit = |path: &Path, result: Result<SecurityContext, LabelError>| {
        let (label, error) = match result {
            Ok(ctx) => (Some(ctx.to_string()), None),
            Err(e) if e.kind() == ErrorKind::NoLabel => (None, None),
            Err(e) => {
                failed = true;
                (None, Some(e.to_string()))
            }
        };
        if args.json {
            out.push(json!({"path": path.to_string_lossy(), "label": label, "error": error}));
        } else if let Some(e) = &error {
            eprintln!("relabel: {e}");
        } else {
            println!("{} {}", label.as_deref().unwrap_or("?"), path.display());
        }
    };
    for path in &args.paths {
        visit(path, args.recursive, true, &mut emit);
    }
    if args.json {
        println!("{}", serde_json::Value::Array(out));
    }
    Ok(if failed { Exit::Failed } else { Exit::Success })
}

/// Gives `emit` the label of `path` and, when recursive, of everything under
/// it, in name order; symlinks are not followed.
fn visit(
    path: &Path,
    recursive: bool,
    top: bool,
    emit: &mut dyn FnMut(&Path, Result<SecurityContext, LabelError>),
) {
    emit(path, label::get(path));
    if !recursive || !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) => {
            if top || e.kind() != std::io::ErrorKind::NotFound {
                emit(path, Err(LabelError::io(path, "opendir", e)));
            }
            return;
        }
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    for name in names {
        visit(&path.join(name), recursive, false, emit);
    }
}

/// Arguments of `relabel mount-option`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Prints the option (context=\"LABEL\"); with --json {\"option\": ...}.\n\
    Writes: nothing: pass the option to mount(8) instead of relabeling a fresh volume.\n\n\
    Example:\n  relabel mount-option system_u:object_r:container_file_t:s0:c1,c2\n  \
    mount -o 'context=\"system_u:object_r:container_file_t:s0:c1,c2\"' /dev/sdb1 /srv/volume"
)]
pub struct MountOptionArgs {
    /// The label every file of the mount gets.
    #[arg(value_name = "LABEL")]
    pub label: String,
    /// Print {"option": ...}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel mount-option`.
pub fn mount_option(args: MountOptionArgs) -> CmdResult {
    let ctx = parse_context("label", &args.label)?;
    let option = label::mount_option(&ctx);
    if args.json {
        println!("{}", serde_json::json!({ "option": option }));
    } else {
        println!("{option}");
    }
    Ok(Exit::Success)
}
