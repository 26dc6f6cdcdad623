//! Paths that must never be relabeled, and subtrees that need force.
//!
//! go-selinux compares raw strings, so `/usr//`, `/etc/../usr`, a relative
//! path or a symlink to `/etc` slip through its check. Here every spelling
//! is resolved first: the path is made absolute and normalized (`.`, `..`,
//! `//`, a trailing `/`), resolved through every symlink, and resolved
//! through every symlink but the last (the object a relabel actually
//! labels); each form is compared with the list and with the list's own
//! resolved forms (on a merged-/usr system `/lib` is `/usr/lib`).
//!
//! ```
//! use selinux_mcs::label::protected::{self, PROTECTED};
//! assert!(PROTECTED.contains(&"/var/lib"));
//! for spelling in ["/", "/usr/", "/usr//", "/etc/../usr", "//var/./lib"] {
//!     assert!(protected::check(spelling, true).is_err(), "{spelling}");
//! }
//! // Subtrees of /etc, /usr and /boot need force.
//! assert!(protected::check("/usr/share", false).unwrap_err().needs_force());
//! assert!(protected::check("/usr/share", true).is_ok());
//! ```

use std::collections::HashMap;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

use super::error::ProtectedError;
use super::ident::{self, Ident, OpenRoot};

/// Directories that are never relabeled, whatever the options. The caller's
/// home and `$SUDO_USER`'s home are refused too (see [`Protection`]).
pub const PROTECTED: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/etc/passwd",
    "/etc/pki",
    "/etc/shadow",
    "/home",
    "/lib",
    "/lib64",
    "/media",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/var/lib",
    "/var/log",
];

/// Subtrees whose contents are relabeled only with force (the directories
/// themselves are in [`PROTECTED`]).
pub const NEED_FORCE: &[&str] = &["/etc", "/usr", "/boot"];

/// Directories of a home (the caller's, `$SUDO_USER`'s) that, with their
/// contents, are relabeled only with force.
pub const HOME_NEED_FORCE: &[&str] = &[".ssh", ".gnupg"];

/// The list as text, one entry a line, for help output.
///
/// ```
/// let text = selinux_mcs::label::protected::describe();
/// assert!(text.contains("/var/lib"));
/// assert!(text.contains("~/.ssh"));
/// ```
pub fn describe() -> String {
    format!(
        "Never relabeled: {}, the caller's home and $SUDO_USER's home.\n\
         Relabeled only with --force: anything under {}, and ~/{} (for both homes).",
        PROTECTED.join(" "),
        NEED_FORCE.join(", "),
        HOME_NEED_FORCE.join(", ~/"),
    )
}

/// A protected-path policy: the fixed lists plus some home directories.
///
/// ```
/// use selinux_mcs::label::protected::Protection;
/// # let home = tempfile::tempdir()?;
/// # std::fs::create_dir(home.path().join(".ssh"))?;
/// let p = Protection::with_homes([home.path()]);
/// let err = p.check(home.path().join("."), true).unwrap_err();
/// assert_eq!(err.matched(), home.path()); // a home: refused even with force
/// assert!(p.check(home.path().join(".ssh"), false).unwrap_err().needs_force());
/// assert!(p.check(home.path().join(".ssh"), true).is_ok());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    homes: Vec<PathBuf>,
    enabled: bool,
}

impl Protection {
    /// The system's policy: the homes are `$HOME`, the caller's passwd home
    /// and `$SUDO_USER`'s passwd home.
    pub fn system() -> Protection {
        let mut homes = Vec::new();
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            homes.push(PathBuf::from(home));
        }
        if let Some(home) = passwd_home(Who::Uid(rustix::process::getuid().as_raw())) {
            homes.push(home);
        }
        if let Some(user) = std::env::var_os("SUDO_USER").filter(|u| !u.is_empty()) {
            if let Ok(user) = CString::new(user.into_vec()) {
                if let Some(home) = passwd_home(Who::Name(&user)) {
                    homes.push(home);
                }
            }
        }
        Protection::with_homes(homes)
    }

    /// A policy whose homes are `homes` (for tests and for callers acting
    /// for another user).
    pub fn with_homes<P: Into<PathBuf>>(homes: impl IntoIterator<Item = P>) -> Protection {
        let mut homes: Vec<PathBuf> = homes.into_iter().map(Into::into).collect();
        homes.sort();
        homes.dedup();
        Protection {
            homes,
            enabled: true,
        }
    }

    /// No protection at all: every path is allowed. For callers that write
    /// the policy's own defaults (a restorecon equivalent relabeling
    /// `/etc` from file_contexts), never for container labels.
    ///
    /// ```
    /// use selinux_mcs::label::protected::Protection;
    /// assert!(Protection::unrestricted().check("/etc", false).is_ok());
    /// ```
    pub fn unrestricted() -> Protection {
        Protection {
            homes: Vec::new(),
            enabled: false,
        }
    }

    /// The homes this policy protects.
    pub fn homes(&self) -> &[PathBuf] {
        &self.homes
    }

    /// Checks `path`; returns its resolved form when it may be relabeled.
    ///
    /// Refuses the [`PROTECTED`] directories and the homes in every
    /// spelling; without `force`, refuses anything under [`NEED_FORCE`] and
    /// the homes' [`HOME_NEED_FORCE`] directories. The error names the
    /// protected path that matched. A path that does not exist cannot be
    /// resolved and is refused too.
    pub fn check(&self, path: impl AsRef<Path>, force: bool) -> Result<PathBuf, ProtectedError> {
        let path = path.as_ref();
        let unresolvable = |e: std::io::Error| ProtectedError::unresolvable(path, e);
        let lexical = normalize(path).map_err(unresolvable)?;
        let resolved = std::fs::canonicalize(path).map_err(unresolvable)?;
        if !self.enabled {
            return Ok(resolved);
        }
        // What a relabel labels when the path is a symlink: the link itself,
        // in its resolved parent.
        let link = real_parent(&lexical).unwrap_or_else(|_| lexical.clone());
        let forms = [&lexical, &resolved, &link];

        let homes: Vec<(&Path, PathBuf)> = self
            .homes
            .iter()
            .map(|h| (h.as_path(), normalize(h).unwrap_or_else(|_| h.clone())))
            .collect();
        let refuse = |matched: &Path| ProtectedError::Protected {
            path: path.to_path_buf(),
            resolved: resolved.clone(),
            matched: matched.to_path_buf(),
        };
        for entry in PROTECTED.iter().map(Path::new) {
            if spellings(entry).iter().any(|s| forms.contains(&s)) {
                return Err(refuse(entry));
            }
        }
        for (home, norm) in &homes {
            if spellings(norm).iter().any(|s| forms.contains(&s)) {
                return Err(refuse(home));
            }
        }
        if !force {
            let needs_force = |matched: PathBuf| ProtectedError::NeedsForce {
                path: path.to_path_buf(),
                resolved: resolved.clone(),
                matched,
            };
            for entry in NEED_FORCE.iter().map(Path::new) {
                for s in spellings(entry) {
                    if forms.iter().any(|f| f.starts_with(&s)) {
                        return Err(needs_force(entry.to_path_buf()));
                    }
                }
            }
            for (_, norm) in &homes {
                for dir in HOME_NEED_FORCE {
                    let sub = norm.join(dir);
                    for s in spellings(&sub) {
                        if forms.iter().any(|f| f.starts_with(&s)) {
                            return Err(needs_force(sub));
                        }
                    }
                }
            }
        }
        Ok(resolved)
    }
}

/// The protected set as identities (device, inode), captured when a relabel
/// starts: an object is protected whatever path reaches it (a bind mount of
/// `/etc`, a symlink, a hard link to `/etc/shadow`). The mount id is left
/// out of the comparison on purpose: a bind mount is another mount of the
/// same object, and must match.
#[derive(Clone, Debug, Default)]
pub(crate) struct Guard {
    enabled: bool,
    /// Never relabeled: the object itself.
    never: HashMap<Ident, PathBuf>,
    /// Relabeled only with force: the object and everything below it.
    need_force: HashMap<Ident, PathBuf>,
}

impl Protection {
    /// The identities of the protected paths as they are now (paths that do
    /// not exist protect nothing).
    pub(crate) fn capture(&self) -> Guard {
        let mut g = Guard {
            enabled: self.enabled,
            ..Guard::default()
        };
        if !self.enabled {
            return g;
        }
        let add = |map: &mut HashMap<Ident, PathBuf>, p: &Path| {
            if let Ok(f) = ident::facts_path(p) {
                map.entry(f.ident).or_insert_with(|| p.to_path_buf());
            }
        };
        for p in PROTECTED {
            add(&mut g.never, Path::new(p));
        }
        for h in &self.homes {
            add(&mut g.never, h);
        }
        for p in NEED_FORCE {
            add(&mut g.need_force, Path::new(p));
        }
        for h in &self.homes {
            for d in HOME_NEED_FORCE {
                add(&mut g.need_force, &h.join(d));
            }
        }
        g
    }
}

impl Guard {
    /// Checks an opened root by what it is: refused when it is a protected
    /// object, when it or a directory above it (reached through `..` from
    /// the fd) needs force and `force` is off, or when it is on a pseudo
    /// file system.
    pub(crate) fn check_root(
        &self,
        path: &Path,
        root: &OpenRoot,
        force: bool,
    ) -> Result<(), ProtectedError> {
        if !self.enabled {
            return Ok(());
        }
        let resolved = || ident::fd_path(root.fd.as_fd()).unwrap_or_else(|_| path.to_path_buf());
        if let Some(fs) = ident::pseudo_fs(root.fd.as_fd(), root.facts.mount) {
            return Err(ProtectedError::PseudoFileSystem {
                path: path.to_path_buf(),
                fs: fs.to_owned(),
            });
        }
        if let Some(matched) = self.never.get(&root.facts.ident) {
            return Err(ProtectedError::Protected {
                path: path.to_path_buf(),
                resolved: resolved(),
                matched: matched.clone(),
            });
        }
        if force {
            return Ok(());
        }
        let needs_force = |matched: &PathBuf| ProtectedError::NeedsForce {
            path: path.to_path_buf(),
            resolved: resolved(),
            matched: matched.clone(),
        };
        if let Some(m) = self.need_force.get(&root.facts.ident) {
            return Err(needs_force(m));
        }
        let above = ident::ancestors(root.fd.as_fd(), &root.facts)
            .map_err(|e| ProtectedError::unresolvable(path, e))?;
        match above.iter().find_map(|a| self.need_force.get(a)) {
            Some(m) => Err(needs_force(m)),
            None => Ok(()),
        }
    }

    /// For an entry met inside a tree: the protected path it is, and whether
    /// force would allow it, or `None` when it may be labeled.
    pub(crate) fn inside(&self, id: &Ident, force: bool) -> Option<&Path> {
        if !self.enabled {
            return None;
        }
        if let Some(m) = self.never.get(id) {
            return Some(m);
        }
        if force {
            return None;
        }
        self.need_force.get(id).map(PathBuf::as_path)
    }
}

impl Default for Protection {
    /// [`Protection::system`].
    fn default() -> Protection {
        Protection::system()
    }
}

/// Checks `path` against the system's policy ([`Protection::system`]).
/// Returns the resolved path when it may be relabeled.
pub fn check(path: impl AsRef<Path>, force: bool) -> Result<PathBuf, ProtectedError> {
    Protection::system().check(path, force)
}

/// A path and, when it exists, its resolved form.
fn spellings(p: &Path) -> Vec<PathBuf> {
    let mut v = vec![p.to_path_buf()];
    if let Ok(r) = std::fs::canonicalize(p) {
        if r != p {
            v.push(r);
        }
    }
    v
}

/// Makes `path` absolute (against the current directory) and removes `.`,
/// `..` (textually), repeated and trailing `/`.
pub fn normalize(path: &Path) -> std::io::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut out = PathBuf::from("/");
    for c in abs.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Ok(out)
}

/// `path` made absolute, its parent directory resolved through every
/// symlink and `..` (`realpath`), its last component kept: the object an
/// operation that does not follow a final symlink acts on, and the path
/// `restorecon` matches against file_contexts (the rule of
/// [`policy::lookup_path`](crate::policy::lookup_path) for a path that
/// exists). A path ending in `.` or `..` (or `/`) is resolved whole.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let d = dir.path().canonicalize()?;
/// std::os::unix::fs::symlink(&d, d.join("link"))?;
/// let p = selinux_mcs::label::protected::real_parent(&d.join("link/link"))?;
/// assert_eq!(p, d.join("link")); // the parent resolved, the name kept
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn real_parent(path: &Path) -> std::io::Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    // The same rule as file_contexts lookups of existing paths.
    crate::policy::resolve_existing(&abs).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("cannot resolve the directory of {}", abs.display()),
        )
    })
}

enum Who<'a> {
    Uid(u32),
    Name(&'a CStr),
}

/// The home directory of a passwd entry (`getpwuid_r`/`getpwnam_r`, so NSS
/// sources count too).
fn passwd_home(who: Who<'_>) -> Option<PathBuf> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: `passwd` is plain data that the call fills in; it points
        // into `buf`, which outlives every use of it below.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `pwd` and `result`
        // are live locals, `buf` has `buf.len()` writable bytes, and the
        // name is NUL-terminated.
        let rc = unsafe {
            match who {
                Who::Uid(uid) => libc::getpwuid_r(
                    uid,
                    &mut pwd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut result,
                ),
                Who::Name(name) => libc::getpwnam_r(
                    name.as_ptr(),
                    &mut pwd,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &mut result,
                ),
            }
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            let len = buf.len() * 2;
            buf.resize(len, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        // SAFETY: on success `pw_dir` points at a NUL-terminated string in
        // `buf`, which is still alive.
        let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
        let dir = OsStr::from_bytes(dir.to_bytes());
        if dir.is_empty() {
            return None;
        }
        return Some(PathBuf::from(OsString::from(dir)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_spellings() {
        assert_eq!(normalize(Path::new("/usr//")).unwrap(), Path::new("/usr"));
        assert_eq!(
            normalize(Path::new("/etc/../usr/./")).unwrap(),
            Path::new("/usr")
        );
        assert_eq!(normalize(Path::new("/..")).unwrap(), Path::new("/"));
    }

    #[test]
    fn every_spelling_of_a_protected_path_is_refused() {
        let p = Protection::with_homes(Vec::<PathBuf>::new());
        for s in [
            "/",
            "//",
            "/.",
            "/usr",
            "/usr/",
            "/usr//",
            "/etc/../usr",
            "/usr/.",
            "/var/lib/",
            "/var/log/../lib",
            "/tmp",
            "/tmp/",
            "/home/",
            "/etc/passwd",
        ] {
            let err = p.check(s, true).unwrap_err();
            assert!(
                matches!(err, ProtectedError::Protected { .. }),
                "{s}: {err}"
            );
        }
        let err = p.check("/etc/../usr", true).unwrap_err();
        assert_eq!(err.matched(), Path::new("/usr"));
        assert_eq!(
            err.to_string(),
            "refusing to relabel /etc/../usr: it resolves to /usr, the protected path /usr"
        );
    }

    #[test]
    fn relative_and_symlinked_spellings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("etc-link");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        let p = Protection::with_homes(Vec::<PathBuf>::new());
        let err = p.check(&link, true).unwrap_err();
        assert_eq!(err.matched(), Path::new("/etc"));
        // Through a symlinked parent.
        let err = p.check(link.join("passwd"), true).unwrap_err();
        assert_eq!(err.matched(), Path::new("/etc/passwd"));
        // A relative path that climbs to /usr.
        let cwd = std::env::current_dir().unwrap();
        let depth = cwd.components().count() - 1;
        let rel = "../".repeat(depth) + "usr";
        let err = p.check(&rel, true).unwrap_err();
        assert_eq!(err.matched(), Path::new("/usr"));
    }

    #[test]
    fn subtrees_need_force() {
        let p = Protection::with_homes(Vec::<PathBuf>::new());
        let err = p.check("/usr/share", false).unwrap_err();
        assert!(err.needs_force());
        assert_eq!(err.matched(), Path::new("/usr"));
        assert_eq!(
            err.to_string(),
            "refusing to relabel /usr/share without force: it is inside /usr"
        );
        assert!(p.check("/usr/share", true).is_ok());
        assert!(p.check("/etc/hostname", false).unwrap_err().needs_force());
    }

    #[test]
    fn homes_are_refused_and_their_secrets_need_force() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".ssh")).unwrap();
        std::fs::create_dir(home.path().join("work")).unwrap();
        let p = Protection::with_homes([home.path()]);
        let err = p.check(home.path().join("work/.."), true).unwrap_err();
        assert_eq!(err.matched(), home.path());
        let err = p.check(home.path().join(".ssh/"), false).unwrap_err();
        assert!(err.needs_force(), "{err}");
        assert_eq!(err.matched(), home.path().join(".ssh"));
        assert!(p.check(home.path().join(".ssh"), true).is_ok());
        assert!(p.check(home.path().join("work"), false).is_ok());
    }

    #[test]
    fn a_missing_path_is_unresolvable() {
        let err = check("/nonexistent/path/x", false).unwrap_err();
        assert!(matches!(err, ProtectedError::Unresolvable { .. }));
    }
}
