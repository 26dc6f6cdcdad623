//! [`Registry`]: pairs shared between processes, on one host (an SQLite
//! file) or across a cluster (etcd). One API; the location picks the store.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::adopt::{Adoption, InUse};
use super::{CategoryPair, McsError, PairSpace};
use crate::mls::Level;

#[cfg(feature = "etcd")]
mod etcd;
mod location;
mod sqlite;

pub use location::{EtcdUrl, Location};

/// One reservation: an owner and its pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The owner key: a volume name, container id, pod, or for adopted
    /// entries `adopted:<where>`.
    pub owner: String,
    /// The pair, as a level `s0:cA,cB`.
    pub level: Level,
    /// When the entry was made, in seconds since the Unix epoch (the clock
    /// of the host that made it).
    pub created: i64,
    /// Where an adopted entry was found (`/proc/1234/attr/current`, a
    /// directory); `None` for pairs allocated or reserved by name.
    pub source: Option<String>,
}

impl Entry {
    /// The entry's pair.
    pub fn pair(&self) -> Option<CategoryPair> {
        CategoryPair::try_from(&self.level).ok()
    }
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(super) fn check_owner(owner: &str) -> Result<(), McsError> {
    if owner.is_empty() || owner.chars().any(char::is_control) {
        return Err(McsError::BadOwner {
            owner: owner.to_owned(),
        });
    }
    Ok(())
}

/// Pairs shared by every process that opens the same registry: one host's
/// processes through an SQLite file, or a whole cluster's through etcd.
/// Both stores keep the same promises, and [`Location`] picks one
/// (`/var/lib/selinux-mcs/mcs.db` or `etcd://host:2379,host:2379/prefix`).
///
/// **One pair, one owner.** A pair is never handed out twice and an owner
/// holds one pair; allocating for an owner that holds one returns it
/// (idempotent). New pairs are drawn uniformly among the pairs free when
/// the allocation starts. A process killed at any point leaves every change
/// whole or absent: a pair it printed is in the registry; a pair it had not
/// printed may be (an owner asking again gets it back).
///
/// **SQLite** (the default; feature `registry`). A pair is stored under its
/// number as the table's primary key, and an owner key is `UNIQUE`: the
/// database, not the process, refuses a second holder. Every change runs in
/// a `BEGIN IMMEDIATE` transaction (one writer at a time, others wait up to
/// about ten seconds, then [`McsError::Busy`]). Writers also take an
/// `flock(2)` on `<db>-lock` around each transaction, so a waiting process
/// is woken by the kernel the moment the holder finishes instead of polling
/// (this doubled throughput with four processes in the benchmark); a dead
/// holder's lock is released by the kernel. The database runs in WAL mode
/// with `synchronous=FULL`: when a call returns, its change is on disk.
/// Each process keeps the free pairs in an [`Allocator`](super::Allocator)
/// brought up to date from a change log, so choosing a pair stays O(1)
/// however full the pool is; an allocation costs one transaction and one
/// `fsync`. Before writing anything, opening checks the file's SQLite
/// `application_id` and schema: a file of another program, a newer schema or
/// a damaged file is refused, untouched; anything but a regular file (a
/// FIFO, a device) is refused before SQLite opens it, without blocking.
///
/// **etcd** (feature `etcd`). A pair is the key `<prefix>/pairs/NNNNNN` (its
/// number) and an owner the key `<prefix>/owners/<owner>`; both are
/// written in one etcd transaction that first compares each key's
/// `create_revision` with 0 (absent), so of two hosts drawing one pair, or
/// allocating for one owner, exactly one transaction applies and the other
/// sees who won. No lock is held across a round trip. A transaction that
/// loses (or meets a leader election, or a member that went away) is tried
/// again until the [timeout](RegistryOptions::timeout); then
/// [`McsError::Unavailable`] names the endpoints and what etcd said (no
/// leader: the cluster lost quorum). Durability is etcd's: a change is
/// applied once a majority of members has it on disk. Opening writes
/// `<prefix>/meta` once, and refuses a prefix that holds keys of another
/// program. A batch ([`allocate_many`](Self::allocate_many),
/// [`allocate_anonymous`](Self::allocate_anonymous)) is one transaction,
/// so at most [`McsError::BatchTooLarge`]'s limit (63 pairs) at once;
/// [`adopt_in_use`](Self::adopt_in_use) makes one transaction per pair
/// found (running it again finishes an interrupted run). The handle drives
/// etcd's async client on a private current-thread tokio runtime: call it
/// from a blocking context (in async code, `spawn_blocking`).
///
/// **Threads.** A `Registry` is `Send` but not `Sync`; open one per thread
/// (they coordinate like processes do).
///
/// **Reading only.** [`open_read_only`](Registry::open_read_only) (or
/// [`RegistryOptions::read_only`]) reads an existing registry and creates
/// nothing: not the database, not its lock file, not etcd's marker; a
/// missing registry is [`McsError::NoRegistry`].
///
/// ```
/// use selinux_mcs::mcs::Registry;
/// let dir = tempfile::tempdir()?;
/// let reg = Registry::open(dir.path().join("mcs.db"))?;
///
/// let vol = reg.allocate_for("volume:pgdata")?;
/// assert_eq!(reg.allocate_for("volume:pgdata")?.level, vol.level); // idempotent
///
/// let level = "s0:c1,c2".parse()?;
/// reg.reserve(&level, "container:web")?;
/// assert!(reg.reserve(&level, "container:other").is_err()); // one pair, one owner
///
/// assert_eq!(reg.list()?.len(), 2);
/// reg.release_owner("volume:pgdata")?;
/// assert_eq!(reg.list()?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Registry {
    location: Location,
    store: Store,
}

#[derive(Debug)]
enum Store {
    Sqlite(Box<sqlite::Sqlite>),
    #[cfg(feature = "etcd")]
    Etcd(Box<etcd::Etcd>),
}

/// Calls the same method on whichever store the registry has.
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match &$self.store {
            Store::Sqlite($s) => $e,
            #[cfg(feature = "etcd")]
            Store::Etcd($s) => $e,
        }
    };
}

/// How to open a [`Registry`]: the pool to allocate from, read-only or
/// not, how long to wait for etcd. Setters return `&mut Self`;
/// [`open`](Self::open) opens.
///
/// ```
/// use std::time::Duration;
/// use selinux_mcs::mcs::{Location, PairSpace, RegistryOptions};
/// let dir = tempfile::tempdir()?;
/// let db = Location::parse(dir.path().join("mcs.db"))?;
/// let reg = RegistryOptions::new()
///     .space(PairSpace::new("c0.c511".parse()?)?)
///     .timeout(Duration::from_secs(2))
///     .open(&db)?;
/// assert!(reg.allocate_for("volume:pgdata")?.level.to_string().starts_with("s0:c"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RegistryOptions {
    space: PairSpace,
    read_only: bool,
    timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> RegistryOptions {
        RegistryOptions {
            space: PairSpace::default(),
            read_only: false,
            timeout: RegistryOptions::DEFAULT_TIMEOUT,
        }
    }
}

impl RegistryOptions {
    /// How long an etcd registry waits for an answer, by default, before it
    /// gives up with [`McsError::Unavailable`]: long enough for a leader
    /// election (etcd's default election timeout is one second), short
    /// enough for a command line.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// The default pool (c0..c1023), read-write, [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    pub fn new() -> RegistryOptions {
        RegistryOptions::default()
    }

    /// The pairs this handle allocates from. The space only limits what
    /// this handle allocates: uniqueness holds across all pools.
    pub fn space(&mut self, space: PairSpace) -> &mut RegistryOptions {
        self.space = space;
        self
    }

    /// Open an existing registry for reading only: every change fails with
    /// [`McsError::ReadOnly`], and nothing is created.
    pub fn read_only(&mut self, read_only: bool) -> &mut RegistryOptions {
        self.read_only = read_only;
        self
    }

    /// How long each operation on an etcd registry (opening included) may
    /// take, retries and leader elections included, before it fails with
    /// [`McsError::Unavailable`]. The SQLite store waits for other writers
    /// up to its own ten seconds whatever this says.
    pub fn timeout(&mut self, timeout: Duration) -> &mut RegistryOptions {
        self.timeout = timeout;
        self
    }

    /// Opens the registry at `location`.
    ///
    /// A file is created when it does not exist or is empty (its directory
    /// must exist), unless read-only. Fails with
    /// [`McsError::NotARegistry`] for a file or an etcd prefix of another
    /// program, [`McsError::Corrupt`] for a damaged registry,
    /// [`McsError::UnsupportedVersion`] for a newer format (in each case
    /// nothing is written), [`McsError::NoRegistry`] when reading only and
    /// nothing is there, [`McsError::Unavailable`] when etcd does not
    /// answer in time and [`McsError::NoEtcdSupport`] for an `etcd://`
    /// location in a build without the `etcd` feature.
    pub fn open(&self, location: &Location) -> Result<Registry, McsError> {
        let store = match location {
            Location::File(path) if self.read_only => Store::Sqlite(Box::new(
                sqlite::Sqlite::open_read_only(path, self.space.clone())?,
            )),
            Location::File(path) => {
                Store::Sqlite(Box::new(sqlite::Sqlite::open(path, self.space.clone())?))
            }
            #[cfg(feature = "etcd")]
            Location::Etcd(url) => Store::Etcd(Box::new(etcd::Etcd::open(
                url,
                self.space.clone(),
                self.read_only,
                self.timeout,
            )?)),
            #[cfg(not(feature = "etcd"))]
            Location::Etcd(url) => {
                return Err(McsError::NoEtcdSupport {
                    url: url.to_string(),
                })
            }
        };
        Ok(Registry {
            location: location.clone(),
            store,
        })
    }
}

impl Registry {
    /// Opens (creating it when missing or empty) the SQLite registry at
    /// `path`. The directory must exist (see
    /// [`open_default`](Self::open_default), which creates it).
    ///
    /// Fails with [`McsError::NotARegistry`] for a file of another program,
    /// [`McsError::Corrupt`] for a damaged registry and
    /// [`McsError::UnsupportedVersion`] for a newer schema; in each case
    /// nothing is written. For any [`Location`] (etcd too), see
    /// [`RegistryOptions::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Registry, McsError> {
        RegistryOptions::new().open(&Location::File(path.as_ref().to_path_buf()))
    }

    /// [`open`](Self::open) allocating from `space` (a smaller pool, other
    /// reserved pairs). The space only limits what this handle allocates:
    /// uniqueness holds across all pools.
    pub fn open_with_space(path: impl AsRef<Path>, space: PairSpace) -> Result<Registry, McsError> {
        RegistryOptions::new()
            .space(space)
            .open(&Location::File(path.as_ref().to_path_buf()))
    }

    /// Opens an existing SQLite registry at `path` for reading only
    /// ([`get`](Self::get), [`holder`](Self::holder), [`list`](Self::list),
    /// [`len`](Self::len), [`available`](Self::available)); every change
    /// fails with [`McsError::ReadOnly`].
    ///
    /// Creates nothing and writes nothing: SQLite opens the file with
    /// `SQLITE_OPEN_READONLY` (no `SQLITE_OPEN_CREATE`) and no lock file is
    /// made. SQLite itself may still create the `-wal` and `-shm` files of
    /// a WAL database that has none, when the directory is writable (a
    /// reader needs the shared-memory index; see SQLite's "Read-Only
    /// Databases" in wal.html); the next writer removes them when it closes.
    ///
    /// Fails with [`McsError::NoRegistry`] when nothing exists at `path`,
    /// and with [`McsError::NotARegistry`] for anything but a regular file
    /// (refused without blocking), an empty file, a file that is not an
    /// SQLite database, or an SQLite database without a registry's schema:
    /// a read-only open never turns a file into a registry.
    ///
    /// ```
    /// use selinux_mcs::mcs::{McsError, Registry};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("mcs.db");
    /// let err = Registry::open_read_only(&path).unwrap_err();
    /// assert!(matches!(err, McsError::NoRegistry { .. }));
    /// assert!(!path.exists()); // nothing created
    ///
    /// Registry::open(&path)?.allocate_for("volume:pgdata")?;
    /// let reg = Registry::open_read_only(&path)?;
    /// assert!(reg.get("volume:pgdata")?.is_some());
    /// assert!(matches!(reg.allocate_for("other"), Err(McsError::ReadOnly { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Registry, McsError> {
        RegistryOptions::new()
            .read_only(true)
            .open(&Location::File(path.as_ref().to_path_buf()))
    }

    /// [`open_read_only`](Self::open_read_only), counting free pairs
    /// ([`available`](Self::available)) in `space`.
    pub fn open_read_only_with_space(
        path: impl AsRef<Path>,
        space: PairSpace,
    ) -> Result<Registry, McsError> {
        RegistryOptions::new()
            .read_only(true)
            .space(space)
            .open(&Location::File(path.as_ref().to_path_buf()))
    }

    /// Opens the registry at [`default_location`](Self::default_location)
    /// for reading only (no directory is created).
    pub fn open_default_read_only() -> Result<Registry, McsError> {
        RegistryOptions::new()
            .read_only(true)
            .open(&Registry::default_location()?)
    }

    /// Opens the registry at [`default_location`](Self::default_location),
    /// creating a file's directory if needed.
    pub fn open_default() -> Result<Registry, McsError> {
        Registry::open_default_with_space(PairSpace::default())
    }

    /// [`open_default`](Self::open_default) allocating from `space`.
    pub fn open_default_with_space(space: PairSpace) -> Result<Registry, McsError> {
        let location = Registry::default_location()?;
        create_parent(&location)?;
        RegistryOptions::new().space(space).open(&location)
    }

    /// Where the registry lives: `$SELINUX_MCS_DB` when set (a path or an
    /// `etcd://` URL, see [`Location`]); for root
    /// `/var/lib/selinux-mcs/mcs.db`; for others
    /// `$XDG_STATE_HOME/selinux-mcs/mcs.db` (an absolute `XDG_STATE_HOME`),
    /// else `~/.local/state/selinux-mcs/mcs.db`. With no home directory
    /// either, the root path (which then fails to open, naming it).
    ///
    /// Fails with [`McsError::BadLocation`] when `$SELINUX_MCS_DB` is a
    /// malformed URL.
    pub fn default_location() -> Result<Location, McsError> {
        if let Some(text) = std::env::var_os("SELINUX_MCS_DB").filter(|p| !p.is_empty()) {
            return Location::parse(&text).map_err(|e| match e {
                McsError::BadLocation {
                    text,
                    offset,
                    reason,
                } => McsError::BadLocation {
                    text,
                    offset,
                    reason: format!("{reason}, in $SELINUX_MCS_DB"),
                },
                other => other,
            });
        }
        let system = PathBuf::from("/var/lib/selinux-mcs/mcs.db");
        if rustix::process::geteuid().is_root() {
            return Ok(Location::File(system));
        }
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .map(|h| h.join(".local/state"))
            });
        Ok(Location::File(match state {
            Some(dir) => dir.join("selinux-mcs/mcs.db"),
            None => system,
        }))
    }

    /// Where this registry lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The pairs this handle allocates from.
    pub fn space(&self) -> PairSpace {
        dispatch!(self, s => s.space())
    }

    /// Whether this handle was opened read-only.
    pub fn is_read_only(&self) -> bool {
        dispatch!(self, s => s.is_read_only())
    }

    /// How many pairs of this handle's space are free now.
    pub fn available(&self) -> Result<usize, McsError> {
        dispatch!(self, s => s.available())
    }

    /// The pair of `owner`: the one it already holds, else a new one drawn
    /// uniformly among the free pairs of the space. Idempotent, so a volume
    /// keeps its pair across restarts, and processes (or hosts) allocating
    /// for one owner at once all get the same pair.
    ///
    /// Fails with [`McsError::Exhausted`] when no pair is free.
    #[doc(alias = "ContainerLabels")]
    #[doc(alias = "uniqMcs")]
    pub fn allocate_for(&self, owner: &str) -> Result<Entry, McsError> {
        dispatch!(self, s => s.allocate_for(owner))
    }

    /// [`allocate_for`](Self::allocate_for) for many owners in one
    /// transaction: all get a pair, or (on error) none does. One `fsync` for
    /// the lot (SQLite). Fails at once, allocating nothing, with
    /// [`McsError::TooMany`] when the owners that hold no pair yet outnumber
    /// the free pairs (and on etcd with [`McsError::BatchTooLarge`] when
    /// they are more than one transaction holds).
    pub fn allocate_many<S: AsRef<str>>(&self, owners: &[S]) -> Result<Vec<Entry>, McsError> {
        dispatch!(self, s => s.allocate_many(owners))
    }

    /// `count` new pairs in one transaction, each owned by itself: the
    /// owner key is `pair:<level>` (`pair:s0:c1,c2`), unique because the
    /// pair is. For callers that track pairs, not owners.
    ///
    /// All or nothing: when `count` is above the free pairs of the space,
    /// fails at once with [`McsError::TooMany`] ("asked for 16 pairs; the
    /// pool has 15 free of 15") and allocates nothing; one pair when none
    /// is free is [`McsError::Exhausted`]. A space whose every pair is
    /// reserved fails with [`McsError::NoPairs`].
    ///
    /// ```
    /// use selinux_mcs::mcs::{McsError, PairSpace, Registry};
    /// let dir = tempfile::tempdir()?;
    /// let space = PairSpace::new("c4.c9".parse()?)?; // 15 pairs
    /// let reg = Registry::open_with_space(dir.path().join("mcs.db"), space)?;
    /// let err = reg.allocate_anonymous(16).unwrap_err();
    /// assert_eq!(err.to_string(), "asked for 16 pairs; the pool has 15 free of 15");
    /// assert!(reg.is_empty()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn allocate_anonymous(&self, count: usize) -> Result<Vec<Entry>, McsError> {
        dispatch!(self, s => s.allocate_anonymous(count))
    }

    /// Records that `owner` holds `level` (a label already in use, or one a
    /// user chose). Idempotent for the same owner and level.
    ///
    /// Only pairs can be reserved (see [`Allocator`](super::Allocator) for
    /// why): a level with one or more than two categories fails with
    /// [`McsError::NotAPair`]. A pair outside this handle's pool may be
    /// reserved (another process may allocate from a larger pool); the
    /// pairs the space reserves by convention may not. Fails with
    /// [`McsError::Taken`] when another owner holds the pair and
    /// [`McsError::OwnerHoldsOther`] when the owner holds another pair.
    #[doc(alias = "ReserveLabel")]
    pub fn reserve(&self, level: &Level, owner: &str) -> Result<Entry, McsError> {
        dispatch!(self, s => s.reserve(level, owner))
    }

    /// Releases `owner`'s pair; returns the entry, or `None` when the owner
    /// holds nothing.
    pub fn release_owner(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        dispatch!(self, s => s.release_owner(owner))
    }

    /// Releases `level`, whoever holds it; returns the entry, or `None` when
    /// nobody holds it. Fails with [`McsError::NotAPair`] for a level that
    /// is not a pair.
    #[doc(alias = "ReleaseLabel")]
    pub fn release_level(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        dispatch!(self, s => s.release_level(level))
    }

    /// The entry of `owner`, if any.
    pub fn get(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        dispatch!(self, s => s.get(owner))
    }

    /// Who holds `level`, if anyone.
    pub fn holder(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        dispatch!(self, s => s.holder(level))
    }

    /// Every entry, oldest first (then by owner).
    pub fn list(&self) -> Result<Vec<Entry>, McsError> {
        dispatch!(self, s => s.list())
    }

    /// How many pairs are taken in the registry (in any pool).
    pub fn len(&self) -> Result<usize, McsError> {
        dispatch!(self, s => s.len())
    }

    /// Whether no pair is taken.
    pub fn is_empty(&self) -> Result<bool, McsError> {
        Ok(self.len()? == 0)
    }

    /// Reserves the pairs the host already uses, so that a fresh registry
    /// does not hand them out: the levels of running processes
    /// (`/proc/*/attr/current`, where readable) and the labels of the given
    /// directories themselves (not their trees). See [`InUse`].
    ///
    /// Only pair levels are adopted; levels already held are left alone. Each
    /// adopted entry's owner is `adopted:<where>` and its `source` says where
    /// it was found. SQLite: one transaction for everything found; etcd: one
    /// per pair (running it again adopts what an interrupted run did not).
    pub fn adopt_in_use(&self, in_use: &InUse) -> Result<Adoption, McsError> {
        dispatch!(self, s => s.adopt_in_use(in_use))
    }

    /// Checks the whole store (slow on a large registry; opening does only
    /// cheap checks): SQLite's `PRAGMA integrity_check`; on etcd, that every
    /// pair key and owner key parse and match each other one to one.
    pub fn check(&self) -> Result<(), McsError> {
        dispatch!(self, s => s.check())
    }

    #[cfg(test)]
    fn sqlite(&self) -> &sqlite::Sqlite {
        match &self.store {
            Store::Sqlite(s) => s,
            #[cfg(feature = "etcd")]
            Store::Etcd(_) => panic!("not an SQLite registry"),
        }
    }
}

/// Creates the directory of a file location (the default one lives in a
/// state directory that may not exist yet).
fn create_parent(location: &Location) -> Result<(), McsError> {
    if let Location::File(path) = location {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| McsError::Io {
                path: dir.to_path_buf(),
                call: "mkdir",
                source,
            })?;
        }
    }
    Ok(())
}
