//! MLS/MCS levels: sensitivities, categories, levels, ranges and dominance.
//!
//! A [`Level`] is a sensitivity plus a [`CategorySet`]; an [`MlsRange`] is a
//! low and a high level where the high dominates the low. `PartialOrd` on
//! levels is dominance, so `a >= b` reads "a dominates b" and incomparable
//! levels compare as `None`.
//!
//! ```
//! use selinux_mcs::mls::{Level, MlsRange};
//! let process: Level = "s0:c1,c2".parse().unwrap();
//! let file: Level = "s0:c1".parse().unwrap();
//! assert!(process.dominates(&file));
//! assert!(process >= file);
//! let other: Level = "s0:c3".parse().unwrap();
//! assert_eq!(process.partial_cmp(&other), None);
//!
//! let range: MlsRange = "s0-s0:c0.c1023".parse().unwrap();
//! assert!(range.contains(&"s0:c5,c9".parse().unwrap()));
//! ```

mod category;
mod level;
mod range;

pub use category::{Category, CategorySet, Iter, Runs};
pub use level::{Level, Sensitivity};
pub use range::{calculate_glb_lub, GlbLubError, LevelMathError, MlsRange};

/// The highest sensitivity and category a policy defines.
///
/// Parsing checks levels against limits: the default, [`Limits::MLS`], allows
/// `s0`..`s15` and `c0`..`c1023` (refpolicy's MLS build); [`Limits::MCS`]
/// allows only `s0` (refpolicy's MCS build, which container hosts run).
///
/// ```
/// use selinux_mcs::mls::Limits;
/// use selinux_mcs::SecurityContext;
/// let mcs = Limits::MCS;
/// assert!(SecurityContext::parse_with("u:r:t:s1", &mcs).is_err());
/// assert!(SecurityContext::parse_with("u:r:t:s1", &Limits::default()).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    max_sensitivity: Sensitivity,
    max_category: Category,
}

impl Limits {
    /// `s15` and `c1023`: refpolicy's MLS policy, and the parser's default.
    pub const MLS: Limits = Limits {
        max_sensitivity: Sensitivity::new(15),
        max_category: Category::MAX,
    };

    /// `s0` and `c1023`: refpolicy's MCS policy (Fedora, RHEL, Debian targeted).
    pub const MCS: Limits = Limits {
        max_sensitivity: Sensitivity::new(0),
        max_category: Category::MAX,
    };

    /// The widest limits a value can hold: for text already checked
    /// against narrower ones.
    pub(crate) const WIDEST: Limits = Limits {
        max_sensitivity: Sensitivity::new(u16::MAX),
        max_category: Category::MAX,
    };

    /// Limits with the given highest sensitivity and category.
    pub const fn new(max_sensitivity: Sensitivity, max_category: Category) -> Limits {
        Limits {
            max_sensitivity,
            max_category,
        }
    }

    /// The highest sensitivity allowed.
    pub const fn max_sensitivity(&self) -> Sensitivity {
        self.max_sensitivity
    }

    /// The highest category allowed.
    pub const fn max_category(&self) -> Category {
        self.max_category
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::MLS
    }
}
