//! The binary policy: access decisions (`compute_av`) and AVC records
//! explained (`why`).

use std::ffi::{c_char, c_int};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use selinux_mcs::avc::{AvcLog, Why};
use selinux_mcs::policydb::{Access, AccessError, Policy, PolicyDbError};

use crate::context::parse_context;
use crate::error::{self, mut_arg, null_out, owned_string, path_arg, ref_arg, str_arg, Error, Out};
use crate::selinux_mcs_status::{
    SELINUX_MCS_ERR_INVALID, SELINUX_MCS_ERR_PARSE, SELINUX_MCS_ERR_POLICY,
};

/// A loaded binary policy with its access decisions (opaque): made by
/// selinux_mcs_policy_open(), freed with selinux_mcs_policy_free().
/// Decisions are cached in the handle; it may be used from several threads
/// at once, except selinux_mcs_policy_set_boolean(), which needs it alone.
#[derive(Debug)]
pub struct selinux_mcs_policy {
    /// Borrows `*policy`: dropped first, by hand (see `Drop`).
    access: ManuallyDrop<Access<'static>>,
    /// From `Box::leak`; freed in `Drop`, after `access`.
    policy: NonNull<Policy>,
}

// SAFETY: the handle owns the policy (plain data) and the decisions that
// borrow it; both are `Send + Sync` (the decision cache is behind a lock),
// and nothing else refers to the policy.
unsafe impl Send for selinux_mcs_policy {}
// SAFETY: as above; shared use only reads the policy and locks the cache.
unsafe impl Sync for selinux_mcs_policy {}

impl selinux_mcs_policy {
    fn new(policy: Policy) -> selinux_mcs_policy {
        let policy: &'static Policy = Box::leak(Box::new(policy));
        selinux_mcs_policy {
            access: ManuallyDrop::new(policy.access()),
            policy: NonNull::from(policy),
        }
    }

    fn policy(&self) -> &Policy {
        self.access.policy()
    }
}

impl Drop for selinux_mcs_policy {
    fn drop(&mut self) {
        // SAFETY: `access` is dropped once, here, and never used after;
        // then nothing borrows the policy, which came from `Box::leak` in
        // `new` and is freed once.
        unsafe {
            ManuallyDrop::drop(&mut self.access);
            drop(Box::from_raw(self.policy.as_ptr()));
        }
    }
}

impl From<PolicyDbError> for Error {
    fn from(e: PolicyDbError) -> Error {
        Error::new(SELINUX_MCS_ERR_POLICY, e.to_string())
    }
}

impl From<AccessError> for Error {
    fn from(e: AccessError) -> Error {
        Error::new(SELINUX_MCS_ERR_INVALID, e.to_string())
    }
}

/// Loads a binary policy (`policy.33`, versions 30 to 33) from `path`, or
/// the running system's when `path` is NULL (/sys/fs/selinux/policy when
/// SELinux is on, else the highest /etc/selinux/<SELINUXTYPE>/policy/policy.NN),
/// with every boolean at its default.
///
/// On success `*out` is a handle the caller frees with
/// selinux_mcs_policy_free(); on failure it is NULL and the status is
/// SELINUX_MCS_ERR_POLICY (unreadable, not found, or malformed: the message
/// names the path and the byte offset).
///
/// # Safety
/// `path` is NULL or a NUL-terminated path; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_policy_open(
    path: *const c_char,
    out: *mut *mut selinux_mcs_policy,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        let policy = if path.is_null() {
            Policy::system()?
        } else {
            // SAFETY: not NULL; the caller promises a NUL-terminated path.
            Policy::from_path(unsafe { path_arg(path, "path") }?)?
        };
        let handle = Box::new(selinux_mcs_policy::new(policy));
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(Box::into_raw(handle)) };
        Ok(())
    })
}

/// Frees a policy handle. NULL is accepted and ignored.
///
/// # Safety
/// `policy` is NULL or a handle from this library not yet freed, not in
/// use by another thread.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_policy_free(policy: *mut selinux_mcs_policy) {
    if !policy.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(policy) });
    }
}

/// Sets boolean `name` to `value` for the decisions made with the handle
/// from now on (the policy file is not changed). An unknown name is
/// SELINUX_MCS_ERR_INVALID.
///
/// # Safety
/// `policy` is NULL or a live handle no other thread uses during the call;
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_policy_set_boolean(
    policy: *mut selinux_mcs_policy,
    name: *const c_char,
    value: bool,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promises about the arguments.
        let (handle, name) = unsafe { (mut_arg(policy, "policy")?, str_arg(name, "name")?) };
        let mut booleans = handle.access.booleans().to_vec();
        let b = handle
            .policy()
            .boolean(name)
            .ok_or_else(|| Error::invalid(format!("unknown boolean {name}")))?;
        if let Some(slot) = booleans.get_mut(b.value as usize - 1) {
            *slot = value;
        }
        // SAFETY: the policy outlives the handle's decisions (see `Drop`).
        let policy: &'static Policy = unsafe { handle.policy.as_ref() };
        // Assigning drops the old decisions, which only borrowed the policy.
        *handle.access = policy.access_with(booleans);
        Ok(())
    })
}

/// The bit of permission `perm` of class `tclass` in the masks
/// selinux_mcs_compute_av() gives (`1 << (value - 1)`, as the kernel's
/// access vectors). An unknown class or permission is
/// SELINUX_MCS_ERR_INVALID.
///
/// # Safety
/// `policy` is NULL or a live handle; `tclass`, `perm` are NULL or
/// NUL-terminated strings; `mask_out` is NULL or writable.
#[no_mangle]
#[doc(alias = "string_to_av_perm")]
pub unsafe extern "C" fn selinux_mcs_policy_permission(
    policy: *const selinux_mcs_policy,
    tclass: *const c_char,
    perm: *const c_char,
    mask_out: *mut u32,
) -> c_int {
    error::status(|| {
        let out = Out::new(mask_out, "mask_out")?;
        // SAFETY: the caller's promises about the arguments.
        let (handle, tclass, perm) = unsafe {
            (
                ref_arg(policy, "policy")?,
                str_arg(tclass, "tclass")?,
                str_arg(perm, "perm")?,
            )
        };
        let p = handle.policy();
        let class = p
            .class(tclass)
            .ok_or_else(|| Error::from(AccessError::UnknownClass(tclass.to_owned())))?;
        let v = p.permission_value(class, perm).ok_or_else(|| {
            Error::from(AccessError::UnknownPermission {
                class: tclass.to_owned(),
                perm: perm.to_owned(),
            })
        })?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(1 << (v - 1)) };
        Ok(())
    })
}

/// The kernel's decision for `scon` on `tcon` in class `tclass`, computed
/// from the policy as `security_compute_av` computes it (type enforcement
/// through attributes, conditional rules under the handle's booleans,
/// constraints and MLS constraints, the role allow check, type bounds):
/// `*allowed` receives the permissions granted, `*auditallow` those
/// granted and logged, `*auditdeny` those logged when denied (all but the
/// dontaudit ones), as masks (see selinux_mcs_policy_permission()).
/// `auditallow`, `auditdeny` and `permissive` (whether the source type is
/// permissive) may be NULL. Decisions are cached in the handle.
///
/// SELINUX_MCS_ERR_PARSE when a context does not parse;
/// SELINUX_MCS_ERR_INVALID when one is not valid in the policy (unknown
/// type, role or user, a range outside the user's) or the class is unknown.
///
/// # Safety
/// `policy` is NULL or a live handle; `scon`, `tcon`, `tclass` are NULL or
/// NUL-terminated strings; each out-parameter is NULL or writable.
#[no_mangle]
#[doc(alias = "security_compute_av")]
pub unsafe extern "C" fn selinux_mcs_compute_av(
    policy: *const selinux_mcs_policy,
    scon: *const c_char,
    tcon: *const c_char,
    tclass: *const c_char,
    allowed: *mut u32,
    auditallow: *mut u32,
    auditdeny: *mut u32,
    permissive: *mut bool,
) -> c_int {
    error::status(|| {
        let allowed = Out::new(allowed, "allowed")?;
        // SAFETY: the caller's promises about the arguments.
        let (handle, scon, tcon, tclass) = unsafe {
            (
                ref_arg(policy, "policy")?,
                str_arg(scon, "scon")?,
                str_arg(tcon, "tcon")?,
                str_arg(tclass, "tclass")?,
            )
        };
        let (s, t) = (parse_context(scon)?, parse_context(tcon)?);
        let av = handle.access.compute_av(&s, &t, tclass)?;
        // SAFETY: checked not NULL / NULL checked by `optional`; writable (caller).
        unsafe {
            allowed.write(av.allowed);
            if let Some(o) = Out::optional(auditallow) {
                o.write(av.auditallow);
            }
            if let Some(o) = Out::optional(auditdeny) {
                o.write(av.auditdeny);
            }
            if let Some(o) = Out::optional(permissive) {
                o.write(av.permissive);
            }
        }
        Ok(())
    })
}

/// Explains one AVC record (a line of dmesg, the journal, audit.log or
/// `ausearch -m avc`; other lines of the same audit event, such as its
/// PATH record, may come along) with the handle's policy and booleans, as
/// one JSON object: the document `relabel why --json` prints for each
/// group, with "verdict" one of "allowed-now", "boolean",
/// "type-enforcement", "dontaudit", "constraint", "mls", "mcs", "rbac",
/// "bounds" (audit2why's classes), "explanation", "fix", "allow_rule",
/// "booleans", "constraint" (with "missing_categories"), ...
///
/// On success `*json_out` is a string the caller frees with
/// selinux_mcs_string_free(); on failure it is NULL and the status is
/// SELINUX_MCS_ERR_PARSE (the text holds no AVC record, or a malformed one:
/// the message names the line, the byte and the text) or
/// SELINUX_MCS_ERR_INVALID (several different records, or one naming a
/// context, class or permission the policy lacks).
///
/// # Safety
/// `policy` is NULL or a live handle; `record` is NULL or a NUL-terminated
/// string; `json_out` is NULL or writable.
#[no_mangle]
#[doc(alias = "audit2why")]
pub unsafe extern "C" fn selinux_mcs_why(
    policy: *const selinux_mcs_policy,
    record: *const c_char,
    json_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `json_out` is NULL or writable (caller).
    unsafe { null_out(json_out) };
    error::status(|| {
        let out = Out::new(json_out, "json_out")?;
        // SAFETY: the caller's promises about the arguments.
        let (handle, text) = unsafe { (ref_arg(policy, "policy")?, str_arg(record, "record")?) };
        let log = AvcLog::parse(text.as_bytes());
        if let Some(e) = log.errors().first() {
            return Err(Error::new(SELINUX_MCS_ERR_PARSE, e.to_string()));
        }
        let groups = log.groups();
        let group = match groups.as_slice() {
            [] => {
                return Err(Error::new(
                    SELINUX_MCS_ERR_PARSE,
                    "no AVC record in the text",
                ))
            }
            [one] => one,
            more => {
                return Err(Error::invalid(format!(
                    "the text holds {} different AVC records; pass one",
                    more.len()
                )))
            }
        };
        let verdict = Why::new(&handle.access).explain(group.record())?;
        let doc = group.to_json(Ok(&verdict));
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(doc.to_string())) };
        Ok(())
    })
}
