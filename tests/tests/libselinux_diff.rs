//! Differential tests against libselinux itself (feature `libselinux`):
//!
//! - file_contexts: our `FileContexts::lookup` against libselinux's
//!   `selabel_lookup_raw` (through `system::SelabelFileContexts`) on the
//!   fixture under tests/data/policy and on the system's file_contexts when
//!   one is installed; every path is looked up with no kind and with each of
//!   the seven kinds. The paths: every literal rule, paths generated from
//!   every regex rule, and random paths built from the rules' words.
//! - contexts: our parser against libselinux's `context_new` (the user,
//!   role, type and range it splits) on tests/data/contexts.txt and on
//!   generated contexts.
//!
//! Every disagreement fails the test and is printed with both answers.
//!
//! ```text
//! cargo test -p selinux-mcs-tests --features libselinux --test libselinux_diff -- --nocapture
//! ```
//!
//! The system's file_contexts is `$SELINUX_MCS_DIFF_FILE_CONTEXTS`, else
//! the one /etc/selinux/config names; when there is none the system test
//! says so and passes, unless `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1` (CI sets
//! it after installing selinux-policy-default).

#![cfg(feature = "libselinux")]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex_syntax::hir::{Class, Hir, HirKind};
use selinux::OpaqueSecurityContext;
use selinux_mcs::mls::MlsRange;
use selinux_mcs::policy::{FileContexts, Root};
use selinux_mcs::system::SelabelFileContexts;
use selinux_mcs::{FileKind, SecurityContext};
use selinux_mcs_tests::{context_vectors, data_file};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// Paths from regexes

/// The characters a generated path prefers, when the class allows them.
const PREFERRED: &[u8] = b"abcxyz019_-.ABZ";

/// Appends to `out` one string `hir` matches (`minimal`: the fewest
/// repetitions and the first alternative).
fn sample(hir: &Hir, rng: &mut Rng, minimal: bool, out: &mut Vec<u8>) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.extend_from_slice(&lit.0),
        HirKind::Class(class) => {
            let mut allowed: Vec<u8> = Vec::new();
            let mut any: Vec<u8> = Vec::new();
            let mut consider = |b: u8| {
                if PREFERRED.contains(&b) {
                    allowed.push(b);
                } else if (b' '..=b'~').contains(&b) || b == b'/' {
                    any.push(b);
                }
            };
            match class {
                Class::Unicode(c) => {
                    for r in c.ranges() {
                        for ch in r.start()..=r.end().min('\u{7f}') {
                            if ch.is_ascii() {
                                consider(ch as u8);
                            }
                        }
                    }
                }
                Class::Bytes(c) => {
                    for r in c.ranges() {
                        for b in r.start()..=r.end().min(0x7f) {
                            consider(b);
                        }
                    }
                }
            }
            // A '/' only where the class leaves nothing else.
            let no_slash: Vec<u8> = any.iter().copied().filter(|&b| b != b'/').collect();
            let choices = if !allowed.is_empty() {
                allowed
            } else if !no_slash.is_empty() {
                no_slash
            } else {
                any
            };
            if let Some(&b) = (!choices.is_empty()).then(|| rng.pick(&choices)) {
                out.push(b);
            }
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.unwrap_or(rep.min + 3).min(rep.min + 3);
            let n = if minimal {
                rep.min
            } else {
                rep.min + rng.below((max - rep.min + 1) as usize) as u32
            };
            for _ in 0..n {
                sample(&rep.sub, rng, minimal, out);
            }
        }
        HirKind::Capture(cap) => sample(&cap.sub, rng, minimal, out),
        HirKind::Concat(parts) => {
            for p in parts {
                sample(p, rng, minimal, out);
            }
        }
        HirKind::Alternation(alts) => {
            let alt = if minimal { &alts[0] } else { rng.pick(alts) };
            sample(alt, rng, minimal, out);
        }
    }
}

/// Paths that `regex` (a file_contexts regex) matches: the minimal one and
/// `extra` random ones. `None` when regex-syntax cannot read the regex.
fn paths_matching(regex: &str, rng: &mut Rng, extra: usize) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(regex)
        .ok()?;
    let mut out = Vec::new();
    for i in 0..=extra {
        let mut bytes = Vec::new();
        sample(&hir, rng, i == 0, &mut bytes);
        if let Ok(s) = String::from_utf8(bytes) {
            if s.starts_with('/') {
                out.push(s);
            }
        }
    }
    Some(out)
}

/// The words of the rules' path components (`etc`, `containers`, ...).
fn words(fc: &FileContexts) -> Vec<String> {
    let mut set = BTreeSet::new();
    for rule in fc.rules() {
        for part in rule.regex().split('/') {
            if !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
            {
                set.insert(part.to_owned());
            }
        }
    }
    set.into_iter().collect()
}

/// Random absolute paths of 1 to 6 components, mostly the rules' words.
fn random_paths(words: &[String], rng: &mut Rng, n: usize) -> Vec<String> {
    const SUFFIXES: &[&str] = &[
        "", "", "", ".so.1", ".log", ".conf", ".pid", "~", ".d", "-1",
    ];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let depth = 1 + rng.below(6);
        let mut p = String::new();
        for _ in 0..depth {
            p.push('/');
            if rng.below(5) == 0 || words.is_empty() {
                p.push_str(&format!("n{}", rng.below(1000)));
            } else {
                let w: &String = rng.pick(words);
                p.push_str(w);
            }
        }
        let suffix: &&str = rng.pick(SUFFIXES);
        p.push_str(suffix);
        out.push(p);
    }
    out
}

// ---------------------------------------------------------------------------
// Lookups

struct Tally {
    compared: usize,
    paths: usize,
    literal: usize,
    generated: usize,
    random: usize,
    unreadable_regexes: usize,
    failures: Vec<String>,
}

/// Compares every lookup of every path, with no kind and each kind.
fn compare(fc_path: &Path, random: usize, per_regex: usize, seed: u64) -> Tally {
    let ours = FileContexts::from_path(fc_path)
        .unwrap_or_else(|e| panic!("{} does not load: {e}", fc_path.display()));
    let theirs = SelabelFileContexts::open(fc_path)
        .unwrap_or_else(|e| panic!("libselinux cannot open {}: {e}", fc_path.display()));
    let mut rng = Rng(seed);
    let mut tally = Tally {
        compared: 0,
        paths: 0,
        literal: 0,
        generated: 0,
        random: 0,
        unreadable_regexes: 0,
        failures: Vec::new(),
    };
    let mut paths: Vec<String> = Vec::new();
    for rule in ours.rules() {
        if rule.is_exact() {
            paths.push(rule.regex().to_owned());
            tally.literal += 1;
        } else {
            match paths_matching(rule.regex(), &mut rng, per_regex) {
                Some(p) => {
                    tally.generated += p.len();
                    paths.extend(p);
                }
                None => tally.unreadable_regexes += 1,
            }
        }
    }
    let r = random_paths(&words(&ours), &mut rng, random);
    tally.random = r.len();
    paths.extend(r);
    tally.paths = paths.len();

    let kinds: Vec<Option<FileKind>> = std::iter::once(None)
        .chain(FileKind::ALL.into_iter().map(Some))
        .collect();
    for path in &paths {
        for &kind in &kinds {
            let p = Path::new(path);
            let mine = ours.lookup(p, kind);
            let lib = theirs
                .lookup_text(p, kind)
                .unwrap_or_else(|e| panic!("{path} [{kind:?}]: {e}"));
            // Equal as contexts: libselinux returns the file's text, ours
            // prints canonically.
            let lib_parsed = lib.as_deref().map(str::parse::<SecurityContext>);
            let agree = match (&mine, &lib_parsed) {
                (None, None) => true,
                (Some(m), Some(Ok(l))) => m == l,
                _ => false,
            };
            if !agree {
                let rule = ours
                    .lookup_rule(p, kind)
                    .map(|r| format!("{}:{}: {r}", r.source().display(), r.line()));
                tally.failures.push(format!(
                    "{path:?} kind {}: libselinux {}, ours {} (our rule: {})",
                    kind.map_or("-", FileKind::name),
                    lib.as_deref().unwrap_or("<<none>>"),
                    mine.as_ref()
                        .map_or("<<none>>".to_owned(), |c| c.to_string()),
                    rule.as_deref().unwrap_or("none"),
                ));
            }
            tally.compared += 1;
        }
    }
    eprintln!(
        "{}: {} rules; {} paths ({} literal rules, {} generated from regex rules, {} random; \
         {} regexes regex-syntax cannot read) x {} kinds: {} lookups compared with libselinux, {} disagreements",
        fc_path.display(),
        ours.len(),
        tally.paths,
        tally.literal,
        tally.generated,
        tally.random,
        tally.unreadable_regexes,
        kinds.len(),
        tally.compared,
        tally.failures.len(),
    );
    tally
}

fn assert_agree(t: &Tally) {
    assert!(
        t.failures.is_empty(),
        "{} of {} lookups disagree with libselinux:\n{}",
        t.failures.len(),
        t.compared,
        t.failures.join("\n")
    );
}

#[test]
fn lookups_agree_on_the_fixture() {
    let root = Root::new(data_file("policy/etc/selinux"));
    let path = root.file_contexts_path().unwrap();
    let t = compare(&path, 1500, 4, 0x5e11_0c5f_17e5);
    assert!(t.compared >= 10_000, "only {} lookups", t.compared);
    assert!(
        t.literal > 50 && t.generated > 1000,
        "{} {}",
        t.literal,
        t.generated
    );
    assert_agree(&t);
}

/// The same lookups libselinux 3.4 answered when lookups.expected was
/// recorded must still be libselinux's answers here (the fixture is read
/// the same way by the library at hand).
#[test]
fn recorded_lookups_are_libselinux_answers() {
    let root = Root::new(data_file("policy/etc/selinux"));
    let theirs = SelabelFileContexts::open(root.file_contexts_path().unwrap()).unwrap();
    let expected = std::fs::read_to_string(data_file("policy/lookups.expected")).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in expected.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let kind = (f[1] != "-").then(|| f[1].parse::<FileKind>().unwrap());
        let got = theirs
            .lookup_text(Path::new(f[0]), kind)
            .unwrap()
            .unwrap_or_else(|| "<<none>>".to_owned());
        if got != f[2] {
            failures.push(format!("{} [{}]: recorded {}, now {got}", f[0], f[1], f[2]));
        }
        n += 1;
    }
    eprintln!("{n} recorded lookups replayed through libselinux");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn system_file_contexts() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SELINUX_MCS_DIFF_FILE_CONTEXTS") {
        return Some(PathBuf::from(p));
    }
    Root::default()
        .file_contexts_path()
        .ok()
        .filter(|p| p.exists())
}

#[test]
fn lookups_agree_on_the_system_file_contexts() {
    let Some(path) = system_file_contexts() else {
        assert!(
            std::env::var("SELINUX_MCS_REQUIRE_SYSTEM_POLICY").as_deref() != Ok("1"),
            "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but no file_contexts is installed \
             (apt-get install selinux-policy-default)"
        );
        eprintln!("skipping: no system file_contexts (apt-get install selinux-policy-default)");
        return;
    };
    let t = compare(&path, 3000, 1, 0x00de_b1a4_2026);
    assert!(t.compared >= 10_000, "only {} lookups", t.compared);
    assert_agree(&t);
}

// ---------------------------------------------------------------------------
// Contexts

/// What libselinux's `context_new` splits `text` into: user, role, type and
/// the raw range (`None` without one); `None` when it refuses the text.
fn libselinux_fields(text: &str) -> Option<(String, String, String, Option<String>)> {
    let c = OpaqueSecurityContext::new(text).ok()?;
    let s = |r: Result<std::ffi::CString, _>| r.ok().map(|c| c.to_string_lossy().into_owned());
    Some((s(c.user())?, s(c.role())?, s(c.the_type())?, s(c.range())))
}

/// Our parse against context_new's split; `None` when they agree.
fn context_disagreement(text: &str, stats: &mut [usize; 3]) -> Option<String> {
    let ours = text.parse::<SecurityContext>();
    let lib = libselinux_fields(text);
    match (&ours, &lib) {
        (Err(_), None) => {
            stats[0] += 1;
            None
        }
        // Stricter than context_new by design: it splits at ':' and checks
        // nothing else (the kernel does the rest).
        (Err(_), Some(_)) => {
            stats[1] += 1;
            None
        }
        (Ok(c), None) => Some(format!(
            "{text:?}: ours accepts it as {c}, libselinux context_new refuses it"
        )),
        (Ok(c), Some((user, role, type_, range))) => {
            stats[2] += 1;
            let our_range = c.range();
            let their_range = range.as_deref().map(str::parse::<MlsRange>);
            let range_agrees = match (our_range, &their_range) {
                (None, None) => true,
                (Some(o), Some(Ok(t))) => o == t,
                _ => false,
            };
            if c.user() != user || c.role() != role || c.type_() != type_ || !range_agrees {
                return Some(format!(
                    "{text:?}: ours {}|{}|{}|{:?}, libselinux {user}|{role}|{type_}|{range:?}",
                    c.user(),
                    c.role(),
                    c.type_(),
                    our_range.map(|r| r.to_string())
                ));
            }
            // libselinux must read our canonical text back the same way,
            // and print it (context_str) unchanged.
            let canonical = c.to_string();
            let back = OpaqueSecurityContext::new(&canonical)
                .and_then(|o| o.to_c_string())
                .map(|s| s.to_string_lossy().into_owned());
            match back {
                Ok(s) if s == canonical => None,
                other => Some(format!(
                    "{text:?}: libselinux context_str of our canonical {canonical:?} gives {other:?}"
                )),
            }
        }
    }
}

fn generated_contexts(rng: &mut Rng, n: usize) -> Vec<String> {
    const NAMES: &[&str] = &[
        "system_u",
        "unconfined_u",
        "object_r",
        "system_r",
        "container_t",
        "container_file_t",
        "mycontainer.process",
        "t-1",
        "x",
        "",
        "a b",
    ];
    let cat = |rng: &mut Rng| format!("c{}", rng.below(1030));
    let level = |rng: &mut Rng| {
        let s = format!("s{}", rng.below(17));
        match rng.below(5) {
            0 => s,
            1 => format!("{s}:{},{}", cat(rng), cat(rng)),
            2 => format!("{s}:{}.{}", cat(rng), cat(rng)),
            3 => {
                let k = 1 + rng.below(6);
                let cats: Vec<String> = (0..k)
                    .map(|_| {
                        if rng.below(3) == 0 {
                            format!("{}.{}", cat(rng), cat(rng))
                        } else {
                            cat(rng)
                        }
                    })
                    .collect();
                format!("{s}:{}", cats.join(","))
            }
            _ => format!("{s}:{}", cat(rng)),
        }
    };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (u, r, t) = if rng.below(10) == 0 {
            (*rng.pick(NAMES), *rng.pick(NAMES), *rng.pick(NAMES))
        } else {
            ("system_u", "object_r", "container_file_t")
        };
        let mls = match rng.below(6) {
            0 => String::new(),
            1 | 2 => format!(":{}", level(rng)),
            3 => format!(":{}-{}", level(rng), level(rng)),
            4 => {
                // A range whose high is its low plus more categories.
                let low = level(rng);
                let extra = cat(rng);
                if low.contains(':') {
                    format!(":{low}-{low},{extra}")
                } else {
                    format!(":{low}-{low}:{extra}")
                }
            }
            _ => {
                // A broken one now and then.
                let broken = [
                    "s0:",
                    "s0:c1:",
                    "s0:c1,,c2",
                    "s0-",
                    "-s0",
                    "s0:c01",
                    "s0:c5.c1",
                ];
                format!(":{}", rng.pick(&broken))
            }
        };
        out.push(format!("{u}:{r}:{t}{mls}"));
    }
    out
}

#[test]
fn parser_agrees_with_context_new() {
    let mut texts: Vec<String> = context_vectors()
        .into_iter()
        .filter(|v| v.kind == "context" || v.kind == "mcs-context")
        .map(|v| v.text(0))
        .collect();
    let from_vectors = texts.len();
    let mut rng = Rng(0xc017_e775);
    texts.extend(generated_contexts(&mut rng, 20_000));
    // [both refuse, only context_new accepts, both accept]
    let mut stats = [0usize; 3];
    let failures: Vec<String> = texts
        .iter()
        .filter_map(|t| context_disagreement(t, &mut stats))
        .collect();
    eprintln!(
        "{} contexts ({from_vectors} from contexts.txt, the rest generated): {} accepted by both \
         and compared field by field, {} refused by both, {} split by context_new but refused by \
         our stricter parser; {} disagreements",
        texts.len(),
        stats[2],
        stats[0],
        stats[1],
        failures.len()
    );
    assert!(stats[2] > 5_000, "too few contexts compared: {}", stats[2]);
    assert!(
        failures.is_empty(),
        "{} disagreements with libselinux context_new:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// PCRE2 constructs

/// One rule per PCRE2 construct the `regex` crate lacks or reads otherwise
/// (the same list as the library's unit tests), each with its own type,
/// and paths that should and should not match it.
const PCRE_RULES: &[(&str, &[&[u8]])] = &[
    ("/b/a{b", &[b"/b/a{b", b"/b/ab"]),
    ("/b/x{,2}", &[b"/b/x{,2}", b"/b/x", b"/b/xx"]),
    ("/b/y{2}", &[b"/b/yy", b"/b/y{2}"]),
    ("/m/a(?#note)b", &[b"/m/ab", b"/m/a(?#note)b"]),
    ("/e/a\\eb", &[b"/e/a\x1bb", b"/e/aeb"]),
    ("/e/\\101", &[b"/e/A", b"/e/101"]),
    ("/e/\\cA", &[b"/e/\x01", b"/e/cA"]),
    ("/e/z\\Z", &[b"/e/z", b"/e/z\n", b"/e/zZ"]),
    (
        "/e/a\\hb",
        &[b"/e/a b", b"/e/a\tb", b"/e/a\xa0b", b"/e/a\nb", b"/e/ahb"],
    ),
    ("/e/a\\Nb", &[b"/e/axb", b"/e/a\nb"]),
    ("/e/\\p{L}", &[b"/e/q", b"/e/\xe9", b"/e/1", b"/e/\xd7"]),
    ("/q/\\Q.*\\E", &[b"/q/.*", b"/q/ab"]),
    ("/l/a(?=b)b", &[b"/l/ab", b"/l/ac"]),
    ("/l/(?!x)[a-z]", &[b"/l/a", b"/l/x"]),
    ("/l/.(?<=a)b", &[b"/l/ab", b"/l/cb"]),
    ("/r/(a|b)\\1", &[b"/r/aa", b"/r/bb", b"/r/ab"]),
    ("/p/a*+a", &[b"/p/aa", b"/p/a"]),
    ("/p/a++b", &[b"/p/aab", b"/p/b"]),
    ("/p/(?>a*)a", &[b"/p/aa"]),
    ("(?x)/x/a#c", &[b"/x/a", b"/x/abc", b"/x/b"]),
    ("/i/(?i)abc", &[b"/i/ABC", b"/i/abc", b"/i/abd"]),
    ("/w/\\<b\\>", &[b"/w/<b>", b"/w/b"]),
    ("/d/a$\\n", &[b"/d/a\n", b"/d/a"]),
    ("/t/a\\", &[b"/t/a$", b"/t/a"]),
];

/// Rules PCRE2 rejects: libselinux loads the file and fails the lookups
/// that reach the rule; we refuse to load it (see the `dialect` module).
const PCRE_REJECTED: &[&str] = &["/c/[\\d-z]", "/a**", "/b?*", "/c\\x{100}", "/d)", "/(e"];

#[test]
fn pcre_constructs_agree_with_selabel_lookup() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let fc_path = dir.path().join("file_contexts");
    let mut text = String::from("/.*  system_u:object_r:default_t:s0\n");
    for (i, (regex, _)) in PCRE_RULES.iter().enumerate() {
        text.push_str(&format!("{regex}  system_u:object_r:r{i}_t:s0\n"));
    }
    std::fs::write(&fc_path, &text).unwrap();
    let ours = FileContexts::from_path(&fc_path).unwrap();
    let theirs = SelabelFileContexts::open(&fc_path).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for (regex, paths) in PCRE_RULES {
        for path in *paths {
            let p = Path::new(OsStr::from_bytes(path));
            let mine = ours.lookup(p, None).map(|c| c.type_().to_owned());
            let lib = theirs
                .lookup_text(p, None)
                .unwrap_or_else(|e| panic!("{regex} on {p:?}: {e}"))
                .map(|t| t.parse::<SecurityContext>().unwrap().type_().to_owned());
            n += 1;
            if mine != lib {
                failures.push(format!(
                    "{regex} on {p:?}: libselinux {lib:?}, ours {mine:?}"
                ));
            }
        }
    }
    assert!(n > 50, "{n}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    for regex in PCRE_REJECTED {
        let text =
            format!("/.*  system_u:object_r:default_t:s0\n{regex}  system_u:object_r:bad_t:s0\n");
        std::fs::write(&fc_path, &text).unwrap();
        let e = FileContexts::from_path(&fc_path).expect_err(regex);
        assert!(
            e.to_string().contains("file_contexts:2: ") && e.to_string().contains("PCRE2"),
            "{e}"
        );
        // libselinux opens the file; a lookup that reaches the broken rule
        // (the last one, tried first) fails with ENOENT ("no context")
        // rather than fall through to `/.*`.
        let theirs = SelabelFileContexts::open(&fc_path).unwrap_or_else(|e| panic!("{regex}: {e}"));
        let answer = theirs.lookup_text(Path::new("/c/zzz"), None);
        assert!(
            matches!(answer, Ok(None) | Err(_)),
            "{regex}: libselinux answered {answer:?}"
        );
    }
}

/// `selabel_lookup` takes `.` and `..` as text (only `//` and a trailing
/// `/` are cleaned up): `/etc/./shadow` is not `/etc/shadow` to it, and
/// not to `FileContexts::lookup`. Resolving an existing path first is
/// `policy::lookup_path`'s job (restorecon's rule; `relabel lookup`).
#[test]
fn dot_components_are_text_to_selabel_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let fc_path = dir.path().join("file_contexts");
    std::fs::write(
        &fc_path,
        "/etc(/.*)?  system_u:object_r:etc_t:s0\n\
         /etc/shadow  system_u:object_r:shadow_t:s0\n\
         /usr/etc/shadow  system_u:object_r:usr_shadow_t:s0\n",
    )
    .unwrap();
    let ours = FileContexts::from_path(&fc_path).unwrap();
    let theirs = SelabelFileContexts::open(&fc_path).unwrap();
    for (path, want) in [
        ("/etc/./shadow", "etc_t"),
        ("/etc/x/../shadow", "etc_t"),
        ("//etc//shadow", "shadow_t"),
        ("/etc/shadow/", "shadow_t"),
        ("/etc/.", "etc_t"),
    ] {
        let lib = theirs.lookup_text(Path::new(path), None).unwrap();
        let lib = lib.map(|t| t.parse::<SecurityContext>().unwrap().type_().to_owned());
        let mine = ours.lookup(path, None).map(|c| c.type_().to_owned());
        assert_eq!(lib.as_deref(), Some(want), "libselinux on {path}");
        assert_eq!(mine, lib, "{path}");
    }
}

/// Issue 13: `Restorer::restore` against `selinux_restorecon(RECURSE)` on
/// two identical trees, one each, with the same file_contexts and the
/// system's customizable types: every label ends up byte for byte the same,
/// and both say something failed (the entry whose label is not a context,
/// which both leave as it is). Not in the trees: a label with a bad MLS
/// field (`s0:c5.c1`): libselinux checks nothing but the colons when SELinux
/// is off, as here, and rewrites its type; on an enabled kernel that write
/// fails with EINVAL, which is what ours reports without writing.
#[test]
fn restore_matches_selinux_restorecon() {
    use std::ffi::CString;
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let entries: &[(&str, Option<&[u8]>)] = &[
        ("", None),
        ("d", None),
        ("d/home", Some(b"unconfined_u:object_r:user_home_t:s0:c1\0")),
        ("d/public", Some(b"system_u:object_r:public_content_t:s0\0")),
        ("garbage", Some(b"garbage\0")),
        (
            "web",
            Some(b"system_u:object_r:httpd_sys_rw_content_t:s0\0"),
        ),
        ("bin", Some(b"system_u:object_r:etc_t:s0\0")),
        ("none", Some(b"system_u:object_r:etc_t:s0\0")),
    ];
    let build = |root: &Path| {
        std::fs::create_dir_all(root.join("d")).unwrap();
        for (name, label) in entries {
            let p = root.join(name);
            if !p.exists() {
                std::fs::write(&p, "").unwrap();
            }
            if let Some(label) = label {
                rustix::fs::lsetxattr(
                    &p,
                    "security.selinux",
                    label,
                    rustix::fs::XattrFlags::empty(),
                )
                .unwrap();
            }
        }
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
    };
    let (a, b) = (base.join("A"), base.join("B"));
    build(&a);
    build(&b);
    let fc = base.join("file_contexts");
    std::fs::write(
        &fc,
        format!(
            "{0}/[AB](/.*)?\tsystem_u:object_r:container_file_t:s0\n\
             {0}/[AB]/bin\t--\tsystem_u:object_r:bin_t:s0\n\
             {0}/[AB]/none\t<<none>>\n\
             {0}/[AB]/link\t-l\tsystem_u:object_r:link_t:s0\n",
            base.display()
        ),
    )
    .unwrap();

    // libselinux on A.
    let fc_c = CString::new(fc.to_str().unwrap()).unwrap();
    let opts = [selinux_sys::selinux_opt {
        type_: selinux_sys::SELABEL_OPT_PATH as _,
        value: fc_c.as_ptr(),
    }];
    // SAFETY: opts points at one valid option whose string outlives the call.
    let handle =
        unsafe { selinux_sys::selabel_open(selinux_sys::SELABEL_CTX_FILE as _, opts.as_ptr(), 1) };
    assert!(!handle.is_null(), "selabel_open {}", fc.display());
    let a_c = CString::new(a.to_str().unwrap()).unwrap();
    // SAFETY: a live handle; a NUL-terminated path. The handle is left to
    // libselinux (it keeps using it), as restorecon(8) does.
    let rc = unsafe {
        selinux_sys::selinux_restorecon_set_sehandle(handle);
        selinux_sys::selinux_restorecon(a_c.as_ptr(), selinux_sys::SELINUX_RESTORECON_RECURSE as _)
    };

    // Ours on B.
    let mut restorer = selinux_mcs::policy::Restorer::new(FileContexts::from_path(&fc).unwrap());
    restorer.customizable_types(Root::default().customizable_types().unwrap());
    let mut restore = restorer.restore();
    restore.recursive(true);
    let report = restore.run_all(&[&b]).unwrap();

    let raw = |p: &Path| {
        let mut buf = [0u8; 256];
        rustix::fs::lgetxattr(p, "security.selinux", &mut buf).map(|n| buf[..n].to_vec())
    };
    for name in entries.iter().map(|e| e.0).chain(["link"]) {
        let (la, lb) = (raw(&a.join(name)), raw(&b.join(name)));
        assert_eq!(
            la.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
            lb.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
            "{name:?}: libselinux vs ours"
        );
    }
    assert_eq!(rc, -1, "libselinux reports the unusable label");
    assert_eq!(report.failed, 1, "{:?}", report.failures);
    assert_eq!(report.failures[0].path, b.join("garbage"));
    // public_content_t is customizable in Debian's policy: both left it.
    let customizable = Root::default().customizable_types().unwrap();
    if customizable.contains("public_content_t") {
        assert_eq!(report.customized_paths, [b.join("d/public")]);
    }
}
