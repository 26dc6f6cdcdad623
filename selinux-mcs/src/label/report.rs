//! What a relabel reports: counts, failures, mount points, hard links,
//! and its stable JSON shape.

use std::path::PathBuf;

use super::error::LabelError;

/// Counts so far, given to the progress callback after every batch of a
/// directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Entries examined.
    pub seen: u64,
    /// Entries whose label was changed (or, in a dry run, would be).
    pub changed: u64,
    /// Entries that failed.
    pub failed: u64,
    /// Directories done.
    pub dirs: u64,
}

/// One entry that could not be labeled.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub struct Failure {
    /// The entry (the root as given, joined with the names below it).
    pub path: PathBuf,
    /// What went wrong; [`LabelError::kind`] says what kind of failure.
    pub error: LabelError,
}

impl Failure {
    /// A failure of `path`.
    pub fn new(path: impl Into<PathBuf>, error: LabelError) -> Failure {
        Failure {
            path: path.into(),
            error,
        }
    }
}

/// What a relabel did.
///
/// `visited = changed + unchanged + failed`. Entries that vanished during
/// the walk are not counted; excluded paths, mount points that were not
/// entered and hard-linked files left alone by
/// [`skip_hardlinks`](super::Relabel::skip_hardlinks) are not visited. Serializes
/// (serde) to the stable shape `{"visited": n, "changed": n, "unchanged":
/// n, "failed": n, "failures": [{"path": "...", "error": "..."}],
/// "skipped_mounts": n, "mount_points": [{"path": "..."}], "hardlinked": n,
/// "hardlinks": [{"path": "..."}], "customized": n, "customized_paths":
/// [{"path": "..."}]}`. A path that is not UTF-8 is written
/// escaped, with `"path_escaped": true` beside it (see
/// [`escape`](crate::escape)).
#[derive(Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// Entries examined.
    pub visited: u64,
    /// Entries relabeled (in a dry run: that would be).
    pub changed: u64,
    /// Entries that already had their label, or that a custom target left
    /// alone.
    pub unchanged: u64,
    /// Entries that failed.
    pub failed: u64,
    /// The failures, in the order they happened, at most
    /// [`Relabel::max_failures`](super::Relabel::max_failures) of them (`failed` counts them all).
    pub failures: Vec<Failure>,
    /// Whether the walk stopped at the first failure.
    pub stopped: bool,
    /// Mount points inside the tree that were neither labeled nor entered
    /// (directories and files, found by mount id, so a bind mount of the
    /// same file system counts).
    pub skipped_mounts: u64,
    /// Their paths, at most [`Relabel::max_failures`](super::Relabel::max_failures) of them.
    pub mount_points: Vec<PathBuf>,
    /// Regular files with more than one hard link whose label was changed
    /// (in a dry run: would be), or, with
    /// [`skip_hardlinks`](super::Relabel::skip_hardlinks), that were left alone
    /// instead: their other names may be outside the tree, and share the
    /// label. Files whose label was already right are not counted.
    pub hardlinked: u64,
    /// Their paths, at most [`Relabel::max_failures`](super::Relabel::max_failures) of them.
    pub hardlinks: Vec<PathBuf>,
    /// Entries a restore left alone because their type is customizable
    /// (`restorecon`'s "not reset as customized"); always 0 for a relabel.
    pub customized: u64,
    /// Their paths, at most [`Relabel::max_failures`](super::Relabel::max_failures) of them.
    pub customized_paths: Vec<PathBuf>,
}

impl Report {
    /// Adds another report's counts and failures to this one (for several
    /// roots).
    pub fn merge(&mut self, other: Report) {
        self.visited += other.visited;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.failures.extend(other.failures);
        self.stopped |= other.stopped;
        self.skipped_mounts += other.skipped_mounts;
        self.mount_points.extend(other.mount_points);
        self.hardlinked += other.hardlinked;
        self.hardlinks.extend(other.hardlinks);
        self.customized += other.customized;
        self.customized_paths.extend(other.customized_paths);
    }

    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed == 0
    }
}

impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Failures<'a>(&'a [Failure]);
        impl serde::Serialize for Failures<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for f in self.0 {
                    seq.serialize_element(&FailureJson(f))?;
                }
                seq.end()
            }
        }
        struct FailureJson<'a>(&'a Failure);
        impl serde::Serialize for FailureJson<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let path = crate::escape::Escaped::path(&self.0.path);
                let (text, escaped) = path.json_text();
                let mut st = s.serialize_map(None)?;
                st.serialize_entry("path", &text)?;
                if escaped {
                    st.serialize_entry("path_escaped", &true)?;
                }
                st.serialize_entry("error", &self.0.error.to_string())?;
                st.end()
            }
        }
        struct Paths<'a>(&'a [PathBuf]);
        impl serde::Serialize for Paths<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(
                    self.0
                        .iter()
                        .map(|p| crate::escape::Escaped::path(p).json_fields("path")),
                )
            }
        }
        let mut st = s.serialize_struct("Report", 11)?;
        st.serialize_field("visited", &self.visited)?;
        st.serialize_field("changed", &self.changed)?;
        st.serialize_field("unchanged", &self.unchanged)?;
        st.serialize_field("failed", &self.failed)?;
        st.serialize_field("failures", &Failures(&self.failures))?;
        st.serialize_field("skipped_mounts", &self.skipped_mounts)?;
        st.serialize_field("mount_points", &Paths(&self.mount_points))?;
        st.serialize_field("hardlinked", &self.hardlinked)?;
        st.serialize_field("hardlinks", &Paths(&self.hardlinks))?;
        st.serialize_field("customized", &self.customized)?;
        st.serialize_field("customized_paths", &Paths(&self.customized_paths))?;
        st.end()
    }
}
