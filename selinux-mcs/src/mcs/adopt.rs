//! Finding the pairs a host already uses, for [`Registry::adopt_in_use`].
//!
//! [`Registry::adopt_in_use`]: super::Registry::adopt_in_use

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{CategoryPair, Entry, McsError};
use crate::mls::Limits;
use crate::SecurityContext;

/// Where to look for pairs in use, for [`Registry::adopt_in_use`]: the
/// processes under a `/proc` directory, and directories whose own label
/// (not their trees') counts, such as container and volume storage.
///
/// ```
/// use selinux_mcs::mcs::InUse;
/// let mut in_use = InUse::host(); // /proc
/// in_use
///     .directory("/var/lib/containers/storage/volumes")
///     .directory("/var/lib/containers/storage/overlay-containers");
/// ```
///
/// [`Registry::adopt_in_use`]: super::Registry::adopt_in_use
#[derive(Clone, Debug, Default)]
pub struct InUse {
    proc_root: Option<PathBuf>,
    directories: Vec<PathBuf>,
}

impl InUse {
    /// Nowhere: add places with [`processes`](Self::processes) and
    /// [`directory`](Self::directory).
    pub fn new() -> InUse {
        InUse::default()
    }

    /// The processes of this host (`/proc`).
    pub fn host() -> InUse {
        let mut in_use = InUse::new();
        in_use.processes("/proc");
        in_use
    }

    /// Reads `<proc_root>/<pid>/attr/current` for every numeric entry of
    /// `proc_root` (normally `/proc`; tests point it at a fake tree).
    pub fn processes(&mut self, proc_root: impl Into<PathBuf>) -> &mut InUse {
        self.proc_root = Some(proc_root.into());
        self
    }

    /// Reads the label of `dir` itself (`lgetxattr(2)`, never following a
    /// symlink; the tree below is not walked).
    pub fn directory(&mut self, dir: impl Into<PathBuf>) -> &mut InUse {
        self.directories.push(dir.into());
        self
    }
}

/// What [`Registry::adopt_in_use`] did.
///
/// [`Registry::adopt_in_use`]: super::Registry::adopt_in_use
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Adoption {
    /// The entries made, each with its `source`.
    pub adopted: Vec<Entry>,
    /// Pairs found that the registry already held (or found twice).
    pub already_held: usize,
    /// Labels whose level is not a pair a container could be given: `s0`,
    /// ranges such as `s0-s0:c0.c1023`, single or many categories, the
    /// reserved `s0:c1022,c1023`.
    pub not_pairs: usize,
    /// Processes whose label could not be read or parsed (exited, SELinux
    /// disabled, no permission).
    pub unreadable: usize,
    /// Directories with no label (or on a filesystem without xattrs).
    pub unlabeled: usize,
}

/// A pair found in use.
pub(crate) struct Found {
    pub(crate) pair: CategoryPair,
    /// The process directory or the labeled directory.
    pub(crate) where_: String,
    /// The file the label was read from.
    pub(crate) source: String,
}

pub(crate) struct Scan {
    pub(crate) pairs: Vec<Found>,
    pub(crate) report: Adoption,
}

/// The pair a context's level is, if any: its high level (what MCS checks a
/// process by), and only when low and high are equal or the low has no
/// category (`s0-s0:c1,c2`).
fn pair_of(ctx: &SecurityContext) -> Option<CategoryPair> {
    let range = ctx.range()?;
    if !range.is_single() && !range.low().categories().is_empty() {
        return None;
    }
    CategoryPair::try_from(range.high()).ok()
}

pub(crate) fn scan(in_use: &InUse) -> Result<Scan, McsError> {
    let mut scan = Scan {
        pairs: Vec::new(),
        report: Adoption::default(),
    };
    if let Some(root) = &in_use.proc_root {
        scan_processes(root, &mut scan)?;
    }
    for dir in &in_use.directories {
        scan_directory(dir, &mut scan)?;
    }
    Ok(scan)
}

fn scan_processes(root: &Path, scan: &mut Scan) -> Result<(), McsError> {
    let io_err = |call, source| McsError::Io {
        path: root.to_path_buf(),
        call,
        source,
    };
    let mut pids: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(root).map_err(|e| io_err("opendir", e))? {
        let entry = entry.map_err(|e| io_err("readdir", e))?;
        if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    for pid in pids {
        let dir = root.join(pid.to_string());
        let file = dir.join("attr/current");
        // Processes exit, SELinux may be off (EINVAL), and other users'
        // processes may be hidden: all of that is "unreadable", not an error.
        let Ok(raw) = std::fs::read(&file) else {
            scan.report.unreadable += 1;
            continue;
        };
        let raw = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let Ok(ctx) = SecurityContext::from_bytes_with(raw, &Limits::MLS) else {
            scan.report.unreadable += 1;
            continue;
        };
        match pair_of(&ctx) {
            Some(pair) => scan.pairs.push(Found {
                pair,
                where_: dir.display().to_string(),
                source: file.display().to_string(),
            }),
            None => scan.report.not_pairs += 1,
        }
    }
    Ok(())
}

/// Reads the label of `dir` itself with [`label::get`](crate::label::get):
/// a symlink is read, never followed; a long label is read whole.
fn scan_directory(dir: &Path, scan: &mut Scan) -> Result<(), McsError> {
    use crate::label::{ErrorKind, LabelError};
    let ctx = match crate::label::get(dir) {
        Ok(ctx) => ctx,
        Err(e) if matches!(e.kind(), ErrorKind::NoLabel | ErrorKind::NotSupported) => {
            scan.report.unlabeled += 1;
            return Ok(());
        }
        Err(LabelError::Io {
            path, call, source, ..
        }) => return Err(McsError::Io { path, call, source }),
        Err(_) => {
            scan.report.not_pairs += 1; // a label that is not a context
            return Ok(());
        }
    };
    let where_ = dir.display().to_string();
    match pair_of(&ctx) {
        Some(pair) => scan.pairs.push(Found {
            pair,
            source: where_.clone(),
            where_,
        }),
        None => scan.report.not_pairs += 1,
    }
    Ok(())
}
