//! MLS ranges and the glb/lub calculation.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::{Level, Limits};
use crate::context::parse;
use crate::ParseError;

/// An MLS range `LOW-HIGH` whose high level dominates its low level.
///
/// The invariant is checked once, at construction, so every `MlsRange` is one
/// the kernel would accept. A single level is the range `L-L`, printed `L`.
///
/// ```
/// use selinux_mcs::mls::MlsRange;
/// let r: MlsRange = "s0-s0:c0.c1023".parse().unwrap();
/// assert_eq!(r.to_string(), "s0-s0:c0.c1023");
/// assert_eq!("s0-s0".parse::<MlsRange>().unwrap().to_string(), "s0");
/// assert!("s0:c1-s0".parse::<MlsRange>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MlsRange {
    pub(crate) low: Level,
    pub(crate) high: Level,
}

/// Why a range could not be built or combined.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelMathError {
    /// The high level does not dominate the low level; the kernel rejects
    /// such a range.
    #[error("range {low}-{high}: the high level {high} does not dominate the low level {low}")]
    HighDoesNotDominateLow {
        /// The low level.
        low: Box<Level>,
        /// The high level.
        high: Box<Level>,
    },
    /// The sensitivity spans of two ranges do not overlap, so they have no
    /// common part.
    #[error("ranges {first} and {second} do not overlap: one's high sensitivity is below the other's low sensitivity")]
    Disjoint {
        /// The first range.
        first: Box<MlsRange>,
        /// The second range.
        second: Box<MlsRange>,
    },
}

impl MlsRange {
    /// The range `low-high`, or an error when `high` does not dominate `low`.
    pub fn new(low: Level, high: Level) -> Result<MlsRange, LevelMathError> {
        if high.dominates(&low) {
            Ok(MlsRange { low, high })
        } else {
            Err(LevelMathError::HighDoesNotDominateLow {
                low: Box::new(low),
                high: Box::new(high),
            })
        }
    }

    /// The range holding exactly one level.
    pub const fn single(level: Level) -> MlsRange {
        MlsRange {
            low: level,
            high: level,
        }
    }

    /// Parses a range checking its levels against `limits`.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<MlsRange, ParseError> {
        parse::range(text, limits)
    }

    /// The low (current, effective) level.
    pub const fn low(&self) -> &Level {
        &self.low
    }

    /// The high (clearance) level.
    pub const fn high(&self) -> &Level {
        &self.high
    }

    /// Whether low and high are the same level.
    pub fn is_single(&self) -> bool {
        self.low == self.high
    }

    /// Whether `self` contains `other`: `other`'s low dominates `self`'s low
    /// and `self`'s high dominates `other`'s high.
    pub fn contains(&self, other: &MlsRange) -> bool {
        other.low.dominates(&self.low) && self.high.dominates(&other.high)
    }

    /// Whether the level lies within the range.
    pub fn contains_level(&self, level: &Level) -> bool {
        level.dominates(&self.low) && self.high.dominates(level)
    }

    /// The part two ranges have in common, computed as go-selinux's
    /// `CalculateGlbLub` does: the low level takes the higher of the low
    /// sensitivities and the common low categories, the high level the lower
    /// of the high sensitivities and the common high categories.
    ///
    /// Differs from go-selinux in one way: where that calculation yields a
    /// high that does not dominate its low (go-selinux returns such a range,
    /// `s4:c0.c50,c140-s4`, which the kernel rejects), this returns
    /// [`LevelMathError::HighDoesNotDominateLow`].
    ///
    /// ```
    /// use selinux_mcs::mls::MlsRange;
    /// let a: MlsRange = "s0:c0.c100-s10:c0.c150".parse().unwrap();
    /// let b: MlsRange = "s5:c50.c100-s15:c0.c149".parse().unwrap();
    /// assert_eq!(a.glb_lub(&b).unwrap().to_string(), "s5:c50.c100-s10:c0.c149");
    /// ```
    #[doc(alias = "CalculateGlbLub")]
    pub fn glb_lub(&self, other: &MlsRange) -> Result<MlsRange, LevelMathError> {
        let (s, t) = (self, other);
        if s.high.sensitivity() < t.low.sensitivity() || t.high.sensitivity() < s.low.sensitivity()
        {
            return Err(LevelMathError::Disjoint {
                first: Box::new(*s),
                second: Box::new(*t),
            });
        }
        let low = Level::new(
            s.low.sensitivity().max(t.low.sensitivity()),
            s.low.categories().intersection(t.low.categories()),
        );
        let high = Level::new(
            s.high.sensitivity().min(t.high.sensitivity()),
            s.high.categories().intersection(t.high.categories()),
        );
        MlsRange::new(low, high)
    }

    /// An arbitrary but fixed total order, for sorting. Not containment.
    pub fn total_cmp(&self, other: &MlsRange) -> Ordering {
        self.low
            .total_cmp(&other.low)
            .then_with(|| self.high.total_cmp(&other.high))
    }

    pub(crate) fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        self.low.write_to(out)?;
        if self.low != self.high {
            out.write_char('-')?;
            self.high.write_to(out)?;
        }
        Ok(())
    }
}

/// Why [`calculate_glb_lub`] failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlbLubError {
    /// The source range does not parse.
    #[error("source range: {0}")]
    Source(ParseError),
    /// The target range does not parse.
    #[error("target range: {0}")]
    Target(ParseError),
    /// The ranges do not overlap, or the result is not a valid range.
    #[error(transparent)]
    Math(#[from] LevelMathError),
}

/// go-selinux's `CalculateGlbLub` on strings: each input is `LOW` or
/// `LOW-HIGH` (like go-selinux, without requiring HIGH to dominate LOW), and
/// the result is the range [`MlsRange::glb_lub`] describes.
///
/// Where go-selinux returns a range whose high does not dominate its low,
/// this returns [`LevelMathError::HighDoesNotDominateLow`]: the kernel would
/// reject that range.
///
/// ```
/// use selinux_mcs::mls::{calculate_glb_lub, GlbLubError, LevelMathError};
/// let r = calculate_glb_lub("s0-s15:c0.c1023", "s6:c0,c2,c11,c201.c429,c431.c511").unwrap();
/// assert_eq!(r.to_string(), "s6-s6:c0,c2,c11,c201.c429,c431.c511");
/// // go-selinux answers "s4:c0.c50,c140-s4" here, which the kernel rejects.
/// let err = calculate_glb_lub("s0:c0.c100,c125,c140,c150-s10", "s4:c0.c50,c140").unwrap_err();
/// assert!(matches!(err, GlbLubError::Math(LevelMathError::HighDoesNotDominateLow { .. })));
/// ```
#[doc(alias = "CalculateGlbLub")]
pub fn calculate_glb_lub(source: &str, target: &str) -> Result<MlsRange, GlbLubError> {
    let limits = Limits::default();
    let (sl, sh) = parse::level_pair(source, &limits).map_err(GlbLubError::Source)?;
    let (tl, th) = parse::level_pair(target, &limits).map_err(GlbLubError::Target)?;
    // The raw pairs may be invalid ranges; the calculation only needs levels.
    let s = MlsRange { low: sl, high: sh };
    let t = MlsRange { low: tl, high: th };
    Ok(s.glb_lub(&t)?)
}

impl From<Level> for MlsRange {
    fn from(level: Level) -> MlsRange {
        MlsRange::single(level)
    }
}

impl fmt::Display for MlsRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl fmt::Debug for MlsRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MlsRange({self})")
    }
}

impl FromStr for MlsRange {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<MlsRange, ParseError> {
        parse::range(s, &Limits::default())
    }
}

crate::serde_via_string!(MlsRange, "an MLS range such as s0-s0:c0.c1023");

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> MlsRange {
        s.parse().expect("valid range")
    }

    #[test]
    fn glb_lub_design_facts() {
        assert_eq!(
            r("s0:c0.c100-s10:c0.c150").glb_lub(&r("s5:c50.c100-s15:c0.c149")),
            Ok(r("s5:c50.c100-s10:c0.c149"))
        );
        assert_eq!(r("s5-s15").glb_lub(&r("s6-s7")), Ok(r("s6-s7")));
        let got = r("s0-s15:c0.c1023")
            .glb_lub(&r("s6:c0,c2,c11,c201.c429,c431.c511"))
            .expect("overlapping");
        assert_eq!(got.to_string(), "s6-s6:c0,c2,c11,c201.c429,c431.c511");
        let err = calculate_glb_lub("s0:c0.c100,c125,c140,c150-s10", "s4:c0.c50,c140").unwrap_err();
        let GlbLubError::Math(err) = err else {
            panic!("expected a math error, got {err:?}");
        };
        assert!(matches!(err, LevelMathError::HighDoesNotDominateLow { .. }));
        assert_eq!(
            err.to_string(),
            "range s4:c0.c50,c140-s4: the high level s4 does not dominate the low level s4:c0.c50,c140"
        );
        assert!(matches!(
            r("s0-s1").glb_lub(&r("s3-s4")),
            Err(LevelMathError::Disjoint { .. })
        ));
    }
}
