//! What went wrong asking the kernel, in the kernel's words.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::ParseError;

/// How we know SELinux is not running (the answer of [`super::status`]).
///
/// The checks, in order: the file-system magic of `/sys/fs/selinux`
/// (`statfs`), else `/proc/filesystems` and the selinuxfs mounts listed in
/// `/proc/self/mountinfo`; then whether that mount is writable
/// (`statvfs`); then whether a policy is loaded (the calling thread's label
/// is still the initial `kernel`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disabled {
    /// `/proc/filesystems` lists no `selinuxfs`: the kernel was built
    /// without SELinux, or booted with `selinux=0` or an `lsm=` list
    /// without it.
    NotInKernel,
    /// The kernel has selinuxfs, but it is mounted nowhere: not at
    /// `/sys/fs/selinux`, and `/proc/self/mountinfo` lists no selinuxfs
    /// mount.
    NotMounted,
    /// selinuxfs is mounted read-only (how container engines hide SELinux
    /// from a container; libselinux and go-selinux also call this disabled).
    ReadOnly {
        /// The mount point.
        mount: PathBuf,
    },
    /// selinuxfs is there but this process may not look at it (`statfs`
    /// fails with `EACCES` or `EPERM`: a policy that hides it from a
    /// confined domain). libselinux also calls that disabled.
    Inaccessible {
        /// The mount point.
        mount: PathBuf,
        /// The errno of `statfs`.
        errno: i32,
    },
    /// selinuxfs is mounted but no policy is loaded: the calling thread's
    /// label is still the initial `kernel`.
    NoPolicy {
        /// The mount point.
        mount: PathBuf,
    },
    /// Neither `/sys/fs/selinux` nor `/proc` could tell (no `/proc`
    /// mounted, say).
    Unknown {
        /// What failed, with its error.
        detail: String,
    },
}

impl fmt::Display for Disabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disabled::NotInKernel => f.write_str(
                "/proc/filesystems lists no selinuxfs (a kernel without SELinux, \
                 or one booted with selinux=0 or an lsm= list without selinux)",
            ),
            Disabled::NotMounted => f.write_str(
                "selinuxfs is not mounted (/sys/fs/selinux is not selinuxfs and \
                 /proc/self/mountinfo lists no selinuxfs mount)",
            ),
            Disabled::ReadOnly { mount } => write!(
                f,
                "selinuxfs at {} is mounted read-only (as inside a container)",
                mount.display()
            ),
            Disabled::Inaccessible { mount, errno } => write!(
                f,
                "this process may not examine selinuxfs at {} (statfs: {}; \
                 the policy hides it)",
                mount.display(),
                io::Error::from_raw_os_error(*errno)
            ),
            Disabled::NoPolicy { mount } => write!(
                f,
                "selinuxfs is mounted at {} but no policy is loaded \
                 (this thread's label is still \"kernel\")",
                mount.display()
            ),
            Disabled::Unknown { detail } => {
                write!(f, "cannot find a selinuxfs mount: {detail}")
            }
        }
    }
}

/// Why a call to the kernel failed.
///
/// Every variant names what was asked (`subject`: a path such as
/// `/proc/thread-self/attr/exec`, or `fd 5`) and, for the ones where the
/// kernel answered, the call and its errno.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// SELinux is not running, so the kernel has nothing to say; `why`
    /// says how we can tell.
    #[error("{subject}: SELinux is not enabled: {why}")]
    Disabled {
        /// What would have been asked.
        subject: String,
        /// How we know.
        why: Disabled,
    },
    /// The kernel refused the context: not valid in the loaded policy
    /// (`EINVAL`).
    #[error("{subject}: the kernel rejects {context:?}: not a valid context in the loaded policy (EINVAL)")]
    InvalidContext {
        /// Where it was written.
        subject: String,
        /// The context as written.
        context: String,
    },
    /// The policy or the kernel does not permit it (`EACCES`, `EPERM`).
    #[error("{subject}: {call}: not permitted: {source}")]
    NotPermitted {
        /// What was asked.
        subject: String,
        /// The call (`write`, `open`, ...).
        call: &'static str,
        /// The errno (`EACCES` or `EPERM`).
        #[source]
        source: io::Error,
    },
    /// No process has that pid (`ESRCH`, or no `/proc/PID`).
    #[error("{subject}: no such process {pid}")]
    NoSuchProcess {
        /// What was asked.
        subject: String,
        /// The pid.
        pid: i32,
    },
    /// The socket has no peer label (`ENOPROTOOPT`): a datagram socket, or
    /// a network socket without labeled networking.
    #[error("{subject}: the socket has no peer label (ENOPROTOOPT: a datagram socket, or no labeled networking)")]
    NoPeerLabel {
        /// The socket (`fd N`).
        subject: String,
    },
    /// The loaded policy has no class or permission of that name.
    #[error("the loaded policy has no {what} (no {subject})")]
    Unknown {
        /// What is missing (`class "foo"`, `permission "bar" in class "file"`).
        what: String,
        /// The selinuxfs file that would have said.
        subject: String,
    },
    /// A bad argument, refused before asking the kernel.
    #[error("{subject}: {message}")]
    InvalidArgument {
        /// What was asked.
        subject: String,
        /// What is wrong.
        message: String,
    },
    /// Any other failure of a call.
    #[error("{subject}: {call}: {source}")]
    Os {
        /// What was asked.
        subject: String,
        /// The call.
        call: &'static str,
        /// The errno.
        #[source]
        source: io::Error,
    },
    /// The kernel answered with text we cannot use.
    #[error("{subject}: the kernel gave {text:?}, which does not parse: {message}")]
    Unparsable {
        /// Where the text came from.
        subject: String,
        /// The text (lossy UTF-8).
        text: String,
        /// Why it does not parse.
        message: String,
        /// The context parser's error, when the text was meant as a context.
        #[source]
        source: Option<ParseError>,
    },
}

impl ProcessError {
    /// The errno of the failed call, if one failed (`EINVAL` for
    /// [`InvalidContext`](Self::InvalidContext), `ESRCH` for
    /// [`NoSuchProcess`](Self::NoSuchProcess)).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            ProcessError::InvalidContext { .. } => Some(libc::EINVAL),
            ProcessError::NoSuchProcess { .. } => Some(libc::ESRCH),
            ProcessError::NoPeerLabel { .. } => Some(libc::ENOPROTOOPT),
            ProcessError::NotPermitted { source, .. } | ProcessError::Os { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }

    /// Whether this says SELinux is not enabled.
    pub fn is_disabled(&self) -> bool {
        matches!(self, ProcessError::Disabled { .. })
    }

    /// A failed call, sorted by its errno: `EACCES`/`EPERM` are
    /// [`NotPermitted`](Self::NotPermitted), `ESRCH` is `NoSuchProcess`
    /// when `pid` is given; anything else is [`Os`](Self::Os).
    pub(crate) fn call(
        subject: impl Into<String>,
        call: &'static str,
        source: io::Error,
        pid: Option<i32>,
    ) -> ProcessError {
        let subject = subject.into();
        match (source.raw_os_error(), pid) {
            (Some(libc::EACCES | libc::EPERM), _) => ProcessError::NotPermitted {
                subject,
                call,
                source,
            },
            (Some(libc::ESRCH | libc::ENOENT), Some(pid)) => {
                ProcessError::NoSuchProcess { subject, pid }
            }
            _ => ProcessError::Os {
                subject,
                call,
                source,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_one_line_that_says_how_we_know() {
        let mount = PathBuf::from("/sys/fs/selinux");
        let cases = [
            (Disabled::NotInKernel, "/proc/filesystems lists no selinuxfs"),
            (Disabled::NotMounted, "selinuxfs is not mounted"),
            (
                Disabled::ReadOnly {
                    mount: mount.clone(),
                },
                "selinuxfs at /sys/fs/selinux is mounted read-only",
            ),
            (
                Disabled::Inaccessible {
                    mount: mount.clone(),
                    errno: libc::EACCES,
                },
                "this process may not examine selinuxfs at /sys/fs/selinux (statfs: Permission denied",
            ),
            (
                Disabled::NoPolicy { mount },
                "no policy is loaded (this thread's label is still \"kernel\")",
            ),
            (
                Disabled::Unknown {
                    detail: "no /proc".into(),
                },
                "cannot find a selinuxfs mount: no /proc",
            ),
        ];
        for (why, says) in cases {
            let text = why.to_string();
            assert!(text.contains(says), "{text}");
            assert!(!text.contains('\n'), "{text}");
            let e = ProcessError::Disabled {
                subject: "/proc/thread-self/attr/exec".into(),
                why,
            };
            assert!(e.is_disabled());
            assert!(e
                .to_string()
                .starts_with("/proc/thread-self/attr/exec: SELinux is not enabled: "));
        }
    }

    #[test]
    fn errnos_sort_into_variants() {
        let e = |n| std::io::Error::from_raw_os_error(n);
        for n in [libc::EACCES, libc::EPERM] {
            let err = ProcessError::call("x", "write", e(n), None);
            assert!(matches!(err, ProcessError::NotPermitted { .. }), "{err:?}");
            assert_eq!(err.raw_os_error(), Some(n));
        }
        for n in [libc::ESRCH, libc::ENOENT] {
            let err = ProcessError::call("x", "open", e(n), Some(7));
            assert!(
                matches!(err, ProcessError::NoSuchProcess { pid: 7, .. }),
                "{err:?}"
            );
            assert_eq!(err.to_string(), "x: no such process 7");
        }
        let err = ProcessError::call("x", "open", e(libc::ENOENT), None);
        assert!(matches!(err, ProcessError::Os { .. }), "{err:?}");
        let err = ProcessError::InvalidContext {
            subject: "/proc/thread-self/attr/exec".into(),
            context: "u:r:t:s0".into(),
        };
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
        assert_eq!(
            err.to_string(),
            "/proc/thread-self/attr/exec: the kernel rejects \"u:r:t:s0\": not a valid context in the loaded policy (EINVAL)"
        );
    }
}
