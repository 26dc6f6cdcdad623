//! Reading input files: regular files only, never a blocking open, at most
//! [`MAX_FILE_SIZE`] bytes.
//!
//! Every policy file the crate reads (file_contexts and its `.homedirs`,
//! `.local`, `.subs_dist` and `.subs`, setrans.conf and its includes,
//! `/etc/selinux/config`, the container contexts, `customizable_types`) goes
//! through [`read_policy_file`]; the registry checks its database file with
//! [`open_regular`] before SQLite opens it. So a FIFO never blocks the
//! caller, `/dev/zero` is never read, and a huge file is never loaded.

use std::fs::{File, Metadata};
use std::io::{self, Read as _};
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::Path;

use super::PolicyError;

/// The largest policy file read: 64 MiB (Fedora's whole file_contexts
/// family is under 1 MiB). Larger files are refused with
/// [`PolicyError::TooLarge`], before anything is read.
pub const MAX_FILE_SIZE: u64 = 64 << 20;

/// Why [`open_regular`] refused a path.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// `stat`, `open` or `fstat` failed (`NotFound` when there is no file).
    Io {
        #[cfg_attr(not(feature = "registry"), allow(dead_code))] // the registry's messages
        call: &'static str,
        source: io::Error,
    },
    /// Something other than a regular file: what it is ("a FIFO").
    NotRegular(&'static str),
}

impl OpenError {
    /// Whether nothing exists at the path.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, OpenError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// What a file that is not a regular file is, for error messages.
pub(crate) fn describe(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "an unknown kind of file"
    }
}

/// Opens `path` (following symlinks) for reading if, and only if, it is a
/// regular file, without ever blocking.
///
/// `stat(2)` first, so a FIFO or a device is refused without being opened
/// at all (opening some devices has effects); then `open(2)` with
/// `O_NONBLOCK | O_NOCTTY` (a FIFO swapped in after the `stat` does not
/// block the open) and `fstat(2)` on the descriptor, which is what counts.
/// `O_NONBLOCK` has no effect on reads of a regular file.
pub(crate) fn open_regular(path: &Path) -> Result<(File, Metadata), OpenError> {
    let meta = std::fs::metadata(path).map_err(|source| OpenError::Io {
        call: "stat",
        source,
    })?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(describe(&meta)));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|source| OpenError::Io {
            call: "open",
            source,
        })?;
    let meta = file.metadata().map_err(|source| OpenError::Io {
        call: "fstat",
        source,
    })?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(describe(&meta)));
    }
    Ok((file, meta))
}

/// Reads a policy file as UTF-8 text: a regular file of at most
/// [`MAX_FILE_SIZE`] bytes. Errors name the path: [`PolicyError::NotAFile`]
/// ("is a FIFO, not a regular file"), [`PolicyError::TooLarge`] ("is 3.9
/// GiB, over the 64 MiB limit"), else [`PolicyError::Io`].
pub(crate) fn read_policy_file(path: &Path) -> Result<String, PolicyError> {
    let (file, meta) = open_regular(path).map_err(|e| refused(path, e))?;
    read_opened(path, file, &meta)
}

/// [`read_policy_file`] for a file that may be absent: `Ok(None)` when
/// nothing exists at `path` (a dangling symlink included).
pub(crate) fn read_optional_policy_file(path: &Path) -> Result<Option<String>, PolicyError> {
    match open_regular(path) {
        Ok((file, meta)) => read_opened(path, file, &meta).map(Some),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(refused(path, e)),
    }
}

fn refused(path: &Path, e: OpenError) -> PolicyError {
    match e {
        OpenError::NotRegular(found) => PolicyError::NotAFile {
            path: path.to_path_buf(),
            found,
        },
        OpenError::Io { source, .. } => PolicyError::Io {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Reads a binary file (a kernel policy) under the same rules as
/// [`read_policy_file`], without the UTF-8 check.
pub(crate) fn read_binary_file(path: &Path) -> Result<Vec<u8>, PolicyError> {
    let (file, meta) = open_regular(path).map_err(|e| refused(path, e))?;
    read_opened_bytes(path, file, &meta)
}

fn read_opened(path: &Path, file: File, meta: &Metadata) -> Result<String, PolicyError> {
    let bytes = read_opened_bytes(path, file, meta)?;
    String::from_utf8(bytes).map_err(|_| PolicyError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ),
    })
}

fn read_opened_bytes(path: &Path, file: File, meta: &Metadata) -> Result<Vec<u8>, PolicyError> {
    let too_large = |size: u64| PolicyError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit: MAX_FILE_SIZE,
    };
    if meta.len() > MAX_FILE_SIZE {
        return Err(too_large(meta.len()));
    }
    let io_err = |source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    };
    // The size from fstat is a hint (the file may grow, and files under
    // /proc say 0): read at most one byte past the limit to know.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&file)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        let now = file.metadata().map_or(0, |m| m.len());
        return Err(too_large(now.max(bytes.len() as u64)));
    }
    Ok(bytes)
}

/// `bytes` for people: `512 bytes`, `64 MiB`, `3.9 GiB` (one decimal,
/// rounded down, so a size just over a limit never prints as the limit).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} byte{}", if bytes == 1 { "" } else { "s" });
    }
    let mut unit = 1024u64;
    let mut name = UNITS[0];
    for next in &UNITS[1..] {
        if bytes / unit < 1024 {
            break;
        }
        unit *= 1024;
        name = next;
    }
    let whole = bytes / unit;
    let tenths = (bytes % unit) * 10 / unit;
    if bytes.is_multiple_of(unit) {
        format!("{whole} {name}")
    } else {
        format!("{whole}.{tenths} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(MAX_FILE_SIZE), "64 MiB");
        assert_eq!(human_size(MAX_FILE_SIZE + 1), "64.0 MiB");
        assert_eq!(human_size(4_200_000_000), "3.9 GiB");
        assert_eq!(human_size(u64::MAX), "16383.9 PiB");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = read_policy_file(dir.path()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} is a directory, not a regular file",
                dir.path().display()
            )
        );
        let e = read_policy_file(Path::new("/dev/null")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/null is a character device, not a regular file"
        );
        assert!(read_optional_policy_file(&dir.path().join("nope"))
            .expect("absent is fine")
            .is_none());
        let file = dir.path().join("f");
        std::fs::write(&file, "text\n").expect("write");
        assert_eq!(read_policy_file(&file).expect("read"), "text\n");
    }
}
