//! `relabel alloc | reserve | release | list | adopt`: the MCS pair registry,
//! on a file (SQLite) or an etcd cluster (`--db etcd://...`).
//!
//! JSON shapes (stable):
//! - `alloc --json`: `[{"owner": "...", "level": "s0:cA,cB"}, ...]`
//! - `reserve --json`, `release --json`: `{"owner": "...", "level": "s0:cA,cB"}`
//! - `list --json`: `[{"owner": "...", "level": "s0:cA,cB", "created": UNIX_SECONDS}, ...]`
//! - `adopt --json`: `{"adopted": [{"owner", "level", "source"}, ...], "already_held": N,
//!   "not_pairs": N, "unreadable": N, "unlabeled": N}`

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use selinux_mcs::mcs::{
    Entry, InUse, Location, McsError, McsErrorKind, PairSpace, Registry, RegistryOptions,
};
use selinux_mcs::mls::{CategorySet, Level, Limits};

use crate::exit::{CliError, CmdResult, Exit};
use crate::out::{self, Escaped};

const DB_HELP: &str = "The registry: a database file (one host), or \
etcd://host:port[,host:port...][/prefix] (one registry for a cluster; port 2379 and \
prefix /selinux-mcs by default) [default: $SELINUX_MCS_DB, else \
/var/lib/selinux-mcs/mcs.db for root, else $XDG_STATE_HOME/selinux-mcs/mcs.db \
or ~/.local/state/selinux-mcs/mcs.db]";

const TIMEOUT_HELP: &str = "With etcd: how long to keep trying (unreachable members, \
leader elections) before exit 1, e.g. 500ms, 5s, 1m [default: 5s]";

/// The registry location and how long to wait for it, shared by every
/// registry command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbArg {
    #[arg(long, value_name = "PATH|URL", help = DB_HELP)]
    pub db: Option<OsString>,
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout, help = TIMEOUT_HELP)]
    pub timeout: Option<Duration>,
}

/// `500ms`, `5s`, `1.5s`, `2m`, or plain seconds (`5`); above zero, at most
/// a day.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let secs = number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && number.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .map(|n| n * scale)
        .ok_or_else(|| format!("{text:?} is not a duration (500ms, 5s, 1.5s, 2m)"))?;
    if !(0.001..=86_400.0).contains(&secs) {
        return Err(format!("{text:?} is out of range (1ms to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl DbArg {
    /// A `--db` given on the command line, else the default location.
    pub fn location(&self) -> Result<Location, CliError> {
        match &self.db {
            Some(text) => Location::parse(text),
            None => Registry::default_location(),
        }
        .map_err(mcs_error)
    }

    fn options(&self) -> RegistryOptions {
        let mut options = RegistryOptions::new();
        if let Some(t) = self.timeout {
            options.timeout(t);
        }
        options
    }

    fn open(&self, space: Option<PairSpace>) -> Result<Registry, CliError> {
        let location = self.location()?;
        if self.db.is_none() {
            create_parent(&location)?;
        }
        self.options()
            .space(space.unwrap_or_default())
            .open(&location)
            .map_err(mcs_error)
    }

    /// Opens the registry read-only: creates nothing; a missing file is
    /// "no registry at PATH" (exit 1).
    fn open_read_only(&self) -> Result<Registry, CliError> {
        self.read_only().map_err(mcs_error)
    }

    fn read_only(&self) -> Result<Registry, McsError> {
        let location = match &self.db {
            Some(text) => Location::parse(text)?,
            None => Registry::default_location()?,
        };
        self.options().read_only(true).open(&location)
    }
}

/// The default file's directory may not exist yet (an XDG state directory).
fn create_parent(location: &Location) -> Result<(), CliError> {
    if let Location::File(path) = location {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| {
                mcs_error(McsError::Io {
                    path: dir.to_path_buf(),
                    call: "mkdir",
                    source,
                })
            })?;
        }
    }
    Ok(())
}

/// The pair the registry holds for `owner`, if any, read without creating
/// or writing anything: `Ok(None)` when there is no registry or the owner
/// holds no pair (`relabel apply --dry-run --owner NAME`).
pub fn peek_owner_level(owner: &str, db: &DbArg) -> Result<Option<Level>, CliError> {
    let reg = match db.read_only() {
        Ok(reg) => reg,
        Err(McsError::NoRegistry { .. }) => return Ok(None),
        Err(e) => return Err(mcs_error(e)),
    };
    Ok(reg.get(owner).map_err(mcs_error)?.map(|e| e.level))
}

/// The pair the registry holds for `owner`, allocated on first use and the
/// same afterwards (`relabel apply --private --owner NAME`).
pub fn owner_level(owner: &str, db: &DbArg) -> Result<Level, CliError> {
    let reg = db.open(None)?;
    Ok(reg.allocate_for(owner).map_err(mcs_error)?.level)
}

/// Maps a library error to the exit status it deserves.
fn mcs_error(e: McsError) -> CliError {
    let exit = match e.kind() {
        McsErrorKind::Exhausted => Exit::Exhausted,
        McsErrorKind::Parse | McsErrorKind::Invalid => Exit::Usage,
        _ => Exit::Failed,
    };
    CliError {
        exit,
        message: e.to_string(),
    }
}

fn parse_level(text: &str) -> Result<Level, CliError> {
    Level::parse_with(text, &Limits::MCS)
        .map_err(|e| CliError::usage(format!("bad level {text:?}: {e}")))
}

fn parse_categories(what: &str, text: &str) -> Result<CategorySet, CliError> {
    text.parse()
        .map_err(|e| CliError::usage(format!("bad {what} {text:?}: {e}")))
}

/// `{"owner", "level"}`, in that order (a struct keeps its field order;
/// `json!` would sort the keys).
#[derive(serde::Serialize)]
struct Owned<'a> {
    owner: &'a str,
    level: String,
}

/// `{"owner", "level", "created"}`.
#[derive(serde::Serialize)]
struct Listed<'a> {
    owner: &'a str,
    level: String,
    created: i64,
}

fn owned(e: &Entry) -> Owned<'_> {
    Owned {
        owner: &e.owner,
        level: e.level.to_string(),
    }
}

fn print_json(doc: &impl serde::Serialize) -> Result<(), CliError> {
    out::json(doc)
}

/// Arguments of `relabel alloc`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  relabel alloc --owner volume:pgdata\n  \
relabel alloc --count 3 --pool c0.c511 --json\n  \
relabel alloc --owner volume:pgdata --db etcd://10.0.0.1:2379,10.0.0.2:2379/mcs\n\n\
Prints one level a line (s0:cA,cB); with --json one array of {\"owner\", \"level\"}. \
Exit status 3 when the pool is exhausted; 1 when etcd does not answer within --timeout \
(nothing printed: run it again; an --owner gets the same pair). On etcd --count is at most 63.\n\
Writes: the registry (one row, or one pair key and one owner key, per pair).")]
pub struct AllocArgs {
    /// Who the pair is for (a volume, container or pod). An owner that already
    /// holds a pair gets that pair back. Without it each pair owns itself
    /// (owner `pair:<level>`).
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// How many pairs to allocate, in one transaction: all or none.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// The categories to draw from, e.g. c0.c511 [default: c0.c1023; s0:c1022,c1023 is never
    /// handed out].
    #[arg(long, value_name = "CATEGORIES")]
    pub pool: Option<String>,
    /// Categories to leave out of the pool, e.g. c0.c9.
    #[arg(long, value_name = "CATEGORIES")]
    pub exclude: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
    /// Print one JSON array of {"owner", "level"} objects.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel alloc`.
pub fn alloc(args: AllocArgs) -> CmdResult {
    if args.owner.is_some() && args.count > 1 {
        return Err(CliError::usage(
            "--owner with --count above 1: an owner holds one pair (allocate one per owner)",
        ));
    }
    let space = if args.pool.is_some() || args.exclude.is_some() {
        let mut pool = match &args.pool {
            Some(text) => parse_categories("pool", text)?,
            None => "c0.c1023".parse().map_err(CliError::usage)?,
        };
        if let Some(text) = &args.exclude {
            pool = pool.difference(&parse_categories("--exclude list", text)?);
        }
        Some(PairSpace::new(pool).map_err(mcs_error)?)
    } else {
        None
    };
    let reg = args.db.open(space)?;
    let entries = match &args.owner {
        Some(owner) => vec![reg.allocate_for(owner).map_err(mcs_error)?],
        None => reg
            .allocate_anonymous(args.count as usize)
            .map_err(mcs_error)?,
    };
    if args.json {
        print_json(&entries.iter().map(owned).collect::<Vec<_>>())?;
    } else {
        for e in &entries {
            outln!("{}", e.level);
        }
    }
    Ok(Exit::Success)
}

/// Arguments of `relabel reserve`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Example:\n  relabel reserve s0:c1,c2 --owner container:web\n\n\
Only pairs (s0 and exactly two categories) can be reserved.\n\
Writes: the registry database."
)]
pub struct ReserveArgs {
    /// The level in use, e.g. s0:c1,c2.
    pub level: String,
    /// Who holds it.
    #[arg(long, value_name = "NAME")]
    pub owner: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Print one JSON object {"owner", "level"}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel reserve`.
pub fn reserve(args: ReserveArgs) -> CmdResult {
    let level = parse_level(&args.level)?;
    let reg = args.db.open(None)?;
    let entry = reg.reserve(&level, &args.owner).map_err(mcs_error)?;
    if args.json {
        print_json(&owned(&entry))?;
    } else {
        outln!("{}", entry.level);
    }
    Ok(Exit::Success)
}

/// Arguments of `relabel release`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["owner", "level"])))]
#[command(after_help = "Examples:\n  relabel release --owner volume:pgdata\n  \
relabel release s0:c1,c2\n\nExit status 1 when nothing was held or there is no registry.\n\
Writes: the registry database (removes the row); nothing when nothing was held.")]
pub struct ReleaseArgs {
    /// Release this level, whoever holds it.
    pub level: Option<String>,
    /// Release this owner's pair.
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    #[command(flatten)]
    pub db: DbArg,
    /// Print one JSON object {"owner", "level"}: what was released.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel release`.
pub fn release(args: ReleaseArgs) -> CmdResult {
    let level = args.level.as_deref().map(parse_level).transpose()?;
    // Look first, read-only: nothing held (or no registry) writes nothing.
    let held = {
        let reg = args.db.open_read_only()?;
        match (&args.owner, &level) {
            (Some(owner), _) => reg.get(owner),
            (None, Some(level)) => reg.holder(level),
            (None, None) => Ok(None),
        }
        .map_err(mcs_error)?
    };
    if held.is_none() {
        return Err(match (&args.owner, &level) {
            (Some(owner), _) => CliError::failed(format!("owner {owner:?} holds no pair")),
            (None, Some(level)) => CliError::failed(format!("nobody holds {level}")),
            (None, None) => CliError::usage("give --owner NAME or a LEVEL"),
        });
    }
    let reg = args.db.open(None)?;
    let released = match (&args.owner, &level) {
        (Some(owner), _) => reg
            .release_owner(owner)
            .map_err(mcs_error)?
            .ok_or_else(|| CliError::failed(format!("owner {owner:?} holds no pair")))?,
        (None, Some(level)) => reg
            .release_level(level)
            .map_err(mcs_error)?
            .ok_or_else(|| CliError::failed(format!("nobody holds {level}")))?,
        (None, None) => return Err(CliError::usage("give --owner NAME or a LEVEL")),
    };
    if args.json {
        print_json(&owned(&released))?;
    } else {
        outln!(
            "released {} (owner {})",
            released.level,
            Escaped::str(&released.owner)
        );
    }
    Ok(Exit::Success)
}

/// Arguments of `relabel list`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Prints owner, level and creation time (UTC), tab-separated; \
with --json one array of {\"owner\", \"level\", \"created\"} (Unix seconds).\n\
Writes: nothing.\n\n\
Example:\n  relabel list --json --db /var/lib/selinux-mcs/mcs.db"
)]
pub struct ListArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Print one JSON array of {"owner", "level", "created"} objects.
    #[arg(long)]
    pub json: bool,
}

/// Runs `relabel list`.
pub fn list(args: ListArgs) -> CmdResult {
    let reg = args.db.open_read_only()?;
    let entries = reg.list().map_err(mcs_error)?;
    if args.json {
        let doc: Vec<Listed<'_>> = entries
            .iter()
            .map(|e| Listed {
                owner: &e.owner,
                level: e.level.to_string(),
                created: e.created,
            })
            .collect();
        print_json(&doc)?;
    } else {
        for e in &entries {
            outln!(
                "{}\t{}\t{}",
                Escaped::str(&e.owner),
                e.level,
                utc(e.created)
            );
        }
    }
    Ok(Exit::Success)
}

/// Arguments of `relabel adopt`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  relabel adopt\n  \
relabel adopt /var/lib/containers/storage/volumes/* --db etcd://10.0.0.1:2379/mcs\n\n\
Run it once on each host when a registry starts on live hosts, so that it never hands out \
a pair that running containers or labeled volumes already use. Each pair found is recorded \
under the owner adopted:<where> (the /proc/PID directory or the PATH); pairs already held, \
levels that are not pairs (s0, ranges, the reserved s0:c1022,c1023) and unreadable labels are \
counted, not recorded. Running it again records only what is new.\n\
Prints each pair recorded, then the counts; with --json one object \
{\"adopted\": [{\"owner\", \"level\", \"source\"}], \"already_held\", \"not_pairs\", \
\"unreadable\", \"unlabeled\"}.\n\
Writes: the registry (one entry per pair recorded).")]
pub struct AdoptArgs {
    /// Directories (or files) whose own label is in use, such as volume and
    /// container storage; their trees are not walked, links not followed.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read running processes' labels under DIR/<pid>/attr/current instead
    /// of /proc.
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc")]
    pub proc_root: PathBuf,
    /// Only the PATHs: no process labels.
    #[arg(long)]
    pub no_processes: bool,
    #[command(flatten)]
    pub db: DbArg,
    /// Print one JSON object (see below).
    #[arg(long)]
    pub json: bool,
}

/// `{"owner", "level", "source"}` of an adopted entry.
#[derive(serde::Serialize)]
struct Adopted<'a> {
    owner: &'a str,
    level: String,
    source: Option<&'a str>,
}

/// The JSON of `relabel adopt`.
#[derive(serde::Serialize)]
struct AdoptReport<'a> {
    adopted: Vec<Adopted<'a>>,
    already_held: usize,
    not_pairs: usize,
    unreadable: usize,
    unlabeled: usize,
}

/// Runs `relabel adopt`.
pub fn adopt(args: AdoptArgs) -> CmdResult {
    let mut in_use = InUse::new();
    if !args.no_processes {
        in_use.processes(&args.proc_root);
    }
    for p in &args.paths {
        in_use.directory(p);
    }
    let reg = args.db.open(None)?;
    let report = reg.adopt_in_use(&in_use).map_err(mcs_error)?;
    if args.json {
        print_json(&AdoptReport {
            adopted: report
                .adopted
                .iter()
                .map(|e| Adopted {
                    owner: &e.owner,
                    level: e.level.to_string(),
                    source: e.source.as_deref(),
                })
                .collect(),
            already_held: report.already_held,
            not_pairs: report.not_pairs,
            unreadable: report.unreadable,
            unlabeled: report.unlabeled,
        })?;
    } else {
        for e in &report.adopted {
            outln!(
                "adopted {} for {} (from {})",
                e.level,
                Escaped::str(&e.owner),
                Escaped::str(e.source.as_deref().unwrap_or("?"))
            );
        }
        outln!(
            "{} adopted, {} already held, {} not pairs, {} unreadable, {} unlabeled",
            report.adopted.len(),
            report.already_held,
            report.not_pairs,
            report.unreadable,
            report.unlabeled
        );
    }
    Ok(Exit::Success)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds (the proleptic Gregorian
/// calendar; days to civil date as in Howard Hinnant's `civil_from_days`).
fn utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{parse_timeout, peek_owner_level, utc, DbArg, Exit, Registry};
    use std::time::Duration;

    #[test]
    fn timeouts_parse_with_units() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_timeout("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("7"), Ok(Duration::from_secs(7)));
        for bad in ["", "s", "-1s", "0", "5h", "1e3", "inf", "25h", "100000"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    fn db(path: &std::path::Path) -> DbArg {
        DbArg {
            db: Some(path.into()),
            timeout: None,
        }
    }

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_764_427_199), "2025-11-29T14:39:59Z");
    }

    #[test]
    fn peek_owner_level_reads_and_never_creates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("mcs.db");
        assert_eq!(
            peek_owner_level("vol", &self::db(&db)).expect("missing"),
            None
        );
        assert!(std::fs::read_dir(dir.path()).expect("ls").next().is_none());

        let level = Registry::open(&db)
            .and_then(|r| r.allocate_for("vol"))
            .expect("allocate")
            .level;
        std::fs::remove_file(dir.path().join("mcs.db-lock")).expect("rm lock");
        assert_eq!(
            peek_owner_level("vol", &self::db(&db)).expect("held"),
            Some(level)
        );
        assert_eq!(
            peek_owner_level("other", &self::db(&db)).expect("not held"),
            None
        );
        assert!(!dir.path().join("mcs.db-lock").exists());

        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, "").expect("write");
        let e = peek_owner_level("vol", &self::db(&empty)).expect_err("empty file");
        assert_eq!(e.exit, Exit::Failed);
        assert_eq!(std::fs::read(&empty).expect("read"), b"");
    }
}
