//! Commands of this group (not yet implemented).

use crate::exit::{CliError, CmdResult};

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Not yet implemented.
pub fn run(_args: Args) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}
