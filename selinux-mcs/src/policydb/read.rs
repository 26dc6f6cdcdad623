//! The byte-level reader: little-endian words, strings and the kernel's
//! extensible bitmaps, each read naming what it expected when the bytes run
//! out or do not fit.

use std::fmt::Display;

use super::{Bitmap, PolicyDbError};

/// A cursor over the policy's bytes. Every count read from the file is
/// checked against the bytes left before anything is allocated for it, so a
/// length field can never ask for more memory than the file could fill.
///
/// The `what` labels are only formatted when an error is built: callers on
/// hot paths pass `&str` or `format_args!(..)`, never a `String`, so that
/// reading a well-formed policy allocates nothing for them.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// An error at `offset`: what the reader expected, and what it found.
    pub(crate) fn bad_at(
        &self,
        offset: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> PolicyDbError {
        PolicyDbError::Malformed {
            offset,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// The bytes ran out: `n` bytes of `what` were expected at the cursor.
    #[cold]
    #[inline(never)]
    fn end_of_file(&self, n: usize, what: &dyn Display) -> PolicyDbError {
        self.bad_at(
            self.pos,
            format!("{what} ({n} bytes)"),
            format!("the end of the file after {} bytes", self.remaining()),
        )
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize, what: impl Display) -> Result<&'a [u8], PolicyDbError> {
        if self.remaining() < n {
            return Err(self.end_of_file(n, &what));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// `N` bytes as an array (one bounds check for a fixed-size record).
    #[inline]
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: impl Display,
    ) -> Result<[u8; N], PolicyDbError> {
        let b = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    #[inline]
    pub(crate) fn u8(&mut self, what: impl Display) -> Result<u8, PolicyDbError> {
        Ok(self.array::<1>(what)?[0])
    }

    #[inline]
    pub(crate) fn u32(&mut self, what: impl Display) -> Result<u32, PolicyDbError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    #[inline]
    pub(crate) fn u64(&mut self, what: impl Display) -> Result<u64, PolicyDbError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// A count of items that each take at least `min_size` bytes: refused
    /// when the rest of the file cannot hold that many.
    pub(crate) fn count(
        &mut self,
        what: impl Display,
        min_size: usize,
    ) -> Result<usize, PolicyDbError> {
        let at = self.pos;
        let n = self.u32(&what)? as usize;
        if n.saturating_mul(min_size.max(1)) > self.remaining() {
            return Err(self.bad_at(
                at,
                format!(
                    "{what} that the remaining {} bytes can hold",
                    self.remaining()
                ),
                n.to_string(),
            ));
        }
        Ok(n)
    }

    /// A name of `len` bytes: non-empty, no NUL, UTF-8 (policy names are
    /// ASCII identifiers).
    pub(crate) fn name(&mut self, len: u32, what: impl Display) -> Result<Box<str>, PolicyDbError> {
        let at = self.pos;
        if len == 0 {
            return Err(self.bad_at(at, format!("{what} (a name)"), "an empty name"));
        }
        let bytes = self.take(len as usize, &what)?;
        if bytes.contains(&0) {
            return Err(self.bad_at(at, format!("{what} without NUL bytes"), "a NUL byte"));
        }
        std::str::from_utf8(bytes)
            .map(Box::from)
            .map_err(|_| self.bad_at(at, format!("{what} in UTF-8"), "invalid UTF-8"))
    }

    /// An extensible bitmap: map size 64, the high bit, then nodes of a
    /// start bit and a 64-bit map, in increasing order, none empty.
    pub(crate) fn bitmap(&mut self, what: impl Display) -> Result<Bitmap, PolicyDbError> {
        let at = self.pos;
        let mapsize = self.u32(&what)?;
        if mapsize != 64 {
            return Err(self.bad_at(at, format!("{what}: map size 64"), mapsize.to_string()));
        }
        let highbit = self.u32(&what)?;
        let count_at = self.pos;
        let count = self.count(&what, 12)?;
        if highbit == 0 {
            // The kernel ignores the count of an empty bitmap; so do we,
            // but the count was still checked against the file size.
            if count != 0 {
                return Err(self.bad_at(
                    count_at,
                    format!("{what}: no nodes under high bit 0"),
                    count.to_string(),
                ));
            }
            return Ok(Bitmap::default());
        }
        if highbit % 64 != 0 {
            return Err(self.bad_at(
                at + 4,
                format!("{what}: a high bit that is a multiple of 64"),
                highbit.to_string(),
            ));
        }
        if count == 0 {
            return Err(self.bad_at(
                count_at,
                format!("{what}: nodes under high bit {highbit}"),
                "none",
            ));
        }
        let mut nodes = Vec::with_capacity(count);
        let mut last: Option<u32> = None;
        for _ in 0..count {
            let node_at = self.pos;
            let start = self.u32(&what)?;
            if start % 64 != 0 || start > highbit - 64 || last.is_some_and(|l| start <= l) {
                return Err(self.bad_at(
                    node_at,
                    format!(
                        "{what}: a start bit that is a multiple of 64, increasing, below {highbit}"
                    ),
                    start.to_string(),
                ));
            }
            let map = self.u64(&what)?;
            if map == 0 {
                return Err(self.bad_at(
                    node_at + 4,
                    format!("{what}: a non-empty node"),
                    "an empty node",
                ));
            }
            nodes.push((start, map));
            last = Some(start);
        }
        if last.map(|l| l + 64) != Some(highbit) {
            return Err(self.bad_at(
                at + 4,
                format!("{what}: a high bit just above the last node"),
                highbit.to_string(),
            ));
        }
        Ok(Bitmap::from_nodes(nodes))
    }
}
