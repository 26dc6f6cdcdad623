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
    pub(crate) fn canonical(names: &str, range: Option<&crate::mls::MlsRange>) -> Text {
        use fmt::Write as _;
        Text::build(|w| {
            w.write_str(names)?;
            if let Some(range) = range {
                w.write_char(':')?;
                range.write_to(w)?;
            }
            Ok(())
        })
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
