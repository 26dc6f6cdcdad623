//! Errors of label I/O, of the relabel walker and of the protected-path check.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::ParseError;

/// What went wrong reading or writing a label, from the errno (or from the
/// stored bytes, for [`Invalid`](ErrorKind::Invalid)).
///
/// ```
/// use selinux_mcs::label::ErrorKind;
/// assert_eq!(ErrorKind::from_errno(95), ErrorKind::NotSupported);
/// assert_eq!(ErrorKind::from_errno(30), ErrorKind::ReadOnly);
/// assert_eq!(ErrorKind::from_errno(61), ErrorKind::NoLabel);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The filesystem has no xattrs, or no `security.*` namespace
    /// (`ENOTSUP`/`EOPNOTSUPP`): NFS without labels, ramfs, /proc.
    NotSupported,
    /// The filesystem is mounted read-only (`EROFS`).
    ReadOnly,
    /// The file has no `security.selinux` xattr (`ENODATA`).
    NoLabel,
    /// The caller may not read or write the label (`EPERM`, `EACCES`).
    PermissionDenied,
    /// The stored label does not parse as a context.
    Invalid,
    /// The label is too long for the filesystem (`E2BIG`, `ENOSPC`, `ERANGE`).
    TooLong,
    /// The file does not exist (`ENOENT`, `ENOTDIR` on a path).
    NotFound,
    /// The entry is a protected object met inside a tree (a bind mount of
    /// `/etc`, a hard link to `/etc/shadow`, a home): left alone.
    Protected,
    /// A per-entry rule could not decide (a file_contexts lookup failed).
    Rule,
    /// Any other error; the `io::Error` source says which.
    Other,
}

impl ErrorKind {
    /// The kind of an errno value.
    pub fn from_errno(errno: i32) -> ErrorKind {
        match errno {
            libc::ENOTSUP => ErrorKind::NotSupported,
            libc::EROFS => ErrorKind::ReadOnly,
            libc::ENODATA => ErrorKind::NoLabel,
            libc::EPERM | libc::EACCES => ErrorKind::PermissionDenied,
            libc::E2BIG | libc::ENOSPC | libc::ERANGE => ErrorKind::TooLong,
            libc::ENOENT | libc::ENOTDIR => ErrorKind::NotFound,
            _ => ErrorKind::Other,
        }
    }

    /// The kind of an `io::Error` (by its errno; `Other` without one).
    pub fn of(err: &io::Error) -> ErrorKind {
        err.raw_os_error()
            .map_or(ErrorKind::Other, ErrorKind::from_errno)
    }

    /// A stable kebab-case name (`not-supported`, `read-only`, ...), used in
    /// JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotSupported => "not-supported",
            ErrorKind::ReadOnly => "read-only",
            ErrorKind::NoLabel => "no-label",
            ErrorKind::PermissionDenied => "permission-denied",
            ErrorKind::Invalid => "invalid",
            ErrorKind::TooLong => "too-long",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Protected => "protected",
            ErrorKind::Rule => "rule",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotSupported => "the filesystem does not support SELinux labels",
            ErrorKind::ReadOnly => "read-only filesystem",
            ErrorKind::NoLabel => "no label",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Invalid => "the stored label is not a valid context",
            ErrorKind::TooLong => "the label is too long for the filesystem",
            ErrorKind::NotFound => "no such file",
            ErrorKind::Protected => "a protected path",
            ErrorKind::Rule => "the labeling rule failed",
            ErrorKind::Other => "error",
        })
    }
}

/// Why a label could not be read or written.
///
/// Every variant names the path (for fd calls, `<fd N>`); I/O errors name
/// the call (`lsetxattr`, `getxattrat`, `openat`, ...) and keep the
/// `io::Error` as their `source()`. Two errors are equal when their path,
/// call, kind and errno are.
///
/// ```
/// use selinux_mcs::label::{self, ErrorKind};
/// let err = label::get("/nonexistent/file").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(err.call(), Some("lgetxattr"));
/// assert!(err.to_string().starts_with("lgetxattr /nonexistent/file: no such file"));
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// A system call failed.
    #[error("{call} {}: {kind} ({source})", crate::escape::Escaped::path(path))]
    Io {
        /// The path (as given, or built from the walk's root).
        path: PathBuf,
        /// The system call that failed.
        call: &'static str,
        /// What the errno means for labeling.
        kind: ErrorKind,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The stored label is not a valid context.
    #[error(
        "{}: the stored label \"{}\" is not a valid context: {source}",
        crate::escape::Escaped::path(path),
        crate::escape::Escaped::bytes(raw)
    )]
    Invalid {
        /// The path.
        path: PathBuf,
        /// The raw xattr value, unchanged.
        raw: Vec<u8>,
        /// Why it does not parse.
        #[source]
        source: ParseError,
    },
    /// A protected object met inside a tree, left alone (with force where
    /// force would allow it, it is not refused).
    #[error(
        "{}: left alone: it is the protected path {}",
        crate::escape::Escaped::path(path),
        crate::escape::Escaped::path(matched)
    )]
    Protected {
        /// The entry (the root as given, joined with the names below it).
        path: PathBuf,
        /// The protected path it is the same object as.
        matched: PathBuf,
    },
    /// A per-entry rule ([`LabelFn`](super::LabelFn)) could not decide, e.g.
    /// a file_contexts lookup failed: nothing was written.
    #[error("{}: {source}", crate::escape::Escaped::path(path))]
    Rule {
        /// The entry.
        path: PathBuf,
        /// What the rule said.
        #[source]
        source: super::RuleError,
    },
}

impl LabelError {
    /// An error of `call` on `path`, its kind taken from the errno.
    pub fn io(path: impl Into<PathBuf>, call: &'static str, source: io::Error) -> LabelError {
        LabelError::Io {
            path: path.into(),
            call,
            kind: ErrorKind::of(&source),
            source,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LabelError::Io { kind, .. } => *kind,
            LabelError::Invalid { .. } => ErrorKind::Invalid,
            LabelError::Protected { .. } => ErrorKind::Protected,
            LabelError::Rule { .. } => ErrorKind::Rule,
        }
    }

    /// The path the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LabelError::Io { path, .. }
            | LabelError::Invalid { path, .. }
            | LabelError::Protected { path, .. }
            | LabelError::Rule { path, .. } => path,
        }
    }

    /// The system call that failed, for I/O errors.
    pub fn call(&self) -> Option<&'static str> {
        match self {
            LabelError::Io { call, .. } => Some(call),
            LabelError::Invalid { .. } | LabelError::Protected { .. } | LabelError::Rule { .. } => {
                None
            }
        }
    }

    /// The errno, for I/O errors.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            LabelError::Io { source, .. } => source.raw_os_error(),
            LabelError::Invalid { .. } | LabelError::Protected { .. } | LabelError::Rule { .. } => {
                None
            }
        }
    }
}

impl PartialEq for LabelError {
    fn eq(&self, other: &LabelError) -> bool {
        match (self, other) {
            (
                LabelError::Io {
                    path: p1,
                    call: c1,
                    kind: k1,
                    source: s1,
                },
                LabelError::Io {
                    path: p2,
                    call: c2,
                    kind: k2,
                    source: s2,
                },
            ) => {
                p1 == p2
                    && c1 == c2
                    && k1 == k2
                    && s1.raw_os_error() == s2.raw_os_error()
                    && s1.kind() == s2.kind()
            }
            (
                LabelError::Invalid {
                    path: p1,
                    raw: r1,
                    source: s1,
                },
                LabelError::Invalid {
                    path: p2,
                    raw: r2,
                    source: s2,
                },
            ) => p1 == p2 && r1 == r2 && s1 == s2,
            (
                LabelError::Protected {
                    path: p1,
                    matched: m1,
                },
                LabelError::Protected {
                    path: p2,
                    matched: m2,
                },
            ) => p1 == p2 && m1 == m2,
            (
                LabelError::Rule {
                    path: p1,
                    source: s1,
                },
                LabelError::Rule {
                    path: p2,
                    source: s2,
                },
            ) => p1 == p2 && s1.to_string() == s2.to_string(),
            _ => false,
        }
    }
}

/// A path that must not be relabeled, or not without force.
///
/// ```
/// use selinux_mcs::label::protected;
/// let err = protected::check("/usr//", false).unwrap_err();
/// assert_eq!(err.matched(), std::path::Path::new("/usr"));
/// assert_eq!(
///     err.to_string(),
///     "refusing to relabel /usr//: it resolves to /usr, the protected path /usr"
/// );
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProtectedError {
    /// The path is (or resolves to) a protected directory: never relabeled.
    #[error(
        "refusing to relabel {}: {}the protected path {}",
        crate::escape::Escaped::path(path),
        resolves(path, resolved),
        crate::escape::Escaped::path(matched)
    )]
    Protected {
        /// The path as given.
        path: PathBuf,
        /// The path after resolving `.`, `..`, `//` and symlinks.
        resolved: PathBuf,
        /// The protected path it matched.
        matched: PathBuf,
    },
    /// The path is inside a subtree that needs force (`/etc`, `/usr`,
    /// `/boot`, `~/.ssh`, `~/.gnupg`).
    #[error(
        "refusing to relabel {} without force: {}inside {}",
        crate::escape::Escaped::path(path),
        resolves(path, resolved),
        crate::escape::Escaped::path(matched)
    )]
    NeedsForce {
        /// The path as given.
        path: PathBuf,
        /// The path after resolving `.`, `..`, `//` and symlinks.
        resolved: PathBuf,
        /// The subtree it is in.
        matched: PathBuf,
    },
    /// The path is on a pseudo file system (proc, sysfs, cgroup, ...),
    /// whatever its name: nothing there is a volume.
    #[error(
        "refusing to relabel {}: it is on a {fs} file system",
        crate::escape::Escaped::path(path)
    )]
    PseudoFileSystem {
        /// The path as given.
        path: PathBuf,
        /// The file system's type (`proc`, `sysfs`, `devtmpfs`, ...).
        fs: String,
    },
    /// The path could not be resolved (it does not exist, or a component
    /// cannot be read), or the directories above it could not be checked.
    #[error("cannot resolve {}: {source}", crate::escape::Escaped::path(path))]
    Unresolvable {
        /// The path as given.
        path: PathBuf,
        /// The error (shared, so that this type stays `Clone`; compared by
        /// kind and errno).
        #[source]
        source: std::sync::Arc<io::Error>,
    },
}

impl ProtectedError {
    /// An [`Unresolvable`](Self::Unresolvable) error for `path`.
    pub fn unresolvable(path: impl Into<PathBuf>, source: io::Error) -> ProtectedError {
        ProtectedError::Unresolvable {
            path: path.into(),
            source: std::sync::Arc::new(source),
        }
    }

    /// The errno, for [`Unresolvable`](Self::Unresolvable).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            ProtectedError::Unresolvable { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

impl PartialEq for ProtectedError {
    fn eq(&self, other: &ProtectedError) -> bool {
        use ProtectedError as P;
        match (self, other) {
            (
                P::Protected {
                    path,
                    resolved,
                    matched,
                },
                P::Protected {
                    path: p,
                    resolved: r,
                    matched: m,
                },
            )
            | (
                P::NeedsForce {
                    path,
                    resolved,
                    matched,
                },
                P::NeedsForce {
                    path: p,
                    resolved: r,
                    matched: m,
                },
            ) => path == p && resolved == r && matched == m,
            (P::PseudoFileSystem { path, fs }, P::PseudoFileSystem { path: p, fs: f }) => {
                path == p && fs == f
            }
            (P::Unresolvable { path, source }, P::Unresolvable { path: p, source: s }) => {
                path == p && source.kind() == s.kind() && source.raw_os_error() == s.raw_os_error()
            }
            _ => false,
        }
    }
}

impl Eq for ProtectedError {}

fn resolves(path: &std::path::Path, resolved: &std::path::Path) -> String {
    if path.as_os_str() == resolved.as_os_str() {
        "it is ".to_owned()
    } else {
        format!(
            "it resolves to {}, ",
            crate::escape::Escaped::path(resolved)
        )
    }
}

impl ProtectedError {
    /// The protected path (or subtree) that matched; the given path for
    /// [`Unresolvable`](Self::Unresolvable).
    pub fn matched(&self) -> &std::path::Path {
        match self {
            ProtectedError::Protected { matched, .. }
            | ProtectedError::NeedsForce { matched, .. } => matched,
            ProtectedError::Unresolvable { path, .. }
            | ProtectedError::PseudoFileSystem { path, .. } => path,
        }
    }

    /// Whether `force` would allow the path.
    pub fn needs_force(&self) -> bool {
        matches!(self, ProtectedError::NeedsForce { .. })
    }
}

/// Why a relabel could not start. Failures on entries inside the tree do not
/// stop a walk: they are recorded in the [`Report`](super::Report).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum RelabelError {
    /// The root is a protected path.
    #[error(transparent)]
    Protected(#[from] ProtectedError),
    /// The root cannot be opened or examined.
    #[error(transparent)]
    Root(LabelError),
    /// Neither `getxattrat`/`setxattrat` (Linux 6.13) nor `/proc/self/fd`
    /// is available, so labels cannot be written relative to a directory
    /// fd without following symlinks or walking by path.
    #[error("cannot label entries safely: the kernel has no setxattrat and /proc/self/fd is not usable ({0})")]
    NoSafeXattrCall(io::Error),
}
