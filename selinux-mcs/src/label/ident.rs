//! What a file *is*, as opposed to how it was spelled: its identity
//! (device, inode, mount id), its file system, and the roots of a relabel
//! opened once as file descriptors.
//!
//! Every check on a root (protected objects, pseudo file systems, mount
//! points) and every write to it goes through the fd opened here, so a path
//! whose components are swapped after the open cannot redirect either.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, StatxFlags};
use rustix::io::Errno;

/// A file's identity: equal identities are the same object, however it was
/// reached (a symlink, a bind mount, another spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Ident {
    pub dev: u64,
    pub ino: u64,
}

/// What `statx` said about one file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts {
    pub ident: Ident,
    /// The mount the file is on: the mount id (Linux 5.8), else the device
    /// with the top bit set so that it never equals a mount id.
    pub mount: u64,
    pub kind: FileType,
    pub nlink: u32,
}

const WANT: StatxFlags = StatxFlags::TYPE
    .union(StatxFlags::INO)
    .union(StatxFlags::NLINK)
    .union(StatxFlags::MNT_ID);

fn facts(st: &rustix::fs::Statx) -> Facts {
    let dev = rustix::fs::makedev(st.stx_dev_major, st.stx_dev_minor);
    let mount = if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
        st.stx_mnt_id
    } else {
        dev | 1 << 63
    };
    Facts {
        ident: Ident {
            dev,
            ino: st.stx_ino,
        },
        mount,
        kind: FileType::from_raw_mode(st.stx_mode.into()),
        nlink: st.stx_nlink,
    }
}

/// The kind of a file type from a directory entry or `statx`; `None` for
/// an unknown type.
pub(crate) fn file_kind(ft: FileType) -> Option<crate::FileKind> {
    use crate::FileKind;
    Some(match ft {
        FileType::RegularFile => FileKind::File,
        FileType::Directory => FileKind::Dir,
        FileType::Symlink => FileKind::Symlink,
        FileType::CharacterDevice => FileKind::Char,
        FileType::BlockDevice => FileKind::Block,
        FileType::Fifo => FileKind::Fifo,
        FileType::Socket => FileKind::Socket,
        _ => return None,
    })
}

/// `statx(fd, "", AT_EMPTY_PATH, TYPE|INO|NLINK|MNT_ID)`: the open file
/// itself (an `O_PATH` fd works).
pub(crate) fn facts_fd(fd: BorrowedFd<'_>) -> Result<Facts, Errno> {
    rustix::fs::statx(fd, c"", AtFlags::EMPTY_PATH, WANT).map(|st| facts(&st))
}

/// `statx(dirfd, name, AT_SYMLINK_NOFOLLOW, TYPE|INO|NLINK|MNT_ID)`: the
/// entry `name` itself, never followed (a mount point answers for what is
/// mounted on it).
pub(crate) fn facts_at(dirfd: BorrowedFd<'_>, name: &CStr) -> Result<Facts, Errno> {
    rustix::fs::statx(dirfd, name, AtFlags::SYMLINK_NOFOLLOW, WANT).map(|st| facts(&st))
}

/// `stat` through every symlink (for capturing the protected set).
pub(crate) fn facts_path(path: &Path) -> Result<Facts, Errno> {
    rustix::fs::statx(rustix::fs::CWD, path, AtFlags::empty(), WANT).map(|st| facts(&st))
}

/// Pseudo file systems, by `statfs` magic: no volume lives there, and a
/// label written there changes the host (proc, sysfs, cgroups, ...).
const PSEUDO: &[(i64, &str)] = &[
    (0x9fa0, "proc"),
    (0x6265_6572, "sysfs"),
    (0x1cd1, "devpts"),
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0xf97c_ff8c, "selinuxfs"),
    (0x7363_6673, "securityfs"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0xcafe_4a11, "bpf"),
    (0x6265_6570, "configfs"),
    (0xde5e_81e4, "efivarfs"),
    (0x6165_676c, "pstore"),
    (0x1980_0202, "mqueue"),
    (0x6573_5543, "fusectl"),
    (0x4249_4e4d, "binfmt_misc"),
    (0x6e73_6673, "nsfs"),
];

/// tmpfs and ramfs: devtmpfs reports one of these, so the mount table says
/// which it is.
const TMPFS_LIKE: &[i64] = &[0x0102_1994, 0x8584_58f6];

/// The pseudo file system `fd` is on, if it is on one: by `fstatfs` magic,
/// and for tmpfs-like magics by the mount table entry of `mount` (devtmpfs
/// shares tmpfs's magic).
pub(crate) fn pseudo_fs(fd: BorrowedFd<'_>, mount: u64) -> Option<&'static str> {
    let magic = rustix::fs::fstatfs(fd).ok()?.f_type as i64;
    // f_type is a signed word on some ABIs: compare the low 32 bits.
    let magic = magic & 0xffff_ffff;
    if let Some((_, name)) = PSEUDO.iter().find(|(m, _)| *m == magic) {
        return Some(name);
    }
    if TMPFS_LIKE.contains(&magic) && mount_fstype(mount).as_deref() == Some("devtmpfs") {
        return Some("devtmpfs");
    }
    None
}

/// The file system type of mount `id`, from `/proc/self/mountinfo`.
fn mount_fstype(id: u64) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(' ');
        if fields.next()?.parse::<u64>().ok()? != id {
            return None;
        }
        // After the optional fields, " - FSTYPE SOURCE OPTIONS".
        let (_, rest) = line.split_once(" - ")?;
        rest.split(' ').next().map(str::to_owned)
    })
}

/// Whether anything is mounted strictly below `dir` (a path as
/// `/proc/self/fd` spells it), by the mount table; `true` when the table
/// cannot be read. Only a hint for how much to look: every write is still
/// preceded by a mount check of its own.
pub(crate) fn mounts_below(dir: &Path) -> bool {
    let Ok(text) = std::fs::read("/proc/self/mountinfo") else {
        return true;
    };
    let dir = dir.as_os_str().as_bytes();
    text.split(|&b| b == b'\n').any(|line| {
        let Some(point) = line.split(|&b| b == b' ').nth(4) else {
            return false;
        };
        let point = unescape_octal(point);
        point.len() > dir.len()
            && point.starts_with(dir)
            && (dir == b"/" || point[dir.len()] == b'/')
    })
}

/// The mount table's `\NNN` octal escapes (space, tab, newline, backslash).
fn unescape_octal(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let digits = field.get(i + 1..i + 4);
        match digits {
            Some(d) if field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            _ => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

/// The path `/proc/self/fd/N` names for `fd`: where the kernel says the open
/// file is now (not how it was spelled). Only for messages and for finding
/// a non-directory's parent, whose identity is then checked.
pub(crate) fn fd_path(fd: BorrowedFd<'_>) -> io::Result<PathBuf> {
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    std::fs::read_link(link)
}

/// `openat(dirfd, name, O_PATH | O_NOFOLLOW)`.
pub(crate) fn open_path_at(
    dirfd: BorrowedFd<'_>,
    name: &CStr,
    dir: bool,
) -> Result<OwnedFd, Errno> {
    let mut flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if dir {
        flags |= OFlags::DIRECTORY;
    }
    rustix::fs::openat(dirfd, name, flags, Mode::empty())
}

/// The directories above `fd`, nearest first, each with its identity,
/// reached by `..` from the open file (never by re-resolving a path). For a
/// non-directory the parent is found through `/proc/self/fd` and accepted
/// only if it holds, under the file's name, the very same object.
pub(crate) fn ancestors(fd: BorrowedFd<'_>, me: &Facts) -> io::Result<Vec<Ident>> {
    let mut out = Vec::new();
    let mut cur: OwnedFd = if me.kind == FileType::Directory {
        rustix::fs::openat(fd, c".", OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?
    } else {
        parent_of_non_dir(fd, me)?
    };
    let mut cur_facts = if me.kind == FileType::Directory {
        *me
    } else {
        let f = facts_fd(cur.as_fd())?;
        out.push(f.ident);
        f
    };
    // A path has at most PATH_MAX / 2 components; the bound only stops a
    // loop on a file system that answers `..` strangely.
    for _ in 0..4096 {
        let up = open_path_at(cur.as_fd(), c"..", true)?;
        let up_facts = facts_fd(up.as_fd())?;
        if up_facts.ident == cur_facts.ident && up_facts.mount == cur_facts.mount {
            return Ok(out); // `/..` is `/`
        }
        out.push(up_facts.ident);
        cur = up;
        cur_facts = up_facts;
    }
    Err(io::Error::other("too many directories above the path"))
}

/// The directory holding a non-directory `fd`, checked to hold it.
fn parent_of_non_dir(fd: BorrowedFd<'_>, me: &Facts) -> io::Result<OwnedFd> {
    let path = fd_path(fd)?;
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::other("the file has no parent directory"));
    };
    let parent = rustix::fs::open(
        parent,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let name = std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::other("a NUL in the file's name"))?;
    let there = facts_at(parent.as_fd(), &name)?;
    if there.ident != me.ident {
        return Err(io::Error::other(
            "the file moved while its directory was being checked",
        ));
    }
    Ok(parent)
}

/// A root opened for labeling: an `O_PATH` fd of the object itself, and
/// what it is.
#[derive(Debug)]
pub(crate) struct OpenRoot {
    pub fd: OwnedFd,
    pub facts: Facts,
}

/// Opens `path` once: following symlinks (`deref`, as `chcon` does), or
/// the final component itself when it is a symlink (`!deref`).
pub(crate) fn open_root(path: &Path, deref: bool) -> Result<OpenRoot, Errno> {
    let mut flags = OFlags::PATH | OFlags::CLOEXEC;
    if !deref {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty())?;
    let facts = facts_fd(fd.as_fd())?;
    Ok(OpenRoot { fd, facts })
}

/// A readable directory fd for the directory `dir` holds (`O_PATH` fds cannot
/// be read): `openat(dir, ".")` names the same object, with no path
/// resolved again.
pub(crate) fn reopen_dir(dir: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        c".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `/proc/self/fd/N` for an `O_PATH` fd, checked to lead to that very
/// object: the xattr calls that follow it label what the fd holds (a
/// symlink's fd leads to the link itself, never past it).
pub(crate) fn proc_fd_path(fd: BorrowedFd<'_>, me: &Facts) -> io::Result<std::ffi::CString> {
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let via = rustix::fs::statx(rustix::fs::CWD, path.as_str(), AtFlags::empty(), WANT)?;
    if facts(&via).ident != me.ident {
        return Err(io::Error::other(
            "/proc/self/fd does not lead to the file the fd holds",
        ));
    }
    std::ffi::CString::new(path).map_err(|_| io::Error::other("bad fd path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_is_a_pseudo_file_system() {
        let fd = rustix::fs::open("/proc/self", OFlags::PATH, Mode::empty()).unwrap();
        let f = facts_fd(fd.as_fd()).unwrap();
        assert_eq!(pseudo_fs(fd.as_fd(), f.mount), Some("proc"));
        let tmp = tempfile::tempdir().unwrap();
        let fd = rustix::fs::open(tmp.path(), OFlags::PATH, Mode::empty()).unwrap();
        let f = facts_fd(fd.as_fd()).unwrap();
        assert_eq!(pseudo_fs(fd.as_fd(), f.mount), None);
    }

    #[test]
    fn the_mount_table_is_read_with_its_escapes() {
        assert_eq!(unescape_octal(br"/a\040b\134c"), b"/a b\\c");
        assert!(mounts_below(Path::new("/")));
        let tmp = tempfile::tempdir().unwrap();
        assert!(!mounts_below(tmp.path()));
    }

    #[test]
    fn ancestors_end_at_the_root_directory() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), "").unwrap();
        let root = open_root(&tmp.path().join("f"), true).unwrap();
        let up = ancestors(root.fd.as_fd(), &root.facts).unwrap();
        let slash = facts_path(Path::new("/")).unwrap().ident;
        let dir = facts_path(tmp.path()).unwrap().ident;
        assert_eq!(up.first(), Some(&dir));
        assert_eq!(up.last(), Some(&slash));
        assert_eq!(up.len(), tmp.path().components().count());
    }
}
