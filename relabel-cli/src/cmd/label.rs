//! Commands of this group (not yet implemented).

use crate::exit::{CliError, CmdResult};

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {}

/// Not yet implemented.
pub fn apply(_args: ApplyArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct ShowArgs {}

/// Not yet implemented.
pub fn show(_args: ShowArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}

/// Arguments (not yet implemented).
#[derive(clap::Args, Debug)]
pub struct MountOptionArgs {}

/// Not yet implemented.
pub fn mount_option(_args: MountOptionArgs) -> CmdResult {
    Err(CliError::usage("this command is not implemented yet"))
}
