//! [`CategoryPair`]: the private level `s0:cA,cB` of one container or volume.

use std::fmt;
use std::str::FromStr;

use super::McsError;
use crate::mls::{Category, CategorySet, Level, Limits, Sensitivity};

/// Two categories `cA`, `cB` with `A < B`: a container's private MCS level
/// `s0:cA,cB`.
///
/// The order is enforced at construction, so a pair is always canonical:
/// `s0:c5,c2` parses to the same pair as `s0:c2,c5`, and `CategoryPair::new`
/// refuses `(c5, c2)` and `(c5, c5)`. `Display` prints the level text.
///
/// ```
/// use selinux_mcs::mcs::CategoryPair;
/// use selinux_mcs::mls::{Category, Level};
///
/// let pair: CategoryPair = "s0:c641,c186".parse()?;
/// assert_eq!(pair.to_string(), "s0:c186,c641");
/// assert_eq!(pair.first().number(), 186);
///
/// let level: Level = pair.level();
/// assert_eq!(CategoryPair::try_from(&level)?, pair);
///
/// let c = |n| Category::new(n).unwrap();
/// assert!(CategoryPair::new(c(5), c(2)).is_err());
/// assert!(CategoryPair::try_from(&"s0:c1".parse::<Level>()?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CategoryPair {
    first: Category,
    second: Category,
}

impl CategoryPair {
    /// The pair `(first, second)`; `first` must be lower than `second`.
    pub fn new(first: Category, second: Category) -> Result<CategoryPair, McsError> {
        if first < second {
            Ok(CategoryPair { first, second })
        } else {
            Err(McsError::PairOrder { first, second })
        }
    }

    /// The lower category.
    pub const fn first(&self) -> Category {
        self.first
    }

    /// The higher category.
    pub const fn second(&self) -> Category {
        self.second
    }

    /// The level `s0:cA,cB`.
    pub fn level(&self) -> Level {
        Level::new(Sensitivity::new(0), self.categories())
    }

    /// The two categories as a set.
    pub fn categories(&self) -> CategorySet {
        let mut set = CategorySet::from(self.first);
        set.insert(self.second);
        set
    }

    /// The pair's number among all pairs of `c0..c1023`, independent of any
    /// pool: `B*(B-1)/2 + A` (colexicographic order). The registry stores it
    /// as the primary key, so uniqueness does not depend on who uses which
    /// pool.
    #[cfg(any(feature = "registry", test))]
    pub(crate) fn key(&self) -> u32 {
        let (a, b) = (
            u32::from(self.first.number()),
            u32::from(self.second.number()),
        );
        b * (b - 1) / 2 + a
    }

    /// The pair numbered `key` by [`key`](Self::key).
    #[cfg(any(feature = "registry", test))]
    pub(crate) fn from_key(key: u32) -> Option<CategoryPair> {
        let (i, j) = unrank_colex(u64::from(key))?;
        let first = Category::new(u16::try_from(i).ok()?)?;
        let second = Category::new(u16::try_from(j).ok()?)?;
        CategoryPair::new(first, second).ok()
    }
}

/// Inverts `rank = j*(j-1)/2 + i` with `i < j`: `j` is the largest number with
/// `j*(j-1)/2 <= rank`. The float square root gives it to within one, and the
/// two checks correct the rounding, so this is exact and constant time.
pub(crate) fn unrank_colex(rank: u64) -> Option<(u64, u64)> {
    if rank >= (1 << 40) {
        return None;
    }
    let tri = |j: u64| j * j.saturating_sub(1) / 2;
    let mut j = ((1.0 + (1.0 + 8.0 * rank as f64).sqrt()) / 2.0) as u64;
    while j > 1 && tri(j) > rank {
        j -= 1;
    }
    while tri(j + 1) <= rank {
        j += 1;
    }
    let i = rank - tri(j);
    (i < j).then_some((i, j))
}

impl fmt::Display for CategoryPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s0:{},{}", self.first, self.second)
    }
}

impl From<CategoryPair> for Level {
    fn from(pair: CategoryPair) -> Level {
        pair.level()
    }
}

impl TryFrom<&Level> for CategoryPair {
    type Error = McsError;

    /// A pair from a level that is exactly `s0` and two categories.
    fn try_from(level: &Level) -> Result<CategoryPair, McsError> {
        let not_a_pair = |reason| McsError::NotAPair {
            level: level.to_string(),
            reason,
        };
        if level.sensitivity() != Sensitivity::new(0) {
            return Err(not_a_pair(
                "the sensitivity is not s0 (an MCS policy has only s0)",
            ));
        }
        let cats = level.categories();
        match cats.len() {
            0 => Err(not_a_pair(
                "it has no category (s0 is the shared level, readable by every container)",
            )),
            1 => Err(not_a_pair("it has one category")),
            2 => {
                let mut it = cats.iter();
                match (it.next(), it.next()) {
                    (Some(a), Some(b)) => CategoryPair::new(a, b),
                    _ => Err(not_a_pair("it has no two categories")),
                }
            }
            _ => Err(not_a_pair("it has more than two categories")),
        }
    }
}

impl TryFrom<Level> for CategoryPair {
    type Error = McsError;

    /// See [`TryFrom<&Level>`](#impl-TryFrom%3C%26Level%3E-for-CategoryPair).
    fn try_from(level: Level) -> Result<CategoryPair, McsError> {
        CategoryPair::try_from(&level)
    }
}

impl FromStr for CategoryPair {
    type Err = McsError;

    /// Parses a level such as `s0:c1,c2` (MCS limits: only `s0`) and checks
    /// that it is a pair.
    fn from_str(s: &str) -> Result<CategoryPair, McsError> {
        let level = Level::parse_with(s, &Limits::MCS).map_err(|source| McsError::Parse {
            text: s.to_owned(),
            source,
        })?;
        CategoryPair::try_from(&level)
    }
}

crate::serde_via_string!(CategoryPair, "an MCS pair such as s0:c1,c2");

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: u16) -> Category {
        Category::new(n).expect("valid category")
    }

    #[test]
    fn order_is_enforced() {
        assert!(CategoryPair::new(c(1), c(2)).is_ok());
        let err = CategoryPair::new(c(5), c(2)).unwrap_err();
        assert!(matches!(err, McsError::PairOrder { .. }));
        assert_eq!(
            err.to_string(),
            "categories c5 and c2: the first category of a pair must be lower than the second"
        );
        assert!(CategoryPair::new(c(5), c(5)).is_err());
    }

    #[test]
    fn level_round_trip_is_canonical() {
        let pair: CategoryPair = "s0:c5,c2".parse().expect("pair");
        assert_eq!(pair, CategoryPair::new(c(2), c(5)).expect("pair"));
        assert_eq!(pair.to_string(), "s0:c2,c5");
        assert_eq!(pair.level().to_string(), "s0:c2,c5");
        assert_eq!(CategoryPair::try_from(pair.level()).expect("pair"), pair);
        // Consecutive categories print as the kernel does, and still parse back.
        let pair: CategoryPair = "s0:c0.c1".parse().expect("pair");
        assert_eq!(pair.to_string(), "s0:c0,c1");
    }

    #[test]
    fn non_pairs_are_rejected_with_the_reason() {
        for (text, reason) in [
            ("s0", "no category"),
            ("s0:c1", "one category"),
            ("s0:c1.c3", "more than two"),
        ] {
            let err = text.parse::<CategoryPair>().unwrap_err();
            assert!(matches!(err, McsError::NotAPair { .. }), "{text}: {err}");
            assert!(err.to_string().contains(reason), "{text}: {err}");
        }
        let level: Level = "s1:c1,c2".parse().expect("MLS level");
        let err = CategoryPair::try_from(&level).unwrap_err();
        assert!(err.to_string().contains("not s0"), "{err}");
        // Malformed text names the offset.
        let err = "s0:c1,,c2".parse::<CategoryPair>().unwrap_err();
        assert!(matches!(err, McsError::Parse { .. }));
        assert!(err.to_string().contains("byte 6"), "{err}");
        assert!("s1:c1,c2".parse::<CategoryPair>().is_err());
    }

    #[test]
    fn key_is_a_bijection() {
        let mut next = 0u32;
        for b in 1..1024u16 {
            for a in 0..b {
                let pair = CategoryPair::new(c(a), c(b)).expect("pair");
                assert_eq!(pair.key(), next);
                assert_eq!(CategoryPair::from_key(next), Some(pair));
                next += 1;
            }
        }
        assert_eq!(next, 523_776);
        assert_eq!(CategoryPair::from_key(next), None);
    }
}
