//! Parse errors for contexts, levels, ranges and category lists.

use std::fmt;

/// A field of a security context, named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The SELinux user (`system_u`).
    User,
    /// The role (`system_r`).
    Role,
    /// The type (`container_t`).
    Type,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::User => "user",
            Field::Role => "role",
            Field::Type => "type",
        })
    }
}

/// Why a context, level, range or category list did not parse.
///
/// Every variant says where (`offset`, a byte offset into the text given to
/// the parser), what was found and what would have been valid.
///
/// ```
/// use selinux_mcs::{ParseError, SecurityContext};
/// let err = "system_u:object_r:container_file_t:s0:c5.c1"
///     .parse::<SecurityContext>()
///     .unwrap_err();
/// assert_eq!(
///     err,
///     ParseError::CategoryRangeOrder { offset: 38, text: "c5.c1".into() }
/// );
/// assert_eq!(
///     err.to_string(),
///     "category range c5.c1 at byte 38: the first category must be lower than the second"
/// );
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is empty.
    #[error("empty context at byte 0: expected user:role:type[:level]")]
    EmptyContext,
    /// The text ends before the role or the type.
    #[error("context {text:?} ends at byte {offset}: expected ':' and a {field} (user:role:type[:level])")]
    MissingField {
        /// The field that is missing.
        field: Field,
        /// Where it should have started.
        offset: usize,
        /// The whole text.
        text: String,
    },
    /// A user, role or type is empty.
    #[error("empty {field} at byte {offset}: expected a name")]
    EmptyName {
        /// Which field.
        field: Field,
        /// Where it starts.
        offset: usize,
    },
    /// A user, role or type holds a character that no name may hold.
    #[error("{field} {text:?} has {found:?} at byte {offset}: names hold no ':', whitespace or control characters")]
    InvalidName {
        /// Which field.
        field: Field,
        /// Where the offending character is.
        offset: usize,
        /// The whole name.
        text: String,
        /// The offending character.
        found: char,
    },
    /// A level is empty (`s0-`, `-s0`, or `user:role:type:`).
    #[error("empty level at byte {offset}: expected {expected}")]
    EmptyLevel {
        /// Where the level should have started.
        offset: usize,
        /// What would have been valid.
        expected: &'static str,
    },
    /// A sensitivity is not `s` followed by a number.
    #[error("sensitivity {text:?} at byte {offset}: expected 's' and a number, such as s0")]
    InvalidSensitivity {
        /// Where it starts.
        offset: usize,
        /// The offending text.
        text: String,
    },
    /// A sensitivity is above the highest one allowed.
    #[error("sensitivity {text} at byte {offset}: above the highest sensitivity s{max}")]
    SensitivityAboveLimit {
        /// Where it starts.
        offset: usize,
        /// The offending text.
        text: String,
        /// The highest sensitivity allowed.
        max: u16,
    },
    /// A category is not `c` followed by a number.
    #[error("category {text:?} at byte {offset}: expected 'c' and a number, such as c5, or a range such as c0.c1023")]
    InvalidCategory {
        /// Where it starts.
        offset: usize,
        /// The offending text.
        text: String,
    },
    /// A category list or one of its items is empty (`s0:`, `c1,,c2`).
    #[error("empty category at byte {offset}: expected a category such as c5 or a range such as c0.c1023")]
    EmptyCategory {
        /// Where the category should have started.
        offset: usize,
    },
    /// A number has a leading zero (`c01`, `s00`): policies name `c1`, and the
    /// kernel looks names up literally.
    #[error("{text} at byte {offset}: leading zeros are not allowed (expected {expected})")]
    LeadingZero {
        /// Where it starts.
        offset: usize,
        /// The offending text.
        text: String,
        /// The spelling without leading zeros.
        expected: String,
    },
    /// A category is above the highest one allowed.
    #[error("category {text} at byte {offset}: above the highest category c{max}")]
    CategoryAboveLimit {
        /// Where it starts.
        offset: usize,
        /// The offending text.
        text: String,
        /// The highest category allowed.
        max: u16,
    },
    /// A category range `cA.cB` with A not lower than B.
    #[error(
        "category range {text} at byte {offset}: the first category must be lower than the second"
    )]
    CategoryRangeOrder {
        /// Where it starts.
        offset: usize,
        /// The offending range.
        text: String,
    },
    /// Text that does not belong where it is (`s0:c1:`, `s0c1`, `s0-s1-s2`).
    #[error("unexpected {text:?} at byte {offset}: expected {expected}")]
    Unexpected {
        /// Where it starts.
        offset: usize,
        /// The offending text (to the end of the input).
        text: String,
        /// What would have been valid.
        expected: &'static str,
    },
    /// A range whose high level does not dominate its low level.
    #[error("range {text} at byte {offset}: the high level {high} does not dominate the low level {low}")]
    HighDoesNotDominateLow {
        /// Where the range starts.
        offset: usize,
        /// The range as written.
        text: String,
        /// The low level, canonical.
        low: String,
        /// The high level, canonical.
        high: String,
    },
    /// A NUL byte other than the one that ends a stored label.
    #[error("NUL byte at byte {offset}: a context holds none, but for one at the very end of a stored label")]
    Nul {
        /// Where it is.
        offset: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte {offset}: a context is text")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
}

/// The kind of a [`ParseError`], without its details: for test vectors and
/// for callers that branch on the cause.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// [`ParseError::EmptyContext`]
    EmptyContext,
    /// [`ParseError::MissingField`]
    MissingField,
    /// [`ParseError::EmptyName`]
    EmptyName,
    /// [`ParseError::InvalidName`]
    InvalidName,
    /// [`ParseError::EmptyLevel`]
    EmptyLevel,
    /// [`ParseError::InvalidSensitivity`]
    InvalidSensitivity,
    /// [`ParseError::SensitivityAboveLimit`]
    SensitivityAboveLimit,
    /// [`ParseError::InvalidCategory`]
    InvalidCategory,
    /// [`ParseError::EmptyCategory`]
    EmptyCategory,
    /// [`ParseError::LeadingZero`]
    LeadingZero,
    /// [`ParseError::CategoryAboveLimit`]
    CategoryAboveLimit,
    /// [`ParseError::CategoryRangeOrder`]
    CategoryRangeOrder,
    /// [`ParseError::Unexpected`]
    Unexpected,
    /// [`ParseError::HighDoesNotDominateLow`]
    HighDoesNotDominateLow,
    /// [`ParseError::Nul`]
    Nul,
    /// [`ParseError::InvalidUtf8`]
    InvalidUtf8,
}

impl ParseErrorKind {
    /// A stable kebab-case name, as used in `tests/data/contexts.txt`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseErrorKind::EmptyContext => "empty-context",
            ParseErrorKind::MissingField => "missing-field",
            ParseErrorKind::EmptyName => "empty-name",
            ParseErrorKind::InvalidName => "invalid-name",
            ParseErrorKind::EmptyLevel => "empty-level",
            ParseErrorKind::InvalidSensitivity => "invalid-sensitivity",
            ParseErrorKind::SensitivityAboveLimit => "sensitivity-above-limit",
            ParseErrorKind::InvalidCategory => "invalid-category",
            ParseErrorKind::EmptyCategory => "empty-category",
            ParseErrorKind::LeadingZero => "leading-zero",
            ParseErrorKind::CategoryAboveLimit => "category-above-limit",
            ParseErrorKind::CategoryRangeOrder => "category-range-order",
            ParseErrorKind::Unexpected => "unexpected",
            ParseErrorKind::HighDoesNotDominateLow => "high-does-not-dominate-low",
            ParseErrorKind::Nul => "nul",
            ParseErrorKind::InvalidUtf8 => "invalid-utf8",
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ParseError {
    /// The kind of error.
    pub fn kind(&self) -> ParseErrorKind {
        match self {
            ParseError::EmptyContext => ParseErrorKind::EmptyContext,
            ParseError::MissingField { .. } => ParseErrorKind::MissingField,
            ParseError::EmptyName { .. } => ParseErrorKind::EmptyName,
            ParseError::InvalidName { .. } => ParseErrorKind::InvalidName,
            ParseError::EmptyLevel { .. } => ParseErrorKind::EmptyLevel,
            ParseError::InvalidSensitivity { .. } => ParseErrorKind::InvalidSensitivity,
            ParseError::SensitivityAboveLimit { .. } => ParseErrorKind::SensitivityAboveLimit,
            ParseError::InvalidCategory { .. } => ParseErrorKind::InvalidCategory,
            ParseError::EmptyCategory { .. } => ParseErrorKind::EmptyCategory,
            ParseError::LeadingZero { .. } => ParseErrorKind::LeadingZero,
            ParseError::CategoryAboveLimit { .. } => ParseErrorKind::CategoryAboveLimit,
            ParseError::CategoryRangeOrder { .. } => ParseErrorKind::CategoryRangeOrder,
            ParseError::Unexpected { .. } => ParseErrorKind::Unexpected,
            ParseError::HighDoesNotDominateLow { .. } => ParseErrorKind::HighDoesNotDominateLow,
            ParseError::Nul { .. } => ParseErrorKind::Nul,
            ParseError::InvalidUtf8 { .. } => ParseErrorKind::InvalidUtf8,
        }
    }

    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            ParseError::EmptyContext => 0,
            ParseError::MissingField { offset, .. }
            | ParseError::EmptyName { offset, .. }
            | ParseError::InvalidName { offset, .. }
            | ParseError::EmptyLevel { offset, .. }
            | ParseError::InvalidSensitivity { offset, .. }
            | ParseError::SensitivityAboveLimit { offset, .. }
            | ParseError::InvalidCategory { offset, .. }
            | ParseError::EmptyCategory { offset }
            | ParseError::LeadingZero { offset, .. }
            | ParseError::CategoryAboveLimit { offset, .. }
            | ParseError::CategoryRangeOrder { offset, .. }
            | ParseError::Unexpected { offset, .. }
            | ParseError::HighDoesNotDominateLow { offset, .. }
            | ParseError::Nul { offset }
            | ParseError::InvalidUtf8 { offset } => *offset,
        }
    }

    /// The error with its offset moved by `by` bytes, for text parsed as part
    /// of a larger input.
    #[must_use]
    pub fn shifted(mut self, by: usize) -> ParseError {
        match &mut self {
            ParseError::EmptyContext => {}
            ParseError::MissingField { offset, .. }
            | ParseError::EmptyName { offset, .. }
            | ParseError::InvalidName { offset, .. }
            | ParseError::EmptyLevel { offset, .. }
            | ParseError::InvalidSensitivity { offset, .. }
            | ParseError::SensitivityAboveLimit { offset, .. }
            | ParseError::InvalidCategory { offset, .. }
            | ParseError::EmptyCategory { offset }
            | ParseError::LeadingZero { offset, .. }
            | ParseError::CategoryAboveLimit { offset, .. }
            | ParseError::CategoryRangeOrder { offset, .. }
            | ParseError::Unexpected { offset, .. }
            | ParseError::HighDoesNotDominateLow { offset, .. }
            | ParseError::Nul { offset }
            | ParseError::InvalidUtf8 { offset } => *offset += by,
        }
        self
    }
}
