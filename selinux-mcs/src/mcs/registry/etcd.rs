//! The etcd backend of [`Registry`](super::Registry): one registry for a
//! cluster of hosts.
//!
//! Keys, under the URL's prefix `P`:
//! - `P/meta`: `{"format": "selinux-mcs registry", "version": 1}`, written
//!   once by the first writer; a prefix holding other keys but no marker
//!   belongs to someone else and is never written.
//! - `P/pairs/NNNNNN`: a taken pair, by its number among the pairs of
//!   c0..c1023 (zero-padded, so keys sort by number); the value is the entry
//!   as JSON.
//! - `P/owners/<owner>`: the same JSON, under the owner.
//! - `P/released`: rewritten by every release, so that a process can tell
//!   from its revision whether any pair was freed since it last looked.
//!
//! Every change is one etcd transaction whose compares make it apply whole
//! or not at all: a pair key and an owner key are created only if neither
//! exists (`create_revision == 0`); a release deletes both only if neither
//! changed since it read them. Nothing is locked between round trips: a
//! transaction that loses a race is retried with fresh state.
//!
//! Each process loads the free pairs of its space into an [`Allocator`]
//! once (every pair key, keys only, page by page) and draws from it. Pairs
//! other processes take afterwards stay in that set, so it holds every
//! truly free pair and some taken ones: a draw that hits a taken pair fails
//! its compare, the pair is dropped from the set, and the loop draws again.
//! That is rejection sampling, so the pair handed out is uniform among the
//! pairs free when its transaction applies. The set would miss a pair
//! another process *released* since the load, so every drawing transaction
//! also compares the revision of `P/released` with the load's: a release
//! since then fails it, and the set is reloaded. A reload happens after a
//! release, and after a few conflicts in a row (a busy or nearly full
//! pool).
//!
//! Every write is preceded by a linearizable read, which etcd answers only
//! when its leader hears from a quorum: without quorum the operation fails
//! before any write is sent. A write is two round trips.
//!
//! Every operation runs under one deadline (the handle's timeout): a
//! failure etcd may recover from (no leader during an election, a member
//! that went away, a request that timed out inside etcd) is retried with
//! backoff until then. A write whose answer was lost may have been
//! applied: retries are built to recognise their own earlier success (the
//! owner's key, or a random token stored in the entry), so a lost answer
//! neither hands a pair out twice nor reports a failure for a change made.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, KeyValue, KvClient, Txn, TxnOp,
    TxnOpResponse, TxnResponse,
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

use super::{check_owner, now, Entry, EtcdUrl};
use crate::mcs::adopt::{self, Adoption, InUse};
use crate::mcs::{Allocator, CategoryPair, McsError, PairSpace};
use crate::mls::Level;

const FORMAT: &str = "selinux-mcs registry";
const VERSION: i64 = 1;
/// etcd's default `--max-txn-ops`: compares, and operations of each branch,
/// per transaction.
const MAX_TXN_OPS: usize = 128;
/// The most new pairs one transaction holds: two compares and two puts each.
pub(crate) const MAX_BATCH: usize = (MAX_TXN_OPS - 1) / 2;
/// Keys per page when reading many: a page stays far below gRPC's 4 MiB
/// message limit.
const PAGE: i64 = 10_000;
/// First and longest pause between retries.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(20), Duration::from_millis(400));

/// The registry's marker.
#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    version: i64,
}

/// An entry as stored (the same JSON under the pair and the owner).
#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Stored {
    owner: String,
    level: String,
    created: i64,
    #[serde(default)]
    source: Option<String>,
    /// Random per operation: lets a retry recognise its own earlier write.
    #[serde(default)]
    token: Option<String>,
}

/// What one attempt of an operation came to.
enum Step<T> {
    Done(T),
    /// Lost a race (a pair taken meanwhile): go again at once.
    Again,
}

/// Why an attempt failed.
enum Failure {
    /// Worth another try before the deadline; the text says what happened.
    Retry(String),
    /// Final.
    Fatal(McsError),
}

impl From<McsError> for Failure {
    fn from(e: McsError) -> Failure {
        Failure::Fatal(e)
    }
}

type Attempt<T> = Result<Step<T>, Failure>;

pub(super) struct Etcd {
    rt: Runtime,
    kv: KvClient,
    url: EtcdUrl,
    /// The URL, for the error variants that name a path.
    path: PathBuf,
    timeout: Duration,
    read_only: bool,
    keys: Keys,
    cache: RefCell<Cache>,
}

impl fmt::Debug for Etcd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Etcd")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

struct Cache {
    /// Every pair free at `rev`, minus those known taken since.
    free: Allocator,
    /// The etcd revision `free` was loaded at.
    rev: i64,
    /// `free` must be loaded (never was, a release since, many conflicts).
    stale: bool,
    /// Draws in a row that found their pair taken.
    conflicts: u32,
}

/// Conflicts in a row after which the free set is reloaded.
const RELOAD_AFTER_CONFLICTS: u32 = 3;

struct Keys {
    meta: String,
    /// `P/` (everything of the registry).
    all: String,
    /// `P/pairs/`.
    pairs: String,
    /// `P/owners/`.
    owners: String,
    released: String,
}

impl Keys {
    fn new(prefix: &str) -> Keys {
        Keys {
            meta: format!("{prefix}/meta"),
            all: format!("{prefix}/"),
            pairs: format!("{prefix}/pairs/"),
            owners: format!("{prefix}/owners/"),
            released: format!("{prefix}/released"),
        }
    }

    fn pair(&self, pair: CategoryPair) -> String {
        format!("{}{:06}", self.pairs, pair.key())
    }

    fn owner(&self, owner: &str) -> String {
        format!("{}{owner}", self.owners)
    }
}

/// The key just past every key that starts with `prefix`.
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn absent(key: &str) -> Compare {
    Compare::create_revision(key, CompareOp::Equal, 0)
}

/// The key-value pairs of each `Get` in a transaction's responses, in order.
fn gets(resp: &TxnResponse) -> Vec<Vec<KeyValue>> {
    resp.op_responses()
        .into_iter()
        .filter_map(|r| match r {
            TxnOpResponse::Get(g) => Some(g.kvs().to_vec()),
            _ => None,
        })
        .collect()
}

/// The chain of an error's causes, for a message ("transport error: tcp
/// connect error: Connection refused (os error 111)").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cur = s.source();
    }
    text
}

impl Etcd {
    pub(super) fn open(
        url: &EtcdUrl,
        space: PairSpace,
        read_only: bool,
        timeout: Duration,
    ) -> Result<Etcd, McsError> {
        let path = PathBuf::from(url.to_string());
        let io = |call, source| McsError::Io {
            path: path.clone(),
            call,
            source,
        };
        // A runtime cannot block inside another one (tokio panics): say so.
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(io(
                "open an etcd registry from inside a tokio runtime (use spawn_blocking)",
                std::io::Error::other("blocking call inside an async runtime"),
            ));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| io("start the etcd client's runtime", e))?;
        let endpoints: Vec<String> = url
            .endpoints()
            .iter()
            .map(|e| format!("http://{e}"))
            .collect();
        // A member without a leader answers "no leader" at once instead of
        // holding the request until etcd's own timeout.
        let options = ConnectOptions::new()
            .with_require_leader(true)
            .with_connect_timeout(timeout.min(Duration::from_secs(2)));
        // Connecting is lazy (a balanced channel); this only sets it up.
        let client = rt
            .block_on(Client::connect(&endpoints, Some(options)))
            .map_err(|source| McsError::Etcd {
                url: url.to_string(),
                op: "set up the client",
                source,
            })?;
        let etcd = Etcd {
            rt,
            kv: client.kv_client(),
            url: url.clone(),
            path,
            timeout,
            read_only,
            keys: Keys::new(url.prefix()),
            cache: RefCell::new(Cache {
                free: Allocator::new(space),
                rev: 0,
                stale: true,
                conflicts: 0,
            }),
        };
        etcd.retrying("open", |dl| etcd.identify(dl))?;
        Ok(etcd)
    }

    /// Checks the marker, writing it into an empty prefix (unless read-only).
    fn identify(&self, dl: Instant) -> Attempt<()> {
        let read = Txn::new().and_then(vec![
            TxnOp::get(self.keys.meta.as_str(), None),
            TxnOp::get(
                self.keys.all.as_str(),
                Some(GetOptions::new().with_prefix().with_count_only()),
            ),
        ]);
        let resp = self.call(dl, self.kv.clone().txn(read))?;
        let count = resp.op_responses().get(1).map_or(0, |r| match r {
            TxnOpResponse::Get(g) => g.count(),
            _ => 0,
        });
        if let Some(meta) = gets(&resp).first().and_then(|kvs| kvs.first()) {
            return self.check_meta(meta.value()).map(Step::Done);
        }
        if count > 0 {
            return Err(Failure::Fatal(McsError::NotARegistry {
                path: self.path.clone(),
                reason: format!(
                    "{count} key{} under {} and no {} marker: another program's keys",
                    if count == 1 { "" } else { "s" },
                    self.keys.all,
                    self.keys.meta
                ),
            }));
        }
        if self.read_only {
            return Err(Failure::Fatal(McsError::NoRegistry {
                path: self.path.clone(),
            }));
        }
        let meta = serde_json::to_string(&Meta {
            format: FORMAT.into(),
            version: VERSION,
        })
        .map_err(|e| self.corrupt(format!("cannot encode the marker: {e}")))?;
        let create = Txn::new()
            .when(vec![absent(&self.keys.meta)])
            .and_then(vec![TxnOp::put(self.keys.meta.as_str(), meta, None)])
            .or_else(vec![TxnOp::get(self.keys.meta.as_str(), None)]);
        let resp = self.call(dl, self.kv.clone().txn(create))?;
        if resp.succeeded() {
            return Ok(Step::Done(()));
        }
        // Another process made it first.
        match gets(&resp).first().and_then(|kvs| kvs.first()) {
            Some(meta) => self.check_meta(meta.value()).map(Step::Done),
            None => Ok(Step::Again),
        }
    }

    fn check_meta(&self, value: &[u8]) -> Result<(), Failure> {
        let meta: Meta = serde_json::from_slice(value).map_err(|_| {
            Failure::Fatal(McsError::NotARegistry {
                path: self.path.clone(),
                reason: format!(
                    "{} holds {:?}, not a selinux-mcs marker",
                    self.keys.meta,
                    String::from_utf8_lossy(value)
                ),
            })
        })?;
        if meta.format != FORMAT {
            return Err(Failure::Fatal(McsError::NotARegistry {
                path: self.path.clone(),
                reason: format!("{} says format {:?}", self.keys.meta, meta.format),
            }));
        }
        if meta.version > VERSION {
            return Err(Failure::Fatal(McsError::UnsupportedVersion {
                path: self.path.clone(),
                found: meta.version,
                supported: VERSION,
            }));
        }
        if meta.version < 1 {
            return Err(Failure::Fatal(self.corrupt(format!(
                "{} says version {}",
                self.keys.meta, meta.version
            ))));
        }
        Ok(())
    }

    fn corrupt(&self, detail: String) -> McsError {
        McsError::Corrupt {
            path: self.path.clone(),
            detail,
            source: None,
        }
    }

    fn check_writable(&self) -> Result<(), McsError> {
        if self.read_only {
            return Err(McsError::ReadOnly {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Runs `attempt` until it is done, fails for good, or the deadline
    /// passes ([`McsError::Unavailable`], with the last thing etcd said).
    fn retrying<T>(
        &self,
        op: &'static str,
        mut attempt: impl FnMut(Instant) -> Attempt<T>,
    ) -> Result<T, McsError> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let mut backoff = BACKOFF.0;
        let mut last: Option<String> = None;
        let mut races = 0u32;
        loop {
            match attempt(deadline) {
                Ok(Step::Done(out)) => return Ok(out),
                Ok(Step::Again) => races += 1,
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Retry(detail)) => {
                    last = Some(detail);
                    let left = deadline.saturating_duration_since(Instant::now());
                    std::thread::sleep(backoff.min(left));
                    backoff = (backoff * 2).min(BACKOFF.1);
                }
            }
            if Instant::now() >= deadline {
                let detail = match last {
                    Some(d) => format!("{op}: {d}"),
                    None if races > 0 => format!("{op}: lost {races} races to other writers"),
                    None => format!("{op}: no answer"),
                };
                return Err(McsError::Unavailable {
                    url: self.url.to_string(),
                    endpoints: self.url.endpoints().join(","),
                    waited: start.elapsed(),
                    detail,
                });
            }
        }
    }

    /// One request, bounded by the deadline.
    fn call<R>(
        &self,
        deadline: Instant,
        fut: impl Future<Output = Result<R, etcd_client::Error>>,
    ) -> Result<R, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Retry("the deadline passed".into()));
        }
        // The timer must be made inside the runtime.
        match self
            .rt
            .block_on(async { tokio::time::timeout(left, fut).await })
        {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(Failure::Retry(
                "no answer (no member reachable, or the cluster has no leader)".into(),
            )),
        }
    }

    fn classify(&self, e: etcd_client::Error) -> Failure {
        use tonic::Code;
        let fatal = match &e {
            etcd_client::Error::GRpcStatus(status) => {
                let msg = status.message();
                if msg.contains("no leader") {
                    return Failure::Retry(format!(
                        "{msg}: the cluster has no leader (it has lost quorum, or is electing one)"
                    ));
                }
                matches!(
                    status.code(),
                    Code::InvalidArgument
                        | Code::PermissionDenied
                        | Code::Unauthenticated
                        | Code::ResourceExhausted
                        | Code::FailedPrecondition
                        | Code::Unimplemented
                        | Code::NotFound
                        | Code::AlreadyExists
                )
            }
            etcd_client::Error::InvalidArgs(_) | etcd_client::Error::InvalidUri(_) => true,
            _ => false,
        };
        if fatal {
            Failure::Fatal(McsError::Etcd {
                url: self.url.to_string(),
                op: "answer",
                source: e,
            })
        } else {
            Failure::Retry(match &e {
                etcd_client::Error::GRpcStatus(s) => s.message().to_owned(),
                other => chain(other),
            })
        }
    }

    fn txn(&self, dl: Instant, txn: Txn) -> Result<TxnResponse, Failure> {
        self.call(dl, self.kv.clone().txn(txn))
    }

    fn stored(&self, kv: &KeyValue) -> Result<Stored, McsError> {
        serde_json::from_slice(kv.value()).map_err(|e| {
            self.corrupt(format!(
                "{} holds {:?}: {e}",
                String::from_utf8_lossy(kv.key()),
                String::from_utf8_lossy(kv.value())
            ))
        })
    }

    fn entry(&self, s: Stored) -> Result<Entry, McsError> {
        let level = s
            .level
            .parse::<CategoryPair>()
            .map_err(|e| self.corrupt(format!("owner {:?} holds {:?}: {e}", s.owner, s.level)))?
            .level();
        Ok(Entry {
            owner: s.owner,
            level,
            created: s.created,
            source: s.source,
        })
    }

    fn encode(&self, s: &Stored) -> Result<String, McsError> {
        serde_json::to_string(s).map_err(|e| self.corrupt(format!("cannot encode an entry: {e}")))
    }

    /// The pair a pair key names.
    fn pair_of_key(&self, key: &[u8]) -> Result<CategoryPair, McsError> {
        let number = key
            .strip_prefix(self.keys.pairs.as_bytes())
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(|n| n.parse::<u32>().ok());
        number.and_then(CategoryPair::from_key).ok_or_else(|| {
            self.corrupt(format!(
                "{} is not a pair key",
                String::from_utf8_lossy(key)
            ))
        })
    }

    /// Every key-value under `dir` at one revision, page by page.
    fn range_all(
        &self,
        dl: Instant,
        dir: &str,
        keys_only: bool,
    ) -> Result<(i64, Vec<KeyValue>), Failure> {
        let end = prefix_end(dir);
        let mut out = Vec::new();
        let mut from = dir.as_bytes().to_vec();
        let mut rev = 0;
        loop {
            let mut opts = GetOptions::new().with_range(end.clone()).with_limit(PAGE);
            if keys_only {
                opts = opts.with_keys_only();
            }
            if rev != 0 {
                opts = opts.with_revision(rev);
            }
            let resp = self.call(dl, self.kv.clone().get(from.clone(), Some(opts)))?;
            if rev == 0 {
                rev = resp.header().map_or(0, |h| h.revision());
            }
            let kvs = resp.kvs();
            out.extend_from_slice(kvs);
            match kvs.last() {
                Some(last) if resp.more() => {
                    from = last.key().to_vec();
                    from.push(0);
                }
                _ => return Ok((rev, out)),
            }
        }
    }

    /// Reloads the free set from every pair key.
    fn reload(&self, dl: Instant) -> Result<(), Failure> {
        let (rev, kvs) = self.range_all(dl, &self.keys.pairs, true)?;
        let mut taken = Vec::with_capacity(kvs.len());
        for kv in &kvs {
            taken.push(self.pair_of_key(kv.key())?);
        }
        let mut cache = self.cache.borrow_mut();
        cache.free.clear();
        for pair in taken {
            take(&mut cache.free, pair);
        }
        cache.rev = rev;
        cache.stale = false;
        cache.conflicts = 0;
        Ok(())
    }

    /// Loads the free set when it must be; says whether it did.
    fn fresh(&self, dl: Instant) -> Result<bool, Failure> {
        if self.cache.borrow().stale {
            self.reload(dl)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The compare every drawing transaction makes: no pair released since
    /// the free set was loaded.
    fn no_release_since_load(&self) -> Compare {
        let rev = self.cache.borrow().rev;
        Compare::mod_revision(self.keys.released.as_str(), CompareOp::Less, rev + 1)
    }

    /// The read of `P/released` a failed drawing transaction returns.
    fn released_probe(&self) -> TxnOp {
        TxnOp::get(
            self.keys.released.as_str(),
            Some(GetOptions::new().with_keys_only()),
        )
    }

    /// After a drawing transaction failed: reload before the next draw if
    /// a pair was released since the load (`probe` is what
    /// [`released_probe`](Self::released_probe) read), or after too many
    /// conflicts in a row.
    fn after_failure(&self, probe: Option<&Vec<KeyValue>>, conflict: bool) {
        let mut cache = self.cache.borrow_mut();
        let released = probe
            .and_then(|kvs| kvs.first())
            .is_some_and(|kv| kv.mod_revision() > cache.rev);
        if conflict {
            cache.conflicts += 1;
        }
        if released || cache.conflicts >= RELOAD_AFTER_CONFLICTS {
            cache.stale = true;
        }
    }

    /// A linearizable read (of `P/released`) before each write: it needs
    /// the leader to hear from a quorum, so without one it fails and the
    /// write is never sent (a write sent to a leader that has just lost its
    /// quorum would wait in its log, unanswered, and could apply once the
    /// cluster recovers). Notes a release since the load, too.
    fn confirm(&self, dl: Instant) -> Result<(), Failure> {
        let opts = GetOptions::new().with_keys_only();
        let resp = self.call(
            dl,
            self.kv.clone().get(self.keys.released.as_str(), Some(opts)),
        )?;
        self.after_failure(Some(&resp.kvs().to_vec()), false);
        Ok(())
    }

    fn succeeded(&self) {
        self.cache.borrow_mut().conflicts = 0;
    }

    fn give_back(&self, pair: CategoryPair) {
        give(&mut self.cache.borrow_mut().free, pair);
    }

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

    /// The entry under `key`, if any, with its stored form and revision.
    fn read_key(&self, dl: Instant, key: &str) -> Result<Option<(Stored, KeyValue)>, Failure> {
        let resp = self.call(dl, self.kv.clone().get(key, None))?;
        match resp.kvs().first() {
            Some(kv) => Ok(Some((self.stored(kv)?, kv.clone()))),
            None => Ok(None),
        }
    }

    pub(super) fn space(&self) -> PairSpace {
        self.cache.borrow().free.space().clone()
    }

    pub(super) fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub(super) fn available(&self) -> Result<usize, McsError> {
        self.retrying("count free pairs", |dl| {
            self.reload(dl)?;
            Ok(Step::Done(self.cache.borrow().free.available()))
        })
    }

    pub(super) fn allocate_for(&self, owner: &str) -> Result<Entry, McsError> {
        check_owner(owner)?;
        self.check_writable()?;
        self.check_pool()?;
        let (token, created) = (token(), now());
        let okey = self.keys.owner(owner);
        let mut loaded = false;
        self.retrying("allocate", |dl| {
            self.confirm(dl)?;
            loaded |= self.fresh(dl)?;
            let drawn = self.cache.borrow_mut().free.allocate();
            let pair = match drawn {
                Ok(pair) => pair,
                // Nothing free as far as a set loaded before this call
                // knows: load it now.
                Err(_) if !loaded => {
                    self.cache.borrow_mut().stale = true;
                    return Ok(Step::Again);
                }
                // The owner may hold a pair already, pool full or not.
                Err(exhausted) => {
                    return match self.read_key(dl, &okey)? {
                        Some((s, _)) => Ok(Step::Done(self.entry(s)?)),
                        None => Err(Failure::Fatal(exhausted)),
                    }
                }
            };
            let pkey = self.keys.pair(pair);
            let value = self.encode(&Stored {
                owner: owner.to_owned(),
                level: pair.to_string(),
                created,
                source: None,
                token: Some(token.clone()),
            })?;
            let txn = Txn::new()
                .when(vec![
                    absent(&okey),
                    absent(&pkey),
                    self.no_release_since_load(),
                ])
                .and_then(vec![
                    TxnOp::put(pkey.as_str(), value.as_str(), None),
                    TxnOp::put(okey.as_str(), value.as_str(), None),
                ])
                .or_else(vec![
                    TxnOp::get(okey.as_str(), None),
                    TxnOp::get(pkey.as_str(), None),
                    self.released_probe(),
                ]);
            let resp = match self.txn(dl, txn) {
                Ok(resp) => resp,
                Err(e) => {
                    // Applied or not: if it was, the owner's key says so
                    // on the next attempt, and a draw of this pair fails.
                    self.give_back(pair);
                    return Err(e);
                }
            };
            if resp.succeeded() {
                self.succeeded();
                return Ok(Step::Done(Entry {
                    owner: owner.to_owned(),
                    level: pair.level(),
                    created,
                    source: None,
                }));
            }
            let found = gets(&resp);
            let held_by_owner = found.first().and_then(|kvs| kvs.first());
            let pair_taken = found.get(1).is_some_and(|kvs| !kvs.is_empty());
            if !pair_taken {
                self.give_back(pair);
            }
            self.after_failure(found.get(2), pair_taken);
            match held_by_owner {
                // Idempotent: this owner's pair, whoever allocated it.
                Some(kv) => Ok(Step::Done(self.entry(self.stored(kv)?)?)),
                None => Ok(Step::Again),
            }
        })
    }

    pub(super) fn allocate_many<S: AsRef<str>>(
        &self,
        owners: &[S],
    ) -> Result<Vec<Entry>, McsError> {
        for owner in owners {
            check_owner(owner.as_ref())?;
        }
        self.check_writable()?;
        self.check_pool()?;
        let mut unique: Vec<&str> = Vec::new();
        for o in owners {
            if !unique.contains(&o.as_ref()) {
                unique.push(o.as_ref());
            }
        }
        if unique.len() > MAX_BATCH {
            return Err(McsError::BatchTooLarge {
                asked: unique.len(),
                max: MAX_BATCH,
            });
        }
        let (token, created) = (token(), now());
        let okeys: Vec<String> = unique.iter().map(|o| self.keys.owner(o)).collect();
        let mut loaded = false;
        let by_owner = self.retrying("allocate", |dl| {
            self.confirm(dl)?;
            loaded |= self.fresh(dl)?;
            let read = Txn::new().and_then(
                okeys
                    .iter()
                    .map(|k| TxnOp::get(k.as_str(), None))
                    .collect::<Vec<_>>(),
            );
            let held = gets(&self.txn(dl, read)?);
            let mut compares = Vec::new();
            let mut puts = Vec::new();
            let mut probes = Vec::new();
            let mut drawn = Vec::new();
            let mut result: Vec<Option<Entry>> = vec![None; unique.len()];
            let new: Vec<usize> = (0..unique.len())
                .filter(|&i| held.get(i).is_none_or(|kvs| kvs.is_empty()))
                .collect();
            if !loaded && new.len() > self.cache.borrow().free.available() {
                // A set loaded before this call may miss released pairs.
                self.cache.borrow_mut().stale = true;
                return Ok(Step::Again);
            }
            {
                let free = &self.cache.borrow().free;
                if new.len() > 1 && new.len() > free.available() {
                    return Err(Failure::Fatal(McsError::TooMany {
                        asked: new.len(),
                        free: free.available(),
                        capacity: free.capacity(),
                        pool: free.space().pool().to_string(),
                    }));
                }
            }
            for (i, kvs) in held.iter().enumerate() {
                if let Some(kv) = kvs.first() {
                    compares.push(Compare::mod_revision(
                        okeys[i].as_str(),
                        CompareOp::Equal,
                        kv.mod_revision(),
                    ));
                    result[i] = Some(self.entry(self.stored(kv)?)?);
                }
            }
            for &i in &new {
                let pair = match self.cache.borrow_mut().free.allocate() {
                    Ok(pair) => pair,
                    Err(e) => {
                        for p in drawn {
                            self.give_back(p);
                        }
                        return Err(Failure::Fatal(e));
                    }
                };
                drawn.push(pair);
                let pkey = self.keys.pair(pair);
                let value = self.encode(&Stored {
                    owner: unique[i].to_owned(),
                    level: pair.to_string(),
                    created,
                    source: None,
                    token: Some(token.clone()),
                })?;
                compares.push(absent(&okeys[i]));
                compares.push(absent(&pkey));
                puts.push(TxnOp::put(pkey.as_str(), value.as_str(), None));
                puts.push(TxnOp::put(okeys[i].as_str(), value, None));
                probes.push(TxnOp::get(pkey, None));
                result[i] = Some(Entry {
                    owner: unique[i].to_owned(),
                    level: pair.level(),
                    created,
                    source: None,
                });
            }
            compares.push(self.no_release_since_load());
            probes.push(self.released_probe());
            let txn = Txn::new().when(compares).and_then(puts).or_else(probes);
            let resp = match self.txn(dl, txn) {
                Ok(resp) => resp,
                Err(e) => {
                    for p in drawn {
                        self.give_back(p);
                    }
                    return Err(e);
                }
            };
            if resp.succeeded() {
                self.succeeded();
                return Ok(Step::Done(result));
            }
            let found = gets(&resp);
            let mut conflict = false;
            for (pair, kvs) in drawn.into_iter().zip(&found) {
                if kvs.is_empty() {
                    self.give_back(pair);
                } else {
                    conflict = true;
                }
            }
            self.after_failure(found.last(), conflict);
            Ok(Step::Again)
        })?;
        let mut out = Vec::with_capacity(owners.len());
        for o in owners {
            let i = unique.iter().position(|u| *u == o.as_ref()).unwrap_or(0);
            if let Some(e) = by_owner.get(i).cloned().flatten() {
                out.push(e);
            }
        }
        Ok(out)
    }

    pub(super) fn allocate_anonymous(&self, count: usize) -> Result<Vec<Entry>, McsError> {
        self.check_writable()?;
        self.check_pool()?;
        if count > MAX_BATCH {
            return Err(McsError::BatchTooLarge {
                asked: count,
                max: MAX_BATCH,
            });
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let (token, created) = (token(), now());
        // The pairs of an attempt whose answer was lost: tried again as
        // they are, so that a transaction applied unseen is found (by its
        // token) instead of leaking its pairs.
        let mut pending: Option<Vec<CategoryPair>> = None;
        let mut loaded = false;
        self.retrying("allocate", |dl| {
            let pairs = match pending.take() {
                Some(pairs) => pairs,
                None => {
                    self.confirm(dl)?;
                    loaded |= self.fresh(dl)?;
                    let mut cache = self.cache.borrow_mut();
                    if !loaded && count > cache.free.available() {
                        // A set loaded before this call may miss released pairs.
                        cache.stale = true;
                        return Ok(Step::Again);
                    }
                    let free = &mut cache.free;
                    if count > 1 && count > free.available() {
                        return Err(Failure::Fatal(McsError::TooMany {
                            asked: count,
                            free: free.available(),
                            capacity: free.capacity(),
                            pool: free.space().pool().to_string(),
                        }));
                    }
                    (0..count)
                        .map(|_| free.allocate())
                        .collect::<Result<Vec<_>, _>>()?
                }
            };
            let mut compares = Vec::new();
            let mut puts = Vec::new();
            let mut probes = Vec::new();
            let mut entries = Vec::new();
            for &pair in &pairs {
                let owner = format!("pair:{pair}");
                let (pkey, okey) = (self.keys.pair(pair), self.keys.owner(&owner));
                let value = self.encode(&Stored {
                    owner: owner.clone(),
                    level: pair.to_string(),
                    created,
                    source: None,
                    token: Some(token.clone()),
                })?;
                compares.push(absent(&okey));
                compares.push(absent(&pkey));
                puts.push(TxnOp::put(pkey.as_str(), value.as_str(), None));
                puts.push(TxnOp::put(okey, value, None));
                probes.push(TxnOp::get(pkey, None));
                entries.push(Entry {
                    owner,
                    level: pair.level(),
                    created,
                    source: None,
                });
            }
            compares.push(self.no_release_since_load());
            probes.push(self.released_probe());
            let txn = Txn::new().when(compares).and_then(puts).or_else(probes);
            let resp = match self.txn(dl, txn) {
                Ok(resp) => resp,
                Err(e) => {
                    pending = Some(pairs);
                    return Err(e);
                }
            };
            if resp.succeeded() {
                self.succeeded();
                return Ok(Step::Done(entries));
            }
            let mut found = gets(&resp);
            let probe = found.pop();
            let ours = |kvs: &Vec<KeyValue>| {
                kvs.first()
                    .and_then(|kv| self.stored(kv).ok())
                    .is_some_and(|s| s.token.as_deref() == Some(token.as_str()))
            };
            if !pairs.is_empty() && found.iter().all(ours) {
                // An earlier attempt of ours applied.
                return Ok(Step::Done(entries));
            }
            let mut conflict = false;
            for (pair, kvs) in pairs.into_iter().zip(&found) {
                if kvs.is_empty() {
                    self.give_back(pair);
                } else {
                    conflict = true;
                }
            }
            self.after_failure(probe.as_ref(), conflict);
            Ok(Step::Again)
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
        self.check_writable()?;
        let (token, created) = (token(), now());
        let made = self.retrying("reserve", |dl| {
            self.put_new(dl, pair, owner, None, created, &token)
        })?;
        match made {
            Ok(entry) => Ok(entry),
            // Idempotent for the same owner and pair.
            Err(Held {
                pair: Some(held), ..
            }) if held.owner == owner => Ok(held),
            Err(Held { pair: Some(by), .. }) => Err(McsError::Taken {
                level: pair.to_string(),
                owner: Some(by.owner),
            }),
            Err(Held {
                owner: Some(other), ..
            }) => Err(McsError::OwnerHoldsOther {
                owner: owner.to_owned(),
                level: other.level.to_string(),
            }),
            Err(Held { .. }) => Err(McsError::Taken {
                level: pair.to_string(),
                owner: None,
            }),
        }
    }

    /// One attempt at creating `pair` for `owner` where neither exists:
    /// the entry, or who holds the pair or the owner (an earlier attempt of
    /// ours, recognised by its token, counts as done).
    fn put_new(
        &self,
        dl: Instant,
        pair: CategoryPair,
        owner: &str,
        source: Option<&str>,
        created: i64,
        token: &str,
    ) -> Attempt<Result<Entry, Held>> {
        let (pkey, okey) = (self.keys.pair(pair), self.keys.owner(owner));
        let value = self.encode(&Stored {
            owner: owner.to_owned(),
            level: pair.to_string(),
            created,
            source: source.map(str::to_owned),
            token: Some(token.to_owned()),
        })?;
        let txn = Txn::new()
            .when(vec![absent(&pkey), absent(&okey)])
            .and_then(vec![
                TxnOp::put(pkey.as_str(), value.as_str(), None),
                TxnOp::put(okey.as_str(), value.as_str(), None),
            ])
            .or_else(vec![
                TxnOp::get(pkey.as_str(), None),
                TxnOp::get(okey.as_str(), None),
            ]);
        self.confirm(dl)?;
        let resp = self.txn(dl, txn)?;
        let entry = Entry {
            owner: owner.to_owned(),
            level: pair.level(),
            created,
            source: source.map(str::to_owned),
        };
        if resp.succeeded() {
            take(&mut self.cache.borrow_mut().free, pair);
            return Ok(Step::Done(Ok(entry)));
        }
        let found = gets(&resp);
        let read = |i: usize| -> Result<Option<Stored>, McsError> {
            match found.get(i).and_then(|kvs| kvs.first()) {
                Some(kv) => self.stored(kv).map(Some),
                None => Ok(None),
            }
        };
        let (by_pair, by_owner) = (read(0)?, read(1)?);
        if by_pair
            .as_ref()
            .is_some_and(|s| s.token.as_deref() == Some(token) && s.owner == owner)
        {
            return Ok(Step::Done(Ok(entry)));
        }
        if by_pair.is_none() && by_owner.is_none() {
            return Ok(Step::Again);
        }
        if by_pair.is_some() {
            take(&mut self.cache.borrow_mut().free, pair);
        }
        Ok(Step::Done(Err(Held {
            pair: by_pair.map(|s| self.entry(s)).transpose()?,
            owner: by_owner.map(|s| self.entry(s)).transpose()?,
        })))
    }

    pub(super) fn release_owner(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        let okey = self.keys.owner(owner);
        self.release(|dl| {
            let Some((s, kv)) = self.read_key(dl, &okey)? else {
                return Ok(None);
            };
            let pair = s
                .level
                .parse::<CategoryPair>()
                .map_err(|e| self.corrupt(format!("owner {owner:?} holds {:?}: {e}", s.level)))?;
            Ok(Some((s, kv, okey.clone(), self.keys.pair(pair))))
        })
    }

    pub(super) fn release_level(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pair = CategoryPair::try_from(level)?;
        let pkey = self.keys.pair(pair);
        self.release(|dl| {
            let Some((s, kv)) = self.read_key(dl, &pkey)? else {
                return Ok(None);
            };
            let okey = self.keys.owner(&s.owner);
            Ok(Some((s, kv, pkey.clone(), okey)))
        })
    }

    /// Deletes the entry `find` reads (the key it read, and the other key
    /// holding the same value), if neither changed meanwhile.
    #[allow(clippy::type_complexity)]
    fn release(
        &self,
        mut find: impl FnMut(Instant) -> Result<Option<(Stored, KeyValue, String, String)>, Failure>,
    ) -> Result<Option<Entry>, McsError> {
        self.check_writable()?;
        let token = token();
        // The entry a release whose answer was lost was deleting.
        let mut sent: Option<Entry> = None;
        self.retrying("release", |dl| {
            self.confirm(dl)?;
            let Some((s, kv, read_key, other_key)) = find(dl)? else {
                let Some(entry) = sent.take() else {
                    return Ok(Step::Done(None));
                };
                // Gone: by our lost release, if the marker holds our token.
                let mine = self
                    .call(dl, self.kv.clone().get(self.keys.released.as_str(), None))?
                    .kvs()
                    .first()
                    .is_some_and(|kv| kv.value() == token.as_bytes());
                return Ok(Step::Done(mine.then_some(entry)));
            };
            let entry = self.entry(s)?;
            let txn = Txn::new()
                .when(vec![
                    Compare::mod_revision(read_key.as_str(), CompareOp::Equal, kv.mod_revision()),
                    Compare::value(other_key.as_str(), CompareOp::Equal, kv.value().to_vec()),
                ])
                .and_then(vec![
                    TxnOp::delete(read_key, None),
                    TxnOp::delete(other_key, None),
                    TxnOp::put(self.keys.released.as_str(), token.as_str(), None),
                ]);
            let resp = match self.txn(dl, txn) {
                Ok(resp) => resp,
                Err(e) => {
                    sent = Some(entry);
                    return Err(e);
                }
            };
            if !resp.succeeded() {
                return Ok(Step::Again);
            }
            if let Ok(pair) = CategoryPair::try_from(&entry.level) {
                self.give_back(pair);
            }
            Ok(Step::Done(Some(entry)))
        })
    }

    pub(super) fn get(&self, owner: &str) -> Result<Option<Entry>, McsError> {
        let okey = self.keys.owner(owner);
        self.retrying("read", |dl| match self.read_key(dl, &okey)? {
            Some((s, _)) => Ok(Step::Done(Some(self.entry(s)?))),
            None => Ok(Step::Done(None)),
        })
    }

    pub(super) fn holder(&self, level: &Level) -> Result<Option<Entry>, McsError> {
        let pkey = self.keys.pair(CategoryPair::try_from(level)?);
        self.retrying("read", |dl| match self.read_key(dl, &pkey)? {
            Some((s, _)) => Ok(Step::Done(Some(self.entry(s)?))),
            None => Ok(Step::Done(None)),
        })
    }

    pub(super) fn list(&self) -> Result<Vec<Entry>, McsError> {
        let kvs = self.retrying("list", |dl| {
            Ok(Step::Done(self.range_all(dl, &self.keys.pairs, false)?.1))
        })?;
        let mut out = Vec::with_capacity(kvs.len());
        for kv in &kvs {
            out.push(self.entry(self.stored(kv)?)?);
        }
        out.sort_by(|a, b| (a.created, &a.owner).cmp(&(b.created, &b.owner)));
        Ok(out)
    }

    pub(super) fn len(&self) -> Result<usize, McsError> {
        self.retrying("count", |dl| {
            let opts = GetOptions::new().with_prefix().with_count_only();
            let resp = self.call(
                dl,
                self.kv.clone().get(self.keys.pairs.as_str(), Some(opts)),
            )?;
            Ok(Step::Done(resp.count() as usize))
        })
    }

    /// One transaction per pair found.
    pub(super) fn adopt_in_use(&self, in_use: &InUse) -> Result<Adoption, McsError> {
        let found = adopt::scan(in_use)?;
        self.check_writable()?;
        let created = now();
        let space = self.space();
        let mut report = found.report;
        for f in found.pairs {
            if space.is_reserved(&f.pair) {
                report.not_pairs += 1;
                continue;
            }
            let owner = format!("adopted:{}", f.where_);
            // One token per pair: a pair found twice is two attempts.
            let token = token();
            let made = self.retrying("adopt", |dl| {
                self.put_new(dl, f.pair, &owner, Some(&f.source), created, &token)
            })?;
            match made {
                Ok(entry) => report.adopted.push(entry),
                Err(_) => report.already_held += 1,
            }
        }
        Ok(report)
    }

    /// Every pair key and owner key parse, and match one to one.
    pub(super) fn check(&self) -> Result<(), McsError> {
        let (pairs, owners) = self.retrying("check", |dl| {
            let (_, pairs) = self.range_all(dl, &self.keys.pairs, false)?;
            let (_, owners) = self.range_all(dl, &self.keys.owners, false)?;
            Ok(Step::Done((pairs, owners)))
        })?;
        let mut by_owner = std::collections::HashMap::new();
        for kv in &owners {
            let s = self.stored(kv)?;
            let name = &kv.key()[self.keys.owners.len()..];
            if name != s.owner.as_bytes() {
                return Err(self.corrupt(format!(
                    "{} holds the entry of owner {:?}",
                    String::from_utf8_lossy(kv.key()),
                    s.owner
                )));
            }
            by_owner.insert(s.owner.clone(), kv.value().to_vec());
        }
        for kv in &pairs {
            let pair = self.pair_of_key(kv.key())?;
            let s = self.stored(kv)?;
            if s.level != pair.to_string() {
                return Err(self.corrupt(format!(
                    "{} is {pair} but holds {:?}",
                    String::from_utf8_lossy(kv.key()),
                    s.level
                )));
            }
            match by_owner.remove(&s.owner) {
                Some(v) if v == kv.value() => {}
                _ => {
                    return Err(self.corrupt(format!(
                        "{pair} is held by {:?}, whose owner key does not say so",
                        s.owner
                    )))
                }
            }
        }
        if let Some(owner) = by_owner.keys().next() {
            return Err(self.corrupt(format!("owner {owner:?} has a key but no pair key")));
        }
        Ok(())
    }
}

/// Who holds a pair or an owner that an attempt wanted.
struct Held {
    pair: Option<Entry>,
    owner: Option<Entry>,
}

fn take(free: &mut Allocator, pair: CategoryPair) {
    if let Some(rank) = free.space().rank(&pair) {
        free.take_rank(rank);
    }
}

fn give(free: &mut Allocator, pair: CategoryPair) {
    if let Some(rank) = free.space().rank(&pair) {
        if !free.space().is_reserved(&pair) {
            free.give_rank(rank);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_inside_a_tokio_runtime_is_an_error_not_a_panic() {
        let url = match "etcd://127.0.0.1:1/x".parse() {
            Ok(super::super::Location::Etcd(url)) => url,
            other => panic!("{other:?}"),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let e = rt
            .block_on(async {
                Etcd::open(
                    &url,
                    PairSpace::default(),
                    false,
                    Duration::from_millis(100),
                )
            })
            .expect_err("inside a runtime");
        assert!(e.to_string().contains("spawn_blocking"), "{e}");
    }

    #[test]
    fn prefix_ends_sort_after_every_key_of_the_prefix() {
        assert_eq!(prefix_end("/mcs/pairs/"), b"/mcs/pairs0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
    }
}
