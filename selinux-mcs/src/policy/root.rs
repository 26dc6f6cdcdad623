//! Finding the policy files of the running system.

use std::path::{Path, PathBuf};

use super::{Config, ContainerContexts, PolicyError};

/// Where the system's SELinux files are: `/etc/selinux` by default, any
/// directory laid out the same way otherwise (for tests and chroots).
///
/// ```
/// use selinux_mcs::policy::Root;
/// let root = Root::new("/nonexistent/selinux");
/// let err = root.config().unwrap_err();
/// assert!(err.to_string().contains("/nonexistent/selinux/config"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    dir: PathBuf,
    containers_contexts: PathBuf,
}

impl Default for Root {
    fn default() -> Root {
        Root::new(Root::DEFAULT)
    }
}

impl Root {
    /// The system's SELinux directory.
    pub const DEFAULT: &'static str = "/etc/selinux";

    /// A root at `dir`. The containers' own contexts file stays at
    /// [`ContainerContexts::CONTAINERS_PATH`]; see
    /// [`with_containers_contexts`](Self::with_containers_contexts).
    pub fn new(dir: impl Into<PathBuf>) -> Root {
        Root {
            dir: dir.into(),
            containers_contexts: PathBuf::from(ContainerContexts::CONTAINERS_PATH),
        }
    }

    /// Uses another path for the containers' contexts file.
    #[must_use]
    pub fn with_containers_contexts(mut self, path: impl Into<PathBuf>) -> Root {
        self.containers_contexts = path.into();
        self
    }

    /// The directory (`/etc/selinux`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/config`, parsed.
    pub fn config(&self) -> Result<Config, PolicyError> {
        let path = self.dir.join("config");
        if !path.exists() {
            return Err(PolicyError::Missing {
                what: "SELinux config",
                tried: vec![path],
            });
        }
        Config::from_path(path)
    }

    /// The active policy's directory: `<dir>/<SELINUXTYPE>`.
    pub fn policy_dir(&self) -> Result<PathBuf, PolicyError> {
        Ok(self.dir.join(self.config()?.policy_type()))
    }

    /// `<policy>/contexts/files/file_contexts`.
    pub fn file_contexts_path(&self) -> Result<PathBuf, PolicyError> {
        Ok(self.policy_dir()?.join("contexts/files/file_contexts"))
    }

    /// The system's file_contexts, with its `.homedirs`, `.local`,
    /// `.subs_dist` and `.subs` (see [`FileContexts::from_path`](super::FileContexts::from_path)).
    pub fn file_contexts(&self) -> Result<super::FileContexts, PolicyError> {
        let path = self.file_contexts_path()?;
        if !path.exists() {
            return Err(PolicyError::Missing {
                what: "file_contexts",
                tried: vec![path],
            });
        }
        super::FileContexts::from_path(path)
    }

    /// `<policy>/contexts/customizable_types`, parsed, as libselinux reads
    /// it for `restorecon`; an empty set when the file does not exist or
    /// there is no system policy at all (no `config`: nothing is
    /// customizable).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let none = selinux_mcs::policy::Root::new(dir.path()).customizable_types()?;
    /// assert_eq!(none.iter().count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn customizable_types(&self) -> Result<super::CustomizableTypes, PolicyError> {
        if !self.dir.join("config").exists() {
            return Ok(super::CustomizableTypes::default());
        }
        let path = self.policy_dir()?.join("contexts/customizable_types");
        if !path.exists() {
            return Ok(super::CustomizableTypes::default());
        }
        super::CustomizableTypes::from_path(path)
    }

    /// `<policy>/setrans.conf` (it may not exist: only MLS/MCS policies
    /// with mcstrans have one).
    pub fn setrans_path(&self) -> Result<PathBuf, PolicyError> {
        Ok(self.policy_dir()?.join(super::Translations::FILE_NAME))
    }

    /// The container contexts: the containers' file when it exists, else the
    /// policy's `contexts/lxc_contexts`.
    pub fn container_contexts(&self) -> Result<ContainerContexts, PolicyError> {
        let mut tried = vec![self.containers_contexts.clone()];
        if self.containers_contexts.exists() {
            return ContainerContexts::from_path(&self.containers_contexts);
        }
        if let Ok(dir) = self.policy_dir() {
            let lxc = dir.join("contexts/lxc_contexts");
            if lxc.exists() {
                return ContainerContexts::from_path(lxc);
            }
            tried.push(lxc);
        } else {
            tried.push(self.dir.join("config"));
        }
        Err(PolicyError::Missing {
            what: "container contexts file",
            tried,
        })
    }

    /// The file label `:z` and `:Z` start from on this host: the container
    /// contexts' `file` entry, else
    /// [`DEFAULT_FILE_CONTEXT`](crate::label::DEFAULT_FILE_CONTEXT) (no
    /// contexts file, or one without `file`). Every front end (the CLI, the
    /// C API) asks this one function, so they write the same labels.
    ///
    /// ```
    /// use selinux_mcs::policy::Root;
    /// # let dir = tempfile::tempdir()?;
    /// let root = Root::new(dir.path()).with_containers_contexts(dir.path().join("none"));
    /// assert_eq!(
    ///     root.container_file_context().to_string(),
    ///     "system_u:object_r:container_file_t:s0"
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn container_file_context(&self) -> crate::SecurityContext {
        self.container_contexts()
            .ok()
            .and_then(|c| c.file().cloned())
            .unwrap_or_else(crate::label::default_file_context)
    }
}
