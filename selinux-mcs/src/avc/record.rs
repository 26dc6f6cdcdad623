//! One AVC record: the parser of a log line and its canonical text.

use std::fmt;

use crate::SecurityContext;

/// Whether the kernel (or a userspace object manager) denied the access or
/// granted it and logged it because of an `auditallow` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AvcKind {
    /// `avc:  denied  { ... }`.
    Denied,
    /// `avc:  granted  { ... }` (an `auditallow` rule logged it).
    Granted,
}

impl AvcKind {
    /// `"denied"` or `"granted"`, as the log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AvcKind::Denied => "denied",
            AvcKind::Granted => "granted",
        }
    }
}

impl fmt::Display for AvcKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a field's value was written, so that it prints back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quoting {
    /// `key=value`, taken as written.
    Bare,
    /// `key="value"`.
    Quoted,
    /// `key=6361740A`: the kernel's hex form of an untrusted string
    /// (one holding a space, a quote, a control or a non-ASCII byte).
    Hex,
}

/// One `key=value` field of a record, its value decoded (quotes removed,
/// hex decoded). Two fields are equal when their keys and values are,
/// however they were written.
#[derive(Clone, Debug)]
pub struct Field {
    key: String,
    value: Vec<u8>,
    quoting: Quoting,
}

impl PartialEq for Field {
    fn eq(&self, other: &Field) -> bool {
        self.key == other.key && self.value == other.value
    }
}

impl Eq for Field {}

impl Field {
    /// The key (`comm`, `name`, `scontext`, ...).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value's bytes: quotes removed, the hex form decoded (a file
    /// name need not be UTF-8).
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// The fields whose values the kernel writes with `audit_log_untrustedstring`:
/// quoted when they hold only printable ASCII other than `"` and space,
/// else as uppercase hex. Other fields (`ino=1234`, `dev="sda1"`) are never
/// hex, even when they look like it.
const UNTRUSTED: &[&str] = &[
    "comm",
    "name",
    "path",
    "exe",
    "cwd",
    "cmdline",
    "proctitle",
    "key",
    "unit",
];

/// One AVC record, parsed: the decision, the permissions, the source and
/// target contexts, the class, and every other field of the line.
///
/// ```
/// use selinux_mcs::avc::{AvcKind, AvcRecord};
/// let line = r#"type=AVC msg=audit(1701597600.123:456): avc:  denied  { read write } for  pid=4242 comm=636174206D65 name="data" dev="sda1" ino=1234 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0"#;
/// let r = AvcRecord::parse(line, 1)?.expect("an AVC record");
/// assert_eq!(r.kind(), AvcKind::Denied);
/// assert_eq!(r.permissions(), ["read", "write"]);
/// assert_eq!(r.comm(), Some(&b"cat me"[..])); // hex-encoded by the kernel
/// assert_eq!(r.tcontext().to_string(), "system_u:object_r:container_file_t:s0:c1,c3");
/// assert_eq!(r.event(), Some("1701597600.123:456"));
/// assert_eq!(r.permissive(), Some(false));
/// # Ok::<(), selinux_mcs::avc::AvcError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcRecord {
    line: usize,
    kind: AvcKind,
    permissions: Vec<String>,
    scontext: SecurityContext,
    tcontext: SecurityContext,
    tclass: String,
    permissive: Option<bool>,
    event: Option<String>,
    user: bool,
    fields: Vec<Field>,
    /// The path of the event's first PATH record (ausearch output), when
    /// the record has no `path=` of its own.
    event_path: Option<Vec<u8>>,
}

/// What went wrong in a line that holds an AVC record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AvcErrorKind {
    /// After `avc:` came neither `denied` nor `granted`.
    ExpectedDecision,
    /// After the decision (denied or granted) came no `{`.
    ExpectedOpenBrace(AvcKind),
    /// Inside the braces, something that is not a permission name.
    ExpectedPermission,
    /// The braces hold no permission.
    NoPermissions,
    /// Something that is not a `key=value` field.
    ExpectedField,
    /// A `"` that is never closed.
    UnterminatedQuote,
    /// `scontext`, `tcontext` or `tclass` is missing.
    MissingField(&'static str),
    /// `scontext`, `tcontext`, `tclass` or `permissive` appears twice.
    DuplicateField(String),
    /// A context does not parse.
    BadContext(crate::ParseError),
    /// `permissive=` is neither 0 nor 1.
    BadPermissive,
    /// The line is longer than [`MAX_LINE`](super::MAX_LINE) bytes.
    LineTooLong,
}

/// A line that holds an AVC record (`avc:` appears in it) but does not
/// parse: where (line, byte offset in the line), what was expected, and the
/// text found there.
///
/// ```
/// use selinux_mcs::avc::AvcRecord;
/// let err = AvcRecord::parse("audit: avc:  denied  read } for scontext=a", 7).unwrap_err();
/// assert_eq!(err.line(), 7);
/// assert_eq!(err.to_string(), r#"line 7, byte 21: expected "{" after "denied", found "read""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, byte {offset}: {}", describe(.kind, .found))]
pub struct AvcError {
    line: usize,
    offset: usize,
    found: String,
    kind: AvcErrorKind,
}

fn describe(kind: &AvcErrorKind, found: &str) -> String {
    let found = if found.is_empty() {
        "the end of the line".to_owned()
    } else {
        format!("{found:?}")
    };
    match kind {
        AvcErrorKind::ExpectedDecision => {
            format!(r#"expected "denied" or "granted" after "avc:", found {found}"#)
        }
        AvcErrorKind::ExpectedOpenBrace(kind) => {
            format!(r#"expected "{{" after "{kind}", found {found}"#)
        }
        AvcErrorKind::ExpectedPermission => {
            format!(r#"expected a permission name or "}}", found {found}"#)
        }
        AvcErrorKind::NoPermissions => "the braces hold no permission".to_owned(),
        AvcErrorKind::ExpectedField => format!("expected a key=value field, found {found}"),
        AvcErrorKind::UnterminatedQuote => format!("the quote is never closed: {found}"),
        AvcErrorKind::MissingField(k) => format!("the record has no {k}= field"),
        AvcErrorKind::DuplicateField(k) => format!("{k}= appears twice, found {found}"),
        AvcErrorKind::BadContext(e) => format!("bad context {found}: {e}"),
        AvcErrorKind::BadPermissive => {
            format!("expected permissive=0 or permissive=1, found {found}")
        }
        AvcErrorKind::LineTooLong => format!(
            "the line is longer than {} KiB (audit records are under 9 KiB); skipped",
            super::MAX_LINE >> 10
        ),
    }
}

impl AvcError {
    pub(super) fn too_long(line: usize) -> AvcError {
        AvcError {
            line,
            offset: super::MAX_LINE,
            found: String::new(),
            kind: AvcErrorKind::LineTooLong,
        }
    }

    /// The line, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The byte offset in the line, from 0.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The offending text (at most 80 bytes of it, cut at a character).
    pub fn found(&self) -> &str {
        &self.found
    }

    /// What was expected.
    pub fn kind(&self) -> &AvcErrorKind {
        &self.kind
    }
}

/// The offending text, shortened for messages.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= 80 {
        return text.into_owned();
    }
    let mut end = 80;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

/// A cursor over one line's bytes.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Cursor<'a> {
    fn skip_space(&mut self) {
        while self.pos < self.s.len() && is_space(self.s[self.pos]) {
            self.pos += 1;
        }
    }

    fn rest(&self) -> &'a [u8] {
        &self.s[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The word at the cursor (up to whitespace), not consumed.
    fn peek_word(&self) -> &'a [u8] {
        let rest = self.rest();
        let end = rest.iter().position(|b| is_space(*b)).unwrap_or(rest.len());
        &rest[..end]
    }

    fn error(&self, offset: usize, found: &[u8], kind: AvcErrorKind) -> AvcError {
        AvcError {
            line: self.line,
            offset,
            found: excerpt(found),
            kind,
        }
    }
}

/// Where the record starts: the byte offset just past the `avc:` token,
/// and whether it was opened by `msg='` (a userspace record, whose body
/// ends at the line's last `'`).
fn find_avc(line: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        let start = i;
        while i < line.len() && !is_space(line[i]) {
            i += 1;
        }
        let word = &line[start..i];
        if word == b"avc:" || word.ends_with(b"=avc:") {
            return Some((i, false));
        }
        if word.ends_with(b"'avc:") {
            return Some((i, true));
        }
    }
    None
}

/// The event id in `audit(1701597600.123:456)` (or `ausearch -i`'s
/// `audit(12/03/2023 10:00:00.123:456)`) before `end`.
fn event_id(head: &[u8]) -> Option<String> {
    let at = head.windows(6).position(|w| w == b"audit(")?;
    let rest = &head[at + 6..];
    let close = rest.iter().position(|b| *b == b')')?;
    let id = std::str::from_utf8(&rest[..close]).ok()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// The kernel's hex form (uppercase, two digits a byte), decoded.
pub(super) fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    s.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Whether the kernel would write `value` between quotes (else in hex).
fn quotable(value: &[u8]) -> bool {
    value
        .iter()
        .all(|b| (0x21..=0x7e).contains(b) && *b != b'"')
}

impl AvcRecord {
    /// Parses one log line. `Ok(None)` when the line holds no AVC decision
    /// (no `avc:` token, or an `avc:` notice such as `received policyload
    /// notice` or `op=setenforce`); an error when it holds a malformed one.
    ///
    /// Accepted around the record: the kernel's and dmesg's (`[ 12.345]
    /// audit: type=1400 audit(...): avc: ...`), auditd's and `ausearch -m
    /// avc`'s (`type=AVC msg=audit(...): avc: ...`, also `ausearch -i`),
    /// the journal's and syslog's (`Dec 03 10:00:00 host kernel: audit:
    /// type=1400 ...`) and userspace object managers' (`type=USER_AVC ...
    /// msg='avc: ...'`). Values are unquoted, and untrusted strings (`comm`,
    /// `name`, `path`, `exe`, ...) written in the kernel's hex form are
    /// decoded. Anything after a GS byte (0x1d, auditd's enriched fields)
    /// is ignored. `line` numbers errors and the record.
    pub fn parse(line: &str, number: usize) -> Result<Option<AvcRecord>, AvcError> {
        let mut s = line;
        if let Some(gs) = s.find('\u{1d}') {
            s = &s[..gs];
        }
        let Some((start, user_quoted)) = find_avc(s.as_bytes()) else {
            return Ok(None);
        };
        let head = &s.as_bytes()[..start];
        let event = event_id(head);
        // ausearch -i has decoded the hex itself and writes dates with '/'.
        let interpreted = event.as_deref().is_some_and(|e| e.contains('/'));
        let user = user_quoted
            || head
                .split(|b| is_space(*b))
                .any(|w| w == b"type=USER_AVC" || w == b"type=1107");
        if user_quoted {
            if let Some(q) = s.rfind('\'') {
                if q >= start {
                    s = &s[..q];
                }
            }
        }
        let mut c = Cursor {
            s: s.as_bytes(),
            pos: start,
            line: number,
        };
        c.skip_space();
        let word = c.peek_word();
        let kind = match word {
            b"denied" => AvcKind::Denied,
            b"granted" => AvcKind::Granted,
            // Notices on the same channel: policy loads, setenforce.
            b"received" => return Ok(None),
            w if w.starts_with(b"op=") => return Ok(None),
            w => return Err(c.error(c.pos, w, AvcErrorKind::ExpectedDecision)),
        };
        c.pos += word.len();
        c.skip_space();
        if c.rest().first() != Some(&b'{') {
            return Err(c.error(c.pos, c.peek_word(), AvcErrorKind::ExpectedOpenBrace(kind)));
        }
        c.pos += 1;
        let mut permissions = vec![];
        loop {
            c.skip_space();
            match c.rest().first() {
                Some(b'}') => {
                    c.pos += 1;
                    break;
                }
                None => return Err(c.error(c.pos, b"", AvcErrorKind::ExpectedPermission)),
                Some(_) => {}
            }
            let rest = c.rest();
            let len = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .unwrap_or(rest.len());
            if len == 0 {
                return Err(c.error(c.pos, c.peek_word(), AvcErrorKind::ExpectedPermission));
            }
            // ASCII by the check above.
            permissions.push(String::from_utf8_lossy(&rest[..len]).into_owned());
            c.pos += len;
        }
        if permissions.is_empty() {
            return Err(c.error(c.pos - 1, b"}", AvcErrorKind::NoPermissions));
        }
        c.skip_space();
        if c.peek_word() == b"for" {
            c.pos += 3;
        }
        let mut fields: Vec<Field> = vec![];
        let (mut scontext, mut tcontext, mut tclass, mut permissive) = (None, None, None, None);
        loop {
            c.skip_space();
            if c.at_end() {
                break;
            }
            let at = c.pos;
            let rest = c.rest();
            let key_len = rest
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'))
                .unwrap_or(rest.len());
            if key_len == 0 || rest.get(key_len) != Some(&b'=') {
                return Err(c.error(at, c.peek_word(), AvcErrorKind::ExpectedField));
            }
            let key = String::from_utf8_lossy(&rest[..key_len]).into_owned();
            c.pos += key_len + 1;
            let value_at = c.pos;
            // Every boundary here sits next to an ASCII byte ('=', '"',
            // whitespace) or at the end, so the slices are whole characters.
            let (text, quoting) = if c.rest().first() == Some(&b'"') {
                let Some(close) = c.rest()[1..].iter().position(|b| *b == b'"') else {
                    return Err(c.error(at, &c.s[at..], AvcErrorKind::UnterminatedQuote));
                };
                c.pos += close + 2;
                (s.get(value_at + 1..value_at + 1 + close), Quoting::Quoted)
            } else {
                let len = c.peek_word().len();
                c.pos += len;
                (s.get(value_at..value_at + len), Quoting::Bare)
            };
            let written = &c.s[value_at..c.pos];
            let Some(text) = text else {
                return Err(c.error(at, written, AvcErrorKind::ExpectedField));
            };
            let duplicate = |seen: bool| -> Result<(), AvcError> {
                if seen {
                    Err(c.error(at, written, AvcErrorKind::DuplicateField(key.clone())))
                } else {
                    Ok(())
                }
            };
            match key.as_str() {
                "scontext" | "tcontext" => {
                    let slot = if key == "scontext" {
                        &mut scontext
                    } else {
                        &mut tcontext
                    };
                    duplicate(slot.is_some())?;
                    let ctx = text
                        .parse::<SecurityContext>()
                        .map_err(|e| c.error(value_at, written, AvcErrorKind::BadContext(e)))?;
                    *slot = Some(ctx);
                }
                "tclass" => {
                    duplicate(tclass.is_some())?;
                    let ok = !text.is_empty()
                        && text
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !ok {
                        return Err(c.error(at, written, AvcErrorKind::ExpectedField));
                    }
                    tclass = Some(text.to_owned());
                }
                "permissive" => {
                    duplicate(permissive.is_some())?;
                    permissive = Some(match text {
                        "0" | "no" => false,
                        "1" | "yes" => true,
                        _ => return Err(c.error(value_at, written, AvcErrorKind::BadPermissive)),
                    });
                }
                _ => {}
            }
            let hex =
                (quoting == Quoting::Bare && !interpreted && UNTRUSTED.contains(&key.as_str()))
                    .then(|| hex_decode(text.as_bytes()))
                    .flatten();
            let (value, quoting) = match hex {
                Some(v) => (v, Quoting::Hex),
                None => (text.as_bytes().to_vec(), quoting),
            };
            fields.push(Field {
                key,
                value,
                quoting,
            });
        }
        let missing = |k| c.error(c.s.len(), b"", AvcErrorKind::MissingField(k));
        Ok(Some(AvcRecord {
            line: number,
            kind,
            permissions,
            scontext: scontext.ok_or_else(|| missing("scontext"))?,
            tcontext: tcontext.ok_or_else(|| missing("tcontext"))?,
            tclass: tclass.ok_or_else(|| missing("tclass"))?,
            permissive,
            event,
            user,
            fields,
            event_path: None,
        }))
    }

    /// The line it came from, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Denied or granted.
    pub fn kind(&self) -> AvcKind {
        self.kind
    }

    /// The permissions, as written (`{ read write }`).
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// The source (process) context, `scontext=`.
    pub fn scontext(&self) -> &SecurityContext {
        &self.scontext
    }

    /// The target (object) context, `tcontext=`.
    pub fn tcontext(&self) -> &SecurityContext {
        &self.tcontext
    }

    /// The object class, `tclass=`.
    pub fn tclass(&self) -> &str {
        &self.tclass
    }

    /// `permissive=`: whether the kernel let the access through (permissive
    /// mode or a permissive domain). `None` on old kernels that omit it.
    pub fn permissive(&self) -> Option<bool> {
        self.permissive
    }

    /// The audit event id (`1701597600.123:456`), when the line has one.
    pub fn event(&self) -> Option<&str> {
        self.event.as_deref()
    }

    /// Whether a userspace object manager logged it (`USER_AVC`: systemd,
    /// dbus, ...) rather than the kernel.
    pub fn is_user(&self) -> bool {
        self.user
    }

    /// Every field, in the line's order (`scontext`, `tcontext`, `tclass`
    /// and `permissive` included).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The value of the first field named `key`.
    pub fn field(&self, key: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| &f.value[..])
    }

    /// `comm=`: the process's command name.
    pub fn comm(&self) -> Option<&[u8]> {
        self.field("comm")
    }

    /// `name=`: the target's file name (its last component).
    pub fn name(&self) -> Option<&[u8]> {
        self.field("name")
    }

    /// `path=`, else the path of the event's first PATH record when the
    /// record came with its event (`ausearch -m avc`; see [`AvcLog`](super::AvcLog)).
    pub fn path(&self) -> Option<&[u8]> {
        self.field("path").or(self.event_path.as_deref())
    }

    pub(super) fn set_event_path(&mut self, path: Vec<u8>) {
        self.event_path = Some(path);
    }
}

/// The record as the kernel writes it (`avc:  denied  { read } for  pid=1
/// comm="cat" ... tclass=file permissive=0`), after the event header
/// `type=AVC msg=audit(ID): ` when the record has an event id. Parsing the
/// text gives back an equal record.
impl fmt::Display for AvcRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = &self.event {
            let t = if self.user { "USER_AVC" } else { "AVC" };
            write!(f, "type={t} msg=audit({id}): ")?;
        }
        if self.user {
            f.write_str("msg='")?;
        }
        write!(f, "avc:  {}  {{", self.kind)?;
        for p in &self.permissions {
            write!(f, " {p}")?;
        }
        f.write_str(" } for ")?;
        for field in &self.fields {
            write!(f, " {}=", field.key)?;
            let v = &field.value;
            // As written, except that decoded hex goes back between quotes
            // when the kernel would have quoted it. A quoted value holds no
            // '"' and a bare one no space, so both parse back the same.
            match field.quoting {
                Quoting::Bare => f.write_str(&String::from_utf8_lossy(v))?,
                Quoting::Hex if !quotable(v) => write_hex(f, v)?,
                Quoting::Hex | Quoting::Quoted => write!(f, "\"{}\"", String::from_utf8_lossy(v))?,
            }
        }
        if self.user {
            f.write_str("'")?;
        }
        Ok(())
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, v: &[u8]) -> fmt::Result {
    for b in v {
        write!(f, "{b:02X}")?;
    }
    Ok(())
}
