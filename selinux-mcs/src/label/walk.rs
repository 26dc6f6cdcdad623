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
use std::ffi::{CStr, CString, OsStr};
use std::fmt;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
use rustix::io::Errno;

use super::error::{LabelError, RelabelError};
use super::ident::{self, OpenRoot};
use super::protected::{Guard, Protection};
use super::xattr::{self, Api};
use crate::mls::{Level, Limits};
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

/// Counts so far, given to the progress callback after every batch of a
/// directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Entries examined.
    pub seen: u64,
    /// Entries whose label was changed (or, in a dry run, would be).
    pub changed: u64,
    /// Entries that failed.
    pub failed: u64,
    /// Directories done.
    pub dirs: u64,
}

/// One entry that could not be labeled.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub struct Failure {
    /// The entry (the root as given, joined with the names below it).
    pub path: PathBuf,
    /// What went wrong; [`LabelError::kind`] says what kind of failure.
    pub error: LabelError,
}

impl Failure {
    /// A failure of `path`.
    pub fn new(path: impl Into<PathBuf>, error: LabelError) -> Failure {
        Failure {
            path: path.into(),
            error,
        }
    }
}

/// What a relabel did.
///
/// `visited = changed + unchanged + failed`. Entries that vanished during
/// the walk are not counted; excluded paths, mount points that were not
/// entered and hard-linked files left alone by
/// [`skip_hardlinks`](Relabel::skip_hardlinks) are not visited. Serializes
/// (serde) to the stable shape `{"visited": n, "changed": n, "unchanged":
/// n, "failed": n, "failures": [{"path": "...", "error": "..."}],
/// "skipped_mounts": n, "mount_points": [{"path": "..."}], "hardlinked": n,
/// "hardlinks": [{"path": "..."}], "customized": n, "customized_paths":
/// [{"path": "..."}]}`. A path that is not UTF-8 is written
/// escaped, with `"path_escaped": true` beside it (see
/// [`escape`](crate::escape)).
#[derive(Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Entries examined.
    pub visited: u64,
    /// Entries relabeled (in a dry run: that would be).
    pub changed: u64,
    /// Entries that already had their label, or that a custom target left
    /// alone.
    pub unchanged: u64,
    /// Entries that failed.
    pub failed: u64,
    /// The failures, in the order they happened, at most
    /// [`Relabel::max_failures`] of them (`failed` counts them all).
    pub failures: Vec<Failure>,
    /// Whether the walk stopped at the first failure.
    pub stopped: bool,
    /// Mount points inside the tree that were neither labeled nor entered
    /// (directories and files, found by mount id, so a bind mount of the
    /// same file system counts).
    pub skipped_mounts: u64,
    /// Their paths, at most [`Relabel::max_failures`] of them.
    pub mount_points: Vec<PathBuf>,
    /// Regular files with more than one hard link whose label was changed
    /// (in a dry run: would be), or, with
    /// [`skip_hardlinks`](Relabel::skip_hardlinks), that were left alone
    /// instead: their other names may be outside the tree, and share the
    /// label. Files whose label was already right are not counted.
    pub hardlinked: u64,
    /// Their paths, at most [`Relabel::max_failures`] of them.
    pub hardlinks: Vec<PathBuf>,
    /// Entries a restore left alone because their type is customizable
    /// (`restorecon`'s "not reset as customized"); always 0 for a relabel.
    pub customized: u64,
    /// Their paths, at most [`Relabel::max_failures`] of them.
    pub customized_paths: Vec<PathBuf>,
}

impl Report {
    /// Adds another report's counts and failures to this one (for several
    /// roots).
    pub fn merge(&mut self, other: Report) {
        self.visited += other.visited;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.failures.extend(other.failures);
        self.stopped |= other.stopped;
        self.skipped_mounts += other.skipped_mounts;
        self.mount_points.extend(other.mount_points);
        self.hardlinked += other.hardlinked;
        self.hardlinks.extend(other.hardlinks);
        self.customized += other.customized;
        self.customized_paths.extend(other.customized_paths);
    }

    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }
}

impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Failures<'a>(&'a [Failure]);
        impl serde::Serialize for Failures<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for f in self.0 {
                    seq.serialize_element(&FailureJson(f))?;
                }
                seq.end()
            }
        }
        struct FailureJson<'a>(&'a Failure);
        impl serde::Serialize for FailureJson<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let path = crate::escape::Escaped::path(&self.0.path);
                let (text, escaped) = path.json_text();
                let mut st = s.serialize_map(None)?;
                st.serialize_entry("path", &text)?;
                if escaped {
                    st.serialize_entry("path_escaped", &true)?;
                }
                st.serialize_entry("error", &self.0.error.to_string())?;
                st.end()
            }
        }
        struct Paths<'a>(&'a [PathBuf]);
        impl serde::Serialize for Paths<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(
                    self.0
                        .iter()
                        .map(|p| crate::escape::Escaped::path(p).json_fields("path")),
                )
            }
        }
        let mut st = s.serialize_struct("Report", 11)?;
        st.serialize_field("visited", &self.visited)?;
        st.serialize_field("changed", &self.changed)?;
        st.serialize_field("unchanged", &self.unchanged)?;
        st.serialize_field("failed", &self.failed)?;
        st.serialize_field("failures", &Failures(&self.failures))?;
        st.serialize_field("skipped_mounts", &self.skipped_mounts)?;
        st.serialize_field("mount_points", &Paths(&self.mount_points))?;
        st.serialize_field("hardlinked", &self.hardlinked)?;
        st.serialize_field("hardlinks", &Paths(&self.hardlinks))?;
        st.serialize_field("customized", &self.customized)?;
        st.serialize_field("customized_paths", &Paths(&self.customized_paths))?;
        st.end()
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
        self.open_checked(path.as_ref()).map(|_| ())
    }

    /// The root as the walk spells it, opened and checked.
    fn open_checked<'p>(
        &self,
        path: &'p Path,
    ) -> Result<(Cow<'p, Path>, OpenRoot, Guard), RelabelError> {
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
        let protection = match &self.protection {
            Some(p) => Cow::Borrowed(p),
            None => Cow::Owned(Protection::system()),
        };
        // Every spelling refused by name is still refused (and named as the
        // user wrote it); the identity checks below are what hold.
        protection.check(&path, self.force)?;
        let guard = protection.capture();
        let root = ident::open_root(&path, self.dereference)
            .map_err(|e| RelabelError::Root(LabelError::io(&*path, "open", e.into())))?;
        guard.check_root(&path, &root, self.force)?;
        Ok((path, root, guard))
    }

    /// Relabels several roots, one report for all. Every root is opened
    /// and checked before anything is written: a protected one, or one that
    /// does not resolve, is an error and nothing is labeled; one that
    /// resolves but cannot be opened is a failure in the report, and the
    /// others are relabeled.
    pub fn run_all<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Report, RelabelError> {
        let mut opened = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            match self.open_checked(path) {
                Ok(root) => opened.push(Ok(root)),
                Err(RelabelError::Root(e)) => opened.push(Err((path, e))),
                Err(e) => return Err(e),
            }
        }
        let mut report = Report::default();
        for root in opened {
            match root {
                Ok((path, root, guard)) => report.merge(self.walk_root(&path, root, guard)?.0),
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
        let (path, root, guard) = self.open_checked(path)?;
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

#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per walk, never moved in a loop
enum Resolved {
    Fixed {
        ctx: SecurityContext,
        value: Vec<u8>,
    },
    Custom(Arc<LabelFn>),
}

/// An open directory: its fd, its path for reports and custom rules, and
/// the mount it is on.
struct DirNode {
    fd: OwnedFd,
    path: PathBuf,
    mount: u64,
}

enum Task {
    /// A subdirectory to open (relative to its parent's fd), label and read.
    Open { parent: Arc<DirNode>, name: CString },
    /// A directory to go on reading.
    Read(Arc<DirNode>),
}

struct Queue {
    tasks: Vec<Task>,
    /// Tasks queued plus tasks being worked on; the walk ends at 0.
    pending: usize,
    /// The most tasks ever queued at once.
    peak: usize,
}

/// A worker's counts not yet added to the shared ones, and what it has
/// learnt about the tree.
#[derive(Default)]
struct Tally {
    changed: u64,
    unchanged: u64,
    /// The last entry had no label: try `XATTR_CREATE` before reading (one
    /// call instead of two on a fresh tree; `EEXIST` means "read first").
    create_first: bool,
}

#[derive(Default)]
struct Counts {
    visited: AtomicU64,
    changed: AtomicU64,
    unchanged: AtomicU64,
    failed: AtomicU64,
    dirs: AtomicU64,
}

struct Walk<'a> {
    cfg: &'a Relabel,
    target: Resolved,
    guard: Guard,
    excludes: HashSet<PathBuf>,
    /// Something is mounted in the tree: look at every entry.
    eager: bool,
    /// Mount points and hard links met (rare: one lock each).
    seen: Mutex<Seen>,
    queue: Mutex<Queue>,
    cond: Condvar,
    counts: Counts,
    failures: Mutex<Vec<Failure>>,
    stop: AtomicBool,
}

#[derive(Default)]
struct Seen {
    skipped_mounts: u64,
    mount_points: Vec<PathBuf>,
    hardlinked: u64,
    hardlinks: Vec<PathBuf>,
}

/// What must be checked before a label is written.
enum Gate<'a> {
    /// Nothing more: a directory checked when it was opened, or the root.
    Checked,
    /// `name` in `node`, with its facts if they were looked up already.
    Entry {
        node: &'a DirNode,
        name: &'a CStr,
        /// What the directory listing said it is (when `facts` is `None`).
        kind: FileKind,
        facts: Option<ident::Facts>,
    },
}

/// Where an entry is.
#[derive(Clone, Copy)]
enum Loc<'a> {
    /// An open directory.
    Fd(BorrowedFd<'a>),
    /// `name` in the directory `dirfd`.
    At(BorrowedFd<'a>, &'a CStr),
    /// `/proc/self/fd/N` of an `O_PATH` fd (a root that is not a
    /// directory), followed to the object the fd holds and no further.
    Proc(&'a CStr),
}

impl Loc<'_> {
    fn read(self, buf: &mut [u8], api: Api) -> Result<usize, (Errno, &'static str)> {
        match self {
            Loc::Fd(fd) => xattr::fget(fd, buf).map_err(|e| (e, "fgetxattr")),
            Loc::At(dirfd, name) => xattr::getxattrat(dirfd, name, buf, api),
            Loc::Proc(p) => xattr::get_follow(p, buf).map_err(|e| (e, "getxattr")),
        }
    }

    /// Writes `value`; with `create_only`, only if there is no label yet
    /// (`XATTR_CREATE`: `EEXIST` otherwise, and nothing is written).
    fn write(self, value: &[u8], api: Api, create_only: bool) -> Result<(), (Errno, &'static str)> {
        let flags = if create_only {
            rustix::fs::XattrFlags::CREATE
        } else {
            rustix::fs::XattrFlags::empty()
        };
        match self {
            Loc::Fd(fd) => {
                rustix::fs::fsetxattr(fd, xattr::NAME, value, flags).map_err(|e| (e, "fsetxattr"))
            }
            Loc::At(dirfd, name) => xattr::setxattrat(dirfd, name, value, flags, api),
            Loc::Proc(p) => {
                rustix::fs::setxattr(p, xattr::NAME, value, flags).map_err(|e| (e, "setxattr"))
            }
        }
    }
}

/// Whether a stored value is `value` (which ends in one NUL), with or
/// without its NUL.
fn same_bytes(stored: &[u8], value: &[u8]) -> bool {
    let strip = |b: &[u8]| b.strip_suffix(b"\0").map_or(b.len(), <[u8]>::len);
    stored[..strip(stored)] == value[..strip(value)]
}

fn kind_of(ft: FileType) -> Option<FileKind> {
    Some(match ft {
        FileType::RegularFile => FileKind::File,
        FileType::Directory => FileKind::Dir,
        FileType::Symlink => FileKind::Symlink,
        FileType::CharacterDevice => FileKind::Char,
        FileType::BlockDevice => FileKind::Block,
        FileType::Fifo => FileKind::Fifo,
        FileType::Socket => FileKind::Socket,
        _ => return None,
    })
}

fn child_path(parent: &Path, name: &CStr) -> PathBuf {
    parent.join(OsStr::from_bytes(name.to_bytes()))
}

/// A worker's buffers, reused for every directory.
struct Scratch {
    dents: Vec<MaybeUninit<u8>>,
    xattr: [u8; xattr::INLINE],
    tally: Tally,
    subdirs: Vec<CString>,
    out: Vec<Task>,
    batch: Batch,
}

/// Entries (not directories) read from one or more directories, to be
/// labeled in inode-number order.
///
/// Labeling an entry costs little CPU: its time goes to the kernel's cache
/// misses on the entry's dentry, inode and on-disk inode (on ext4, the
/// inode table block that holds the xattrs). `getdents64` returns names in
/// hash order, which visits those at random; and files created in several
/// directories at once (the benchmark creates them round-robin) interleave
/// their inodes, so that one directory's files lie on different inode table
/// blocks. In inode order across a few dozen directories, consecutive
/// entries share blocks and cache lines. (GNU `rm` sorts by inode for the
/// same reason.)
///
/// A batch is bounded ([`BATCH_ENTRIES`], [`BATCH_DIRS`] open directories),
/// and a worker labels it before it waits for work, so the walk still ends
/// only when everything is labeled.
#[derive(Default)]
struct Batch {
    /// The directories the entries are in.
    dirs: Vec<Arc<DirNode>>,
    /// NUL-terminated names, back to back.
    names: Vec<u8>,
    /// Inode number, directory (index in `dirs`), start of the name in
    /// `names`, and type.
    entries: Vec<(u64, u32, u32, FileType)>,
}

/// Entries a batch holds before it is labeled.
const BATCH_ENTRIES: usize = 4096;
/// Directories (each an open fd) a batch holds before it is labeled.
const BATCH_DIRS: usize = 64;

impl Batch {
    /// Makes `node` the directory of the entries pushed next.
    fn enter(&mut self, node: &Arc<DirNode>) {
        if !self.dirs.last().is_some_and(|d| Arc::ptr_eq(d, node)) {
            self.dirs.push(Arc::clone(node));
        }
    }

    fn push(&mut self, ino: u64, name: &CStr, ft: FileType) {
        let dir = self.dirs.len().saturating_sub(1) as u32;
        self.entries.push((ino, dir, self.names.len() as u32, ft));
        self.names.extend_from_slice(name.to_bytes_with_nul());
    }

    fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_ENTRIES || self.dirs.len() >= BATCH_DIRS
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.dirs.is_empty()
    }
}

impl<'a> Walk<'a> {
    fn new(
        cfg: &'a Relabel,
        target: Resolved,
        guard: Guard,
        excludes: HashSet<PathBuf>,
    ) -> Walk<'a> {
        Walk {
            cfg,
            target,
            guard,
            excludes,
            eager: true,
            seen: Mutex::new(Seen::default()),
            queue: Mutex::new(Queue {
                tasks: Vec::new(),
                pending: 0,
                peak: 0,
            }),
            cond: Condvar::new(),
            counts: Counts::default(),
            failures: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        }
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn skipped_mount(&self, path: PathBuf) {
        let mut seen = self.seen();
        seen.skipped_mounts += 1;
        if seen.mount_points.len() < self.cfg.max_failures {
            seen.mount_points.push(path);
        }
    }

    fn hardlink(&self, path: PathBuf) {
        let mut seen = self.seen();
        seen.hardlinked += 1;
        if seen.hardlinks.len() < self.cfg.max_failures {
            seen.hardlinks.push(path);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A worker that panicked cannot leave the queue inconsistent (every
        // change is a single push or pop), so a poisoned lock is still fine.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn worker(&self) {
        let mut scratch = Scratch {
            dents: vec![MaybeUninit::uninit(); DENTS],
            xattr: [0u8; xattr::INLINE],
            tally: Tally::default(),
            subdirs: Vec::new(),
            out: Vec::new(),
            batch: Batch::default(),
        };
        loop {
            let task = {
                let mut q = self.lock();
                loop {
                    if let Some(t) = q.tasks.pop() {
                        break Some(t);
                    }
                    if !scratch.batch.is_empty() {
                        // Nothing queued: label what this worker holds
                        // before waiting (or ending).
                        break None;
                    }
                    if q.pending == 0 {
                        return;
                    }
                    q = self.cond.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let task_was_queued = task.is_some();
            let mut panicked = None;
            if task.is_none() || !self.stop.load(Ordering::Relaxed) {
                // A panic (in a custom rule or a callback) must not leave the
                // other workers waiting for this task forever: stop the walk,
                // finish the bookkeeping, then let the panic go on.
                let run = std::panic::AssertUnwindSafe(|| match task {
                    Some(Task::Open { parent, name }) => self.open(parent, &name, &mut scratch),
                    Some(Task::Read(node)) => self.read(node, &mut scratch),
                    None => {
                        let Scratch {
                            batch,
                            xattr,
                            tally,
                            ..
                        } = &mut scratch;
                        self.label_batch(batch, xattr, tally);
                        self.flush(tally);
                        self.report_progress();
                    }
                });
                if let Err(payload) = std::panic::catch_unwind(run) {
                    self.stop.store(true, Ordering::Relaxed);
                    scratch.out.clear();
                    panicked = Some(payload);
                }
            }
            if panicked.is_some() {
                scratch.batch = Batch::default();
            }
            let added = scratch.out.len();
            // A batch flush was no queued task.
            let finished_tasks = usize::from(task_was_queued);
            let mut q = self.lock();
            q.tasks.append(&mut scratch.out);
            q.pending = q.pending + added - finished_tasks;
            q.peak = q.peak.max(q.tasks.len());
            let done = q.pending == 0;
            drop(q);
            if done || added > 1 {
                self.cond.notify_all();
            } else if added == 1 {
                self.cond.notify_one();
            }
            if let Some(payload) = panicked {
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// Opens, labels and reads the subdirectory `name` of `parent`.
    fn open(&self, parent: Arc<DirNode>, name: &CStr, scratch: &mut Scratch) {
        let path = child_path(&parent.path, name);
        if !self.excludes.is_empty() && self.excludes.contains(&path) {
            return;
        }
        let fd = match rustix::fs::openat(
            &parent.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return, // vanished
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                // No longer a directory (swapped for a symlink or a file):
                // label what is there now, never following it.
                self.entry(
                    &parent,
                    name,
                    FileType::Unknown,
                    &mut scratch.xattr,
                    &mut scratch.tally,
                );
                self.flush(&mut scratch.tally);
                return;
            }
            Err(e) => {
                let err = LabelError::io(&path, "openat", e.into());
                return self.fail(path, err);
            }
        };
        let facts = match ident::facts_fd(fd.as_fd()) {
            Ok(f) => f,
            Err(e) => return self.fail(path.clone(), LabelError::io(&path, "statx", e.into())),
        };
        if facts.mount != parent.mount {
            if self.cfg.one_file_system {
                return self.skipped_mount(path);
            }
            if let Some(fs) = ident::pseudo_fs(fd.as_fd(), facts.mount) {
                let why = std::io::Error::other(format!("a {fs} file system, not entered"));
                return self.fail(path.clone(), LabelError::io(&path, "fstatfs", why));
            }
        }
        if let Some(matched) = self.guard.inside(&facts.ident, self.cfg.force) {
            let matched = matched.to_path_buf();
            return self.fail(path.clone(), LabelError::Protected { path, matched });
        }
        drop(parent);
        self.label(
            Loc::Fd(fd.as_fd()),
            FileKind::Dir,
            &Gate::Checked,
            &|| path.clone(),
            &mut scratch.xattr,
            &mut scratch.tally,
        );
        let mount = facts.mount;
        self.read(Arc::new(DirNode { fd, path, mount }), scratch);
    }

    /// Reads `node` a batch at a time, labeling what is not a directory and
    /// queueing the subdirectories.
    fn read(&self, node: Arc<DirNode>, scratch: &mut Scratch) {
        let Scratch {
            dents,
            xattr,
            tally,
            subdirs,
            out,
            batch,
        } = scratch;
        let mut finished = true;
        batch.enter(&node);
        let mut dir = RawDir::new(node.fd.as_fd(), dents);
        while let Some(entry) = dir.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(Errno::NOENT) => break, // the directory was removed
                Err(e) => {
                    self.fail(
                        node.path.clone(),
                        LabelError::io(&node.path, "getdents64", e.into()),
                    );
                    break;
                }
            };
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            let mut ft = entry.file_type();
            if ft == FileType::Unknown {
                // No d_type from this filesystem: ask, without following.
                match rustix::fs::statat(&node.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => ft = FileType::from_raw_mode(st.st_mode),
                    Err(Errno::NOENT) => continue,
                    Err(e) => {
                        let path = child_path(&node.path, name);
                        self.fail(path.clone(), LabelError::io(&path, "fstatat", e.into()));
                        continue;
                    }
                }
            }
            if ft == FileType::Directory {
                subdirs.push(name.to_owned());
            } else {
                batch.push(entry.ino(), name, ft);
            }
            if dir.is_buffer_empty() {
                if batch.is_full() {
                    self.label_batch(batch, xattr, tally);
                    batch.enter(&node);
                }
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                if subdirs.len() >= SPLIT {
                    finished = false;
                    break;
                }
            }
        }
        // LIFO: the subdirectories are popped before the rest of this one.
        if !finished {
            out.push(Task::Read(Arc::clone(&node)));
        }
        out.extend(subdirs.drain(..).rev().map(|name| Task::Open {
            parent: Arc::clone(&node),
            name,
        }));
        self.flush(tally);
        self.counts
            .dirs
            .fetch_add(u64::from(finished), Ordering::Relaxed);
        self.report_progress();
    }

    /// Labels the entries of `batch` in inode order, and empties it.
    fn label_batch(&self, batch: &mut Batch, xbuf: &mut [u8; xattr::INLINE], tally: &mut Tally) {
        batch.entries.sort_unstable_by_key(|e| e.0);
        for &(_, dir, at, ft) in &batch.entries {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let (Some(node), Some(name)) = (
                batch.dirs.get(dir as usize),
                batch
                    .names
                    .get(at as usize..)
                    .and_then(|n| CStr::from_bytes_until_nul(n).ok()),
            ) else {
                continue; // every entry was pushed with its directory and NUL
            };
            self.entry(node, name, ft, xbuf, tally);
        }
        batch.entries.clear();
        batch.names.clear();
        batch.dirs.clear();
    }

    /// Labels the non-directory entry `name` of `node`, never following it.
    /// `ft` unknown means "look": after a swap it may be anything, even a
    /// directory again, which is then labeled but not entered.
    fn entry(
        &self,
        node: &Arc<DirNode>,
        name: &CStr,
        ft: FileType,
        xbuf: &mut [u8; xattr::INLINE],
        tally: &mut Tally,
    ) {
        let path = || child_path(&node.path, name);
        if !self.excludes.is_empty() && self.excludes.contains(&path()) {
            return;
        }
        // Mount points and hard links are told apart by a statx. It is made
        // for every entry when something is mounted in the tree (so that
        // mount points are reported even when their label is right), and
        // otherwise only before a write (see `admit`): unchanged entries
        // then cost one call, as before.
        let facts = match kind_of(ft) {
            Some(_) if !self.eager => None,
            _ => match self.look(node, name, &path) {
                Some(f) => Some(f),
                None => return,
            },
        };
        let kind = match &facts {
            Some(f) => kind_of(f.kind).unwrap_or(FileKind::File),
            None => kind_of(ft).unwrap_or(FileKind::File),
        };
        let gate = Gate::Entry {
            node,
            name,
            kind,
            facts,
        };
        // A directory seen here (d_type unknown, or a swap back) is labeled
        // in place but not entered: entering it is the job of an Open task,
        // and re-queueing could loop on a swapping entry.
        self.label(
            Loc::At(node.fd.as_fd(), name),
            kind,
            &gate,
            &path,
            xbuf,
            tally,
        );
    }

    /// The entry's facts, after its mount check; `None` when it vanished or
    /// is a mount point that must be left alone (then recorded).
    fn look(
        &self,
        node: &DirNode,
        name: &CStr,
        path: &dyn Fn() -> PathBuf,
    ) -> Option<ident::Facts> {
        let facts = match ident::facts_at(node.fd.as_fd(), name) {
            Ok(f) => f,
            Err(Errno::NOENT) => return None,
            Err(e) => {
                self.fail(path(), LabelError::io(path(), "statx", e.into()));
                return None;
            }
        };
        if facts.mount != node.mount {
            if self.cfg.one_file_system {
                self.skipped_mount(path());
                return None;
            }
            if let Some(fs) = ident::open_path_at(node.fd.as_fd(), name, false)
                .ok()
                .and_then(|fd| ident::pseudo_fs(fd.as_fd(), facts.mount))
            {
                let why = std::io::Error::other(format!("a {fs} file system, not labeled"));
                self.fail(path(), LabelError::io(path(), "fstatfs", why));
                return None;
            }
        }
        Some(facts)
    }

    /// Whether a label may be written at the entry behind `gate`: not a
    /// mount point (unless crossing mounts), not a protected object, and not
    /// a hard-linked file when those are skipped (which is then recorded).
    /// `Some(true)` for a hard-linked file that may be written: the caller
    /// records it once the write is done.
    fn admit(&self, gate: &Gate<'_>, path: &dyn Fn() -> PathBuf) -> Option<bool> {
        let Gate::Entry {
            node,
            name,
            kind,
            facts,
        } = gate
        else {
            return Some(false); // Gate::Checked: checked when opened
        };
        let facts = match facts {
            Some(f) => *f,
            // Nothing was mounted below the root when the walk started, and
            // only regular files count as hard links: other kinds need no
            // statx (a mount made since on a symlink, a fifo, ... is the
            // documented gap).
            None if *kind != FileKind::File => return Some(false),
            None => self.look(node, name, path)?,
        };
        if facts.nlink <= 1 || facts.kind != FileType::RegularFile {
            return Some(false);
        }
        if let Some(matched) = self.guard.inside(&facts.ident, self.cfg.force) {
            let matched = matched.to_path_buf();
            let err = LabelError::Protected {
                path: path(),
                matched,
            };
            self.fail(path(), err);
            return None;
        }
        if self.cfg.skip_hardlinks {
            self.hardlink(path());
            return None;
        }
        Some(true)
    }

    /// Reads the label at `loc`, decides, writes if it differs, and counts.
    fn label(
        &self,
        loc: Loc<'_>,
        kind: FileKind,
        gate: &Gate<'_>,
        path: &dyn Fn() -> PathBuf,
        xbuf: &mut [u8; xattr::INLINE],
        tally: &mut Tally,
    ) {
        let api = self.cfg.api;
        if let (true, false, Resolved::Fixed { ctx, value }) =
            (tally.create_first, self.cfg.dry_run, &self.target)
        {
            let Some(hardlinked) = self.admit(gate, path) else {
                return;
            };
            // Writes only where there is no label, so this still writes
            // only what differs. Any error (a label already there, a
            // read-only filesystem whose labels may already be right, ...)
            // sends the entry down the read-first path, which decides.
            match loc.write(value, api, true) {
                Ok(()) => {
                    if hardlinked {
                        self.hardlink(path());
                    }
                    tally.changed += 1;
                    if let Some(f) = &self.cfg.on_change {
                        f(&path(), ctx);
                    }
                    return;
                }
                Err((Errno::NOENT, _)) => return,
                Err(_) => tally.create_first = false,
            }
        }
        let current: Option<Cow<'_, [u8]>> = match loc.read(xbuf, api) {
            Ok(n) => Some(Cow::Borrowed(&xbuf[..n])),
            Err((Errno::NODATA, _)) => {
                tally.create_first = true;
                None
            }
            Err((Errno::NOENT, _)) => return, // vanished
            Err((Errno::RANGE, call)) => {
                match xattr::read_value(|b| loc.read(b, api).map_err(|e| e.0)) {
                    Ok(v) => Some(Cow::Owned(v)),
                    Err(Errno::NODATA) => None,
                    Err(Errno::NOENT) => return,
                    Err(e) => return self.fail(path(), LabelError::io(path(), call, e.into())),
                }
            }
            Err((e, call)) => return self.fail(path(), LabelError::io(path(), call, e.into())),
        };
        let parse = |raw: &[u8]| SecurityContext::from_bytes_with(raw, &Limits::default()).ok();
        let (value, new): (Cow<'_, [u8]>, Cow<'_, SecurityContext>) = match &self.target {
            Resolved::Fixed { ctx, value } => {
                let same = current
                    .as_deref()
                    .is_some_and(|cur| same_bytes(cur, value) || parse(cur).as_ref() == Some(ctx));
                if same {
                    tally.unchanged += 1;
                    return;
                }
                (Cow::Borrowed(value.as_slice()), Cow::Borrowed(ctx))
            }
            Resolved::Custom(f) => {
                let cur = match current.as_deref() {
                    None => None,
                    Some(raw) => match SecurityContext::from_bytes_with(raw, &Limits::default()) {
                        Ok(ctx) => Some(ctx),
                        Err(source) if self.cfg.keep_invalid => {
                            let path = path();
                            let raw = raw.to_vec();
                            let err = LabelError::Invalid {
                                path: path.clone(),
                                raw,
                                source,
                            };
                            return self.fail(path, err);
                        }
                        Err(_) => None,
                    },
                };
                match f(&path(), kind, cur.as_ref()) {
                    Ok(Some(new)) if Some(&new) != cur.as_ref() => {
                        (Cow::Owned(new.to_xattr_value()), Cow::Owned(new))
                    }
                    Ok(_) => {
                        tally.unchanged += 1;
                        return;
                    }
                    Err(source) => {
                        let path = path();
                        let err = LabelError::Rule {
                            path: path.clone(),
                            source,
                        };
                        return self.fail(path, err);
                    }
                }
            }
        };
        let Some(hardlinked) = self.admit(gate, path) else {
            return;
        };
        if !self.cfg.dry_run {
            match loc.write(&value, api, false) {
                Ok(()) => {}
                Err((Errno::NOENT, _)) => return,
                Err((e, call)) => return self.fail(path(), LabelError::io(path(), call, e.into())),
            }
        }
        if hardlinked {
            self.hardlink(path());
        }
        tally.changed += 1;
        if let Some(f) = &self.cfg.on_change {
            f(&path(), &new);
        }
    }

    /// Adds a worker's counts to the shared ones (once per batch, not per
    /// entry, so that workers do not fight over the counters' cache line).
    fn flush(&self, tally: &mut Tally) {
        let c = &self.counts;
        c.changed.fetch_add(tally.changed, Ordering::Relaxed);
        c.unchanged.fetch_add(tally.unchanged, Ordering::Relaxed);
        c.visited
            .fetch_add(tally.changed + tally.unchanged, Ordering::Relaxed);
        tally.changed = 0;
        tally.unchanged = 0;
    }

    fn fail(&self, path: PathBuf, error: LabelError) {
        self.counts.failed.fetch_add(1, Ordering::Relaxed);
        self.counts.visited.fetch_add(1, Ordering::Relaxed);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() < self.cfg.max_failures {
            failures.push(Failure { path, error });
        }
        drop(failures);
        if self.cfg.stop_on_first_error {
            self.stop.store(true, Ordering::Relaxed);
        }
    }

    fn report_progress(&self) {
        if let Some(f) = &self.cfg.progress {
            let c = &self.counts;
            f(&Progress {
                seen: c.visited.load(Ordering::Relaxed),
                changed: c.changed.load(Ordering::Relaxed),
                failed: c.failed.load(Ordering::Relaxed),
                dirs: c.dirs.load(Ordering::Relaxed),
            });
        }
    }

    fn into_report(self) -> Report {
        let c = &self.counts;
        let seen = self.seen.into_inner().unwrap_or_else(|e| e.into_inner());
        Report {
            skipped_mounts: seen.skipped_mounts,
            mount_points: seen.mount_points,
            hardlinked: seen.hardlinked,
            hardlinks: seen.hardlinks,
            customized: 0,
            customized_paths: Vec::new(),
            visited: c.visited.load(Ordering::Relaxed),
            changed: c.changed.load(Ordering::Relaxed),
            unchanged: c.unchanged.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            stopped: self.stop.load(Ordering::Relaxed),
            failures: self
                .failures
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xattrs_work(dir: &Path) -> bool {
        let probe = dir.join(".probe");
        std::fs::write(&probe, "").unwrap();
        let ok = match super::super::set(&probe, &DEFAULT_FILE_CONTEXT.parse().unwrap()) {
            Ok(()) => true,
            Err(e) if std::env::var("SELINUX_MCS_REQUIRE_XATTR").is_ok_and(|v| v == "1") => {
                panic!("security.selinux xattrs are required: {e}")
            }
            Err(e) => {
                eprintln!("skipping: {e}");
                false
            }
        };
        std::fs::remove_file(&probe).unwrap();
        ok
    }

    fn relabel(target: Target) -> Relabel {
        let mut r = Relabel::new(target);
        r.protection(Protection::with_homes(Vec::<PathBuf>::new()));
        r
    }

    #[test]
    fn same_bytes_ignores_one_trailing_nul() {
        assert!(same_bytes(b"u:r:t:s0\0", b"u:r:t:s0\0"));
        assert!(same_bytes(b"u:r:t:s0", b"u:r:t:s0\0"));
        assert!(!same_bytes(b"u:r:t:s0:c1", b"u:r:t:s0\0"));
        assert!(!same_bytes(b"", b"u:r:t:s0\0"));
    }

    #[test]
    fn the_queue_stays_small_in_a_wide_directory() {
        let tmp = tempfile::tempdir().unwrap();
        if !xattrs_work(tmp.path()) {
            return;
        }
        let root = tmp.path().join("wide");
        for i in 0..2000 {
            std::fs::create_dir_all(root.join(format!("d{i}"))).unwrap();
        }
        let (report, peak) = relabel(Target::Shared)
            .threads(1)
            .dry_run(true)
            .run_counting(&root)
            .unwrap();
        assert_eq!(report.visited, 2001);
        // At most one getdents buffer of subdirectories (and the directory
        // set aside) at a time, not all 2000.
        assert!(peak <= DENTS / 24 + 1, "peak queue {peak}");
    }

    /// Entries are labeled in batches across directories: a tree with more
    /// directories than a batch holds, and a directory with more entries
    /// than a batch holds, are labeled whole, on one thread and on several.
    #[test]
    fn batches_across_directories_label_everything() {
        let tmp = tempfile::tempdir().unwrap();
        if !xattrs_work(tmp.path()) {
            return;
        }
        let root = tmp.path().join("tree");
        for d in 0..(BATCH_DIRS * 3) {
            let dir = root.join(format!("d{d}"));
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..3 {
                std::fs::write(dir.join(format!("f{f}")), "").unwrap();
            }
        }
        let wide = root.join("wide");
        std::fs::create_dir_all(&wide).unwrap();
        for f in 0..(BATCH_ENTRIES + 500) {
            std::fs::write(wide.join(format!("f{f}")), "").unwrap();
        }
        let total = 1 + BATCH_DIRS * 3 * 4 + 1 + BATCH_ENTRIES + 500;
        for (threads, level) in [(1, "s0:c1,c2"), (3, "s0:c3,c4")] {
            let level: crate::mls::Level = level.parse().unwrap();
            let report = relabel(Target::Private(level))
                .threads(threads)
                .run(&root)
                .unwrap();
            assert_eq!(report.failed, 0, "{:?}", report.failures);
            assert_eq!(report.visited as usize, total);
            assert_eq!(report.changed as usize, total);
            let again = relabel(Target::Private(level))
                .threads(threads)
                .run(&root)
                .unwrap();
            assert_eq!((again.changed, again.unchanged as usize), (0, total));
            let last = wide.join(format!("f{}", BATCH_ENTRIES + 499));
            let label = super::super::get(&last).unwrap();
            assert_eq!(label.level(), Some(&level));
        }
    }

    #[test]
    fn equivalent_spellings_and_long_labels() {
        let tmp = tempfile::tempdir().unwrap();
        if !xattrs_work(tmp.path()) {
            return;
        }
        let root = tmp.path().join("t");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("f"), "").unwrap();
        // Stored without the NUL and in a non-canonical order: the same
        // context, so nothing is written.
        for p in [root.join("f"), root.clone()] {
            rustix::fs::lsetxattr(
                &p,
                "security.selinux",
                b"system_u:object_r:container_file_t:s0:c5,c2",
                rustix::fs::XattrFlags::empty(),
            )
            .unwrap();
        }
        let report = relabel(Target::Private("s0:c2,c5".parse().unwrap()))
            .run(&root)
            .unwrap();
        assert_eq!((report.changed, report.unchanged), (0, 2));

        // A label longer than the inline buffer is read whole.
        let long_type = "t".repeat(400);
        let long: SecurityContext = format!("u:r:{long_type}:s0").parse().unwrap();
        super::super::set(root.join("f"), &long).unwrap();
        let report = relabel(Target::Context(long.clone())).run(&root).unwrap();
        assert_eq!((report.changed, report.unchanged), (1, 1));
        assert_eq!(super::super::get(root.join("f")).unwrap(), long);
        let seen = Arc::new(Mutex::new(None));
        let s = Arc::clone(&seen);
        relabel(Target::Custom(Arc::new(move |p, _, cur| {
            if p.ends_with("f") {
                *s.lock().unwrap() = cur.cloned();
            }
            Ok(None)
        })))
        .run(&root)
        .unwrap();
        assert_eq!(seen.lock().unwrap().as_ref(), Some(&long));
    }

    #[test]
    fn a_symlink_root_is_followed_unless_told_not_to() {
        let tmp = tempfile::tempdir().unwrap();
        if !xattrs_work(tmp.path()) {
            return;
        }
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("f"), "").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut spelled = link.clone().into_os_string();
        spelled.push("/");
        // Not dereferenced: the link itself, even spelled `link/`.
        for p in [link.as_os_str(), spelled.as_os_str()] {
            let report = relabel(Target::Shared).dereference(false).run(p).unwrap();
            assert_eq!(report.visited, 1);
            assert!(super::super::get(real.join("f")).is_err());
            assert!(super::super::get(&link).is_ok());
        }
        // Dereferenced (the default): the directory it points to, walked.
        let report = relabel(Target::Private("s0:c1,c2".parse().unwrap()))
            .run(&link)
            .unwrap();
        assert_eq!((report.visited, report.changed), (2, 2));
        let want = "system_u:object_r:container_file_t:s0:c1,c2";
        assert_eq!(super::super::get(real.join("f")).unwrap().to_string(), want);
        assert_eq!(super::super::get(&real).unwrap().to_string(), want);
        // The link keeps the label it had.
        assert_eq!(
            super::super::get(&link).unwrap().to_string(),
            "system_u:object_r:container_file_t:s0"
        );
    }

    #[test]
    fn a_panicking_rule_does_not_hang_the_walk() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::create_dir_all(tmp.path().join(format!("d{i}/e"))).unwrap();
        }
        for threads in [1, 3] {
            let result = std::panic::catch_unwind(|| {
                relabel(Target::Custom(Arc::new(|p, _, _| {
                    if p.ends_with("e") {
                        panic!("rule failed");
                    }
                    Ok(None)
                })))
                .threads(threads)
                .dry_run(true)
                .run(tmp.path())
            });
            assert!(result.is_err(), "the panic reaches the caller");
        }
    }

    #[test]
    fn entries_that_vanish_are_not_failures() {
        let tmp = tempfile::tempdir().unwrap();
        if !xattrs_work(tmp.path()) {
            return;
        }
        let root = tmp.path().join("v");
        for i in 0..50 {
            std::fs::create_dir_all(root.join(format!("d{i}"))).unwrap();
            for j in 0..20 {
                std::fs::write(root.join(format!("d{i}/f{j}")), "").unwrap();
            }
        }
        let r2 = root.clone();
        let remover = std::thread::spawn(move || {
            for i in (0..50).rev() {
                let _ = std::fs::remove_dir_all(r2.join(format!("d{i}")));
            }
        });
        for _ in 0..20 {
            let report = relabel(Target::Shared).threads(2).run(&root).unwrap();
            assert_eq!(report.failures, vec![]);
        }
        remover.join().unwrap();
    }
}
