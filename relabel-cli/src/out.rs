//! Standard output: everything `relabel` prints there goes through this
//! module, so every command ends the same way when stdout goes away.
//!
//! - [`outln!`] and [`out!`] are `println!` and `print!`: one call is one
//!   write of the whole text under stdout's lock, so lines printed from the
//!   walker's worker threads (`apply -v`, `restore -v`) never interleave.
//! - [`json`] prints one JSON document and a newline; [`Writer`] is an
//!   `io::Write` for code that streams (serde_json, clap_complete).
//! - Paths, labels and other text that came from files or users are printed
//!   through [`Escaped`] in text output (`outln!("{} {}", Escaped::str(&label),
//!   Escaped::path(path))`), so a name holding a newline, an escape sequence
//!   or invalid UTF-8 prints as one honest line. JSON output uses
//!   [`Escaped::insert_json`] or [`Escaped::json_fields`] for names that may
//!   not be UTF-8 (see `selinux_mcs::escape` for both schemes).
//!
//! A write error ends the process on the spot, from whichever thread hit
//! it: `EPIPE` (the reader closed the pipe, as `relabel apply -v DIR | head
//! -1` does) exits quietly with [`Exit::OutputClosed`] (141); any other
//! error (a full disk behind `>`) says so on stderr and exits with
//! [`Exit::Failed`] (1). Exiting runs no destructors, which is safe here:
//! labels written so far stay (the root of a tree is labeled last, so an
//! interrupted run is redone by the next one), registry changes are SQLite
//! transactions, and its lock is released by the kernel.

use std::fmt;
use std::io::{self, Write as _};
use std::sync::Mutex;

pub use selinux_mcs::escape::Escaped;

use crate::exit::{CliError, Exit};

/// `println!` to stdout through [`line`]: a write error ends the process
/// (quietly, status 141, when stdout was closed).
macro_rules! outln {
    () => {
        $crate::out::line(::std::format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(::std::format_args!($($arg)*))
    };
}

/// `print!` to stdout through [`text`]: a write error ends the process
/// (quietly, status 141, when stdout was closed).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::text(::std::format_args!($($arg)*))
    };
}

#[allow(
    unused_imports,
    reason = "the macros are also in textual scope for the commands"
)]
pub(crate) use {out, outln};

/// Prints `args` and a newline in one write; what [`outln!`] calls.
pub fn line(args: fmt::Arguments<'_>) {
    let mut text = args
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| args.to_string());
    text.push('\n');
    bytes(text.as_bytes());
}

/// Prints `args` in one write; what [`out!`] calls.
pub fn text(args: fmt::Arguments<'_>) {
    match args.as_str() {
        Some(s) => bytes(s.as_bytes()),
        None => bytes(args.to_string().as_bytes()),
    }
}

/// Prints `data` as it is, in one write under stdout's lock.
pub fn bytes(data: &[u8]) {
    if let Err(e) = io::stdout().lock().write_all(data) {
        fail(&e);
    }
}

/// Prints `doc` as one line of compact JSON. Fails only when `doc` cannot
/// be serialized (a map with non-string keys); write errors end the
/// process as everywhere in this module.
pub fn json(doc: &impl serde::Serialize) -> Result<(), CliError> {
    let text =
        serde_json::to_vec(doc).map_err(|e| CliError::failed(format!("cannot print JSON: {e}")))?;
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(&text).and_then(|()| out.write_all(b"\n")) {
        fail(&e);
    }
    Ok(())
}

/// Prints `relabel: MESSAGE` on stderr; a closed stderr is ignored (it
/// must not panic, and there is nowhere left to say so).
pub fn warn(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "relabel: {args}");
}

/// Flushes stdout; `main` calls it last, so an error in the final write
/// is not lost in the runtime's silent flush at exit.
pub fn flush() {
    if let Err(e) = io::stdout().lock().flush() {
        fail(&e);
    }
}

/// Stdout as an `io::Write` for code that writes in pieces (serde_json's
/// `to_writer`, clap_complete's `generate`): every write goes through
/// stdout's lock, and a failed write ends the process as [`bytes`] does,
/// so the code it is given never sees an error (clap_complete would panic
/// on one).
#[derive(Clone, Copy, Debug, Default)]
pub struct Writer;

impl io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        flush();
        Ok(())
    }
}

/// Taken by the first thread that ends the process and never released:
/// `exit` runs once, and other threads that fail meanwhile wait here until
/// the process is gone.
static EXITING: Mutex<()> = Mutex::new(());

/// Ends the process after a failed write to stdout: status 141 and no word
/// when stdout was closed (`EPIPE`), status 1 and a message on stderr
/// otherwise.
pub fn fail(e: &io::Error) -> ! {
    let _once = EXITING.lock().unwrap_or_else(|p| p.into_inner());
    let status = if e.kind() == io::ErrorKind::BrokenPipe {
        Exit::OutputClosed
    } else {
        // Not eprintln!: stderr may be gone too, and that must not panic.
        let _ = writeln!(
            io::stderr(),
            "relabel: cannot write to standard output: {e}"
        );
        Exit::Failed
    };
    std::process::exit(status as i32)
}
