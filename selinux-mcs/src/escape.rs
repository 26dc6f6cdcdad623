//! Honest output for names that may hold anything: file names, labels read
//! from disk, setrans.conf translations.
//!
//! A file name on Linux is any bytes but `/` and NUL: it may hold a newline
//! (and so forge a second line of output), an escape sequence that the
//! terminal obeys, or bytes that are not UTF-8 (which a lossy conversion
//! turns into `�`, so `\xff\xfe` and `\xff\xfd` print alike). [`Escaped`]
//! prints such bytes so that one printed line is one entry and two
//! different names never print the same.
//!
//! # The text scheme
//!
//! [`Escaped`] prints the bytes as they are, except:
//!
//! | input | printed |
//! |---|---|
//! | `\` (backslash) | `\\` |
//! | newline (U+000A) | `\n` |
//! | tab (U+0009) | `\t` |
//! | ESC (U+001B) | `\e` |
//! | any other control character: U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F | `\xNN` for each byte of its UTF-8 encoding (`\x0d`, `\x7f`, `\xc2\x9b`) |
//! | a byte that is not part of valid UTF-8 | `\xNN` (`\xff`) |
//!
//! Hex digits are lowercase. Every other character, ASCII or not (`é`,
//! `日本`, even a literal `�`), prints as itself.
//!
//! The scheme is injective: every backslash in the output starts one of the
//! escapes above, so the text reads back unambiguously, and [`unescape`]
//! gives back the original bytes. It does not defend against printable
//! characters that merely look misleading (bidirectional overrides,
//! zero-width characters, look-alike letters): they are valid text and
//! print as such.
//!
//! # The JSON scheme
//!
//! JSON strings hold any Unicode text (control characters included, which
//! JSON escapes itself) but not arbitrary bytes. So a name under `key`
//! becomes:
//!
//! - valid UTF-8: `"key": "<the name itself>"`, and nothing else;
//! - otherwise: `"key": "<the escaped text above>", "key_escaped": true`.
//!
//! Two different names never give the same JSON: two valid names differ as
//! strings, two invalid ones differ in their (injective) escaped text, and
//! a valid name and an invalid one differ in the `key_escaped` field. A
//! reader that wants the bytes back calls [`unescape`] on the string when
//! `key_escaped` is true. [`Escaped::insert_json`] (for a
//! `serde_json::Map`) and [`Escaped::json_fields`] (for serde) are the one
//! implementation of it.
//!
//! ```
//! use selinux_mcs::escape::Escaped;
//! use std::ffi::OsStr;
//! use std::os::unix::ffi::OsStrExt;
//!
//! let forged = "a\nsystem_u:object_r:shadow_t:s0 names";
//! assert_eq!(Escaped::str(forged).to_string(), r"a\nsystem_u:object_r:shadow_t:s0 names");
//!
//! let fe = OsStr::from_bytes(b"\xff\xfe");
//! let fd = OsStr::from_bytes(b"\xff\xfd");
//! assert_eq!(Escaped::os_str(fe).to_string(), r"\xff\xfe");
//! assert_eq!(Escaped::os_str(fd).to_string(), r"\xff\xfd");
//!
//! let mut map = serde_json::Map::new();
//! Escaped::os_str(fe).insert_json(&mut map, "path");
//! assert_eq!(serde_json::Value::Object(map), serde_json::json!({"path": r"\xff\xfe", "path_escaped": true}));
//! ```

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt;
use std::path::Path;

use serde::ser::SerializeMap as _;

/// Bytes that print escaped by the [module's text scheme](self): control
/// characters and invalid UTF-8 as `\n`, `\t`, `\e`, `\xNN`, a backslash
/// as `\\`, everything else as it is.
///
/// ```
/// use selinux_mcs::escape::Escaped;
/// use std::path::Path;
///
/// assert_eq!(Escaped::path(Path::new("/srv/vol/données")).to_string(), "/srv/vol/données");
/// assert_eq!(Escaped::str("tab\there\x1b[31m").to_string(), r"tab\there\e[31m");
/// assert_eq!(Escaped::bytes(b"back\\slash \xff").to_string(), r"back\\slash \xff");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Escaped<'a>(&'a [u8]);

impl<'a> Escaped<'a> {
    /// Any bytes.
    pub fn bytes(bytes: &'a [u8]) -> Escaped<'a> {
        Escaped(bytes)
    }

    /// A path's bytes (on Unix, exactly the bytes of the name).
    pub fn path(path: &'a Path) -> Escaped<'a> {
        Escaped::os_str(path.as_os_str())
    }

    /// An `OsStr`'s bytes (on Unix, exactly the bytes of the name).
    pub fn os_str(s: &'a OsStr) -> Escaped<'a> {
        Escaped(s.as_encoded_bytes())
    }

    /// A string (always valid UTF-8, but it may hold control characters).
    pub fn str(s: &'a str) -> Escaped<'a> {
        Escaped(s.as_bytes())
    }

    /// The bytes as given.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Whether the escaped text differs from the bytes (they hold a control
    /// character, a backslash or invalid UTF-8).
    ///
    /// ```
    /// use selinux_mcs::escape::Escaped;
    /// assert!(!Escaped::str("plain/name.txt").needs_escaping());
    /// assert!(Escaped::str(r"C:\x").needs_escaping());
    /// ```
    pub fn needs_escaping(&self) -> bool {
        match std::str::from_utf8(self.0) {
            Ok(s) => s.chars().any(|c| c == '\\' || c.is_control()),
            Err(_) => true,
        }
    }

    /// The JSON string for the bytes under the [module's JSON
    /// scheme](self), and whether it is the escaped text (`true`: the
    /// bytes are not valid UTF-8) rather than the bytes themselves.
    ///
    /// ```
    /// use selinux_mcs::escape::Escaped;
    /// assert_eq!(Escaped::str("a\nb").json_text(), ("a\nb".into(), false));
    /// assert_eq!(Escaped::bytes(b"a\xffb").json_text(), (r"a\xffb".into(), true));
    /// ```
    pub fn json_text(&self) -> (Cow<'a, str>, bool) {
        match std::str::from_utf8(self.0) {
            Ok(s) => (Cow::Borrowed(s), false),
            Err(_) => (Cow::Owned(self.to_string()), true),
        }
    }

    /// Adds the bytes to `map` under `key` by the [module's JSON
    /// scheme](self): `key` holds the text, and `{key}_escaped: true` is
    /// added only when the bytes are not valid UTF-8.
    ///
    /// ```
    /// use selinux_mcs::escape::Escaped;
    /// let mut map = serde_json::Map::new();
    /// Escaped::str("/srv/vol/a\nb").insert_json(&mut map, "path");
    /// assert_eq!(serde_json::Value::Object(map), serde_json::json!({"path": "/srv/vol/a\nb"}));
    /// ```
    pub fn insert_json(&self, map: &mut serde_json::Map<String, serde_json::Value>, key: &str) {
        let (text, escaped) = self.json_text();
        map.insert(key.to_owned(), serde_json::Value::String(text.into_owned()));
        if escaped {
            map.insert(format!("{key}_escaped"), serde_json::Value::Bool(true));
        }
    }

    /// The same fields as [`insert_json`](Self::insert_json), as a value
    /// that serializes as a map of one or two entries: put it in a
    /// `#[derive(Serialize)]` struct with `#[serde(flatten)]`, or
    /// serialize it alone.
    ///
    /// ```
    /// use selinux_mcs::escape::{Escaped, JsonFields};
    /// #[derive(serde::Serialize)]
    /// struct Entry<'a> {
    ///     #[serde(flatten)]
    ///     path: JsonFields<'a>,
    ///     label: &'a str,
    /// }
    /// let e = Entry { path: Escaped::bytes(b"\xff").json_fields("path"), label: "u:r:t:s0" };
    /// assert_eq!(
    ///     serde_json::to_string(&e)?,
    ///     r#"{"path":"\\xff","path_escaped":true,"label":"u:r:t:s0"}"#
    /// );
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn json_fields(&self, key: &'a str) -> JsonFields<'a> {
        JsonFields { key, name: *self }
    }
}

impl<'a> From<&'a [u8]> for Escaped<'a> {
    fn from(bytes: &'a [u8]) -> Escaped<'a> {
        Escaped::bytes(bytes)
    }
}

impl<'a> From<&'a Path> for Escaped<'a> {
    fn from(path: &'a Path) -> Escaped<'a> {
        Escaped::path(path)
    }
}

impl<'a> From<&'a OsStr> for Escaped<'a> {
    fn from(s: &'a OsStr) -> Escaped<'a> {
        Escaped::os_str(s)
    }
}

impl<'a> From<&'a str> for Escaped<'a> {
    fn from(s: &'a str) -> Escaped<'a> {
        Escaped::str(s)
    }
}

/// Writes the escaped text of `bytes` into `out`.
fn write_escaped(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut plain = 0; // start of the run not yet written
        for (i, c) in valid.char_indices() {
            let escape = match c {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\x1b' => "\\e",
                c if c.is_control() => "",
                _ => continue,
            };
            out.write_str(&valid[plain..i])?;
            plain = i + c.len_utf8();
            if escape.is_empty() {
                for b in valid[i..plain].bytes() {
                    write!(out, "\\x{b:02x}")?;
                }
            } else {
                out.write_str(escape)?;
            }
        }
        out.write_str(&valid[plain..])?;
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Escaped<'_> {
    /// Prints the escaped text; width, fill and alignment apply to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() || f.precision().is_some() {
            let mut text = String::new();
            write_escaped(&mut text, self.0)?;
            f.pad(&text)
        } else {
            write_escaped(f, self.0)
        }
    }
}

/// A name under a key, as the [module's JSON scheme](self) writes it: a map
/// of `key` and, only for bytes that are not valid UTF-8, `{key}_escaped:
/// true`. Made by [`Escaped::json_fields`].
#[derive(Clone, Copy, Debug)]
pub struct JsonFields<'a> {
    key: &'a str,
    name: Escaped<'a>,
}

impl serde::Serialize for JsonFields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (text, escaped) = self.name.json_text();
        let mut map = serializer.serialize_map(Some(if escaped { 2 } else { 1 }))?;
        map.serialize_entry(self.key, &text)?;
        if escaped {
            map.serialize_entry(&format!("{}_escaped", self.key), &true)?;
        }
        map.end()
    }
}

/// The bytes whose escaped text is `text`: the inverse of [`Escaped`]'s
/// `Display`, so `unescape(&Escaped::bytes(b).to_string()) == Some(b)` for
/// every `b`. `None` when `text` holds a backslash that starts none of the
/// escapes (`\\`, `\n`, `\t`, `\e`, `\xNN`).
///
/// ```
/// use selinux_mcs::escape::{unescape, Escaped};
/// assert_eq!(unescape(r"a\nb\xff\\").as_deref(), Some(&b"a\nb\xff\\"[..]));
/// let name = b"\x1b]0;pwned\x07\xfe";
/// assert_eq!(unescape(&Escaped::bytes(name).to_string()).as_deref(), Some(&name[..]));
/// assert_eq!(unescape(r"\q"), None);
/// ```
pub fn unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some(pos) = memchr::memchr(b'\\', rest) {
        out.extend_from_slice(&rest[..pos]);
        let (byte, len) = match rest.get(pos + 1)? {
            b'\\' => (b'\\', 2),
            b'n' => (b'\n', 2),
            b't' => (b'\t', 2),
            b'e' => (0x1b, 2),
            b'x' => {
                let hex = rest.get(pos + 2..pos + 4)?;
                if !hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                (u8::from_str_radix(hex, 16).ok()?, 4)
            }
            _ => return None,
        };
        out.push(byte);
        rest = &rest[pos + len..];
    }
    out.extend_from_slice(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn esc(b: &[u8]) -> String {
        Escaped::bytes(b).to_string()
    }

    #[test]
    fn the_findings_cases() {
        // A newline cannot forge a second entry.
        let forged = esc(b"a\nsystem_u:object_r:shadow_t:s0 names");
        assert_eq!(forged, r"a\nsystem_u:object_r:shadow_t:s0 names");
        assert!(!forged.contains('\n'));
        // Two invalid names stay distinct (a lossy conversion gives "��" for both).
        assert_eq!(esc(b"\xff\xfe"), r"\xff\xfe");
        assert_eq!(esc(b"\xff\xfd"), r"\xff\xfd");
        // Terminal escape sequences do not reach the terminal.
        assert_eq!(esc(b"\x1b[2J\x1b]0;title\x07"), r"\e[2J\e]0;title\x07");
    }

    #[test]
    fn each_escape() {
        assert_eq!(esc(b"\\"), r"\\");
        assert_eq!(esc(b"\n"), r"\n");
        assert_eq!(esc(b"\t"), r"\t");
        assert_eq!(esc(b"\x1b"), r"\e");
        assert_eq!(esc(b"\0"), r"\x00");
        assert_eq!(esc(b"\r"), r"\x0d");
        assert_eq!(esc(b"\x1f"), r"\x1f");
        assert_eq!(esc(b"\x7f"), r"\x7f");
        // C1 controls (U+0080..U+009F) are control characters too; CSI is U+009B.
        assert_eq!(esc("\u{9b}31m".as_bytes()), r"\xc2\x9b31m");
        assert_eq!(esc("\u{85}".as_bytes()), r"\xc2\x85");
        // Invalid UTF-8: lone continuation, truncated sequence, overlong, surrogate.
        assert_eq!(esc(b"\x80"), r"\x80");
        assert_eq!(esc(b"a\xe2\x82"), r"a\xe2\x82");
        assert_eq!(esc(b"\xc0\xaf"), r"\xc0\xaf");
        assert_eq!(esc(b"\xed\xa0\x80"), r"\xed\xa0\x80");
    }

    #[test]
    fn text_stays_as_is() {
        for s in [
            "",
            "plain",
            "/srv/vol/a b",
            "données",
            "日本語",
            "\u{fffd}",
            "emoji \u{1f600}",
            "\u{a0}nbsp",
            "u:r:t:s0:c1,c2",
        ] {
            assert_eq!(esc(s.as_bytes()), s);
            assert!(!Escaped::str(s).needs_escaping(), "{s:?}");
        }
        // A literal U+FFFD and an invalid byte stay apart.
        assert_ne!(esc("\u{fffd}".as_bytes()), esc(b"\xff"));
        // Text that looks like an escape is escaped itself.
        assert_eq!(esc(br"\xff"), r"\\xff");
        assert_ne!(esc(br"\xff"), esc(b"\xff"));
    }

    #[test]
    fn padding_applies_to_the_escaped_text() {
        assert_eq!(format!("[{:<6}]", Escaped::str("a\n")), r"[a\n   ]");
        assert_eq!(format!("[{:>4}]", Escaped::bytes(b"\xff")), r"[\xff]");
    }

    #[test]
    fn json_scheme() {
        let fields = |b: &[u8]| {
            let mut map = serde_json::Map::new();
            Escaped::bytes(b).insert_json(&mut map, "path");
            serde_json::Value::Object(map)
        };
        assert_eq!(fields(b"a\nb"), serde_json::json!({"path": "a\nb"}));
        assert_eq!(
            fields(b"\xff\xfe"),
            serde_json::json!({"path": r"\xff\xfe", "path_escaped": true})
        );
        assert_ne!(fields(b"\xff\xfe"), fields(b"\xff\xfd"));
        // The literal text of an escape is not the escaped byte.
        assert_ne!(fields(br"\xff"), fields(b"\xff"));
        // json_fields serializes the same fields.
        for b in [&b"ok"[..], b"\xff", br"\xff", b"\n"] {
            let via_serde =
                serde_json::to_value(Escaped::bytes(b).json_fields("path")).expect("serializes");
            assert_eq!(via_serde, fields(b));
        }
    }

    #[test]
    fn unescape_rejects_what_escape_never_writes() {
        for bad in [r"\", r"\q", r"\x", r"\x1", r"\xg0", r"\xFF", r"a\"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn escaping_is_injective(a in proptest::collection::vec(any::<u8>(), 0..24),
                                 b in proptest::collection::vec(any::<u8>(), 0..24)) {
            let (ea, eb) = (esc(&a), esc(&b));
            prop_assert_eq!(a == b, ea == eb);
            let (ja, jb) = (Escaped::bytes(&a).json_text(), Escaped::bytes(&b).json_text());
            prop_assert_eq!(a == b, ja == jb);
        }

        #[test]
        fn unescape_inverts_escape(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let text = esc(&b);
            prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
            prop_assert_eq!(unescape(&text), Some(b.clone()));
            let (json, escaped) = Escaped::bytes(&b).json_text();
            let back = if escaped { unescape(&json) } else { Some(json.as_bytes().to_vec()) };
            prop_assert_eq!(back, Some(b));
        }

        #[test]
        fn names_from_interesting_bytes_are_injective(
            a in proptest::collection::vec(prop_oneof![Just(b'\\'), Just(b'x'), Just(b'f'), Just(0xff), Just(b'\n'), Just(0x1b), Just(b'e'), Just(0xc2), Just(0x9b)], 0..12),
            b in proptest::collection::vec(prop_oneof![Just(b'\\'), Just(b'x'), Just(b'f'), Just(0xff), Just(b'\n'), Just(0x1b), Just(b'e'), Just(0xc2), Just(0x9b)], 0..12),
        ) {
            // Small alphabets make collisions likely if there were any.
            prop_assert_eq!(a == b, esc(&a) == esc(&b));
        }
    }
}
