//! One module per group of commands.

pub mod binpolicy;
pub mod check;
pub mod docs;
pub mod explain;
pub mod label;
pub mod policy;
pub mod process;
pub mod registry;
pub mod why;
