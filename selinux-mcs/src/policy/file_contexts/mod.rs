//! `file_contexts`: the rules that give each path its default label
//! (libselinux's `selabel_lookup` on a `SELABEL_CTX_FILE` handle,
//! `matchpathcon`).
//!
//! The exact semantics are documented on [`FileContexts`].
//!
//! - `parse`: the lines of file_contexts and substitution files, and what
//!   each rule's regex is made of (literal prefix, stem, fast shape);
//! - `dialect`: the PCRE2 dialect libselinux compiles, checked and
//!   translated for the `regex` crate;
//! - `index`: the prefix trie and regex sets that make lookups fast.

use std::borrow::Cow;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::{read_optional_policy_file, read_policy_file, PolicyError, STRING_SOURCE};
use crate::{FileKind, SecurityContext};

mod dialect;
mod index;
mod parse;
#[cfg(test)]
mod tests;

use dialect::compile;
use index::{Trie, NO_SLOT};
use parse::{parse_rules, parse_subs};

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
    /// A regex both engines read alike, in `regex` crate syntax, compiled
    /// on first use when it is sure to compile, else at load (see
    /// `dialect::regex_tail`).
    Regex {
        pattern: Box<str>,
        compiled: OnceLock<regex::bytes::Regex>,
    },
    /// Any other regex: `^BODY$` compiled with PCRE2 at load, as
    /// libselinux compiles it.
    Pcre2 {
        pattern: Box<str>,
        compiled: pcre2::bytes::Regex,
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
            Tail::Pcre2 { pattern, .. } => write!(f, "Pcre2({pattern:?})"),
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
        if let Tail::Pcre2 { compiled, .. } = &self.tail {
            // A match error (PCRE2's match or depth limit, reached by
            // catastrophic backtracking) counts as no match; libselinux
            // fails the lookup instead.
            return compiled.is_match(subject).unwrap_or(false);
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
            Tail::Regex { .. } | Tail::Pcre2 { .. } => false,
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
/// 5. Regexes are PCRE2 regexes, anchored as libselinux anchors them:
///    `^` + REGEX + `$` (so a top-level `a|b` is `^a` or `b$`), with
///    `PCRE2_DOTALL` (`.` matches a newline) on bytes, and `$` also
///    matching before a final newline. Every PCRE2 construct works
///    (`\Q...\E`, `(?#...)`, look-around, backreferences, `\p{L}`, ...),
///    and a regex PCRE2 rejects (`a**`, `\x{100}`) is a load error naming
///    its file and line, where libselinux fails the lookups that reach that
///    rule (the reasons are on the `dialect` module's `regex_tail`).
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
/// comparing bytes, not by a regex; other regexes are matched with the
/// `regex` crate when PCRE2 and it read them alike (compiled on first use
/// when they are sure to compile, as libselinux compiles on first use), and
/// with PCRE2 itself, compiled at load, otherwise (`[\d-z]`, `a{b`,
/// `\Q...\E`, look-ahead, ...). Where a node's list holds many regexes, a `RegexSet` of them (built on first use) says
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
