//! MLS levels: canonical form, comparison, dominance.

use std::cmp::Ordering;
use std::ffi::{c_char, c_int};

use selinux_mcs::mls::{Level, MlsRange};

use crate::error::{self, null_out, owned_string, str_arg, Error, Out};

/// The results of selinux_mcs_level_compare().
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum selinux_mcs_level_order {
    /// `a` is dominated by `b` (and differs).
    SELINUX_MCS_LEVEL_DOMINATED = -1,
    /// `a` equals `b` (same sensitivity and categories).
    SELINUX_MCS_LEVEL_EQUAL = 0,
    /// `a` dominates `b` (and differs).
    SELINUX_MCS_LEVEL_DOMINATES = 1,
    /// Neither dominates the other (`s0:c1` and `s0:c2`).
    SELINUX_MCS_LEVEL_INCOMPARABLE = 2,
}

/// Parses level text (`s0:c1,c2`), naming the text on failure.
pub(crate) fn parse_level(text: &str) -> Result<Level, Error> {
    text.parse().map_err(|e| {
        Error::new(
            error::selinux_mcs_status::SELINUX_MCS_ERR_PARSE,
            format!("bad level {text:?}: {e}"),
        )
    })
}

/// Parses range text (`s0-s0:c0.c1023`), naming the text on failure.
pub(crate) fn parse_range(text: &str) -> Result<MlsRange, Error> {
    text.parse().map_err(|e| {
        Error::new(
            error::selinux_mcs_status::SELINUX_MCS_ERR_PARSE,
            format!("bad range {text:?}: {e}"),
        )
    })
}

/// Parses two level arguments.
///
/// # Safety
/// `a` and `b` are NULL or NUL-terminated strings.
unsafe fn two_levels(a: *const c_char, b: *const c_char) -> Result<(Level, Level), Error> {
    // SAFETY: the caller's promises.
    let (a, b) = unsafe { (str_arg(a, "a")?, str_arg(b, "b")?) };
    Ok((parse_level(a)?, parse_level(b)?))
}

/// Compares two levels (`"s0:c1,c2"`, `"s0"`, `"s3:c0.c10"`) by
/// dominance: `*result` (one of `selinux_mcs_level_order`) is
/// SELINUX_MCS_LEVEL_DOMINATES when `a` dominates
/// `b` (a sensitivity at least b's and a superset of its categories) and
/// they differ, SELINUX_MCS_LEVEL_DOMINATED when `b` dominates `a`,
/// SELINUX_MCS_LEVEL_EQUAL, or SELINUX_MCS_LEVEL_INCOMPARABLE.
///
/// Returns SELINUX_MCS_ERR_PARSE for a level that does not parse
/// (`*result` is then left alone).
///
/// # Safety
/// `a`, `b` are NULL or NUL-terminated strings; `result` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_level_compare(
    a: *const c_char,
    b: *const c_char,
    result: *mut c_int,
) -> c_int {
    error::status(|| {
        let out = Out::new(result, "result")?;
        // SAFETY: forwarded.
        let (a, b) = unsafe { two_levels(a, b) }?;
        let r = match a.partial_cmp(&b) {
            Some(Ordering::Less) => selinux_mcs_level_order::SELINUX_MCS_LEVEL_DOMINATED,
            Some(Ordering::Equal) => selinux_mcs_level_order::SELINUX_MCS_LEVEL_EQUAL,
            Some(Ordering::Greater) => selinux_mcs_level_order::SELINUX_MCS_LEVEL_DOMINATES,
            None => selinux_mcs_level_order::SELINUX_MCS_LEVEL_INCOMPARABLE,
        };
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(r as c_int) };
        Ok(())
    })
}

/// Whether level `a` dominates level `b` (equal levels dominate each
/// other): `*result` is true or false. `"s0:c1,c2"` dominates `"s0:c1"` and
/// `"s0"`, not `"s0:c3"`.
///
/// Returns SELINUX_MCS_ERR_PARSE for a level that does not parse.
///
/// # Safety
/// `a`, `b` are NULL or NUL-terminated strings; `result` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_level_dominates(
    a: *const c_char,
    b: *const c_char,
    result: *mut bool,
) -> c_int {
    error::status(|| {
        let out = Out::new(result, "result")?;
        // SAFETY: forwarded.
        let (a, b) = unsafe { two_levels(a, b) }?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(a.dominates(&b)) };
        Ok(())
    })
}

/// The canonical text of a level: `"s0:c2,c0,c1"` gives `"s0:c0.c2"`,
/// `"s0:c5,c2"` gives `"s0:c2,c5"`.
///
/// On success `*out` is a string the caller frees with
/// selinux_mcs_string_free(); on failure it is NULL.
///
/// # Safety
/// `level` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_level_canonical(
    level: *const c_char,
    out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `level`.
        let level = parse_level(unsafe { str_arg(level, "level") }?)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(level.to_string())) };
        Ok(())
    })
}
