//! The SQLite backend of [`Registry`](super::Registry): pairs shared by the
//! processes of one host, in one database file.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::{check_owner, now, Entry};
use crate::mcs::adopt::{self, Adoption, InUse};
use crate::mcs::lock::{self, WriteLock};
use crate::mcs::{Allocator, CategoryPair, McsError, PairSpace};
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

/// The SQLite store (see [`Registry`](super::Registry) for the guarantees):
/// the database, its writer lock and this process's copy of the free set.
#[derive(Debug)]
pub(super) struct Sqlite {
    /// Taken around every write transaction; `None` until the file is
    /// known to be ours (no lock file is created next to a foreign file).
    lock: Option<WriteLock>,
    /// Opened with [`open_read_only`](Sqlite::open_read_only): every
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

impl Sqlite {
    /// Opens the registry at `path`, creating it if the file does not exist
    /// or is empty (the directory must exist). A file of another program, a
    /// damaged registry or a newer schema is refused with nothing written.
    pub(super) fn open(path: &Path, space: PairSpace) -> Result<Sqlite, McsError> {
        let path = path.to_path_buf();
        check_header(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|e| classify(&path, "open", e))?;
        let mut reg = Sqlite::over(conn, path, space, false)?;
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

    /// Opens an existing registry for reading only: SQLite opens the file
    /// with `SQLITE_OPEN_READONLY` (no `SQLITE_OPEN_CREATE`) and no lock
    /// file is made. SQLite itself may still create the `-wal` and `-shm`
    /// files of a WAL database that has none, when the directory is
    /// writable (a reader needs the shared-memory index; see SQLite's
    /// "Read-Only Databases" in wal.html); the next writer removes them.
    pub(super) fn open_read_only(path: &Path, space: PairSpace) -> Result<Sqlite, McsError> {
        let path = path.to_path_buf();
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
        let reg = Sqlite::over(conn, path, space, true)?;
        if reg.identify()? {
            return Err(McsError::NotARegistry {
                path: reg.path.clone(),
                reason: "an SQLite database without a registry's schema".into(),
            });
        }
        reg.read(|t| t.sync())?;
        Ok(reg)
    }

    pub(super) fn space(&self) -> PairSpace {
        self.cache.borrow().free.space().clone()
    }

    pub(super) fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub(super) fn available(&self) -> Result<usize, McsError> {
        self.read(|tx| {
            tx.sync()?;
            Ok(tx.cache.free.available())
        })
    }

    pub(super) fn allocate_for(&self, owner: &str) -> Result<Entry, McsError> {
        check_owner(owner)?;
        self.check_pool()?;
        self.write(|tx| tx.allocate(owner, now()))
    }

    pub(super) fn allocate_many<S: AsRef<str>>(
        &self,
        owners: &[S],
    ) -> Result<Vec<Entry>, McsError> {
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

    pub(super) fn allocate_anonymous(&self, count: usize) -> Result<Vec<Entry>, McsError> {
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

    pub(super) fn reserve(&self, level: &Level, owner: &str) -> Result<Entry, McsError> {
        check_owner(owner)?;
        let pair = CategoryPair::try_from(level)?;
        if self.cache.borrow().free.space().is_reserved(&pair) {
            return Err(McsError::Reserved {
                level: level.to_string(),
            });
        }
        self.write(|tx| tx.reserve(pair, owner, None, now()))
    }

    pub(super) fn release_owner(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        self.write(|tx| {
            let entry = tx.by_owner(owner)?;
            if let Some(e) = &entry {
                tx.delete(e)?;
            }
            Ok(entry)
        })
    }

    pub(super) fn release_level(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pair = CategoryPair::try_from(level)?;
        self.write(|tx| {
            let entry = tx.by_key(pair)?;
            if let Some(e) = &entry {
                tx.delete(e)?;
            }
            Ok(entry)
        })
    }

    pub(super) fn get(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        self.read(|tx| tx.by_owner(owner))
    }

    pub(super) fn holder(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pair = CategoryPair::try_from(level)?;
        self.read(|tx| tx.by_key(pair))
    }

    pub(super) fn list(&self) -> Result<Vec<Entry>, McsError> {
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

    pub(super) fn len(&self) -> Result<usize, McsError> {
        self.read(|tx| {
            tx.conn
                .query_row("SELECT count(*) FROM pairs", [], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| tx.err("count", e))
        })
    }

    /// One transaction for everything found.
    pub(super) fn adopt_in_use(&self, in_use: &InUse) -> Result<Adoption, McsError> {
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

    /// SQLite's `PRAGMA integrity_check` over the whole file.
    pub(super) fn check(&self) -> Result<(), McsError> {
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
    ) -> Result<Sqlite, McsError> {
        let reg = Sqlite {
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
