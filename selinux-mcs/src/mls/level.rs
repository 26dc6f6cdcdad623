//! Sensitivities and levels.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::category::{fmt_num, write_categories};
use super::{Category, CategorySet, Limits};
use crate::context::parse;
use crate::ParseError;

/// A sensitivity, `sN`.
///
/// ```
/// use selinux_mcs::mls::Sensitivity;
/// assert_eq!(Sensitivity::new(0).to_string(), "s0");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Sensitivity(u16);

impl Sensitivity {
    /// The sensitivity `sN`.
    pub const fn new(n: u16) -> Sensitivity {
        Sensitivity(n)
    }

    /// The number `N` of `sN`.
    pub const fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 8];
        f.write_str(fmt_num(b's', self.0 as u32, &mut buf))
    }
}

/// An MLS level: a sensitivity and a set of categories (`s0:c186,c641`).
///
/// `PartialOrd` is dominance: `a >= b` when `a`'s sensitivity is at least
/// `b`'s and `a`'s categories include all of `b`'s; `partial_cmp` is `None`
/// when neither dominates. `Display` prints the kernel's canonical form.
///
/// ```
/// use selinux_mcs::mls::Level;
/// let l: Level = "s0:c641,c186".parse().unwrap();
/// assert_eq!(l.to_string(), "s0:c186,c641");
/// assert_eq!(l.categories().len(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Level {
    pub(crate) sensitivity: Sensitivity,
    pub(crate) categories: CategorySet,
}

impl Level {
    /// A level from its parts.
    pub const fn new(sensitivity: Sensitivity, categories: CategorySet) -> Level {
        Level {
            sensitivity,
            categories,
        }
    }

    /// `s0` with no categories: the level of shared (`:z`) content.
    pub const fn s0() -> Level {
        Level::new(Sensitivity::new(0), CategorySet::new())
    }

    /// Parses a level checking it against `limits`.
    ///
    /// ```
    /// use selinux_mcs::mls::{Level, Limits};
    /// assert!(Level::parse_with("s0:c1", &Limits::MCS).is_ok());
    /// let err = Level::parse_with("s0:c5.c1", &Limits::MCS).unwrap_err();
    /// assert_eq!(err.offset(), 3);
    /// ```
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Level, ParseError> {
        parse::level(text, limits)
    }

    /// The sensitivity.
    pub const fn sensitivity(&self) -> Sensitivity {
        self.sensitivity
    }

    /// The categories.
    pub const fn categories(&self) -> &CategorySet {
        &self.categories
    }

    /// A copy with other categories.
    #[must_use]
    pub fn with_categories(&self, categories: CategorySet) -> Level {
        Level::new(self.sensitivity, categories)
    }

    /// Whether `self` dominates `other`: sensitivity at least as high and a
    /// superset of its categories.
    pub fn dominates(&self, other: &Level) -> bool {
        self.sensitivity >= other.sensitivity && self.categories.is_superset(&other.categories)
    }

    /// Whether neither level dominates the other.
    pub fn is_incomparable(&self, other: &Level) -> bool {
        !self.dominates(other) && !other.dominates(self)
    }

    /// Greatest lower bound: the lower sensitivity and the common categories.
    #[must_use]
    pub fn glb(&self, other: &Level) -> Level {
        Level::new(
            self.sensitivity.min(other.sensitivity),
            self.categories.intersection(&other.categories),
        )
    }

    /// Least upper bound: the higher sensitivity and all categories of both.
    #[must_use]
    pub fn lub(&self, other: &Level) -> Level {
        Level::new(
            self.sensitivity.max(other.sensitivity),
            self.categories.union(&other.categories),
        )
    }

    /// An arbitrary but fixed total order (sensitivity, then
    /// [`CategorySet::total_cmp`]), for sorting. Not dominance.
    pub fn total_cmp(&self, other: &Level) -> Ordering {
        self.sensitivity
            .cmp(&other.sensitivity)
            .then_with(|| self.categories.total_cmp(&other.categories))
    }

    pub(crate) fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut buf = [0u8; 8];
        out.write_str(fmt_num(b's', self.sensitivity.0 as u32, &mut buf))?;
        if !self.categories.is_empty() {
            out.write_char(':')?;
            write_categories(&self.categories, out)?;
        }
        Ok(())
    }
}

impl PartialOrd for Level {
    fn partial_cmp(&self, other: &Level) -> Option<Ordering> {
        match (self.dominates(other), other.dominates(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl fmt::Debug for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Level({self})")
    }
}

impl FromStr for Level {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Level, ParseError> {
        parse::level(s, &Limits::default())
    }
}

impl FromStr for CategorySet {
    type Err = ParseError;
    /// Parses a category list such as `c0.c511` or `c1,c5,c9`.
    fn from_str(s: &str) -> Result<CategorySet, ParseError> {
        parse::category_list(s, &Limits::default())
    }
}

impl From<Category> for CategorySet {
    fn from(c: Category) -> CategorySet {
        let mut set = CategorySet::new();
        set.insert(c);
        set
    }
}

crate::serde_via_string!(Level, "an MLS level such as s0:c1,c2");
crate::serde_via_string!(CategorySet, "a category list such as c0.c1023");
