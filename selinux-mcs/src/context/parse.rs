//! The nom parser for contexts, ranges, levels and category lists.
//!
//! Structure comes from nom combinators (`opt`, `preceded`, `char`, the
//! `IResult`/`Parser` protocol); the two loops every parse runs -- splitting
//! the names and reading category lists -- are hand-written nom parsers over
//! bytes, because they decide whether a parse takes 50 or 200 nanoseconds.
//! Every semantic check (limits,
//! leading zeros, range order, dominance) fails with `nom::Err::Failure`
//! carrying a finished [`ParseError`], so no backtracking can replace a
//! precise message with a vague one.

use std::cell::Cell;

use nom::character::complete::char;
use nom::combinator::opt;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::error::{Field, ParseError};
use super::{SecurityContext, Text};
use crate::mls::{Category, CategorySet, Level, Limits, MlsRange, Sensitivity};

/// nom's error type here: either a plain mismatch (recoverable, for `opt`)
/// or a finished error.
#[derive(Debug)]
enum E {
    Mismatch,
    Fail(Box<ParseError>),
}

impl<'a> nom::error::ParseError<&'a str> for E {
    fn from_error_kind(_: &'a str, _: nom::error::ErrorKind) -> E {
        E::Mismatch
    }
    fn append(_: &'a str, _: nom::error::ErrorKind, other: E) -> E {
        other
    }
}

type Res<'a, O> = IResult<&'a str, O, E>;

const AFTER_SENSITIVITY: &str = "':' and a category list, or the end of the level";
const AFTER_CATEGORY: &str = "',' and another category, or the end of the level";

/// Parsing state: the whole input (for offsets), the limits, and whether the
/// MLS text seen so far is already in canonical form (then the input itself
/// can be kept as the canonical text, with no printing).
struct Cx<'a> {
    base: &'a str,
    limits: &'a Limits,
    canonical: Cell<bool>,
}

impl<'a> Cx<'a> {
    fn new(base: &'a str, limits: &'a Limits) -> Cx<'a> {
        Cx {
            base,
            limits,
            canonical: Cell::new(true),
        }
    }
}

fn fail<O>(e: ParseError) -> Result<O, nom::Err<E>> {
    Err(nom::Err::Failure(E::Fail(Box::new(e))))
}

/// The text of the token that starts `s`: up to the next separator.
fn token(s: &str) -> &str {
    let end = s.find([',', ':', '-', '.']).unwrap_or(s.len());
    if end == 0 {
        // Show at least the separator that stands where a token should be.
        s.get(..1).unwrap_or("")
    } else {
        &s[..end]
    }
}

/// Finds the first three `:` of a context and tells whether the bytes up to
/// the third are all printable ASCII other than space (0x21 to 0x7e), eight
/// bytes at a time.
///
/// Every parse starts here, and a byte loop (or `memchr`, whose setup costs
/// more than these short strings) took more time than the rest of the parse.
/// The validity flag may also cover a few bytes after the third `:`; a false
/// flag only sends the names through the exact check in `Cx::name`.
#[inline]
fn scan_names(b: &[u8]) -> ([usize; 3], usize, bool) {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    const LOW7: u64 = !HIGH;
    let mut colons = [b.len(); 3];
    let mut found = 0;
    let mut bad = 0u64;
    let mut i = 0;
    while found < 3 && i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let w = u64::from_le_bytes(word);
        // High bit set in each byte below 0x21, and in each byte above 0x7e.
        bad |= (w.wrapping_sub(ONES * 0x21) & !w) | (w.wrapping_add(ONES) | w);
        // Exact per-byte test for ':' (no false positives across bytes).
        let x = w ^ (ONES * u64::from(b':'));
        let mut colon_bits = !(((x & LOW7).wrapping_add(LOW7)) | x) & HIGH;
        while colon_bits != 0 && found < 3 {
            colons[found] = i + (colon_bits.trailing_zeros() / 8) as usize;
            found += 1;
            colon_bits &= colon_bits - 1;
        }
        i += 8;
    }
    let mut plain = bad & HIGH == 0;
    while found < 3 && i < b.len() {
        let c = b[i];
        if c == b':' {
            colons[found] = i;
            found += 1;
        } else {
            plain &= plain_name_byte(c);
        }
        i += 1;
    }
    (colons, found, plain)
}

#[inline]
fn continues_word(rest: &[u8]) -> bool {
    rest.first()
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}

/// A byte that may appear in a name without a closer look: printable ASCII
/// other than ':' (which ends the name) and space.
#[inline]
fn plain_name_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f
}

impl<'a> Cx<'a> {
    fn off(&self, s: &str) -> usize {
        s.as_ptr() as usize - self.base.as_ptr() as usize
    }

    /// `prefix` then a decimal number with no leading zero. Returns the value
    /// (saturated, so huge numbers still compare above any limit).
    ///
    /// Hand-written rather than `preceded(char, digit1)`: this is the
    /// innermost loop of every category list, and working on bytes keeps a
    /// whole context parse within a few dozen nanoseconds.
    #[inline]
    fn number(&self, input: &'a str, prefix: u8) -> Res<'a, u32> {
        let b = input.as_bytes();
        let mut i = 1;
        let mut value: u32 = 0;
        if b.first() == Some(&prefix) {
            while let Some(&d) = b.get(i) {
                if !d.is_ascii_digit() {
                    break;
                }
                value = value.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                i += 1;
            }
        }
        if i == 1 || b.first() != Some(&prefix) || continues_word(&b[i..]) {
            let text = token(input).to_owned();
            let offset = self.off(input);
            return fail(if prefix == b's' {
                ParseError::InvalidSensitivity { offset, text }
            } else {
                ParseError::InvalidCategory { offset, text }
            });
        }
        if i > 2 && b[1] == b'0' {
            let digits = &input[1..i];
            let trimmed = digits.trim_start_matches('0');
            let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
            return fail(ParseError::LeadingZero {
                offset: self.off(input),
                text: input[..i].to_owned(),
                expected: format!("{}{trimmed}", char::from(prefix)),
            });
        }
        Ok((&input[i..], value))
    }

    fn sensitivity(&self, input: &'a str) -> Res<'a, Sensitivity> {
        let (rest, n) = self.number(input, b's')?;
        let max = self.limits.max_sensitivity().number();
        if n > u32::from(max) {
            return fail(ParseError::SensitivityAboveLimit {
                offset: self.off(input),
                text: input[..input.len() - rest.len()].to_owned(),
                max,
            });
        }
        Ok((rest, Sensitivity::new(n as u16)))
    }

    #[inline]
    fn category(&self, input: &'a str) -> Res<'a, Category> {
        let (rest, n) = self.number(input, b'c')?;
        let max = self.limits.max_category().number();
        match Category::new(n.min(u32::from(u16::MAX)) as u16) {
            Some(c) if n <= u32::from(max) => Ok((rest, c)),
            _ => fail(ParseError::CategoryAboveLimit {
                offset: self.off(input),
                text: input[..input.len() - rest.len()].to_owned(),
                max,
            }),
        }
    }

    /// `c` and a category number at byte `i` of `input`; returns the
    /// category and the index after it.
    #[inline(always)]
    fn category_at(&self, input: &'a str, i: usize) -> Result<(Category, usize), nom::Err<E>> {
        let b = input.as_bytes();
        if b.get(i) != Some(&b'c') {
            return Err(self.bad_number(&input[i..], b'c'));
        }
        // No category has more than four digits (c1023): read them
        // unrolled; a fifth digit, like every other error, goes to the exact
        // (cold) parser in `bad_number`.
        let digit = |k: usize| b.get(i + k).map_or(10, |&c| c.wrapping_sub(b'0'));
        let first = digit(1);
        if first > 9 {
            return Err(self.bad_number(&input[i..], b'c'));
        }
        let mut value = u32::from(first);
        let mut j = i + 2;
        for k in 2..=5 {
            let d = digit(k);
            if d > 9 {
                break;
            }
            value = value * 10 + u32::from(d);
            j += 1;
        }
        let digits = j - i - 1;
        if digits > 4
            || (digits > 1 && first == 0)
            || value > u32::from(self.limits.max_category().number())
            || continues_word(&b[j..])
        {
            return Err(self.bad_number(&input[i..], b'c'));
        }
        match Category::new(value as u16) {
            Some(c) => Ok((c, j)),
            None => Err(self.bad_number(&input[i..], b'c')),
        }
    }

    /// The error for a sensitivity or category that `number` rejects; kept
    /// out of line so the hot loop stays small.
    #[cold]
    #[inline(never)]
    fn bad_number(&self, input: &'a str, prefix: u8) -> nom::Err<E> {
        let err = if prefix == b'c' {
            self.category(input).err()
        } else {
            self.sensitivity(input).err()
        };
        err.unwrap_or(nom::Err::Failure(E::Fail(Box::new(
            ParseError::InvalidCategory {
                offset: self.off(input),
                text: token(input).to_owned(),
            },
        ))))
    }

    #[cold]
    #[inline(never)]
    fn empty_category(&self, rest: &'a str) -> nom::Err<E> {
        nom::Err::Failure(E::Fail(Box::new(ParseError::EmptyCategory {
            offset: self.off(rest),
        })))
    }

    #[cold]
    #[inline(never)]
    fn range_order(&self, item: &'a str) -> nom::Err<E> {
        nom::Err::Failure(E::Fail(Box::new(ParseError::CategoryRangeOrder {
            offset: self.off(item),
            text: item.to_owned(),
        })))
    }

    /// Items (`cN` or `cA.cB`, A < B) joined by `,`, folded into `set`;
    /// duplicates, overlaps and any order are accepted.
    ///
    /// This is the innermost loop of every parse, so it walks bytes by index
    /// and fills the 128-byte set in place instead of threading items through
    /// combinators; errors are
    /// built out of line. It also checks whether the list is written exactly
    /// as the kernel prints it: ascending maximal runs, a run of one as `cN`,
    /// of two as `cA,cB`, of three or more as `cA.cB`.
    fn category_list_into(&self, input: &'a str, set: &mut CategorySet) -> Res<'a, ()> {
        let b = input.as_bytes();
        let mut i = 0;
        // End of the current run, and whether that run is a lone `cN` that
        // a following `cN+1` may turn into a canonical run of two.
        let mut prev_end: Option<u16> = None;
        let mut pair_open = false;
        let mut canonical = true;
        loop {
            let start = i;
            if matches!(b.get(i), None | Some(b',' | b':' | b'-')) {
                return Err(self.empty_category(&input[i..]));
            }
            let (lo, j) = self.category_at(input, i)?;
            i = j;
            let hi = if b.get(i) == Some(&b'.') {
                let (hi, j) = self.category_at(input, i + 1)?;
                i = j;
                if hi <= lo {
                    return Err(self.range_order(&input[start..i]));
                }
                hi
            } else {
                lo
            };
            let (l, h) = (lo.number(), hi.number());
            let gap = prev_end.is_none_or(|p| l > p + 1);
            if lo == hi {
                set.insert(lo);
                if gap {
                    pair_open = true;
                } else if pair_open && prev_end == Some(l.wrapping_sub(1)) {
                    pair_open = false;
                } else {
                    canonical = false;
                }
            } else {
                set.insert_range(lo, hi);
                canonical &= gap && h - l >= 2;
                pair_open = false;
            }
            prev_end = Some(h);
            if b.get(i) == Some(&b',') {
                i += 1;
                continue;
            }
            if !canonical {
                self.canonical.set(false);
            }
            return Ok((&input[i..], ()));
        }
    }

    /// A level (`s0`, `s0:c1,c5.c9`) at the start of `input`, written into
    /// `out`; returns the rest and whether a category list was read.
    fn level_prefix(&self, input: &'a str, out: &mut Level) -> Res<'a, bool> {
        // The sensitivity is almost always `s0`: take that without the
        // general number parser.
        let rest = match input.as_bytes() {
            [b's', b'0', rest @ ..] if !continues_word(rest) => {
                out.sensitivity = Sensitivity::new(0);
                &input[2..]
            }
            _ => {
                let (rest, sens) = self.sensitivity(input)?;
                out.sensitivity = sens;
                rest
            }
        };
        let (rest, cats) = opt(preceded(char(':'), |i| {
            self.category_list_into(i, &mut out.categories)
        }))
        .parse(rest)?;
        Ok((rest, cats.is_some()))
    }

    /// The error for text left after a level.
    #[cold]
    #[inline(never)]
    fn after_level(&self, rest: &'a str, had_categories: bool) -> nom::Err<E> {
        nom::Err::Failure(E::Fail(Box::new(ParseError::Unexpected {
            offset: self.off(rest),
            text: rest.to_owned(),
            expected: if had_categories {
                AFTER_CATEGORY
            } else {
                AFTER_SENSITIVITY
            },
        })))
    }

    /// A whole level, written into `out`.
    fn level_into(&self, input: &'a str, out: &mut Level) -> Res<'a, ()> {
        let (rest, cats) = self.level_prefix(input, out)?;
        if !rest.is_empty() {
            return Err(self.after_level(rest, cats));
        }
        Ok((rest, ()))
    }

    /// `LOW` or `LOW-HIGH` into `low` and `high` (`high` = `low` when there
    /// is no `-`), without the dominance check (go-selinux's
    /// `CalculateGlbLub` accepts such pairs).
    ///
    /// The grammar splits at the first `-`. No level holds a `-`, so reading
    /// the low level until it stops and then expecting `-` or the end is the
    /// same split, without a separate scan for the `-`.
    /// Returns whether a high level was written (a `-` was present).
    fn level_pair_into(&self, input: &'a str, low: &mut Level, high: &mut Level) -> Res<'a, bool> {
        if input.is_empty() || input.starts_with('-') {
            return fail(ParseError::EmptyLevel {
                offset: self.off(input),
                expected: if input.is_empty() {
                    "a level such as s0 or s0:c1,c2"
                } else {
                    "a low level before '-', such as s0"
                },
            });
        }
        let (rest, cats) = self.level_prefix(input, low)?;
        let high_text = match rest.as_bytes().first() {
            None => {
                *high = *low;
                return Ok(("", false));
            }
            Some(b'-') => &rest[1..],
            Some(_) => return Err(self.after_level(rest, cats)),
        };
        if high_text.is_empty() {
            return fail(ParseError::EmptyLevel {
                offset: self.off(high_text),
                expected: "a high level after '-', such as s0:c0.c1023",
            });
        }
        self.level_into(high_text, high)?;
        if low == high {
            // `s0-s0` prints as `s0`.
            self.canonical.set(false);
        }
        Ok(("", true))
    }

    /// `LOW` or `LOW-HIGH` where HIGH dominates LOW, into `range`.
    fn range_into(&self, input: &'a str, range: &mut MlsRange) -> Res<'a, ()> {
        let (_, two) = self.level_pair_into(input, &mut range.low, &mut range.high)?;
        // A single level is its own high: nothing to check.
        if two && !range.high.dominates(&range.low) {
            return fail(ParseError::HighDoesNotDominateLow {
                offset: self.off(input),
                text: input.to_owned(),
                low: range.low.to_string(),
                high: range.high.to_string(),
            });
        }
        Ok(("", ()))
    }

    fn name(&self, input: &'a str, field: Field) -> Result<(), ParseError> {
        if input.is_empty() {
            return Err(ParseError::EmptyName {
                field,
                offset: self.off(input),
            });
        }
        let bad = if input.bytes().all(plain_name_byte) {
            None
        } else {
            input
                .char_indices()
                .find(|(_, c)| c.is_whitespace() || c.is_control())
        };
        match bad {
            None => Ok(()),
            Some((i, found)) => Err(ParseError::InvalidName {
                field,
                offset: self.off(input) + i,
                text: input.to_owned(),
                found,
            }),
        }
    }

    /// `user:role:type[:range]`.
    #[inline]
    fn context(&self, input: &'a str) -> Result<SecurityContext, ParseError> {
        if input.is_empty() {
            return Err(ParseError::EmptyContext);
        }
        let b = input.as_bytes();
        let (colons, found, plain) = scan_names(b);
        let missing = |field, at: usize| ParseError::MissingField {
            field,
            offset: at,
            text: self.base.to_owned(),
        };
        if found == 0 {
            self.name(input, Field::User)?;
            return Err(missing(Field::Role, b.len()));
        }
        if found == 1 {
            self.name(&input[..colons[0]], Field::User)?;
            self.name(&input[colons[0] + 1..], Field::Role)?;
            return Err(missing(Field::Type, b.len()));
        }
        let (user, role, ty) = (
            &input[..colons[0]],
            &input[colons[0] + 1..colons[1]],
            &input[colons[1] + 1..colons[2]],
        );
        if plain && !user.is_empty() && !role.is_empty() && !ty.is_empty() {
            // Fast path: every name byte is printable ASCII.
        } else {
            self.name(user, Field::User)?;
            self.name(role, Field::Role)?;
            self.name(ty, Field::Type)?;
        }
        // Filled in place: the context's block is allocated once and the
        // range is parsed straight into it.
        let mut inner = SecurityContext::block();
        inner.range = None;
        if found == 3 {
            let mls = &input[colons[2] + 1..];
            if mls.is_empty() {
                return Err(ParseError::EmptyLevel {
                    offset: self.off(mls),
                    expected: "a level such as s0 or s0:c1,c2",
                });
            }
            let range = inner.range.insert(MlsRange::single(Level::s0()));
            self.range_into(mls, range).map_err(finish)?;
        }
        inner.names_end = colons[2] as u32;
        inner.role_at = colons[0] as u32 + 1;
        inner.type_at = colons[1] as u32 + 1;
        if self.canonical.get() {
            inner.text.set(input);
        } else {
            inner.text = Text::canonical(&input[..colons[2]], inner.range.as_ref());
        }
        Ok(SecurityContext(Some(inner)))
    }
}

fn finish(e: nom::Err<E>) -> ParseError {
    match e {
        nom::Err::Failure(E::Fail(e)) | nom::Err::Error(E::Fail(e)) => *e,
        // Every mismatch that can reach the top is turned into a specific
        // error above; this arm only keeps the conversion total.
        _ => ParseError::Unexpected {
            offset: 0,
            text: String::new(),
            expected: "a valid context",
        },
    }
}

fn whole<'a, O>(
    input: &'a str,
    limits: &'a Limits,
    parser: impl FnOnce(&Cx<'a>, &'a str) -> Res<'a, O>,
) -> Result<O, ParseError> {
    let cx = Cx::new(input, limits);
    parser(&cx, input).map(|(_, v)| v).map_err(finish)
}

#[inline]
pub(crate) fn context(input: &str, limits: &Limits) -> Result<SecurityContext, ParseError> {
    Cx::new(input, limits).context(input)
}

pub(crate) fn range(input: &str, limits: &Limits) -> Result<MlsRange, ParseError> {
    let mut range = MlsRange::single(Level::s0());
    whole(input, limits, |cx, i| cx.range_into(i, &mut range))?;
    Ok(range)
}

pub(crate) fn level_pair(input: &str, limits: &Limits) -> Result<(Level, Level), ParseError> {
    let (mut low, mut high) = (Level::s0(), Level::s0());
    whole(input, limits, |cx, i| {
        cx.level_pair_into(i, &mut low, &mut high)
    })?;
    Ok((low, high))
}

pub(crate) fn level(input: &str, limits: &Limits) -> Result<Level, ParseError> {
    if input.is_empty() {
        return Err(ParseError::EmptyLevel {
            offset: 0,
            expected: "a level such as s0 or s0:c1,c2",
        });
    }
    let mut level = Level::s0();
    whole(input, limits, |cx, i| cx.level_into(i, &mut level))?;
    Ok(level)
}

pub(crate) fn category_list(input: &str, limits: &Limits) -> Result<CategorySet, ParseError> {
    let mut set = CategorySet::new();
    whole(input, limits, |cx, i| {
        let (rest, ()) = cx.category_list_into(i, &mut set)?;
        if rest.is_empty() {
            Ok((rest, ()))
        } else {
            fail(ParseError::Unexpected {
                offset: cx.off(rest),
                text: rest.to_owned(),
                expected: AFTER_CATEGORY,
            })
        }
    })?;
    Ok(set)
}

/// Parses a raw `security.selinux` value: one trailing NUL is stripped, any
/// other NUL is an error, and the rest must be UTF-8.
pub(crate) fn context_bytes(raw: &[u8], limits: &Limits) -> Result<SecurityContext, ParseError> {
    let body = raw.strip_suffix(b"\0").unwrap_or(raw);
    if let Some(offset) = body.iter().position(|&b| b == 0) {
        return Err(ParseError::Nul { offset });
    }
    let text = std::str::from_utf8(body).map_err(|e| ParseError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    context(text, limits)
}
