//! `relabel`: a thin command line over the `selinux-mcs` library. Commands
//! translate arguments and print; the logic lives in the library.

mod cli;
mod cmd;
mod exit;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command.run() {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("relabel: {e}");
            e.exit.into()
        }
    }
}
