//! Helpers shared by the workspace integration tests.

use std::path::{Path, PathBuf};

pub mod etcd;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A file under `tests/data`.
pub fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// One line of `tests/data/contexts.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vector {
    /// Line number, from 1.
    pub line: usize,
    /// The first column: `context`, `mcs-context`, `bytes`, `level`, `range`,
    /// `compare`, `contains`, `glblub`.
    pub kind: String,
    /// The remaining columns, with `\xNN` and `\\` escapes decoded.
    pub fields: Vec<Vec<u8>>,
}

impl Vector {
    /// Field `i` as text (lossy; vectors other than `bytes` are UTF-8).
    pub fn text(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.fields[i]).into_owned()
    }
}

/// Decodes `\xNN` and `\\` escapes.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\\' {
            out.push(b'\\');
            i += 2;
        } else if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("zz");
            match u8::from_str_radix(hex, 16) {
                Ok(v) => {
                    out.push(v);
                    i += 4;
                }
                Err(_) => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Reads `tests/data/contexts.txt`.
pub fn context_vectors() -> Vec<Vector> {
    let path = data_file("contexts.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let mut cols = l.split('\t');
            let kind = cols.next().unwrap_or_default().to_owned();
            Vector {
                line: i + 1,
                kind,
                fields: cols.map(unescape).collect(),
            }
        })
        .collect()
}
pub mod fuzz;

/// The system policies the differential tests compare against.
pub mod system_policy;
