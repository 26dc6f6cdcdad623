//! `file_contexts`: the rules that give each path its default label
//! (libselinux's `selabel_lookup` on a `SELABEL_CTX_FILE` handle,
//! `matchpathcon`).
//!
//! The exact semantics are documented on [`FileContexts`].

use std::borrow::Cow;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::read::human_size;
use super::{read_optional_policy_file, read_policy_file, PolicyError, STRING_SOURCE};
use crate::{FileKind, SecurityContext};

/// The context text that means "do not label".
pub const NO_LABEL: &str = "<<none>>";

/// One line of a file_contexts file: `REGEX [TYPE] CONTEXT`.
///
/// ```
/// use selinux_mcs::policy::FileContexts;
/// use selinux_mcs::FileKind;
/// let fc = FileContexts::from_str("/etc/shadow.* -- system_u:object_r:shadow_t:s0\n")?;
/// let rule = fc.lookup_rule("/etc/shadow-", Some(FileKind::File)).unwrap();
/// assert_eq!(rule.regex(), "/etc/shadow.*");
/// assert_eq!(rule.file_kind(), Some(FileKind::File));
/// assert_eq!(rule.line(), 1);
/// assert_eq!(rule.to_string(), "/etc/shadow.*\t--\tsystem_u:object_r:shadow_t:s0");
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Rule {
    regex: Box<str>,
    kind: Option<FileKind>,
    context: Option<SecurityContext>,
    source: Arc<Path>,
    line: usize,
    /// No metacharacter: the rule beats every regex.
    exact: bool,
    /// libselinux's stem: the regex text up to the second `/`, when that
    /// holds no metacharacter. Compared as raw text, as libselinux does.
    stem: Option<Box<[u8]>>,
    /// The literal text every matching subject (path after the stem)
    /// starts with.
    literal: Box<[u8]>,
    tail: Tail,
}

/// How the part of a rule after its literal prefix is matched.
#[derive(Clone)]
enum Tail {
    /// Nothing: the subject is the literal (or the literal and a newline).
    End,
    /// `(/.*)?`: the path itself or anything under it.
    OptSubtree,
    /// `/.*`: anything under it.
    Subtree,
    /// `.*`: anything.
    Any,
    /// `(/[^/]*)?`: the path itself or a direct child.
    OptChild,
    /// `/[^/]*`: a direct child.
    Child,
    /// `[^/]*`: the rest of a name.
    NameRest,
    /// `[^/]+`: the rest of a name, not empty.
    NonEmptyNameRest,
    /// Anything else: the whole anchored regex, compiled at load when it
    /// could fail to compile, else on first use (see `anchored`).
    Regex {
        pattern: Box<str>,
        compiled: OnceLock<regex::bytes::Regex>,
    },
}

impl fmt::Debug for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tail::End => f.write_str("End"),
            Tail::OptSubtree => f.write_str("OptSubtree"),
            Tail::Subtree => f.write_str("Subtree"),
            Tail::Any => f.write_str("Any"),
            Tail::OptChild => f.write_str("OptChild"),
            Tail::Child => f.write_str("Child"),
            Tail::NameRest => f.write_str("NameRest"),
            Tail::NonEmptyNameRest => f.write_str("NonEmptyNameRest"),
            Tail::Regex { pattern, .. } => write!(f, "Regex({pattern:?})"),
        }
    }
}

impl Rule {
    /// The regex as written.
    pub fn regex(&self) -> &str {
        &self.regex
    }

    /// The file kind the rule is restricted to (`--`, `-d`, ...), if any.
    pub fn file_kind(&self) -> Option<FileKind> {
        self.kind
    }

    /// The context, or `None` for `<<none>>` ("do not label").
    pub fn context(&self) -> Option<&SecurityContext> {
        self.context.as_ref()
    }

    /// The file the rule came from (`<string>` for text).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The 1-based line number in [`source`](Self::source).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Whether the regex has no metacharacter, which makes the rule beat
    /// every rule that has one.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    fn kind_applies(&self, kind: Option<FileKind>) -> bool {
        match (self.kind, kind) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        }
    }

    /// Whether the rule matches `key`, whose stem (libselinux's
    /// `get_stem_from_file_name`) is `file_stem`.
    fn matches(&self, key: &[u8], file_stem: Option<&[u8]>) -> bool {
        let subject = match &self.stem {
            None => key,
            Some(stem) => match file_stem {
                Some(fs) if fs == &stem[..] => &key[fs.len()..],
                _ => return false,
            },
        };
        if let Tail::Regex { pattern, compiled } = &self.tail {
            let re = compiled.get_or_init(|| {
                compile(pattern).unwrap_or_else(|e| {
                    unreachable!("{pattern:?} was found sure to compile at load, but: {e}")
                })
            });
            return re.is_match(subject);
        }
        let Some(rest) = subject.strip_prefix(&self.literal[..]) else {
            return false;
        };
        let optional_end = rest.is_empty() || rest == b"\n";
        match self.tail {
            Tail::End => optional_end,
            Tail::OptSubtree => optional_end || rest[0] == b'/',
            Tail::Subtree => rest.first() == Some(&b'/'),
            Tail::Any => true,
            Tail::OptChild => optional_end || is_child(rest),
            Tail::Child => is_child(rest),
            Tail::NameRest => !rest.contains(&b'/'),
            Tail::NonEmptyNameRest => !rest.is_empty() && !rest.contains(&b'/'),
            Tail::Regex { .. } => false,
        }
    }
}

/// `/[^/]*`: a slash and then no slash.
fn is_child(rest: &[u8]) -> bool {
    rest.first() == Some(&b'/') && !rest[1..].contains(&b'/')
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.regex)?;
        if let Some(kind) = self.kind {
            write!(f, "\t{}", kind.rule_flag())?;
        }
        match &self.context {
            Some(ctx) => write!(f, "\t{ctx}"),
            None => write!(f, "\t{NO_LABEL}"),
        }
    }
}

/// A path alias from `file_contexts.subs_dist` or `file_contexts.subs`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Substitution {
    from: Box<[u8]>,
    to: Box<[u8]>,
}

impl Substitution {
    /// libselinux's `selabel_sub`: `from` on a `/` boundary becomes `to`.
    fn apply(&self, key: &[u8]) -> Option<Vec<u8>> {
        let rest = key.strip_prefix(&self.from[..])?;
        if !(rest.is_empty() || rest[0] == b'/') {
            return None;
        }
        // `/foo /` must not give `//x` for `/foo/x`.
        let rest = if &self.to[..] == b"/" && !rest.is_empty() {
            &rest[1..]
        } else {
            rest
        };
        let mut out = Vec::with_capacity(self.to.len() + rest.len());
        out.extend_from_slice(&self.to);
        out.extend_from_slice(rest);
        Some(out)
    }
}

/// Loaded file_contexts rules and path substitutions, answering "which
/// label should this path have?".
///
/// # What a lookup does, exactly
///
/// This follows libselinux 3.4 (`label_file.c`, `label_file.h`):
///
/// 1. Runs of `/` in the path are collapsed (`//usr///bin` is `/usr/bin`).
/// 2. Substitutions: the first matching line of `file_contexts.subs` (the last
///    line of the file is tried first), then the first matching line of
///    `file_contexts.subs_dist` on the result. A line `SRC DST` matches when
///    the path is `SRC` or starts with `SRC/`: `/var/run /run` turns
///    `/var/run/x` into `/run/x` but leaves `/var/running` alone.
/// 3. Rules are `REGEX [TYPE] CONTEXT` from `file_contexts`, then
///    `file_contexts.homedirs`, then `file_contexts.local`, in that order.
///    A rule applies when its TYPE (if any) is the file's kind; a lookup
///    with no kind lets every rule apply.
/// 4. A rule whose regex has no metacharacter (`.^$?*+|[({`, a character
///    after `\` not counting) beats every rule that has one. Within each
///    class the last matching rule in file order wins.
/// 5. Regexes are anchored as libselinux anchors them: `^` + REGEX + `$`
///    (so a top-level `a|b` is `^a` or `b$`), with PCRE's `DOTALL` (`.`
///    matches a newline) on bytes, and `$` also matching before a final
///    newline.
/// 6. A winning rule whose context is `<<none>>` means "do not label":
///    [`FileContexts::lookup`] returns `None`, as `selabel_lookup` fails with
///    `ENOENT`.
///
/// libselinux also splits each regex at its "stem" (the first path
/// component, when it holds no metacharacter) and only tries a rule on a
/// path with the same first component; this is kept, because it changes the
/// result in corner cases (`/usr/?` never matches `/usr`).
///
/// # How lookups are fast
///
/// Every rule has a literal prefix (its stem and the literal text of its
/// regex up to the first metacharacter). The prefixes form a byte trie; each
/// trie node that ends a prefix holds, precomputed, every rule whose prefix
/// is a prefix of it, best first. A lookup walks the path down the trie once
/// and tries only the rules of the deepest node it reaches, best first, and
/// stops at the first match. The regex shapes refpolicy uses most
/// (`PREFIX(/.*)?`, `PREFIX/.*`, `PREFIX(/[^/]*)?`, ...) are matched by
/// comparing bytes, not by a regex; other regexes are compiled on first use
/// (as libselinux does) when they are sure to compile, and at load when
/// they might not: a regex that cannot be compiled (bad syntax, a PCRE-only
/// feature, too big for the `regex` crate's size limit) is a load error
/// naming its file and line, never a rule that silently does not match
/// (libselinux, by contrast, only fails that rule). Where a node's
/// list holds many regexes, a `RegexSet` of them (built on first use) says
/// in one pass over the path which can match, and only those are tried.
/// On Debian's policy (5,600 rules) this makes a lookup about a hundred
/// times faster than `selabel_lookup` (see `benches/file_contexts.rs`).
///
/// ```
/// use selinux_mcs::policy::FileContexts;
/// use selinux_mcs::FileKind;
/// let fc = FileContexts::from_str(
///     "/var/lib/containers(/.*)?   system_u:object_r:container_var_lib_t:s0\n\
///      /var/lib/containers/storage/overlay(/.*)?   system_u:object_r:container_ro_file_t:s0\n\
///      /var/lib/containers/.*\\.lock   --   <<none>>\n",
/// )?;
/// let ctx = fc.lookup("/var/lib/containers/storage/overlay/l", None).unwrap();
/// assert_eq!(ctx.to_string(), "system_u:object_r:container_ro_file_t:s0");
/// assert_eq!(
///     fc.lookup("/var/lib/containers/db", Some(FileKind::File)).unwrap().type_(),
///     "container_var_lib_t"
/// );
/// // `<<none>>`: leave the file alone.
/// assert_eq!(fc.lookup("/var/lib/containers/a.lock", Some(FileKind::File)), None);
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[doc(alias = "selabel_open")]
#[doc(alias = "matchpathcon")]
#[derive(Debug, Clone)]
pub struct FileContexts {
    rules: Vec<Rule>,
    trie: Trie,
    /// `.subs`, last line first.
    subs: Vec<Substitution>,
    /// `.subs_dist`, last line first.
    dist_subs: Vec<Substitution>,
    sources: Vec<PathBuf>,
}

/// Collects file_contexts text and substitution files, then parses them
/// all with [`build`](Self::build).
///
/// ```
/// use selinux_mcs::policy::FileContexts;
/// let fc = FileContexts::builder()
///     .rules("file_contexts", "/usr/lib(/.*)?  system_u:object_r:lib_t:s0\n")
///     .rules("file_contexts.local", "/usr/lib/custom  system_u:object_r:usr_t:s0\n")
///     .substitutions("file_contexts.subs_dist", "/lib64 /usr/lib\n")
///     .build()?;
/// assert_eq!(fc.lookup("/lib64/libc.so.6", None).unwrap().type_(), "lib_t");
/// assert_eq!(fc.lookup("/usr/lib/custom", None).unwrap().type_(), "usr_t");
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct FileContextsBuilder {
    rules: Vec<(PathBuf, String)>,
    dist_subs: Vec<(PathBuf, String)>,
    subs: Vec<(PathBuf, String)>,
}

impl FileContextsBuilder {
    /// Adds a file of rules (file_contexts, .homedirs, .local: call in that
    /// order; later rules win ties). `source` names it in errors.
    pub fn rules(&mut self, source: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.rules.push((source.into(), text.into()));
        self
    }

    /// Adds distribution substitutions (`file_contexts.subs_dist`).
    pub fn substitutions(
        &mut self,
        source: impl Into<PathBuf>,
        text: impl Into<String>,
    ) -> &mut Self {
        self.dist_subs.push((source.into(), text.into()));
        self
    }

    /// Adds local substitutions (`file_contexts.subs`), applied before the
    /// distribution ones.
    pub fn local_substitutions(
        &mut self,
        source: impl Into<PathBuf>,
        text: impl Into<String>,
    ) -> &mut Self {
        self.subs.push((source.into(), text.into()));
        self
    }

    /// Parses everything. The first bad line is an error naming its file
    /// and line.
    pub fn build(&self) -> Result<FileContexts, PolicyError> {
        let mut rules = Vec::new();
        let mut sources = Vec::new();
        for (source, text) in &self.rules {
            let source: Arc<Path> = Arc::from(source.as_path());
            parse_rules(text, &source, &mut rules)?;
            sources.push(source.to_path_buf());
        }
        let mut dist_subs = Vec::new();
        for (source, text) in &self.dist_subs {
            parse_subs(text, source, &mut dist_subs)?;
            sources.push(source.clone());
        }
        let mut subs = Vec::new();
        for (source, text) in &self.subs {
            parse_subs(text, source, &mut subs)?;
            sources.push(source.clone());
        }
        // libselinux builds each list by prepending: the last line is tried first.
        dist_subs.reverse();
        subs.reverse();
        let trie = Trie::build(&rules);
        Ok(FileContexts {
            rules,
            trie,
            subs,
            dist_subs,
            sources,
        })
    }
}

impl FileContexts {
    /// A builder, to combine rule files and substitutions given as text.
    pub fn builder() -> FileContextsBuilder {
        FileContextsBuilder::default()
    }

    /// Loads `path` (a `file_contexts` file) and, when they exist beside it,
    /// `PATH.homedirs`, `PATH.local`, `PATH.subs_dist` and `PATH.subs`, as
    /// `selabel_open` does. `path` itself must exist. A compiled
    /// `file_contexts.bin` is not read: it is derived from the text. Each
    /// file must be a regular file of at most
    /// [`MAX_FILE_SIZE`](super::MAX_FILE_SIZE) bytes (a FIFO is refused
    /// without blocking).
    #[doc(alias = "selabel_open")]
    pub fn from_path(path: impl AsRef<Path>) -> Result<FileContexts, PolicyError> {
        let path = path.as_ref();
        let mut builder = FileContexts::builder();
        builder.rules(path, read_policy_file(path)?);
        let sibling = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(".");
            name.push(suffix);
            PathBuf::from(name)
        };
        let optional = |p: &Path| read_optional_policy_file(p);
        for suffix in ["homedirs", "local"] {
            let p = sibling(suffix);
            if let Some(text) = optional(&p)? {
                builder.rules(p, text);
            }
        }
        let p = sibling("subs_dist");
        if let Some(text) = optional(&p)? {
            builder.substitutions(p, text);
        }
        let p = sibling("subs");
        if let Some(text) = optional(&p)? {
            builder.local_substitutions(p, text);
        }
        builder.build()
    }

    /// Parses the rules of one file given as text (no substitutions).
    #[allow(clippy::should_implement_trait)] // returns PolicyError, which names the source
    pub fn from_str(text: &str) -> Result<FileContexts, PolicyError> {
        FileContexts::builder().rules(STRING_SOURCE, text).build()
    }

    /// The context the rules give `path`, or `None` when no rule applies or
    /// the winning rule says `<<none>>`. `kind` is the file's kind; `None`
    /// lets every rule apply (for a path that does not exist).
    #[doc(alias = "selabel_lookup")]
    #[doc(alias = "matchpathcon")]
    pub fn lookup(
        &self,
        path: impl AsRef<Path>,
        kind: Option<FileKind>,
    ) -> Option<SecurityContext> {
        self.lookup_rule(path, kind)
            .and_then(|rule| rule.context().cloned())
    }

    /// The winning rule for `path`, including a `<<none>>` rule; `None`
    /// when no rule applies. Borrows, so it allocates nothing when the path
    /// needs no substitution.
    pub fn lookup_rule(&self, path: impl AsRef<Path>, kind: Option<FileKind>) -> Option<&Rule> {
        let key = self.key(path.as_ref().as_os_str().as_bytes());
        self.lookup_key(&key, kind)
    }

    /// `path` as the rules see it: duplicate slashes and a trailing slash
    /// removed, and substitutions applied.
    ///
    /// ```
    /// use selinux_mcs::policy::FileContexts;
    /// let fc = FileContexts::builder()
    ///     .substitutions("subs_dist", "/var/run /run\n")
    ///     .build()?;
    /// assert_eq!(fc.substitute("/var//run/docker.sock"), std::path::Path::new("/run/docker.sock"));
    /// assert_eq!(fc.substitute("/var/running"), std::path::Path::new("/var/running"));
    /// assert_eq!(fc.substitute("/var/run/"), std::path::Path::new("/run"));
    /// # Ok::<(), selinux_mcs::policy::PolicyError>(())
    /// ```
    pub fn substitute<'a, P: AsRef<Path> + ?Sized>(&self, path: &'a P) -> Cow<'a, Path> {
        use std::os::unix::ffi::OsStringExt;
        let path = path.as_ref();
        match self.key(path.as_os_str().as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(path),
            Cow::Owned(v) => Cow::Owned(PathBuf::from(std::ffi::OsString::from_vec(v))),
        }
    }

    fn key<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        let mut key = Cow::Borrowed(raw);
        if raw.windows(2).any(|w| w == b"//") {
            let mut clean = Vec::with_capacity(raw.len());
            for &b in raw {
                if !(b == b'/' && clean.last() == Some(&b'/')) {
                    clean.push(b);
                }
            }
            key = Cow::Owned(clean);
        }
        // libselinux (3.x lookup_common) then drops a trailing slash: `/tmp/`
        // is looked up as `/tmp`, before substitutions.
        if key.len() > 1 && key.last() == Some(&b'/') {
            key = match key {
                Cow::Borrowed(b) => Cow::Borrowed(&b[..b.len() - 1]),
                Cow::Owned(mut v) => {
                    v.pop();
                    Cow::Owned(v)
                }
            };
        }
        let local = self.subs.iter().find_map(|s| s.apply(&key));
        let base: &[u8] = local.as_deref().unwrap_or(&key);
        if let Some(dist) = self.dist_subs.iter().find_map(|s| s.apply(base)) {
            return Cow::Owned(dist);
        }
        match local {
            Some(v) => Cow::Owned(v),
            None => key,
        }
    }

    fn lookup_key(&self, key: &[u8], kind: Option<FileKind>) -> Option<&Rule> {
        // libselinux's get_stem_from_file_name: up to the second '/'.
        let file_stem = key
            .get(1..)
            .and_then(|rest| rest.iter().position(|&b| b == b'/'))
            .map(|p| &key[..p + 1]);
        let list = self.trie.candidates(key);
        let candidates = &self.trie.lists[list.start as usize..list.end as usize];
        let Some(filter) = list.filter(candidates, &self.rules) else {
            for &i in candidates {
                let rule = &self.rules[i as usize];
                if rule.kind_applies(kind) && rule.matches(key, file_stem) {
                    return Some(rule);
                }
            }
            return None;
        };
        // One pass of the set over the path says which regexes can match;
        // the others are skipped without running them.
        let matched = filter.set.matches(key);
        for (&i, &slot) in candidates.iter().zip(filter.slots.iter()) {
            let rule = &self.rules[i as usize];
            if !rule.kind_applies(kind) || (slot != NO_SLOT && !matched.matched(slot as usize)) {
                continue;
            }
            if rule.matches(key, file_stem) {
                return Some(rule);
            }
        }
        None
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules were loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule was loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The files read, in order.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }
}

// ---------------------------------------------------------------------------
// Parsing

fn parse_rules(text: &str, source: &Arc<Path>, out: &mut Vec<Rule>) -> Result<(), PolicyError> {
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let syntax = |message: String| PolicyError::Syntax {
            path: source.to_path_buf(),
            line,
            text: raw.to_owned(),
            message,
        };
        if let Some(c) = raw.chars().find(|c| !c.is_ascii()) {
            return Err(syntax(format!(
                "non-ASCII character {c:?}: file_contexts lines are ASCII"
            )));
        }
        let fields: Vec<&str> = raw.split_ascii_whitespace().collect();
        let (regex, kind, context) = match fields[..] {
            [regex, context] => (regex, None, context),
            [regex, kind, context] => {
                let kind = FileKind::ALL
                    .into_iter()
                    .find(|k| k.rule_flag() == kind)
                    .ok_or_else(|| {
                        syntax(format!(
                            "unknown file type {kind:?}: expected --, -d, -l, -c, -b, -p or -s"
                        ))
                    })?;
                (regex, Some(kind), context)
            }
            [_] => {
                return Err(syntax(
                    "missing fields: expected REGEX [TYPE] CONTEXT".into(),
                ))
            }
            _ => {
                return Err(syntax(format!(
                    "{} fields: expected REGEX [TYPE] CONTEXT",
                    fields.len()
                )))
            }
        };
        let context =
            if context == NO_LABEL {
                None
            } else {
                Some(context.parse::<SecurityContext>().map_err(|source_err| {
                    PolicyError::Context {
                        path: source.to_path_buf(),
                        line,
                        text: context.to_owned(),
                        source: source_err,
                    }
                })?)
            };
        let compiled = analyse(regex).map_err(|e| match e {
            RegexProblem::Unsupported(message) => PolicyError::Unsupported {
                path: source.to_path_buf(),
                line,
                text: raw.to_owned(),
                message,
            },
            RegexProblem::Invalid(message) => syntax(message),
        })?;
        out.push(Rule {
            regex: regex.into(),
            kind,
            context,
            source: Arc::clone(source),
            line,
            exact: compiled.exact,
            stem: compiled.stem,
            literal: compiled.literal,
            tail: compiled.tail,
        });
    }
    Ok(())
}

fn parse_subs(text: &str, source: &Path, out: &mut Vec<Substitution>) -> Result<(), PolicyError> {
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let syntax = |message: &str| PolicyError::Syntax {
            path: source.to_path_buf(),
            line: i + 1,
            text: raw.to_owned(),
            message: message.to_owned(),
        };
        let fields: Vec<&str> = trimmed.split_ascii_whitespace().collect();
        let [from, to] = fields[..] else {
            return Err(syntax("expected two paths: ALIAS ORIGINAL"));
        };
        if !from.starts_with('/') || !to.starts_with('/') {
            return Err(syntax("both paths must be absolute"));
        }
        if from.len() > 1 && from.ends_with('/') {
            return Err(syntax(
                "the alias must not end in '/': it matches on a '/' boundary",
            ));
        }
        out.push(Substitution {
            from: from.as_bytes().into(),
            to: to.as_bytes().into(),
        });
    }
    Ok(())
}

/// What the loader learns about a regex.
struct Analysis {
    exact: bool,
    stem: Option<Box<[u8]>>,
    literal: Box<[u8]>,
    tail: Tail,
}

enum RegexProblem {
    Unsupported(String),
    Invalid(String),
}

const META: &[u8] = b".^$?*+|[({";

/// libselinux's `spec_hasMetaChars`: a metacharacter, skipping the
/// character after each `\`.
fn has_meta(regex: &[u8]) -> bool {
    let mut i = 0;
    while i < regex.len() {
        match regex[i] {
            b'\\' => i += 2,
            c if META.contains(&c) => return true,
            _ => i += 1,
        }
    }
    false
}

/// libselinux's `get_stem_from_spec`: the text before the second `/`, when
/// it holds no metacharacter (a `\` does not count: the comparison is on raw
/// text).
fn stem_of(regex: &[u8]) -> Option<usize> {
    let second = regex.get(1..)?.iter().position(|&b| b == b'/')? + 1;
    if regex[..second].iter().any(|b| META.contains(b)) {
        return None;
    }
    Some(second)
}

fn analyse(regex: &str) -> Result<Analysis, RegexProblem> {
    let bytes = regex.as_bytes();
    check_pcre_only(regex)?;
    let exact = !has_meta(bytes);
    let stem_len = stem_of(bytes);
    let body = &regex[stem_len.unwrap_or(0)..];
    let (literal, raw_end) = if has_top_level_alternation(body.as_bytes()) {
        (Vec::new(), 0)
    } else {
        literal_prefix(body.as_bytes())
    };
    let tail = match &body[raw_end..] {
        "" => Tail::End,
        "(/.*)?" => Tail::OptSubtree,
        "/.*" => Tail::Subtree,
        ".*" => Tail::Any,
        "(/[^/]*)?" => Tail::OptChild,
        "/[^/]*" => Tail::Child,
        "[^/]*" => Tail::NameRest,
        "[^/]+" => Tail::NonEmptyNameRest,
        _ => {
            let (pattern, compiled) = anchored(regex, body)?;
            Tail::Regex {
                pattern: pattern.into(),
                compiled: compiled.map(OnceLock::from).unwrap_or_default(),
            }
        }
    };
    Ok(Analysis {
        exact,
        stem: stem_len.map(|n| bytes[..n].into()),
        literal: literal.into(),
        tail,
    })
}

/// The literal text a regex starts with, unescaped, and where in the raw
/// text it ends. Stops at a metacharacter or an escape that is not a plain
/// character (`\d`); backs off one character when the metacharacter is a
/// quantifier that makes it optional or repeated.
fn literal_prefix(body: &[u8]) -> (Vec<u8>, usize) {
    let mut literal = Vec::new();
    let mut i = 0;
    let mut last_atom: Option<(usize, usize)> = None; // (literal len, raw pos) before it
    while i < body.len() {
        let c = body[i];
        if META.contains(&c) {
            if matches!(c, b'?' | b'*' | b'+' | b'{') {
                if let Some((len, pos)) = last_atom {
                    literal.truncate(len);
                    return (literal, pos);
                }
            }
            return (literal, i);
        }
        if c == b'\\' {
            match body.get(i + 1) {
                Some(&n) if n.is_ascii_punctuation() => {
                    last_atom = Some((literal.len(), i));
                    literal.push(n);
                    i += 2;
                }
                _ => return (literal, i),
            }
        } else {
            last_atom = Some((literal.len(), i));
            literal.push(c);
            i += 1;
        }
    }
    (literal, i)
}

/// Whether the regex has a `|` outside every group and class, which makes
/// libselinux's `^...$` anchoring apply to its first and last branches only.
fn has_top_level_alternation(body: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 1,
            b'[' => i = class_end(body, i),
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b'|' if depth == 0 => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Where the bracket class opened at `start` ends (its `]`, or the end of
/// the text): a `]` right after `[` or `[^` is literal, as are escaped
/// characters, and POSIX names (`[:alpha:]`) are skipped whole.
fn class_end(re: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if re.get(i) == Some(&b'^') {
        i += 1;
    }
    if re.get(i) == Some(&b']') {
        i += 1;
    }
    while i < re.len() && re[i] != b']' {
        if re[i] == b'\\' {
            i += 1;
        } else if re[i] == b'[' && re.get(i + 1) == Some(&b':') {
            while i + 1 < re.len() && !(re[i] == b':' && re[i + 1] == b']') {
                i += 1;
            }
            i += 1;
        }
        i += 1;
    }
    i.min(re.len())
}

/// PCRE constructs the `regex` crate lacks, named in the error.
fn check_pcre_only(regex: &str) -> Result<(), RegexProblem> {
    const CONSTRUCTS: &[(&str, &str)] = &[
        ("(?=", "look-ahead (?=...)"),
        ("(?!", "negative look-ahead (?!...)"),
        ("(?<=", "look-behind (?<=...)"),
        ("(?<!", "negative look-behind (?<!...)"),
        ("(?>", "atomic group (?>...)"),
        ("(?|", "branch reset group (?|...)"),
        ("(?R)", "recursion (?R)"),
        ("(?(", "conditional group (?(...)...)"),
        ("(*", "backtracking verb (*...)"),
        ("\\K", "match reset \\K"),
        ("\\Q", "quoting \\Q...\\E"),
        ("\\G", "\\G anchor"),
        ("\\g", "backreference \\g"),
        ("\\k", "named backreference \\k"),
        ("*+", "possessive quantifier *+"),
        ("++", "possessive quantifier ++"),
        ("?+", "possessive quantifier ?+"),
        ("}+", "possessive quantifier }+"),
    ];
    let bytes = regex.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some(&n) = bytes.get(i + 1) {
                if (b'1'..=b'9').contains(&n) {
                    return Err(RegexProblem::Unsupported(format!(
                        "regex {regex:?} uses backreference \\{}, a PCRE feature the regex crate lacks",
                        n as char
                    )));
                }
                if matches!(
                    n,
                    b'K' | b'Q'
                        | b'G'
                        | b'g'
                        | b'k'
                        | b'Z'
                        | b'h'
                        | b'H'
                        | b'R'
                        | b'X'
                        | b'C'
                        | b'N'
                ) {
                    let escape = format!("\\{}", n as char);
                    let what = CONSTRUCTS
                        .iter()
                        .find(|(s, _)| s.as_bytes() == &bytes[i..i + 2])
                        .map_or(escape.as_str(), |(_, w)| w);
                    return Err(RegexProblem::Unsupported(format!(
                        "regex {regex:?} uses {what}, a PCRE feature the regex crate lacks"
                    )));
                }
            }
            i += 2;
            continue;
        }
        if bytes[i] == b'[' {
            // Inside a class every construct is a literal.
            i = class_end(bytes, i) + 1;
            continue;
        }
        if !matches!(bytes[i], b'(' | b'*' | b'+' | b'?' | b'}') {
            i += 1;
            continue;
        }
        for (s, what) in CONSTRUCTS {
            if !s.starts_with('\\') && bytes[i..].starts_with(s.as_bytes()) {
                // `\++` is an escaped '+' and a quantifier; only flag when the
                // first character is not itself escaped (handled above).
                return Err(RegexProblem::Unsupported(format!(
                    "regex {regex:?} uses {what}, a PCRE feature the regex crate lacks"
                )));
            }
        }
        i += 1;
    }
    Ok(())
}

/// Patterns at most this long, that pass [`simple_syntax_ok`] and hold no
/// counted repetition, are sure to compile (see [`anchored`]).
const SURE_TO_COMPILE_LEN: usize = 128;

/// `^BODY$` as libselinux builds it, in `regex` crate syntax, and the
/// compiled regex when it could fail to compile. `regex` (the whole rule
/// regex, `body` after its stem) names it in errors.
///
/// A pattern the `regex` crate cannot compile (bad syntax, a PCRE-only
/// feature, or a program over the crate's size limit, such as
/// `a{0,1000}{0,1000}`) is a load error naming the file and line. This
/// differs from libselinux on purpose: there, a pattern PCRE2 will not
/// compile makes only that rule fail, so a lookup silently falls through to
/// another rule and `restorecon` writes a label nobody asked for. Here a
/// rule is either usable or the file does not load.
///
/// Compiling every regex at load would make loading Debian's policy ten
/// times slower, so only patterns that could fail are compiled here. The
/// others are compiled on first use, and cannot fail: the quick check
/// ([`simple_syntax_ok`], tested sound against `regex_syntax`) accepts
/// their syntax, and with no counted repetition and at most
/// [`SURE_TO_COMPILE_LEN`] bytes their nesting (two levels for `(...)*`,
/// three bytes) stays under the parser's limit of 250 and their program (a
/// few states per byte, byte classes only) far under the compiler's size
/// limit of 10 MiB. The tests check a pattern at the length limit.
fn anchored(
    regex: &str,
    body: &str,
) -> Result<(String, Option<regex::bytes::Regex>), RegexProblem> {
    let trailing_backslashes = body.bytes().rev().take_while(|&b| b == b'\\').count();
    if trailing_backslashes % 2 == 1 {
        return Err(RegexProblem::Invalid(format!(
            "regex {regex:?} ends in a lone '\\'"
        )));
    }
    // `$` in PCRE also matches before a final newline; the regex crate's
    // does not, so say it.
    let pattern = format!("^{}(?:\n)?$", pcre_literal_escapes(body));
    if body.len() <= SURE_TO_COMPILE_LEN && !body.contains('{') && simple_syntax_ok(body.as_bytes())
    {
        return Ok((pattern, None));
    }
    match compile(&pattern) {
        Ok(re) => Ok((pattern, Some(re))),
        Err(regex::Error::CompiledTooBig(limit)) => Err(RegexProblem::Unsupported(format!(
            "regex {regex:?} is too big to compile: its program would exceed the regex \
             crate's limit of {}",
            human_size(limit as u64)
        ))),
        Err(e) => {
            let text = e.to_string();
            Err(if text.contains("not supported") {
                RegexProblem::Unsupported(format!(
                    "regex {regex:?} uses a PCRE feature the regex crate lacks: {}",
                    last_line(&text)
                ))
            } else {
                RegexProblem::Invalid(format!("invalid regex {regex:?}: {}", last_line(&text)))
            })
        }
    }
}

/// A quick check for the regex subset file_contexts use (literals,
/// punctuation escapes, `\d\w\s`-style classes, `.`, bracket classes
/// without POSIX names, groups, `|`, and `? * + {n} {n,} {n,m}` after an
/// atom). `true` only when the `regex` crate is sure to accept the pattern;
/// anything else is left to `regex_syntax`, which is slower (a few
/// microseconds a regex) but complete.
fn simple_syntax_ok(re: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the previous item can take a quantifier.
    let mut atom = false;
    while i < re.len() {
        match re[i] {
            b'\\' => {
                match re.get(i + 1) {
                    // `\<` and `\>` are word boundaries to the regex crate but
                    // literals to PCRE.
                    Some(b'<' | b'>') => return false,
                    Some(c) if c.is_ascii_punctuation() || b"dwsDWSnt".contains(c) => {}
                    _ => return false,
                }
                i += 2;
                atom = true;
                continue;
            }
            b'(' => {
                if re.get(i + 1) == Some(&b'?') {
                    if re.get(i + 2) != Some(&b':') {
                        return false;
                    }
                    i += 2;
                }
                depth += 1;
                atom = false;
            }
            b')' => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
                atom = true;
            }
            b'|' => atom = false,
            b'?' | b'*' | b'+' => {
                if !atom {
                    return false;
                }
                // No lazy or possessive suffix, no stacked quantifier.
                if matches!(re.get(i + 1), Some(b'?' | b'*' | b'+' | b'{')) {
                    return false;
                }
                atom = false;
            }
            b'{' => {
                if !atom {
                    return false;
                }
                let Some(len) = re[i..].iter().position(|&b| b == b'}') else {
                    return false;
                };
                let inner = &re[i + 1..i + len];
                let mut parts = inner.splitn(2, |&b| b == b',');
                let num =
                    |p: &[u8]| !p.is_empty() && p.len() <= 3 && p.iter().all(u8::is_ascii_digit);
                let lo = parts.next().unwrap_or(b"");
                let ok = match parts.next() {
                    None => num(lo),
                    Some([]) => num(lo),
                    Some(hi) => {
                        num(lo)
                            && num(hi)
                            && std::str::from_utf8(lo)
                                .ok()
                                .and_then(|s| s.parse::<u32>().ok())
                                <= std::str::from_utf8(hi)
                                    .ok()
                                    .and_then(|s| s.parse::<u32>().ok())
                    }
                };
                if !ok || matches!(re.get(i + len + 1), Some(b'?' | b'*' | b'+' | b'{')) {
                    return false;
                }
                i += len + 1;
                atom = false;
                continue;
            }
            b'}' | b']' => return false,
            b'^' | b'$' => atom = false,
            b'[' => {
                let Some(end) = simple_class_end(re, i) else {
                    return false;
                };
                i = end + 1;
                atom = true;
                continue;
            }
            _ => atom = true,
        }
        i += 1;
    }
    depth == 0
}

/// The index of the `]` closing the class opened at `start`, when the class
/// holds only literals, punctuation escapes and ascending ranges of them.
fn simple_class_end(re: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if re.get(i) == Some(&b'^') {
        i += 1;
    }
    let mut prev: Option<u8> = None;
    let mut first = true;
    loop {
        let c = *re.get(i)?;
        if c == b']' && !first {
            return Some(i);
        }
        first = false;
        let (lit, next) = match c {
            b'\\' => {
                let e = *re.get(i + 1)?;
                if !e.is_ascii_punctuation() || e == b'<' || e == b'>' {
                    return None;
                }
                (e, i + 2)
            }
            // POSIX classes, nesting and the regex crate's set operations
            // (`&&`, `--`, `~~`): leave them to regex_syntax.
            b'[' => return None,
            b'&' | b'~' if re.get(i + 1) == Some(&c) => return None,
            b'-' if re.get(i + 1) == Some(&b'-') => return None,
            b'-' if !(prev.is_none() && i == start + 1 || re.get(i + 1) == Some(&b']')) => {
                let lo = prev?;
                let hi = match *re.get(i + 1)? {
                    b'\\' | b'[' => return None,
                    h => h,
                };
                if hi < lo {
                    return None;
                }
                prev = None;
                i += 2;
                continue;
            }
            c if c.is_ascii() && !c.is_ascii_control() => (c, i + 1),
            _ => return None,
        };
        prev = Some(lit);
        i = next;
    }
}

/// `\<` and `\>` are plain `<` and `>` to PCRE but word boundaries to the
/// `regex` crate: unescape them.
fn pcre_literal_escapes(body: &str) -> Cow<'_, str> {
    if !body.contains("\\<") && !body.contains("\\>") {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('<' | '>')) => out.push(n),
                Some(n) => {
                    out.push(c);
                    out.push(n);
                }
                None => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .trim_start_matches("error: ")
}

fn compile(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
}

// ---------------------------------------------------------------------------
// The prefix trie

/// A radix trie of rule prefixes (edges carry byte strings, so a chain of
/// single children is one edge). A node that ends at least one prefix
/// has a candidate list of every rule whose prefix is a prefix of the
/// node's text, in the order they must be tried: exact rules before
/// regexes, later before earlier. Other nodes share their nearest such
/// ancestor's list.
#[derive(Debug, Default, Clone)]
struct Trie {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// Concatenated edge labels.
    labels: Vec<u8>,
    /// Concatenated candidate lists.
    lists: Vec<u32>,
    /// One entry per candidate list; 0 is the empty list.
    metas: Vec<ListMeta>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Node {
    /// `edges[edges_start..edges_end]`, sorted by first byte.
    edges_start: u32,
    edges_end: u32,
    /// The candidate list: `metas[list]`.
    list: u32,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    first: u8,
    /// `labels[label_start..label_end]`, starting with `first`.
    label_start: u32,
    label_end: u32,
    child: u32,
}

/// A candidate list, and for lists with many regexes a `RegexSet` over
/// them, built on first use.
#[derive(Debug, Default, Clone)]
struct ListMeta {
    /// `lists[start..end]`.
    start: u32,
    end: u32,
    /// How many candidates need a regex.
    regexes: u32,
    filter: OnceLock<Option<SetFilter>>,
}

/// A `RegexSet` that tells, in one pass, which of a list's regexes may
/// match. Each pattern matches a superset of what its rule matches (it
/// ignores libselinux's stem comparison), so a match is still checked with
/// [`Rule::matches`]; a non-match is final.
#[derive(Debug, Clone)]
struct SetFilter {
    set: regex::bytes::RegexSet,
    /// For each candidate of the list, its pattern in `set`, or `NO_SLOT`.
    slots: Vec<u32>,
}

const NO_SLOT: u32 = u32::MAX;

/// From how many regexes on a list a set pays off.
const SET_THRESHOLD: u32 = 8;

impl ListMeta {
    fn filter(&self, candidates: &[u32], rules: &[Rule]) -> Option<&SetFilter> {
        if self.regexes < SET_THRESHOLD {
            return None;
        }
        self.filter
            .get_or_init(|| SetFilter::build(candidates, rules))
            .as_ref()
    }
}

impl SetFilter {
    fn build(candidates: &[u32], rules: &[Rule]) -> Option<SetFilter> {
        let mut patterns = Vec::new();
        let mut slots = Vec::with_capacity(candidates.len());
        for &i in candidates {
            let rule = &rules[i as usize];
            let slot = match &rule.tail {
                Tail::Regex { .. } => {
                    let stem_len = rule.stem.as_ref().map_or(0, |s| s.len());
                    let (stem, body) = rule.regex.split_at(stem_len);
                    if has_top_level_alternation(body.as_bytes()) {
                        NO_SLOT
                    } else {
                        patterns.push(format!("^{stem}(?:{})(?:\n)?$", pcre_literal_escapes(body)));
                        (patterns.len() - 1) as u32
                    }
                }
                _ => NO_SLOT,
            };
            slots.push(slot);
        }
        let set = regex::bytes::RegexSetBuilder::new(&patterns)
            .unicode(false)
            .dot_matches_new_line(true)
            .build()
            .ok()?;
        Some(SetFilter { set, slots })
    }
}

impl Trie {
    fn build(rules: &[Rule]) -> Trie {
        let mut entries: Vec<(Vec<u8>, u32)> = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let mut prefix = Vec::with_capacity(
                    rule.stem.as_ref().map_or(0, |s| s.len()) + rule.literal.len(),
                );
                if let Some(stem) = &rule.stem {
                    prefix.extend_from_slice(stem);
                }
                prefix.extend_from_slice(&rule.literal);
                (prefix, i as u32)
            })
            .collect();
        entries.sort_unstable();
        let mut trie = Trie {
            metas: vec![ListMeta::default()],
            ..Trie::default()
        };
        trie.nodes.push(Node::default());
        trie.build_node(0, &entries, 0, 0, rules);
        trie
    }

    /// Fills in node `id`, which stands for the first `depth` bytes shared
    /// by every prefix of `entries` (sorted), and builds its subtree.
    fn build_node(
        &mut self,
        id: usize,
        entries: &[(Vec<u8>, u32)],
        depth: usize,
        inherited: u32,
        rules: &[Rule],
    ) {
        let own_len = entries.iter().take_while(|(p, _)| p.len() == depth).count();
        let list = if own_len == 0 {
            inherited
        } else {
            let own: Vec<u32> = entries[..own_len].iter().map(|e| e.1).collect();
            self.merge_list(inherited, own, rules)
        };
        self.nodes[id].list = list;
        let mut rest = &entries[own_len..];
        let mut edges = Vec::new();
        while let Some((first, _)) = rest.first() {
            let b = first[depth];
            let group_len = rest.iter().take_while(|(p, _)| p[depth] == b).count();
            let (group, tail) = rest.split_at(group_len);
            rest = tail;
            // Sorted: the first and last share what all of the group shares.
            let (a, z) = (&group[0].0, &group[group_len - 1].0);
            let common = a[depth..]
                .iter()
                .zip(&z[depth..])
                .take_while(|(x, y)| x == y)
                .count();
            let label_start = self.labels.len() as u32;
            self.labels.extend_from_slice(&a[depth..depth + common]);
            let child = self.nodes.len();
            self.nodes.push(Node::default());
            edges.push(Edge {
                first: b,
                label_start,
                label_end: self.labels.len() as u32,
                child: child as u32,
            });
            self.build_node(child, group, depth + common, list, rules);
        }
        self.nodes[id].edges_start = self.edges.len() as u32;
        self.edges.extend(edges);
        self.nodes[id].edges_end = self.edges.len() as u32;
    }

    /// A new candidate list: list `inherited` and `own`, best first.
    fn merge_list(&mut self, inherited: u32, mut own: Vec<u32>, rules: &[Rule]) -> u32 {
        let priority = |i: &u32| (rules[*i as usize].exact, *i);
        own.sort_unstable_by_key(|i| std::cmp::Reverse(priority(i)));
        let start = self.lists.len();
        let parent = &self.metas[inherited as usize];
        let (mut a, end) = (parent.start as usize, parent.end as usize);
        let mut own = own.into_iter().peekable();
        loop {
            let take_own = match (a < end, own.peek()) {
                (true, Some(o)) => priority(o) > priority(&self.lists[a]),
                (false, Some(_)) => true,
                (true, None) => false,
                (false, None) => break,
            };
            if take_own {
                if let Some(o) = own.next() {
                    self.lists.push(o);
                }
            } else {
                self.lists.push(self.lists[a]);
                a += 1;
            }
        }
        let regexes = self.lists[start..]
            .iter()
            .filter(|&&i| matches!(rules[i as usize].tail, Tail::Regex { .. }))
            .count() as u32;
        self.metas.push(ListMeta {
            start: start as u32,
            end: self.lists.len() as u32,
            regexes,
            filter: OnceLock::new(),
        });
        (self.metas.len() - 1) as u32
    }

    /// The candidate list for `key`: that of the deepest node on its path.
    fn candidates(&self, key: &[u8]) -> &ListMeta {
        let mut node = self.nodes[0];
        let mut pos = 0;
        while let Some(&b) = key.get(pos) {
            let edges = &self.edges[node.edges_start as usize..node.edges_end as usize];
            let edge = if edges.len() <= 8 {
                edges.iter().find(|e| e.first == b)
            } else {
                edges
                    .binary_search_by_key(&b, |e| e.first)
                    .ok()
                    .map(|at| &edges[at])
            };
            let Some(edge) = edge else { break };
            let label = &self.labels[edge.label_start as usize..edge.label_end as usize];
            if !key[pos..].starts_with(label) {
                break;
            }
            pos += label.len();
            node = self.nodes[edge.child as usize];
        }
        &self.metas[node.list as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(text: &str) -> FileContexts {
        FileContexts::from_str(text).expect("test rules load")
    }

    fn type_of(fc: &FileContexts, path: &str, kind: Option<FileKind>) -> Option<String> {
        fc.lookup(path, kind).map(|c| c.type_().to_owned())
    }

    const F: Option<FileKind> = Some(FileKind::File);
    const D: Option<FileKind> = Some(FileKind::Dir);

    #[test]
    fn last_matching_regex_wins() {
        let fc = fc("/srv(/.*)?  u:object_r:first_t:s0\n\
                     /srv/.*  u:object_r:second_t:s0\n\
                     /srv/a.*  u:object_r:third_t:s0\n");
        assert_eq!(type_of(&fc, "/srv/abc", None).as_deref(), Some("third_t"));
        assert_eq!(type_of(&fc, "/srv/xyz", None).as_deref(), Some("second_t"));
        assert_eq!(type_of(&fc, "/srv", None).as_deref(), Some("first_t"));
        // Order, not specificity, decides between regexes.
        let fc2 = self::fc("/srv/a.*  u:object_r:third_t:s0\n/srv/.*  u:object_r:second_t:s0\n");
        assert_eq!(type_of(&fc2, "/srv/abc", None).as_deref(), Some("second_t"));
    }

    #[test]
    fn rule_without_metacharacters_beats_any_regex() {
        let fc = fc("/etc/hosts  u:object_r:exact_t:s0\n\
                     /etc/.*  u:object_r:regex_t:s0\n\
                     /etc/hosts(/.*)?  u:object_r:later_regex_t:s0\n");
        assert_eq!(type_of(&fc, "/etc/hosts", None).as_deref(), Some("exact_t"));
        assert!(fc.rules()[0].is_exact());
        assert!(!fc.rules()[1].is_exact());
        // An escaped metacharacter does not count (libselinux skips the
        // character after '\').
        let fc = self::fc(
            "/etc/ld\\.so\\.cache  u:object_r:exact_t:s0\n\
                           /etc/ld.*  u:object_r:regex_t:s0\n",
        );
        assert!(fc.rules()[0].is_exact());
        assert_eq!(
            type_of(&fc, "/etc/ld.so.cache", None).as_deref(),
            Some("exact_t")
        );
        assert_eq!(
            type_of(&fc, "/etc/ldXsoXcache", None).as_deref(),
            Some("regex_t")
        );
        // Between two exact rules, the later wins.
        let fc = self::fc("/a/b  u:object_r:one_t:s0\n/a/b  u:object_r:two_t:s0\n");
        assert_eq!(type_of(&fc, "/a/b", None).as_deref(), Some("two_t"));
    }

    #[test]
    fn file_types_are_respected() {
        let fc = fc("/run/x(/.*)?  u:object_r:any_t:s0\n\
                     /run/x  -d  u:object_r:dir_t:s0\n\
                     /run/x\\.sock  -s  u:object_r:sock_t:s0\n\
                     /dev/tty[0-9]*  -c  u:object_r:tty_t:s0\n");
        assert_eq!(type_of(&fc, "/run/x", D).as_deref(), Some("dir_t"));
        assert_eq!(type_of(&fc, "/run/x", F).as_deref(), Some("any_t"));
        // No kind: every rule applies, so the exact -d rule wins.
        assert_eq!(type_of(&fc, "/run/x", None).as_deref(), Some("dir_t"));
        assert_eq!(
            type_of(&fc, "/run/x.sock", Some(FileKind::Socket)).as_deref(),
            Some("sock_t")
        );
        assert_eq!(type_of(&fc, "/run/x.sock", F), None);
        assert_eq!(
            type_of(&fc, "/dev/tty1", Some(FileKind::Char)).as_deref(),
            Some("tty_t")
        );
        assert_eq!(type_of(&fc, "/dev/tty1", Some(FileKind::Block)), None);
        for kind in FileKind::ALL {
            let fc = self::fc(&format!("/k  {}  u:object_r:k_t:s0\n", kind.rule_flag()));
            assert_eq!(fc.rules()[0].file_kind(), Some(kind));
            for other in FileKind::ALL {
                assert_eq!(fc.lookup("/k", Some(other)).is_some(), other == kind);
            }
        }
    }

    #[test]
    fn none_means_do_not_label() {
        let fc = fc("/tmp(/.*)?  u:object_r:tmp_t:s0\n/tmp/.*  <<none>>\n");
        assert_eq!(type_of(&fc, "/tmp", D).as_deref(), Some("tmp_t"));
        assert_eq!(fc.lookup("/tmp/x", F), None);
        let rule = fc.lookup_rule("/tmp/x", F).expect("the <<none>> rule wins");
        assert_eq!(rule.context(), None);
        assert_eq!(rule.to_string(), "/tmp/.*\t<<none>>");
        // No rule at all is also None, with no rule.
        assert!(fc.lookup_rule("/var", None).is_none());
    }

    #[test]
    fn regexes_are_anchored() {
        let fc = fc("/usr/bin  u:object_r:bin_t:s0\n/lib(64)?/.*  u:object_r:lib_t:s0\n");
        assert_eq!(fc.lookup("/usr/bin/ls", None), None);
        assert_eq!(fc.lookup("/x/usr/bin", None), None);
        assert_eq!(type_of(&fc, "/lib64/x", None).as_deref(), Some("lib_t"));
        assert_eq!(fc.lookup("/opt/lib/x", None), None);
        // libselinux anchors by concatenation: a top-level '|' splits the anchors.
        let fc = self::fc("/aaa|/bbb  u:object_r:alt_t:s0\n");
        assert_eq!(
            type_of(&fc, "/aaa/anything", None).as_deref(),
            Some("alt_t")
        );
        assert_eq!(
            type_of(&fc, "/anything/bbb", None).as_deref(),
            Some("alt_t")
        );
        assert_eq!(fc.lookup("/ccc", None), None);
    }

    #[test]
    fn dot_matches_newline_and_dollar_before_final_newline() {
        let fc = fc("/n/.*  u:object_r:n_t:s0\n/e/x  u:object_r:e_t:s0\n");
        assert_eq!(type_of(&fc, "/n/a\nb", None).as_deref(), Some("n_t"));
        assert_eq!(type_of(&fc, "/e/x\n", None).as_deref(), Some("e_t"));
        assert_eq!(fc.lookup("/e/x\n\n", None), None);
    }

    #[test]
    fn stems_follow_libselinux() {
        // `/usr/?` has stem /usr; the path /usr has none, so it never
        // matches, and `/usr/` is looked up as `/usr` (libselinux 3.4 gives
        // <<none>> for both).
        let fc = fc("/usr/?  u:object_r:odd_t:s0\n");
        assert_eq!(fc.lookup("/usr", None), None);
        assert_eq!(fc.lookup("/usr/", None), None);
    }

    #[test]
    fn a_trailing_slash_is_dropped() {
        // As libselinux 3.4 answers (found by tests/tests/libselinux_diff.rs).
        let fc = fc("/a(/.*)?  u:object_r:a_t:s0\n/a/b/.*  u:object_r:ab_t:s0\n");
        for p in ["/a/b/", "/a/b", "/a/b//", "//a//b//"] {
            assert_eq!(type_of(&fc, p, None).as_deref(), Some("a_t"), "{p}");
        }
        assert_eq!(type_of(&fc, "/a/b/c/", None).as_deref(), Some("ab_t"));
        assert_eq!(fc.substitute("/"), Path::new("/"));
        assert_eq!(fc.substitute("//"), Path::new("/"));
    }

    #[test]
    fn duplicate_slashes_collapse() {
        let fc = fc("/usr/bin(/.*)?  u:object_r:bin_t:s0\n");
        assert_eq!(
            type_of(&fc, "//usr///bin//ls", None).as_deref(),
            Some("bin_t")
        );
    }

    #[test]
    fn substitutions_on_a_slash_boundary() {
        let fc = FileContexts::builder()
            .rules("fc", "/usr/lib(/.*)?  u:object_r:lib_t:s0\n/run(/.*)?  u:object_r:run_t:s0\n/var(/.*)?  u:object_r:var_t:s0\n/home(/.*)?  u:object_r:home_t:s0\n")
            .substitutions("dist", "/lib64 /usr/lib\n/var/run /run\n/usr/lib64 /usr/lib\n")
            .local_substitutions("local", "/export/home /home\n/srv/lib /lib64\n")
            .build()
            .unwrap();
        assert_eq!(
            type_of(&fc, "/lib64/libc.so", None).as_deref(),
            Some("lib_t")
        );
        assert_eq!(type_of(&fc, "/lib64", None).as_deref(), Some("lib_t"));
        assert_eq!(type_of(&fc, "/var/run/x", None).as_deref(), Some("run_t"));
        // Not on a '/' boundary: no substitution.
        assert_eq!(type_of(&fc, "/var/running", None).as_deref(), Some("var_t"));
        assert_eq!(fc.lookup("/lib64x", None), None);
        assert_eq!(
            type_of(&fc, "/export/home/a", None).as_deref(),
            Some("home_t")
        );
        // Local first, then the distribution's on the result.
        assert_eq!(type_of(&fc, "/srv/lib/x", None).as_deref(), Some("lib_t"));
        assert_eq!(
            fc.substitute(Path::new("/srv/lib/x")),
            Path::new("/usr/lib/x")
        );
        // Only the first matching line of a file applies (the last line is tried first).
        let fc = FileContexts::builder()
            .substitutions("dist", "/a /b\n/a /c\n")
            .build()
            .unwrap();
        assert_eq!(fc.substitute(Path::new("/a/x")), Path::new("/c/x"));
        // An alias of '/' does not give '//'.
        let fc = FileContexts::builder()
            .substitutions("dist", "/chroot /\n")
            .build()
            .unwrap();
        assert_eq!(fc.substitute(Path::new("/chroot/etc")), Path::new("/etc"));
        assert_eq!(fc.substitute(Path::new("/chroot")), Path::new("/"));
    }

    #[test]
    fn later_files_win_ties() {
        let fc = FileContexts::builder()
            .rules(
                "file_contexts",
                "/srv/www(/.*)?  u:object_r:var_t:s0\n/etc/hosts  u:object_r:net_t:s0\n",
            )
            .rules(
                "file_contexts.local",
                "/srv/www(/.*)?  u:object_r:httpd_t:s0\n/etc/hosts  u:object_r:etc_t:s0\n",
            )
            .build()
            .unwrap();
        assert_eq!(type_of(&fc, "/srv/www/x", None).as_deref(), Some("httpd_t"));
        assert_eq!(type_of(&fc, "/etc/hosts", None).as_deref(), Some("etc_t"));
        let rule = fc.lookup_rule("/etc/hosts", None).unwrap();
        assert_eq!(rule.source(), Path::new("file_contexts.local"));
        assert_eq!(rule.line(), 2);
    }

    #[test]
    fn fast_shapes_agree_with_regexes() {
        // Each fast shape, and the same rule forced through the regex engine
        // by a no-op group, must match the same paths.
        let shapes = [
            "(/.*)?",
            "/.*",
            ".*",
            "(/[^/]*)?",
            "/[^/]*",
            "",
            "/[^/]+",
            "x[^/]*",
            "x[^/]+",
        ];
        let paths = [
            "/p", "/p/", "/p/a", "/p/a/b", "/pa", "/p\n", "/q", "/p/a\n", "/px", "/pxy", "/px/",
            "/px\n",
        ];
        for shape in shapes {
            let fast = fc(&format!("/p{shape}  u:object_r:t_t:s0\n"));
            let slow = fc(&format!("/(p){shape}  u:object_r:t_t:s0\n"));
            assert!(
                !matches!(fast.rules()[0].tail, Tail::Regex { .. }),
                "{shape}"
            );
            assert!(
                matches!(slow.rules()[0].tail, Tail::Regex { .. }),
                "{shape}"
            );
            for path in paths {
                assert_eq!(
                    fast.lookup(path, None).is_some(),
                    slow.lookup(path, None).is_some(),
                    "{shape:?} on {path:?}"
                );
            }
        }
    }

    #[test]
    fn quantified_last_literal_is_not_part_of_the_prefix() {
        let fc = fc("/usr/lib64?/x  u:object_r:t_t:s0\n/etc/foo\\.?bar  u:object_r:u_t:s0\n");
        assert_eq!(type_of(&fc, "/usr/lib6/x", None).as_deref(), Some("t_t"));
        assert_eq!(type_of(&fc, "/usr/lib64/x", None).as_deref(), Some("t_t"));
        assert_eq!(type_of(&fc, "/etc/foobar", None).as_deref(), Some("u_t"));
        assert_eq!(type_of(&fc, "/etc/foo.bar", None).as_deref(), Some("u_t"));
    }

    #[test]
    fn non_utf8_paths() {
        use std::os::unix::ffi::OsStrExt;
        let fc = fc("/data/[^/]*  u:object_r:d_t:s0\n");
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/data/\xff\xfe"));
        assert_eq!(
            type_of(&fc, path.to_str().unwrap_or("/data/x"), None).as_deref(),
            Some("d_t")
        );
        assert!(fc.lookup(path, None).is_some());
    }

    fn error(text: &str) -> PolicyError {
        FileContexts::from_str(text).expect_err("the text must not load")
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("/ok  u:r:t:s0\n/only-one-field\n", 2, "missing fields"),
            ("# c\n\n/a -x u:r:t:s0\n", 3, "unknown file type \"-x\""),
            ("/a -- u:r:t:s0 extra\n", 1, "4 fields"),
            ("/a  not-a-context\n", 1, "bad context"),
            ("/a  u:r:t:s0:c5.c1\n", 1, "bad context"),
            ("/a(  u:r:t:s0\n", 1, "invalid regex"),
            ("/a[z-a]  u:r:t:s0\n", 1, "invalid regex"),
            ("/a\\  u:r:t:s0\n", 1, "lone"),
            ("/caf\u{e9}  u:r:t:s0\n", 1, "non-ASCII"),
        ];
        for (text, line, needle) in cases {
            let e = error(text);
            assert_eq!(e.line(), Some(*line), "{text:?}: {e}");
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("<string>:{line}: ")), "{msg}");
            assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
        }
    }

    #[test]
    fn pcre_features_are_refused_clearly() {
        for (regex, what) in [
            ("/a(?=b)", "look-ahead"),
            ("/a(?!b)", "negative look-ahead"),
            ("/a(?<=b)c", "look-behind"),
            ("/(a)\\1", "backreference \\1"),
            ("/a(?>bc)", "atomic group"),
            ("/a*+", "possessive"),
            ("/a\\Kb", "\\K"),
            ("/a\\Z", "\\Z"),
            ("/a\\hb", "\\h"),
        ] {
            let e = error(&format!("/ok  u:r:t:s0\n{regex}  u:r:t:s0\n"));
            assert!(
                matches!(e, PolicyError::Unsupported { line: 2, .. }),
                "{regex}: {e:?}"
            );
            let msg = e.to_string();
            assert!(msg.contains(what) && msg.contains("regex crate"), "{msg}");
        }
    }

    #[test]
    fn pcre_literals_the_regex_crate_reads_otherwise() {
        // Quantifier-like text inside a class is literal: no false alarm.
        let fc = fc("/c/[++]x  u:r:t:s0\n/w/.*  u:r:other_t:s0\n/w/(a)\\<b\\>  u:r:w_t:s0\n");
        assert!(fc.lookup("/c/+x", None).is_some());
        // `\<` is a literal '<' to PCRE.
        assert!(matches!(fc.rules()[2].tail, Tail::Regex { .. }));
        assert_eq!(type_of(&fc, "/w/a<b>", None).as_deref(), Some("w_t"));
    }

    #[test]
    fn substitution_errors() {
        for (text, needle) in [
            ("/a\n", "two paths"),
            ("/a /b /c\n", "two paths"),
            ("a /b\n", "absolute"),
            ("/a/ /b\n", "must not end"),
        ] {
            let e = FileContexts::builder()
                .substitutions("subs", text)
                .build()
                .expect_err(text);
            assert!(e.to_string().starts_with("subs:1: "), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[test]
    fn from_path_reads_the_family() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("file_contexts");
        std::fs::write(&base, "/x(/.*)?  u:object_r:x_t:s0\n").unwrap();
        std::fs::write(
            dir.path().join("file_contexts.local"),
            "/x/y  u:object_r:y_t:s0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("file_contexts.subs"), "/alias /x\n").unwrap();
        let fc = FileContexts::from_path(&base).unwrap();
        assert_eq!(fc.sources().len(), 3);
        assert_eq!(type_of(&fc, "/alias/y", None).as_deref(), Some("y_t"));
        let e = FileContexts::from_path(dir.path().join("missing")).unwrap_err();
        assert!(matches!(e, PolicyError::Io { .. }));
        assert!(e.to_string().contains("missing"));
        std::fs::write(dir.path().join("file_contexts.homedirs"), "/h\n").unwrap();
        let e = FileContexts::from_path(&base).unwrap_err();
        assert!(e.to_string().contains("file_contexts.homedirs:1:"), "{e}");
    }

    fn regex_syntax_accepts(body: &str) -> bool {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&format!("^{body}(?:\n)?$"))
            .is_ok()
    }

    #[test]
    fn simple_syntax_check_agrees_on_typical_regexes() {
        for ok in [
            "/usr/(.*/)?lib(/.*)?",
            "/dev/[shmxv]d[^/]*",
            "/etc/passwd[-\\+]?",
            "/a{2}b{1,3}c{4,}",
            "/(?:x|y)+",
            "/[]a]",
            "/[a-]",
            "/\\d+\\.log",
        ] {
            assert!(simple_syntax_ok(ok.as_bytes()), "{ok}");
            assert!(regex_syntax_accepts(ok), "{ok}");
        }
        for unsure in [
            "/a**",
            "/(",
            "/)",
            "/[z-a]",
            "/a{3,1}",
            "/\\<w",
            "/[[:alpha:]]",
            "/[a&&b]",
            "*a",
            "/a}",
        ] {
            assert!(!simple_syntax_ok(unsure.as_bytes()), "{unsure}");
        }
    }

    /// The worst patterns `anchored` leaves to be compiled on first use
    /// (simple syntax, no counted repetition, at the length limit) do
    /// compile; one byte longer, or with a count, they are compiled at load.
    #[test]
    fn patterns_left_for_first_use_are_sure_to_compile() {
        let depth = (SURE_TO_COMPILE_LEN - 1) / 3;
        let nested = format!("{}a{}", "(".repeat(depth), ")*".repeat(depth));
        let classes = "[^/]*".repeat(SURE_TO_COMPILE_LEN / 5);
        let dots = ".*".repeat(SURE_TO_COMPILE_LEN / 2);
        let words = "\\w+".repeat(SURE_TO_COMPILE_LEN / 3);
        for body in [&nested, &classes, &dots, &words] {
            assert!(body.len() <= SURE_TO_COMPILE_LEN, "{body}");
            let Ok((pattern, None)) = anchored(body, body) else {
                panic!("{body:?} should be left for first use");
            };
            assert!(compile(&pattern).is_ok(), "{body}");
        }
        let longer = format!("{nested}b{}", "c".repeat(SURE_TO_COMPILE_LEN));
        assert!(matches!(anchored(&longer, &longer), Ok((_, Some(_)))));
        assert!(matches!(anchored("a{2}", "a{2}"), Ok((_, Some(_)))));
        assert!(matches!(
            anchored("(a{999}){999}", "(a{999}){999}"),
            Err(RegexProblem::Unsupported(m)) if m.contains("too big to compile")
        ));
    }

    proptest::proptest! {
        /// The quick check never accepts what the regex crate rejects.
        #[test]
        fn simple_syntax_check_is_sound(body in "[ab/.\\\\\\[\\]()^$*+?{}|,0-3dws<>:&~-]{0,12}") {
            if simple_syntax_ok(body.as_bytes()) {
                proptest::prop_assert!(regex_syntax_accepts(&body), "{:?}", body);
            }
        }
    }

    /// libselinux's loop, with no index: every rule, exact ones first,
    /// later before earlier.
    fn naive<'a>(fc: &'a FileContexts, path: &str, kind: Option<FileKind>) -> Option<&'a Rule> {
        let key = fc.key(path.as_bytes());
        let file_stem = key
            .get(1..)
            .and_then(|rest| rest.iter().position(|&b| b == b'/'))
            .map(|p| &key[..p + 1]);
        let mut order: Vec<usize> = (0..fc.rules.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse((fc.rules[i].exact, i)));
        order
            .into_iter()
            .map(|i| &fc.rules[i])
            .find(|r| r.kind_applies(kind) && r.matches(&key, file_stem))
    }

    #[test]
    fn index_and_regex_sets_agree_with_the_plain_loop() {
        let mut text = String::new();
        for (i, re) in [
            "/s(/.*)?",
            "/s/.*",
            "/s/(.*/)?lib(/.*)?",
            "/s/[a-c]+",
            "/s/x?y",
            "/s/(a|b)/c",
            "/s/.*\\.so(\\.[^/]*)*",
            "/s/?",
            "/s/a|/b",
            "/s/d[0-9]{2}",
            "/s/(?:e|f)g*",
            "/s/[^/]*/h",
            "/s/lib",
            "/s/.*cron.*",
            "/s/a",
            "/s/a/b/c",
            "/s/ab?c",
            "/(s|t)/z",
        ]
        .iter()
        .enumerate()
        {
            let kind = ["", "--", "-d"][i % 3];
            text.push_str(&format!("{re} {kind} u:object_r:r{i}_t:s0\n"));
        }
        let fc = fc(&text);
        let list = fc.trie.candidates(b"/s/x");
        assert!(list.regexes >= SET_THRESHOLD, "the set is used");
        let paths = [
            "/s",
            "/s/",
            "/s/a",
            "/s/ab",
            "/s/abc",
            "/s/ac",
            "/s/a/c",
            "/s/b/c",
            "/s/y",
            "/s/xy",
            "/s/lib",
            "/s/x/lib",
            "/s/x/lib/y",
            "/s/libz.so.1",
            "/s/d12",
            "/s/d123",
            "/s/eggg",
            "/s/q/h",
            "/s/q/r/h",
            "/s/ccron",
            "/s/a/b/c",
            "/t/z",
            "/s/z",
            "/x/b",
            "/s/\n",
            "/s/a\n",
            "/b",
        ];
        for path in paths {
            for kind in [None, F, D, Some(FileKind::Symlink)] {
                let want = naive(&fc, path, kind).map(|r| r.line());
                let got = fc.lookup_rule(path, kind).map(|r| r.line());
                assert_eq!(got, want, "{path:?} {kind:?}");
            }
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<FileContexts>();
    }
}
