//! The running system through libselinux (feature `libselinux`): whether
//! SELinux is enabled, its mode, this process's label, the kernel's own
//! word on a context, and libselinux's file_contexts labeler.
//!
//! The place to ask the running kernel is [`crate::process`], pure Rust,
//! which answers the same questions (`is_enabled`, `enforce_mode`,
//! `current`, `check_context`, `canonicalize_context`) and more (thread
//! attributes, peers, pids). This module asks libselinux instead: it is
//! kept to check our answers against libselinux's (tests/vm checks 5 and
//! 6) and for libselinux's file_contexts backend. It links libselinux
//! through koutheir's `selinux` crate (building needs `libselinux1-dev` and
//! `libclang-dev`).
//!
//! The kernel calls need SELinux enabled; without it they return
//! [`SystemError::NotEnabled`] instead of guessing.
//! [`SelabelFileContexts`] reads a file_contexts given by path and works with
//! SELinux disabled.
//!
//! ```
//! use selinux_mcs::system::{self, SystemError};
//! match system::validate("system_u:object_r:container_file_t:s0:c1,c2") {
//!     Ok(()) => println!("the loaded policy accepts it"),
//!     Err(SystemError::NotEnabled { .. }) => assert!(!system::is_enabled()),
//!     Err(e) => println!("rejected: {e}"),
//! }
//! ```

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use selinux::label::back_end::File as FileBackEnd;

use crate::policy::{Labeler, Mode};
use crate::{FileKind, ParseError, SecurityContext};

/// Why a call to the kernel or libselinux failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// SELinux is not enabled in the running kernel, so the kernel cannot
    /// answer.
    #[error("SELinux is not enabled in the running kernel: {call} needs it")]
    NotEnabled {
        /// The libselinux call that would have asked the kernel.
        call: &'static str,
    },
    /// The loaded policy does not accept the context.
    #[error("the loaded policy rejects {context:?} ({call})")]
    Rejected {
        /// The context as given.
        context: String,
        /// The call that rejected it.
        call: &'static str,
    },
    /// The text holds a NUL byte, which no C call can take.
    #[error("{text:?} holds a NUL byte at byte {offset}")]
    Nul {
        /// The text as given.
        text: String,
        /// Where the NUL is.
        offset: usize,
    },
    /// A call failed.
    #[error("{call} on {subject:?} failed: {source}")]
    Os {
        /// The libselinux call.
        call: &'static str,
        /// What it was called on (a context, a path).
        subject: String,
        /// The underlying error (errno).
        #[source]
        source: io::Error,
    },
    /// libselinux or the kernel gave a context that our parser rejects.
    #[error("{call} gave {text:?}, which does not parse: {source}")]
    Parse {
        /// The call.
        call: &'static str,
        /// What it gave.
        text: String,
        /// Why it does not parse.
        #[source]
        source: ParseError,
    },
}

fn c_string(text: &str) -> Result<CString, SystemError> {
    CString::new(text).map_err(|e| SystemError::Nul {
        text: text.to_owned(),
        offset: e.nul_position(),
    })
}

fn require_enabled(call: &'static str) -> Result<(), SystemError> {
    if is_enabled() {
        Ok(())
    } else {
        Err(SystemError::NotEnabled { call })
    }
}

/// The `io::Error` of a failed call of the `selinux` crate.
fn io_error(e: selinux::errors::Error) -> io::Error {
    match e {
        selinux::errors::Error::IO { source, .. }
        | selinux::errors::Error::IO1Name { source, .. }
        | selinux::errors::Error::IO1Path { source, .. }
        | selinux::errors::Error::IO1Process { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}

/// Whether SELinux is enabled in the running kernel (a policy is loaded
/// and selinuxfs is mounted).
///
/// Calls `is_selinux_enabled(3)`.
///
/// ```
/// if !selinux_mcs::system::is_enabled() {
///     println!("no SELinux here: only the pure-Rust checks apply");
/// }
/// ```
#[doc(alias = "is_selinux_enabled")]
#[doc(alias = "GetEnabled")]
pub fn is_enabled() -> bool {
    selinux::kernel_support() != selinux::KernelSupport::Unsupported
}

/// The current mode: [`Mode::Enforcing`], [`Mode::Permissive`], or
/// [`Mode::Disabled`] when SELinux is not running.
///
/// Calls `security_getenforce(3)`, which reads `/sys/fs/selinux/enforce`.
/// This is the running mode, which can differ from the `SELINUX=` line of
/// `/etc/selinux/config` (the boot-time mode, [`crate::policy::Config`]).
///
/// ```
/// use selinux_mcs::{policy::Mode, system};
/// if !system::is_enabled() {
///     assert_eq!(system::mode(), Mode::Disabled);
/// }
/// ```
#[doc(alias = "security_getenforce")]
#[doc(alias = "EnforceMode")]
pub fn mode() -> Mode {
    match selinux::current_mode() {
        selinux::SELinuxMode::Enforcing => Mode::Enforcing,
        selinux::SELinuxMode::Permissive => Mode::Permissive,
        _ => Mode::Disabled,
    }
}

/// The label of the calling process.
///
/// Calls `getcon_raw(3)` (it reads `/proc/thread-self/attr/current`), with
/// no mcstrans translation. [`SystemError::NotEnabled`] without SELinux.
#[doc(alias = "getcon")]
#[doc(alias = "getcon_raw")]
#[doc(alias = "CurrentLabel")]
pub fn current_context() -> Result<SecurityContext, SystemError> {
    const CALL: &str = "getcon_raw";
    require_enabled(CALL)?;
    let ctx = selinux::SecurityContext::current(true).map_err(|e| SystemError::Os {
        call: CALL,
        subject: "the current process".into(),
        source: io_error(e),
    })?;
    let text = String::from_utf8_lossy(ctx.as_bytes()).into_owned();
    text.parse().map_err(|source| SystemError::Parse {
        call: CALL,
        text,
        source,
    })
}

/// Asks the loaded policy whether `context` is a valid context: its user,
/// role and type exist, the role is allowed for the user and the type for
/// the role, and the range is within the user's.
///
/// Calls `security_check_context_raw(3)` (a write to
/// `/sys/fs/selinux/context`). This is stronger than parsing, which only
/// checks the form: `a_u:b_r:c_t:s0` parses but no policy defines it.
/// [`SystemError::NotEnabled`] without SELinux,
/// [`SystemError::Rejected`] when the policy says no.
#[doc(alias = "security_check_context")]
#[doc(alias = "security_check_context_raw")]
pub fn validate(context: &str) -> Result<(), SystemError> {
    const CALL: &str = "security_check_context_raw";
    let c = c_string(context)?;
    require_enabled(CALL)?;
    let answer = selinux::SecurityContext::from_c_str(&c, true).check();
    match answer {
        Some(true) => Ok(()),
        Some(false) => Err(SystemError::Rejected {
            context: context.to_owned(),
            call: CALL,
        }),
        None => Err(SystemError::NotEnabled { call: CALL }),
    }
}

/// The kernel's canonical text of `context`: what it would store and
/// print (categories folded into runs, `s0-s0` as `s0`, aliases resolved to
/// their type).
///
/// Calls `security_canonicalize_context_raw(3)` (a write to
/// `/sys/fs/selinux/context`). Unlike [`SecurityContext`]'s `Display`, which
/// follows the same rules without a policy, the kernel also resolves type
/// aliases (`svirt_lxc_net_t` is `container_t` on current policies).
/// [`SystemError::NotEnabled`] without SELinux,
/// [`SystemError::Rejected`] when the policy does not accept the context.
#[doc(alias = "security_canonicalize_context")]
#[doc(alias = "security_canonicalize_context_raw")]
pub fn canonicalize(context: &str) -> Result<String, SystemError> {
    const CALL: &str = "security_canonicalize_context_raw";
    let c = c_string(context)?;
    require_enabled(CALL)?;
    let canonical = selinux::SecurityContext::from_c_str(&c, true)
        .canonicalize()
        .map_err(|e| {
            let source = io_error(e);
            if source.raw_os_error() == Some(libc::EINVAL) {
                SystemError::Rejected {
                    context: context.to_owned(),
                    call: CALL,
                }
            } else {
                SystemError::Os {
                    call: CALL,
                    subject: context.to_owned(),
                    source,
                }
            }
        })?;
    Ok(String::from_utf8_lossy(canonical.as_bytes()).into_owned())
}

/// The libselinux handle, made `Send` so the labeler can be shared.
struct Handle(selinux::label::Labeler<FileBackEnd>);

// SAFETY: a selabel handle is a heap object with no tie to the thread that
// opened it; libselinux only asks that calls on one handle not overlap,
// which the Mutex around every use guarantees.
unsafe impl Send for Handle {}

/// libselinux's file_contexts labeler, behind the same [`Labeler`] trait as
/// our own [`FileContexts`](crate::policy::FileContexts): for `relabel
/// restore --backend libselinux`, and to check our answers against
/// libselinux's.
///
/// [`open`](Self::open) calls `selabel_open(SELABEL_CTX_FILE)` with
/// `SELABEL_OPT_PATH`, so it reads the given file (or its newer compiled
/// `.bin`) and the `.homedirs`, `.local`, `.subs_dist` and `.subs` beside
/// it, and works with SELinux disabled. Contexts are not checked against the
/// loaded policy (no `SELABEL_OPT_VALIDATE`). Lookups take a lock: one
/// handle answers one lookup at a time.
///
/// ```no_run
/// use std::path::Path;
/// use selinux_mcs::policy::Labeler;
/// use selinux_mcs::system::SelabelFileContexts;
/// use selinux_mcs::FileKind;
/// let fc = SelabelFileContexts::open("/etc/selinux/default/contexts/files/file_contexts")?;
/// let ctx = fc.lookup(Path::new("/etc/shadow"), Some(FileKind::File))?;
/// println!("{ctx:?}");
/// # Ok::<(), selinux_mcs::system::SystemError>(())
/// ```
#[doc(alias = "selabel_open")]
#[doc(alias = "selabel_lookup")]
pub struct SelabelFileContexts {
    handle: Mutex<Handle>,
    path: PathBuf,
}

impl std::fmt::Debug for SelabelFileContexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelabelFileContexts")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SelabelFileContexts {
    /// Opens `path`, a file_contexts file.
    ///
    /// Calls `selabel_open(3)` with `SELABEL_CTX_FILE` and
    /// `SELABEL_OPT_PATH`. Fails ([`SystemError::Os`]) when the file is
    /// missing or libselinux rejects a line (it logs the line on stderr).
    #[doc(alias = "selabel_open")]
    pub fn open(path: impl AsRef<Path>) -> Result<SelabelFileContexts, SystemError> {
        use std::os::unix::ffi::OsStrExt;
        const CALL: &str = "selabel_open";
        let path = path.as_ref();
        let display = path.display().to_string();
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|e| SystemError::Nul {
            text: display.clone(),
            offset: e.nul_position(),
        })?;
        // libselinux reports a missing file only as a failed open with a
        // stale errno; say which file.
        if let Err(source) = std::fs::metadata(path) {
            return Err(SystemError::Os {
                call: CALL,
                subject: display,
                source,
            });
        }
        let options = [(
            selinux_sys::SELABEL_OPT_PATH,
            c_path.as_ptr().cast::<std::ffi::c_void>(),
        )];
        // `c_path` outlives the call; selabel_open copies the path.
        let labeler = selinux::label::Labeler::<FileBackEnd>::new(&options, true).map_err(|e| {
            SystemError::Os {
                call: CALL,
                subject: display,
                source: io_error(e),
            }
        })?;
        Ok(SelabelFileContexts {
            handle: Mutex::new(Handle(labeler)),
            path: path.to_path_buf(),
        })
    }

    /// The file_contexts this labeler was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The context text libselinux gives `path` of kind `kind`, unparsed
    /// (`None`: no rule applies or the rule says `<<none>>`).
    ///
    /// Calls `selabel_lookup_raw(3)`; its `ENOENT` is `Ok(None)`.
    #[doc(alias = "selabel_lookup_raw")]
    pub fn lookup_text(
        &self,
        path: &Path,
        kind: Option<FileKind>,
    ) -> Result<Option<String>, SystemError> {
        const CALL: &str = "selabel_lookup_raw";
        let mode = selinux::FileAccessMode::new(kind.map_or(0, FileKind::mode_bits));
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner());
        let answer = handle
            .0
            .look_up_by_path(path, mode)
            .map(|ctx| String::from_utf8_lossy(ctx.as_bytes()).into_owned());
        drop(handle);
        match answer {
            Ok(text) => Ok(Some(text)),
            Err(e) => {
                let source = io_error(e);
                if source.raw_os_error() == Some(libc::ENOENT) {
                    Ok(None)
                } else {
                    Err(SystemError::Os {
                        call: CALL,
                        subject: path.display().to_string(),
                        source,
                    })
                }
            }
        }
    }
}

impl Labeler for SelabelFileContexts {
    type Error = SystemError;

    fn lookup(
        &self,
        path: &Path,
        kind: Option<FileKind>,
    ) -> Result<Option<SecurityContext>, SystemError> {
        match self.lookup_text(path, kind)? {
            None => Ok(None),
            Some(text) => match text.parse() {
                Ok(ctx) => Ok(Some(ctx)),
                Err(source) => Err(SystemError::Parse {
                    call: "selabel_lookup_raw",
                    text,
                    source,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kernel_calls_say_when_selinux_is_off() {
        if is_enabled() {
            // The enabled paths: whatever the policy, these must agree.
            let me = current_context().unwrap();
            validate(me.as_str()).unwrap();
            assert!(matches!(
                validate("no_such_u:no_such_r:no_such_t:s0"),
                Err(SystemError::Rejected { .. })
            ));
            assert_ne!(mode(), Mode::Disabled);
            return;
        }
        assert_eq!(mode(), Mode::Disabled);
        let e = validate("system_u:object_r:etc_t:s0").unwrap_err();
        assert!(
            matches!(
                e,
                SystemError::NotEnabled {
                    call: "security_check_context_raw"
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "SELinux is not enabled in the running kernel: security_check_context_raw needs it"
        );
        assert!(matches!(
            canonicalize("system_u:object_r:etc_t:s0-s0"),
            Err(SystemError::NotEnabled { .. })
        ));
        assert!(matches!(
            current_context(),
            Err(SystemError::NotEnabled { call: "getcon_raw" })
        ));
    }

    #[test]
    fn nul_is_named_before_any_call() {
        let e = validate("system_u:object_r:etc_t:s0\0x").unwrap_err();
        assert!(matches!(e, SystemError::Nul { offset: 26, .. }), "{e:?}");
    }

    #[test]
    fn selabel_reads_an_explicit_file_with_selinux_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file_contexts");
        std::fs::write(
            &path,
            "/srv(/.*)?\tsystem_u:object_r:var_t:s0\n\
             /srv/tmp(/.*)?\t<<none>>\n\
             /srv/run\t-d\tsystem_u:object_r:var_run_t:s0:c1,c2\n",
        )
        .unwrap();
        let fc = SelabelFileContexts::open(&path).unwrap();
        assert_eq!(fc.path(), path);
        let look = |p: &str, k| {
            Labeler::lookup(&fc, Path::new(p), k)
                .unwrap()
                .map(|c| c.to_string())
        };
        assert_eq!(
            look("/srv/a", None).as_deref(),
            Some("system_u:object_r:var_t:s0")
        );
        assert_eq!(look("/srv/tmp/a", None), None);
        assert_eq!(look("/opt", None), None);
        assert_eq!(
            look("/srv/run", Some(FileKind::Dir)).as_deref(),
            Some("system_u:object_r:var_run_t:s0:c1,c2")
        );
        assert_eq!(
            look("/srv/run", Some(FileKind::File)).as_deref(),
            Some("system_u:object_r:var_t:s0")
        );
        assert_eq!(fc.says_no_label(Path::new("/opt"), None), None);
    }

    #[test]
    fn selabel_open_names_a_missing_file() {
        let e = SelabelFileContexts::open("/nonexistent/file_contexts").unwrap_err();
        assert!(
            matches!(&e, SystemError::Os { call: "selabel_open", subject, .. } if subject == "/nonexistent/file_contexts"),
            "{e:?}"
        );
    }

    #[test]
    fn selabel_context_that_does_not_parse_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file_contexts");
        // libselinux does not check contexts without SELABEL_OPT_VALIDATE.
        std::fs::write(&path, "/srv(/.*)?\tsystem_u:object_r:var_t:s0:c5.c1\n").unwrap();
        let fc = SelabelFileContexts::open(&path).unwrap();
        let e = Labeler::lookup(&fc, Path::new("/srv/x"), None).unwrap_err();
        assert!(
            matches!(&e, SystemError::Parse { text, .. } if text == "system_u:object_r:var_t:s0:c5.c1"),
            "{e:?}"
        );
    }
}
