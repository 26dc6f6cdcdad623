//! Parsed security contexts as opaque handles.

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use selinux_mcs::mls::Level;
use selinux_mcs::SecurityContext;

use crate::error::{self, cstring, null_out, ref_arg, str_arg, Error, Out};

/// A parsed, valid security context (opaque). Made by
/// selinux_mcs_context_parse() or selinux_mcs_context_with_range(), freed
/// with selinux_mcs_context_free(). Its string accessors lend pointers that
/// live as long as it does.
#[derive(Debug)]
pub struct selinux_mcs_context {
    pub(crate) ctx: SecurityContext,
    canonical: CString,
    user: CString,
    role: CString,
    type_: CString,
    range: Option<CString>,
    low: Option<CString>,
    high: Option<CString>,
}

impl selinux_mcs_context {
    pub(crate) fn new(ctx: SecurityContext) -> selinux_mcs_context {
        let text = |s: &str| cstring(s.to_owned());
        let level = |l: Option<&Level>| l.map(|l| cstring(l.to_string()));
        selinux_mcs_context {
            canonical: cstring(ctx.to_string()),
            user: text(ctx.user()),
            role: text(ctx.role()),
            type_: text(ctx.type_()),
            range: ctx.range().map(|r| cstring(r.to_string())),
            low: level(ctx.level()),
            high: level(ctx.high_level()),
            ctx,
        }
    }

    fn boxed(ctx: SecurityContext) -> *mut selinux_mcs_context {
        Box::into_raw(Box::new(selinux_mcs_context::new(ctx)))
    }
}

/// Parses a context text into a context.
pub(crate) fn parse_context(text: &str) -> Result<SecurityContext, Error> {
    text.parse().map_err(|e| {
        Error::new(
            error::selinux_mcs_status::SELINUX_MCS_ERR_PARSE,
            format!("bad context {text:?}: {e}"),
        )
    })
}

/// Parses `text` (`user:role:type[:range]`) into a new context handle.
///
/// The parser accepts what the kernel accepts: categories may come in any
/// order, with duplicates and ranges (`s0:c5,c2` is `s0:c2,c5`); the handle
/// prints canonically. On success `*out` is a handle the caller owns and
/// frees with selinux_mcs_context_free(); on failure it is NULL and the
/// status is SELINUX_MCS_ERR_PARSE (the message names the offending text
/// and its byte offset), SELINUX_MCS_ERR_UTF8 or SELINUX_MCS_ERR_NULL.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
#[doc(alias = "context_new")]
pub unsafe extern "C" fn selinux_mcs_context_parse(
    text: *const c_char,
    out: *mut *mut selinux_mcs_context,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `text`.
        let text = unsafe { str_arg(text, "text") }?;
        let ctx = parse_context(text)?;
        // SAFETY: checked not NULL; the caller promises it is writable.
        unsafe { out.write(selinux_mcs_context::boxed(ctx)) };
        Ok(())
    })
}

/// A copy of `context` at another MLS level (`"s0:c1,c2"`), or another range
/// (`"s0-s0:c0.c1023"`): the file label of a container's private pair, say.
///
/// On success `*out` is a new handle the caller frees with
/// selinux_mcs_context_free(); on failure it is NULL.
///
/// # Safety
/// `context` is NULL or a live handle; `range` is NULL or a NUL-terminated
/// string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_context_with_range(
    context: *const selinux_mcs_context,
    range: *const c_char,
    out: *mut *mut selinux_mcs_context,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promises about the arguments.
        let (context, text) = unsafe { (ref_arg(context, "context")?, str_arg(range, "range")?) };
        let range = crate::level::parse_range(text)?;
        let ctx = context.ctx.with_range(range);
        // SAFETY: checked not NULL; the caller promises it is writable.
        unsafe { out.write(selinux_mcs_context::boxed(ctx)) };
        Ok(())
    })
}

/// Frees a context handle. NULL is accepted and ignored.
///
/// # Safety
/// `context` is NULL or a handle from this library not yet freed; the
/// strings it lent are invalid afterwards.
#[no_mangle]
#[doc(alias = "context_free")]
pub unsafe extern "C" fn selinux_mcs_context_free(context: *mut selinux_mcs_context) {
    if !context.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(context) });
    }
}

/// Runs a string accessor: NULL (and SELINUX_MCS_ERR_NULL) for a NULL
/// handle.
///
/// # Safety
/// `context` is NULL or a live handle.
unsafe fn field(
    context: *const selinux_mcs_context,
    get: impl FnOnce(&selinux_mcs_context) -> Option<&CString>,
) -> *const c_char {
    error::value(ptr::null(), || {
        // SAFETY: the caller's promise about `context`.
        let context = unsafe { ref_arg(context, "context") }?;
        Ok(get(context).map_or(ptr::null(), |s| s.as_ptr()))
    })
}

/// The canonical text of the context (what the kernel prints:
/// `system_u:system_r:container_t:s0:c2,c5`).
///
/// Borrowed from the handle (valid until selinux_mcs_context_free()); do not
/// free it. NULL only when `context` is NULL.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
#[doc(alias = "context_str")]
pub unsafe extern "C" fn selinux_mcs_context_str(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| Some(&c.canonical)) }
}

/// The SELinux user (`system_u`). Borrowed from the handle; NULL only when
/// `context` is NULL.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
#[doc(alias = "context_user_get")]
pub unsafe extern "C" fn selinux_mcs_context_user(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| Some(&c.user)) }
}

/// The role (`system_r`, `object_r`). Borrowed from the handle; NULL only
/// when `context` is NULL.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
#[doc(alias = "context_role_get")]
pub unsafe extern "C" fn selinux_mcs_context_role(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| Some(&c.role)) }
}

/// The type (`container_t`). Borrowed from the handle; NULL only when
/// `context` is NULL.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
#[doc(alias = "context_type_get")]
pub unsafe extern "C" fn selinux_mcs_context_type(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| Some(&c.type_)) }
}

/// The MLS range, canonical (`s0:c1,c2`, `s0-s0:c0.c1023`), or NULL when
/// the context has no MLS field (selinux_mcs_last_error() is then NULL;
/// with a NULL `context` it says so). Borrowed from the handle.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
#[doc(alias = "context_range_get")]
pub unsafe extern "C" fn selinux_mcs_context_range(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| c.range.as_ref()) }
}

/// The low (current) level (`s0` of `s0-s0:c0.c1023`), or NULL when the
/// context has no MLS field. Borrowed from the handle.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_context_low(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| c.low.as_ref()) }
}

/// The high (clearance) level (`s0:c0.c1023` of `s0-s0:c0.c1023`; equal to
/// the low level for a single-level range), or NULL when the context has no
/// MLS field. Borrowed from the handle.
///
/// # Safety
/// `context` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_context_high(
    context: *const selinux_mcs_context,
) -> *const c_char {
    // SAFETY: forwarded.
    unsafe { field(context, |c| c.high.as_ref()) }
}
