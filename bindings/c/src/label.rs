//! Labels of files: read, write, relabel a tree, and the relabel report.

use std::ffi::{c_char, c_int, CString};

use selinux_mcs::label::{self, Relabel, Report, Target};

use crate::context::parse_context;
use crate::error::{
    self, cstring, mut_arg, null_out, owned_string, path_arg, ref_arg, str_arg, Error, Out,
};
use crate::level::parse_level;
use crate::selinux_mcs_status::SELINUX_MCS_ERR_INVALID;

/// Reads the label of `path` without following a final symlink (a symlink's
/// own label): `lgetxattr(path, "security.selinux")`, like libselinux's
/// lgetfilecon_raw().
///
/// On success `*context_out` is the canonical context text, which the
/// caller frees with selinux_mcs_string_free(); on failure it is NULL and
/// the status is SELINUX_MCS_ERR_IO (selinux_mcs_last_errno(): ENODATA
/// when the file has no label, ENOTSUP when the filesystem has none, ENOENT,
/// ...) or SELINUX_MCS_ERR_PARSE when the stored label is not a valid
/// context.
///
/// # Safety
/// `path` is NULL or a NUL-terminated path; `context_out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_label_get(
    path: *const c_char,
    context_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `context_out` is NULL or writable (caller).
    unsafe { null_out(context_out) };
    error::status(|| {
        let out = Out::new(context_out, "context_out")?;
        // SAFETY: the caller's promise about `path`.
        let path = unsafe { path_arg(path, "path") }?;
        let ctx = label::get(path)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(ctx.to_string())) };
        Ok(())
    })
}

/// Writes the label of `path` without following a final symlink (a symlink
/// is labeled itself): `lsetxattr(path, "security.selinux", "<canonical
/// context>\0")`, like libselinux's lsetfilecon_raw(). `context` is parsed
/// first: a bad one is SELINUX_MCS_ERR_PARSE and nothing is written.
/// SELINUX_MCS_ERR_IO when the call fails (selinux_mcs_last_errno():
/// ENOTSUP, EROFS, EPERM, ENOENT, ...). Protected paths are not checked
/// here (see selinux_mcs_relabel_run()).
///
/// # Safety
/// `path` is NULL or a NUL-terminated path; `context` is NULL or a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_label_set(
    path: *const c_char,
    context: *const c_char,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promises about the arguments.
        let (path, text) = unsafe { (path_arg(path, "path")?, str_arg(context, "context")?) };
        let ctx = parse_context(text)?;
        label::set(path, &ctx)?;
        Ok(())
    })
}

/// The options of a relabel (opaque): what label to give, dry run, threads,
/// ... Made by selinux_mcs_relabel_new_context(),
/// selinux_mcs_relabel_new_shared() or selinux_mcs_relabel_new_private(),
/// set with the selinux_mcs_relabel_set_* functions, run (any number of
/// times, from any thread) with selinux_mcs_relabel_run(), freed with
/// selinux_mcs_relabel_free().
///
/// Defaults: not a dry run, one filesystem, one thread per core, no
/// exclusions, the system's protected paths refused, at most 10,000
/// failures kept in a report.
#[derive(Debug)]
pub struct selinux_mcs_relabel {
    relabel: Relabel,
}

/// Boxes a relabel for C.
fn boxed_relabel(target: Target) -> *mut selinux_mcs_relabel {
    let mut relabel = Relabel::new(target);
    // The host's file context, from the same call the CLI makes.
    relabel.file_context(selinux_mcs::policy::Root::default().container_file_context());
    Box::into_raw(Box::new(selinux_mcs_relabel { relabel }))
}

/// A relabel that gives every entry exactly `context`
/// ("system_u:object_r:container_file_t:s0:c1,c2"), like `chcon -R`.
///
/// On success `*out` is a handle the caller frees with
/// selinux_mcs_relabel_free(); on failure it is NULL (SELINUX_MCS_ERR_PARSE
/// for a bad context).
///
/// # Safety
/// `context` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_new_context(
    context: *const c_char,
    out: *mut *mut selinux_mcs_relabel,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `context`.
        let ctx = parse_context(unsafe { str_arg(context, "context") }?)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(boxed_relabel(Target::Context(ctx))) };
        Ok(())
    })
}

/// A shared relabel (podman's `:z`): the file context at level s0, no
/// categories, readable by every container. The file context is the
/// host's (the container contexts file's `file` entry, else
/// system_u:object_r:container_file_t:s0), the same one `relabel apply
/// --shared` uses, unless selinux_mcs_relabel_set_file_context() says
/// otherwise.
///
/// On success `*out` is a handle the caller frees with
/// selinux_mcs_relabel_free(); on failure it is NULL.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_new_shared(
    out: *mut *mut selinux_mcs_relabel,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(boxed_relabel(Target::Shared)) };
        Ok(())
    })
}

/// A private relabel (podman's `:Z`): the file context at `level`, a
/// container's own pair ("s0:c1,c2", say from
/// selinux_mcs_registry_allocate()).
///
/// On success `*out` is a handle the caller frees with
/// selinux_mcs_relabel_free(); on failure it is NULL (SELINUX_MCS_ERR_PARSE
/// for a bad level).
///
/// # Safety
/// `level` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_new_private(
    level: *const c_char,
    out: *mut *mut selinux_mcs_relabel,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `level`.
        let level = parse_level(unsafe { str_arg(level, "level") }?)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(boxed_relabel(Target::Private(level))) };
        Ok(())
    })
}

/// Frees a relabel handle. NULL is accepted and ignored.
///
/// # Safety
/// `relabel` is NULL or a handle from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_free(relabel: *mut selinux_mcs_relabel) {
    if !relabel.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(relabel) });
    }
}

/// Runs a setter on a relabel handle.
///
/// # Safety
/// `relabel` is NULL or a live handle not used elsewhere meanwhile.
unsafe fn set(
    relabel: *mut selinux_mcs_relabel,
    f: impl FnOnce(&mut Relabel) -> Result<(), Error>,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promise about `relabel`.
        f(&mut unsafe { mut_arg(relabel, "relabel") }?.relabel)
    })
}

/// Dry run: count what would change, write nothing (default false).
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_dry_run(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.dry_run(yes);
            Ok(())
        })
    }
}

/// Worker threads; 0 means one per core (the default).
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_threads(
    relabel: *mut selinux_mcs_relabel,
    threads: usize,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.threads(threads);
            Ok(())
        })
    }
}

/// A root given as a symlink: follow it to its target and relabel that
/// (true, the default, as chcon does), or label the link itself (false).
/// Symlinks inside the tree are never followed.
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_dereference(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.dereference(yes);
            Ok(())
        })
    }
}

/// Leave regular files with more than one hard link alone (default false:
/// they are labeled, as chcon does, and counted in the report's JSON
/// `hardlinked`).
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_skip_hardlinks(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.skip_hardlinks(yes);
            Ok(())
        })
    }
}

/// Stay on the root's mount (default true): a mount point inside the tree
/// (found by mount id, so bind mounts and single bind-mounted files count)
/// is neither labeled nor entered; the report's JSON lists it.
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_one_file_system(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.one_file_system(yes);
            Ok(())
        })
    }
}

/// Allow roots under /etc, /usr, /boot, ~/.ssh and ~/.gnupg (default
/// false). The protected directories themselves (/, /usr, /var, /home, ...)
/// are refused whatever this says.
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_force(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.force(yes);
            Ok(())
        })
    }
}

/// Stop at the first failure instead of recording it and going on (default
/// false). The root is then left unlabeled.
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_stop_on_first_error(
    relabel: *mut selinux_mcs_relabel,
    yes: bool,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.stop_on_first_error(yes);
            Ok(())
        })
    }
}

/// How many failures a report keeps (default 10,000; the failed count
/// covers them all).
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_max_failures(
    relabel: *mut selinux_mcs_relabel,
    max: usize,
) -> c_int {
    // SAFETY: forwarded.
    unsafe {
        set(relabel, |r| {
            r.max_failures(max);
            Ok(())
        })
    }
}

/// The file context whose user, role and type shared and private relabels
/// use (default system_u:object_r:container_file_t:s0; ignored by
/// selinux_mcs_relabel_new_context()). SELINUX_MCS_ERR_PARSE for a bad
/// context (the handle is unchanged).
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile;
/// `context` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_set_file_context(
    relabel: *mut selinux_mcs_relabel,
    context: *const c_char,
) -> c_int {
    // SAFETY: forwarded; the caller's promise about `context`.
    unsafe {
        set(relabel, |r| {
            let ctx = parse_context(str_arg(context, "context")?)?;
            r.file_context(ctx);
            Ok(())
        })
    }
}

/// Leaves `path` and everything under it alone (may be called several
/// times). Relative paths are resolved against the current directory;
/// paths outside the root are ignored.
///
/// # Safety
/// `relabel` is NULL or a live handle not used by another thread meanwhile;
/// `path` is NULL or a NUL-terminated path.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_add_exclude(
    relabel: *mut selinux_mcs_relabel,
    path: *const c_char,
) -> c_int {
    // SAFETY: forwarded; the caller's promise about `path`.
    unsafe {
        set(relabel, |r| {
            r.exclude(path_arg(path, "path")?);
            Ok(())
        })
    }
}

/// One failure of a report, its strings ready for C.
#[derive(Debug)]
struct FailureC {
    path: CString,
    message: CString,
    errno: c_int,
}

/// What a relabel did (opaque): counts and failures. Made by
/// selinux_mcs_relabel_run(), freed with selinux_mcs_report_free().
/// visited = changed + unchanged + failed.
#[derive(Debug)]
pub struct selinux_mcs_report {
    report: Report,
    failures: Vec<FailureC>,
}

/// Relabels the tree at `path` (any number of times, from any thread, with
/// the same handle). Symlinks are labeled themselves, never followed; the
/// root is labeled last; files that already carry the label are not
/// written.
///
/// On success `*report_out` is a report the caller frees with
/// selinux_mcs_report_free(): failures inside the tree (a file whose label
/// cannot be written) are recorded there and the status is still
/// SELINUX_MCS_OK, so check selinux_mcs_report_failed(). The call itself
/// fails, with `*report_out` NULL, when the root is protected
/// (SELINUX_MCS_ERR_PROTECTED: /, /usr, /var/lib, a home, ...; under /etc,
/// /usr, /boot, ~/.ssh or ~/.gnupg without selinux_mcs_relabel_set_force();
/// a symlink resolving to any of these) or does not exist or cannot be
/// opened (SELINUX_MCS_ERR_IO, with selinux_mcs_last_errno()).
///
/// # Safety
/// `relabel` is NULL or a live handle not changed by another thread
/// meanwhile; `path` is NULL or a NUL-terminated path; `report_out` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_relabel_run(
    relabel: *const selinux_mcs_relabel,
    path: *const c_char,
    report_out: *mut *mut selinux_mcs_report,
) -> c_int {
    // SAFETY: `report_out` is NULL or writable (caller).
    unsafe { null_out(report_out) };
    error::status(|| {
        let out = Out::new(report_out, "report_out")?;
        // SAFETY: the caller's promises about the arguments.
        let (relabel, path) = unsafe { (ref_arg(relabel, "relabel")?, path_arg(path, "path")?) };
        let report = relabel.relabel.run(path)?;
        let failures = report
            .failures
            .iter()
            .map(|f| FailureC {
                path: cstring(f.path.to_string_lossy().into_owned()),
                message: cstring(f.error.to_string()),
                errno: f.error.raw_os_error().unwrap_or(0),
            })
            .collect();
        let report = Box::new(selinux_mcs_report { report, failures });
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(Box::into_raw(report)) };
        Ok(())
    })
}

/// Runs a count accessor: 0 (and SELINUX_MCS_ERR_NULL) for a NULL report.
///
/// # Safety
/// `report` is NULL or a live report.
unsafe fn count<T: Default>(
    report: *const selinux_mcs_report,
    get: impl FnOnce(&selinux_mcs_report) -> T,
) -> T {
    error::value(T::default(), || {
        // SAFETY: the caller's promise about `report`.
        Ok(get(unsafe { ref_arg(report, "report") }?))
    })
}

/// Entries examined (0 for a NULL report, with SELINUX_MCS_ERR_NULL as the
/// last error).
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_visited(report: *const selinux_mcs_report) -> u64 {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.report.visited) }
}

/// Entries relabeled (in a dry run: that would be).
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_changed(report: *const selinux_mcs_report) -> u64 {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.report.changed) }
}

/// Entries that already had their label.
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_unchanged(report: *const selinux_mcs_report) -> u64 {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.report.unchanged) }
}

/// Entries that failed (all of them, even beyond the failures kept).
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_failed(report: *const selinux_mcs_report) -> u64 {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.report.failed) }
}

/// Whether the walk stopped at the first failure
/// (selinux_mcs_relabel_set_stop_on_first_error()).
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_stopped(report: *const selinux_mcs_report) -> bool {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.report.stopped) }
}

/// How many failures the report kept (at most the maximum set with
/// selinux_mcs_relabel_set_max_failures()); read them with
/// selinux_mcs_report_failure().
///
/// # Safety
/// `report` is NULL or a live report.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_failures_len(
    report: *const selinux_mcs_report,
) -> usize {
    // SAFETY: forwarded.
    unsafe { count(report, |r| r.failures.len()) }
}

/// Failure `index` (from 0, in the order they happened). Each
/// out-parameter may be NULL when not wanted: `*path` receives the entry's
/// path (the root as given joined with the names below it), `*message`
/// what went wrong ("lsetxattr /tmp/x/f: the filesystem does not support
/// SELinux labels (...)"), both borrowed from the report (valid until
/// selinux_mcs_report_free(); do not free them), and `*errno_out` the errno
/// (0 when no system call failed).
///
/// An index past the end is SELINUX_MCS_ERR_INVALID (nothing written).
///
/// # Safety
/// `report` is NULL or a live report; each out-parameter is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_failure(
    report: *const selinux_mcs_report,
    index: usize,
    path: *mut *const c_char,
    message: *mut *const c_char,
    errno_out: *mut c_int,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promise about `report`.
        let report = unsafe { ref_arg(report, "report") }?;
        let failure = report.failures.get(index).ok_or_else(|| {
            Error::new(
                SELINUX_MCS_ERR_INVALID,
                format!(
                    "index {index} is out of range: the report kept {} failures",
                    report.failures.len()
                ),
            )
        })?;
        if let Some(out) = Out::optional(path) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(failure.path.as_ptr()) };
        }
        if let Some(out) = Out::optional(message) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(failure.message.as_ptr()) };
        }
        if let Some(out) = Out::optional(errno_out) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(failure.errno) };
        }
        Ok(())
    })
}

/// The report as JSON, the stable shape `relabel apply --json` uses:
/// `{"visited": n, "changed": n, "unchanged": n, "failed": n, "failures":
/// [{"path": "...", "error": "..."}]}`.
///
/// On success `*json_out` is a string the caller frees with
/// selinux_mcs_string_free(); on failure it is NULL.
///
/// # Safety
/// `report` is NULL or a live report; `json_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_json(
    report: *const selinux_mcs_report,
    json_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `json_out` is NULL or writable (caller).
    unsafe { null_out(json_out) };
    error::status(|| {
        let out = Out::new(json_out, "json_out")?;
        // SAFETY: the caller's promise about `report`.
        let report = unsafe { ref_arg(report, "report") }?;
        let json = serde_json::to_string(&report.report)
            .map_err(|e| Error::invalid(format!("cannot serialize the report: {e}")))?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(json)) };
        Ok(())
    })
}

/// Frees a report. NULL is accepted and ignored.
///
/// # Safety
/// `report` is NULL or a report from this library not yet freed; the
/// strings it lent are invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_report_free(report: *mut selinux_mcs_report) {
    if !report.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(report) });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report
    use super::*;

    /// Runs a relabel handle on a fresh file; the label it got.
    fn label_written_by(handle: *mut selinux_mcs_relabel) -> selinux_mcs::SecurityContext {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let path = CString::new(file.to_str().unwrap()).unwrap();
        let mut report = std::ptr::null_mut();
        // SAFETY: a live handle, a NUL-terminated path, a writable out.
        let rc = unsafe { selinux_mcs_relabel_run(handle, path.as_ptr(), &mut report) };
        assert_eq!(rc, 0);
        // SAFETY: the report and handle from above, each freed once.
        unsafe {
            selinux_mcs_report_free(report);
            selinux_mcs_relabel_free(handle);
        }
        label::get(&file).unwrap()
    }

    /// Issue 13: the C API's `:z` and `:Z` start from the host's file
    /// context, the one `relabel apply` uses (relabel-cli's
    /// `shared_label_is_the_hosts_file_context` checks the CLI side).
    #[test]
    fn shared_and_private_use_the_hosts_file_context() {
        let host = selinux_mcs::policy::Root::default().container_file_context();
        let mut handle = std::ptr::null_mut();
        // SAFETY: `handle` is writable.
        assert_eq!(unsafe { selinux_mcs_relabel_new_shared(&mut handle) }, 0);
        let s0 = "s0".parse().unwrap();
        assert_eq!(label_written_by(handle), host.with_level(s0));
        let level = c"s0:c1,c2";
        // SAFETY: `level` is NUL-terminated, `handle` writable.
        assert_eq!(
            unsafe { selinux_mcs_relabel_new_private(level.as_ptr(), &mut handle) },
            0
        );
        let pair = "s0:c1,c2".parse().unwrap();
        assert_eq!(label_written_by(handle), host.with_level(pair));
    }
}
