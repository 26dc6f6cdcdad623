//! Containers: the container contexts file (which labels a container's
//! process and files get), the labels of a new container made from it
//! (go-selinux `InitLabels`, `label=` options), the labels of KVM and init
//! containers ([`kvm_container_labels`], [`init_container_labels`]), the
//! option helpers [`dup_sec_opt`] and [`disable_sec_opt`], the privileged
//! pair, and mount options. Nothing here asks the kernel; for that, see
//! [`crate::process`].
//!
//! ```
//! # use std::str::FromStr;
//! use selinux_mcs::container::{self, ContainerContexts};
//! let contexts = ContainerContexts::from_str(
//!     "process = \"system_u:system_r:container_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n",
//! )?;
//! assert_eq!(contexts.file().unwrap().type_(), "container_file_t");
//! assert_eq!(container::privileged_level().to_string(), "s0:c1022,c1023");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod contexts;
mod kind;
mod labels;

pub use contexts::ContainerContexts;
pub use kind::{
    disable_sec_opt, dup_sec_opt, init_container_labels, init_labels_for, kvm_container_labels,
    set_process_kind, ProcessKind,
};
pub use labels::{
    format_mount_label, init_labels, mount_option, privileged_level, ContainerLabels,
    InitLabelsError, LabelOption, LabelOptionError,
};
