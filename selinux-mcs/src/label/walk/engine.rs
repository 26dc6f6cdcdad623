//! The relabel walker's engine: the work queue, the workers, batches of
//! entries in inode order, and the per-entry decision and write. The
//! builder and the roots are in the parent module.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::{CStr, CString, OsStr};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};
use rustix::io::Errno;

use super::super::error::LabelError;
use super::super::ident;
use super::super::protected::Guard;
use super::super::report::{Failure, Progress, Report};
use super::super::xattr::{self, Api};
use super::{LabelFn, Relabel, DENTS, SPLIT};
use crate::mls::Limits;
use crate::{FileKind, SecurityContext};

#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // one per walk, never moved in a loop
pub(super) enum Resolved {
    Fixed {
        ctx: SecurityContext,
        value: Vec<u8>,
    },
    Custom(Arc<LabelFn>),
}

/// An open directory: its fd, its path for reports and custom rules, and
/// the mount it is on.
pub(super) struct DirNode {
    pub(super) fd: OwnedFd,
    pub(super) path: PathBuf,
    pub(super) mount: u64,
}

pub(super) enum Task {
    /// A subdirectory to open (relative to its parent's fd), label and read.
    Open { parent: Arc<DirNode>, name: CString },
    /// A directory to go on reading.
    Read(Arc<DirNode>),
}

pub(super) struct Queue {
    pub(super) tasks: Vec<Task>,
    /// Tasks queued plus tasks being worked on; the walk ends at 0.
    pub(super) pending: usize,
    /// The most tasks ever queued at once.
    pub(super) peak: usize,
}

/// A worker's counts not yet added to the shared ones, and what it has
/// learnt about the tree.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) changed: u64,
    pub(super) unchanged: u64,
    /// The last entry had no label: try `XATTR_CREATE` before reading (one
    /// call instead of two on a fresh tree; `EEXIST` means "read first").
    pub(super) create_first: bool,
}

#[derive(Default)]
pub(super) struct Counts {
    pub(super) visited: AtomicU64,
    pub(super) changed: AtomicU64,
    pub(super) unchanged: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) dirs: AtomicU64,
}

pub(super) struct Walk<'a> {
    pub(super) cfg: &'a Relabel,
    pub(super) target: Resolved,
    pub(super) guard: Guard,
    pub(super) excludes: HashSet<PathBuf>,
    /// Something is mounted in the tree: look at every entry.
    pub(super) eager: bool,
    /// Mount points and hard links met (rare: one lock each).
    pub(super) seen: Mutex<Seen>,
    pub(super) queue: Mutex<Queue>,
    pub(super) cond: Condvar,
    pub(super) counts: Counts,
    pub(super) failures: Mutex<Vec<Failure>>,
    pub(super) stop: AtomicBool,
}

#[derive(Default)]
pub(super) struct Seen {
    pub(super) skipped_mounts: u64,
    pub(super) mount_points: Vec<PathBuf>,
    pub(super) hardlinked: u64,
    pub(super) hardlinks: Vec<PathBuf>,
}

/// What must be checked before a label is written.
pub(super) enum Gate<'a> {
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
pub(super) enum Loc<'a> {
    /// An open directory.
    Fd(BorrowedFd<'a>),
    /// `name` in the directory `dirfd`.
    At(BorrowedFd<'a>, &'a CStr),
    /// `/proc/self/fd/N` of an `O_PATH` fd (a root that is not a
    /// directory), followed to the object the fd holds and no further.
    Proc(&'a CStr),
}

impl Loc<'_> {
    pub(super) fn read(self, buf: &mut [u8], api: Api) -> Result<usize, (Errno, &'static str)> {
        match self {
            Loc::Fd(fd) => xattr::fget(fd, buf).map_err(|e| (e, "fgetxattr")),
            Loc::At(dirfd, name) => xattr::getxattrat(dirfd, name, buf, api),
            Loc::Proc(p) => xattr::get_follow(p, buf).map_err(|e| (e, "getxattr")),
        }
    }

    /// Writes `value`; with `create_only`, only if there is no label yet
    /// (`XATTR_CREATE`: `EEXIST` otherwise, and nothing is written).
    pub(super) fn write(
        self,
        value: &[u8],
        api: Api,
        create_only: bool,
    ) -> Result<(), (Errno, &'static str)> {
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
pub(super) fn same_bytes(stored: &[u8], value: &[u8]) -> bool {
    let strip = |b: &[u8]| b.strip_suffix(b"\0").map_or(b.len(), <[u8]>::len);
    stored[..strip(stored)] == value[..strip(value)]
}

pub(super) use super::super::ident::file_kind as kind_of;

pub(super) fn child_path(parent: &Path, name: &CStr) -> PathBuf {
    parent.join(OsStr::from_bytes(name.to_bytes()))
}

/// A worker's buffers, reused for every directory.
pub(super) struct Scratch {
    pub(super) dents: Vec<MaybeUninit<u8>>,
    pub(super) xattr: [u8; xattr::INLINE],
    pub(super) tally: Tally,
    pub(super) subdirs: Vec<CString>,
    pub(super) out: Vec<Task>,
    pub(super) batch: Batch,
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
pub(super) struct Batch {
    /// The directories the entries are in.
    pub(super) dirs: Vec<Arc<DirNode>>,
    /// NUL-terminated names, back to back.
    pub(super) names: Vec<u8>,
    /// Inode number, directory (index in `dirs`), start of the name in
    /// `names`, and type.
    pub(super) entries: Vec<(u64, u32, u32, FileType)>,
}

/// Entries a batch holds before it is labeled.
pub(super) const BATCH_ENTRIES: usize = 4096;
/// Directories (each an open fd) a batch holds before it is labeled.
pub(super) const BATCH_DIRS: usize = 64;

impl Batch {
    /// Makes `node` the directory of the entries pushed next.
    pub(super) fn enter(&mut self, node: &Arc<DirNode>) {
        if !self.dirs.last().is_some_and(|d| Arc::ptr_eq(d, node)) {
            self.dirs.push(Arc::clone(node));
        }
    }

    pub(super) fn push(&mut self, ino: u64, name: &CStr, ft: FileType) {
        let dir = self.dirs.len().saturating_sub(1) as u32;
        self.entries.push((ino, dir, self.names.len() as u32, ft));
        self.names.extend_from_slice(name.to_bytes_with_nul());
    }

    pub(super) fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_ENTRIES || self.dirs.len() >= BATCH_DIRS
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.dirs.is_empty()
    }
}

impl<'a> Walk<'a> {
    pub(super) fn new(
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

    pub(super) fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn skipped_mount(&self, path: PathBuf) {
        let mut seen = self.seen();
        seen.skipped_mounts += 1;
        if seen.mount_points.len() < self.cfg.max_failures {
            seen.mount_points.push(path);
        }
    }

    pub(super) fn hardlink(&self, path: PathBuf) {
        let mut seen = self.seen();
        seen.hardlinked += 1;
        if seen.hardlinks.len() < self.cfg.max_failures {
            seen.hardlinks.push(path);
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Queue> {
        // A worker that panicked cannot leave the queue inconsistent (every
        // change is a single push or pop), so a poisoned lock is still fine.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn worker(&self) {
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
    pub(super) fn open(&self, parent: Arc<DirNode>, name: &CStr, scratch: &mut Scratch) {
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
    pub(super) fn read(&self, node: Arc<DirNode>, scratch: &mut Scratch) {
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
    pub(super) fn label_batch(
        &self,
        batch: &mut Batch,
        xbuf: &mut [u8; xattr::INLINE],
        tally: &mut Tally,
    ) {
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
    pub(super) fn entry(
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
    pub(super) fn look(
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
    pub(super) fn admit(&self, gate: &Gate<'_>, path: &dyn Fn() -> PathBuf) -> Option<bool> {
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
    pub(super) fn label(
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
    pub(super) fn flush(&self, tally: &mut Tally) {
        let c = &self.counts;
        c.changed.fetch_add(tally.changed, Ordering::Relaxed);
        c.unchanged.fetch_add(tally.unchanged, Ordering::Relaxed);
        c.visited
            .fetch_add(tally.changed + tally.unchanged, Ordering::Relaxed);
        tally.changed = 0;
        tally.unchanged = 0;
    }

    pub(super) fn fail(&self, path: PathBuf, error: LabelError) {
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

    pub(super) fn report_progress(&self) {
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

    pub(super) fn into_report(self) -> Report {
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
