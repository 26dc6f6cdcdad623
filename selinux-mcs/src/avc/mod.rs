//! AVC records: the kernel's (and userspace object managers') log lines
//! for access decisions, parsed, grouped, and explained from the policy.
//!
//! [`AvcLog::parse`] reads what people paste or pipe: `dmesg`, the journal,
//! `/var/log/audit/audit.log`, `ausearch -m avc` (with or without `-i`).
//! Lines that are not AVC records are skipped; an AVC record that does not
//! parse is an [`AvcError`] naming the line, the byte and the offending
//! text, and the other lines are still read. [`AvcLog::groups`] folds
//! identical records (same source, target, class and permissions) into one
//! with a count. [`Why`] says, for each, which part of the policy decides
//! it, as `audit2why` classifies it, and what would fix it.
//!
//! ```
//! use selinux_mcs::avc::AvcLog;
//! let log = AvcLog::parse(
//!     b"type=AVC msg=audit(1701597600.123:456): avc:  denied  { read } for  pid=4242 comm=\"cat\" name=\"data\" dev=\"sda1\" ino=1234 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0\n\
//!       type=SYSCALL msg=audit(1701597600.123:456): arch=c000003e syscall=257 success=no exit=-13\n\
//!       type=AVC msg=audit(1701597601.000:457): avc:  denied  { read } for  pid=4243 comm=\"cat\" name=\"data\" dev=\"sda1\" ino=1234 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0\n\
//!       type=AVC msg=audit(1701597602.000:458): avc:  denied  { read } for  pid=1 scontext=system_u:system_r:container_t:s0:c1,c2\n",
//! );
//! assert_eq!(log.records().len(), 2);
//! assert_eq!(log.errors()[0].to_string(), "line 4, byte 121: the record has no tcontext= field");
//! let groups = log.groups();
//! assert_eq!(groups.len(), 1);
//! assert_eq!((groups[0].count(), groups[0].lines()), (2, &[1, 3][..]));
//! ```

mod record;
mod why;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use record::{AvcError, AvcErrorKind, AvcKind, AvcRecord, Field};
pub use why::{Cause, Verdict, Why};

/// The AVC records of a log and the lines that hold malformed ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AvcLog {
    records: Vec<AvcRecord>,
    errors: Vec<AvcError>,
}

/// The longest line read: 64 KiB (the kernel's audit records are under
/// 9 KiB). A longer line is skipped whole and reported.
pub const MAX_LINE: usize = 64 << 10;

/// Event id -> (cwd, first PATH name).
type Events = HashMap<String, (Option<Vec<u8>>, Option<Vec<u8>>)>;

impl AvcLog {
    /// Reads every line of `input` (lines end at `\n`; a trailing `\r` is
    /// dropped; bytes that are not UTF-8 are replaced, as they can only be
    /// in values the kernel would have hex-encoded; a line longer than
    /// [`MAX_LINE`] is skipped and reported). A record without a
    /// `path=` of its own gets the path of its event's first PATH record
    /// (`ausearch` prints the whole event), made absolute with the event's
    /// CWD record when it is relative.
    pub fn parse(input: &[u8]) -> AvcLog {
        let mut log = AvcLog::default();
        let mut events = Events::new();
        for (i, line) in input.split(|b| *b == b'\n').enumerate() {
            if line.len() > MAX_LINE {
                log.errors.push(AvcError::too_long(i + 1));
                continue;
            }
            log.push_line(line, i + 1, &mut events);
        }
        log.finish(&events);
        log
    }

    /// [`parse`](Self::parse) from a reader, line by line: only the AVC
    /// records are kept, and a line longer than [`MAX_LINE`] is skipped
    /// and reported, so memory stays bounded by the records. Fails only
    /// when reading does.
    pub fn read<R: std::io::BufRead>(mut input: R) -> std::io::Result<AvcLog> {
        use std::io::Read as _;
        let mut log = AvcLog::default();
        let mut events = Events::new();
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            line.clear();
            let n = std::io::BufRead::read_until(
                &mut (&mut input).take(MAX_LINE as u64 + 1),
                b'\n',
                &mut line,
            )?;
            if n == 0 {
                break;
            }
            number += 1;
            if line.len() > MAX_LINE && !line.ends_with(b"\n") {
                log.errors.push(AvcError::too_long(number));
                // Skip the rest of the line.
                loop {
                    let buf = input.fill_buf()?;
                    if buf.is_empty() {
                        break;
                    }
                    match buf.iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            input.consume(i + 1);
                            break;
                        }
                        None => {
                            let len = buf.len();
                            input.consume(len);
                        }
                    }
                }
                continue;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            log.push_line(text, number, &mut events);
        }
        log.finish(&events);
        Ok(log)
    }

    fn push_line(&mut self, line: &[u8], number: usize, events: &mut Events) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        match AvcRecord::parse(&text, number) {
            Ok(Some(r)) => self.records.push(r),
            Ok(None) => note_event(&text, events),
            Err(e) => self.errors.push(e),
        }
    }

    fn finish(&mut self, events: &Events) {
        for r in &mut self.records {
            if r.field("path").is_some() {
                continue;
            }
            let Some((cwd, Some(name))) = r.event().and_then(|e| events.get(e)) else {
                continue;
            };
            let path = match cwd {
                Some(cwd) if !name.starts_with(b"/") => {
                    let mut p = cwd.clone();
                    if !p.ends_with(b"/") {
                        p.push(b'/');
                    }
                    p.extend_from_slice(name);
                    p
                }
                _ => name.clone(),
            };
            r.set_event_path(path);
        }
    }

    /// The records, in the input's order.
    pub fn records(&self) -> &[AvcRecord] {
        &self.records
    }

    /// The malformed AVC lines, in the input's order.
    pub fn errors(&self) -> &[AvcError] {
        &self.errors
    }

    /// The records grouped: one group per (kind, source, target, class,
    /// set of permissions), in the order of first appearance.
    pub fn groups(&self) -> Vec<AvcGroup> {
        group(self.records.iter().cloned())
    }
}

/// Remembers the CWD and the first PATH name of a `type=CWD` / `type=PATH`
/// line of an audit event.
fn note_event(line: &str, events: &mut Events) {
    let is_cwd = line.contains("type=CWD ");
    if !is_cwd && !line.contains("type=PATH ") {
        return;
    }
    let Some(at) = line.find("audit(") else {
        return;
    };
    let rest = &line[at + 6..];
    let Some(close) = rest.find(')') else { return };
    let id = &rest[..close];
    let key = if is_cwd { " cwd=" } else { " name=" };
    let Some(v) = line.find(key).map(|k| &line[k + key.len()..]) else {
        return;
    };
    let value = match v.strip_prefix('"') {
        Some(q) => match q.find('"') {
            Some(end) => q.as_bytes()[..end].to_vec(),
            None => return,
        },
        None => {
            let word = v.split_ascii_whitespace().next().unwrap_or("");
            match record::hex_decode(word.as_bytes()) {
                Some(b) => b,
                // (null) and other placeholders: no name.
                None => return,
            }
        }
    };
    let slot = events.entry(id.to_owned()).or_default();
    if is_cwd {
        slot.0 = Some(value);
    } else if slot.1.is_none() {
        slot.1 = Some(value);
    }
}

/// Identical records folded into one: the first of them, how many, and
/// on which lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvcGroup {
    record: AvcRecord,
    lines: Vec<usize>,
}

impl AvcGroup {
    /// The first record of the group.
    pub fn record(&self) -> &AvcRecord {
        &self.record
    }

    /// How many records.
    pub fn count(&self) -> usize {
        self.lines.len()
    }

    /// Their lines, in the order the records came.
    pub fn lines(&self) -> &[usize] {
        &self.lines
    }
}

/// Folds identical records (same kind, source and target contexts, class
/// and set of permissions) into groups, in the order of first appearance.
pub fn group(records: impl IntoIterator<Item = AvcRecord>) -> Vec<AvcGroup> {
    let mut out: Vec<AvcGroup> = vec![];
    let mut index: HashMap<GroupKey, usize> = HashMap::new();
    for r in records {
        let mut perms = r.permissions().to_vec();
        perms.sort_unstable();
        perms.dedup();
        let key = (
            r.kind(),
            r.scontext().clone(),
            r.tcontext().clone(),
            r.tclass().to_owned(),
            perms,
        );
        match index.get(&key) {
            Some(&i) => out[i].lines.push(r.line()),
            None => {
                index.insert(key, out.len());
                out.push(AvcGroup {
                    lines: vec![r.line()],
                    record: r,
                });
            }
        }
    }
    out
}

type GroupKey = (
    AvcKind,
    crate::SecurityContext,
    crate::SecurityContext,
    String,
    Vec<String>,
);
