//! The path a file_contexts lookup should use for a path as a user wrote it.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The path to look up in file_contexts for `path` as given, resolved as
/// `restorecon` resolves it when it exists, and kept as written when it
/// does not (as `matchpathcon` looks it up).
///
/// - A relative `path` is first joined to the current directory.
/// - `path` exists (`lstat` succeeds; a dangling symlink exists): its
///   directory is resolved (`realpath(3)` of the parent: symlinks, `.` and
///   `..` resolved) and its last component kept, so a symlink is looked up
///   as itself, not as its target; `/etc/./shadow` is `/etc/shadow` and
///   `/bin/../etc/shadow` with `/bin -> usr/bin` is `/usr/etc/shadow`, as
///   the kernel reads them. A path whose last component is `.` or `..` is
///   resolved whole. This is `selinux_restorecon`'s rule.
/// - `path` does not exist (or cannot be examined): only runs of `/` are
///   collapsed; `.` and `..` stay as written and the rules see them as text
///   (`/nonexistent/./x` is matched by `/nonexistent/.*` as any name is).
///   This is what `selabel_lookup` does with a path, and so `matchpathcon`
///   for a path `realpath(3)` cannot resolve.
///
/// [`FileContexts::lookup`](super::FileContexts::lookup) itself takes its
/// path as text; this function is what `relabel lookup` uses first. The
/// only error is an unreadable current directory for a relative `path`.
///
/// ```
/// use selinux_mcs::policy::lookup_path;
/// use std::path::Path;
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("d"))?;
/// std::fs::write(dir.path().join("d/f"), "")?;
/// let real = dir.path().canonicalize()?;
/// assert_eq!(lookup_path(&dir.path().join("d/./f"))?, real.join("d/f"));
/// assert_eq!(lookup_path(&dir.path().join("d/../d/f"))?, real.join("d/f"));
/// // Missing: as written, `//` collapsed.
/// assert_eq!(lookup_path(Path::new("/no//such/./x/../y"))?, Path::new("/no/such/./x/../y"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[doc(alias = "matchpathcon")]
#[doc(alias = "realpath")]
pub fn lookup_path(path: &Path) -> io::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    if std::fs::symlink_metadata(&joined).is_ok() {
        if let Some(resolved) = resolve_existing(&joined) {
            return Ok(resolved);
        }
    }
    Ok(collapse_slashes(&joined))
}

/// `realpath` of the parent and the last component, or of the whole path
/// when the last component is `.` or `..` (or there is none).
pub(crate) fn resolve_existing(path: &Path) -> Option<PathBuf> {
    let bytes = path.as_os_str().as_bytes();
    let trimmed_len = bytes.len() - bytes.iter().rev().take_while(|&&b| b == b'/').count();
    let trimmed = &bytes[..trimmed_len];
    let slash = trimmed.iter().rposition(|&b| b == b'/')?;
    let name = &trimmed[slash + 1..];
    if name.is_empty() || name == b"." || name == b".." {
        return std::fs::canonicalize(path).ok();
    }
    let parent = if slash == 0 {
        &b"/"[..]
    } else {
        &trimmed[..slash]
    };
    let mut out = std::fs::canonicalize(Path::new(std::ffi::OsStr::from_bytes(parent))).ok()?;
    out.push(std::ffi::OsStr::from_bytes(name));
    Some(out)
}

fn collapse_slashes(path: &Path) -> PathBuf {
    let mut out = Vec::with_capacity(path.as_os_str().len());
    for &b in path.as_os_str().as_bytes() {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn existing_paths_resolve_their_directory_and_keep_the_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().canonicalize().expect("canonicalize");
        std::fs::create_dir_all(real.join("usr/bin")).expect("mkdir");
        std::fs::create_dir_all(real.join("usr/etc")).expect("mkdir");
        std::fs::create_dir_all(real.join("etc")).expect("mkdir");
        std::fs::write(real.join("etc/shadow"), "").expect("write");
        std::fs::write(real.join("usr/etc/shadow"), "").expect("write");
        symlink("usr/bin", real.join("bin")).expect("symlink");
        symlink("shadow", real.join("etc/link")).expect("symlink");
        symlink("missing", real.join("etc/dangling")).expect("symlink");
        let r = |p: &str| lookup_path(&real.join(p)).expect("lookup_path");
        assert_eq!(r("etc/./shadow"), real.join("etc/shadow"));
        assert_eq!(r("etc//shadow"), real.join("etc/shadow"));
        // `..` after a symlink is taken as the kernel takes it.
        assert_eq!(r("bin/../etc/shadow"), real.join("usr/etc/shadow"));
        // The last component is kept: a symlink is looked up as itself.
        assert_eq!(r("etc/link"), real.join("etc/link"));
        assert_eq!(r("etc/dangling"), real.join("etc/dangling"));
        assert_eq!(r("etc/"), real.join("etc"));
        assert_eq!(r("etc/."), real.join("etc"));
        // Not a directory: the kernel finds nothing there, so it is missing.
        assert_eq!(r("etc/shadow/.."), real.join("etc/shadow/.."));
        assert_eq!(r("bin/.."), real.join("usr"));
        assert_eq!(lookup_path(Path::new("/")).expect("root"), Path::new("/"));
    }

    #[test]
    fn missing_paths_are_kept_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().join("nope");
        let p = format!("{}//a/./b/../c/", base.display());
        let want = format!("{}/a/./b/../c/", base.display());
        assert_eq!(
            lookup_path(Path::new(&p)).expect("lookup_path"),
            Path::new(&want)
        );
    }
}
