//! The relabel walker: a builder, then `run(path) -> Report`.
//!
//! How it walks, and why:
//! - Directories are opened with `openat(parent_fd, name, O_NOFOLLOW |
//!   O_DIRECTORY)` and every entry is labeled relative to its directory's
//!   fd (`getxattrat`/`setxattrat` with `AT_SYMLINK_NOFOLLOW`, or `l*xattr`
//!   on `/proc/self/fd/<dirfd>/<name>`). No path is resolved twice, so a
//!   directory swapped for a symlink mid-walk cannot lead the walk, or a
//!   write, outside the tree: the `openat` fails with `ELOOP` and the symlink
//!   itself is labeled.
//! - Directories are labeled through their own fd right after opening; the
//!   root is labeled last, so an interrupted run leaves it unlabeled and the
//!   next run redoes the tree.
//! - Work is a LIFO queue of directories to open and of directories to
//!   continue reading. A directory is read in batches (one `getdents64`
//!   buffer, 32 KiB, at a time) and set aside once a batch has found enough
//!   subdirectories, which are worked on first. The queue therefore holds
//!   at most about depth x one buffer's worth of names (and one open fd per
//!   directory being read), whatever the tree's size.
//! - Labels are read before they are written and only differing ones are
//!   written (no ctime churn, and an unchanged run costs one `getxattrat`
//!   per entry).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use rustix::fs::FileType;

use super::error::{LabelError, RelabelError};
use super::ident::{self, OpenRoot};
use super::protected::{Guard, Protection};
use super::report::{Failure, Progress, Report};
use super::xattr::{self, Api};
use crate::mls::Level;
use crate::{FileKind, SecurityContext};

/// The file label Shared and Private targets start from when none is given:
/// the containers' default file label.
pub const DEFAULT_FILE_CONTEXT: &str = "system_u:object_r:container_file_t:s0";

/// A per-entry labeling rule: given the entry's full path (the root as
/// given, joined with the names below it), its kind and its current label
/// (`None` when it has none or it does not parse), the label it should have,
/// `None` to leave it alone, or an error (a failed lookup), which the
/// report records as a failure of that entry ([`LabelError::Rule`]).
pub type LabelFn = dyn Fn(&Path, FileKind, Option<&SecurityContext>) -> Result<Option<SecurityContext>, RuleError>
    + Send
    + Sync;

/// Why a [`LabelFn`] rule could not decide.
pub type RuleError = Box<dyn std::error::Error + Send + Sync>;

/// What a relabel gives every entry.
///
/// ```
/// use std::sync::Arc;
/// use selinux_mcs::label::Target;
/// use selinux_mcs::FileKind;
///
/// let shared = Target::Shared; // podman's :z
/// let private = Target::Private("s0:c1,c2".parse()?); // podman's :Z
/// // Label only regular files, keeping everything else.
/// let files_only = Target::Custom(Arc::new(|_path, kind, _current| {
///     Ok((kind == FileKind::File).then(|| "system_u:object_r:container_file_t:s0".parse().unwrap()))
/// }));
/// # let _ = (shared, private, files_only);
/// # Ok::<(), selinux_mcs::ParseError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum Target {
    /// This exact context.
    Context(SecurityContext),
    /// The file context at `s0`, no categories: readable by every container
    /// (podman's `:z`).
    Shared,
    /// The file context at this level, a container's own pair (podman's
    /// `:Z`).
    Private(Level),
    /// A rule per entry (restorecon plugs file_contexts in here).
    Custom(Arc<LabelFn>),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Context(c) => f.debug_tuple("Context").field(c).finish(),
            Target::Shared => f.write_str("Shared"),
            Target::Private(l) => f.debug_tuple("Private").field(l).finish(),
            Target::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

type ProgressFn = dyn Fn(&Progress) + Send + Sync;
type ChangeFn = dyn Fn(&Path, &SecurityContext) + Send + Sync;

/// Relabels a tree: build with [`Relabel::new`], set options, then
/// [`run`](Relabel::run) on each root.
///
/// ```
/// use selinux_mcs::label::{Relabel, Target};
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("file"), "x")?;
/// let report = Relabel::new(Target::Private("s0:c1,c2".parse()?))
///     .dry_run(true)
///     .threads(2)
///     .run(dir.path())?;
/// assert_eq!(report.visited, 2); // the root and the file
/// assert_eq!(report.failed + report.changed + report.unchanged, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Relabel {
    target: Target,
    file_context: SecurityContext,
    dry_run: bool,
    one_file_system: bool,
    threads: Option<usize>,
    exclude: Vec<PathBuf>,
    progress: Option<Arc<ProgressFn>>,
    on_change: Option<Arc<ChangeFn>>,
    stop_on_first_error: bool,
    force: bool,
    protection: Option<Protection>,
    max_failures: usize,
    api: Api,
    dereference: bool,
    skip_hardlinks: bool,
    recursive: bool,
    keep_invalid: bool,
}

impl fmt::Debug for Relabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relabel")
            .field("target", &self.target)
            .field("file_context", &self.file_context)
            .field("dry_run", &self.dry_run)
            .field("one_file_system", &self.one_file_system)
            .field("threads", &self.threads)
            .field("exclude", &self.exclude)
            .field("stop_on_first_error", &self.stop_on_first_error)
            .field("force", &self.force)
            .field("max_failures", &self.max_failures)
            .field("dereference", &self.dereference)
            .field("skip_hardlinks", &self.skip_hardlinks)
            .field("recursive", &self.recursive)
            .field("keep_invalid", &self.keep_invalid)
            .finish_non_exhaustive()
    }
}

/// Subdirectories found in one batch after which a directory is set aside
/// so that they are worked on first (bounds the queue).
const SPLIT: usize = 64;
/// The `getdents64` buffer of each worker.
const DENTS: usize = 32 * 1024;

impl Relabel {
    /// A relabel to `target`, with the defaults: not a dry run, one
    /// filesystem, one thread per core, no exclusions, the system's
    /// protected paths without force, at most 10,000 failures kept.
    #[doc(alias = "chcon")]
    #[doc(alias = "Relabel")]
    pub fn new(target: Target) -> Relabel {
        Relabel {
            target,
            file_context: default_file_context(),
            dry_run: false,
            one_file_system: true,
            threads: None,
            exclude: Vec::new(),
            progress: None,
            on_change: None,
            stop_on_first_error: false,
            force: false,
            protection: None,
            max_failures: 10_000,
            api: Api::Auto,
            dereference: true,
            skip_hardlinks: false,
            recursive: true,
            keep_invalid: false,
        }
    }

    /// What every entry gets (replaces the target given to [`new`](Self::new)).
    pub fn target(&mut self, target: Target) -> &mut Relabel {
        self.target = target;
        self
    }

    /// The file context whose user, role and type Shared and Private
    /// targets use (default [`DEFAULT_FILE_CONTEXT`]; the system's is
    /// `policy::Root::default().container_contexts()?.file()`).
    pub fn file_context(&mut self, ctx: SecurityContext) -> &mut Relabel {
        self.file_context = ctx;
        self
    }

    /// Count what would change, write nothing.
    pub fn dry_run(&mut self, yes: bool) -> &mut Relabel {
        self.dry_run = yes;
        self
    }

    /// Stay on the root's mount (default): a mount point inside the tree,
    /// directory or file, is neither labeled nor entered, and the report
    /// counts and lists it. Mount points are found by mount id (`statx`
    /// `STATX_MNT_ID`), not by device, so a bind mount of the same file
    /// system is a mount point too. With `false`, mounts are entered, except
    /// pseudo file systems (proc, sysfs, ...) and protected objects.
    pub fn one_file_system(&mut self, yes: bool) -> &mut Relabel {
        self.one_file_system = yes;
        self
    }

    /// A root given as a symlink: follow it to its target and walk that
    /// (default, as `chcon` does), or with `false` label the link itself.
    /// Symlinks inside the tree are never followed either way.
    pub fn dereference(&mut self, yes: bool) -> &mut Relabel {
        self.dereference = yes;
        self
    }

    /// Leave regular files with more than one hard link alone (default:
    /// label them, as `chcon`, `restorecon` and podman do). Either way the
    /// ones whose label differs are counted in [`Report::hardlinked`].
    pub fn skip_hardlinks(&mut self, yes: bool) -> &mut Relabel {
        self.skip_hardlinks = yes;
        self
    }

    /// Walk the tree (default), or with `false` label each root alone, as
    /// `restorecon` without `-R` does.
    pub fn recursive(&mut self, yes: bool) -> &mut Relabel {
        self.recursive = yes;
        self
    }

    /// With a [`Target::Custom`] rule: an entry whose current label is not
    /// a valid context is a failure ([`LabelError::Invalid`]) and is left
    /// as it is, as `restorecon` does (default `false`: the rule sees no
    /// label and decides). Fixed targets always overwrite such labels, as
    /// `chcon` does.
    pub fn keep_invalid_labels(&mut self, yes: bool) -> &mut Relabel {
        self.keep_invalid = yes;
        self
    }

    /// Worker threads (default: the number of cores; 0 means the default).
    pub fn threads(&mut self, n: usize) -> &mut Relabel {
        self.threads = (n > 0).then_some(n);
        self
    }

    /// Leaves `path` and everything under it alone. Relative paths are
    /// resolved against the current directory; paths outside the root are
    /// ignored.
    pub fn exclude(&mut self, path: impl Into<PathBuf>) -> &mut Relabel {
        self.exclude.push(path.into());
        self
    }

    /// Called with the counts so far after every batch of a directory, from
    /// the worker threads.
    pub fn progress(&mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> &mut Relabel {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Called with each entry's path and new label when it is changed (or,
    /// in a dry run, would be), from the worker threads.
    pub fn on_change(
        &mut self,
        f: impl Fn(&Path, &SecurityContext) + Send + Sync + 'static,
    ) -> &mut Relabel {
        self.on_change = Some(Arc::new(f));
        self
    }

    /// Stop at the first failure instead of recording it and going on. The
    /// root is then left unlabeled.
    pub fn stop_on_first_error(&mut self, yes: bool) -> &mut Relabel {
        self.stop_on_first_error = yes;
        self
    }

    /// Allow paths under `/etc`, `/usr`, `/boot`, `~/.ssh` and `~/.gnupg`.
    /// The directories in [`PROTECTED`](super::protected::PROTECTED) are
    /// refused whatever this says.
    pub fn force(&mut self, yes: bool) -> &mut Relabel {
        self.force = yes;
        self
    }

    /// The protected-path policy (default: [`Protection::system`]).
    pub fn protection(&mut self, p: Protection) -> &mut Relabel {
        self.protection = Some(p);
        self
    }

    /// How many failures the report keeps (the count covers them all), so
    /// that a filesystem without labels does not fill memory.
    pub fn max_failures(&mut self, n: usize) -> &mut Relabel {
        self.max_failures = n;
        self
    }

    /// How many failures (and listed paths of each kind) a report keeps.
    pub fn failure_limit(&self) -> usize {
        self.max_failures
    }

    /// Use `l*xattr` on `/proc/self/fd/<dirfd>/<name>` even when the kernel
    /// has `setxattrat` (tests of the fallback).
    #[doc(hidden)]
    pub fn proc_fd_fallback(&mut self, yes: bool) -> &mut Relabel {
        self.api = if yes { Api::ProcFd } else { Api::Auto };
        self
    }

    fn resolve(&self) -> Resolved {
        let fixed = |ctx: SecurityContext| Resolved::Fixed {
            value: ctx.to_xattr_value(),
            ctx,
        };
        match &self.target {
            Target::Context(c) => fixed(c.clone()),
            Target::Shared => fixed(self.file_context.with_level(Level::s0())),
            Target::Private(l) => fixed(self.file_context.with_level(*l)),
            Target::Custom(f) => Resolved::Custom(Arc::clone(f)),
        }
    }

    /// Relabels the tree at `path`.
    ///
    /// The path is resolved once, to a file descriptor, and every check
    /// and write after that goes through it: a path whose components are
    /// swapped meanwhile cannot redirect the relabel. A symlink root is
    /// followed to its target (see [`dereference`](Self::dereference)); a
    /// root that is not a directory is labeled alone. Refused: protected
    /// objects, by identity (see [`protected`](super::protected)): the
    /// root itself, any directory above it that needs force, and anything
    /// on a pseudo file system. Failures inside the tree are recorded in
    /// the report; only a root that cannot be opened, a protected root, or
    /// a kernel without a safe relative call is an error.
    pub fn run(&self, path: impl AsRef<Path>) -> Result<Report, RelabelError> {
        self.run_counting(path.as_ref()).map(|(report, _)| report)
    }

    /// Makes every check [`run`](Self::run) makes on the root, and writes
    /// nothing: to check several roots before relabeling any.
    pub fn check(&self, path: impl AsRef<Path>) -> Result<(), RelabelError> {
        let (protection, guard) = self.protected();
        self.open_checked(path.as_ref(), &protection, &guard)
            .map(|_| ())
    }

    /// The protected-path policy and its identities, captured now (once
    /// for all the roots of a run).
    fn protected(&self) -> (Cow<'_, Protection>, Guard) {
        let protection = match &self.protection {
            Some(p) => Cow::Borrowed(p),
            None => Cow::Owned(Protection::system()),
        };
        let guard = protection.capture();
        (protection, guard)
    }

    /// The root as the walk spells it, opened and checked.
    fn open_checked<'p>(
        &self,
        path: &'p Path,
        protection: &Protection,
        guard: &Guard,
    ) -> Result<(Cow<'p, Path>, OpenRoot), RelabelError> {
        // Without dereferencing, `link/` would still make the kernel follow
        // `link`: drop trailing slashes (and `.` components) so that a
        // symlink root is the link itself.
        let path: Cow<'p, Path> = if self.dereference {
            Cow::Borrowed(path)
        } else {
            let trimmed: PathBuf = path.components().collect();
            if trimmed.as_os_str().is_empty() {
                Cow::Borrowed(path)
            } else {
                Cow::Owned(trimmed)
            }
        };
        // Every spelling refused by name is still refused (and named as the
        // user wrote it); the identity checks below are what hold.
        protection.check(&path, self.force)?;
        let root = ident::open_root(&path, self.dereference)
            .map_err(|e| RelabelError::Root(LabelError::io(&*path, "open", e.into())))?;
        guard.check_root(&path, &root, self.force)?;
        Ok((path, root))
    }

    /// Relabels several roots, one report for all. Every root is opened
    /// and checked before anything is written: a protected one, or one that
    /// does not resolve, is an error and nothing is labeled; one that
    /// resolves but cannot be opened is a failure in the report, and the
    /// others are relabeled.
    pub fn run_all<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Report, RelabelError> {
        let (protection, guard) = self.protected();
        let mut opened = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            match self.open_checked(path, &protection, &guard) {
                Ok(root) => opened.push(Ok(root)),
                Err(RelabelError::Root(e)) => opened.push(Err((path, e))),
                Err(e) => return Err(e),
            }
        }
        let mut report = Report::default();
        for root in opened {
            match root {
                Ok((path, root)) => report.merge(self.walk_root(&path, root, guard.clone())?.0),
                Err((path, e)) => {
                    report.visited += 1;
                    report.failed += 1;
                    report.failures.push(Failure::new(path, e));
                }
            }
        }
        Ok(report)
    }

    /// [`run`](Self::run), also returning the longest the work queue got.
    fn run_counting(&self, path: &Path) -> Result<(Report, usize), RelabelError> {
        let (protection, guard) = self.protected();
        let (path, root) = self.open_checked(path, &protection, &guard)?;
        self.walk_root(&path, root, guard)
    }

    /// Relabels the tree at the opened and checked `root`.
    fn walk_root(
        &self,
        path: &Path,
        root: OpenRoot,
        guard: Guard,
    ) -> Result<(Report, usize), RelabelError> {
        let target = self.resolve();
        if root.facts.kind != FileType::Directory || !self.recursive {
            return self.run_single(path, &root, &target, guard).map(|r| (r, 0));
        }
        let dir = ident::reopen_dir(root.fd.as_fd())
            .map_err(|e| RelabelError::Root(LabelError::io(path, "openat", e.into())))?;
        if self.api == Api::ProcFd || !xattr::at_calls_available() {
            xattr::proc_fd_usable(dir.as_fd()).map_err(RelabelError::NoSafeXattrCall)?;
        }

        let excludes = self.resolve_excludes(path);
        if excludes.contains(path) {
            return Ok((Report::default(), 0));
        }
        let mut walk = Walk::new(self, target, guard, excludes);
        walk.eager = ident::fd_path(dir.as_fd()).map_or(true, |p| ident::mounts_below(&p));
        let root = Arc::new(DirNode {
            fd: dir,
            path: path.to_path_buf(),
            mount: root.facts.mount,
        });
        {
            let mut q = walk.lock();
            q.tasks.push(Task::Read(Arc::clone(&root)));
            q.pending = 1;
        }
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        if threads <= 1 {
            walk.worker();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| walk.worker());
                }
            });
        }
        // The root last: an interrupted run leaves it for the next one.
        if !walk.stop.load(Ordering::Relaxed) {
            let mut buf = [0u8; xattr::INLINE];
            let mut tally = Tally::default();
            walk.label(
                Loc::Fd(root.fd.as_fd()),
                FileKind::Dir,
                &Gate::Checked,
                &|| root.path.clone(),
                &mut buf,
                &mut tally,
            );
            walk.flush(&mut tally);
        }
        walk.report_progress();
        let peak = walk.lock().peak;
        Ok((walk.into_report(), peak))
    }

    /// The root is not a directory: label it alone, through its fd (by
    /// `/proc/self/fd/N`, which leads to the object the fd holds; for a
    /// symlink opened without following, the link itself).
    fn run_single(
        &self,
        path: &Path,
        root: &OpenRoot,
        target: &Resolved,
        guard: Guard,
    ) -> Result<Report, RelabelError> {
        let via = ident::proc_fd_path(root.fd.as_fd(), &root.facts)
            .map_err(RelabelError::NoSafeXattrCall)?;
        let kind = kind_of(root.facts.kind).unwrap_or(FileKind::File);
        let walk = Walk::new(self, target.clone(), guard, HashSet::new());
        if root.facts.kind == FileType::RegularFile && root.facts.nlink > 1 {
            walk.hardlink(path.to_path_buf());
            if self.skip_hardlinks {
                return Ok(walk.into_report());
            }
        }
        let mut buf = [0u8; xattr::INLINE];
        let mut tally = Tally::default();
        walk.label(
            Loc::Proc(&via),
            kind,
            &Gate::Checked,
            &|| path.to_path_buf(),
            &mut buf,
            &mut tally,
        );
        walk.flush(&mut tally);
        Ok(walk.into_report())
    }

    /// Excluded paths, spelled as the walk spells them (the root as given
    /// joined with the names below it).
    fn resolve_excludes(&self, root: &Path) -> HashSet<PathBuf> {
        let mut out = HashSet::new();
        if self.exclude.is_empty() {
            return out;
        }
        let Ok(root_canon) = std::fs::canonicalize(root) else {
            return out;
        };
        for e in &self.exclude {
            // Resolve the parent only: an excluded symlink is the link.
            let canon = super::protected::real_parent(e).unwrap_or_else(|_| e.clone());
            if let Ok(rel) = canon.strip_prefix(&root_canon) {
                out.insert(root.join(rel));
            }
        }
        out
    }
}

/// [`DEFAULT_FILE_CONTEXT`], parsed.
pub fn default_file_context() -> SecurityContext {
    // A constant that parses; the fallback only keeps clippy's unwrap lint
    // quiet and is never taken.
    DEFAULT_FILE_CONTEXT.parse().unwrap_or_else(|_| {
        SecurityContext::new(
            "system_u",
            "object_r",
            "container_file_t",
            Some(crate::mls::MlsRange::single(Level::s0())),
        )
        .unwrap_or_else(|_| unreachable!("the default file context is valid"))
    })
}

mod engine;
use engine::{kind_of, DirNode, Gate, Loc, Resolved, Tally, Task, Walk};

#[cfg(test)]
mod tests;
