//! `setrans.conf`: mcstrans' table of human-readable names for levels and
//! ranges.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{read_policy_file, PolicyError, STRING_SOURCE};
use crate::mls::{Level, MlsRange};
use crate::SecurityContext;

/// How deep `Include=` may nest before the file is taken to include itself.
const MAX_INCLUDE_DEPTH: usize = 8;

/// The translations of a `setrans.conf` (mcstrans): `raw=Translated` lines,
/// `#` comments, `Include=FILE` (a glob in the last component is expanded,
/// sorted, as mcstrans' `glob` does; a relative path is taken from the
/// including file's directory).
///
/// Keys are parsed and matched by their canonical form, so `s0:c1,c0` and
/// `s0:c0,c1` are one key. A range with no entry of its own is translated
/// half by half (`s0-s0:c0.c1023` with entries for `s0` and `s0:c0.c1023`
/// prints `SystemLow-SystemHigh`). What mcstrans has beyond plain entries
/// (`Base=`, `ModifierGroup=`, `Default=`, constraints, a second `Domain=`)
/// is refused with an error naming the line.
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::policy::Translations;
/// use selinux_mcs::mls::MlsRange;
/// let t = Translations::from_str(
///     "# MCS translations\n\
///      s0=SystemLow\n\
///      s0-s0:c0.c1023=SystemLow-SystemHigh\n\
///      s0:c0.c1023=SystemHigh\n\
///      s0:c1=Finance\n",
/// )?;
/// let range: MlsRange = "s0-s0:c0.c1023".parse().unwrap();
/// assert_eq!(t.translate(&range), "SystemLow-SystemHigh");
/// // No entry for the range: each half.
/// assert_eq!(t.translate(&"s0-s0:c1".parse().unwrap()), "SystemLow-Finance");
/// // No entry at all: the raw text.
/// assert_eq!(t.translate(&"s0:c7".parse().unwrap()), "s0:c7");
/// assert_eq!(t.untranslate("SystemLow-Finance").unwrap().to_string(), "s0-s0:c1");
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[doc(alias = "selinux_raw_to_trans_context")]
#[doc(alias = "mcstrans")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Translations {
    to_name: HashMap<MlsRange, String>,
    to_raw: HashMap<String, MlsRange>,
    domain: Option<String>,
    sources: Vec<PathBuf>,
}

struct Origin {
    path: PathBuf,
    line: usize,
}

impl Translations {
    /// The system's file, under the policy directory: `<policy>/setrans.conf`.
    pub const FILE_NAME: &'static str = "setrans.conf";

    /// Parses a setrans.conf and the files it includes.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Translations, PolicyError> {
        let mut t = Translations::default();
        let mut origins = HashMap::new();
        t.load(path.as_ref(), 0, &mut origins)?;
        Ok(t)
    }

    fn load(
        &mut self,
        path: &Path,
        depth: usize,
        origins: &mut HashMap<String, Origin>,
    ) -> Result<(), PolicyError> {
        let text = read_policy_file(path)?;
        self.sources.push(path.to_path_buf());
        self.parse(&text, path, Some(depth), origins)
    }

    fn parse(
        &mut self,
        text: &str,
        path: &Path,
        depth: Option<usize>,
        origins: &mut HashMap<String, Origin>,
    ) -> Result<(), PolicyError> {
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let syntax = |message: String| PolicyError::Syntax {
                path: path.to_path_buf(),
                line,
                text: raw.to_owned(),
                message,
            };
            let unsupported = |message: String| PolicyError::Unsupported {
                path: path.to_path_buf(),
                line,
                text: raw.to_owned(),
                message,
            };
            // mcstrans: '#' starts a comment anywhere on the line.
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let Some(at) = content.find(['=', '!', '>']) else {
                return Err(syntax("expected raw=Translated".into()));
            };
            let key = content[..at].trim();
            let value = content[at + 1..].trim();
            if key.is_empty() || value.is_empty() {
                return Err(syntax(
                    "expected raw=Translated with both sides non-empty".into(),
                ));
            }
            if content.as_bytes()[at] != b'=' {
                return Err(unsupported(
                    "mcstrans constraints (`!` and `>` lines) are not supported".into(),
                ));
            }
            match key {
                "Domain" => {
                    if let Some(first) = &self.domain {
                        if first != value {
                            return Err(unsupported(format!(
                                "a second translation domain {value:?} (the first was {first:?}): only one domain is supported"
                            )));
                        }
                    }
                    self.domain = Some(value.to_owned());
                    continue;
                }
                "Include" => {
                    let Some(depth) = depth else {
                        return Err(unsupported(
                            "Include in text that was not read from a file".into(),
                        ));
                    };
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(syntax(format!(
                            "Include nested more than {MAX_INCLUDE_DEPTH} deep (does a file include itself?)"
                        )));
                    }
                    let base = path.parent().unwrap_or(Path::new("."));
                    for file in expand_include(base, value).map_err(syntax)? {
                        self.load(&file, depth + 1, origins)?;
                    }
                    continue;
                }
                "Base" | "ModifierGroup" | "Whitespace" | "Join" | "Prefix" | "Suffix"
                | "Default" | "Table" => {
                    return Err(unsupported(format!(
                        "mcstrans `{key}=` (category word groups) is not supported; only raw=Translated entries are"
                    )));
                }
                _ => {}
            }
            let range: MlsRange = key.parse().map_err(|e| {
                syntax(format!(
                    "{key:?} is neither a level, a range nor a known keyword: {e}"
                ))
            })?;
            if value.contains(':') {
                return Err(syntax(format!(
                    "translated name {value:?} holds ':', which would split a context"
                )));
            }
            let raw_key = format!("raw:{range}");
            let name_key = format!("name:{value}");
            let at = |k: &str| {
                origins
                    .get(k)
                    .map(|o: &Origin| format!("{}:{}", o.path.display(), o.line))
                    .unwrap_or_default()
            };
            if let Some(prev) = self.to_name.get(&range) {
                if prev != value {
                    return Err(syntax(format!(
                        "{range} is already translated as {prev:?} at {}",
                        at(&raw_key)
                    )));
                }
            }
            if let Some(prev) = self.to_raw.get(value) {
                if *prev != range {
                    return Err(syntax(format!(
                        "{value:?} already stands for {prev} at {}",
                        at(&name_key)
                    )));
                }
            }
            for k in [raw_key, name_key] {
                origins.entry(k).or_insert_with(|| Origin {
                    path: path.to_path_buf(),
                    line,
                });
            }
            self.to_name.insert(range, value.to_owned());
            self.to_raw.insert(value.to_owned(), range);
        }
        Ok(())
    }

    /// The translated name of `range`: its own entry, else each half's
    /// (`LOW-HIGH`, a half without an entry printed raw); `None` when
    /// nothing in it has a name.
    pub fn translation(&self, range: &MlsRange) -> Option<String> {
        if let Some(name) = self.to_name.get(range) {
            return Some(name.clone());
        }
        if range.is_single() {
            return None;
        }
        let low = self.level_name(range.low());
        let high = self.level_name(range.high());
        if low.is_none() && high.is_none() {
            return None;
        }
        Some(format!(
            "{}-{}",
            low.map_or_else(|| range.low().to_string(), str::to_owned),
            high.map_or_else(|| range.high().to_string(), str::to_owned)
        ))
    }

    /// The translated text of `range`, the raw canonical text where there is
    /// no entry (what `selinux_raw_to_trans_context` prints).
    pub fn translate(&self, range: &MlsRange) -> String {
        self.translation(range).unwrap_or_else(|| range.to_string())
    }

    /// `context` with its range translated (`system_u:object_r:etc_t:SystemLow`).
    pub fn translate_context(&self, context: &SecurityContext) -> String {
        match context.range() {
            None => context.to_string(),
            Some(range) => format!(
                "{}:{}:{}:{}",
                context.user(),
                context.role(),
                context.type_(),
                self.translate(range)
            ),
        }
    }

    /// The range a translated (or raw) text stands for: a whole entry, a raw
    /// range, or `LOW-HIGH` where each half is a name or a raw level. `None`
    /// when it is none of these.
    #[doc(alias = "selinux_trans_to_raw_context")]
    pub fn untranslate(&self, text: &str) -> Option<MlsRange> {
        let text = text.trim();
        if let Some(range) = self.to_raw.get(text) {
            return Some(*range);
        }
        if let Ok(range) = text.parse::<MlsRange>() {
            return Some(range);
        }
        // Names may hold '-': try every split.
        text.match_indices('-').find_map(|(at, _)| {
            let low = self.level_of(&text[..at])?;
            let high = self.level_of(&text[at + 1..])?;
            MlsRange::new(low, high).ok()
        })
    }

    fn level_name(&self, level: &Level) -> Option<&str> {
        self.to_name
            .get(&MlsRange::single(*level))
            .map(String::as_str)
    }

    fn level_of(&self, text: &str) -> Option<Level> {
        if let Some(range) = self.to_raw.get(text) {
            return range.is_single().then(|| *range.low());
        }
        text.parse::<Level>().ok()
    }

    /// Every entry: raw range and name, sorted by raw range.
    pub fn entries(&self) -> Vec<(MlsRange, &str)> {
        let mut v: Vec<_> = self.to_name.iter().map(|(r, n)| (*r, n.as_str())).collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.to_name.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.to_name.is_empty()
    }

    /// The files read, in order.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }
}

/// `Include=` target: a path, or a glob (`*`, `?`) in its last component.
fn expand_include(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = base.join(pattern);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(format!("Include={pattern}: not a file name"));
    };
    if !name.contains(['*', '?']) {
        return Ok(vec![path]);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    if dir.to_string_lossy().contains(['*', '?']) {
        return Err(format!(
            "Include={pattern}: a wildcard is supported in the last component only"
        ));
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("Include={pattern}: {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| !n.starts_with('.') && glob_match(name.as_bytes(), n.as_bytes()))
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    Ok(found)
}

/// Shell-style match of `*` and `?`.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_match(rest, &name[i..])),
        Some((b'?', rest)) => !name.is_empty() && glob_match(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob_match(rest, &name[1..]),
    }
}

impl std::str::FromStr for Translations {
    type Err = PolicyError;

    /// Parses setrans.conf text. `Include=` is refused: there is no file to
    /// resolve it from.
    fn from_str(text: &str) -> Result<Translations, PolicyError> {
        let mut t = Translations::default();
        let mut origins = HashMap::new();
        t.parse(text, Path::new(STRING_SOURCE), None, &mut origins)?;
        Ok(t)
    }
}
