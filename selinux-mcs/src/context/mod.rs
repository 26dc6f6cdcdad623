//! Security contexts: `user:role:type[:range]`, parsed strictly and printed
//! in the kernel's canonical form.

mod error;
mod lazy;
pub(crate) mod parse;
mod text;

use lazy::LazyRange;
pub(crate) use text::Text;

use std::cmp::Ordering;
use std::fmt;
use std::ptr::NonNull;
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
/// A context is one heap block (its canonical text and room for its range's
/// two 1024-bit category sets); a dropped context leaves its block to its
/// thread for the next parse, at most 16 blocks per thread, which spares an
/// allocation and a free per context when many are parsed.
///
/// Parsing checks everything, but builds the category sets only when it
/// needs them: to print text that is not canonical, or to check that a high
/// level with categories dominates its low level. Otherwise
/// [`range`](Self::range) builds them from the canonical text on first use
/// (about 25 ns), once per context. Comparing, hashing, printing and writing
/// a context never need them.
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
///
/// Equality and hashing use only the canonical text, which never changes;
/// so a context is a sound `HashMap` key although its range is built on
/// first use through a shared reference.
// A context owns one `Box<Inner>`, held as a pointer from `Box::into_raw`:
// `Drop` hands the block back to the pool, which needs it as a `Box`, and
// clippy's `mutable_key_type`, which looks through `Box` but not through
// pointers, would otherwise flag every `HashSet<SecurityContext>` in
// programs that use this crate because of the lazily built range.
pub struct SecurityContext(NonNull<Inner>);

// SAFETY: a context owns its block as a `Box<Inner>` would, and `Inner` is
// Send and Sync (asserted below), so the context may be sent and shared as
// the `Box` could.
unsafe impl Send for SecurityContext {}
// SAFETY: as for Send.
unsafe impl Sync for SecurityContext {}
impl std::panic::UnwindSafe for SecurityContext {}
impl std::panic::RefUnwindSafe for SecurityContext {}

const _: () = {
    const fn send_sync<T: Send + Sync + std::panic::RefUnwindSafe>() {}
    send_sync::<Inner>();
};

impl Clone for SecurityContext {
    fn clone(&self) -> SecurityContext {
        let mut block = SecurityContext::block();
        *block = self.inner().clone();
        SecurityContext::from_block(block)
    }
}

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
        // SAFETY: the pointer came from `Box::into_raw` in `from_block`,
        // and this context, its only owner, is going away.
        let block = unsafe { Box::from_raw(self.0.as_ptr()) };
        // try_with: during thread exit the pool may already be gone; then
        // the block is freed here.
        let _ = POOL.try_with(move |pool| {
            if let Ok(mut pool) = pool.try_borrow_mut() {
                if pool.len() < POOL_MAX {
                    pool.push(block);
                }
            }
        });
    }
}

impl SecurityContext {
    /// A heap block for a new context: a reused one, or a new one.
    #[inline]
    pub(crate) fn block() -> Box<Inner> {
        POOL.try_with(|pool| pool.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(Inner::empty()))
    }

    /// A context owning `block`.
    #[inline]
    pub(crate) fn from_block(block: Box<Inner>) -> SecurityContext {
        // SAFETY: `Box::into_raw` never returns null.
        SecurityContext(unsafe { NonNull::new_unchecked(Box::into_raw(block)) })
    }

    #[inline]
    fn inner(&self) -> &Inner {
        // SAFETY: the block lives as long as the context (freed or pooled
        // only in `Drop`) and is mutated only through `&mut` before the
        // context is made, or through its own cells.
        unsafe { self.0.as_ref() }
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
    /// The MLS range, when `text` has one after `names_end`: filled by the
    /// parser when it needed the category sets anyway (to print
    /// non-canonical input canonically, or to check dominance), else on
    /// first use, from the canonical text.
    /// Most contexts are parsed to be compared, printed or written, and a
    /// parse that skips two 1024-bit sets takes about 10 ns less.
    pub(crate) range: LazyRange,
}

impl Inner {
    pub(crate) const fn empty() -> Inner {
        Inner {
            text: Text::EMPTY,
            names_end: 0,
            role_at: 0,
            type_at: 0,
            range: LazyRange::new(),
        }
    }

    /// The range, built from the canonical text on first use.
    #[inline]
    pub(crate) fn range(&self) -> Option<&MlsRange> {
        // The canonical text goes on after the names only with a range.
        let mls = self.text.as_str().get(self.names_end as usize + 1..)?;
        Some(
            self.range
                .get_or_fill(|range| parse::accepted_range(mls, range)),
        )
    }
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
        SecurityContext::from_block(Box::new(Inner {
            text: Text::new(text),
            names_end,
            role_at,
            type_at,
            range: range.map_or_else(LazyRange::new, LazyRange::filled),
        }))
    }

    /// A context from its `user:role:type` text and range: the canonical
    /// text is printed.
    pub(crate) fn from_parsed(
        names: &str,
        (names_end, role_at, type_at): (u32, u32, u32),
        range: Option<MlsRange>,
    ) -> SecurityContext {
        let text = Text::canonical(names, range.as_ref());
        SecurityContext::from_block(Box::new(Inner {
            text,
            names_end,
            role_at,
            type_at,
            range: range.map_or_else(LazyRange::new, LazyRange::filled),
        }))
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
        self.inner().range()
    }

    /// The low (current) level, if the context has a range.
    pub fn level(&self) -> Option<&Level> {
        self.inner().range().map(MlsRange::low)
    }

    /// The high (clearance) level, if the context has a range.
    pub fn high_level(&self) -> Option<&Level> {
        self.inner().range().map(MlsRange::high)
    }

    /// A copy with another user.
    pub fn with_user(&self, user: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(user, self.role(), self.type_(), self.range().copied())
    }

    /// A copy with another role.
    pub fn with_role(&self, role: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), role, self.type_(), self.range().copied())
    }

    /// A copy with another type.
    pub fn with_type(&self, type_: &str) -> Result<SecurityContext, ParseError> {
        SecurityContext::new(self.user(), self.role(), type_, self.range().copied())
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
            .then_with(|| match (self.range(), other.range()) {
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

    /// A block whose range was built while parsing (non-canonical text),
    /// reused for a context whose range is built later, gives the new
    /// context's range, not the old one.
    #[test]
    fn a_reused_block_does_not_keep_its_range() {
        let built: SecurityContext = "u:r:t:s0:c9,c2".parse().expect("valid");
        assert_eq!(built.to_string(), "u:r:t:s0:c2,c9");
        assert_eq!(built.level().map(|l| l.categories().len()), Some(2));
        drop(built);
        let lazy: SecurityContext = "u:r:t:s0:c1.c5".parse().expect("valid");
        assert_eq!(lazy.level().map(|l| l.categories().len()), Some(5));
        assert_eq!(lazy.high_level(), lazy.level());
    }

    /// The range built from the text later is checked against the widest
    /// limits, so a context parsed with wider limits than the default still
    /// gives its range.
    #[test]
    fn a_lazy_range_beyond_the_default_limits() {
        let limits = Limits::new(crate::mls::Sensitivity::new(40), crate::mls::Category::MAX);
        let ctx = SecurityContext::parse_with("u:r:t:s20-s40:c1.c1023", &limits).expect("valid");
        let range = ctx.range().expect("has a range");
        assert_eq!(range.low().sensitivity().number(), 20);
        assert_eq!(range.high().sensitivity().number(), 40);
        assert_eq!(range.high().categories().len(), 1023);
        assert!("u:r:t:s20".parse::<SecurityContext>().is_err());
    }

    #[test]
    fn contexts_are_send_sync_and_unwind_safe() {
        fn check<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
        check::<SecurityContext>();
    }

    /// A clone is its own block: dropping the original leaves it whole.
    #[test]
    fn clones_outlive_their_original() {
        let original: SecurityContext = "u:r:t:s0:c3.c9".parse().expect("valid");
        let copy = original.clone();
        drop(original);
        let _reuse: SecurityContext = "a:b:c:s0".parse().expect("valid");
        assert_eq!(copy.to_string(), "u:r:t:s0:c3.c9");
        assert_eq!(copy.level().map(|l| l.categories().len()), Some(7));
    }

    /// Concurrent first uses of a lazy range agree.
    #[test]
    fn a_lazy_range_shared_between_threads() {
        let ctx: SecurityContext = "u:r:t:s0-s0:c0.c1023".parse().expect("valid");
        let lens: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| ctx.high_level().map_or(0, |l| l.categories().len())))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert_eq!(lens, vec![1024; 4]);
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
