//! Commands of this group (not yet implemented).

use crate::exit::{CliError, CmdResult};

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct AllocArgs {}

/// Not yet implemented.
pub fn alloc(_args: AllocArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ReserveArgs {}

/// Not yet implemented.
pub fn reserve(_args: ReserveArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {}

/// Not yet implemented.
pub fn release(_args: ReleaseArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ListArgs {}

/// Not yet implemented.
pub fn list(_args: ListArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}
