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
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecurityContext {
    /// `user:role:type`, kept in one allocation.
    names: Box<str>,
    role_at: u32,
    type_at: u32,
    range: Option<MlsRange>,
}

impl SecurityContext {
    /// Builds a context from its fields, checking names as the parser does.
    pub fn new(
        user: &str,
        role: &str,
        type_: &str,
        range: Option<MlsRange>,
    ) -> Result<SecurityContext, ParseError> {
        let names = format!("{user}:{role}:{type_}");
        // Parsing the names back checks each one and rejects a ':' inside a
        // name, which would otherwise shift the fields.
        let parsed = parse::context(&names, &Limits::default())?;
        if parsed.user() != user || parsed.role() != role || parsed.range.is_some() {
            let (field, offset, text) = if parsed.user() != user {
                (Field::User, 0, user)
            } else if parsed.role() != role {
                (Field::Role, user.len() + 1, role)
            } else {
                (Field::Type, user.len() + role.len() + 2, type_)
            };
            let at = text.find(':').unwrap_or(0);
            return Err(ParseError::InvalidName {
                field,
                offset: offset + at,
                text: text.to_owned(),
                found: ':',
            });
        }
        Ok(SecurityContext { range, ..parsed })
    }

    pub(crate) fn from_parts(
        names: &str,
        role_at: u32,
        type_at: u32,
        range: Option<MlsRange>,
    ) -> SecurityContext {
        SecurityContext {
            names: names.into(),
            role_at,
            type_at,
            range,
        }
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
        &self.names[..self.role_at as usize - 1]
    }

    /// The role (`system_r`, `object_r`).
    pub fn role(&self) -> &str {
        &self.names[self.role_at as usize..self.type_at as usize - 1]
    }

    /// The type (`container_t`).
    #[doc(alias = "type")]
    pub fn type_(&self) -> &str {
        &self.names[self.type_at as usize..]
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
        SecurityContext {
            range: Some(range),
            ..self.clone()
        }
    }

    /// A copy with no MLS field.
    #[must_use]
    pub fn without_range(&self) -> SecurityContext {
        SecurityContext {
            range: None,
            ..self.clone()
        }
    }

    /// The value libselinux writes to `security.selinux`: the canonical text
    /// and one NUL.
    pub fn to_xattr_value(&self) -> Vec<u8> {
        let mut s = String::with_capacity(self.names.len() + 24);
        let _ = self.write_to(&mut s);
        s.push('\0');
        s.into_bytes()
    }

    /// Writes the canonical text to `out` (what `Display` prints).
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(&self.names)?;
        if let Some(range) = &self.range {
            out.write_char(':')?;
            range.write_to(out)?;
        }
        Ok(())
    }
}

impl fmt::Display for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl fmt::Debug for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecurityContext({self})")
    }
}

impl FromStr for SecurityContext {
    type Err = ParseError;
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
