//! Storage for a context's canonical text: inline for the usual short
//! context, on the heap for long ones.
//!
//! Nearly every context on a container host is under 64 bytes
//! (`system_u:object_r:container_file_t:s0:c186,c641` is 47). Keeping those
//! inline spares an allocation and a free per parse, which was a third of
//! the cost of parsing one.

use std::fmt;

/// Longest text kept inline.
const INLINE: usize = 78;

#[derive(Clone)]
pub(crate) enum Text {
    /// `bytes[..len]` is the text; it was copied from a `&str` or written
    /// through `fmt::Write`, so it is always UTF-8.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl Text {
    pub(crate) const EMPTY: Text = Text::Inline {
        len: 0,
        bytes: [0; INLINE],
    };

    /// The canonical text of a context from its `user:role:type` and range.
    ///
    /// Written byte by byte rather than through `fmt::Write` (the way
    /// `Level`'s `Display` writes, in `mls::category::write_categories`):
    /// this is what parsing a non-canonical context costs beyond the parse,
    /// and the byte writer takes 99 ns per context where the `fmt` one takes
    /// 107 on the unsorted benchmark corpus. The test vectors check both
    /// against the same expected text.
    pub(crate) fn canonical(names: &str, range: Option<&crate::mls::MlsRange>) -> Text {
        use fmt::Write as _;
        Text::build(|w| {
            w.write_str(names)?;
            if let Some(range) = range {
                w.push(b':');
                w.level(range.low());
                if range.high() != range.low() {
                    w.push(b'-');
                    w.level(range.high());
                }
            }
            Ok(())
        })
    }

    /// Replaces the text with `s`, reusing the inline buffer when it fits
    /// (a reused context block keeps its buffer; only `s` is copied).
    #[inline]
    pub(crate) fn set(&mut self, s: &str) {
        match self {
            Text::Inline { len, bytes } if s.len() <= INLINE => {
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                *len = s.len() as u8;
            }
            _ => *self = Text::new(s),
        }
    }

    pub(crate) fn new(s: &str) -> Text {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text::Inline {
                len: s.len() as u8,
                bytes,
            }
        } else {
            Text::Heap(s.into())
        }
    }

    /// Builds the text with a writer that fills the inline buffer first and
    /// moves to the heap only when the text outgrows it.
    pub(crate) fn build(write: impl FnOnce(&mut Builder) -> fmt::Result) -> Text {
        let mut b = Builder {
            len: 0,
            bytes: [0u8; INLINE],
            spill: None,
        };
        // Writing to memory cannot fail.
        let _ = write(&mut b);
        match b.spill {
            Some(s) => Text::Heap(s.into_boxed_str()),
            None => Text::Inline {
                len: b.len as u8,
                bytes: b.bytes,
            },
        }
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => {
                // SAFETY: `bytes[..len]` was copied from a `&str` (`new`) or
                // assembled from whole `&str`s (`Builder::write_str`), so it
                // is valid UTF-8; skipping the check keeps printing a memcpy.
                unsafe { std::str::from_utf8_unchecked(&bytes[..usize::from(*len)]) }
            }
            Text::Heap(s) => s,
        }
    }
}

/// The writer behind [`Text::build`].
pub(crate) struct Builder {
    len: usize,
    bytes: [u8; INLINE],
    spill: Option<String>,
}

impl Builder {
    /// Appends one ASCII byte.
    #[inline]
    pub(crate) fn push(&mut self, byte: u8) {
        debug_assert!(byte.is_ascii());
        if self.spill.is_none() && self.len < INLINE {
            self.bytes[self.len] = byte;
            self.len += 1;
        } else {
            let mut tmp = [0u8; 4];
            let _ = fmt::Write::write_str(self, char::from(byte).encode_utf8(&mut tmp));
        }
    }

    /// Appends `prefix` and `n` in decimal (`c1023`, `s0`).
    #[inline]
    fn number(&mut self, prefix: u8, n: u16) {
        let mut digits = [0u8; 6];
        digits[0] = prefix;
        let mut len = 1;
        let n = u32::from(n);
        for div in [10_000, 1_000, 100, 10] {
            if n >= div {
                digits[len] = b'0' + (n / div % 10) as u8;
                len += 1;
            }
        }
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        if self.spill.is_none() && self.len + len <= INLINE {
            self.bytes[self.len..self.len + len].copy_from_slice(&digits[..len]);
            self.len += len;
        } else {
            for &d in &digits[..len] {
                self.push(d);
            }
        }
    }

    /// Appends a level in canonical form: the sensitivity, then the
    /// categories as maximal runs (`cN`; `cA,cB` for two; `cA.cB` for three
    /// or more), found by walking the set bits directly.
    pub(crate) fn level(&mut self, level: &crate::mls::Level) {
        self.number(b's', level.sensitivity.number());
        let mut first = true;
        let mut run: Option<(u16, u16)> = None;
        let mut flush = |b: &mut Builder, (lo, hi): (u16, u16)| {
            b.push(if first { b':' } else { b',' });
            first = false;
            b.number(b'c', lo);
            match hi - lo {
                0 => {}
                1 => {
                    b.push(b',');
                    b.number(b'c', hi);
                }
                _ => {
                    b.push(b'.');
                    b.number(b'c', hi);
                }
            }
        };
        for c in level.categories.iter() {
            let n = c.number();
            run = match run {
                Some((lo, hi)) if hi + 1 == n => Some((lo, n)),
                Some(done) => {
                    flush(self, done);
                    Some((n, n))
                }
                None => Some((n, n)),
            };
        }
        if let Some(done) = run {
            flush(self, done);
        }
    }
}

impl fmt::Write for Builder {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
        } else if self.len + s.len() <= INLINE {
            self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut spill = String::with_capacity(2 * INLINE);
            // SAFETY: as in `Text::as_str`: the prefix holds whole `&str`s.
            spill.push_str(unsafe { std::str::from_utf8_unchecked(&self.bytes[..self.len]) });
            spill.push_str(s);
            self.spill = Some(spill);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn inline_and_heap() {
        let short = Text::new("u:r:t:s0");
        assert!(matches!(short, Text::Inline { .. }));
        assert_eq!(short.as_str(), "u:r:t:s0");
        let long = "x".repeat(INLINE + 1);
        assert!(matches!(Text::new(&long), Text::Heap(_)));
        assert_eq!(Text::new(&long).as_str(), long);
        let built = Text::build(|w| {
            for _ in 0..40 {
                w.write_str("ab€")?;
            }
            Ok(())
        });
        assert_eq!(built.as_str(), "ab€".repeat(40));
        let exact = Text::build(|w| w.write_str(&"y".repeat(INLINE)));
        assert!(matches!(exact, Text::Inline { .. }));
    }
}
