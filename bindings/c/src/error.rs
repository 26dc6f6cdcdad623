//! Status codes, the thread-local last error, and the guard every exported
//! function runs its body in (argument checks, panics caught).

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use selinux_mcs::label::{LabelError, ProtectedError, RelabelError};
use selinux_mcs::mcs::{McsError, McsErrorKind};
use selinux_mcs::policy::PolicyError;

/// The status codes every fallible function returns (as an `int`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum selinux_mcs_status {
    /// Success.
    SELINUX_MCS_OK = 0,
    /// A pointer argument that must not be NULL was NULL.
    SELINUX_MCS_ERR_NULL = -1,
    /// A string argument is not valid UTF-8 (the message gives the byte offset).
    SELINUX_MCS_ERR_UTF8 = -2,
    /// Context or level text does not parse (the message names the text, the
    /// byte offset and what was expected).
    SELINUX_MCS_ERR_PARSE = -3,
    /// An argument has the right form but is not acceptable here: an unknown
    /// permission name, a level that is not an MCS pair, a pair reserved by
    /// convention, a bad owner name, an index out of range.
    SELINUX_MCS_ERR_INVALID = -4,
    /// A system call failed (reading or writing a label, opening a file);
    /// selinux_mcs_last_errno() gives the errno.
    SELINUX_MCS_ERR_IO = -5,
    /// A relabel was refused because its root is a protected path (/, /usr,
    /// a home directory, ...).
    SELINUX_MCS_ERR_PROTECTED = -6,
    /// No free MCS pair is left in the pool.
    SELINUX_MCS_ERR_EXHAUSTED = -7,
    /// The pair is held by another owner, or the owner holds another pair.
    SELINUX_MCS_ERR_TAKEN = -8,
    /// The registry database cannot be used: not a registry, corrupted, a newer
    /// schema, an SQLite failure, or its lock held too long by another process.
    SELINUX_MCS_ERR_REGISTRY = -9,
    /// A policy file (setrans.conf, a binary policy) cannot be read or parsed.
    SELINUX_MCS_ERR_POLICY = -10,
    /// SELinux is not running (no selinuxfs in the kernel, not mounted,
    /// mounted read-only, or no policy loaded): the message says how we can
    /// tell. Only the functions that ask the running kernel return it.
    SELINUX_MCS_ERR_DISABLED = -11,
    /// An internal error (a caught Rust panic): a bug in selinux-mcs, please
    /// report it with the message.
    SELINUX_MCS_ERR_PANIC = -99,
}

use selinux_mcs_status::*;

/// A failed call: its status code, message and errno (0 when no system
/// call failed).
#[derive(Debug)]
pub(crate) struct Error {
    code: selinux_mcs_status,
    message: String,
    errno: i32,
}

impl Error {
    pub(crate) fn new(code: selinux_mcs_status, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            errno: 0,
        }
    }

    pub(crate) fn null(name: &str) -> Error {
        Error::new(SELINUX_MCS_ERR_NULL, format!("argument `{name}` is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(SELINUX_MCS_ERR_INVALID, message)
    }

    pub(crate) fn with_errno(mut self, errno: Option<i32>) -> Error {
        self.errno = errno.unwrap_or(0);
        self
    }

    fn panic(payload: &(dyn Any + Send)) -> Error {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        Error::new(
            SELINUX_MCS_ERR_PANIC,
            format!("internal error (a bug in selinux-mcs, please report it): {what}"),
        )
    }
}

impl From<LabelError> for Error {
    fn from(e: LabelError) -> Error {
        let errno = e.raw_os_error();
        let code = match e {
            LabelError::Invalid { .. } => SELINUX_MCS_ERR_PARSE,
            _ => SELINUX_MCS_ERR_IO,
        };
        Error::new(code, e.to_string()).with_errno(errno)
    }
}

impl From<RelabelError> for Error {
    fn from(e: RelabelError) -> Error {
        match e {
            RelabelError::Protected(p @ ProtectedError::Unresolvable { .. }) => {
                let errno = p.raw_os_error();
                Error::new(SELINUX_MCS_ERR_IO, p.to_string()).with_errno(errno)
            }
            RelabelError::Protected(p) => Error::new(SELINUX_MCS_ERR_PROTECTED, p.to_string()),
            RelabelError::Root(l) => l.into(),
            RelabelError::NoSafeXattrCall(ref io) => {
                let errno = io.raw_os_error();
                Error::new(SELINUX_MCS_ERR_IO, e.to_string()).with_errno(errno)
            }
            _ => Error::new(SELINUX_MCS_ERR_IO, e.to_string()),
        }
    }
}

impl From<McsError> for Error {
    fn from(e: McsError) -> Error {
        let code = match e.kind() {
            McsErrorKind::Parse => SELINUX_MCS_ERR_PARSE,
            McsErrorKind::Invalid => SELINUX_MCS_ERR_INVALID,
            McsErrorKind::Exhausted => SELINUX_MCS_ERR_EXHAUSTED,
            McsErrorKind::Taken => SELINUX_MCS_ERR_TAKEN,
            McsErrorKind::Io => SELINUX_MCS_ERR_IO,
            _ => SELINUX_MCS_ERR_REGISTRY,
        };
        Error::new(code, e.to_string()).with_errno(e.raw_os_error())
    }
}

impl From<PolicyError> for Error {
    fn from(e: PolicyError) -> Error {
        let errno = match &e {
            PolicyError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        };
        Error::new(SELINUX_MCS_ERR_POLICY, e.to_string()).with_errno(errno)
    }
}

/// The last error of this thread: its message (NUL-terminated, handed out by
/// `selinux_mcs_last_error`) and errno.
struct Last {
    message: Option<CString>,
    errno: i32,
}

thread_local! {
    static LAST: RefCell<Last> = const { RefCell::new(Last { message: None, errno: 0 }) };
}

fn set_last(e: Error) -> c_int {
    let code = e.code as c_int;
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        l.message = Some(cstring(e.message));
        l.errno = e.errno;
    });
    code
}

fn clear_last() {
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        l.message = None;
        l.errno = 0;
    });
}

/// The message of the last error of this thread, or NULL.
pub(crate) fn last_message() -> *const c_char {
    LAST.with(|l| {
        l.borrow()
            .message
            .as_ref()
            .map_or(std::ptr::null(), |m| m.as_ptr())
    })
}

/// The errno of the last error of this thread, or 0.
pub(crate) fn last_errno() -> c_int {
    LAST.with(|l| l.borrow().errno)
}

/// Runs the body of an exported function that returns a status code:
/// clears the last error, catches a panic, records the error.
pub(crate) fn status(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    match guard(f) {
        Ok(()) => SELINUX_MCS_OK as c_int,
        Err(code) => code,
    }
}

/// Runs the body of an exported function that returns a value, returning
/// `fallback` (and recording the error) when it fails or panics.
pub(crate) fn value<T>(fallback: T, f: impl FnOnce() -> Result<T, Error>) -> T {
    guard(f).unwrap_or(fallback)
}

/// Clears the last error, runs `f` catching a panic, and records the error
/// (returning its code) when there is one.
fn guard<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, c_int> {
    clear_last();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(set_last(e)),
        Err(payload) => Err(set_last(Error::panic(payload.as_ref()))),
    }
}

/// A `CString` from text that cannot hold NUL in practice (contexts, paths,
/// messages); an interior NUL is shown as `\0` rather than failing.
pub(crate) fn cstring(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let escaped = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
        CString::new(escaped).unwrap_or_default()
    })
}

/// A string handed to C, to free with `selinux_mcs_string_free`.
pub(crate) fn owned_string(s: String) -> *mut c_char {
    cstring(s).into_raw()
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::null(name));
    }
    // SAFETY: not NULL, and the caller promises a NUL-terminated string
    // that lives long enough.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            SELINUX_MCS_ERR_UTF8,
            format!(
                "argument `{name}` is not valid UTF-8 (bad byte at offset {}): {:?}",
                e.valid_up_to(),
                String::from_utf8_lossy(bytes)
            ),
        )
    })
}

/// A NUL-terminated path argument: any bytes but NUL (Linux paths need not
/// be UTF-8).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn path_arg<'a>(p: *const c_char, name: &str) -> Result<&'a Path, Error> {
    if p.is_null() {
        return Err(Error::null(name));
    }
    // SAFETY: as in `str_arg`.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Ok(Path::new(OsStr::from_bytes(bytes)))
}

/// A handle argument.
///
/// # Safety
/// `p` is NULL or points to a live `T` made by this library, not used
/// mutably elsewhere during `'a`.
pub(crate) unsafe fn ref_arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller promises a live handle when not NULL.
    unsafe { p.as_ref() }.ok_or_else(|| Error::null(name))
}

/// A handle argument the call changes.
///
/// # Safety
/// `p` is NULL or points to a live `T` made by this library, not used
/// elsewhere during `'a`.
pub(crate) unsafe fn mut_arg<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: the caller promises a live, unshared handle when not NULL.
    unsafe { p.as_mut() }.ok_or_else(|| Error::null(name))
}

/// An out-parameter the call must fill.
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// Checks `p` is not NULL.
    pub(crate) fn new(p: *mut T, name: &str) -> Result<Out<T>, Error> {
        if p.is_null() {
            return Err(Error::null(name));
        }
        Ok(Out(p))
    }

    /// An optional out-parameter: `None` when `p` is NULL.
    pub(crate) fn optional(p: *mut T) -> Option<Out<T>> {
        (!p.is_null()).then_some(Out(p))
    }

    /// Stores `v`.
    ///
    /// # Safety
    /// The pointer given to `new` points to writable memory for a `T`.
    pub(crate) unsafe fn write(self, v: T) {
        // SAFETY: not NULL (checked in `new`), writable (caller); `write`
        // does not drop whatever garbage was there.
        unsafe { self.0.write(v) }
    }
}

/// Sets a pointer out-parameter to NULL, if it is not NULL itself, so that a
/// failed call leaves nothing for the caller to free.
///
/// # Safety
/// `p` is NULL or points to writable memory for a pointer.
pub(crate) unsafe fn null_out<T>(p: *mut *mut T) {
    if !p.is_null() {
        // SAFETY: not NULL; the caller promises it is writable.
        unsafe { p.write(std::ptr::null_mut()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error() {
        let code = status(|| panic!("boom"));
        assert_eq!(code, SELINUX_MCS_ERR_PANIC as c_int);
        // SAFETY: the message is a live CString of this thread.
        let msg = unsafe { CStr::from_ptr(last_message()) }.to_str().unwrap();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(value(7, || -> Result<i32, Error> { panic!("x") }), 7);
    }

    #[test]
    fn success_clears_the_last_error() {
        status(|| Err(Error::invalid("nope")));
        assert!(!last_message().is_null());
        assert_eq!(status(|| Ok(())), 0);
        assert!(last_message().is_null());
        assert_eq!(last_errno(), 0);
    }

    #[test]
    fn an_unresolvable_root_keeps_its_errno() {
        let e = selinux_mcs::label::RelabelError::Protected(ProtectedError::unresolvable(
            "/x",
            std::io::Error::from_raw_os_error(2),
        ));
        let e = Error::from(e);
        assert_eq!((e.code, e.errno), (SELINUX_MCS_ERR_IO, 2));
    }

    #[test]
    fn interior_nul_is_escaped() {
        assert_eq!(cstring("a\0b".into()).to_str().unwrap(), "a\\0b");
    }
}
