//! MCS: access decisions and the persistent pair registry.

use std::ffi::{c_char, c_int, CString};
use std::ptr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use selinux_mcs::mcs::{self, Entry, Location, Permission, Registry, RegistryOptions};

use crate::context::selinux_mcs_context;
use crate::error::{self, cstring, null_out, owned_string, path_arg, ref_arg, str_arg, Error, Out};
use crate::level::parse_level;
use crate::selinux_mcs_status::{SELINUX_MCS_ERR_INVALID, SELINUX_MCS_ERR_PANIC};

/// Decides whether a process may access a file under the MCS constraints
/// (refpolicy `policy/mcs`) with the built-in list of MCS-constrained
/// process types (container_t, svirt_lxc_net_t, container_init_t,
/// svirt_t, ...; unconfined types such as spc_t pass).
///
/// `permission` is one of "read", "write", "open", "append", "setattr",
/// "unlink", "rename", "relabelfrom" (allowed when the process's high level
/// dominates the file's), "create", "relabelto" (also need the file's low
/// level equal to its high level), "getattr" (never constrained). An
/// unknown name is SELINUX_MCS_ERR_INVALID.
///
/// `*allowed` receives the verdict. `reason` may be NULL; otherwise
/// `*reason` receives a sentence the caller frees with
/// selinux_mcs_string_free() ("denied: process level s0:c1,c2 does not
/// dominate file level s0:c1,c3: the process lacks c3"), or NULL on
/// failure. Type enforcement may still deny what MCS allows.
///
/// # Safety
/// `process`, `file` are NULL or live handles; `permission` is NULL or a
/// NUL-terminated string; `allowed` is NULL or writable; `reason` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_decide(
    process: *const selinux_mcs_context,
    file: *const selinux_mcs_context,
    permission: *const c_char,
    allowed: *mut bool,
    reason: *mut *mut c_char,
) -> c_int {
    // SAFETY: `reason` is NULL or writable (caller).
    unsafe { null_out(reason) };
    error::status(|| {
        let allowed = Out::new(allowed, "allowed")?;
        // SAFETY: the caller's promises about the arguments.
        let (process, file, name) = unsafe {
            (
                ref_arg(process, "process")?,
                ref_arg(file, "file")?,
                str_arg(permission, "permission")?,
            )
        };
        let permission: Permission = name
            .parse()
            .map_err(|e: selinux_mcs::UnknownName| Error::invalid(e.to_string()))?;
        let decision = mcs::decide(&process.ctx, &file.ctx, permission);
        // SAFETY: checked not NULL; writable (caller).
        unsafe { allowed.write(decision.allowed()) };
        if let Some(reason) = Out::optional(reason) {
            // SAFETY: not NULL; writable (caller).
            unsafe { reason.write(owned_string(decision.to_string())) };
        }
        Ok(())
    })
}

/// A handle on a persistent MCS pair registry (opaque): an SQLite database
/// shared by every process that opens the same file, or an etcd cluster
/// shared by every host that reaches it, in which one pair has one owner
/// across processes, hosts and crashes. Made by
/// selinux_mcs_registry_open(), freed with selinux_mcs_registry_free().
/// Calls on one handle from several threads are serialized.
#[derive(Debug)]
pub struct selinux_mcs_registry {
    inner: Mutex<Registry>,
}

impl selinux_mcs_registry {
    fn lock(&self) -> Result<MutexGuard<'_, Registry>, Error> {
        // A panic while the lock was held may have left the registry's
        // in-memory cache half updated: refuse rather than guess.
        self.inner.lock().map_err(|_| {
            Error::new(
                SELINUX_MCS_ERR_PANIC,
                "the registry handle is unusable after an internal error; free it and open the registry again",
            )
        })
    }
}

fn boxed_registry(reg: Registry) -> *mut selinux_mcs_registry {
    Box::into_raw(Box::new(selinux_mcs_registry {
        inner: Mutex::new(reg),
    }))
}

/// Opens the registry at `location`, with the default pool c0..c1023 (the
/// pair s0:c1022,c1023 is never handed out): a file path (an SQLite
/// database, created with its lock file `<path>-lock` when missing), or
/// `etcd://host:port[,host:port...][/prefix]` for one registry shared by a
/// cluster (needs a library built with the `etcd` feature; each call waits
/// for etcd at most 5 seconds, see selinux_mcs_registry_open_timeout()).
///
/// On success `*out` is a handle the caller frees with
/// selinux_mcs_registry_free(); on failure it is NULL and the status is
/// SELINUX_MCS_ERR_INVALID (a malformed etcd:// URL), SELINUX_MCS_ERR_REGISTRY
/// (not a registry, corrupted, etcd unreachable or without quorum, no etcd
/// support in this build, ...) or SELINUX_MCS_ERR_IO.
///
/// # Safety
/// `location` is NULL or a NUL-terminated path or URL; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_open(
    location: *const c_char,
    out: *mut *mut selinux_mcs_registry,
) -> c_int {
    // SAFETY: the caller's promises, passed on.
    unsafe { selinux_mcs_registry_open_timeout(location, 0, out) }
}

/// selinux_mcs_registry_open() with `timeout_ms`: how long each call on an
/// etcd registry (this one included) keeps trying, through unreachable
/// members and leader elections, before it fails with
/// SELINUX_MCS_ERR_REGISTRY. 0 is the default (5000). No effect on a file.
///
/// # Safety
/// `location` is NULL or a NUL-terminated path or URL; `out` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_open_timeout(
    location: *const c_char,
    timeout_ms: u32,
    out: *mut *mut selinux_mcs_registry,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `location`.
        let text = unsafe { path_arg(location, "location") }?;
        let location = Location::parse(text)?;
        let mut options = RegistryOptions::new();
        if timeout_ms > 0 {
            options.timeout(Duration::from_millis(u64::from(timeout_ms)));
        }
        let reg = options.open(&location)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(boxed_registry(reg)) };
        Ok(())
    })
}

/// Opens the default registry: `$SELINUX_MCS_DB` when set (a path or an
/// etcd:// URL), else
/// /var/lib/selinux-mcs/mcs.db for root, else
/// `$XDG_STATE_HOME/selinux-mcs/mcs.db` (or `~/.local/state/...`); the
/// directory is created when missing. Otherwise as
/// selinux_mcs_registry_open().
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_open_default(
    out: *mut *mut selinux_mcs_registry,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        let reg = Registry::open_default()?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(boxed_registry(reg)) };
        Ok(())
    })
}

/// Closes a registry handle. NULL is accepted and ignored.
///
/// # Safety
/// `registry` is NULL or a handle from this library not yet freed, not in
/// use by another thread.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_free(registry: *mut selinux_mcs_registry) {
    if !registry.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(registry) });
    }
}

/// The pair of `owner` (a non-empty name without control characters, such
/// as "container:4f2a" or "volume:pgdata"): the one it already holds, else
/// a new one drawn uniformly among the free pairs. Idempotent.
///
/// On success `*level_out` is the pair's level (`"s0:c186,c641"`), which
/// the caller frees with selinux_mcs_string_free(); on failure it is NULL
/// and the status is SELINUX_MCS_ERR_EXHAUSTED (no free pair),
/// SELINUX_MCS_ERR_INVALID (bad owner) or SELINUX_MCS_ERR_REGISTRY.
///
/// # Safety
/// `registry` is NULL or a live handle; `owner` is NULL or a NUL-terminated
/// string; `level_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_allocate(
    registry: *const selinux_mcs_registry,
    owner: *const c_char,
    level_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `level_out` is NULL or writable (caller).
    unsafe { null_out(level_out) };
    error::status(|| {
        let out = Out::new(level_out, "level_out")?;
        // SAFETY: the caller's promises about the arguments.
        let (reg, owner) = unsafe { (ref_arg(registry, "registry")?, str_arg(owner, "owner")?) };
        let entry = reg.lock()?.allocate_for(owner)?;
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(owned_string(entry.level.to_string())) };
        Ok(())
    })
}

/// Records that `owner` holds `level` (a pair already in use, or one a user
/// chose, such as "s0:c1,c2"). Idempotent for the same owner and level.
///
/// Only pairs (s0 and exactly two categories) can be reserved: anything
/// else, and the conventionally reserved s0:c1022,c1023, is
/// SELINUX_MCS_ERR_INVALID. SELINUX_MCS_ERR_TAKEN when another owner holds
/// the pair or `owner` holds another one; SELINUX_MCS_ERR_PARSE when
/// `level` does not parse.
///
/// # Safety
/// `registry` is NULL or a live handle; `level`, `owner` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_reserve(
    registry: *const selinux_mcs_registry,
    level: *const c_char,
    owner: *const c_char,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promises about the arguments.
        let (reg, level, owner) = unsafe {
            (
                ref_arg(registry, "registry")?,
                str_arg(level, "level")?,
                str_arg(owner, "owner")?,
            )
        };
        let level = parse_level(level)?;
        reg.lock()?.reserve(&level, owner)?;
        Ok(())
    })
}

/// Releases the pair `owner` holds. `released` may be NULL; otherwise
/// `*released` says whether the owner held a pair (false: nothing to do,
/// still SELINUX_MCS_OK).
///
/// # Safety
/// `registry` is NULL or a live handle; `owner` is NULL or a
/// NUL-terminated string; `released` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_release_owner(
    registry: *const selinux_mcs_registry,
    owner: *const c_char,
    released: *mut bool,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promises about the arguments.
        let (reg, owner) = unsafe { (ref_arg(registry, "registry")?, str_arg(owner, "owner")?) };
        let entry = reg.lock()?.release_owner(owner)?;
        if let Some(out) = Out::optional(released) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(entry.is_some()) };
        }
        Ok(())
    })
}

/// Releases the pair `level` ("s0:c1,c2"), whoever holds it. `released` may
/// be NULL; otherwise `*released` says whether anyone held it. A level that
/// is not a pair is SELINUX_MCS_ERR_INVALID.
///
/// # Safety
/// `registry` is NULL or a live handle; `level` is NULL or a NUL-terminated
/// string; `released` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_release_level(
    registry: *const selinux_mcs_registry,
    level: *const c_char,
    released: *mut bool,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promises about the arguments.
        let (reg, level) = unsafe { (ref_arg(registry, "registry")?, str_arg(level, "level")?) };
        let level = parse_level(level)?;
        let entry = reg.lock()?.release_level(&level)?;
        if let Some(out) = Out::optional(released) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(entry.is_some()) };
        }
        Ok(())
    })
}

/// The pair `owner` holds, without allocating: `*level_out` is its level
/// (the caller frees it with selinux_mcs_string_free()), or NULL when the
/// owner holds none (still SELINUX_MCS_OK).
///
/// # Safety
/// `registry` is NULL or a live handle; `owner` is NULL or a
/// NUL-terminated string; `level_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_get(
    registry: *const selinux_mcs_registry,
    owner: *const c_char,
    level_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: `level_out` is NULL or writable (caller).
    unsafe { null_out(level_out) };
    error::status(|| {
        let out = Out::new(level_out, "level_out")?;
        // SAFETY: the caller's promises about the arguments.
        let (reg, owner) = unsafe { (ref_arg(registry, "registry")?, str_arg(owner, "owner")?) };
        if let Some(entry) = reg.lock()?.get(owner)? {
            // SAFETY: checked not NULL; writable (caller).
            unsafe { out.write(owned_string(entry.level.to_string())) };
        }
        Ok(())
    })
}

/// One registry entry, its strings ready for C.
#[derive(Debug)]
struct EntryC {
    owner: CString,
    level: CString,
    created: i64,
    source: Option<CString>,
}

impl From<Entry> for EntryC {
    fn from(e: Entry) -> EntryC {
        EntryC {
            owner: cstring(e.owner),
            level: cstring(e.level.to_string()),
            created: e.created,
            source: e.source.map(cstring),
        }
    }
}

/// A snapshot of a registry's entries (opaque), oldest first: made by
/// selinux_mcs_registry_list(), read with selinux_mcs_entry_list_len() and
/// selinux_mcs_entry_list_get(), freed with selinux_mcs_entry_list_free().
#[derive(Debug)]
pub struct selinux_mcs_entry_list {
    entries: Vec<EntryC>,
}

/// Every entry of the registry, oldest first (then by owner).
///
/// On success `*out` is a list the caller frees with
/// selinux_mcs_entry_list_free(); on failure it is NULL.
///
/// # Safety
/// `registry` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_registry_list(
    registry: *const selinux_mcs_registry,
    out: *mut *mut selinux_mcs_entry_list,
) -> c_int {
    // SAFETY: `out` is NULL or writable (caller).
    unsafe { null_out(out) };
    error::status(|| {
        let out = Out::new(out, "out")?;
        // SAFETY: the caller's promise about `registry`.
        let reg = unsafe { ref_arg(registry, "registry") }?;
        let entries = reg.lock()?.list()?.into_iter().map(EntryC::from).collect();
        let list = Box::new(selinux_mcs_entry_list { entries });
        // SAFETY: checked not NULL; writable (caller).
        unsafe { out.write(Box::into_raw(list)) };
        Ok(())
    })
}

/// How many entries the list holds (0 for a NULL list, with
/// SELINUX_MCS_ERR_NULL as the last error).
///
/// # Safety
/// `list` is NULL or a live list.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_entry_list_len(list: *const selinux_mcs_entry_list) -> usize {
    error::value(0, || {
        // SAFETY: the caller's promise about `list`.
        Ok(unsafe { ref_arg(list, "list") }?.entries.len())
    })
}

/// Entry `index` (from 0) of the list. Each out-parameter may be NULL when
/// not wanted: `*owner` and `*level` receive the owner and the pair's level,
/// `*created` the Unix time (seconds) it was taken, `*source` where the
/// entry came from (such as an adopted label's path) or NULL when not
/// recorded. The strings are borrowed from the list (valid until
/// selinux_mcs_entry_list_free()); do not free them.
///
/// An index past the end is SELINUX_MCS_ERR_INVALID (nothing written).
///
/// # Safety
/// `list` is NULL or a live list; each out-parameter is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_entry_list_get(
    list: *const selinux_mcs_entry_list,
    index: usize,
    owner: *mut *const c_char,
    level: *mut *const c_char,
    created: *mut i64,
    source: *mut *const c_char,
) -> c_int {
    error::status(|| {
        // SAFETY: the caller's promise about `list`.
        let list = unsafe { ref_arg(list, "list") }?;
        let entry = list.entries.get(index).ok_or_else(|| {
            Error::new(
                SELINUX_MCS_ERR_INVALID,
                format!(
                    "index {index} is out of range: the list holds {} entries",
                    list.entries.len()
                ),
            )
        })?;
        if let Some(out) = Out::optional(owner) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(entry.owner.as_ptr()) };
        }
        if let Some(out) = Out::optional(level) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(entry.level.as_ptr()) };
        }
        if let Some(out) = Out::optional(created) {
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(entry.created) };
        }
        if let Some(out) = Out::optional(source) {
            let p = entry.source.as_ref().map_or(ptr::null(), |s| s.as_ptr());
            // SAFETY: not NULL (`optional`); writable (caller).
            unsafe { out.write(p) };
        }
        Ok(())
    })
}

/// Frees an entry list. NULL is accepted and ignored.
///
/// # Safety
/// `list` is NULL or a list from this library not yet freed; the strings
/// it lent are invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn selinux_mcs_entry_list_free(list: *mut selinux_mcs_entry_list) {
    if !list.is_null() {
        // SAFETY: made by `Box::into_raw` in this module, freed once (caller).
        drop(unsafe { Box::from_raw(list) });
    }
}

#[cfg(all(test, feature = "etcd"))]
mod etcd_tests {
    //! The C API on a real etcd (skipped without one unless
    //! SELINUX_MCS_REQUIRE_ETCD=1): the same calls as on a file.
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report

    use std::ffi::{CStr, CString};

    use super::*;
    use crate::selinux_mcs_last_error;
    use crate::selinux_mcs_status::{
        SELINUX_MCS_ERR_REGISTRY, SELINUX_MCS_ERR_TAKEN, SELINUX_MCS_OK,
    };
    use selinux_mcs_tests::etcd::{free_port, Cluster};

    fn last_error() -> String {
        // SAFETY: the library's per-thread message, valid until the next call.
        unsafe { CStr::from_ptr(selinux_mcs_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn the_c_api_allocates_from_etcd() {
        let Some(cluster) = Cluster::start(1) else {
            return;
        };
        let url = CString::new(cluster.url("c-api")).unwrap();
        let mut reg = ptr::null_mut();
        // SAFETY: valid strings and out-pointers throughout.
        unsafe {
            assert_eq!(
                selinux_mcs_registry_open(url.as_ptr(), &mut reg),
                SELINUX_MCS_OK as c_int,
                "{}",
                last_error()
            );
            let owner = c"volume:c";
            let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
            assert_eq!(
                selinux_mcs_registry_allocate(reg, owner.as_ptr(), &mut a),
                SELINUX_MCS_OK as c_int
            );
            assert_eq!(
                selinux_mcs_registry_allocate(reg, owner.as_ptr(), &mut b),
                SELINUX_MCS_OK as c_int
            );
            assert_eq!(CStr::from_ptr(a), CStr::from_ptr(b));
            assert_eq!(
                selinux_mcs_registry_reserve(reg, a, c"other".as_ptr()),
                SELINUX_MCS_ERR_TAKEN as c_int
            );
            let mut list = ptr::null_mut();
            assert_eq!(
                selinux_mcs_registry_list(reg, &mut list),
                SELINUX_MCS_OK as c_int
            );
            assert_eq!(selinux_mcs_entry_list_len(list), 1);
            selinux_mcs_entry_list_free(list);
            crate::selinux_mcs_string_free(a);
            crate::selinux_mcs_string_free(b);
            selinux_mcs_registry_free(reg);
        }
    }

    #[test]
    fn an_unreachable_etcd_is_a_registry_error_within_the_timeout() {
        let url = CString::new(format!("etcd://127.0.0.1:{}/x", free_port())).unwrap();
        let mut reg = ptr::null_mut();
        let start = std::time::Instant::now();
        // SAFETY: valid strings and out-pointers.
        let status = unsafe { selinux_mcs_registry_open_timeout(url.as_ptr(), 500, &mut reg) };
        assert_eq!(status, SELINUX_MCS_ERR_REGISTRY as c_int);
        assert!(reg.is_null());
        assert!(
            last_error().contains("etcd gave no answer"),
            "{}",
            last_error()
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(3));
    }
}
