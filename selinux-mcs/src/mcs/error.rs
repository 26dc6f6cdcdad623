//! Errors of the MCS pair space, the allocator and the registry.

use std::io;
use std::path::PathBuf;

use crate::escape::Escaped;
use crate::mls::Category;
use crate::ParseError;

/// What kind of failure an [`McsError`] is: what a front end needs to
/// pick an exit status or an error code (both `relabel` and the C API ask
/// [`McsError::kind`], so they cannot disagree).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum McsErrorKind {
    /// A level or pair that does not parse.
    Parse,
    /// Input that parses but cannot be used: a pair out of order, a pool
    /// too small or with no pair to hand out, a pair outside the pool or
    /// reserved, a bad owner name.
    Invalid,
    /// No free pair, or fewer than asked for.
    Exhausted,
    /// The pair or the owner is held by someone else.
    Taken,
    /// The registry cannot be used: missing, not a registry, read-only,
    /// corrupt, a newer version, a database error, busy, etcd unreachable
    /// or without quorum.
    Registry,
    /// A system call on the registry's files failed (see
    /// [`McsError::raw_os_error`]).
    Io,
}

/// Why a pair could not be made, allocated, reserved or released, or why the
/// registry could not be opened or written.
///
/// Every variant names the offending value (level, pool, owner) or the
/// database path; I/O and SQLite failures keep their cause as
/// [`source()`](std::error::Error::source).
///
/// ```
/// use selinux_mcs::mcs::{Allocator, McsError, PairSpace};
/// let space = PairSpace::new("c0,c1".parse()?)?;
/// let mut alloc = Allocator::new(space);
/// alloc.allocate()?;
/// let err = alloc.allocate().unwrap_err();
/// assert!(matches!(err, McsError::Exhausted { capacity: 1, .. }));
/// assert_eq!(
///     err.to_string(),
///     "no free MCS pair left: the pool c0,c1 holds 1 pair and every one is taken"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum McsError {
    /// `CategoryPair::new(a, b)` with `a >= b`.
    #[error("categories {first} and {second}: the first category of a pair must be lower than the second")]
    PairOrder {
        /// The first category given.
        first: Category,
        /// The second category given.
        second: Category,
    },
    /// Text that should hold a level does not parse.
    #[error("bad level {text:?}: {source}")]
    Parse {
        /// The text given.
        text: String,
        /// Why it does not parse (with the byte offset).
        #[source]
        source: ParseError,
    },
    /// A level that is not a private MCS pair `s0:cA,cB`.
    #[error("level {level} is not an MCS pair: {reason} (expected s0 and exactly two categories, such as s0:c1,c2)")]
    NotAPair {
        /// The level given, canonical.
        level: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A pool with fewer than two categories makes no pair.
    #[error("pool {pool:?} holds {len} categor{}: a pool needs at least 2 categories to make a pair", if *len == 1 { "y" } else { "ies" })]
    PoolTooSmall {
        /// The pool, as a category list (empty string for no category).
        pool: String,
        /// How many categories it holds.
        len: usize,
    },
    /// Every pair of the pool is taken.
    #[error("no free MCS pair left: the pool {pool} holds {capacity} pair{} and every one is taken", if *capacity == 1 { "" } else { "s" })]
    Exhausted {
        /// How many pairs the pool holds (not counting the pairs reserved by
        /// convention, such as `s0:c1022,c1023`).
        capacity: usize,
        /// The pool's categories, canonical.
        pool: String,
    },
    /// More pairs were asked for at once than the pool has free. Nothing was
    /// allocated. (Asking for one pair when none is free is
    /// [`Exhausted`](Self::Exhausted).)
    #[error("asked for {asked} pairs; the pool has {free} free of {capacity}")]
    TooMany {
        /// How many pairs were asked for.
        asked: usize,
        /// How many pairs of the pool are free.
        free: usize,
        /// How many pairs the pool holds (not counting reserved pairs).
        capacity: usize,
        /// The pool's categories, canonical.
        pool: String,
    },
    /// The pool makes no pair that may be handed out: its only pairs are
    /// reserved (such as `c1022,c1023`, whose one pair is the privileged
    /// containers' mount label). Bad input, unlike [`Exhausted`](Self::Exhausted).
    #[error("the pool {pool} makes no pair that can be handed out (its {len} pair{} {} reserved)", if *len == 1 { "" } else { "s" }, if *len == 1 { "is" } else { "are" })]
    NoPairs {
        /// The pool's categories, canonical.
        pool: String,
        /// How many pairs it makes, all reserved.
        len: usize,
    },
    /// A pair outside the allocator's pool.
    #[error("level {level} is outside the pool {pool}")]
    OutsidePool {
        /// The level given, canonical.
        level: String,
        /// The pool's categories, canonical.
        pool: String,
    },
    /// A pair the space reserves by convention (`s0:c1022,c1023`, the mount
    /// label of privileged containers), which nobody may hold.
    #[error("level {level} is reserved by convention (privileged containers' mount label) and is never handed out")]
    Reserved {
        /// The level given, canonical.
        level: String,
    },
    /// The pair is already taken (by `owner`, when the registry knows it).
    #[error("level {level} is already taken{}", owner.as_ref().map(|o| format!(" by owner {o:?}")).unwrap_or_default())]
    Taken {
        /// The level given, canonical.
        level: String,
        /// Who holds it, in a registry.
        owner: Option<String>,
    },
    /// The owner already holds another pair (one owner, one pair).
    #[error("owner {owner:?} already holds {level}: an owner holds one pair (release it first)")]
    OwnerHoldsOther {
        /// The owner given.
        owner: String,
        /// The pair it holds, canonical.
        level: String,
    },
    /// An owner key that is empty or holds control characters.
    #[error("bad owner {owner:?}: an owner is a non-empty name without control characters")]
    BadOwner {
        /// The owner given.
        owner: String,
    },
    /// The file exists but is not a selinux-mcs registry (for etcd: keys
    /// under the prefix that no registry wrote). Nothing was written.
    #[error(
        "{} is not a selinux-mcs registry: {reason}; refusing to touch it",
        Escaped::path(path)
    )]
    NotARegistry {
        /// The database file (for etcd, the registry's URL).
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// There is no registry file at the path; a read-only open
    /// ([`Registry::open_read_only`](super::Registry::open_read_only))
    /// creates nothing.
    #[error("no registry at {}", path.display())]
    NoRegistry {
        /// The database file looked for (for etcd, the registry's URL).
        path: PathBuf,
    },
    /// A change was asked of a registry opened read-only.
    #[error("registry {} was opened read-only: changing it needs Registry::open", path.display())]
    ReadOnly {
        /// The database file (for etcd, the registry's URL).
        path: PathBuf,
    },
    /// The registry is damaged. Nothing was written.
    #[cfg(feature = "registry")]
    #[error("registry {} is corrupted: {detail}", Escaped::path(path))]
    Corrupt {
        /// The database file (for etcd, the registry's URL).
        path: PathBuf,
        /// What is wrong.
        detail: String,
        /// SQLite's error, when it reported the damage.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// The registry was written by a newer version of this crate.
    #[error("registry {} has schema version {found}; this version of selinux-mcs reads version {supported}", Escaped::path(path))]
    UnsupportedVersion {
        /// The database file (for etcd, the registry's URL).
        path: PathBuf,
        /// The version found (`PRAGMA user_version`).
        found: i64,
        /// The version this crate reads and writes.
        supported: i64,
    },
    /// An SQLite call failed.
    #[cfg(feature = "registry")]
    #[error("registry {}: {op}: {source}", Escaped::path(path))]
    Database {
        /// The database file.
        path: PathBuf,
        /// What was being done (`open`, `begin`, `insert`, ...).
        op: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Text given as a registry location (`--db`, `$SELINUX_MCS_DB`) that
    /// is neither a file path nor a well-formed `etcd://` URL.
    #[error("bad registry location {text:?} at byte {offset}: {reason}")]
    BadLocation {
        /// The text given.
        text: String,
        /// Where in it the fault is (bytes from the start).
        offset: usize,
        /// What is wrong, and the grammar.
        reason: String,
    },
    /// An `etcd://` location, in a build without the `etcd` feature.
    #[error(
        "registry {url}: this build of selinux-mcs has no etcd support (cargo feature `etcd`)"
    )]
    NoEtcdSupport {
        /// The URL given.
        url: String,
    },
    /// etcd gave no answer in time: no member reachable, or the cluster has
    /// no leader (lost quorum). A transaction etcd accepts is applied whole
    /// or not at all; whether one sent before the deadline will still be
    /// applied cannot be known (an allocation for an owner can be asked
    /// again: it returns the same pair).
    #[error("registry {url}: etcd gave no answer within {:.1}s ({detail}); endpoints: {endpoints}", waited.as_secs_f64())]
    Unavailable {
        /// The registry's URL.
        url: String,
        /// The members tried, comma-separated.
        endpoints: String,
        /// How long the operation tried.
        waited: std::time::Duration,
        /// The last thing etcd or the network said.
        detail: String,
    },
    /// etcd refused a request for a reason retrying cannot fix (permission,
    /// a full database, a request it considers invalid).
    #[cfg(feature = "etcd")]
    #[error("registry {url}: etcd refused to {op}: {source}")]
    Etcd {
        /// The registry's URL.
        url: String,
        /// What was being done.
        op: &'static str,
        /// etcd's answer.
        #[source]
        source: etcd_client::Error,
    },
    /// More pairs asked for at once than one etcd transaction can hold
    /// (etcd's `--max-txn-ops`, 128 operations by default). Nothing was
    /// allocated.
    #[error("asked for {asked} pairs in one transaction; an etcd registry takes at most {max} at once (etcd's --max-txn-ops is 128 by default): ask for fewer")]
    BatchTooLarge {
        /// How many pairs were asked for.
        asked: usize,
        /// The most one transaction can hold.
        max: usize,
    },
    /// Another process held the registry's write lock for too long (it may
    /// be stopped or hung).
    #[error(
        "registry lock {} is still held by another process after {waited:?}",
        Escaped::path(path)
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited.
        waited: std::time::Duration,
    },
    /// A system call failed.
    #[error("{call} {}: {source}", Escaped::path(path))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The call that failed (`mkdir`, `read`, `lgetxattr`, `readdir`).
        call: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl McsError {
    /// What kind of failure this is.
    pub fn kind(&self) -> McsErrorKind {
        match self {
            McsError::Parse { .. } => McsErrorKind::Parse,
            McsError::PairOrder { .. }
            | McsError::NotAPair { .. }
            | McsError::PoolTooSmall { .. }
            | McsError::OutsidePool { .. }
            | McsError::Reserved { .. }
            | McsError::BadOwner { .. }
            | McsError::BadLocation { .. }
            | McsError::BatchTooLarge { .. }
            | McsError::NoPairs { .. } => McsErrorKind::Invalid,
            McsError::Exhausted { .. } | McsError::TooMany { .. } => McsErrorKind::Exhausted,
            McsError::Taken { .. } | McsError::OwnerHoldsOther { .. } => McsErrorKind::Taken,
            McsError::Io { .. } => McsErrorKind::Io,
            McsError::NotARegistry { .. }
            | McsError::NoRegistry { .. }
            | McsError::ReadOnly { .. }
            | McsError::UnsupportedVersion { .. }
            | McsError::NoEtcdSupport { .. }
            | McsError::Unavailable { .. }
            | McsError::Busy { .. } => McsErrorKind::Registry,
            #[cfg(feature = "etcd")]
            McsError::Etcd { .. } => McsErrorKind::Registry,
            #[cfg(feature = "registry")]
            McsError::Corrupt { .. } | McsError::Database { .. } => McsErrorKind::Registry,
        }
    }

    /// The errno, for [`McsErrorKind::Io`].
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            McsError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}
