//! `relabel apply`, `relabel show` and `relabel mount-option`: relabel
//! trees, print labels as `ls -Z` does, and print the mount option that
//! labels a fresh mount.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::registry::DbArg;
use selinux_mcs::label::protected::{self, Protection};
use selinux_mcs::label::{self, LabelError, Relabel, RelabelError, Report, Target};
use selinux_mcs::mls::Level;
use selinux_mcs::policy::Root;
use selinux_mcs::SecurityContext;

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// What `relabel apply` guarantees, in one paragraph (README's safety
/// section says the same at length).
pub const SAFETY_HELP: &str = "\
Safety: each PATH is opened once and every check and write after that goes through the \
open file, so renaming or swapping its components meanwhile cannot redirect the relabel. \
A symlink given as PATH is followed (as chcon does; -h labels the link itself); symlinks \
inside the tree are labeled themselves and never followed. Protected objects are refused by \
identity (device and inode, so a bind mount or symlink of /etc is /etc): the root itself, a \
directory above it that needs --force, and protected objects met inside the tree; anything \
on a pseudo file system (proc, sysfs, cgroup, devtmpfs, ...) is refused. Mount points inside \
the tree (found by mount id, so bind mounts count, files too) are neither labeled nor entered \
unless --cross-mounts, and are listed. Regular files with several hard links are labeled (as \
chcon, restorecon and podman do) and listed; their other names may be outside the tree \
(--skip-hardlinks leaves them alone). Not guaranteed: entries inside the tree replaced by \
another process between the check and the write are labeled as whatever is there then \
(never followed); mounts made during the walk may be missed.";

fn apply_help() -> String {
    format!(
        "Writes: the security.selinux label of every entry whose label differs (none with --dry-run); \
         the registry with --owner (never with --dry-run).\n\n{SAFETY_HELP}\n\n\
         Protected paths (compared by identity, and by name after resolving ., .., //, relative paths and symlinks):\n{}\n\n\
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
    disable_help_flag = true,
    group(clap::ArgGroup::new("target").required(true).args(["context", "shared", "private"]))
)]
pub struct ApplyArgs {
    /// The trees (or single files) to relabel. A symlink given here is
    /// followed to its target (see -h); symlinks inside are labeled
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
        conflicts_with_all = ["owner", "shared", "context"]
    )]
    pub level: Option<String>,
    /// With --private: the owner whose pair the MCS registry holds
    /// (allocated on first use, the same afterwards).
    #[arg(
        long,
        value_name = "NAME",
        requires = "private",
        conflicts_with_all = ["shared", "context"]
    )]
    pub owner: Option<String>,
    /// With --owner: the registry, a database file or an etcd:// URL
    /// (default: $SELINUX_MCS_DB, else /var/lib/selinux-mcs/mcs.db for root,
    /// the XDG state directory otherwise).
    #[arg(long, value_name = "PATH|URL", requires = "owner", alias = "registry")]
    pub db: Option<std::ffi::OsString>,
    /// With --owner and an etcd registry: how long to keep trying before
    /// exit 1, e.g. 500ms, 5s [default: 5s].
    #[arg(long, value_name = "DURATION", requires = "owner",
          value_parser = super::registry::parse_timeout)]
    pub timeout: Option<Duration>,
    /// The file context whose user, role and type --shared and --private
    /// use (default: the container contexts file's `file`, else
    /// system_u:object_r:container_file_t:s0).
    #[arg(long, value_name = "CTX", conflicts_with = "context")]
    pub file_context: Option<String>,
    /// Count what would change; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Enter mount points inside the tree (default: neither label nor
    /// enter them, and list them). Pseudo file systems and protected
    /// objects are still refused.
    #[arg(long)]
    pub cross_mounts: bool,
    /// Label a symlink given as PATH itself instead of following it.
    #[arg(short = 'h', long)]
    pub no_dereference: bool,
    /// Leave regular files with more than one hard link alone (default:
    /// label them, and list them).
    #[arg(long)]
    pub skip_hardlinks: bool,
    /// Worker threads, 1 to 256 (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
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
    /// Print every path changed (or, with --dry-run, that would be), and
    /// every hard-linked file and skipped mount point.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyCheckArgs,
    /// Print help (-h is --no-dereference, as in chcon).
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

/// The level the MCS registry holds for `owner` (allocating it on first
/// use, the same afterwards).
pub fn registry_level(owner: &str, db: &DbArg) -> Result<Level, CliError> {
    super::registry::owner_level(owner, db)
}

fn parse_context(what: &str, text: &str) -> Result<SecurityContext, CliError> {
    text.parse()
        .map_err(|e| CliError::usage(format!("bad {what} {text:?}: {e}")))
}

/// The file context Shared and Private start from: `--file-context`, or
/// the host's (the library's one answer, which the C API gives too).
fn file_context(arg: Option<&str>) -> Result<SecurityContext, CliError> {
    match arg {
        Some(text) => parse_context("--file-context", text),
        None => Ok(Root::default().container_file_context()),
    }
}

/// Runs `relabel apply`.
pub fn apply(args: ApplyArgs) -> CmdResult {
    // Everything is checked before anything is written: flags, contexts,
    // every root (by identity), and only then the registry.
    let loaded = args.policy.load()?;
    let target = if let Some(text) = &args.context {
        Some(Target::Context(super::binpolicy::parse_context(
            "context",
            text,
            loaded.as_ref(),
        )?))
    } else if args.shared {
        Some(Target::Shared)
    } else if let Some(text) = &args.level {
        Some(Target::Private(text.parse().map_err(|e| {
            CliError::usage(format!("bad level {text:?}: {e}"))
        })?))
    } else if args.owner.is_some() {
        None // from the registry, once every root is checked
    } else {
        return Err(CliError::usage(
            "--private needs --level LEVEL or --owner NAME",
        ));
    };
    let mut relabel = Relabel::new(target.clone().unwrap_or(Target::Shared));
    // The labels to write, against the installed policy, before anything
    // else: a label the kernel would reject is never written.
    if let Some(Target::Context(ctx)) = &target {
        super::binpolicy::check_label("context", ctx, loaded.as_ref())?;
    }
    if args.context.is_none() {
        let base = file_context(args.file_context.as_deref())?;
        // A --file-context given by hand is checked; the host's own (from
        // its container contexts file) is what its policy ships.
        if args.file_context.is_some() {
            let label = match &target {
                Some(Target::Private(level)) => base.with_level(*level),
                _ => base.with_level(Level::default()),
            };
            super::binpolicy::check_label("--file-context", &label, loaded.as_ref())?;
        }
        relabel.file_context(base);
    }
    relabel
        .protection(Protection::system())
        .force(args.force)
        .dry_run(args.dry_run)
        .one_file_system(!args.cross_mounts)
        .dereference(!args.no_dereference)
        .skip_hardlinks(args.skip_hardlinks)
        .threads(args.threads.map_or(0, usize::from));
    for e in &args.exclude {
        relabel.exclude(e);
    }
    // Before the registry: a refused or missing root allocates nothing.
    for path in &args.paths {
        relabel.check(path).map_err(relabel_error)?;
    }
    if let (None, Some(owner)) = (&target, &args.owner) {
        let db = DbArg {
            db: args.db.clone(),
            timeout: args.timeout,
        };
        relabel.target(owner_target(owner, &db, args.dry_run)?);
    }
    if args.verbose && !args.json {
        print_changes(&mut relabel, args.dry_run);
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

    let result = relabel.run_all(&args.paths).map_err(relabel_error);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;
    if args.verbose && !args.json {
        for p in &report.hardlinks {
            outln!(
                "hard-linked (its other names share the label): {}",
                Escaped::path(p)
            );
        }
    }
    finish(&report, args.json, args.dry_run)
}

/// The target for `--private --owner`: the pair the registry holds, or a
/// new one. A dry run allocates nothing: it says which pair it would use.
fn owner_target(owner: &str, db: &DbArg, dry_run: bool) -> Result<Target, CliError> {
    if !dry_run {
        return Ok(Target::Private(registry_level(owner, db)?));
    }
    match super::registry::peek_owner_level(owner, db)? {
        Some(level) => {
            out::warn(format_args!(
                "dry run: {} holds {level}; it would be used",
                Escaped::str(owner)
            ));
            Ok(Target::Private(level))
        }
        None => {
            out::warn(format_args!(
                "dry run: {} holds no pair; a new pair would be allocated",
                Escaped::str(owner)
            ));
            // Counted against a pair no entry can hold yet: every label
            // would change.
            Ok(Target::Custom(std::sync::Arc::new(|_, _, _| {
                Ok(SecurityContext::new("unallocated_u", "object_r", "unallocated_t", None).ok())
            })))
        }
    }
}

/// Prints a report (JSON, or failures on stderr and a summary line) and
/// gives the exit status: 0 when nothing failed, 1 otherwise. `apply` and
/// `restore` share it, so their output and statuses agree.
pub fn finish(report: &Report, json: bool, dry_run: bool) -> CmdResult {
    if json {
        out::json(report)?;
    } else {
        for f in &report.failures {
            out::warn(format_args!("{}", f.error));
        }
        if report.failures.len() as u64 != report.failed {
            out::warn(format_args!(
                "... and {} more failures",
                report.failed - report.failures.len() as u64
            ));
        }
        for p in &report.mount_points {
            out::warn(format_args!("skipped mount point {}", Escaped::path(p)));
        }
        let mut summary = format!(
            "{} visited, {} {}, {} unchanged, {} failed",
            report.visited,
            report.changed,
            if dry_run { "would change" } else { "changed" },
            report.unchanged,
            report.failed
        );
        if report.hardlinked > 0 {
            summary += &format!(", {} hard-linked", report.hardlinked);
        }
        if report.customized > 0 {
            summary += &format!(", {} left as customized", report.customized);
        }
        if report.skipped_mounts > 0 {
            summary += &format!(
                "; skipped {} mount point{} (--cross-mounts to enter them)",
                report.skipped_mounts,
                if report.skipped_mounts == 1 { "" } else { "s" }
            );
        }
        outln!("{summary}");
    }
    Ok(if report.is_success() {
        Exit::Success
    } else {
        Exit::Failed
    })
}

/// Prints each entry as it is relabeled (`apply -v`, `restore -v`).
pub fn print_changes(relabel: &mut Relabel, dry_run: bool) {
    let verb = if dry_run {
        "would relabel"
    } else {
        "relabeled"
    };
    relabel.on_change(move |path, ctx| {
        outln!(
            "{verb} {} to {}",
            Escaped::path(path),
            Escaped::str(ctx.as_ref())
        )
    });
}

/// A relabel that could not start: a protected root is bad input (status
/// 2), anything else a failure (status 1). Nothing has been written.
pub fn relabel_error(e: RelabelError) -> CliError {
    match e {
        RelabelError::Protected(e) => CliError::usage(e),
        e => CliError::failed(e),
    }
}

/// Arguments of `relabel show`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Prints `LABEL PATH` per line, as `ls -Z` does (`?` for no label).\n\
    With --json, one array: [{\"path\": ..., \"label\": ... or null, \"error\": ... or null}].\n\
    Symlinks are shown themselves, never followed.\n\
    With --pid: `LABEL PID` per line (/proc/PID/attr/current), as `ps -Z` does; with --json\n\
    [{\"pid\": ..., \"label\": ... or null, \"error\": ... or null}]. Exit 1 when a process\n\
    cannot be read, or, with one line on stderr, when SELinux is not enabled.\n\
    Writes: nothing.\n\n\
    Example:\n  relabel show -R /srv/volume\n  relabel show --pid $$ 1"
)]
pub struct ShowArgs {
    /// The files to show.
    #[arg(required_unless_present = "pids", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Show directories' contents too, recursively (not following symlinks).
    #[arg(short = 'R', long, conflicts_with = "pids")]
    pub recursive: bool,
    /// Show these processes' labels instead of files'.
    #[arg(
        long = "pid",
        value_name = "PID",
        num_args = 1..,
        conflicts_with = "paths",
        value_parser = clap::value_parser!(i32).range(1..)
    )]
    pub pids: Vec<i32>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel show`.
pub fn show(args: ShowArgs) -> CmdResult {
    if !args.pids.is_empty() {
        return super::process::show_pids(&args.pids, args.json);
    }
    let mut failed = false;
    // Streamed, JSON too: one entry is printed as soon as it is read.
    let mut first = true;
    if args.json {
        out!("[");
    }
    let mut emit = |path: &Path, label: Result<Option<SecurityContext>, LabelError>| {
        let (label, error) = match label {
            Ok(ctx) => (ctx.map(|c| c.to_string()), None),
            Err(e) => {
                failed = true;
                (None, Some(e.to_string()))
            }
        };
        if args.json {
            let sep = if std::mem::take(&mut first) { "" } else { "," };
            let mut entry = serde_json::Map::new();
            Escaped::path(path).insert_json(&mut entry, "path");
            entry.insert("label".into(), json!(label));
            entry.insert("error".into(), json!(error));
            out!("{sep}{}", serde_json::Value::Object(entry));
        } else if let Some(e) = &error {
            out::warn(format_args!("{e}"));
        } else {
            let label = label.as_deref().unwrap_or("?");
            outln!("{} {}", Escaped::str(label), Escaped::path(path));
        }
    };
    for path in &args.paths {
        let listed = label::list_labels(path, args.recursive, |e| {
            emit(e.path, e.label);
            ControlFlow::Continue(())
        });
        if let Err(e) = listed {
            emit(path, Err(e));
        }
    }
    if args.json {
        outln!("]");
    }
    Ok(if failed { Exit::Failed } else { Exit::Success })
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
    #[command(flatten)]
    pub policy: super::binpolicy::PolicyCheckArgs,
}

/// Runs `relabel mount-option`.
pub fn mount_option(args: MountOptionArgs) -> CmdResult {
    let loaded = args.policy.load()?;
    let ctx = super::binpolicy::parse_context("label", &args.label, loaded.as_ref())?;
    super::binpolicy::check_label("label", &ctx, loaded.as_ref())?;
    let option = label::mount_option(&ctx);
    if args.json {
        out::json(&serde_json::json!({ "option": option }))?;
    } else {
        outln!("{}", Escaped::str(&option));
    }
    Ok(Exit::Success)
}
