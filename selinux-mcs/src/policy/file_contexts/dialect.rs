//! The regex dialect of file_contexts: libselinux compiles each rule's
//! regex with PCRE2. Patterns both engines read alike are matched with the
//! `regex` crate; the rest with PCRE2 itself (see [`regex_tail`]).

use std::sync::OnceLock;

use super::Tail;

/// Why a regex cannot be used: PCRE2 rejects it (the message says where
/// and why).
#[derive(Debug)]
pub(super) struct RegexProblem(pub(super) String);

/// Whether the regex has a `|` outside every group and class, which makes
/// libselinux's `^...$` anchoring apply to its first and last branches only.
pub(super) fn has_top_level_alternation(body: &[u8]) -> bool {
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
pub(super) fn class_end(re: &[u8], start: usize) -> usize {
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

/// Patterns at most this long, that pass [`simple_syntax_ok`] and hold no
/// counted repetition, are sure to compile with the `regex` crate (see
/// [`regex_tail`]).
pub(super) const SURE_TO_COMPILE_LEN: usize = 128;

/// How a rule's regex is matched, given the whole regex as written
/// (`regex`, for errors) and `body`, the part after its stem, which
/// libselinux anchors as `^BODY$` and compiles with PCRE2 (option
/// `PCRE2_DOTALL` only: byte mode, no UTF, ASCII classes).
///
/// # Which engine
///
/// - A pattern in the subset both engines read alike
///   ([`simple_syntax_ok`]: literals, punctuation escapes, `\d\w\s\n\t`,
///   `.`, bracket classes of literals and ranges, `(...)`, `(?:...)`, `|`,
///   `^`, and one `? * + {n} {n,} {n,m}` after an atom) is matched with the
///   `regex` crate as `^BODY(?:\n)?$` (PCRE's `$` also matches before a
///   final newline), which is what makes lookups fast and lets the index
///   put these regexes in a `RegexSet`. Nearly every rule of a real policy
///   is of this kind. A property test checks that PCRE2 compiles every
///   pattern of the subset and matches it exactly as the `regex` crate does.
/// - Anything else (`[\d-z]`, a literal `{`, `(?#...)`, `\e \101 \cA \Z \h
///   \N \p{L} \Q...\E`, look-around, backreferences, atomic groups,
///   possessive quantifiers, `(?x)`, an inner `$`, `\<`...) is compiled with
///   PCRE2 itself, at load, and matched with it: the same engine and the
///   same pattern as libselinux, so the same answer by construction. So is
///   a subset pattern too big for the `regex` crate's size limit.
///
/// # A pattern PCRE2 rejects
///
/// `a**`, `b?*`, `\x{100}` (above 255 without UTF), `(`: is a load error
/// naming the file and line ([`RegexProblem`]). The set of rejected
/// patterns is exactly PCRE2's; what follows from a rejection differs from
/// libselinux on purpose. There the rule is compiled on first use and a
/// failed compile fails every lookup that reaches the rule (one whose path
/// no later rule matched) with `ENOENT`, the answer for "no context": those
/// paths silently get no label, even where an earlier rule (`/.*`) would
/// have given one, and the rest of the tree is labeled (checked against
/// `selabel_lookup` in `tests/tests/libselinux_diff.rs`). Here the file does not load,
/// as for any other malformed line: a policy with a broken rule is found
/// when it is loaded, not on the first path that happens to reach it.
///
/// # Which PCRE2
///
/// The `pcre2` crate links the system's `libpcre2-8` when pkg-config finds
/// it (the library libselinux itself uses), else builds its vendored copy
/// (10.46). PCRE2 10.43 changed one thing file_contexts can meet: `x{,2}`
/// was the literal text `x{,2}` and became a quantifier. libselinux 3.4
/// (Debian 12, PCRE2 10.42) is the reference, so [`pcre2_pattern`] escapes
/// every `{` that PCRE2 10.42 reads as a literal, and every PCRE2 answers
/// as 10.42 does.
///
/// Compiling every `regex` crate pattern at load would make loading
/// Debian's policy ten times slower, so subset patterns that are sure to
/// compile (at most [`SURE_TO_COMPILE_LEN`] bytes, no counted repetition:
/// their nesting stays under the parser's limit of 250 and their program
/// far under the compiler's limit of 10 MiB; the tests check a pattern at
/// the length limit) are compiled on first use, as libselinux does.
pub(super) fn regex_tail(regex: &str, body: &str) -> Result<Tail, RegexProblem> {
    let simple = simple_syntax_ok(body.as_bytes());
    if simple {
        // `$` in PCRE also matches before a final newline; the regex crate's
        // does not, so say it.
        let pattern = format!("^{body}(?:\n)?$");
        if body.len() <= SURE_TO_COMPILE_LEN && !body.contains('{') {
            return Ok(Tail::Regex {
                pattern: pattern.into(),
                compiled: OnceLock::new(),
            });
        }
        if let Ok(re) = compile(&pattern) {
            return Ok(Tail::Regex {
                pattern: pattern.into(),
                compiled: OnceLock::from(re),
            });
        }
        // Too big for the regex crate: PCRE2 below.
    }
    let pattern = pcre2_pattern(body);
    let compiled = compile_pcre2(&pattern).map_err(|e| {
        let stem_len = regex.len() - body.len();
        // The offset is in `^BODY$` (after the `{` escapes, if any).
        let at = match e.offset() {
            Some(off) if pattern.len() == body.len() + 2 => {
                format!(
                    " at byte {}",
                    (stem_len + off).saturating_sub(1).min(regex.len())
                )
            }
            _ => String::new(),
        };
        let message = e.to_string();
        let message = message.rsplit(": ").next().unwrap_or(&message);
        RegexProblem(format!(
            "invalid regex {regex:?}: PCRE2 rejects it{at}: {message}"
        ))
    })?;
    Ok(Tail::Pcre2 {
        pattern: pattern.into(),
        compiled,
    })
}

/// `^BODY$` for PCRE2, with every `{` that PCRE2 10.42 reads as a literal
/// escaped (`x{,2}`, `a{b`, `{`), so that later PCRE2 versions (10.43 made
/// `{,n}` a quantifier) read the pattern as 10.42 does. Braces that belong
/// to an escape (`\x{41}`, `\p{L}`), lie in `\Q...\E` or in a `(?#...)`
/// comment are left alone; inside a bracket class `\{` is `{` anyway.
pub(super) fn pcre2_pattern(body: &str) -> String {
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len() + 4);
    out.push('^');
    let mut i = 0;
    let mut quoted = false;
    while i < b.len() {
        if quoted {
            if b[i..].starts_with(b"\\E") {
                quoted = false;
                out.push_str("\\E");
                i += 2;
            } else {
                out.push(b[i] as char);
                i += 1;
            }
            continue;
        }
        match b[i] {
            b'\\' => match b.get(i + 1) {
                Some(b'Q') => {
                    quoted = true;
                    out.push_str("\\Q");
                    i += 2;
                }
                Some(&c) if b"xopPgkN".contains(&c) && b.get(i + 2) == Some(&b'{') => {
                    let end = b[i..]
                        .iter()
                        .position(|&x| x == b'}')
                        .map_or(b.len(), |p| i + p + 1);
                    out.push_str(&body[i..end]);
                    i = end;
                }
                Some(&c) => {
                    out.push('\\');
                    out.push(c as char);
                    i += 2;
                }
                None => {
                    out.push('\\');
                    i += 1;
                }
            },
            b'(' if b[i..].starts_with(b"(?#") => {
                let end = b[i..]
                    .iter()
                    .position(|&x| x == b')')
                    .map_or(b.len(), |p| i + p + 1);
                out.push_str(&body[i..end]);
                i = end;
            }
            b'{' if !is_pcre2_10_42_quantifier(&b[i..]) => {
                out.push_str("\\{");
                i += 1;
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out.push('$');
    out
}

/// Whether `text` starts with a quantifier as PCRE2 10.42 reads one:
/// `{n}`, `{n,}` or `{n,m}` (digits only).
fn is_pcre2_10_42_quantifier(text: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some(rest) = text.strip_prefix(b"{") else {
        return false;
    };
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    match &rest[n..] {
        [b'}', ..] => true,
        [b',', more @ ..] => {
            let m = digits(more);
            more.get(m) == Some(&b'}')
        }
        _ => false,
    }
}

/// Compiles `^BODY$` as libselinux does (`pcre2_compile` with
/// `PCRE2_DOTALL`), with the JIT where PCRE2 has one.
pub(super) fn compile_pcre2(pattern: &str) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    pcre2::bytes::RegexBuilder::new()
        .dotall(true)
        .jit_if_available(true)
        .build(pattern)
}

/// A quick check for the regex subset file_contexts use (literals,
/// punctuation escapes, `\d\w\s`-style classes, `.`, bracket classes
/// without POSIX names, groups, `|`, and `? * + {n} {n,} {n,m}` after an
/// atom). `true` only when the `regex` crate is sure to accept the pattern,
/// PCRE2 accepts it too, and both match the same subjects (tested against
/// `regex_syntax` and PCRE2); anything else is compiled with PCRE2.
pub(super) fn simple_syntax_ok(re: &[u8]) -> bool {
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
            // PCRE's `$` also matches before a final newline, the regex
            // crate's does not: an inner `$` is left to PCRE2.
            b'$' => return false,
            b'^' => atom = false,
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
pub(super) fn simple_class_end(re: &[u8], start: usize) -> Option<usize> {
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
            // (`&&`, `--`, `~~`): leave them to PCRE2.
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

pub(super) fn compile(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
}
