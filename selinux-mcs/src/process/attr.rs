//! Process attributes: `/proc/thread-self/attr/*` (the calling thread) and
//! `/proc/PID/attr/*` (any process).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::error::ProcessError;
use super::selinuxfs::{require, write_once};
use crate::mls::Limits;
use crate::SecurityContext;

/// One of a task's SELinux attributes, the files of `/proc/PID/attr/`.
///
/// All but [`Current`](Attr::Current) and [`Prev`](Attr::Prev) are
/// requests for the future, kept per thread and cleared by `execve`:
/// what the next program this thread executes runs as
/// ([`Exec`](Attr::Exec)), what the files, keys and sockets it creates are
/// labeled ([`FsCreate`](Attr::FsCreate), [`KeyCreate`](Attr::KeyCreate),
/// [`SockCreate`](Attr::SockCreate)). Unset, they read as `None` and the
/// policy's defaults apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attr {
    /// `current`: the label the task runs with.
    Current,
    /// `exec`: the label of the next program `execve` starts (`setexeccon`).
    Exec,
    /// `fscreate`: the label of the files the task creates (`setfscreatecon`).
    FsCreate,
    /// `keycreate`: the label of the kernel keys the task creates
    /// (`setkeycreatecon`).
    KeyCreate,
    /// `sockcreate`: the label of the sockets the task creates
    /// (`setsockcreatecon`).
    SockCreate,
    /// `prev`: the label before the last `execve` (read only).
    Prev,
}

impl Attr {
    /// Every attribute, in the order of the enum.
    pub const ALL: [Attr; 6] = [
        Attr::Current,
        Attr::Exec,
        Attr::FsCreate,
        Attr::KeyCreate,
        Attr::SockCreate,
        Attr::Prev,
    ];

    /// The file name under `attr/` (`exec`, `fscreate`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Attr::Current => "current",
            Attr::Exec => "exec",
            Attr::FsCreate => "fscreate",
            Attr::KeyCreate => "keycreate",
            Attr::SockCreate => "sockcreate",
            Attr::Prev => "prev",
        }
    }
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Attr {
    type Err = String;
    fn from_str(s: &str) -> Result<Attr, String> {
        Attr::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown attribute {s:?}: expected current, exec, fscreate, keycreate, sockcreate or prev"
                )
            })
    }
}

/// `/proc/thread-self/attr/NAME`.
pub(crate) fn thread_attr_path(attr: Attr) -> PathBuf {
    Path::new("/proc/thread-self/attr").join(attr.name())
}

fn open(path: &Path, write: bool) -> io::Result<File> {
    OpenOptions::new().read(!write).write(write).open(path)
}

/// Opens the calling thread's attribute file under `proc_root`:
/// `thread-self/attr/NAME`, or `self/task/TID/attr/NAME` on kernels
/// without `thread-self` (before 3.17). Returns the path it opened.
pub(crate) fn open_thread_attr(
    proc_root: &Path,
    attr: Attr,
    write: bool,
) -> Result<(File, PathBuf), (PathBuf, io::Error)> {
    let path = proc_root.join("thread-self/attr").join(attr.name());
    match open(&path, write) {
        Ok(f) => Ok((f, path)),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                && std::fs::symlink_metadata(proc_root.join("thread-self")).is_err() =>
        {
            let tid = rustix::thread::gettid().as_raw_pid();
            let path = proc_root
                .join(format!("self/task/{tid}/attr"))
                .join(attr.name());
            match open(&path, write) {
                Ok(f) => Ok((f, path)),
                Err(e) => Err((path, e)),
            }
        }
        Err(e) => Err((path, e)),
    }
}

/// Reads an attribute file: `None` when it is empty (unset), else the
/// value with one trailing NUL stripped.
fn read_value(mut file: &File) -> io::Result<Option<Vec<u8>>> {
    let mut v = Vec::new();
    file.read_to_end(&mut v)?;
    if v.last() == Some(&0) {
        v.pop();
    }
    Ok((!v.is_empty()).then_some(v))
}

/// The calling thread's raw attribute (no SELinux check); `None` when it
/// cannot be read or is empty.
pub(crate) fn read_thread_raw(attr: Attr) -> Option<Vec<u8>> {
    let (file, _) = open_thread_attr(Path::new("/proc"), attr, false).ok()?;
    read_value(&file).ok().flatten()
}

fn parse(subject: &Path, raw: Vec<u8>) -> Result<SecurityContext, ProcessError> {
    SecurityContext::from_bytes_with(&raw, &Limits::default()).map_err(|source| {
        ProcessError::Unparsable {
            subject: subject.display().to_string(),
            text: String::from_utf8_lossy(&raw).into_owned(),
            message: source.to_string(),
            source: Some(source),
        }
    })
}

fn read_thread_in(proc_root: &Path, attr: Attr) -> Result<Option<SecurityContext>, ProcessError> {
    let (file, path) = open_thread_attr(proc_root, attr, false)
        .map_err(|(path, e)| ProcessError::call(path.display().to_string(), "open", e, None))?;
    let raw = read_value(&file)
        .map_err(|e| ProcessError::call(path.display().to_string(), "read", e, None))?;
    raw.map(|raw| parse(&path, raw)).transpose()
}

fn write_thread_in(
    proc_root: &Path,
    attr: Attr,
    ctx: Option<&SecurityContext>,
) -> Result<(), ProcessError> {
    let (file, path) = open_thread_attr(proc_root, attr, true)
        .map_err(|(path, e)| ProcessError::call(path.display().to_string(), "open", e, None))?;
    let subject = || path.display().to_string();
    // libselinux's form: the text and its NUL; clearing is an empty write.
    let value = ctx.map(SecurityContext::to_xattr_value).unwrap_or_default();
    write_once(&file, &value).map_err(|e| match (e.raw_os_error(), ctx) {
        (Some(libc::EINVAL), Some(ctx)) => ProcessError::InvalidContext {
            subject: subject(),
            context: ctx.to_string(),
        },
        _ => ProcessError::call(subject(), "write", e, None),
    })
}

/// The calling thread's attribute `attr` (`None`: unset), from
/// `/proc/thread-self/attr/ATTR` (`/proc/self/task/TID/attr/ATTR` on
/// kernels without `thread-self`).
///
/// [`ProcessError::Disabled`] when SELinux is not running, whatever another
/// security module (AppArmor) would have put in the same file.
pub fn thread_attr(attr: Attr) -> Result<Option<SecurityContext>, ProcessError> {
    require(|| thread_attr_path(attr).display().to_string())?;
    read_thread_in(Path::new("/proc"), attr)
}

/// Sets (`Some`) or clears (`None`) the calling thread's attribute `attr`:
/// one write of the context and a NUL to `/proc/thread-self/attr/ATTR`, or
/// an empty write to clear (as libselinux does).
///
/// The attribute is the calling thread's: another thread of the process
/// keeps its own, and a program started from another thread does not see
/// it. Keep the set, the `fork`/`execve` (or the `socket`, `add_key`,
/// `open(O_CREAT)`) and the clear on one thread.
///
/// The kernel's answers: [`ProcessError::InvalidContext`] (`EINVAL`) for a
/// context the loaded policy does not accept,
/// [`ProcessError::NotPermitted`] (`EACCES`, `EPERM`) when the policy does
/// not allow this task to set it (`setexec`, `setfscreate`, `setkeycreate`,
/// `setsockcreate`, `dyntransition` for [`Attr::Current`]).
/// [`Attr::Prev`] cannot be written, and [`Attr::Current`] cannot be
/// cleared: both are [`ProcessError::InvalidArgument`].
pub fn set_thread_attr(attr: Attr, ctx: Option<&SecurityContext>) -> Result<(), ProcessError> {
    let subject = || thread_attr_path(attr).display().to_string();
    let refuse = |message: &str| ProcessError::InvalidArgument {
        subject: subject(),
        message: message.to_owned(),
    };
    match (attr, ctx) {
        (Attr::Prev, _) => return Err(refuse("prev is read only")),
        (Attr::Current, None) => {
            return Err(refuse(
                "current cannot be cleared (a task always has a label)",
            ))
        }
        _ => {}
    }
    require(subject)?;
    write_thread_in(Path::new("/proc"), attr, ctx)
}

/// The attribute `attr` of process (or thread) `pid`, from
/// `/proc/PID/attr/ATTR`. [`ProcessError::NoSuchProcess`] when there is no
/// such process; [`ProcessError::NotPermitted`] when the policy does not
/// let this task see it (`process getattr`).
pub fn pid_attr(pid: i32, attr: Attr) -> Result<Option<SecurityContext>, ProcessError> {
    let path = PathBuf::from(format!("/proc/{pid}/attr/{}", attr.name()));
    let subject = || path.display().to_string();
    if pid <= 0 {
        return Err(ProcessError::InvalidArgument {
            subject: subject(),
            message: format!("{pid} is not a process id (they start at 1)"),
        });
    }
    require(subject)?;
    let file =
        open(&path, false).map_err(|e| ProcessError::call(subject(), "open", e, Some(pid)))?;
    let raw = read_value(&file).map_err(|e| ProcessError::call(subject(), "read", e, Some(pid)))?;
    raw.map(|raw| parse(&path, raw)).transpose()
}

/// A value that is always set (`current`, `prev`).
fn required(
    what: impl FnOnce() -> PathBuf,
    value: Option<SecurityContext>,
) -> Result<SecurityContext, ProcessError> {
    value.ok_or_else(|| ProcessError::Unparsable {
        subject: what().display().to_string(),
        text: String::new(),
        message: "the kernel gave no label".into(),
        source: None,
    })
}

/// The calling thread's label (`/proc/thread-self/attr/current`).
///
/// ```
/// use selinux_mcs::process;
/// match process::current() {
///     Ok(ctx) => println!("running as {ctx}"),
///     Err(e) => assert!(e.is_disabled() || process::is_enabled(), "{e}"),
/// }
/// ```
#[doc(alias = "getcon")]
#[doc(alias = "getcon_raw")]
#[doc(alias = "CurrentLabel")]
pub fn current() -> Result<SecurityContext, ProcessError> {
    required(
        || thread_attr_path(Attr::Current),
        thread_attr(Attr::Current)?,
    )
}

/// Changes the calling thread's label now (a dynamic transition, no
/// `execve`): needs the `process dyntransition` permission, and in a
/// process with several threads a label the policy bounds the old one by.
/// Prefer [`set_exec`]. See [`set_thread_attr`].
#[doc(alias = "setcon")]
#[doc(alias = "setcon_raw")]
#[doc(alias = "SetTaskLabel")]
pub fn set_current(ctx: &SecurityContext) -> Result<(), ProcessError> {
    set_thread_attr(Attr::Current, Some(ctx))
}

/// The calling thread's label before its last `execve`
/// (`/proc/thread-self/attr/prev`).
#[doc(alias = "getprevcon")]
#[doc(alias = "getprevcon_raw")]
pub fn prev() -> Result<SecurityContext, ProcessError> {
    required(|| thread_attr_path(Attr::Prev), thread_attr(Attr::Prev)?)
}

/// The label the next program this thread executes will run with (`None`:
/// the policy's transition, or no change).
#[doc(alias = "getexeccon")]
#[doc(alias = "getexeccon_raw")]
#[doc(alias = "ExecLabel")]
pub fn exec() -> Result<Option<SecurityContext>, ProcessError> {
    thread_attr(Attr::Exec)
}

/// Sets the label the next program this thread executes runs with:
/// `set_exec`, then `fork`+`execve` (or `std::process::Command::spawn`) on
/// the same thread, then [`clear_exec`]. The kernel checks the transition
/// at `execve`. See [`set_thread_attr`].
///
/// ```no_run
/// use selinux_mcs::process;
/// let ctx = "system_u:system_r:container_t:s0:c1,c2".parse()?;
/// process::set_exec(&ctx)?;
/// let child = std::process::Command::new("/usr/bin/sleep").arg("60").spawn();
/// process::clear_exec()?;
/// let child = child?;
/// assert_eq!(process::pid_label(child.id() as i32)?, ctx);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "setexeccon")]
#[doc(alias = "setexeccon_raw")]
#[doc(alias = "SetExecLabel")]
pub fn set_exec(ctx: &SecurityContext) -> Result<(), ProcessError> {
    set_thread_attr(Attr::Exec, Some(ctx))
}

/// Clears the exec label: the next `execve` follows the policy again.
#[doc(alias = "setexeccon")]
pub fn clear_exec() -> Result<(), ProcessError> {
    set_thread_attr(Attr::Exec, None)
}

/// The label files this thread creates get (`None`: the policy's).
#[doc(alias = "getfscreatecon")]
#[doc(alias = "getfscreatecon_raw")]
#[doc(alias = "FSCreateLabel")]
pub fn fscreate() -> Result<Option<SecurityContext>, ProcessError> {
    thread_attr(Attr::FsCreate)
}

/// Sets the label files, directories and other file-system objects this
/// thread creates get. See [`set_thread_attr`].
#[doc(alias = "setfscreatecon")]
#[doc(alias = "setfscreatecon_raw")]
#[doc(alias = "SetFSCreateLabel")]
pub fn set_fscreate(ctx: &SecurityContext) -> Result<(), ProcessError> {
    set_thread_attr(Attr::FsCreate, Some(ctx))
}

/// Clears the fscreate label.
#[doc(alias = "setfscreatecon")]
pub fn clear_fscreate() -> Result<(), ProcessError> {
    set_thread_attr(Attr::FsCreate, None)
}

/// The label kernel keys (keyrings) this thread creates get (`None`: its
/// own).
#[doc(alias = "getkeycreatecon")]
#[doc(alias = "getkeycreatecon_raw")]
#[doc(alias = "KeyLabel")]
pub fn keycreate() -> Result<Option<SecurityContext>, ProcessError> {
    thread_attr(Attr::KeyCreate)
}

/// Sets the label of the kernel keys this thread creates (`add_key`,
/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING)`). Unlike go-selinux's
/// `SetKeyLabel`, which writes the thread-group leader's through
/// `/proc/self` and fails on other threads, this sets the calling
/// thread's: keys are labeled from the credentials of the thread that
/// creates them. See [`set_thread_attr`].
#[doc(alias = "setkeycreatecon")]
#[doc(alias = "setkeycreatecon_raw")]
#[doc(alias = "SetKeyLabel")]
pub fn set_keycreate(ctx: &SecurityContext) -> Result<(), ProcessError> {
    set_thread_attr(Attr::KeyCreate, Some(ctx))
}

/// Clears the keycreate label.
#[doc(alias = "setkeycreatecon")]
pub fn clear_keycreate() -> Result<(), ProcessError> {
    set_thread_attr(Attr::KeyCreate, None)
}

/// The label sockets this thread creates get (`None`: its own).
#[doc(alias = "getsockcreatecon")]
#[doc(alias = "getsockcreatecon_raw")]
#[doc(alias = "SocketLabel")]
pub fn sockcreate() -> Result<Option<SecurityContext>, ProcessError> {
    thread_attr(Attr::SockCreate)
}

/// Sets the label of the sockets this thread creates (what a peer's
/// [`peer_label`](super::peer_label) then reports). See
/// [`set_thread_attr`].
#[doc(alias = "setsockcreatecon")]
#[doc(alias = "setsockcreatecon_raw")]
#[doc(alias = "SetSocketLabel")]
pub fn set_sockcreate(ctx: &SecurityContext) -> Result<(), ProcessError> {
    set_thread_attr(Attr::SockCreate, Some(ctx))
}

/// Clears the sockcreate label.
#[doc(alias = "setsockcreatecon")]
pub fn clear_sockcreate() -> Result<(), ProcessError> {
    set_thread_attr(Attr::SockCreate, None)
}

/// The label of process `pid` (`/proc/PID/attr/current`), as `ps -Z` and
/// `secon --pid` show it. See [`pid_attr`].
///
/// ```
/// use selinux_mcs::process;
/// let me = std::process::id() as i32;
/// match process::pid_label(me) {
///     Ok(ctx) => assert_eq!(ctx, process::current()?),
///     Err(e) => assert!(e.is_disabled(), "{e}"),
/// }
/// # Ok::<(), selinux_mcs::process::ProcessError>(())
/// ```
#[doc(alias = "getpidcon")]
#[doc(alias = "getpidcon_raw")]
#[doc(alias = "PidLabel")]
pub fn pid_label(pid: i32) -> Result<SecurityContext, ProcessError> {
    required(
        || PathBuf::from(format!("/proc/{pid}/attr/current")),
        pid_attr(pid, Attr::Current)?,
    )
}

/// The label process `pid` had before its last `execve`
/// (`/proc/PID/attr/prev`). See [`pid_attr`].
#[doc(alias = "getpidprevcon")]
#[doc(alias = "getpidprevcon_raw")]
pub fn pid_prev(pid: i32) -> Result<SecurityContext, ProcessError> {
    required(
        || PathBuf::from(format!("/proc/{pid}/attr/prev")),
        pid_attr(pid, Attr::Prev)?,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report
    use super::*;

    /// A fake /proc without `thread-self`: the thread's files are found
    /// under `self/task/TID`, read and written there.
    #[test]
    fn falls_back_to_the_task_directory_without_thread_self() {
        let proc_root = tempfile::tempdir().unwrap();
        let tid = rustix::thread::gettid().as_raw_pid();
        let attr = proc_root.path().join(format!("self/task/{tid}/attr"));
        std::fs::create_dir_all(&attr).unwrap();
        std::fs::write(attr.join("current"), b"u:r:t:s0:c2,c1\0").unwrap();
        std::fs::write(attr.join("exec"), b"").unwrap();
        let ctx = read_thread_in(proc_root.path(), Attr::Current).unwrap();
        assert_eq!(ctx.unwrap().to_string(), "u:r:t:s0:c1,c2");
        assert_eq!(read_thread_in(proc_root.path(), Attr::Exec).unwrap(), None);

        let new: SecurityContext = "u:r:child_t:s0".parse().unwrap();
        write_thread_in(proc_root.path(), Attr::Exec, Some(&new)).unwrap();
        assert_eq!(
            std::fs::read(attr.join("exec")).unwrap(),
            b"u:r:child_t:s0\0"
        );
        assert_eq!(
            read_thread_in(proc_root.path(), Attr::Exec).unwrap(),
            Some(new)
        );

        // With thread-self present, it is used (and the task one is not).
        let ts = proc_root.path().join("thread-self/attr");
        std::fs::create_dir_all(&ts).unwrap();
        std::fs::write(ts.join("current"), b"u:r:other_t:s0\0").unwrap();
        let (_, path) = open_thread_attr(proc_root.path(), Attr::Current, false).unwrap();
        assert_eq!(path, ts.join("current"));
        // ... and a missing file there is not retried elsewhere.
        let (path, e) = open_thread_attr(proc_root.path(), Attr::Exec, false).unwrap_err();
        assert_eq!(path, ts.join("exec"));
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    /// The real /proc/thread-self is the calling thread's task directory,
    /// the one the fallback names.
    #[test]
    fn thread_self_is_the_task_directory() {
        let link = std::fs::read_link("/proc/thread-self").unwrap();
        let tid = rustix::thread::gettid().as_raw_pid();
        assert_eq!(
            link,
            PathBuf::from(format!("{}/task/{tid}", std::process::id()))
        );
    }

    #[test]
    fn a_value_that_is_not_a_context_is_named() {
        let proc_root = tempfile::tempdir().unwrap();
        let ts = proc_root.path().join("thread-self/attr");
        std::fs::create_dir_all(&ts).unwrap();
        std::fs::write(ts.join("current"), b"kernel\0").unwrap();
        let e = read_thread_in(proc_root.path(), Attr::Current).unwrap_err();
        assert!(
            matches!(&e, ProcessError::Unparsable { text, .. } if text == "kernel"),
            "{e:?}"
        );
        assert!(e.to_string().contains("thread-self/attr/current"), "{e}");
    }

    #[test]
    fn attribute_names() {
        for a in Attr::ALL {
            assert_eq!(a.name().parse::<Attr>(), Ok(a));
            assert_eq!(a.to_string(), a.name());
        }
        assert!("bogus".parse::<Attr>().unwrap_err().contains("\"bogus\""));
    }

    #[test]
    fn refused_before_asking_the_kernel() {
        let ctx: SecurityContext = "u:r:t:s0".parse().unwrap();
        for (attr, ctx) in [
            (Attr::Prev, Some(&ctx)),
            (Attr::Prev, None),
            (Attr::Current, None),
        ] {
            let e = set_thread_attr(attr, ctx).unwrap_err();
            assert!(matches!(e, ProcessError::InvalidArgument { .. }), "{e:?}");
        }
        for pid in [0, -1, i32::MIN] {
            let e = pid_attr(pid, Attr::Current).unwrap_err();
            assert!(e.to_string().contains("is not a process id"), "{pid}: {e}");
        }
    }
}
