//! Policy files: `/etc/selinux/config`, container contexts, file_contexts,
//! setrans.conf.
//!
//! Every parser has `from_str` (for tests and embedded data) and `from_path`;
//! every error names the file and the line. `from_path` reads only regular
//! files of at most [`MAX_FILE_SIZE`] bytes: a FIFO, a device or a directory
//! is refused without blocking ([`PolicyError::NotAFile`]), a larger file
//! without being read ([`PolicyError::TooLarge`]).
//!
//! ```
//! # use std::str::FromStr;
//! use selinux_mcs::policy::{Config, ContainerContexts, Mode};
//! let config = Config::from_str("SELINUX=enforcing\nSELINUXTYPE=targeted\n")?;
//! assert_eq!(config.mode(), Some(Mode::Enforcing));
//! assert_eq!(config.policy_type(), "targeted");
//!
//! let contexts = ContainerContexts::from_str(
//!     "process = \"system_u:system_r:container_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n",
//! )?;
//! assert_eq!(contexts.process().unwrap().type_(), "container_t");
//! # Ok::<(), selinux_mcs::policy::PolicyError>(())
//! ```

mod config;
mod error;
mod file_contexts;
mod labeler;
mod lookup_path;
pub(crate) mod read;
mod restore;
mod root;
mod setrans;

/// Kept here for existing callers; its home is [`crate::container`].
pub use crate::container::ContainerContexts;
pub use config::{Config, Mode};
pub use error::PolicyError;
pub use file_contexts::{FileContexts, FileContextsBuilder, Rule, NO_LABEL};
pub use labeler::Labeler;
pub use lookup_path::lookup_path;
pub(crate) use lookup_path::resolve_existing;
pub use read::MAX_FILE_SIZE;
pub use restore::{CustomizableTypes, Restore, RestoreAction, Restorer};
pub use root::Root;
pub use setrans::Translations;

/// For the registry's own checks of its files.
#[cfg(feature = "registry")]
pub(crate) use read::{describe, open_regular, OpenError};
pub(crate) use read::{read_optional_policy_file, read_policy_file};

/// The name used for text that did not come from a file.
pub(crate) const STRING_SOURCE: &str = "<string>";
