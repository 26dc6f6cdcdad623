//! The `security.selinux` xattr: read and write a label by path (never
//! following a final symlink), by fd, by path following symlinks, and
//! relative to a directory fd.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::io::Errno;

use super::error::LabelError;
use crate::mls::Limits;
use crate::SecurityContext;

/// The name of the xattr that holds a file's SELinux label.
pub const XATTR_NAME: &str = "security.selinux";

pub(crate) const NAME: &CStr = c"security.selinux";

/// Room for almost every label without a second call.
pub(crate) const INLINE: usize = 256;

/// Reads a whole xattr value with `read`, which is called with a buffer and
/// returns the length; on `ERANGE` it asks for the size with an empty buffer
/// and tries again (the label may change between the calls).
pub(crate) fn read_value(
    mut read: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
) -> Result<Vec<u8>, Errno> {
    let mut buf = [0u8; INLINE];
    match read(&mut buf) {
        Ok(n) => return Ok(buf[..n].to_vec()),
        Err(Errno::RANGE) => {}
        Err(e) => return Err(e),
    }
    loop {
        let size = read(&mut [])?;
        let mut v = vec![0u8; size];
        match read(&mut v) {
            Ok(n) => {
                v.truncate(n);
                return Ok(v);
            }
            Err(Errno::RANGE) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// `lgetxattr`; an empty `buf` asks for the size (rustix answers 0 for an
/// empty buffer, so its `_query` function is used).
pub(crate) fn lget(path: impl rustix::path::Arg, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        rustix::fs::lgetxattr_query(path, NAME)
    } else {
        rustix::fs::lgetxattr(path, NAME, buf)
    }
}

/// `getxattr`, following symlinks; an empty `buf` asks for the size.
pub(crate) fn get_follow(path: impl rustix::path::Arg, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        rustix::fs::getxattr_query(path, NAME)
    } else {
        rustix::fs::getxattr(path, NAME, buf)
    }
}

/// `fgetxattr`; an empty `buf` asks for the size.
pub(crate) fn fget(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    if buf.is_empty() {
        rustix::fs::fgetxattr_query(fd, NAME)
    } else {
        rustix::fs::fgetxattr(fd, NAME, buf)
    }
}

fn parse(path: &Path, raw: Vec<u8>) -> Result<SecurityContext, LabelError> {
    SecurityContext::from_bytes_with(&raw, &Limits::default()).map_err(|source| {
        LabelError::Invalid {
            path: path.to_path_buf(),
            raw,
            source,
        }
    })
}

fn io_err(path: &Path, call: &'static str, e: Errno) -> LabelError {
    LabelError::io(path, call, io::Error::from(e))
}

fn fd_path(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("<fd {}>", fd.as_raw_fd()))
}

/// Reads the label of `path` without following a final symlink: a symlink's
/// own label.
///
/// `lgetxattr(path, "security.selinux", ...)`, then parses the value (one
/// trailing NUL stripped). No label is an error of kind
/// [`NoLabel`](super::ErrorKind::NoLabel); a value that does not parse is
/// [`Invalid`](super::ErrorKind::Invalid) and keeps the raw bytes.
///
/// ```no_run
/// let ctx = selinux_mcs::label::get("/var/lib/containers")?;
/// println!("{ctx}");
/// # Ok::<(), selinux_mcs::label::LabelError>(())
/// ```
#[doc(alias = "lgetfilecon")]
#[doc(alias = "lgetfilecon_raw")]
pub fn get(path: impl AsRef<Path>) -> Result<SecurityContext, LabelError> {
    let path = path.as_ref();
    let raw = read_value(|buf| lget(path, buf)).map_err(|e| io_err(path, "lgetxattr", e))?;
    parse(path, raw)
}

/// Reads the label of the file `path` leads to, following symlinks.
///
/// `getxattr(path, "security.selinux", ...)`; otherwise as [`get`].
#[doc(alias = "getfilecon")]
#[doc(alias = "getfilecon_raw")]
pub fn get_deref(path: impl AsRef<Path>) -> Result<SecurityContext, LabelError> {
    let path = path.as_ref();
    let raw = read_value(|buf| get_follow(path, buf)).map_err(|e| io_err(path, "getxattr", e))?;
    parse(path, raw)
}

/// Reads the label of an open file.
///
/// `fgetxattr(fd, "security.selinux", ...)`. An `O_PATH` fd fails with
/// `EBADF` on kernels before 6.13 (libselinux then goes through
/// `/proc/self/fd`; this function does not). Errors name the path `<fd N>`.
#[doc(alias = "fgetfilecon")]
#[doc(alias = "fgetfilecon_raw")]
pub fn get_fd(fd: impl AsFd) -> Result<SecurityContext, LabelError> {
    let fd = fd.as_fd();
    let raw = read_value(|buf| fget(fd, buf)).map_err(|e| io_err(&fd_path(fd), "fgetxattr", e))?;
    parse(&fd_path(fd), raw)
}

/// Reads the label of `name` in the directory `dirfd`, without following a
/// final symlink and without resolving any path above `dirfd`.
///
/// `getxattrat(dirfd, name, AT_SYMLINK_NOFOLLOW, "security.selinux", ...)`
/// on Linux 6.13 and later; on older kernels `lgetxattr` on
/// `/proc/self/fd/<dirfd>/<name>`, which resolves the same way (the magic
/// link pins the directory, the last component is not followed).
pub fn get_at(dirfd: impl AsFd, name: &CStr) -> Result<SecurityContext, LabelError> {
    let dirfd = dirfd.as_fd();
    let path = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
    let raw = read_value(|buf| getxattrat(dirfd, name, buf, Api::Auto).map_err(|(e, _)| e))
        .map_err(|e| io_err(path, at_call(Api::Auto, false), e))?;
    parse(path, raw)
}

/// Writes the label of `path` without following a final symlink: a symlink
/// is labeled itself.
///
/// `lsetxattr(path, "security.selinux", "<context>\0", 0)`: the canonical
/// text and one NUL, as libselinux writes it.
///
/// ```no_run
/// use selinux_mcs::{label, SecurityContext};
/// let ctx: SecurityContext = "system_u:object_r:container_file_t:s0:c1,c2".parse()?;
/// label::set("/srv/volume/file", &ctx)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "lsetfilecon")]
#[doc(alias = "lsetfilecon_raw")]
pub fn set(path: impl AsRef<Path>, ctx: &SecurityContext) -> Result<(), LabelError> {
    let path = path.as_ref();
    rustix::fs::lsetxattr(
        path,
        NAME,
        &ctx.to_xattr_value(),
        rustix::fs::XattrFlags::empty(),
    )
    .map_err(|e| io_err(path, "lsetxattr", e))
}

/// Writes the label of the file `path` leads to, following symlinks.
///
/// `setxattr(path, "security.selinux", ...)`; otherwise as [`set`].
#[doc(alias = "setfilecon")]
#[doc(alias = "setfilecon_raw")]
pub fn set_deref(path: impl AsRef<Path>, ctx: &SecurityContext) -> Result<(), LabelError> {
    let path = path.as_ref();
    rustix::fs::setxattr(
        path,
        NAME,
        &ctx.to_xattr_value(),
        rustix::fs::XattrFlags::empty(),
    )
    .map_err(|e| io_err(path, "setxattr", e))
}

/// Writes the label of an open file.
///
/// `fsetxattr(fd, "security.selinux", ...)`. Errors name the path `<fd N>`.
#[doc(alias = "fsetfilecon")]
#[doc(alias = "fsetfilecon_raw")]
pub fn set_fd(fd: impl AsFd, ctx: &SecurityContext) -> Result<(), LabelError> {
    let fd = fd.as_fd();
    rustix::fs::fsetxattr(
        fd,
        NAME,
        &ctx.to_xattr_value(),
        rustix::fs::XattrFlags::empty(),
    )
    .map_err(|e| io_err(&fd_path(fd), "fsetxattr", e))
}

/// Writes the label of `name` in the directory `dirfd`, without following a
/// final symlink: `setxattrat(dirfd, name, AT_SYMLINK_NOFOLLOW, ...)`, or
/// `lsetxattr` on `/proc/self/fd/<dirfd>/<name>` before Linux 6.13.
pub fn set_at(dirfd: impl AsFd, name: &CStr, ctx: &SecurityContext) -> Result<(), LabelError> {
    let dirfd = dirfd.as_fd();
    let path = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
    setxattrat(
        dirfd,
        name,
        &ctx.to_xattr_value(),
        rustix::fs::XattrFlags::empty(),
        Api::Auto,
    )
    .map_err(|(e, call)| io_err(path, call, e))
}

/// Which calls label an entry relative to its directory's fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `getxattrat`/`setxattrat` when the kernel has them, else the
    /// `/proc/self/fd` path.
    Auto,
    /// Always the `/proc/self/fd` path (tests of the fallback).
    ProcFd,
}

/// Whether the kernel has `getxattrat`/`setxattrat`: 0 unknown, 1 yes, 2 no.
static AT_CALLS: AtomicU8 = AtomicU8::new(0);

/// The numbers of `setxattrat` and `getxattrat`, the same on every
/// architecture that uses the generic syscall table (Linux 6.13); `None`
/// where they differ (alpha, mips), which then use the fallback.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "powerpc64",
    target_arch = "s390x",
    target_arch = "loongarch64"
))]
const AT_NRS: Option<(libc::c_long, libc::c_long)> = Some((463, 464));
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    target_arch = "powerpc64",
    target_arch = "s390x",
    target_arch = "loongarch64"
)))]
const AT_NRS: Option<(libc::c_long, libc::c_long)> = None;

/// `struct xattr_args` of `<linux/xattr.h>`.
#[repr(C)]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

pub(crate) fn at_call(api: Api, write: bool) -> &'static str {
    match (use_at(api), write) {
        (true, false) => "getxattrat",
        (true, true) => "setxattrat",
        (false, false) => "lgetxattr",
        (false, true) => "lsetxattr",
    }
}

fn use_at(api: Api) -> bool {
    api == Api::Auto && at_calls_available()
}

/// Whether the kernel has the *xattrat calls; probes once (a `getxattrat`
/// on the current directory, which fails with `ENOSYS` on older kernels,
/// and with `EPERM` under seccomp profiles that predate the call: reading
/// a label needs no privilege, so `EPERM` there means "filtered").
pub(crate) fn at_calls_available() -> bool {
    if AT_NRS.is_none() {
        return false;
    }
    match AT_CALLS.load(Ordering::Relaxed) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    let mut buf = [0u8; 8];
    match raw_getxattrat(rustix::fs::CWD, c".", &mut buf) {
        Err(Errno::NOSYS) | Err(Errno::PERM) => {
            AT_CALLS.store(2, Ordering::Relaxed);
            false
        }
        _ => {
            AT_CALLS.store(1, Ordering::Relaxed);
            true
        }
    }
}

fn raw_getxattrat(dirfd: BorrowedFd<'_>, name: &CStr, buf: &mut [u8]) -> Result<usize, Errno> {
    let Some((_, nr)) = AT_NRS else {
        return Err(Errno::NOSYS);
    };
    let args = XattrArgs {
        value: buf.as_mut_ptr() as u64,
        size: u32::try_from(buf.len()).unwrap_or(u32::MAX),
        flags: 0,
    };
    // SAFETY: getxattrat(int dfd, const char *path, unsigned int at_flags,
    // const char *name, struct xattr_args *args, size_t usize). `name` and
    // NAME are NUL-terminated and live across the call; `args` points at a
    // valid struct of the size passed, whose `value`/`size` describe `buf`,
    // which the kernel writes at most `size` bytes into. Every integer is
    // passed as a c_long, as the variadic syscall() expects.
    let r = unsafe {
        libc::syscall(
            nr,
            dirfd.as_raw_fd() as libc::c_long,
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW as libc::c_long,
            NAME.as_ptr(),
            &args as *const XattrArgs,
            std::mem::size_of::<XattrArgs>() as libc::c_long,
        )
    };
    if r < 0 {
        Err(Errno::from_raw_os_error(
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        ))
    } else {
        Ok(r as usize)
    }
}

fn raw_setxattrat(
    dirfd: BorrowedFd<'_>,
    name: &CStr,
    value: &[u8],
    flags: rustix::fs::XattrFlags,
) -> Result<(), Errno> {
    let Some((nr, _)) = AT_NRS else {
        return Err(Errno::NOSYS);
    };
    let args = XattrArgs {
        value: value.as_ptr() as u64,
        size: u32::try_from(value.len()).map_err(|_| Errno::TOOBIG)?,
        flags: flags.bits(),
    };
    // SAFETY: setxattrat(int dfd, const char *path, unsigned int at_flags,
    // const char *name, const struct xattr_args *args, size_t usize). The
    // strings are NUL-terminated and live across the call; `args` describes
    // `value`, which the kernel only reads. Integers are passed as c_long.
    let r = unsafe {
        libc::syscall(
            nr,
            dirfd.as_raw_fd() as libc::c_long,
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW as libc::c_long,
            NAME.as_ptr(),
            &args as *const XattrArgs,
            std::mem::size_of::<XattrArgs>() as libc::c_long,
        )
    };
    if r < 0 {
        Err(Errno::from_raw_os_error(
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        ))
    } else {
        Ok(())
    }
}

/// `/proc/self/fd/<dirfd>/<name>` with its NUL, in `out`. The magic link
/// `/proc/self/fd/N` resolves to the directory the fd holds (not to whatever
/// its old path names now), and the l* calls do not follow `name`.
fn proc_path<'a>(dirfd: BorrowedFd<'_>, name: &CStr, out: &'a mut [u8; 320]) -> &'a CStr {
    use std::io::Write;
    let name = name.to_bytes_with_nul();
    let mut cur = std::io::Cursor::new(&mut out[..]);
    // A name is at most 255 bytes and an fd at most 10 digits, so this fits.
    let _ = write!(cur, "/proc/self/fd/{}/", dirfd.as_raw_fd());
    let at = cur.position() as usize;
    let end = (at + name.len()).min(out.len());
    out[at..end].copy_from_slice(&name[..end - at]);
    CStr::from_bytes_until_nul(&out[..end]).unwrap_or(c"")
}

/// Reads `name`'s label relative to `dirfd` into `buf`, never following
/// `name`. The error carries the call that failed.
pub(crate) fn getxattrat(
    dirfd: BorrowedFd<'_>,
    name: &CStr,
    buf: &mut [u8],
    api: Api,
) -> Result<usize, (Errno, &'static str)> {
    if use_at(api) {
        match raw_getxattrat(dirfd, name, buf) {
            Err(Errno::NOSYS) => AT_CALLS.store(2, Ordering::Relaxed),
            r => return r.map_err(|e| (e, "getxattrat")),
        }
    }
    if name.to_bytes().len() > 255 {
        return Err((Errno::NAMETOOLONG, "lgetxattr"));
    }
    let mut scratch = [0u8; 320];
    let path = proc_path(dirfd, name, &mut scratch);
    lget(path, buf).map_err(|e| (e, "lgetxattr"))
}

/// Writes `name`'s label relative to `dirfd`, never following `name`
/// (`flags`: `XATTR_CREATE` writes only when there is no label yet).
pub(crate) fn setxattrat(
    dirfd: BorrowedFd<'_>,
    name: &CStr,
    value: &[u8],
    flags: rustix::fs::XattrFlags,
    api: Api,
) -> Result<(), (Errno, &'static str)> {
    if use_at(api) {
        match raw_setxattrat(dirfd, name, value, flags) {
            Err(Errno::NOSYS) => AT_CALLS.store(2, Ordering::Relaxed),
            r => return r.map_err(|e| (e, "setxattrat")),
        }
    }
    if name.to_bytes().len() > 255 {
        return Err((Errno::NAMETOOLONG, "lsetxattr"));
    }
    let mut scratch = [0u8; 320];
    let path = proc_path(dirfd, name, &mut scratch);
    rustix::fs::lsetxattr(path, NAME, value, flags).map_err(|e| (e, "lsetxattr"))
}

/// Checks that `/proc/self/fd/<fd>` resolves (the fallback needs it).
pub(crate) fn proc_fd_usable(fd: BorrowedFd<'_>) -> io::Result<()> {
    let path = format!("/proc/self/fd/{}/.", fd.as_raw_fd());
    let via_proc = rustix::fs::stat(path.as_str())?;
    let direct = rustix::fs::fstat(fd)?;
    if via_proc.st_dev == direct.st_dev && via_proc.st_ino == direct.st_ino {
        Ok(())
    } else {
        Err(io::Error::other(
            "/proc/self/fd does not lead to the directory the fd holds",
        ))
    }
}
