//! Security contexts: `user:role:type[:range]`, parsed strictly and printed
//! in the kernel's canonical form.

mod error;
pub(crate) mod parse;
mod text;

pub(crate) use text::Text;

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
/// A context is one heap block (its two 1024-bit category sets and its
/// canonical text); a dropped context leaves its block to its thread for
/// the next parse, at most 16 blocks per thread, which spares an allocation
/// and a free per context when many are parsed.
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
// `None` only while being dropped, when the block goes back to the pool.
pub struct SecurityContext(Option<Box<Inner>>);

/// What a context reads through while it is being dropped (never observed).
static EMPTY: Inner = Inner::EMPTY;

/// The most heap blocks a thread keeps for reuse.
const POOL_MAX: usize = 16;

thread_local! {
    /// Heap blocks of dropped contexts, reused by the next parse on this
    /// thread: an allocation and a free cost about as much as the rest of a
    /// parse, and programs that parse many contexts drop them as they go.
    #[allow(clippy::vec_box)] // the boxes are the point: their allocations are reused
    static POOL: std::cell::RefCell<Vec<Box<Inner>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for SecurityContext {
    fn drop(&mut self) {
        if let Some(block) = self.0.take() {
            // try_with: during thread exit the pool may already be gone.
            let _ = POOL.try_with(|pool| {
                if let Ok(mut pool) = pool.try_borrow_mut() {
                    if pool.len() < POOL_MAX {
                        pool.push(block);
                    }
                }
            });
        }
    }
}

impl SecurityContext {
    /// A heap block for a new context: a reused one, or a new one.
    #[inline]
    pub(crate) fn block() -> Box<Inner> {
        POOL.try_with(|pool| pool.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(Inner::EMPTY))
    }

    #[inline]
    fn inner(&self) -> &Inner {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

/// A context's data, in one heap block: with two 1024-bit category sets it
/// is a few hundred bytes, and a pointer moves for free where a value of that
/// size would be copied at every return.
#[derive(Clone)]
pub(crate) struct Inner {
    /// The whole canonical text. Canonical text is unique per value, so
    /// equality and hashing compare it instead of the sets.
    pub(crate) text: Text,
    /// Where `user:role:type` ends in `text`.
    pub(crate) names_end: u32,
    pub(crate) role_at: u32,
    pub(crate) type_at: u32,
    pub(crate) range: Option<MlsRange>,
}

impl Inner {
    pub(crate) const EMPTY: Inner = Inner {
        text: Text::EMPTY,
        names_end: 0,
        role_at: 0,
        type_at: 0,
        range: None,
    };
}

impl PartialEq for SecurityContext {
    fn eq(&self, other: &SecurityContext) -> bool {
        self.inner().text.as_str() == other.inner().text.as_str()
    }
}

impl Eq for SecurityContext {}

impl std::hash::Hash for SecurityContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner().text.as_str().hash(state);
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
            (
                parsed.inner().names_end,
                parsed.inner().role_at,
                parsed.inner().type_at,
            ),
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
        SecurityContext(Some(Box::new(Inner {
            text: Text::new(text),
            names_end,
            role_at,
            type_at,
            range,
        })))
    }

    /// A context from its `user:role:type` text and range: the canonical
    /// text is printed.
    pub(crate) fn from_parsed(
        names: &str,
        (names_end, role_at, type_at): (u32, u32, u32),
        range: Option<MlsRange>,
    ) -> SecurityContext {
        let text = Text::canonical(names, range.as_ref());
        SecurityContext(Some(Box::new(Inner {
            text,
            names_end,
            role_at,
            type_at,
            range,
        })))
    }

    fn names(&self) -> &str {
        &self.inner().text.as_str()[..self.inner().names_end as usize]
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
        &self.inner().text.as_str()[..self.inner().role_at as usize - 1]
    }

    /// The role (`system_r`, `object_r`).
    pub fn role(&self) -> &str {
        &self.inner().text.as_str()
            [self.inner().role_at as usize..self.inner().type_at as usize - 1]
    }

    /// The type (`container_t`).
    #[doc(alias = "type")]
    pub fn type_(&self) -> &str {
        &self.inner().text.as_str()[self.inner().type_at as usize..self.inner().names_end as usize]
    }

    /// The MLS range, if the context has one.
    pub fn range(&self) -> Option<&MlsRange> {
        self.inner().range.as_ref()
    }

    /// The low (current) level, if the context has a range.
    pub fn level(&self) -> Option<&Level> {
        self.inner().range.as_ref().map(MlsRange::low)
    }

    /// The high (clearance) level, if the context has a range.
    pub fn high_level(&self) -> Option<&Level> {
        self.inner().range.as_ref().map(MlsRange::high)
    }

    /// A copy with another user.
    pub fn with_user(&self, user: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(user, self.role(), self.type_(), self.inner().range)
    }

    /// A copy with another role.
    pub fn with_role(&self, role: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), role, self.type_(), self.inner().range)
    }

    /// A copy with another type.
    pub fn with_type(&self, type_: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), self.role(), type_, self.inner().range)
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
            (
                self.inner().names_end,
                self.inner().role_at,
                self.inner().type_at,
            ),
            Some(range),
        )
    }

    /// A copy with no MLS field.
    #[must_use]
    pub fn without_range(&self) -> SecurityContext {
        SecurityContext::from_canonical(
            self.names(),
            (
                self.inner().names_end,
                self.inner().role_at,
                self.inner().type_at,
            ),
            None,
        )
    }

    /// The canonical text (what `Display` prints), without allocating.
    pub fn as_str(&self) -> &str {
        self.inner().text.as_str()
    }

    /// The value libselinux writes to `security.selinux`: the canonical text
    /// and one NUL.
    pub fn to_xattr_value(&self) -> Vec<u8> {
        let text = self.inner().text.as_str();
        let mut v = Vec::with_capacity(text.len() + 1);
        v.extend_from_slice(text.as_bytes());
        v.push(0);
        v
    }

    /// Writes the canonical text to `out` (what `Display` prints).
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        out.write_str(self.inner().text.as_str())
    }
}

impl fmt::Display for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.inner().text.as_str())
    }
}

impl AsRef<str> for SecurityContext {
    fn as_ref(&self) -> &str {
        self.inner().text.as_str()
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
            .then_with(|| match (&self.inner().range, &other.inner().range) {
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

#[cfg(test)]
mod pool_tests {
    use super::*;

    #[test]
    fn reused_blocks_carry_nothing_over() {
        for _ in 0..3 {
            let wide: Vec<SecurityContext> = (0..40)
                .map(|_| "u:r:t:s0-s0:c0.c1023".parse().expect("valid"))
                .collect();
            drop(wide);
            let plain: SecurityContext = "u:r:t".parse().expect("valid");
            assert!(plain.range().is_none());
            assert_eq!(plain.to_string(), "u:r:t");
            let pair: SecurityContext = "user_u:role_r:type_t:s0:c5".parse().expect("valid");
            assert_eq!(pair.level().map(|l| l.categories().len()), Some(1));
            assert_eq!(pair.high_level().map(|l| l.categories().len()), Some(1));
            assert_eq!(pair.to_string(), "user_u:role_r:type_t:s0:c5");
            assert_eq!(pair.user(), "user_u");
        }
    }

    #[test]
    fn contexts_move_between_threads() {
        let made: Vec<SecurityContext> = std::thread::spawn(|| {
            (0..100)
                .map(|i| format!("u:r:t:s0:c{i}").parse().expect("valid"))
                .collect()
        })
        .join()
        .expect("thread");
        // Dropped here, on another thread than the one that parsed them.
        assert_eq!(made[42].to_string(), "u:r:t:s0:c42");
        drop(made);
        let again: SecurityContext = "u:r:t:s0:c7".parse().expect("valid");
        assert_eq!(again.to_string(), "u:r:t:s0:c7");
    }
}
