//! The container contexts file (`/usr/share/containers/selinux/contexts`,
//! else the policy's `contexts/lxc_contexts`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::policy::{read_policy_file, PolicyError, STRING_SOURCE};
use crate::SecurityContext;

/// The container contexts file: lines `key = "context"`, `#` and `;`
/// comments. Known keys: `process`, `file`, `ro_file`, `kvm_process`,
/// `init_process`, `engine_process`, `content`, `sandbox_lxc_process`;
/// others are kept and reachable through [`get`](Self::get).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContainerContexts {
    entries: BTreeMap<String, SecurityContext>,
}

impl ContainerContexts {
    /// The containers project's file, read first.
    pub const CONTAINERS_PATH: &'static str = "/usr/share/containers/selinux/contexts";

    /// Parses a contexts file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<ContainerContexts, PolicyError> {
        let path = path.as_ref();
        ContainerContexts::parse(&read_policy_file(path)?, path)
    }

    fn parse(text: &str, path: &Path) -> Result<ContainerContexts, PolicyError> {
        let mut entries = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(PolicyError::Syntax {
                    path: PathBuf::from(path),
                    line: i + 1,
                    text: raw.to_owned(),
                    message: "expected key = \"context\"".into(),
                });
            };
            let key = key.trim();
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(PolicyError::Syntax {
                    path: PathBuf::from(path),
                    line: i + 1,
                    text: raw.to_owned(),
                    message: "expected a key before '='".into(),
                });
            }
            let ctx = value
                .parse::<SecurityContext>()
                .map_err(|source| PolicyError::Context {
                    path: PathBuf::from(path),
                    line: i + 1,
                    text: value.to_owned(),
                    source,
                })?;
            entries.insert(key.to_owned(), ctx);
        }
        Ok(ContainerContexts { entries })
    }

    /// The context for `key`, if the file sets it.
    pub fn get(&self, key: &str) -> Option<&SecurityContext> {
        self.entries.get(key)
    }

    /// Every entry, by key.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &SecurityContext)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `process`: a container's process label (`container_t`).
    pub fn process(&self) -> Option<&SecurityContext> {
        self.get("process")
    }

    /// `file`: a container's file label (`container_file_t`).
    pub fn file(&self) -> Option<&SecurityContext> {
        self.get("file")
    }

    /// `ro_file`: read-only content (`container_ro_file_t`).
    pub fn ro_file(&self) -> Option<&SecurityContext> {
        self.get("ro_file")
    }

    /// `kvm_process`: processes of VM-isolated containers (`container_kvm_t`).
    pub fn kvm_process(&self) -> Option<&SecurityContext> {
        self.get("kvm_process")
    }

    /// `init_process`: containers running systemd (`container_init_t`).
    pub fn init_process(&self) -> Option<&SecurityContext> {
        self.get("init_process")
    }

    /// `engine_process`: the container engine itself (`container_engine_t`).
    pub fn engine_process(&self) -> Option<&SecurityContext> {
        self.get("engine_process")
    }
}

impl std::str::FromStr for ContainerContexts {
    type Err = PolicyError;

    /// Parses contexts from text.
    fn from_str(text: &str) -> Result<ContainerContexts, PolicyError> {
        ContainerContexts::parse(text, Path::new(STRING_SOURCE))
    }
}
