//! Exit statuses, in one place, and the error type commands return.

use std::fmt;
use std::process::ExitCode;

/// The exit statuses of `relabel`; `relabel --help` documents them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done (for `check`: the evaluation ran).
    Success = 0,
    /// The operation ran but failed for some paths (see the report).
    Failed = 1,
    /// Bad usage or bad input (a context, level, path or number that does not parse).
    Usage = 2,
    /// The MCS pool has no free pair left.
    Exhausted = 3,
    /// `exec`: the command was found but cannot be executed (not
    /// executable, or the policy refused the transition), as `runcon` and
    /// the shell say.
    CannotExecute = 126,
    /// `exec`: the command was not found.
    CommandNotFound = 127,
    /// Standard output was closed before everything was printed (`EPIPE`:
    /// `relabel apply -v DIR | head -1`); the command stopped there, quietly.
    ///
    /// 141 is 128 + SIGPIPE (13): the status a shell reports for a program
    /// that the default SIGPIPE ended, as `yes | head -1` leaves in
    /// `PIPESTATUS`. Scripts under `set -o pipefail` already recognize it
    /// (and often tolerate it), it never collides with the small statuses
    /// above, and it is not 0: a command cut short (an `apply` that stopped
    /// relabeling midway) must not claim it did everything.
    OutputClosed = 141,
}

/// The text `relabel --help` shows about exit statuses.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success (for `check`: the evaluation ran, whatever it decided)
  1  the operation failed for some paths (the report lists them), a registry
     operation could not be done (nothing held, no registry at PATH, not a registry,
     etcd unreachable or without quorum for --timeout), or, for `exec` and
     `show --pid`, SELinux is not enabled (one line says how we can tell) or the
     kernel refused (an invalid context: EINVAL; not permitted: EACCES or EPERM; no
     such process); for `why`: some AVC lines are malformed or name what the
     policy lacks
  2  bad usage or input: a context, level, path or number that does not parse, a
     protected path, contradictory flags, a policy file that does not load
  3  the MCS pool is exhausted, or alloc --count asks for more pairs than are free
126  exec: the command cannot be executed (not executable, or the policy refused the transition)
127  exec: the command was not found
     Otherwise `exec` exits with the command's own status (relabel is replaced by it).
141  standard output was closed before everything was printed (as by `| head`):
     the command stopped there (labels written so far stay; run it again)";

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// An error a command reports on stderr, with the status to exit with.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub exit: Exit,
    /// The message, printed after `relabel: `.
    pub message: String,
}

impl CliError {
    /// Bad usage or input (status 2).
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError {
            exit: Exit::Usage,
            message: message.to_string(),
        }
    }

    /// The operation failed (status 1).
    #[allow(dead_code)] // used by the commands that report per-path failures
    pub fn failed(message: impl fmt::Display) -> CliError {
        CliError {
            exit: Exit::Failed,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a command returns.
pub type CmdResult = Result<Exit, CliError>;
