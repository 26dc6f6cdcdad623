//! C ABI for `selinux-mcs`: parse and explain contexts, compare levels,
//! decide MCS access, allocate pairs from the registry, read and write
//! labels, relabel trees, and ask the running kernel (process labels,
//! socket peers, the mode) without libselinux.
//!
//! The header `include/selinux_mcs.h` is generated from this crate by
//! `generate-header.sh` (cbindgen) and committed; the C tests in `tests/`
//! call every function (`run-tests.sh`).
//!
//! Conventions, the same for every function:
//! - Functions that can fail return an `int` status: `SELINUX_MCS_OK` (0)
//!   or a negative `SELINUX_MCS_ERR_*` code. The message of the last failure
//!   of the calling thread is `selinux_mcs_last_error()`, its errno
//!   `selinux_mcs_last_errno()`. Every call clears them first, except these
//!   two, `selinux_mcs_strerror`, `selinux_mcs_version` and the free
//!   functions.
//! - A NULL pointer where the documentation does not allow one is
//!   `SELINUX_MCS_ERR_NULL`, never a crash. A Rust panic never crosses the
//!   boundary: it becomes `SELINUX_MCS_ERR_PANIC`.
//! - Strings in and out are NUL-terminated UTF-8; paths are any bytes.
//! - Every returned pointer says who owns it: `char *` out-parameters are the
//!   caller's, freed with `selinux_mcs_string_free`; handles are freed with
//!   their own `*_free` function; `const char *` results are borrowed from
//!   the handle they come from and live as long as it does. Every free
//!   function accepts NULL.
//! - On failure, pointer out-parameters are set to NULL.
//! - Handles may be moved between threads; a context, relabel, report,
//!   entry list or policy may be used from several threads at once (the
//!   relabel setters and selinux_mcs_policy_set_boolean() need exclusive
//!   use); a registry handle serializes its calls.
//!
//! The header's opening comment (in `cbindgen.toml`) says the same: keep
//! them in step.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int};

// The header lists items in the order of these modules: keep them in the
// order a reader meets them (status codes, contexts, levels, explanations,
// MCS, labels, the running kernel, the binary policy).
mod error;

mod context;

mod level;

mod explain;

mod mcs;

mod label;

mod policy;
mod process;

pub use context::*;
pub use error::selinux_mcs_status;
pub use explain::*;
pub use label::*;
pub use level::*;
pub use mcs::*;
pub use policy::*;
pub use process::*;

/// The library version (`"0.1.0"`), a static string: never free it.
#[no_mangle]
pub extern "C" fn selinux_mcs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on this thread ("bad context
/// \"x\": ..."), or NULL when the last call succeeded.
///
/// Owned by the library: valid until the next selinux_mcs call on this
/// thread; copy it to keep it. Never free it.
#[no_mangle]
pub extern "C" fn selinux_mcs_last_error() -> *const c_char {
    error::last_message()
}

/// The errno of the last failed call on this thread when a system call
/// failed (ENOTSUP: the filesystem has no SELinux labels, ENODATA: the file
/// has no label, ENOENT, EACCES, ...), else 0.
#[no_mangle]
pub extern "C" fn selinux_mcs_last_errno() -> c_int {
    error::last_errno()
}

/// A static description of a status code ("a pointer argument is NULL",
/// ...); "unknown status code" for a value that is not one. Never free it.
#[no_mangle]
pub extern "C" fn selinux_mcs_strerror(code: c_int) -> *const c_char {
    use selinux_mcs_status::*;
    const TEXTS: &[(selinux_mcs_status, &str)] = &[
        (SELINUX_MCS_OK, "success\0"),
        (SELINUX_MCS_ERR_NULL, "a pointer argument is NULL\0"),
        (
            SELINUX_MCS_ERR_UTF8,
            "a string argument is not valid UTF-8\0",
        ),
        (SELINUX_MCS_ERR_PARSE, "the text does not parse\0"),
        (SELINUX_MCS_ERR_INVALID, "invalid argument\0"),
        (SELINUX_MCS_ERR_IO, "a system call failed\0"),
        (SELINUX_MCS_ERR_PROTECTED, "protected path\0"),
        (SELINUX_MCS_ERR_EXHAUSTED, "no free MCS pair left\0"),
        (
            SELINUX_MCS_ERR_TAKEN,
            "the MCS pair or owner is already taken\0",
        ),
        (
            SELINUX_MCS_ERR_REGISTRY,
            "the registry database cannot be used\0",
        ),
        (
            SELINUX_MCS_ERR_POLICY,
            "a policy file cannot be read or parsed\0",
        ),
        (SELINUX_MCS_ERR_DISABLED, "SELinux is not enabled\0"),
        (SELINUX_MCS_ERR_PANIC, "internal error\0"),
    ];
    let s = TEXTS
        .iter()
        .find(|(status, _)| *status as c_int == code)
        .map_or("unknown status code\0", |(_, text)| text);
    s.as_ptr().cast()
}

/// Frees a string this library returned through a `char **`
/// out-parameter. NULL is accepted and ignored. Passing any other pointer
/// (one from malloc, or a `const char *` a handle lends) is undefined
/// behaviour.
///
/// # Safety
/// `s` is NULL or a string from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the caller promises `s` came from `CString::into_raw` in
        // this library and is freed once.
        drop(unsafe { std::ffi::CString::from_raw(s) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_can_cross_threads() {
        fn is<T: Send + Sync>() {}
        is::<selinux_mcs_context>();
        is::<selinux_mcs_registry>();
        is::<selinux_mcs_entry_list>();
        is::<selinux_mcs_relabel>();
        is::<selinux_mcs_report>();
        is::<selinux_mcs_policy>();
    }
}
