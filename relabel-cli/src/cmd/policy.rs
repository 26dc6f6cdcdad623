//! `relabel lookup` (matchpathcon) and `relabel restore` (restorecon).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use selinux_mcs::policy::{CustomizableTypes, FileContexts, Labeler, Restorer, Root};
use selinux_mcs::FileKind;

use super::label as label_cmd;
use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Arguments of `relabel lookup`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Prints PATH<TAB>CONTEXT for each path, <<none>> when no rule applies or the rule says
<<none>>. Paths need not exist. Without --type an existing path is looked up with its own
kind and a missing one with none (every rule applies).

Which path is looked up (as restorecon and matchpathcon do): for an existing path, its
directory is resolved (symlinks, . and ..) and its last component kept, so /etc/./shadow
is /etc/shadow and a symlink is looked up as itself; for a missing path, the path as
written with only // collapsed (. and .. are matched as text, as selabel_lookup does).
Writes: nothing.

Example:
  relabel lookup /var/lib/containers/storage /etc/shadow --type file")]
pub struct LookupArgs {
    /// The paths to look up (relative paths are taken from the current directory).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Look the paths up as this kind of file: file, dir, symlink, chr, blk, fifo, sock.
    #[arg(long = "type", short = 't', value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<FileKind>,
    /// The file_contexts to use (default: the system's, from /etc/selinux/config).
    /// Its .homedirs, .local, .subs_dist and .subs are read too when present.
    #[arg(long, value_name = "FILE")]
    pub file_contexts: Option<PathBuf>,
    /// Print a JSON array of {"path": ..., "context": string or null}.
    #[arg(long)]
    pub json: bool,
    /// Whose file_contexts engine answers: ours (pure Rust), or libselinux's selabel_lookup
    /// (only in builds with the `libselinux` feature). Both read the same files.
    #[arg(long, value_enum, default_value_t = Backend::Ours)]
    pub backend: Backend,
}

fn parse_kind(s: &str) -> Result<FileKind, selinux_mcs::UnknownName> {
    s.parse()
}

/// The file_contexts named on the command line, or the system's.
fn file_contexts_path(path: Option<&Path>) -> Result<PathBuf, CliError> {
    match path {
        Some(p) => Ok(p.to_path_buf()),
        None => Root::default()
            .file_contexts_path()
            .map_err(|e| CliError::usage(format!("{e} (use --file-contexts FILE)"))),
    }
}

/// Loads the file_contexts named on the command line, or the system's.
fn load_file_contexts(path: Option<&Path>) -> Result<FileContexts, CliError> {
    FileContexts::from_path(file_contexts_path(path)?).map_err(CliError::usage)
}

/// The error for `--backend libselinux` in a build without the feature.
#[cfg(not(feature = "libselinux"))]
fn no_libselinux() -> CliError {
    CliError::usage(
        "--backend libselinux: this relabel was built without the `libselinux` feature \
         (rebuild with `cargo build -p relabel-cli --features libselinux`)",
    )
}

/// Runs `relabel lookup`.
pub fn lookup(args: LookupArgs) -> CmdResult {
    match args.backend {
        Backend::Ours => lookup_with(&args, &load_file_contexts(args.file_contexts.as_deref())?),
        #[cfg(feature = "libselinux")]
        Backend::Libselinux => {
            let path = file_contexts_path(args.file_contexts.as_deref())?;
            let fc =
                selinux_mcs::system::SelabelFileContexts::open(&path).map_err(CliError::usage)?;
            lookup_with(&args, &fc)
        }
        #[cfg(not(feature = "libselinux"))]
        Backend::Libselinux => Err(no_libselinux()),
    }
}

/// `relabel lookup` with the rules of `fc`'s backend. A lookup that fails
/// (libselinux can) is said on stderr and makes the exit status 1; the
/// other paths are still printed.
fn lookup_with<L: Labeler>(args: &LookupArgs, fc: &L) -> CmdResult {
    let mut results = Vec::with_capacity(args.paths.len());
    let mut failed = false;
    for path in &args.paths {
        let abs = match selinux_mcs::policy::lookup_path(path) {
            Ok(abs) => abs,
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "relabel: {}: cannot resolve: {e}",
                    Escaped::path(path)
                );
                failed = true;
                continue;
            }
        };
        let kind = args.kind.or_else(|| {
            std::fs::symlink_metadata(&abs)
                .ok()
                .map(|m| FileKind::from_std(m.file_type()))
        });
        match fc.lookup(&abs, kind) {
            Ok(ctx) => results.push((path, ctx)),
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "relabel: {}: lookup failed: {e}",
                    Escaped::path(path)
                );
                failed = true;
            }
        }
    }
    if args.json {
        let doc: Vec<_> = results
            .iter()
            .map(|(path, ctx)| {
                let mut entry = serde_json::Map::new();
                Escaped::path(path).insert_json(&mut entry, "path");
                entry.insert("context".into(), json!(ctx.as_ref().map(|c| c.to_string())));
                entry
            })
            .collect();
        out::json(&doc)?;
    } else {
        for (path, ctx) in &results {
            match ctx {
                Some(ctx) => outln!("{}\t{}", Escaped::path(path), Escaped::str(ctx.as_ref())),
                None => outln!("{}\t<<none>>", Escaped::path(path)),
            }
        }
    }
    Ok(if failed { Exit::Failed } else { Exit::Success })
}

/// Arguments of `relabel restore`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Gives each path the context its file_contexts rule names, as restorecon does: nothing is
written when the label is already right or the rule says <<none>>; without --force only
the type changes and customizable types are left alone.
Writes: the security.selinux label of every path whose label differs (none with --dry-run).

Example:
  relabel restore -R -n -v /srv/www")]
pub struct RestoreArgs {
    /// The paths to restore.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The file_contexts to use (default: the system's, from /etc/selinux/config).
    #[arg(long, value_name = "FILE")]
    pub file_contexts: Option<PathBuf>,
    /// The customizable types to leave alone without --force (default: the
    /// system policy's contexts/customizable_types, as libselinux reads it;
    /// none when there is no system policy).
    #[arg(long, value_name = "FILE")]
    pub customizable_types: Option<PathBuf>,
    /// Descend into directories.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Say what would change; write nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Replace whole contexts (user, role, range too) and relabel customizable types.
    #[arg(short = 'F', long)]
    pub force: bool,
    /// Print every change.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// With -R: enter mount points inside the tree (default: neither
    /// restore nor enter them, and list them).
    #[arg(long, requires = "recursive")]
    pub cross_mounts: bool,
    /// Print the report as JSON (the same shape as `relabel apply --json`).
    #[arg(long)]
    pub json: bool,
    /// Whose file_contexts engine answers: ours (pure Rust), or libselinux's selabel_lookup
    /// (only in builds with the `libselinux` feature). Both read the same files.
    #[arg(long, value_enum, default_value_t = Backend::Ours)]
    pub backend: Backend,
}

/// The file_contexts engines `--backend` chooses from (`lookup`, `restore`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// selinux-mcs's own FileContexts.
    Ours,
    /// libselinux's selabel_open/selabel_lookup (builds with the `libselinux` feature).
    Libselinux,
}

/// Runs `relabel restore`.
pub fn restore(args: RestoreArgs) -> CmdResult {
    // Everything is loaded and checked before anything is written.
    let customizable = customizable_types(&args)?;
    match args.backend {
        Backend::Ours => {
            let fc = load_file_contexts(args.file_contexts.as_deref())?;
            restore_with(&args, Restorer::new(fc), customizable)
        }
        #[cfg(feature = "libselinux")]
        Backend::Libselinux => {
            let path = file_contexts_path(args.file_contexts.as_deref())?;
            let fc =
                selinux_mcs::system::SelabelFileContexts::open(&path).map_err(CliError::usage)?;
            restore_with(&args, Restorer::new(fc), customizable)
        }
        #[cfg(not(feature = "libselinux"))]
        Backend::Libselinux => Err(no_libselinux()),
    }
}

/// `--customizable-types FILE`, or the system policy's (none without a
/// system policy).
fn customizable_types(args: &RestoreArgs) -> Result<CustomizableTypes, CliError> {
    match &args.customizable_types {
        Some(path) => CustomizableTypes::from_path(path).map_err(CliError::usage),
        None => Root::default()
            .customizable_types()
            .map_err(CliError::usage),
    }
}

/// `relabel restore` with the rules of `restorer`'s backend.
fn restore_with<L>(
    args: &RestoreArgs,
    mut restorer: Restorer<L>,
    customizable: CustomizableTypes,
) -> CmdResult
where
    L: Labeler + Send + Sync + 'static,
{
    restorer.customizable_types(customizable).force(args.force);
    let mut restore = restorer.restore();
    restore
        .dry_run(args.dry_run)
        .recursive(args.recursive)
        .one_file_system(!args.cross_mounts);
    if args.verbose && !args.json {
        label_cmd::print_changes(&mut restore, args.dry_run);
    }
    let report = restore
        .run_all(&args.paths)
        .map_err(label_cmd::relabel_error)?;
    if args.verbose && !args.json {
        for p in &report.customized_paths {
            outln!("not reset as customized: {}", Escaped::path(p));
        }
    }
    label_cmd::finish(&report, args.json, args.dry_run)
}
