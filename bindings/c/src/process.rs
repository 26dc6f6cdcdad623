//! The running kernel's SELinux (selinux_mcs::process): process
//! attributes, pid and peer labels, and the system's state, without
//! libselinux. With SELinux off every function here returns
//! SELINUX_MCS_ERR_DISABLED, and selinux_mcs_last_error() says how we can
//! tell.

use std::ffi::{c_char, c_int, c_uint};
use std::os::fd::BorrowedFd;

use selinux_mcs::policy::Mode;
use selinux_mcs::process::{self, Attr, ProcessError};
use selinux_mcs::SecurityContext;

use crate::context::parse_context;
use crate::error::{self, null_out, owned_string, str_arg, Error, Out};
use crate::selinux_mcs_status::*;

/// A task attribute, the files of /proc/PID/attr/ (the `attr` argument of
/// the selinux_mcs_*_attr_* functions).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum selinux_mcs_attr {
    /// `current`: the label the task runs with (getcon).
    SELINUX_MCS_ATTR_CURRENT = 0,
    /// `exec`: the label of the next program it executes (setexeccon).
    SELINUX_MCS_ATTR_EXEC = 1,
    /// `fscreate`: the label of files it creates (setfscreatecon).
    SELINUX_MCS_ATTR_FSCREATE = 2,
    /// `keycreate`: the label of kernel keys it creates (setkeycreatecon).
    SELINUX_MCS_ATTR_KEYCREATE = 3,
    /// `sockcreate`: the label of sockets it creates (setsockcreatecon).
    SELINUX_MCS_ATTR_SOCKCREATE = 4,
    /// `prev`: the label before its last execve (read only).
    SELINUX_MCS_ATTR_PREV = 5,
}

impl From<ProcessError> for Error {
    fn from(e: ProcessError) -> Error {
        let code = match &e {
            ProcessError::Disabled { .. } => SELINUX_MCS_ERR_DISABLED,
            ProcessError::InvalidContext { .. }
            | ProcessError::Unknown { .. }
            | ProcessError::InvalidArgument { .. } => SELINUX_MCS_ERR_INVALID,
            ProcessError::Unparsable { .. } => SELINUX_MCS_ERR_PARSE,
            _ => SELINUX_MCS_ERR_IO,
        };
        let errno = e.raw_os_error();
        Error::new(code, e.to_string()).with_errno(errno)
    }
}

fn attr_arg(attr: c_int) -> Result<Attr, Error> {
    Ok(match attr {
        0 => Attr::Current,
        1 => Attr::Exec,
        2 => Attr::FsCreate,
        3 => Attr::KeyCreate,
        4 => Attr::SockCreate,
        5 => Attr::Prev,
        _ => {
            return Err(Error::invalid(format!(
                "attr {attr} is not a selinux_mcs_attr (0 to 5)"
            )))
        }
    })
}

/// A file descriptor argument, borrowed for the call.
///
/// # Safety
/// `fd` is -1 or below (refused), or an open descriptor for the call.
unsafe fn fd_arg<'a>(fd: c_int, name: &str) -> Result<BorrowedFd<'a>, Error> {
    if fd < 0 {
        return Err(Error::invalid(format!(
            "argument `{name}` is {fd}, not a file descriptor"
        )));
    }
    // SAFETY: not negative; the caller promises it stays open for the call.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Stores an optional context in a `char **`.
///
/// # Safety
/// `out` was checked not NULL and is writable.
unsafe fn write_context(out: Out<*mut c_char>, ctx: Option<SecurityContext>) {
    let p = ctx.map_or(std::ptr::null_mut(), |c| owned_string(c.to_string()));
    // SAFETY: the caller's promise.
    unsafe { out.write(p) };
}

/// Whether SELinux is running: a writable selinuxfs is mounted and a
/// policy is loaded. 1 or 0; never fails.
/// selinux_mcs_selinuxfs_mount() says where, or why not.
#[no_mangle]
pub extern "C" fn selinux_mcs_selinux_enabled() -> c_int {
    error::value(0, || Ok(c_int::from(process::is_enabled())))
}

/// Where selinuxfs is mounted (`/sys/fs/selinux`): `*mount_out` is set
/// (free it with selinux_mcs_string_free()). When SELinux is not running,
/// SELINUX_MCS_ERR_DISABLED and selinux_mcs_last_error() says how we can
/// tell ("SELinux is not enabled: /proc/filesystems lists no selinuxfs
/// ...": not in the kernel, not mounted, mounted read-only, no policy).
///
/// # Safety
/// `mount_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_selinuxfs_mount(mount_out: *mut *mut c_char) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(mount_out) };
    error::status(|| {
        let out = Out::new(mount_out, "mount_out")?;
        let mount = process::selinuxfs_mount().map_err(|why| {
            Error::new(
                SELINUX_MCS_ERR_DISABLED,
                format!("SELinux is not enabled: {why}"),
            )
        })?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(mount.display().to_string())) };
        Ok(())
    })
}

/// Reads the calling thread's attribute `attr` (a selinux_mcs_attr) from
/// /proc/thread-self/attr/ (/proc/self/task/TID/attr/ without
/// thread-self). On success `*context_out` is the canonical context (free
/// it with selinux_mcs_string_free()), or NULL when the attribute is unset
/// (exec, fscreate, keycreate, sockcreate before they are set).
///
/// SELINUX_MCS_ERR_INVALID for an `attr` that is not one;
/// SELINUX_MCS_ERR_DISABLED without SELinux; SELINUX_MCS_ERR_IO when the
/// read fails (selinux_mcs_last_errno()).
///
/// # Safety
/// `context_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_thread_attr_get(
    attr: c_int,
    context_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        let ctx = process::thread_attr(attr_arg(attr)?)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, ctx) };
        Ok(())
    })
}

/// Sets the calling thread's attribute `attr` to `context`, or clears it
/// when `context` is NULL (one write to /proc/thread-self/attr/ATTR, as
/// libselinux's setexeccon() and friends). The attribute is this
/// thread's: set it, create the child (fork+execve), file, key or socket
/// on the same thread, then clear it.
///
/// The kernel's answers: SELINUX_MCS_ERR_INVALID with errno EINVAL for a
/// context the loaded policy does not accept; SELINUX_MCS_ERR_IO with
/// errno EACCES or EPERM when the policy does not allow it;
/// SELINUX_MCS_ERR_DISABLED without SELinux. `context` is parsed first
/// (SELINUX_MCS_ERR_PARSE). SELINUX_MCS_ATTR_PREV cannot be set and
/// SELINUX_MCS_ATTR_CURRENT cannot be cleared (SELINUX_MCS_ERR_INVALID).
///
/// # Safety
/// `context` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_thread_attr_set(attr: c_int, context: *const c_char) -> c_int {
    error::status(|| {
        let attr = attr_arg(attr)?;
        let ctx = if context.is_null() {
            None
        } else {
            // SAFETY: not NULL; NUL-terminated (caller).
            Some(parse_context(unsafe { str_arg(context, "context") }?)?)
        };
        process::set_thread_attr(attr, ctx.as_ref())?;
        Ok(())
    })
}

/// Reads attribute `attr` of process (or thread) `pid` from
/// /proc/PID/attr/ATTR: `*context_out` as in selinux_mcs_thread_attr_get()
/// (SELINUX_MCS_ATTR_CURRENT is the label `ps -Z` shows).
/// SELINUX_MCS_ERR_IO with errno ESRCH when there is no such process,
/// EACCES when the policy hides it; SELINUX_MCS_ERR_INVALID for `pid` < 1.
///
/// # Safety
/// `context_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_pid_attr_get(
    pid: c_int,
    attr: c_int,
    context_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        let ctx = process::pid_attr(pid, attr_arg(attr)?)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, ctx) };
        Ok(())
    })
}

/// The label of the process on the other end of the connected socket `fd`
/// (getsockopt SO_PEERSEC, libselinux's getpeercon()): `*context_out`, to
/// free with selinux_mcs_string_free(). SELINUX_MCS_ERR_IO with errno
/// ENOPROTOOPT when the socket has no labeled peer.
///
/// # Safety
/// `fd` is open for the call; `context_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_peer_label(fd: c_int, context_out: *mut *mut c_char) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        // SAFETY: the caller's promise.
        let fd = unsafe { fd_arg(fd, "fd") }?;
        let ctx = process::peer_label(fd)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, Some(ctx)) };
        Ok(())
    })
}

/// The kernel's label of the open descriptor `fd` (a file, a pipe, a
/// socket): fgetxattr(fd, "security.selinux"), needing SELinux running
/// (selinux_mcs_label_get() reads a file's stored label on any host).
///
/// # Safety
/// `fd` is open for the call; `context_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_fd_label(fd: c_int, context_out: *mut *mut c_char) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        // SAFETY: the caller's promise.
        let fd = unsafe { fd_arg(fd, "fd") }?;
        let ctx = process::fd_label(fd)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, Some(ctx)) };
        Ok(())
    })
}

/// The running mode, read from /sys/fs/selinux/enforce: `*enforcing_out`
/// is 1 (enforcing) or 0 (permissive). SELINUX_MCS_ERR_DISABLED without
/// SELinux.
///
/// # Safety
/// `enforcing_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_enforce_mode(enforcing_out: *mut c_int) -> c_int {
    error::status(|| {
        let out = Out::new(enforcing_out, "enforcing_out")?;
        let mode = process::enforce_mode()?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(c_int::from(mode == Mode::Enforcing)) };
        Ok(())
    })
}

/// Switches to enforcing (`enforcing` 1) or permissive (0) mode, as
/// setenforce does. SELINUX_MCS_ERR_INVALID for another value;
/// SELINUX_MCS_ERR_IO with EACCES or EPERM when not permitted.
#[no_mangle]
pub extern "C" fn selinux_mcs_set_enforce_mode(enforcing: c_int) -> c_int {
    error::status(|| {
        let mode = match enforcing {
            1 => Mode::Enforcing,
            0 => Mode::Permissive,
            _ => {
                return Err(Error::invalid(format!(
                    "enforcing is {enforcing}: 1 (enforcing) or 0 (permissive)"
                )))
            }
        };
        process::set_enforce_mode(mode)?;
        Ok(())
    })
}

/// Whether the loaded policy has MLS/MCS levels (/sys/fs/selinux/mls):
/// `*enabled_out` is 1 or 0.
///
/// # Safety
/// `enabled_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_mls_enabled(enabled_out: *mut c_int) -> c_int {
    error::status(|| {
        let out = Out::new(enabled_out, "enabled_out")?;
        let mls = process::mls_enabled()?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(c_int::from(mls)) };
        Ok(())
    })
}

/// The loaded policy's format version (/sys/fs/selinux/policyvers).
///
/// # Safety
/// `version_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_policy_version(version_out: *mut c_uint) -> c_int {
    error::status(|| {
        let out = Out::new(version_out, "version_out")?;
        let v = process::policy_version()?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(v) };
        Ok(())
    })
}

/// The number of object class `class` in the loaded policy
/// (/sys/fs/selinux/class/CLASS/index). SELINUX_MCS_ERR_INVALID when the
/// policy has no such class or the name cannot be one.
///
/// # Safety
/// `class` is NULL or a NUL-terminated string; `index_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_class_index(
    class: *const c_char,
    index_out: *mut u16,
) -> c_int {
    error::status(|| {
        let out = Out::new(index_out, "index_out")?;
        // SAFETY: the caller's promise.
        let class = unsafe { str_arg(class, "class") }?;
        let i = process::class_index(class)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(i) };
        Ok(())
    })
}

/// The bit of permission `perm` of class `class` in an access vector
/// (1 << (N - 1) for N in /sys/fs/selinux/class/CLASS/perms/PERM).
/// SELINUX_MCS_ERR_INVALID when either does not exist.
///
/// # Safety
/// `class` and `perm` are NULL or NUL-terminated strings; `bit_out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_permission_bit(
    class: *const c_char,
    perm: *const c_char,
    bit_out: *mut u32,
) -> c_int {
    error::status(|| {
        let out = Out::new(bit_out, "bit_out")?;
        // SAFETY: the caller's promises.
        let (class, perm) = unsafe { (str_arg(class, "class")?, str_arg(perm, "perm")?) };
        let bit = process::permission_bit(class, perm)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(bit) };
        Ok(())
    })
}

/// Asks the loaded policy whether `context` is valid (a write to
/// /sys/fs/selinux/context, as security_check_context()): SELINUX_MCS_OK,
/// or SELINUX_MCS_ERR_INVALID (errno EINVAL) when the policy rejects it.
///
/// # Safety
/// `context` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_check_context(context: *const c_char) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promise.
        let text = unsafe { str_arg(context, "context") }?;
        process::check_context(text)?;
        Ok(())
    })
}

/// The kernel's canonical form of `context` (type aliases resolved, as
/// security_canonicalize_context()): `*canonical_out`, to free with
/// selinux_mcs_string_free(). SELINUX_MCS_ERR_INVALID (EINVAL) when the
/// policy rejects it.
///
/// # Safety
/// `context` is NULL or a NUL-terminated string; `canonical_out` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_canonicalize_context(
    context: *const c_char,
    canonical_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(canonical_out) };
    error::status(|| {
        let out = Out::new(canonical_out, "canonical_out")?;
        // SAFETY: the caller's promise.
        let text = unsafe { str_arg(context, "context") }?;
        let ctx = process::canonicalize_context(text)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, Some(ctx)) };
        Ok(())
    })
}

/// The label the kernel gives an object of class `class` that `source`
/// creates in `target` (security_compute_create()): `*context_out`, to
/// free with selinux_mcs_string_free().
///
/// # Safety
/// `source`, `target` and `class` are NULL or NUL-terminated strings;
/// `context_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_compute_create(
    source: *const c_char,
    target: *const c_char,
    class: *const c_char,
    context_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        // SAFETY: the caller's promises.
        let (source, target, class) = unsafe {
            (
                str_arg(source, "source")?,
                str_arg(target, "target")?,
                str_arg(class, "class")?,
            )
        };
        let (source, target) = (parse_context(source)?, parse_context(target)?);
        let ctx = process::compute_create(&source, &target, class)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { write_context(out, Some(ctx)) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attr_value_maps() {
        for (i, a) in Attr::ALL.iter().enumerate() {
            assert_eq!(attr_arg(i as c_int).ok(), Some(*a));
        }
        assert!(attr_arg(6).is_err());
        assert!(attr_arg(-1).is_err());
        assert_eq!(
            selinux_mcs_attr::SELINUX_MCS_ATTR_PREV as c_int,
            Attr::ALL.len() as c_int - 1
        );
    }
}
