//! MCS category pairs: allocation that never collides.
//!
//! A container (or a private volume) gets a level `s0:cA,cB`: a
//! [`CategoryPair`]. Two containers with the same pair can read each other's
//! files, so a pair must have one holder at a time.
//!
//! - [`PairSpace`]: the pairs a pool of categories makes (default
//!   `c0..c1023`, 523,776 pairs, `s0:c1022,c1023` reserved), numbered so a
//!   set of pairs is a set of numbers.
//! - [`Allocator`]: in memory, for a process that owns all its labels;
//!   uniform random pairs from ChaCha20 seeded by the OS, O(1) whatever the
//!   fill, a clear [`McsError::Exhausted`] at the end.
//! - [`decide`]: whether a process may read, write or create a file under
//!   the MCS constraints, and why.
//! - [`Registry`]: the same, persistent and shared between processes: on one
//!   host in an SQLite database whose constraints make "one pair, one owner"
//!   hold across processes and crashes, or across a cluster in etcd (feature
//!   `etcd`; [`Location`] picks: a path or `etcd://host:port/prefix`).
//!   go-selinux keeps its set in one process's memory, so two tools can hand
//!   out the same pair.
//!
//! **Only pairs are reserved.** `reserve` and `release` take exactly `s0`
//! with two categories and refuse any other level with
//! [`McsError::NotAPair`]: no allocation can equal a level with one or three
//! categories, and blocking every pair such a level could read (or be read
//! by) would let one system-high label (`s0:c0.c1023`) exhaust the pool.
//! [`Registry::adopt_in_use`] skips such labels and counts them.
//!
//! ```
//! use selinux_mcs::mcs::{Allocator, PairSpace, Registry};
//!
//! // In memory.
//! let mut alloc = Allocator::new(PairSpace::default());
//! let pair = alloc.allocate()?;
//! println!("{pair}"); // s0:c186,c641, say
//!
//! // Shared by every process that opens the same file.
//! let dir = tempfile::tempdir()?;
//! let reg = Registry::open(dir.path().join("mcs.db"))?;
//! let entry = reg.allocate_for("volume:pgdata")?;
//! assert_eq!(reg.allocate_for("volume:pgdata")?.level, entry.level);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "registry")]
mod adopt;
mod allocator;
mod decide;
mod error;
#[cfg(feature = "registry")]
mod lock;
mod pair;
#[cfg(feature = "registry")]
mod registry;
mod space;

#[cfg(feature = "registry")]
pub use adopt::{Adoption, InUse};
pub use allocator::Allocator;
pub use decide::{decide, ConstrainedTypes, Decision, Permission, Reason};
pub use error::{McsError, McsErrorKind};
pub use pair::CategoryPair;
#[cfg(feature = "registry")]
pub use registry::{Entry, EtcdUrl, Location, Registry, RegistryOptions};
pub use space::PairSpace;
