//! Listing the labels of a tree (`ls -Z -R`), walked by directory file
//! descriptors like the relabel walker: no path is resolved twice, nothing
//! is followed, no path length limit applies (paths are only built for the
//! caller), and entries are handed over as they are read, so memory holds
//! one directory's names per level, not the tree.

use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, RawDir};
use rustix::io::Errno;

use super::error::{ErrorKind, LabelError};
use super::ident::{self, Facts};
use super::xattr;
use crate::mls::Limits;
use crate::{FileKind, SecurityContext};

/// One entry of a listing.
#[derive(Debug)]
#[non_exhaustive]
pub struct Listed<'a> {
    /// The root as given, joined with the names below it.
    pub path: &'a Path,
    /// What it is (not followed: a symlink is a symlink).
    pub kind: FileKind,
    /// Its label: `Ok(None)` when it has none; an error when it cannot be
    /// read or does not parse.
    pub label: Result<Option<SecurityContext>, LabelError>,
}

/// Gives `f` the label of `path` and, when `recursive`, of everything under
/// it: depth first, each directory's entries in byte order of their names.
/// Symlinks are listed themselves and never followed, the root included.
/// A directory that cannot be read is handed over as an entry whose label is
/// the error, and the listing goes on. `f` may stop the listing with
/// [`ControlFlow::Break`].
///
/// ```
/// use std::ops::ControlFlow;
/// # let dir = tempfile::tempdir()?;
/// # std::fs::write(dir.path().join("f"), "")?;
/// let mut paths = Vec::new();
/// selinux_mcs::label::list_labels(dir.path(), true, |e| {
///     paths.push(e.path.to_path_buf());
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(paths, [dir.path().to_path_buf(), dir.path().join("f")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "ls -Z")]
pub fn list_labels(
    path: impl AsRef<Path>,
    recursive: bool,
    mut f: impl FnMut(Listed<'_>) -> ControlFlow<()>,
) -> Result<(), LabelError> {
    let path = path.as_ref();
    let root = ident::open_root(path, false).map_err(|e| LabelError::io(path, "open", e.into()))?;
    let via = ident::proc_fd_path(root.fd.as_fd(), &root.facts)
        .map_err(|e| LabelError::io(path, "open", e))?;
    let label = decode(
        path,
        xattr::read_value(|b| xattr::get_follow(via.as_c_str(), b)),
        "getxattr",
    );
    let kind = kind_of(&root.facts);
    if f(Listed { path, kind, label }).is_break() || !recursive || kind != FileKind::Dir {
        return Ok(());
    }
    let fd =
        ident::reopen_dir(root.fd.as_fd()).map_err(|e| LabelError::io(path, "openat", e.into()))?;
    let mut stack = vec![Frame::read(fd, path.to_path_buf())];
    let mut dents = vec![std::mem::MaybeUninit::uninit(); 32 * 1024];
    while let Some(frame) = stack.last_mut() {
        if let Some(err) = frame.error.take() {
            let label = Err(err);
            if f(Listed {
                path: &frame.path,
                kind: FileKind::Dir,
                label,
            })
            .is_break()
            {
                return Ok(());
            }
        }
        if frame.names.is_none() {
            frame.load(&mut dents);
        }
        let (Some(name), Some(dirfd)) = (frame.next_name(), frame.fd.as_ref()) else {
            stack.pop();
            continue;
        };
        let dirfd = dirfd.as_fd();
        let child = frame
            .path
            .join(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let (kind, label) = match ident::facts_at(dirfd, &name) {
            Ok(facts) => (kind_of(&facts), read_at(dirfd, &name, &child)),
            Err(Errno::NOENT) => continue, // vanished
            Err(e) => (
                FileKind::File,
                Err(LabelError::io(&child, "statx", e.into())),
            ),
        };
        if f(Listed {
            path: &child,
            kind,
            label,
        })
        .is_break()
        {
            return Ok(());
        }
        if kind == FileKind::Dir {
            let opened = rustix::fs::openat(
                dirfd,
                &name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            );
            match opened {
                Ok(fd) => stack.push(Frame::read(fd, child)),
                // Vanished, or swapped for something that is not a
                // directory since it was listed: never followed.
                Err(Errno::NOENT) | Err(Errno::LOOP) | Err(Errno::NOTDIR) => {}
                Err(e) => stack.push(Frame::failed(child, e)),
            }
        }
    }
    Ok(())
}

/// A directory being listed: its names (read whole, then sorted), and the
/// next one to hand over.
struct Frame {
    /// `None` for a directory that could not be opened.
    fd: Option<OwnedFd>,
    path: PathBuf,
    /// The names, each NUL-terminated, back to back; `None` until read.
    names: Option<Vec<u8>>,
    /// Where each name starts, in name order.
    order: Vec<u32>,
    next: usize,
    error: Option<LabelError>,
}

impl Frame {
    fn read(fd: OwnedFd, path: PathBuf) -> Frame {
        Frame {
            fd: Some(fd),
            path,
            names: None,
            order: Vec::new(),
            next: 0,
            error: None,
        }
    }

    /// A directory that could not be opened: handed over as an error, with
    /// nothing under it.
    fn failed(path: PathBuf, e: Errno) -> Frame {
        Frame {
            error: Some(LabelError::io(&path, "openat", e.into())),
            fd: None,
            path,
            names: Some(Vec::new()),
            order: Vec::new(),
            next: 0,
        }
    }

    fn load(&mut self, dents: &mut [std::mem::MaybeUninit<u8>]) {
        let mut names = Vec::new();
        let Some(fd) = &self.fd else {
            self.names = Some(names);
            return;
        };
        let mut dir = RawDir::new(fd.as_fd(), dents);
        while let Some(entry) = dir.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(Errno::NOENT) => break, // the directory was removed
                Err(e) => {
                    self.error = Some(LabelError::io(&self.path, "getdents64", e.into()));
                    break;
                }
            };
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            self.order.push(names.len() as u32);
            names.extend_from_slice(name.to_bytes_with_nul());
        }
        let name_at = |at: u32| {
            let rest = names.get(at as usize..).unwrap_or_default();
            std::ffi::CStr::from_bytes_until_nul(rest).map_or(&[][..], |c| c.to_bytes())
        };
        self.order
            .sort_unstable_by(|a, b| name_at(*a).cmp(name_at(*b)));
        self.names = Some(names);
    }

    fn next_name(&mut self) -> Option<std::ffi::CString> {
        let names = self.names.as_ref()?;
        let at = *self.order.get(self.next)? as usize;
        self.next += 1;
        let rest = names.get(at..)?;
        std::ffi::CStr::from_bytes_until_nul(rest)
            .ok()
            .map(std::ffi::CStr::to_owned)
    }
}

fn kind_of(facts: &Facts) -> FileKind {
    ident::file_kind(facts.kind).unwrap_or(FileKind::File)
}

fn read_at(
    dirfd: BorrowedFd<'_>,
    name: &std::ffi::CStr,
    path: &Path,
) -> Result<Option<SecurityContext>, LabelError> {
    let raw = xattr::read_value(|b| {
        xattr::getxattrat(dirfd, name, b, xattr::Api::Auto).map_err(|(e, _)| e)
    });
    decode(path, raw, xattr::at_call(xattr::Api::Auto, false))
}

fn decode(
    path: &Path,
    raw: Result<Vec<u8>, Errno>,
    call: &'static str,
) -> Result<Option<SecurityContext>, LabelError> {
    match raw {
        Ok(raw) => match SecurityContext::from_bytes_with(&raw, &Limits::default()) {
            Ok(ctx) => Ok(Some(ctx)),
            Err(source) => Err(LabelError::Invalid {
                path: path.to_path_buf(),
                raw,
                source,
            }),
        },
        Err(e) => {
            let err = LabelError::io(path, call, e.into());
            if err.kind() == ErrorKind::NoLabel {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}
