//! The running kernel's SELinux, in pure Rust (no libselinux): process
//! labels, socket peers, and the system's state.
//!
//! This is the one place to ask the running kernel. Everything goes
//! through `/proc` and selinuxfs, as libselinux does, and works the same
//! whether SELinux is on or off: off, every function returns
//! [`ProcessError::Disabled`], which says how we can tell
//! ([`Disabled`]: no selinuxfs in the kernel, not mounted, mounted
//! read-only, no policy loaded). (The `libselinux` feature's `system`
//! module asks libselinux the same questions; it is kept to check our
//! answers against libselinux's and for its file_contexts backend.)
//!
//! | what | functions | where the kernel keeps it |
//! |---|---|---|
//! | the calling thread | [`current`], [`set_current`], [`prev`], [`exec`], [`set_exec`], [`fscreate`], [`set_fscreate`], [`keycreate`], [`set_keycreate`], [`sockcreate`], [`set_sockcreate`] (and `clear_*`), [`thread_attr`], [`set_thread_attr`] | `/proc/thread-self/attr/*` (`/proc/self/task/TID/attr/*` on kernels before 3.17) |
//! | another process | [`pid_label`], [`pid_prev`], [`pid_attr`] | `/proc/PID/attr/*` |
//! | open objects | [`peer_label`] (`SO_PEERSEC`), [`fd_label`] (`fgetxattr`) | the socket, the inode |
//! | the system | [`is_enabled`], [`selinuxfs_mount`], [`enforce_mode`], [`set_enforce_mode`], [`mls_enabled`], [`policy_version`], [`class_index`], [`permission_bit`] | selinuxfs (`/sys/fs/selinux`) |
//! | the loaded policy's word | [`check_context`], [`canonicalize_context`], [`compute_create`] | `/sys/fs/selinux/context`, `create` |
//!
//! **Per thread.** `exec`, `fscreate`, `keycreate` and `sockcreate` belong
//! to the calling thread, not the process: set one, then create the child,
//! file, key or socket on the same thread, then clear it. A program
//! spawned from another thread, or a socket made by another thread, does
//! not see it. `execve` clears them all.
//!
//! ```no_run
//! use selinux_mcs::process;
//! let ctx: selinux_mcs::SecurityContext = "system_u:system_r:container_t:s0:c1,c2".parse()?;
//! process::set_exec(&ctx)?; // this thread's next execve runs as ctx
//! let mut child = std::process::Command::new("/usr/bin/sleep").arg("60").spawn()?;
//! process::clear_exec()?;
//! assert_eq!(process::pid_label(child.id() as i32)?, ctx);
//! child.kill()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With SELinux off:
//!
//! ```
//! use selinux_mcs::process::{self, ProcessError};
//! if !process::is_enabled() {
//!     let e = process::exec().unwrap_err();
//!     assert!(matches!(e, ProcessError::Disabled { .. }));
//!     println!("{e}"); // /proc/thread-self/attr/exec: SELinux is not enabled: /proc/filesystems lists no selinuxfs (...)
//! }
//! ```
//!
//! The labels go-selinux derives from the container contexts file for KVM
//! and init containers, and its option helpers (`DupSecOpt`,
//! `DisableSecOpt`), are in [`crate::container`]: they need no kernel.

mod attr;
mod error;
mod peer;
mod selinuxfs;

pub use attr::{
    clear_exec, clear_fscreate, clear_keycreate, clear_sockcreate, current, exec, fscreate,
    keycreate, pid_attr, pid_label, pid_prev, prev, set_current, set_exec, set_fscreate,
    set_keycreate, set_sockcreate, set_thread_attr, sockcreate, thread_attr, Attr,
};
pub use error::{Disabled, ProcessError};
pub use peer::{fd_label, peer_label};
pub use selinuxfs::{
    canonicalize_context, check_context, class_index, compute_create, enforce_mode, is_enabled,
    mls_enabled, permission_bit, policy_version, selinuxfs_mount, selinuxfs_mounts_in,
    set_enforce_mode, SELINUXFS,
};
