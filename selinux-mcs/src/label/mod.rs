//! Labels on files: the `security.selinux` xattr, the relabel walker,
//! protected paths, container labels and mount options.
//!
//! **Read and write one label.** The plain functions never follow a final
//! symlink (a link is labeled itself); `*_fd` work on an open file,
//! `*_deref` follow symlinks, `*_at` work relative to a directory fd:
//!
//! ```no_run
//! use selinux_mcs::label::{self, ErrorKind};
//! match label::get("/srv/volume") {
//!     Ok(ctx) => println!("{ctx}"),
//!     Err(e) if e.kind() == ErrorKind::NoLabel => println!("unlabeled"),
//!     Err(e) => eprintln!("{e}"), // names the path, the call and the errno
//! }
//! ```
//!
//! **Relabel a volume** (podman's `:z` and `:Z`), in parallel, writing only
//! labels that differ, never following symlinks, never leaving the tree:
//!
//! ```
//! use selinux_mcs::label::{Relabel, Target};
//! # let volume = tempfile::tempdir()?;
//! let report = Relabel::new(Target::Shared).dry_run(true).run(volume.path())?;
//! println!("{} changed, {} failed", report.changed, report.failed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Or label a fresh mount instead**, which writes nothing:
//!
//! ```
//! let label = "system_u:object_r:container_file_t:s0:c1,c2".parse()?;
//! assert_eq!(
//!     selinux_mcs::label::mount_option(&label),
//!     "context=\"system_u:object_r:container_file_t:s0:c1,c2\""
//! );
//! # Ok::<(), selinux_mcs::ParseError>(())
//! ```
//!
//! Paths in [`protected::PROTECTED`] are never relabeled; subtrees in
//! [`protected::NEED_FORCE`] need [`Relabel::force`].

mod error;
mod ident;
mod list;
pub mod protected;
mod report;
mod walk;
mod xattr;

/// Kept here for existing callers; the container module is their home.
pub use crate::container::{
    format_mount_label, init_labels, mount_option, privileged_level, ContainerLabels,
    InitLabelsError, LabelOption, LabelOptionError,
};
pub use error::{ErrorKind, LabelError, ProtectedError, RelabelError};
pub use list::{list_labels, Listed};
pub use report::{Failure, Progress, Report};
pub use walk::{default_file_context, LabelFn, Relabel, RuleError, Target, DEFAULT_FILE_CONTEXT};
pub use xattr::{get, get_at, get_deref, get_fd, set, set_at, set_deref, set_fd, XATTR_NAME};
