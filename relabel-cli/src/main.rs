//! `relabel`: a thin command line over the `selinux-mcs` library. Commands
//! translate arguments and print; the logic lives in the library.

// First, so its macros (`outln!`, `out!`) are in scope in every module.
#[macro_use]
mod out;

mod cli;
mod cmd;
mod exit;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout, usage errors to stderr; a
            // closed stdout ends the command as it does for every other
            // output (out::fail), where clap's own exit would ignore it.
            match e.print() {
                Err(io) if !e.use_stderr() => out::fail(&io),
                _ if !e.use_stderr() => out::flush(),
                _ => {}
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::Exit::Usage as u8));
        }
    };
    let status = match cli.command.run() {
        Ok(exit) => exit.into(),
        Err(e) => {
            // Not eprintln!: a closed stderr must not panic either.
            let _ = writeln!(std::io::stderr(), "relabel: {e}");
            e.exit.into()
        }
    };
    out::flush();
    status
}
