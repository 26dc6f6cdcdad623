//! Parsing file_contexts and substitution files, and reading each rule's
//! regex the way libselinux does (metacharacters, stem, literal prefix).

use std::path::Path;
use std::sync::Arc;

use super::dialect::{has_top_level_alternation, regex_tail, RegexProblem};
use super::{Rule, Substitution, Tail, NO_LABEL};
use crate::policy::PolicyError;
use crate::{FileKind, SecurityContext};

pub(super) fn parse_rules(
    text: &str,
    source: &Arc<Path>,
    out: &mut Vec<Rule>,
) -> Result<(), PolicyError> {
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
        let compiled = analyse(regex).map_err(|RegexProblem(message)| syntax(message))?;
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

pub(super) fn parse_subs(
    text: &str,
    source: &Path,
    out: &mut Vec<Substitution>,
) -> Result<(), PolicyError> {
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
pub(super) struct Analysis {
    exact: bool,
    stem: Option<Box<[u8]>>,
    literal: Box<[u8]>,
    tail: Tail,
}

pub(super) const META: &[u8] = b".^$?*+|[({";

/// libselinux's `spec_hasMetaChars`: a metacharacter, skipping the
/// character after each `\`.
pub(super) fn has_meta(regex: &[u8]) -> bool {
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
pub(super) fn stem_of(regex: &[u8]) -> Option<usize> {
    let second = regex.get(1..)?.iter().position(|&b| b == b'/')? + 1;
    if regex[..second].iter().any(|b| META.contains(b)) {
        return None;
    }
    Some(second)
}

pub(super) fn analyse(regex: &str) -> Result<Analysis, RegexProblem> {
    let bytes = regex.as_bytes();
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
        _ => regex_tail(regex, body)?,
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
pub(super) fn literal_prefix(body: &[u8]) -> (Vec<u8>, usize) {
    let mut literal = Vec::new();
    let mut i = 0;
    let mut last_atom: Option<(usize, usize)> = None; // (literal len, raw pos) before it
    while i < body.len() {
        let c = body[i];
        // An unmatched `)` is a PCRE2 error: leave it to the regex.
        if c == b')' {
            return (literal, i);
        }
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
