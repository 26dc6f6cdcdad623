//! Commands of this group (not yet implemented).

use crate::exit::{CliError, CmdResult};

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct LookupArgs {}

/// Not yet implemented.
pub fn lookup(_args: LookupArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {}

/// Not yet implemented.
pub fn restore(_args: RestoreArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}
