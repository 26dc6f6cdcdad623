//! The kinds of file that labels and file_contexts rules distinguish.

use std::fmt;
use std::str::FromStr;

/// The kind of a file, as file_contexts rules (`--`, `-d`, `-l`, ...) and
/// `matchpathcon` name them.
///
/// ```
/// use selinux_mcs::FileKind;
/// assert_eq!("-d".parse::<FileKind>(), Ok(FileKind::Dir));
/// assert_eq!("symlink".parse::<FileKind>(), Ok(FileKind::Symlink));
/// assert_eq!(FileKind::File.rule_flag(), "--");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// A regular file (`--`).
    File,
    /// A directory (`-d`).
    Dir,
    /// A symbolic link (`-l`).
    Symlink,
    /// A character device (`-c`).
    Char,
    /// A block device (`-b`).
    Block,
    /// A named pipe (`-p`).
    Fifo,
    /// A socket (`-s`).
    Socket,
}

impl FileKind {
    /// Every kind, in rule-flag order.
    pub const ALL: [FileKind; 7] = [
        FileKind::File,
        FileKind::Dir,
        FileKind::Symlink,
        FileKind::Char,
        FileKind::Block,
        FileKind::Fifo,
        FileKind::Socket,
    ];

    /// The file_contexts flag: `--`, `-d`, `-l`, `-c`, `-b`, `-p`, `-s`.
    pub const fn rule_flag(self) -> &'static str {
        match self {
            FileKind::File => "--",
            FileKind::Dir => "-d",
            FileKind::Symlink => "-l",
            FileKind::Char => "-c",
            FileKind::Block => "-b",
            FileKind::Fifo => "-p",
            FileKind::Socket => "-s",
        }
    }

    /// The word the CLI uses: `file`, `dir`, `symlink`, `chr`, `blk`, `fifo`, `sock`.
    pub const fn name(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Dir => "dir",
            FileKind::Symlink => "symlink",
            FileKind::Char => "chr",
            FileKind::Block => "blk",
            FileKind::Fifo => "fifo",
            FileKind::Socket => "sock",
        }
    }

    /// The file-type bits of `st_mode` (`S_IFREG`, `S_IFDIR`, ...), as
    /// libselinux's lookups take them.
    ///
    /// ```
    /// use selinux_mcs::FileKind;
    /// assert_eq!(FileKind::Dir.mode_bits(), 0o040000);
    /// ```
    pub const fn mode_bits(self) -> libc::mode_t {
        match self {
            FileKind::File => libc::S_IFREG,
            FileKind::Dir => libc::S_IFDIR,
            FileKind::Symlink => libc::S_IFLNK,
            FileKind::Char => libc::S_IFCHR,
            FileKind::Block => libc::S_IFBLK,
            FileKind::Fifo => libc::S_IFIFO,
            FileKind::Socket => libc::S_IFSOCK,
        }
    }

    /// The kind of a `std::fs::FileType` (from `symlink_metadata`, so a
    /// symlink is a symlink).
    pub fn from_std(ft: std::fs::FileType) -> FileKind {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_char_device() {
            FileKind::Char
        } else if ft.is_block_device() {
            FileKind::Block
        } else if ft.is_fifo() {
            FileKind::Fifo
        } else if ft.is_socket() {
            FileKind::Socket
        } else {
            FileKind::File
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FileKind {
    type Err = UnknownName;
    /// Accepts the rule flags and the CLI words.
    fn from_str(s: &str) -> Result<FileKind, UnknownName> {
        FileKind::ALL
            .into_iter()
            .find(|k| k.rule_flag() == s || k.name() == s)
            .ok_or_else(|| UnknownName {
                what: "file type",
                text: s.to_owned(),
                expected:
                    "file, dir, symlink, chr, blk, fifo, sock (or --, -d, -l, -c, -b, -p, -s)"
                        .into(),
            })
    }
}

/// A name that is not one of a fixed set (a file type, a permission).
///
/// ```
/// let err = "pipe".parse::<selinux_mcs::FileKind>().unwrap_err();
/// assert_eq!(err.text(), "pipe");
/// assert!(err.to_string().starts_with("unknown file type \"pipe\": expected one of file, dir"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {text:?}: expected one of {expected}")]
pub struct UnknownName {
    pub(crate) what: &'static str,
    pub(crate) text: String,
    pub(crate) expected: String,
}

impl UnknownName {
    /// The text that was not recognized.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What kind of name was expected (`file type`, `permission`).
    pub fn what(&self) -> &'static str {
        self.what
    }
}
