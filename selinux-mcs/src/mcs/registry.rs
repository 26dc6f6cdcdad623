//! [`Registry`]: pairs shared between processes, in an SQLite database.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use serde::Serialize;

use super::adopt::{self, Adoption, InUse};
use super::lock::{self, WriteLock};
use super::{Allocator, CategoryPair, McsError, PairSpace};
use crate::mls::Level;
use crate::policy::{open_regular, OpenError};

/// `PRAGMA application_id` of a registry: "MCSR". A file with any other id
/// belongs to another program and is never written.
const APPLICATION_ID: i64 = 0x4D43_5352;
/// `PRAGMA user_version`: the schema version this code reads and writes.
const SCHEMA_VERSION: i64 = 1;
/// How many change-log rows to keep; a process that has not looked for
/// longer than that reloads the whole table instead.
const LOG_KEEP: i64 = 100_000;
/// Prune the change log each time it grows by this many rows.
const PRUNE_EVERY: u64 = 512;

const SCHEMA: &str = "
CREATE TABLE meta(
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
-- One row per taken pair. `key` is the pair's number among all pairs of
-- c0..c1023 (B*(B-1)/2 + A), so the primary key is what makes a pair have one
-- owner, whatever pool each process allocates from.
CREATE TABLE pairs(
    key     INTEGER PRIMARY KEY CHECK (key >= 0 AND key < 523776),
    level   TEXT NOT NULL,
    owner   TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    source  TEXT
);
-- Every insert and delete, in order, so that a process can bring its
-- in-memory free set up to date by reading only what changed.
CREATE TABLE changes(
    seq   INTEGER PRIMARY KEY,
    key   INTEGER NOT NULL,
    taken INTEGER NOT NULL
);
CREATE TRIGGER pairs_taken AFTER INSERT ON pairs BEGIN
    INSERT INTO changes(key, taken) VALUES (new.key, 1);
END;
CREATE TRIGGER pairs_freed AFTER DELETE ON pairs BEGIN
    INSERT INTO changes(key, taken) VALUES (old.key, 0);
END;
CREATE TRIGGER pairs_moved AFTER UPDATE OF key ON pairs BEGIN
    INSERT INTO changes(key, taken) VALUES (old.key, 0);
    INSERT INTO changes(key, taken) VALUES (new.key, 1);
END;
INSERT INTO meta(key, value) VALUES ('format', 'selinux-mcs registry');
";

/// One reservation: an owner and its pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The owner key: a volume name, container id, pod, or for adopted
    /// entries `adopted:<where>`.
    pub owner: String,
    /// The pair, as a level `s0:cA,cB`.
    pub level: Level,
    /// When the entry was made, in seconds since the Unix epoch.
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

/// Pairs shared by every process on the host, kept in an SQLite database
/// (rusqlite with its bundled SQLite, so nothing needs installing).
///
/// **One pair, one owner.** A pair is stored under its number as the
/// table's primary key, and an owner key is `UNIQUE`: the database, not the
/// process, refuses a second holder. Every change runs in a `BEGIN
/// IMMEDIATE` transaction (one writer at a time, others wait up to about ten
/// seconds), so two processes never pick the same pair, and a process killed
/// mid-allocation leaves either its whole change or none.
///
/// **Handing over.** Writers also take an `flock(2)` on `<db>-lock` around
/// each transaction, so a waiting process is woken by the kernel the moment
/// the holder finishes instead of polling (this doubled throughput with four
/// processes in the benchmark). A wait longer than ten seconds fails with
/// [`McsError::Busy`]; a dead holder's lock is released by the kernel.
///
/// **Durability.** The database runs in WAL mode with `synchronous=FULL`:
/// when a call returns, its change is on disk and survives a power cut.
///
/// **Speed.** Each process keeps the free pairs in an [`Allocator`] and
/// brings it up to date at the start of each transaction from a change log
/// (a table the triggers fill), so choosing a pair stays O(1) however full
/// the pool is; an allocation costs one transaction and one `fsync`.
///
/// **Threads.** A `Registry` is one SQLite connection: it is `Send` but
/// not `Sync`; open one per thread (they coordinate like processes do).
///
/// **Foreign files.** Before writing anything, `open` checks the file's
/// SQLite `application_id` and schema: a file of another program, a newer
/// schema or a damaged file is refused with an error, untouched. Anything
/// but a regular file (a FIFO, a device, a directory) is refused before
/// SQLite opens it, without blocking.
///
/// **Reading only.** [`open_read_only`](Registry::open_read_only) reads an
/// existing registry and creates nothing: not the database, not its lock
/// file; a missing file is [`McsError::NoRegistry`].
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
    /// Taken around every write transaction; `None` until the file is
    /// known to be ours (no lock file is created next to a foreign file).
    lock: Option<WriteLock>,
    /// Opened with [`open_read_only`](Registry::open_read_only): every
    /// write fails with [`McsError::ReadOnly`].
    read_only: bool,
    conn: Connection,
    path: PathBuf,
    cache: RefCell<Cache>,
}

#[derive(Debug)]
struct Cache {
    free: Allocator,
    /// The last change-log row applied to `free`.
    seq: i64,
    /// `free` may disagree with the database (a transaction failed after it
    /// changed): reload it all before the next use.
    stale: bool,
    /// Rows this connection has inserted into or deleted from `pairs`.
    writes: u64,
}

/// Runs `f` again while SQLite answers "busy" without having waited (its
/// deadlock avoidance), for as long as a writer waits for the lock.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < lock::WAIT =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            other => return other,
        }
    }
}

/// Waits for another process's write transaction: first 200 short polls
/// (50 us: a transaction usually takes a fraction of a millisecond), then
/// 1 ms sleeps, giving up after about ten seconds in all (SQLITE_BUSY).
fn busy_wait(count: i32) -> bool {
    match count {
        0..200 => std::thread::sleep(Duration::from_micros(50)),
        200..10_200 => std::thread::sleep(Duration::from_millis(1)),
        _ => return false,
    }
    true
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn check_owner(owner: &str) -> Result<(), McsError> {
    if owner.is_empty() || owner.chars().any(char::is_control) {
        return Err(McsError::BadOwner {
            owner: owner.to_owned(),
        });
    }
    Ok(())
}

impl Registry {
    /// Opens the registry at `path`, creating it if the file does not exist
    /// or is empty. The directory must exist (see
    /// [`open_default`](Self::open_default), which creates it).
    ///
    /// Fails with [`McsError::NotARegistry`] for a file of another program,
    /// [`McsError::Corrupt`] for a damaged registry and
    /// [`McsError::UnsupportedVersion`] for a newer schema; in each case
    /// nothing is written.
    pub fn open(path: impl AsRef<Path>) -> Result<Registry, McsError> {
        Registry::open_with_space(path, PairSpace::default())
    }

    /// Opens the registry at `path` allocating from `space` (a smaller pool,
    /// other reserved pairs). The space only limits what this handle
    /// allocates: uniqueness holds across all pools.
    pub fn open_with_space(path: impl AsRef<Path>, space: PairSpace) -> Result<Registry, McsError> {
        let path = path.as_ref().to_path_buf();
        check_header(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, "open", e))?;
        let mut reg = Registry::over(conn, path, space, false)?;
        let fresh = reg.identify()?;
        let lock = WriteLock::open(&reg.path)?;
        {
            // Processes that open a new registry at once take turns here:
            // switching to WAL needs an exclusive lock, and SQLite answers
            // "database is locked" at once, without its busy handler, when
            // two connections would wait for each other.
            let _held = lock.lock(lock::WAIT)?;
            // Only now that the file is known to be ours (or empty) may
            // anything be written: journal_mode=WAL rewrites the header.
            let mode: String = retry_busy(|| {
                reg.conn
                    .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            })
            .map_err(|e| reg.err("set journal_mode=WAL", e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(McsError::Database {
                    path: reg.path.clone(),
                    op: "set journal_mode=WAL",
                    source: rusqlite::Error::InvalidQuery,
                });
            }
            reg.conn
                .execute_batch("PRAGMA synchronous=FULL")
                .map_err(|e| reg.err("set synchronous=FULL", e))?;
            if fresh {
                reg.create_schema()?;
            }
        }
        reg.lock = Some(lock);
        // Load the free set now (a read transaction), which surfaces damage
        // at open rather than at the first allocation.
        reg.read(|t| t.sync())?;
        Ok(reg)
    }

    /// Opens an existing registry at `path` for reading only
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
        Registry::open_read_only_with_space(path, PairSpace::default())
    }

    /// [`open_read_only`](Self::open_read_only), counting free pairs
    /// ([`available`](Self::available)) in `space`.
    pub fn open_read_only_with_space(
        path: impl AsRef<Path>,
        space: PairSpace,
    ) -> Result<Registry, McsError> {
        let path = path.as_ref().to_path_buf();
        match check_header(&path)? {
            Found::Missing => return Err(McsError::NoRegistry { path }),
            Found::Empty => {
                return Err(McsError::NotARegistry {
                    path,
                    reason: "an empty file".into(),
                })
            }
            Found::Sqlite => {}
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| match e.sqlite_error_code() {
                // Removed since the check above.
                Some(ErrorCode::CannotOpen) if !path.exists() => {
                    McsError::NoRegistry { path: path.clone() }
                }
                _ => classify(&path, "open", e),
            })?;
        let reg = Registry::over(conn, path, space, true)?;
        if reg.identify()? {
            return Err(McsError::NotARegistry {
                path: reg.path.clone(),
                reason: "an SQLite database without a registry's schema".into(),
            });
        }
        reg.read(|t| t.sync())?;
        Ok(reg)
    }

    /// [`open_read_only`](Self::open_read_only) at
    /// [`default_path`](Self::default_path) (no directory is created).
    pub fn open_default_read_only() -> Result<Registry, McsError> {
        Registry::open_read_only(Registry::default_path())
    }

    /// Opens the registry at [`default_path`](Self::default_path), creating
    /// its directory if needed.
    pub fn open_default() -> Result<Registry, McsError> {
        Registry::open_default_with_space(PairSpace::default())
    }

    /// [`open_default`](Self::open_default) allocating from `space`.
    pub fn open_default_with_space(space: PairSpace) -> Result<Registry, McsError> {
        let path = Registry::default_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| McsError::Io {
                path: dir.to_path_buf(),
                call: "mkdir",
                source,
            })?;
        }
        Registry::open_with_space(path, space)
    }

    /// Where the registry lives: `$SELINUX_MCS_DB` when set; for root
    /// `/var/lib/selinux-mcs/mcs.db`; for others
    /// `$XDG_STATE_HOME/selinux-mcs/mcs.db` (an absolute `XDG_STATE_HOME`),
    /// else `~/.local/state/selinux-mcs/mcs.db`. With no home directory
    /// either, the root path (which then fails to open, naming it).
    pub fn default_path() -> PathBuf {
        if let Some(p) = std::env::var_os("SELINUX_MCS_DB").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let system = PathBuf::from("/var/lib/selinux-mcs/mcs.db");
        if rustix::process::geteuid().is_root() {
            return system;
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
        match state {
            Some(dir) => dir.join("selinux-mcs/mcs.db"),
            None => system,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pairs this handle allocates from.
    pub fn space(&self) -> PairSpace {
        self.cache.borrow().free.space().clone()
    }

    /// Whether this handle was opened with
    /// [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// How many pairs of this handle's space are free now.
    pub fn available(&self) -> Result<usize, McsError> {
        self.read(|tx| {
            tx.sync()?;
            Ok(tx.cache.free.available())
        })
    }

    /// The pair of `owner`: the one it already holds, else a new one drawn
    /// uniformly among the free pairs of the space. Idempotent, so a volume
    /// keeps its pair across restarts.
    ///
    /// Fails with [`McsError::Exhausted`] when no pair is free.
    #[doc(alias = "ContainerLabels")]
    #[doc(alias = "uniqMcs")]
    pub fn allocate_for(&self, owner: &str) -> Result<Entry, McsError> {
        check_owner(owner)?;
        self.check_pool()?;
        self.write(|tx| tx.allocate(owner, now()))
    }

    /// [`allocate_for`](Self::allocate_for) for many owners in one
    /// transaction: all get a pair, or (on error) none does. One `fsync` for
    /// the lot. Fails at once, allocating nothing, with
    /// [`McsError::TooMany`] when the owners that hold no pair yet outnumber
    /// the free pairs.
    pub fn allocate_many<S: AsRef<str>>(&self, owners: &[S]) -> Result<Vec<Entry>, McsError> {
        for owner in owners {
            check_owner(owner.as_ref())?;
        }
        self.check_pool()?;
        let created = now();
        self.write(|tx| {
            let mut new = std::collections::HashSet::new();
            for o in owners {
                if tx.by_owner(o.as_ref())?.is_none() {
                    new.insert(o.as_ref());
                }
            }
            tx.check_count(new.len())?;
            owners
                .iter()
                .map(|o| tx.allocate(o.as_ref(), created))
                .collect()
        })
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
        self.check_pool()?;
        let created = now();
        self.write(|tx| {
            tx.check_count(count)?;
            (0..count)
                .map(|_| {
                    let pair = tx.draw()?;
                    tx.insert(pair, &format!("pair:{pair}"), None, created)
                })
                .collect()
        })
    }

    /// Records that `owner` holds `level` (a label already in use, or one a
    /// user chose). Idempotent for the same owner and level.
    ///
    /// Only pairs can be reserved (see [`Allocator`] for why): a level with
    /// one or more than two categories fails with [`McsError::NotAPair`].
    /// A pair outside this handle's pool may be reserved (another process may
    /// allocate from a larger pool); the pairs the space reserves by
    /// convention may not. Fails with [`McsError::Taken`] when another owner
    /// holds the pair and [`McsError::OwnerHoldsOther`] when the owner holds
    /// another pair.
    #[doc(alias = "ReserveLabel")]
    pub fn reserve(&self, level: &Level, owner: &str) -> Result<Entry, McsError> {
        check_owner(owner)?;
        let pair = CategoryPair::try_from(level)?;
        if self.cache.borrow().free.space().is_reserved(&pair) {
            return Err(McsError::Reserved {
                level: level.to_string(),
            });
        }
        self.write(|tx| tx.reserve(pair, owner, None, now()))
    }

    /// Releases `owner`'s pair; returns the entry, or `None` when the owner
    /// holds nothing.
    pub fn release_owner(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        self.write(|tx| {
            let entry = tx.by_owner(owner)?;
            if let Some(e) = &entry {
                tx.delete(e)?;
            }
            Ok(entry)
        })
    }

    /// Releases `level`, whoever holds it; returns the entry, or `None` when
    /// nobody holds it. Fails with [`McsError::NotAPair`] for a level that
    /// is not a pair.
    #[doc(alias = "ReleaseLabel")]
    pub fn release_level(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pair = CategoryPair::try_from(level)?;
        self.write(|tx| {
            let entry = tx.by_key(pair)?;
            if let Some(e) = &entry {
                tx.delete(e)?;
            }
            Ok(entry)
        })
    }

    /// The entry of `owner`, if any.
    pub fn get(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        self.read(|tx| tx.by_owner(owner))
    }

    /// Who holds `level`, if anyone.
    pub fn holder(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pair = CategoryPair::try_from(level)?;
        self.read(|tx| tx.by_key(pair))
    }

    /// Every entry, oldest first (then by owner).
    pub fn list(&self) -> Result<Vec<Entry>, McsError> {
        self.read(|tx| {
            let mut stmt = tx
                .conn
                .prepare_cached(
                    "SELECT owner, level, created, source FROM pairs ORDER BY created, owner",
                )
                .map_err(|e| tx.err("list", e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(|e| tx.err("list", e))?;
            let mut out = Vec::new();
            for row in rows {
                let (owner, level, created, source) = row.map_err(|e| tx.err("list", e))?;
                out.push(tx.entry(owner, &level, created, source)?);
            }
            Ok(out)
        })
    }

    /// How many pairs are taken in the registry (in any pool).
    pub fn len(&self) -> Result<usize, McsError> {
        self.read(|tx| {
            tx.conn
                .query_row("SELECT count(*) FROM pairs", [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| tx.err("count", e))
        })
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
    /// it was found. One transaction for everything found.
    pub fn adopt_in_use(&self, in_use: &InUse) -> Result<Adoption, McsError> {
        let found = adopt::scan(in_use)?;
        let created = now();
        let space = self.space();
        self.write(|tx| {
            let mut report = found.report;
            for f in found.pairs {
                if space.is_reserved(&f.pair) {
                    report.not_pairs += 1;
                    continue;
                }
                if tx.by_key(f.pair)?.is_some() {
                    report.already_held += 1;
                    continue;
                }
                let owner = format!("adopted:{}", f.where_);
                if tx.by_owner(&owner)?.is_some() {
                    report.already_held += 1;
                    continue;
                }
                let entry = tx.reserve(f.pair, &owner, Some(&f.source), created)?;
                report.adopted.push(entry);
            }
            Ok(report)
        })
    }

    /// Runs SQLite's `PRAGMA integrity_check` over the whole file (slow on a
    /// large registry; `open` does only cheap checks).
    pub fn check(&self) -> Result<(), McsError> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err("integrity_check", e))?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("integrity_check", e))?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(McsError::Corrupt {
                path: self.path.clone(),
                detail: rows.join("; "),
                source: None,
            })
        }
    }

    fn err(&self, op: &'static str, e: rusqlite::Error) -> McsError {
        classify(&self.path, op, e)
    }

    /// Refuses to allocate from a space whose every pair is reserved.
    fn check_pool(&self) -> Result<(), McsError> {
        let cache = self.cache.borrow();
        let space = cache.free.space();
        if space.capacity() == 0 {
            return Err(McsError::NoPairs {
                pool: space.pool().to_string(),
                len: space.len(),
            });
        }
        Ok(())
    }

    /// A registry over an open connection (no write lock yet), waiting
    /// on SQLite's busy answers.
    fn over(
        conn: Connection,
        path: PathBuf,
        space: PairSpace,
        read_only: bool,
    ) -> Result<Registry, McsError> {
        let reg = Registry {
            lock: None,
            read_only,
            conn,
            path,
            cache: RefCell::new(Cache {
                free: Allocator::new(space),
                seq: 0,
                stale: true,
                writes: 0,
            }),
        };
        reg.conn
            .busy_handler(Some(busy_wait))
            .map_err(|e| reg.err("set busy handler", e))?;
        Ok(reg)
    }

    /// Decides whether the file is ours (false), empty and free to take
    /// (true), or someone else's (error). Reads only.
    /// Whether the file is ours, new, or something else (see also
    /// `check_header`, which runs before SQLite sees the file).
    fn identify(&self) -> Result<bool, McsError> {
        let (app_id, version, tables): (i64, i64, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), \
                        (SELECT user_version FROM pragma_user_version), \
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err("read the header", e))?;
        match app_id {
            APPLICATION_ID if version > SCHEMA_VERSION => Err(McsError::UnsupportedVersion {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            }),
            APPLICATION_ID if version < SCHEMA_VERSION || tables == 0 => Err(McsError::Corrupt {
                path: self.path.clone(),
                detail: format!("schema version {version} with {tables} schema objects"),
                source: None,
            }),
            APPLICATION_ID => Ok(false),
            0 if tables == 0 && version == 0 => Ok(true),
            0 => Err(McsError::NotARegistry {
                path: self.path.clone(),
                reason: format!(
                    "an SQLite database with {tables} schema objects and no selinux-mcs application_id"
                ),
            }),
            other => Err(McsError::NotARegistry {
                path: self.path.clone(),
                reason: format!(
                    "an SQLite database with application_id {other:#x} (a registry has {APPLICATION_ID:#x})"
                ),
            }),
        }
    }

    fn create_schema(&self) -> Result<(), McsError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err("begin", e))?;
        // Another process may have created it between `identify` and now.
        let app_id: i64 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| self.err("read the header", e))?;
        if app_id == APPLICATION_ID {
            return Ok(());
        }
        if app_id != 0 {
            return self.identify().map(|_| ());
        }
        tx.execute_batch(SCHEMA)
            .map_err(|e| self.err("create the schema", e))?;
        tx.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(|e| self.err("create the schema", e))?;
        tx.commit().map_err(|e| self.err("commit", e))
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`) with the free
    /// set brought up to date; commits when `f` succeeds.
    fn write<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, McsError>) -> Result<T, McsError> {
        if self.read_only {
            return Err(McsError::ReadOnly {
                path: self.path.clone(),
            });
        }
        let mut cache = self.cache.borrow_mut();
        let _held = match &self.lock {
            Some(lock) => Some(lock.lock(lock::WAIT)?),
            None => None,
        };
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err("begin", e))?;
        let mut t = Tx {
            conn: &tx,
            path: &self.path,
            cache: &mut cache,
            dirty: false,
        };
        t.sync()?;
        // Holding the write lock, and in sync, the last log row is ours to
        // count from: each write adds one. Prune when the log's length
        // crosses a multiple of PRUNE_EVERY, whichever process gets there.
        let (seq, before) = (t.cache.seq as u64, t.cache.writes);
        let out = f(&mut t).and_then(|out| {
            let after = seq + (t.cache.writes - before);
            if after / PRUNE_EVERY != seq / PRUNE_EVERY {
                t.prune()?;
            }
            Ok(out)
        });
        // The free set changed with the transaction: if it does not commit,
        // the set no longer matches the database.
        let dirty = t.dirty;
        let out = out.and_then(|out| tx.commit().map(|()| out).map_err(|e| self.err("commit", e)));
        if out.is_err() && dirty {
            cache.stale = true;
        }
        out
    }

    /// Runs `f` in a read transaction.
    fn read<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, McsError>) -> Result<T, McsError> {
        let mut cache = self.cache.borrow_mut();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(|e| self.err("begin", e))?;
        let mut t = Tx {
            conn: &tx,
            path: &self.path,
            cache: &mut cache,
            dirty: false,
        };
        f(&mut t)
    }
}

/// Maps SQLite's verdicts on a damaged or foreign file to our errors.
fn classify(path: &Path, op: &'static str, e: rusqlite::Error) -> McsError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => McsError::NotARegistry {
            path: path.to_path_buf(),
            reason: format!("not an SQLite database ({e})"),
        },
        Some(ErrorCode::DatabaseCorrupt) => McsError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("SQLite reports damage while trying to {op}"),
            source: Some(e),
        },
        _ => McsError::Database {
            path: path.to_path_buf(),
            op,
            source: e,
        },
    }
}

mod tx;
use tx::Tx;

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;

/// What [`check_header`] found at the registry's path.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// Nothing.
    Missing,
    /// An empty regular file.
    Empty,
    /// A regular file that starts with SQLite's header.
    Sqlite,
}

/// Refuses, before SQLite opens the path, anything but a regular file
/// (checked with `stat` and then `fstat` on an `O_NONBLOCK` descriptor, so
/// a FIFO never blocks) and an existing, non-empty file that does not
/// start with SQLite's header: SQLite treats a file shorter than its header
/// as an empty database and would overwrite it with a new registry.
fn check_header(path: &Path) -> Result<Found, McsError> {
    use std::io::Read as _;
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    let (file, meta) = match open_regular(path) {
        Ok(opened) => opened,
        Err(e) if e.is_not_found() => return Ok(Found::Missing),
        Err(OpenError::NotRegular(found)) => {
            return Err(McsError::NotARegistry {
                path: path.to_path_buf(),
                reason: format!("{found}, not a regular file"),
            })
        }
        Err(OpenError::Io { call, source }) => {
            return Err(McsError::Io {
                path: path.to_path_buf(),
                call,
                source,
            })
        }
    };
    if meta.len() == 0 {
        return Ok(Found::Empty);
    }
    let mut head = Vec::with_capacity(16);
    file.take(16)
        .read_to_end(&mut head)
        .map_err(|source| McsError::Io {
            path: path.to_path_buf(),
            call: "read",
            source,
        })?;
    if head.as_slice() != HEADER {
        return Err(McsError::NotARegistry {
            path: path.to_path_buf(),
            reason: format!("a {}-byte file that is not an SQLite database", meta.len()),
        });
    }
    Ok(Found::Sqlite)
}
