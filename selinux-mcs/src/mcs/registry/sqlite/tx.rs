//! A registry transaction: the statements every operation is made of, run
//! inside one SQLite transaction, with the in-memory free-pair cache kept in
//! step.

use rusqlite::{params, OptionalExtension};

use super::*;

/// A transaction and the free set it keeps in step.
pub(super) struct Tx<'a> {
    pub(super) conn: &'a Connection,
    pub(super) path: &'a Path,
    pub(super) cache: &'a mut Cache,
    /// Whether `cache.free` was changed in this transaction.
    pub(super) dirty: bool,
}

impl Tx<'_> {
    pub(super) fn err(&self, op: &'static str, e: rusqlite::Error) -> McsError {
        classify(self.path, op, e)
    }

    pub(super) fn corrupt(&self, detail: String) -> McsError {
        McsError::Corrupt {
            path: self.path.to_path_buf(),
            detail,
            source: None,
        }
    }

    /// Applies the change-log rows written since the last sync, or reloads
    /// every pair when rows are missing (pruned) or the set is stale.
    pub(super) fn sync(&mut self) -> Result<(), McsError> {
        if !self.cache.stale {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT seq, key, taken FROM changes WHERE seq > ?1 ORDER BY seq")
                .map_err(|e| self.err("read the change log", e))?;
            let mut rows = stmt
                .query([self.cache.seq])
                .map_err(|e| self.err("read the change log", e))?;
            let mut expect = self.cache.seq + 1;
            let mut complete = true;
            while let Some(row) = rows
                .next()
                .map_err(|e| classify(self.path, "read the change log", e))?
            {
                let (seq, key, taken): (i64, i64, bool) =
                    (|| Ok::<_, rusqlite::Error>((row.get(0)?, row.get(1)?, row.get(2)?)))()
                        .map_err(|e| classify(self.path, "read the change log", e))?;
                if seq != expect {
                    complete = false;
                    break;
                }
                expect += 1;
                let pair = u32::try_from(key)
                    .ok()
                    .and_then(CategoryPair::from_key)
                    .ok_or_else(|| McsError::Corrupt {
                        path: self.path.to_path_buf(),
                        detail: format!("change log row {seq} names pair number {key}"),
                        source: None,
                    })?;
                let free = &mut self.cache.free;
                if let Some(rank) = free.space().rank(&pair) {
                    if !free.space().is_reserved(&pair) {
                        if taken {
                            free.take_rank(rank);
                        } else {
                            free.give_rank(rank);
                        }
                    }
                }
                self.cache.seq = seq;
            }
            if complete {
                return Ok(());
            }
        }
        self.reload()
    }

    pub(super) fn reload(&mut self) -> Result<(), McsError> {
        self.cache.free.clear();
        let seq: i64 = self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err("read the change log", e))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, level FROM pairs")
            .map_err(|e| self.err("read the pairs", e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err("read the pairs", e))?;
        let mut text = String::new();
        while let Some(row) = rows
            .next()
            .map_err(|e| classify(self.path, "read the pairs", e))?
        {
            let key: i64 = row
                .get(0)
                .map_err(|e| classify(self.path, "read the pairs", e))?;
            let level: String = row
                .get(1)
                .map_err(|e| classify(self.path, "read the pairs", e))?;
            let pair = u32::try_from(key).ok().and_then(CategoryPair::from_key);
            let Some(pair) = pair else {
                return Err(self.corrupt(format!(
                    "pair number {key} (level {level:?}) is out of range"
                )));
            };
            text.clear();
            use std::fmt::Write;
            let _ = write!(text, "{pair}");
            if text != level {
                return Err(self.corrupt(format!(
                    "pair number {key} is {pair} but its row says {level:?}"
                )));
            }
            let free = &mut self.cache.free;
            if let Some(rank) = free.space().rank(&pair) {
                if !free.space().is_reserved(&pair) {
                    free.take_rank(rank);
                }
            }
        }
        self.cache.seq = seq;
        self.cache.stale = false;
        Ok(())
    }

    pub(super) fn prune(&mut self) -> Result<(), McsError> {
        self.conn
            .prepare_cached("DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?1")
            .and_then(|mut s| s.execute([LOG_KEEP]))
            .map_err(|e| self.err("prune the change log", e))?;
        Ok(())
    }

    pub(super) fn entry(
        &self,
        owner: String,
        level: &str,
        created: i64,
        source: Option<String>,
    ) -> Result<Entry, McsError> {
        let level = level
            .parse::<CategoryPair>()
            .map_err(|e| self.corrupt(format!("owner {owner:?} holds {level:?}: {e}")))?
            .level();
        Ok(Entry {
            owner,
            level,
            created,
            source,
        })
    }

    pub(super) fn query_one(
        &self,
        sql: &str,
        arg: &dyn rusqlite::ToSql,
    ) -> Result<Option<Entry>, McsError> {
        let row = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.query_row([arg], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| self.err("look up", e))?;
        row.map(|(owner, level, created, source)| self.entry(owner, &level, created, source))
            .transpose()
    }

    pub(super) fn by_owner(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        self.query_one(
            "SELECT owner, level, created, source FROM pairs WHERE owner = ?1",
            &owner,
        )
    }

    pub(super) fn by_key(&self, pair: CategoryPair) -> Result<Option<Entry>, McsError> {
        self.query_one(
            "SELECT owner, level, created, source FROM pairs WHERE key = ?1",
            &pair.key(),
        )
    }

    pub(super) fn insert(
        &mut self,
        pair: CategoryPair,
        owner: &str,
        source: Option<&str>,
        created: i64,
    ) -> Result<Entry, McsError> {
        let level = pair.level();
        self.conn
            .prepare_cached(
                "INSERT INTO pairs(key, level, owner, created, source) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    pair.key(),
                    level.to_string(),
                    owner,
                    created,
                    source
                ])
            })
            .map_err(|e| self.err("insert", e))?;
        self.cache.writes += 1;
        self.dirty = true;
        let free = &mut self.cache.free;
        if let Some(rank) = free.space().rank(&pair) {
            free.take_rank(rank);
        }
        Ok(Entry {
            owner: owner.to_owned(),
            level,
            created,
            source: source.map(str::to_owned),
        })
    }

    pub(super) fn delete(&mut self, entry: &Entry) -> Result<(), McsError> {
        let pair = CategoryPair::try_from(&entry.level)?;
        self.conn
            .prepare_cached("DELETE FROM pairs WHERE key = ?1")
            .and_then(|mut s| s.execute([pair.key()]))
            .map_err(|e| self.err("delete", e))?;
        self.cache.writes += 1;
        self.dirty = true;
        let free = &mut self.cache.free;
        if let Some(rank) = free.space().rank(&pair) {
            if !free.space().is_reserved(&pair) {
                free.give_rank(rank);
            }
        }
        Ok(())
    }

    /// Fails with [`McsError::TooMany`] when more than one pair is asked
    /// for and fewer are free (one pair of none is `Exhausted`, from `draw`).
    pub(super) fn check_count(&self, asked: usize) -> Result<(), McsError> {
        let free = &self.cache.free;
        if asked > 1 && asked > free.available() {
            return Err(McsError::TooMany {
                asked,
                free: free.available(),
                capacity: free.capacity(),
                pool: free.space().pool().to_string(),
            });
        }
        Ok(())
    }

    /// A free pair, taken in the free set (the caller inserts it).
    pub(super) fn draw(&mut self) -> Result<CategoryPair, McsError> {
        let pair = self.cache.free.allocate()?;
        self.dirty = true;
        Ok(pair)
    }

    pub(super) fn allocate(&mut self, owner: &str, created: i64) -> Result<Entry, McsError> {
        if let Some(entry) = self.by_owner(owner)? {
            return Ok(entry);
        }
        let pair = self.draw()?;
        self.insert(pair, owner, None, created)
    }

    pub(super) fn reserve(
        &mut self,
        pair: CategoryPair,
        owner: &str,
        source: Option<&str>,
        created: i64,
    ) -> Result<Entry, McsError> {
        if let Some(held) = self.by_key(pair)? {
            if held.owner == owner {
                return Ok(held);
            }
            return Err(McsError::Taken {
                level: pair.to_string(),
                owner: Some(held.owner),
            });
        }
        if let Some(held) = self.by_owner(owner)? {
            return Err(McsError::OwnerHoldsOther {
                owner: owner.to_owned(),
                level: held.level.to_string(),
            });
        }
        self.insert(pair, owner, source, created)
    }
}
