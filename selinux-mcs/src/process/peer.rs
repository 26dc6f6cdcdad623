//! Labels of open objects: a socket's peer (`SO_PEERSEC`), any open file
//! descriptor (`fgetxattr`).

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use super::error::ProcessError;
use super::selinuxfs::require;
use crate::label::{self, LabelError};
use crate::mls::Limits;
use crate::SecurityContext;

fn fd_subject(fd: i32) -> String {
    format!("fd {fd}")
}

/// `getsockopt(fd, SOL_SOCKET, SO_PEERSEC)` into a buffer of `len` bytes;
/// `Err(Ok(n))` when the kernel needs `n` bytes (`ERANGE`).
fn peersec(fd: i32, len: usize) -> Result<Vec<u8>, Result<usize, io::Error>> {
    let mut buf = vec![0u8; len];
    let mut n = libc::socklen_t::try_from(len).unwrap_or(libc::socklen_t::MAX);
    // SAFETY: `buf` is valid for writes of `n` bytes and `n` is a valid
    // socklen_t the kernel updates; `fd` is borrowed from the caller.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERSEC,
            buf.as_mut_ptr().cast(),
            &mut n,
        )
    };
    if rc == 0 {
        buf.truncate(usize::try_from(n).unwrap_or(len).min(len));
        return Ok(buf);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ERANGE) {
        // The kernel stored the length it needs.
        return Err(Ok(usize::try_from(n).unwrap_or(len).max(len + 1)));
    }
    Err(Err(e))
}

/// The label of the process on the other end of a connected socket: the
/// label its socket was created with, which is the creator's label unless
/// it set a [`sockcreate`](super::set_sockcreate) label.
///
/// `getsockopt(fd, SOL_SOCKET, SO_PEERSEC)`. For a unix socket from
/// `socketpair(2)`, both ends were made by the process that called it. For
/// `accept(2)`, the peer is the connecting socket. For `connect(2)`, it is
/// the listening socket's label at the connecting socket's MLS range (the
/// kernel gives the server's new socket the client's range). A unix stream
/// socket that is not connected reports the kernel's `unlabeled` context
/// (`/sys/fs/selinux/initial_contexts/unlabeled`).
/// [`ProcessError::NoPeerLabel`] (`ENOPROTOOPT`) for a socket of a kind
/// that has no peer label (a datagram socket; a TCP socket without labeled
/// networking).
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use selinux_mcs::process;
/// let (a, _b) = UnixStream::pair()?;
/// match process::peer_label(&a) {
///     Ok(peer) => assert_eq!(peer, process::current()?), // this process made both ends
///     Err(e) => assert!(e.is_disabled(), "{e}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "getpeercon")]
#[doc(alias = "getpeercon_raw")]
#[doc(alias = "PeerLabel")]
pub fn peer_label(socket: impl AsFd) -> Result<SecurityContext, ProcessError> {
    let fd = socket.as_fd().as_raw_fd();
    let subject = || format!("{} (getsockopt SO_PEERSEC)", fd_subject(fd));
    require(subject)?;
    let mut len = 256;
    let raw = loop {
        match peersec(fd, len) {
            Ok(raw) => break raw,
            Err(Ok(needed)) => len = needed,
            Err(Err(e)) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                return Err(ProcessError::NoPeerLabel {
                    subject: fd_subject(fd),
                })
            }
            Err(Err(e)) => return Err(ProcessError::call(fd_subject(fd), "getsockopt", e, None)),
        }
    };
    SecurityContext::from_bytes_with(&raw, &Limits::default()).map_err(|source| {
        ProcessError::Unparsable {
            subject: subject(),
            text: String::from_utf8_lossy(&raw).into_owned(),
            message: source.to_string(),
            source: Some(source),
        }
    })
}

/// The kernel's label of an open file descriptor: a file, a directory, a
/// pipe, a socket (the label [`set_sockcreate`](super::set_sockcreate)
/// gave it).
///
/// `fgetxattr(fd, "security.selinux")`, which with SELinux running returns
/// the label the kernel holds in memory, for objects that have nothing
/// stored on disk too (a socket's label). Needs SELinux
/// running, unlike [`label::get_fd`], which reads the stored xattr on any
/// host and is the one to use for files.
#[doc(alias = "fgetfilecon")]
#[doc(alias = "fgetfilecon_raw")]
pub fn fd_label(fd: impl AsFd) -> Result<SecurityContext, ProcessError> {
    let fd = fd.as_fd();
    let raw = fd.as_raw_fd();
    require(|| format!("{} (fgetxattr security.selinux)", fd_subject(raw)))?;
    label::get_fd(fd).map_err(|e| match e {
        LabelError::Invalid {
            raw: bytes, source, ..
        } => ProcessError::Unparsable {
            subject: fd_subject(raw),
            text: String::from_utf8_lossy(&bytes).into_owned(),
            message: source.to_string(),
            source: Some(source),
        },
        other => {
            let source = other.raw_os_error().map_or_else(
                || io::Error::other(other.to_string()),
                io::Error::from_raw_os_error,
            );
            ProcessError::call(fd_subject(raw), "fgetxattr", source, None)
        }
    })
}
