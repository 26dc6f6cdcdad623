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

/// Where a category list goes: into a set, or, in a pass that only checks
/// the text, into a flag that says there were categories.
trait Sink {
    fn insert(&mut self, c: Category);
    fn insert_range(&mut self, low: Category, high: Category);
}

impl Sink for CategorySet {
    #[inline(always)]
    fn insert(&mut self, c: Category) {
        CategorySet::insert(self, c);
    }
    #[inline(always)]
    fn insert_range(&mut self, low: Category, high: Category) {
        CategorySet::insert_range(self, low, high);
    }
}

impl Sink for bool {
    #[inline(always)]
    fn insert(&mut self, _: Category) {
        *self = true;
    }
    #[inline(always)]
    fn insert_range(&mut self, _: Category, _: Category) {
        *self = true;
    }
}

/// Where a level goes: a [`Level`], or its [`Shape`].
trait LevelSink {
    type Categories: Sink;
    fn set_sensitivity(&mut self, s: Sensitivity);
    fn categories(&mut self) -> &mut Self::Categories;
    fn copy_from(&mut self, other: &Self);
}

impl LevelSink for Level {
    type Categories = CategorySet;
    #[inline(always)]
    fn set_sensitivity(&mut self, s: Sensitivity) {
        self.sensitivity = s;
    }
    #[inline(always)]
    fn categories(&mut self) -> &mut CategorySet {
        &mut self.categories
    }
    #[inline(always)]
    fn copy_from(&mut self, other: &Level) {
        // Field by field: copying the whole level is a call to `memcpy`,
        // which costs more than the two fields.
        self.sensitivity = other.sensitivity;
        self.categories = other.categories;
    }
}

/// What the checking pass keeps of a level: its sensitivity, and whether it
/// has categories.
#[derive(Default, Clone, Copy)]
struct Shape {
    sensitivity: Sensitivity,
    categories: bool,
}

impl LevelSink for Shape {
    type Categories = bool;
    #[inline(always)]
    fn set_sensitivity(&mut self, s: Sensitivity) {
        self.sensitivity = s;
    }
    #[inline(always)]
    fn categories(&mut self) -> &mut bool {
        &mut self.categories
    }
    #[inline(always)]
    fn copy_from(&mut self, other: &Shape) {
        *self = *other;
    }
}

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
/// the third are all printable ASCII other than space (0x21 to 0x7e).
///
/// Every parse starts here, and a byte loop (or `memchr`, whose setup costs
/// more than these short strings) took more time than the rest of the parse.
/// The validity flag may also cover a few bytes after the third `:`; a false
/// flag only sends the names through the exact check in `Cx::name`.
///
/// On x86-64 it looks at 16 bytes per step with SSE2 (part of the x86-64
/// baseline, so no run-time detection): about 30 instructions for a typical
/// 35-byte `user:role:type:` against 120 for the portable 8-byte version.
#[inline]
fn scan_names(b: &[u8]) -> ([usize; 3], usize, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        scan_names_sse2(b)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scan_names_swar(b)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn scan_names_sse2(b: &[u8]) -> ([usize; 3], usize, bool) {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_set1_epi8,
    };
    let n = b.len();
    if n < 16 {
        // `u:r:t:s0` and other short ones.
        return scan_names_bytes(b);
    }
    // Colons and non-printable bytes among the 16 bytes at `at`.
    let step = |at: usize| -> (u64, u64) {
        debug_assert!(at + 16 <= n);
        // SAFETY: SSE2 is always present on x86-64; every caller passes
        // `at + 16 <= b.len()`, and the load is unaligned.
        let (colon_bits, ok_bits) = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(at).cast::<__m128i>());
            // Signed compares: bytes >= 0x80 are negative, so `> 0x20` is
            // false for them as for controls and space; 0x7f is the one
            // byte above '~' left.
            let ok = _mm_andnot_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
                _mm_cmpgt_epi8(v, _mm_set1_epi8(0x20)),
            );
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b':' as i8))) as u32,
                _mm_movemask_epi8(ok) as u32,
            )
        };
        (u64::from(colon_bits), u64::from(!ok_bits & 0xffff))
    };
    // The first 64 bytes (or all, when shorter) as four 16-byte steps, the
    // later ones moved back to end at the end of the input: no loop whose
    // length depends on where the colons are, so no branch that mispredicts
    // when the names' lengths vary from one context to the next.
    let (mut colon, mut bad) = (0u64, 0u64);
    for k in 0..4 {
        let at = (16 * k).min(n - 16);
        let (c, x) = step(at);
        colon |= c << at;
        bad |= x << at;
    }
    let first = colon.trailing_zeros();
    colon &= colon.wrapping_sub(1);
    let second = colon.trailing_zeros();
    colon &= colon.wrapping_sub(1);
    let third = colon.trailing_zeros();
    if third == 64 && n > 64 {
        // Names longer than 64 bytes: rare enough for the portable scan.
        return scan_names_swar(b);
    }
    // Bytes past the third colon (or past the input) do not count.
    let before = if third == 64 {
        u64::MAX
    } else {
        (1u64 << third) - 1
    };
    let at = |tz: u32| if tz == 64 { n } else { tz as usize };
    let found = usize::from(first < 64) + usize::from(second < 64) + usize::from(third < 64);
    ([at(first), at(second), at(third)], found, bad & before == 0)
}

/// [`scan_names`] a byte at a time: for inputs too short for a vector, and
/// the reference the fast versions are tested against.
fn scan_names_bytes(b: &[u8]) -> ([usize; 3], usize, bool) {
    let mut colons = [b.len(); 3];
    let mut found = 0;
    let mut plain = true;
    for (i, &c) in b.iter().enumerate() {
        if c == b':' {
            colons[found] = i;
            found += 1;
            if found == 3 {
                break;
            }
        } else {
            plain &= plain_name_byte(c);
        }
    }
    (colons, found, plain)
}

/// The portable version of [`scan_names`], eight bytes at a time.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_names_swar(b: &[u8]) -> ([usize; 3], usize, bool) {
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

/// nom's `char(':')` for this parser: one byte compared, where `char`
/// decodes a UTF-8 character and `tag` compares through a generic loop (and
/// either, when not inlined, costs a call per level).
#[inline(always)]
fn colon(input: &str) -> Res<'_, ()> {
    match input.as_bytes().first() {
        Some(b':') => Ok((&input[1..], ())),
        _ => Err(nom::Err::Error(E::Mismatch)),
    }
}

#[inline]
fn continues_word(rest: &[u8]) -> bool {
    rest.first().is_some_and(|&b| WORD[usize::from(b)])
}

/// Bytes that continue a word (`c12x` is not `c12` then `x`): ASCII letters
/// and digits, `_`, and every non-ASCII byte. A table, since every number in
/// a context ends with this test.
static WORD: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    t
};

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
    fn category_list_into<S: Sink>(&self, input: &'a str, set: &mut S) -> Res<'a, ()> {
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
    #[inline(always)]
    fn level_prefix<S: LevelSink>(&self, input: &'a str, out: &mut S) -> Res<'a, bool> {
        // The sensitivity is almost always `s0`: take that without the
        // general number parser.
        let rest = match input.as_bytes() {
            [b's', b'0', rest @ ..] if !continues_word(rest) => {
                out.set_sensitivity(Sensitivity::new(0));
                &input[2..]
            }
            _ => {
                let (rest, sens) = self.sensitivity(input)?;
                out.set_sensitivity(sens);
                rest
            }
        };
        let (rest, cats) = opt(preceded(colon, |i| {
            self.category_list_into(i, out.categories())
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
    fn level_into<S: LevelSink>(&self, input: &'a str, out: &mut S) -> Res<'a, ()> {
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
    #[inline(always)]
    fn level_pair_into<S: LevelSink>(
        &self,
        input: &'a str,
        low: &mut S,
        high: &mut S,
    ) -> Res<'a, bool> {
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
                high.copy_from(low);
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
        Ok(("", true))
    }

    /// `LOW` or `LOW-HIGH` where HIGH dominates LOW, into `range`.
    #[inline(always)]
    fn range_into(&self, input: &'a str, range: &mut MlsRange) -> Res<'a, ()> {
        let (_, two) = self.level_pair_into(input, &mut range.low, &mut range.high)?;
        // A single level is its own high: nothing to check.
        if two {
            if !range.high.dominates(&range.low) {
                return fail(ParseError::HighDoesNotDominateLow {
                    offset: self.off(input),
                    text: input.to_owned(),
                    low: range.low.to_string(),
                    high: range.high.to_string(),
                });
            }
            if range.low == range.high {
                // `s0-s0` prints as `s0`.
                self.canonical.set(false);
            }
        }
        Ok(("", ()))
    }

    /// Checks an MLS field without building its category sets, and tells
    /// whether the sets can be left out: the text is canonical (so it is the
    /// canonical text) and the range needs no dominance check beyond the
    /// sensitivities (its low level has no categories). When it returns
    /// false, [`range_into`](Self::range_into) parses the field again into
    /// sets.
    ///
    /// Both passes run the same generic code, so they accept the same text
    /// and report the same errors; the one check only the second pass makes
    /// is dominance when the low level has categories.
    #[inline(always)]
    fn range_is_plain(&self, input: &'a str) -> Result<bool, ParseError> {
        let (mut low, mut high) = (Shape::default(), Shape::default());
        let (_, two) = self
            .level_pair_into(input, &mut low, &mut high)
            .map_err(finish)?;
        if two
            && (low.categories
                || high.sensitivity < low.sensitivity
                || (!high.categories && high.sensitivity == low.sensitivity))
        {
            // Dominance to check with sets, a range that does not dominate
            // (reported by the second pass), or `s0-s0`, printed `s0`.
            return Ok(false);
        }
        Ok(self.canonical.get())
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
        inner.range.clear();
        if found == 3 {
            let mls = &input[colons[2] + 1..];
            if mls.is_empty() {
                return Err(ParseError::EmptyLevel {
                    offset: self.off(mls),
                    expected: "a level such as s0 or s0:c1,c2",
                });
            }
            if !self.range_is_plain(mls)? {
                self.canonical.set(true);
                self.range_into(mls, inner.range.fill_mut())
                    .map_err(finish)?;
            }
        }
        inner.names_end = colons[2] as u32;
        inner.role_at = colons[0] as u32 + 1;
        inner.type_at = colons[1] as u32 + 1;
        if self.canonical.get() {
            inner.text.set(input);
        } else {
            inner.text = Text::canonical(&input[..colons[2]], inner.range.get());
        }
        Ok(SecurityContext::from_block(inner))
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

/// Writes into `range` (which starts as `s0`) the range of an MLS field
/// this parser has already accepted (the canonical text of a parsed
/// context), read without checking it again.
///
/// A parsed context builds its range on first use, and reading known-good
/// text this way costs a third of what parsing it again with every check
/// would. Given other
/// text it writes some range rather than failing, and never panics; debug
/// builds compare it with the checking parser.
pub(crate) fn accepted_range(mls: &str, range: &mut MlsRange) {
    fn number(b: &[u8], i: &mut usize) -> u32 {
        // Skip the `s` or `c`, then the digits.
        *i += 1;
        let mut n: u32 = 0;
        while let Some(&d) = b.get(*i) {
            let d = d.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Accepted text has at most five digits; wrapping only keeps
            // other text from panicking.
            n = n.wrapping_mul(10).wrapping_add(u32::from(d));
            *i += 1;
        }
        n
    }
    fn level(b: &[u8], i: &mut usize, out: &mut Level) {
        out.sensitivity = Sensitivity::new(number(b, i).min(u32::from(u16::MAX)) as u16);
        if b.get(*i) != Some(&b':') {
            return;
        }
        *i += 1;
        loop {
            let lo = number(b, i);
            let hi = if b.get(*i) == Some(&b'.') {
                *i += 1;
                number(b, i)
            } else {
                lo
            };
            let cat = |n: u32| Category::new(n.min(u32::from(u16::MAX)) as u16);
            match (cat(lo), cat(hi)) {
                (Some(lo), Some(hi)) if lo == hi => {
                    out.categories.insert(lo);
                }
                (Some(lo), Some(hi)) => out.categories.insert_range(lo, hi),
                _ => {}
            }
            if b.get(*i) != Some(&b',') {
                return;
            }
            *i += 1;
        }
    }
    let b = mls.as_bytes();
    let mut i = 0;
    level(b, &mut i, &mut range.low);
    if b.get(i) == Some(&b'-') {
        i += 1;
        level(b, &mut i, &mut range.high);
    } else {
        range.high.copy_from(&range.low);
    }
    debug_assert_eq!(
        Some(*range),
        self::range(mls, &Limits::WIDEST).ok(),
        "{mls}"
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Colons and a bad byte at many positions in strings of every length
    /// up to 80: the scanners agree with the reference on the colons, and
    /// never call names plain that are not (they may call plain names bad,
    /// which only costs the exact check).
    #[test]
    fn scanners_agree_with_the_reference() {
        type Scan = fn(&[u8]) -> ([usize; 3], usize, bool);
        let scanners: [(&str, Scan); 2] = [("scan_names", scan_names), ("swar", scan_names_swar)];
        for len in 0..80 {
            for (a, b, c) in [
                (0, 1, 2),
                (1, 5, 9),
                (7, 16, 31),
                (15, 16, 17),
                (8, 30, 47),
                (20, 50, 66),
                (3, 63, 64),
            ] {
                for bad_at in [
                    None,
                    Some(0),
                    Some(3),
                    Some(15),
                    Some(16),
                    Some(33),
                    Some(60),
                ] {
                    for bad in [b' ', b'\n', 0x7f, 0xc3, 0xff] {
                        let mut s = vec![b'x'; len];
                        for at in [a, b, c] {
                            if at < len {
                                s[at] = b':';
                            }
                        }
                        if let Some(at) = bad_at.filter(|&at| at < len) {
                            s[at] = bad;
                        }
                        let want = scan_names_bytes(&s);
                        for (name, scan) in scanners {
                            let got = scan(&s);
                            assert_eq!((got.0, got.1), (want.0, want.1), "{name} on {s:?}");
                            assert!(want.2 || !got.2, "{name} called {s:?} plain");
                        }
                    }
                }
            }
        }
    }
}
