//! `relabel completions` and `relabel man`: generated from the same clap
//! definition as the parser, so they cannot drift from it.

use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

/// Arguments of `relabel completions`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Writes: nothing (prints the script).\n\n\
Examples:\n  relabel completions bash > /etc/bash_completion.d/relabel\n  \
relabel completions zsh > \"${fpath[1]}/_relabel\"")]
pub struct CompletionsArgs {
    /// The shell: bash, elvish, fish, powershell or zsh.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs `relabel completions`.
pub fn completions(args: CompletionsArgs) -> CmdResult {
    let mut cmd = Cli::command();
    // Through out::Writer: clap_complete panics on a write error, and a
    // closed stdout must end the command as it does everywhere else.
    clap_complete::generate(args.shell, &mut cmd, "relabel", &mut out::Writer);
    Ok(Exit::Success)
}

/// Arguments of `relabel man`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Writes: with --dir, relabel.1 and relabel-COMMAND.1 into DIR; otherwise \
nothing (prints relabel(1)).\n\n\
Examples:\n  relabel man | man -l -\n  relabel man --dir /usr/local/share/man/man1"
)]
pub struct ManArgs {
    /// Write one page per command (relabel.1, relabel-apply.1, ...) into DIR.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs `relabel man`.
pub fn man(args: ManArgs) -> CmdResult {
    let cmd = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                CliError::failed(format!("cannot create {}: {e}", Escaped::path(&dir)))
            })?;
            clap_mangen::generate_to(cmd, &dir).map_err(|e| {
                CliError::failed(format!(
                    "cannot write man pages to {}: {e}",
                    Escaped::path(&dir)
                ))
            })?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| CliError::failed(format!("cannot render the man page: {e}")))?;
            out::bytes(&page);
        }
    }
    Ok(Exit::Success)
}
