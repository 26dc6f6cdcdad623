//! The nom parser for contexts, ranges, levels and category lists.
//!
//! Structure comes from nom combinators; every semantic check (limits,
//! leading zeros, range order, dominance) fails with `nom::Err::Failure`
//! carrying a finished [`ParseError`], so no backtracking can replace a
//! precise message with a vague one.

use nom::bytes::complete::take_till;
use nom::character::complete::{char, digit1};
use nom::combinator::opt;
use nom::multi::fold_many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::error::{Field, ParseError};
use super::SecurityContext;
use crate::mls::{Category, CategorySet, Level, Limits, MlsRange, Sensitivity};

/// nom's error type here: either a plain mismatch (recoverable, for `opt`
/// and `fold_many0`) or a finished error.
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

/// Parsing state: the whole input (for offsets) and the limits.
struct Cx<'a> {
    base: &'a str,
    limits: &'a Limits,
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

fn continues_word(rest: &str) -> bool {
    rest.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
}

impl<'a> Cx<'a> {
    fn off(&self, s: &str) -> usize {
        s.as_ptr() as usize - self.base.as_ptr() as usize
    }

    /// `prefix` then a decimal number with no leading zero. Returns the value
    /// (saturated, so huge numbers still compare above any limit).
    fn number(&self, input: &'a str, prefix: char) -> Res<'a, u32> {
        let (rest, digits) = match preceded(char::<&'a str, E>(prefix), digit1).parse(input) {
            Ok(ok) if !continues_word(ok.0) => ok,
            _ => {
                let text = token(input).to_owned();
                let offset = self.off(input);
                return fail(if prefix == 's' {
                    ParseError::InvalidSensitivity { offset, text }
                } else {
                    ParseError::InvalidCategory { offset, text }
                });
            }
        };
        if digits.len() > 1 && digits.starts_with('0') {
            let trimmed = digits.trim_start_matches('0');
            let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
            return fail(ParseError::LeadingZero {
                offset: self.off(input),
                text: input[..1 + digits.len()].to_owned(),
                expected: format!("{prefix}{trimmed}"),
            });
        }
        let value = if digits.len() > 9 {
            u32::MAX
        } else {
            digits
                .bytes()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        Ok((rest, value))
    }

    fn sensitivity(&self, input: &'a str) -> Res<'a, Sensitivity> {
        let (rest, n) = self.number(input, 's')?;
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

    fn category(&self, input: &'a str) -> Res<'a, Category> {
        let (rest, n) = self.number(input, 'c')?;
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

    /// `cN` or `cA.cB` with A < B, as an inclusive pair.
    fn item(&self, input: &'a str) -> Res<'a, (Category, Category)> {
        if input.is_empty() || input.starts_with([',', ':', '-']) {
            return fail(ParseError::EmptyCategory {
                offset: self.off(input),
            });
        }
        let (rest, low) = self.category(input)?;
        let (rest, high) = opt(preceded(char('.'), |i| self.category(i))).parse(rest)?;
        match high {
            None => Ok((rest, (low, low))),
            Some(high) if low < high => Ok((rest, (low, high))),
            Some(_) => fail(ParseError::CategoryRangeOrder {
                offset: self.off(input),
                text: input[..input.len() - rest.len()].to_owned(),
            }),
        }
    }

    /// Items joined by `,`; duplicates, overlaps and any order fold into one set.
    fn category_list(&self, input: &'a str) -> Res<'a, CategorySet> {
        let (rest, (lo, hi)) = self.item(input)?;
        fold_many0(
            preceded(char(','), |i| self.item(i)),
            move || CategorySet::range(lo, hi),
            |mut set, (lo, hi)| {
                set.insert_range(lo, hi);
                set
            },
        )
        .parse(rest)
    }

    fn level(&self, input: &'a str) -> Res<'a, Level> {
        let (rest, sens) = self.sensitivity(input)?;
        let (rest, cats) = opt(preceded(char(':'), |i| self.category_list(i))).parse(rest)?;
        if !rest.is_empty() {
            return fail(ParseError::Unexpected {
                offset: self.off(rest),
                text: rest.to_owned(),
                expected: if cats.is_some() {
                    AFTER_CATEGORY
                } else {
                    AFTER_SENSITIVITY
                },
            });
        }
        Ok((rest, Level::new(sens, cats.unwrap_or_default())))
    }

    /// `LOW` or `LOW-HIGH`, split at the first `-`, without the dominance
    /// check (go-selinux's `CalculateGlbLub` accepts such pairs).
    fn level_pair(&self, input: &'a str) -> Res<'a, (Level, Level)> {
        let (rest, low_text) = take_till(|c| c == '-').parse(input)?;
        let high_text = opt(preceded(char('-'), |i: &'a str| Ok(("", i))))
            .parse(rest)?
            .1;
        if low_text.is_empty() {
            return fail(ParseError::EmptyLevel {
                offset: self.off(low_text),
                expected: if high_text.is_some() {
                    "a low level before '-', such as s0"
                } else {
                    "a level such as s0 or s0:c1,c2"
                },
            });
        }
        let (_, low) = self.level(low_text)?;
        let Some(high_text) = high_text else {
            return Ok(("", (low, low)));
        };
        if high_text.is_empty() {
            return fail(ParseError::EmptyLevel {
                offset: self.off(high_text),
                expected: "a high level after '-', such as s0:c0.c1023",
            });
        }
        let (_, high) = self.level(high_text)?;
        Ok(("", (low, high)))
    }

    /// `LOW` or `LOW-HIGH` where HIGH dominates LOW.
    fn range(&self, input: &'a str) -> Res<'a, MlsRange> {
        let (rest, (low, high)) = self.level_pair(input)?;
        match MlsRange::new(low, high) {
            Ok(range) => Ok((rest, range)),
            Err(_) => fail(ParseError::HighDoesNotDominateLow {
                offset: self.off(input),
                text: input.to_owned(),
                low: low.to_string(),
                high: high.to_string(),
            }),
        }
    }

    fn name(&self, input: &'a str, field: Field) -> Result<(), ParseError> {
        if input.is_empty() {
            return Err(ParseError::EmptyName {
                field,
                offset: self.off(input),
            });
        }
        let bad = if input.bytes().all(|b| b > b' ' && b < 0x7f) {
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
    fn context(&self, input: &'a str) -> Result<SecurityContext, ParseError> {
        if input.is_empty() {
            return Err(ParseError::EmptyContext);
        }
        let until_colon = || take_till::<_, &'a str, E>(|c| c == ':');
        let missing = |field, rest: &str| ParseError::MissingField {
            field,
            offset: self.off(rest),
            text: self.base.to_owned(),
        };
        let (rest, user) = until_colon().parse(input).map_err(finish)?;
        self.name(user, Field::User)?;
        let (rest, _) = char::<_, E>(':')
            .parse(rest)
            .map_err(|_| missing(Field::Role, rest))?;
        let (rest, role) = until_colon().parse(rest).map_err(finish)?;
        self.name(role, Field::Role)?;
        let (rest, _) = char::<_, E>(':')
            .parse(rest)
            .map_err(|_| missing(Field::Type, rest))?;
        let (rest, ty) = until_colon().parse(rest).map_err(finish)?;
        self.name(ty, Field::Type)?;
        let range = match opt(preceded(char::<_, E>(':'), |i: &'a str| Ok(("", i))))
            .parse(rest)
            .map_err(finish)?
            .1
        {
            None => None,
            Some(mls) => Some(self.range(mls).map_err(finish)?.1),
        };
        let names_len = ty.as_ptr() as usize + ty.len() - input.as_ptr() as usize;
        Ok(SecurityContext::from_parts(
            &input[..names_len],
            user.len() as u32 + 1,
            (user.len() + role.len()) as u32 + 2,
            range,
        ))
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
    let cx = Cx {
        base: input,
        limits,
    };
    parser(&cx, input).map(|(_, v)| v).map_err(finish)
}

pub(crate) fn context(input: &str, limits: &Limits) -> Result<SecurityContext, ParseError> {
    Cx {
        base: input,
        limits,
    }
    .context(input)
}

pub(crate) fn range(input: &str, limits: &Limits) -> Result<MlsRange, ParseError> {
    whole(input, limits, |cx, i| cx.range(i))
}

pub(crate) fn level_pair(input: &str, limits: &Limits) -> Result<(Level, Level), ParseError> {
    whole(input, limits, |cx, i| cx.level_pair(i))
}

pub(crate) fn level(input: &str, limits: &Limits) -> Result<Level, ParseError> {
    if input.is_empty() {
        return Err(ParseError::EmptyLevel {
            offset: 0,
            expected: "a level such as s0 or s0:c1,c2",
        });
    }
    whole(input, limits, |cx, i| cx.level(i))
}

pub(crate) fn category_list(input: &str, limits: &Limits) -> Result<CategorySet, ParseError> {
    whole(input, limits, |cx, i| {
        let (rest, set) = cx.category_list(i)?;
        if rest.is_empty() {
            Ok((rest, set))
        } else {
            fail(ParseError::Unexpected {
                offset: cx.off(rest),
                text: rest.to_owned(),
                expected: AFTER_CATEGORY,
            })
        }
    })
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
