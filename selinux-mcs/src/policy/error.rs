//! Errors reading policy files.

use std::io;
use std::path::PathBuf;

use super::read::human_size;
use crate::escape::Escaped;
use crate::ParseError;

/// Why a policy file could not be read or parsed. Every variant names the
/// file (or `<string>` for text given directly) and, for content errors, the
/// line (1-based).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", Escaped::path(path))]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The path names something other than a regular file (a FIFO, a
    /// device, a directory). It was not read, and a FIFO was not even opened.
    #[error("{} is {found}, not a regular file", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is: "a FIFO", "a character device", "a directory", ...
        found: &'static str,
    },
    /// The file is larger than the limit ([`MAX_FILE_SIZE`](super::MAX_FILE_SIZE),
    /// 64 MiB). It was not read.
    #[error("{} is {}, over the {} limit", path.display(), human_size(*size), human_size(*limit))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least `limit + 1` when it grew while read).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A required file is missing.
    #[error("no {what} found (looked for {})", tried.iter().map(|p| Escaped::path(p).to_string()).collect::<Vec<_>>().join(", "))]
    Missing {
        /// What was looked for.
        what: &'static str,
        /// Every path tried, in order.
        tried: Vec<PathBuf>,
    },
    /// A line does not have the expected form.
    #[error("{}:{line}: {message}: {text:?}", Escaped::path(path))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The offending line.
        text: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// A line holds a context that does not parse.
    #[error("{}:{line}: bad context {text:?}: {source}", Escaped::path(path))]
    Context {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The offending context text.
        text: String,
        /// Why it does not parse.
        #[source]
        source: ParseError,
    },
    /// A line uses a feature this crate does not support.
    #[error("{}:{line}: unsupported: {message}: {text:?}", Escaped::path(path))]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The offending line.
        text: String,
        /// What is not supported.
        message: String,
    },
}

impl PolicyError {
    /// The 1-based line the error points at, for content errors.
    pub fn line(&self) -> Option<usize> {
        match self {
            PolicyError::Syntax { line, .. }
            | PolicyError::Context { line, .. }
            | PolicyError::Unsupported { line, .. } => Some(*line),
            _ => None,
        }
    }
}
