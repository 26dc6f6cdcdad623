//! The system through selinuxfs, without libselinux: whether SELinux is
//! running (and if not, how we can tell), the mode, MLS, the policy
//! version, class and permission numbers, and the kernel's own checks of a
//! context.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::attr::{read_thread_raw, Attr};
use super::error::{Disabled, ProcessError};
use crate::policy::Mode;
use crate::SecurityContext;

/// Where selinuxfs is mounted on every current distribution; other mount
/// points are found through `/proc/self/mountinfo`.
pub const SELINUXFS: &str = "/sys/fs/selinux";

/// The file-system magic of selinuxfs (`SELINUX_MAGIC` in
/// `<linux/magic.h>`).
const SELINUX_MAGIC: u64 = 0xf97c_ff8c;

/// Whether `path` is the root of a selinuxfs, by its file-system magic
/// (`statfs(2)`): `Err` when the policy does not let this process look
/// (`EACCES`, `EPERM`); a path that cannot be stat'ed otherwise is not one.
fn probe(path: &Path) -> Result<bool, rustix::io::Errno> {
    use rustix::io::Errno;
    loop {
        match rustix::fs::statfs(path) {
            // `f_type` is signed on some targets; the magic is 32 bits.
            #[allow(clippy::unnecessary_cast)]
            Ok(st) => return Ok((st.f_type as u64) & 0xffff_ffff == SELINUX_MAGIC),
            Err(Errno::INTR) => continue,
            Err(e @ (Errno::ACCESS | Errno::PERM)) => return Err(e),
            Err(_) => return Ok(false),
        }
    }
}

/// The selinuxfs mount points a `/proc/self/mountinfo` text lists, in the
/// order it lists them, octal escapes (`\040` for a space) decoded.
///
/// A line is `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] -
/// FSTYPE SOURCE SUPEROPTIONS` (proc(5)); lines of another form are
/// skipped.
///
/// ```
/// use selinux_mcs::process::selinuxfs_mounts_in;
/// let text = b"22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n\
///              23 22 0:22 / /sys/fs/selinux rw,relatime shared:8 - selinuxfs selinuxfs rw\n\
///              90 1 0:22 / /my\\040selinux ro - selinuxfs selinuxfs rw\n";
/// let mounts = selinuxfs_mounts_in(text);
/// assert_eq!(mounts, ["/sys/fs/selinux", "/my selinux"].map(std::path::PathBuf::from));
/// ```
pub fn selinuxfs_mounts_in(mountinfo: &[u8]) -> Vec<PathBuf> {
    mountinfo
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            // The optional fields end at a lone "-", never before field 7.
            let dash = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
            (fields.get(dash + 1) == Some(&&b"selinuxfs"[..]))
                .then(|| PathBuf::from(std::ffi::OsString::from_vec(unescape(fields[4]))))
        })
        .collect()
}

/// Decodes mountinfo's `\NNN` octal escapes; anything else is kept as is.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 4 <= field.len() {
            let digits = &field[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(byte) = u8::try_from(value) {
                    out.push(byte);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

/// Whether a `/proc/filesystems` text lists selinuxfs.
fn lists_selinuxfs(filesystems: &str) -> bool {
    filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("selinuxfs"))
}

/// Finds a selinuxfs mount: `/sys/fs/selinux` by its magic, else the
/// mounts `/proc/self/mountinfo` lists (each checked by its magic).
fn find_mount() -> Result<PathBuf, Disabled> {
    // A selinuxfs this process may not stat: the answer if none is found.
    let mut hidden: Option<Disabled> = None;
    let check = |mount: &Path, hidden: &mut Option<Disabled>| match probe(mount) {
        Ok(found) => found,
        Err(e) => {
            hidden.get_or_insert(Disabled::Inaccessible {
                mount: mount.to_path_buf(),
                errno: e.raw_os_error(),
            });
            false
        }
    };
    if check(Path::new(SELINUXFS), &mut hidden) {
        return Ok(PathBuf::from(SELINUXFS));
    }
    let unknown = |file: &str, e: io::Error| Disabled::Unknown {
        detail: format!("{SELINUXFS} is not selinuxfs and {file} cannot be read: {e}"),
    };
    let filesystems = match std::fs::read_to_string("/proc/filesystems") {
        Ok(text) => text,
        Err(e) => return Err(hidden.unwrap_or_else(|| unknown("/proc/filesystems", e))),
    };
    if !lists_selinuxfs(&filesystems) {
        return Err(Disabled::NotInKernel);
    }
    let mountinfo = match std::fs::read("/proc/self/mountinfo") {
        Ok(bytes) => bytes,
        Err(e) => return Err(hidden.unwrap_or_else(|| unknown("/proc/self/mountinfo", e))),
    };
    for mount in selinuxfs_mounts_in(&mountinfo) {
        if check(&mount, &mut hidden) {
            return Ok(mount);
        }
    }
    Err(hidden.unwrap_or(Disabled::NotMounted))
}

/// Where selinuxfs is mounted when SELinux is running, or how we can tell
/// it is not ([`Disabled`]).
///
/// Running means: a selinuxfs is mounted (`/sys/fs/selinux` by its
/// file-system magic, else one `/proc/self/mountinfo` lists, when
/// `/proc/filesystems` has selinuxfs at all), this process may look at it,
/// it is mounted read-write, and a policy is loaded (the calling thread's label is not
/// the initial `kernel`). This is libselinux's `is_selinux_enabled` plus
/// go-selinux's `kernel` check, without either library, and it is asked
/// afresh on every call (a policy may be loaded at any time). Like
/// libselinux, a process the policy keeps from `statfs` on selinuxfs sees
/// SELinux as disabled ([`Disabled::Inaccessible`] says so).
///
/// ```
/// use selinux_mcs::process;
/// match process::selinuxfs_mount() {
///     Ok(mount) => println!("SELinux is running; selinuxfs at {}", mount.display()),
///     Err(why) => println!("SELinux is not enabled: {why}"),
/// }
/// ```
#[doc(alias = "selinux_getenforcemode")]
#[doc(alias = "selinux_mnt")]
pub fn selinuxfs_mount() -> Result<PathBuf, Disabled> {
    let mount = find_mount()?;
    match rustix::fs::statvfs(&mount) {
        Ok(st) if st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) => {
            return Err(Disabled::ReadOnly { mount })
        }
        Err(e @ (rustix::io::Errno::ACCESS | rustix::io::Errno::PERM)) => {
            return Err(Disabled::Inaccessible {
                mount,
                errno: e.raw_os_error(),
            })
        }
        _ => {}
    }
    // Before a policy is loaded every task has the initial SID "kernel".
    // A failed read does not prove anything either way: keep going.
    if let Some(text) = read_thread_raw(Attr::Current) {
        if text == b"kernel" {
            return Err(Disabled::NoPolicy { mount });
        }
    }
    Ok(mount)
}

/// Whether SELinux is running: a writable selinuxfs is mounted and a policy
/// is loaded. [`selinuxfs_mount`] says where, or why not.
///
/// ```
/// if !selinux_mcs::process::is_enabled() {
///     println!("no SELinux here: only the pure-Rust checks apply");
/// }
/// ```
#[doc(alias = "is_selinux_enabled")]
#[doc(alias = "GetEnabled")]
pub fn is_enabled() -> bool {
    selinuxfs_mount().is_ok()
}

/// The selinuxfs mount, or [`ProcessError::Disabled`] naming `subject`.
pub(crate) fn require(subject: impl FnOnce() -> String) -> Result<PathBuf, ProcessError> {
    selinuxfs_mount().map_err(|why| ProcessError::Disabled {
        subject: subject(),
        why,
    })
}

/// Reads the selinuxfs file `name`, trimmed.
fn read_file(mount: &Path, name: &str) -> Result<String, ProcessError> {
    let path = mount.join(name);
    let subject = path.display().to_string();
    match std::fs::read(&path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes)
            .trim_end_matches(['\0', '\n'])
            .to_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(ProcessError::Os {
            subject,
            call: "open",
            source: e,
        }),
        Err(e) => Err(ProcessError::call(subject, "read", e, None)),
    }
}

fn number<T: std::str::FromStr>(mount: &Path, name: &str) -> Result<T, ProcessError>
where
    T::Err: std::fmt::Display,
{
    let text = read_file(mount, name)?;
    text.trim()
        .parse()
        .map_err(|e: T::Err| ProcessError::Unparsable {
            subject: mount.join(name).display().to_string(),
            text: text.clone(),
            message: format!("expected a number: {e}"),
            source: None,
        })
}

/// The running mode: [`Mode::Enforcing`] or [`Mode::Permissive`], read from
/// `/sys/fs/selinux/enforce` on every call (so it follows `setenforce`).
///
/// Never `Ok(Mode::Disabled)`: without SELinux this is
/// [`ProcessError::Disabled`], which says how we can tell;
/// `enforce_mode().unwrap_or(Mode::Disabled)` gives go-selinux's
/// three-valued `EnforceMode`. The boot-time mode is `SELINUX=` in
/// `/etc/selinux/config` ([`crate::policy::Config`]).
///
/// ```
/// use selinux_mcs::{policy::Mode, process};
/// let mode = process::enforce_mode().unwrap_or(Mode::Disabled);
/// assert_eq!(mode == Mode::Disabled, !process::is_enabled());
/// ```
#[doc(alias = "security_getenforce")]
#[doc(alias = "EnforceMode")]
pub fn enforce_mode() -> Result<Mode, ProcessError> {
    let mount = require(|| format!("{SELINUXFS}/enforce"))?;
    let n: i64 = number(&mount, "enforce")?;
    Ok(if n == 0 {
        Mode::Permissive
    } else {
        Mode::Enforcing
    })
}

/// Switches between enforcing and permissive (`setenforce`): writes `1` or
/// `0` to `/sys/fs/selinux/enforce`. Needs the `security setenforce`
/// permission (root, and a policy that allows it). `Mode::Disabled` is an
/// [`ProcessError::InvalidArgument`]: SELinux can only be turned off at boot.
#[doc(alias = "security_setenforce")]
#[doc(alias = "SetEnforceMode")]
pub fn set_enforce_mode(mode: Mode) -> Result<(), ProcessError> {
    let subject = || format!("{SELINUXFS}/enforce");
    let value: &[u8] = match mode {
        Mode::Enforcing => b"1",
        Mode::Permissive => b"0",
        Mode::Disabled => {
            return Err(ProcessError::InvalidArgument {
                subject: subject(),
                message: "SELinux cannot be disabled at run time (only at boot)".into(),
            })
        }
    };
    let mount = require(subject)?;
    let path = mount.join("enforce");
    let subject = path.display().to_string();
    let file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| ProcessError::call(&subject, "open", e, None))?;
    write_once(&file, value).map_err(|e| ProcessError::call(subject, "write", e, None))
}

/// Whether the loaded policy has MLS (or MCS) levels:
/// `/sys/fs/selinux/mls` is `1`.
#[doc(alias = "is_selinux_mls_enabled")]
#[doc(alias = "MLSEnabled")]
pub fn mls_enabled() -> Result<bool, ProcessError> {
    let mount = require(|| format!("{SELINUXFS}/mls"))?;
    Ok(number::<u8>(&mount, "mls")? == 1)
}

/// The version of the loaded policy's format (`/sys/fs/selinux/policyvers`,
/// 33 on recent kernels).
#[doc(alias = "security_policyvers")]
pub fn policy_version() -> Result<u32, ProcessError> {
    let mount = require(|| format!("{SELINUXFS}/policyvers"))?;
    number(&mount, "policyvers")
}

/// A class or permission name as a selinuxfs path component: non-empty, no
/// `/`, not `.` or `..`.
fn check_name(kind: &str, name: &str, subject: &str) -> Result<(), ProcessError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(ProcessError::InvalidArgument {
            subject: subject.to_owned(),
            message: format!("{name:?} is not a {kind} name"),
        });
    }
    Ok(())
}

fn class_file(mount: &Path, what: String, name: &str) -> Result<u32, ProcessError> {
    match number(mount, name) {
        Err(ProcessError::Os {
            subject, source, ..
        }) if source.kind() == io::ErrorKind::NotFound => {
            Err(ProcessError::Unknown { what, subject })
        }
        other => other,
    }
}

/// The number of the object class `class` in the loaded policy
/// (`/sys/fs/selinux/class/CLASS/index`): what `/sys/fs/selinux/access`
/// and `/sys/fs/selinux/create` take. [`ProcessError::Unknown`] when the
/// policy has no such class.
#[doc(alias = "string_to_security_class")]
#[doc(alias = "ClassIndex")]
pub fn class_index(class: &str) -> Result<u16, ProcessError> {
    let subject = format!("{SELINUXFS}/class/{class}/index");
    check_name("class", class, &subject)?;
    let mount = require(|| subject.clone())?;
    let n = class_file(
        &mount,
        format!("class {class:?}"),
        &format!("class/{class}/index"),
    )?;
    u16::try_from(n).map_err(|e| ProcessError::Unparsable {
        subject,
        text: n.to_string(),
        message: e.to_string(),
        source: None,
    })
}

/// The bit of permission `perm` of class `class` in an access vector
/// (`1 << (N - 1)` for the `N` in `/sys/fs/selinux/class/CLASS/perms/PERM`).
/// [`ProcessError::Unknown`] when the class or the permission does not
/// exist.
#[doc(alias = "string_to_av_perm")]
pub fn permission_bit(class: &str, perm: &str) -> Result<u32, ProcessError> {
    let subject = format!("{SELINUXFS}/class/{class}/perms/{perm}");
    check_name("class", class, &subject)?;
    check_name("permission", perm, &subject)?;
    let mount = require(|| subject.clone())?;
    if !mount.join("class").join(class).is_dir() {
        return Err(ProcessError::Unknown {
            what: format!("class {class:?}"),
            subject: mount.join("class").join(class).display().to_string(),
        });
    }
    let n = class_file(
        &mount,
        format!("permission {perm:?} in class {class:?}"),
        &format!("class/{class}/perms/{perm}"),
    )?;
    match n {
        1..=32 => Ok(1 << (n - 1)),
        _ => Err(ProcessError::Unparsable {
            subject,
            text: n.to_string(),
            message: "a permission number is 1 to 32".into(),
            source: None,
        }),
    }
}

/// One `write(2)` of the whole buffer: selinuxfs and `/proc/PID/attr` take
/// a request in one call and refuse pieces.
pub(crate) fn write_once(file: &File, data: &[u8]) -> io::Result<()> {
    let n = rustix::io::write(file, data).map_err(io::Error::from)?;
    if n != data.len() {
        return Err(io::Error::other(format!(
            "short write: {n} of {} bytes",
            data.len()
        )));
    }
    Ok(())
}

/// A selinuxfs transaction: write the request to `name`, read the answer
/// (one trailing NUL stripped). `EINVAL` is the kernel's refusal.
fn transaction(mount: &Path, name: &str, request: &[u8]) -> Result<Vec<u8>, (String, io::Error)> {
    let path = mount.join(name);
    let subject = path.display().to_string();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| (subject.clone(), e))?;
    write_once(&file, request).map_err(|e| (subject.clone(), e))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).map_err(|e| (subject, e))?;
    if out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

fn parse_answer(subject: String, out: Vec<u8>) -> Result<SecurityContext, ProcessError> {
    SecurityContext::from_bytes_with(&out, &crate::mls::Limits::default()).map_err(|source| {
        ProcessError::Unparsable {
            subject,
            text: String::from_utf8_lossy(&out).into_owned(),
            message: source.to_string(),
            source: Some(source),
        }
    })
}

fn transaction_error(context: &str, (subject, e): (String, io::Error)) -> ProcessError {
    if e.raw_os_error() == Some(libc::EINVAL) {
        ProcessError::InvalidContext {
            subject,
            context: context.to_owned(),
        }
    } else {
        ProcessError::call(subject, "write", e, None)
    }
}

/// Asks the loaded policy whether `context` is valid: its user, role and
/// type exist, the role is allowed for the user and the type for the role,
/// and the range is within the user's.
///
/// Writes `context` to `/sys/fs/selinux/context` (what libselinux's
/// `security_check_context_raw` does). Stronger than parsing, which only
/// checks the form: `a_u:b_r:c_t:s0` parses, but no policy defines it.
/// [`ProcessError::InvalidContext`] when the policy says no.
#[doc(alias = "security_check_context")]
#[doc(alias = "security_check_context_raw")]
#[doc(alias = "SecurityCheckContext")]
pub fn check_context(context: &str) -> Result<(), ProcessError> {
    canonicalize_context(context).map(drop)
}

/// The kernel's canonical form of `context`: what it would store and print
/// (categories folded into runs, `s0-s0` as `s0`, type aliases resolved to
/// their type, so `svirt_lxc_net_t` comes back as `container_t`).
///
/// Writes `context` to `/sys/fs/selinux/context` and reads the answer
/// (`security_canonicalize_context_raw`). [`ProcessError::InvalidContext`]
/// when the policy does not accept it.
#[doc(alias = "security_canonicalize_context")]
#[doc(alias = "security_canonicalize_context_raw")]
#[doc(alias = "CanonicalizeContext")]
pub fn canonicalize_context(context: &str) -> Result<SecurityContext, ProcessError> {
    let mount = require(|| format!("{SELINUXFS}/context"))?;
    let mut request = context.as_bytes().to_vec();
    request.push(0);
    let out =
        transaction(&mount, "context", &request).map_err(|e| transaction_error(context, e))?;
    parse_answer(mount.join("context").display().to_string(), out)
}

/// The label the kernel gives a new object of class `class` created by
/// `source` in (or under) `target`: the policy's type transitions, role
/// transitions and range transitions applied (`security_compute_create`).
///
/// Writes `SOURCE TARGET CLASS-INDEX` to `/sys/fs/selinux/create`. For a
/// file a process creates in a directory, this is the label the file gets
/// (unless the process set an fscreate label).
#[doc(alias = "security_compute_create")]
#[doc(alias = "security_compute_create_raw")]
#[doc(alias = "ComputeCreateContext")]
pub fn compute_create(
    source: &SecurityContext,
    target: &SecurityContext,
    class: &str,
) -> Result<SecurityContext, ProcessError> {
    let index = class_index(class)?;
    let mount = require(|| format!("{SELINUXFS}/create"))?;
    let request = format!("{source} {target} {index}");
    let out = transaction(&mount, "create", request.as_bytes())
        .map_err(|e| transaction_error(&request, e))?;
    parse_answer(mount.join("create").display().to_string(), out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let text = b"25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n\
            40 25 0:36 / /sys/fs/selinux rw,relatime shared:21 - selinuxfs selinuxfs rw\n\
            41 25 0:36 / /a\\040b\\011c\\134d\\012 rw - selinuxfs selinuxfs rw\n\
            42 25 0:36 / /no-optional rw - selinuxfs none rw\n\
            43 25 0:37 / /sel - rw - selinuxfs x rw\n\
            44 25 0:38 / /fake rw - ext4 /dev/selinuxfs rw\n\
            45 25 0:38 / /short rw -\n\
            garbage line - selinuxfs\n\
            46 25 0:38 / /bad\\9 rw - selinuxfs x rw\n";
        let mounts = selinuxfs_mounts_in(text);
        let want: Vec<PathBuf> = [
            "/sys/fs/selinux",
            "/a b\tc\\d\n",
            "/no-optional",
            "/sel",
            "/bad\\9",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(mounts, want);
        assert!(selinuxfs_mounts_in(b"").is_empty());
        // A backslash at the very end, or with too few digits, is kept.
        assert_eq!(unescape(b"a\\"), b"a\\");
        assert_eq!(unescape(b"a\\04"), b"a\\04");
        assert_eq!(unescape(b"\\777"), b"\\777");
    }

    #[test]
    fn filesystems_lines() {
        assert!(lists_selinuxfs("nodev\tsysfs\nnodev\tselinuxfs\n\text4\n"));
        assert!(!lists_selinuxfs(
            "nodev\tsysfs\n\text4\nnodev\tnotselinuxfs\n"
        ));
        assert!(!lists_selinuxfs(""));
    }

    #[test]
    fn a_directory_that_is_not_selinuxfs_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(probe(dir.path()), Ok(false));
        assert_eq!(probe(Path::new("/nonexistent/selinux")), Ok(false));
    }

    #[test]
    fn names_that_would_leave_the_class_directory_are_refused() {
        for bad in ["", ".", "..", "a/b", "../../etc/passwd", "a\0b"] {
            let e = class_index(bad).unwrap_err();
            assert!(
                matches!(e, ProcessError::InvalidArgument { .. }),
                "{bad:?}: {e:?}"
            );
            let e = permission_bit("file", bad).unwrap_err();
            assert!(
                matches!(e, ProcessError::InvalidArgument { .. }),
                "{bad:?}: {e:?}"
            );
        }
    }

    #[test]
    fn disabled_cannot_be_set() {
        let e = set_enforce_mode(Mode::Disabled).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/sys/fs/selinux/enforce: SELinux cannot be disabled at run time (only at boot)"
        );
    }
}
