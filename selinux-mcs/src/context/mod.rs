//! Security contexts: `user:role:type[:range]`, parsed strictly and printed
//! in the kernel's canonical form.

mod error;
pub(crate) mod parse;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use error::{Field, ParseError, ParseErrorKind};

use crate::mls::{Level, Limits, MlsRange};

/// An SELinux security context, such as
/// `system_u:system_r:svirt_lxc_net_t:s0:c186,c641`.
///
/// A `SecurityContext` is always valid: it is built by parsing (or by
/// [`new`](Self::new), which checks the same rules), and it always prints in
/// the kernel's canonical form. Equality, hashing and ordering use the parsed
/// value, so `s0:c5,c2` and `s0:c2,c5` are the same context.
///
/// ```
/// use selinux_mcs::SecurityContext;
/// let ctx: SecurityContext = "system_u:system_r:svirt_lxc_net_t:s0:c641,c186".parse()?;
/// assert_eq!(ctx.user(), "system_u");
/// assert_eq!(ctx.type_(), "svirt_lxc_net_t");
/// assert_eq!(ctx.to_string(), "system_u:system_r:svirt_lxc_net_t:s0:c186,c641");
/// let file = ctx.with_role("object_r")?.with_type("container_file_t")?;
/// assert_eq!(file.to_string(), "system_u:object_r:container_file_t:s0:c186,c641");
/// # Ok::<(), selinux_mcs::ParseError>(())
/// ```
#[derive(Clone)]
pub struct SecurityContext {
    /// The whole canonical text, in one allocation. Canonical text is unique
    /// per value, so equality and hashing compare it instead of the sets.
    text: String,
    /// Where `user:role:type` ends in `text`.
    names_end: u32,
    role_at: u32,
    type_at: u32,
    range: Option<MlsRange>,
}

impl PartialEq for SecurityContext {
    fn eq(&self, other: &SecurityContext) -> bool {
        self.text == other.text
    }
}

impl Eq for SecurityContext {}

impl std::hash::Hash for SecurityContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl SecurityContext {
    /// Builds a context from its fields, checking names as the parser does.
    pub fn new(
        user: &str,
        role: &str,
        type_: &str,
        range: Option<MlsRange>,
    ) -> Result<SecurityContext, ParseError> {
        // A ':' inside a name would shift the fields when parsed back.
        let mut offset = 0;
        for (field, name) in [
            (Field::User, user),
            (Field::Role, role),
            (Field::Type, type_),
        ] {
            if let Some(at) = name.find(':') {
                return Err(ParseError::InvalidName {
                    field,
                    offset: offset + at,
                    text: name.to_owned(),
                    found: ':',
                });
            }
            offset += name.len() + 1;
        }
        let parsed = parse::context(&format!("{user}:{role}:{type_}"), &Limits::default())?;
        Ok(SecurityContext::from_parsed(
            parsed.names(),
            (parsed.names_end, parsed.role_at, parsed.type_at),
            range,
        ))
    }

    /// A context whose input text is already canonical: kept as it is.
    #[inline]
    pub(crate) fn from_canonical(
        text: &str,
        (names_end, role_at, type_at): (u32, u32, u32),
        range: Option<MlsRange>,
    ) -> SecurityContext {
        SecurityContext {
            text: text.into(),
            names_end,
            role_at,
            type_at,
            range,
        }
    }

    /// A context from its `user:role:type` text and range: the canonical
    /// text is printed.
    pub(crate) fn from_parsed(
        names: &str,
        (names_end, role_at, type_at): (u32, u32, u32),
        range: Option<MlsRange>,
    ) -> SecurityContext {
        let capacity = names.len() + 1 + range.map_or(0, |r| r.text_len());
        SecurityContext::from_parsed_with_capacity(
            names,
            (names_end, role_at, type_at),
            range,
            capacity,
        )
    }

    /// As `from_parsed`; the parser passes its input's length, which the
    /// canonical text never exceeds (it only drops duplicates, merges runs
    /// and reorders), sparing a pass over the categories to size the buffer.
    pub(crate) fn from_parsed_with_capacity(
        names: &str,
        (names_end, role_at, type_at): (u32, u32, u32),
        range: Option<MlsRange>,
        capacity: usize,
    ) -> SecurityContext {
        let mut text = String::with_capacity(capacity);
        text.push_str(names);
        if let Some(range) = &range {
            text.push(':');
            // Writing to a String cannot fail.
            let _ = range.write_to(&mut text);
        }
        SecurityContext {
            text,
            names_end,
            role_at,
            type_at,
            range,
        }
    }

    fn names(&self) -> &str {
        &self.text[..self.names_end as usize]
    }

    /// Parses a context, checking its levels against `limits`.
    ///
    /// ```
    /// use selinux_mcs::{mls::Limits, SecurityContext};
    /// let err = SecurityContext::parse_with("u:r:t:s3", &Limits::MCS).unwrap_err();
    /// assert_eq!(err.to_string(), "sensitivity s3 at byte 6: above the highest sensitivity s0");
    /// ```
    pub fn parse_with(text: &str, limits: &Limits) -> Result<SecurityContext, ParseError> {
        parse::context(text, limits)
    }

    /// Parses a raw `security.selinux` value as the kernel stores it: exactly
    /// one trailing NUL is stripped; any other NUL is an error.
    pub fn from_bytes_with(raw: &[u8], limits: &Limits) -> Result<SecurityContext, ParseError> {
        parse::context_bytes(raw, limits)
    }

    /// The SELinux user (`system_u`).
    pub fn user(&self) -> &str {
        &self.text[..self.role_at as usize - 1]
    }

    /// The role (`system_r`, `object_r`).
    pub fn role(&self) -> &str {
        &self.text[self.role_at as usize..self.type_at as usize - 1]
    }

    /// The type (`container_t`).
    #[doc(alias = "type")]
    pub fn type_(&self) -> &str {
        &self.text[self.type_at as usize..self.names_end as usize]
    }

    /// The MLS range, if the context has one.
    pub fn range(&self) -> Option<&MlsRange> {
        self.range.as_ref()
    }

    /// The low (current) level, if the context has a range.
    pub fn level(&self) -> Option<&Level> {
        self.range.as_ref().map(MlsRange::low)
    }

    /// The high (clearance) level, if the context has a range.
    pub fn high_level(&self) -> Option<&Level> {
        self.range.as_ref().map(MlsRange::high)
    }

    /// A copy with another user.
    pub fn with_user(&self, user: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(user, self.role(), self.type_(), self.range)
    }

    /// A copy with another role.
    pub fn with_role(&self, role: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), role, self.type_(), self.range)
    }

    /// A copy with another type.
    pub fn with_type(&self, type_: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), self.role(), type_, self.range)
    }

    /// A copy whose range is the single level `level`.
    #[must_use]
    pub fn with_level(&self, level: Level) -> SecurityContext {
        self.with_range(MlsRange::single(level))
    }

    /// A copy with another range.
    #[must_use]
    pub fn with_range(&self, range: MlsRange) -> SecurityContext {
        SecurityContext::from_parsed(
            self.names(),
            (self.names_end, self.role_at, self.type_at),
            Some(range),
        )
    }

    /// A copy with no MLS field.
    #[must_use]
    pub fn without_range(&self) -> SecurityContext {
        SecurityContext::from_canonical(
            self.names(),
            (self.names_end, self.role_at, self.type_at),
            None,
        )
    }

    /// The canonical text (what `Display` prints), without allocating.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value libselinux writes to `security.selinux`: the canonical text
    /// and one NUL.
    pub fn to_xattr_value(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.text.len() + 1);
        v.extend_from_slice(self.text.as_bytes());
        v.push(0);
        v
    }

    /// Writes the canonical text to `out` (what `Display` prints).
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(&self.text)
    }
}

impl fmt::Display for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for SecurityContext {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecurityContext({self})")
    }
}

impl FromStr for SecurityContext {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<SecurityContext, ParseError> {
        parse::context(s, &Limits::default())
    }
}

impl TryFrom<&str> for SecurityContext {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<SecurityContext, ParseError> {
        s.parse()
    }
}

impl TryFrom<&[u8]> for SecurityContext {
    type Error = ParseError;
    /// Parses a raw xattr value (see [`SecurityContext::from_bytes_with`]).
    fn try_from(raw: &[u8]) -> Result<SecurityContext, ParseError> {
        parse::context_bytes(raw, &Limits::default())
    }
}

impl Ord for SecurityContext {
    /// User, role, type, then the range (none first) by
    /// [`MlsRange::total_cmp`].
    fn cmp(&self, other: &SecurityContext) -> Ordering {
        self.user()
            .cmp(other.user())
            .then_with(|| self.role().cmp(other.role()))
            .then_with(|| self.type_().cmp(other.type_()))
            .then_with(|| match (&self.range, &other.range) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => a.total_cmp(b),
            })
    }
}

impl PartialOrd for SecurityContext {
    fn partial_cmp(&self, other: &SecurityContext) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

crate::serde_via_string!(
    SecurityContext,
    "an SELinux context such as system_u:object_r:container_file_t:s0"
);
