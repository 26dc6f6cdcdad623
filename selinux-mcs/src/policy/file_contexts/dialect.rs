//! The regex dialect of file_contexts: libselinux compiles each rule's
//! regex with PCRE; here it is checked and translated for the `regex`
//! crate.

use std::borrow::Cow;

use crate::policy::read::human_size;

/// Why a regex cannot be used.
pub(super) enum RegexProblem {
    Unsupported(String),
    Invalid(String),
}

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

/// PCRE constructs the `regex` crate lacks, named in the error.
pub(super) fn check_pcre_only(regex: &str) -> Result<(), RegexProblem> {
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
pub(super) const SURE_TO_COMPILE_LEN: usize = 128;

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
pub(super) fn anchored(
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
pub(super) fn pcre_literal_escapes(body: &str) -> Cow<'_, str> {
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

pub(super) fn compile(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .build()
}
