//! Explaining a context, as the JSON `relabel explain --json` prints.

use std::ffi::{c_char, c_int};

use selinux_mcs::explain::Explanation;
use selinux_mcs::policy::Translations;

use crate::context::parse_context;
use crate::error::{self, null_out, owned_string, path_arg, str_arg, Out};

/// Explains `context` field by field, as one JSON object (the document
/// `relabel explain --json` prints):
///
/// `{"context": the text given, "canonical": "...", "user": "...",
/// "role": "...", "type": "...", "range": "s0:c1,c2" or null,
/// "low": {"sensitivity": "s0", "categories": ["c1", "c2"]} or null,
/// "high": (the same shape) or null, "meaning": "a sentence",
/// "translation": "the setrans.conf name" or null}`.
///
/// `setrans` is the path of a setrans.conf (mcstrans) to translate the
/// range with, or NULL for no translation. On success `*json_out` is a
/// string the caller frees with selinux_mcs_string_free(); on failure it is
/// NULL and the status is SELINUX_MCS_ERR_PARSE (bad context),
/// SELINUX_MCS_ERR_POLICY (setrans.conf unreadable or bad) or
/// SELINUX_MCS_ERR_NULL/SELINUX_MCS_ERR_UTF8.
///
/// # Safety
/// `context` is NULL or a NUL-terminated string; `setrans` is NULL or a
/// NUL-terminated path; `json_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_explain_json(
    context: *const c_char,
    setrans: *const c_char,
    json_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `json_out` is NULL or writable (caller).
    unsafe { null_out(json_out) };
    error::status(|| {
        let out = Out::new(json_out, "json_out")?;
        // SAFETY: the caller's promise about `context`.
        let text = unsafe { str_arg(context, "context") }?;
        let ctx = parse_context(text)?;
        let explanation = if setrans.is_null() {
            Explanation::new(&ctx)
        } else {
            // SAFETY: not NULL; the caller promises a NUL-terminated path.
            let path = unsafe { path_arg(setrans, "setrans") }?;
            Explanation::with_translations(&ctx, &Translations::from_path(path)?)
        };
        let doc = explanation.to_json(text);
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(doc.to_string())) };
        Ok(())
    })
}
