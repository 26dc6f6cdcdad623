//! SELinux security contexts, MLS/MCS levels and MCS category pairs for
//! container hosts.
//!
//! The three things people come for:
//!
//! **Parse and explain a context.** The parser is strict (it accepts what the
//! kernel accepts, nothing more), every value prints in the kernel's
//! canonical form, and errors name the byte offset and the offending text:
//!
//! ```
//! use selinux_mcs::explain::Explanation;
//! use selinux_mcs::SecurityContext;
//!
//! let ctx: SecurityContext = "system_u:system_r:svirt_lxc_net_t:s0:c641,c186".parse()?;
//! assert_eq!(ctx.to_string(), "system_u:system_r:svirt_lxc_net_t:s0:c186,c641");
//! assert_eq!(ctx.type_(), "svirt_lxc_net_t");
//! let meaning = Explanation::new(&ctx).meaning();
//! assert!(meaning.contains("private MCS pair c186,c641"), "{meaning}");
//!
//! let err = "system_u:object_r:container_file_t:s0:c5.c1"
//!     .parse::<SecurityContext>()
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "category range c5.c1 at byte 38: the first category must be lower than the second"
//! );
//! # Ok::<(), selinux_mcs::ParseError>(())
//! ```
//!
//! `PartialOrd` on [`mls::Level`] is dominance, and [`mcs::decide`] says
//! whether a process may read, write or create a file under MCS, and why:
//!
//! ```
//! use selinux_mcs::mcs::{decide, Permission};
//! use selinux_mcs::mls::Level;
//! let process: Level = "s0:c1,c2".parse()?;
//! assert!(process >= "s0:c1".parse()?);
//! assert_eq!(process.partial_cmp(&"s0:c1,c3".parse()?), None);
//!
//! let d = decide(
//!     &"system_u:system_r:container_t:s0:c1,c2".parse()?,
//!     &"system_u:object_r:container_file_t:s0:c1,c3".parse()?,
//!     Permission::Read,
//! );
//! assert!(!d.allowed());
//! assert_eq!(d.missing_categories().to_string(), "c3");
//! # Ok::<(), selinux_mcs::ParseError>(())
//! ```
//!
//! **Allocate a pair.** [`mcs::Registry`] hands out `s0:cA,cB` levels that no
//! other owner holds, across processes and crashes (and with feature `etcd`,
//! across the hosts of a cluster: [`mcs::Location`] picks the store); the
//! same owner gets the same pair back:
//!
//! ```
//! use selinux_mcs::mcs::Registry;
//! let dir = tempfile::tempdir()?;
//! let registry = Registry::open(dir.path().join("mcs.db"))?;
//! let pgdata = registry.allocate_for("volume:pgdata")?;
//! assert_eq!(registry.allocate_for("volume:pgdata")?.level, pgdata.level);
//! assert_eq!(pgdata.level.categories().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Relabel a volume.** [`label::Relabel`] opens each root once and holds
//! it by file descriptor, walks the tree by directory fds, never follows a
//! symlink inside it, writes only labels that differ, leaves mount points
//! alone and counts hard links, and refuses protected objects by identity
//! (a bind mount of `/etc` is `/etc`). `restorecon` is the same walker with
//! file_contexts rules, read in PCRE2's dialect as libselinux reads them
//! ([`policy::Restorer::restore`]); the labels a
//! container gets come from [`container`]:
//!
//! ```no_run
//! use selinux_mcs::label::{Relabel, Target};
//! let level = "s0:c186,c641".parse()?;
//! let report = Relabel::new(Target::Private(level)).run("/srv/volumes/pgdata")?; // podman's :Z
//! println!("{} changed, {} unchanged, {} failed", report.changed, report.unchanged, report.failed);
//! assert!(Relabel::new(Target::Shared).run("/usr//").is_err()); // protected
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Ask the running kernel** (pure Rust, through `/proc` and selinuxfs):
//! [`process`] reads and sets this thread's labels (`set_exec` before
//! spawning a container's first process), reads any process's and a socket
//! peer's label, and the mode. With SELinux off every call returns
//! [`process::ProcessError::Disabled`], saying how we can tell:
//!
//! ```
//! use selinux_mcs::process;
//! match process::enforce_mode() {
//!     Ok(mode) => println!("SELinux is {mode}"),
//!     Err(e) => assert!(e.is_disabled(), "{e}"),
//! }
//! ```
//!
//! **Feature `registry`** (on by default) holds [`mcs::Registry`] and its
//! SQLite; without it nothing here builds C code.
//!
//! **Feature `etcd`** (off by default; building needs `protoc`, Debian's
//! `protobuf-compiler`) adds the registry on etcd, `etcd://host:port/prefix`:
//! one registry for a cluster. It brings tokio and gRPC (tonic), driven on a
//! private current-thread runtime behind the same blocking API.
//!
//! **Feature `libselinux`** (off by default; building needs
//! `libselinux1-dev` and `libclang-dev`): the `system` module asks
//! libselinux what [`process`] asks the kernel directly (SELinux enabled?
//! mode, this process's label, the loaded policy's `validate` and
//! `canonicalize`), to check one against the other, and wraps libselinux's
//! file_contexts labeler behind the same [`policy::Labeler`] trait as our
//! own [`policy::FileContexts`]. The workspace's differential tests and the
//! `vs_libselinux` benchmark run through it.
#![deny(missing_docs)]

pub mod avc;
pub mod container;
pub mod context;
pub mod escape;
pub mod explain;
mod file_kind;
pub mod label;
pub mod mcs;
pub mod mls;
pub mod policy;
pub mod policydb;
pub mod process;
#[cfg(feature = "libselinux")]
pub mod system;

pub use context::{ParseError, ParseErrorKind, SecurityContext};
pub use file_kind::{FileKind, UnknownName};

/// Implements serde for a type as its canonical string (`Display`/`FromStr`).
#[macro_export]
#[doc(hidden)]
macro_rules! serde_via_string {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
