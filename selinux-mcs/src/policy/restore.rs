//! restorecon's decision: which label a path should get back from
//! file_contexts, and whether to write it at all.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{read_policy_file, FileContexts, Labeler, PolicyError, STRING_SOURCE};
use crate::label::protected::{real_parent, Protection};
use crate::label::{RelabelError, Report, Target};
use crate::{FileKind, SecurityContext};

/// The policy's `contexts/customizable_types`: types an administrator sets
/// by hand (`public_content_t`, `swapfile_t`, ...), which restorecon leaves
/// alone unless forced. One type a line, `#` comments.
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::policy::CustomizableTypes;
/// let t = CustomizableTypes::from_str("container_file_t\n# comment\nswapfile_t\n")?;
/// assert!(t.contains("swapfile_t"));
/// assert!(!t.contains("etc_t"));
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomizableTypes {
    types: BTreeSet<String>,
}

impl CustomizableTypes {
    /// Reads the file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<CustomizableTypes, PolicyError> {
        let path = path.as_ref();
        CustomizableTypes::parse(&read_policy_file(path)?, path)
    }

    fn parse(text: &str, path: &Path) -> Result<CustomizableTypes, PolicyError> {
        let mut types = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains(|c: char| c.is_whitespace() || c == ':' || c.is_control()) {
                return Err(PolicyError::Syntax {
                    path: path.to_path_buf(),
                    line: i + 1,
                    text: raw.to_owned(),
                    message: "expected one type name a line".into(),
                });
            }
            types.insert(line.to_owned());
        }
        Ok(CustomizableTypes { types })
    }

    /// Whether `type_` is customizable.
    #[doc(alias = "is_context_customizable")]
    pub fn contains(&self, type_: &str) -> bool {
        self.types.contains(type_)
    }

    /// Every type, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(String::as_str)
    }
}

impl<S: Into<String>> FromIterator<S> for CustomizableTypes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> CustomizableTypes {
        CustomizableTypes {
            types: iter.into_iter().map(Into::into).collect(),
        }
    }
}

/// What restorecon decides for one path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
// Returned one at a time, never stored in bulk: boxing would only add an
// allocation to every write.
#[allow(clippy::large_enum_variant)]
pub enum RestoreAction {
    /// Write this context.
    Write(SecurityContext),
    /// The path already has the context the rules give it.
    Unchanged,
    /// No rule applies to the path.
    NoRule,
    /// The winning rule says `<<none>>`: do not label.
    NoLabel,
    /// The backend gave no context and cannot say whether no rule applies
    /// or the rule says `<<none>>` (libselinux answers `ENOENT` for both).
    NoContext,
    /// The current type is customizable and force is off.
    Customizable,
}

impl RestoreAction {
    /// The context to write, if any.
    pub fn target(self) -> Option<SecurityContext> {
        match self {
            RestoreAction::Write(ctx) => Some(ctx),
            _ => None,
        }
    }
}

/// restorecon's decision logic: given a path, its kind and its current
/// label, the label to write (or none).
///
/// Without force only the type is replaced (user, role and range are
/// kept), and a path whose current type is customizable is left alone; with
/// force the whole context is replaced. Nothing is written when the label
/// is already right, when no rule applies or when the rule says
/// `<<none>>`. A path with no label gets the rule's whole context.
///
/// The rules come from any [`Labeler`]: a [`FileContexts`] (or a reference,
/// `Box` or `Arc` to one), or with the `libselinux` feature libselinux's own
/// labeler. [`decide`](Self::decide) and [`target_for`](Self::target_for)
/// are for backends that cannot fail; [`try_decide`](Self::try_decide) and
/// [`try_target_for`](Self::try_target_for) work with every backend.
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::policy::{CustomizableTypes, FileContexts, Restorer};
/// use selinux_mcs::{FileKind, SecurityContext};
/// let fc = FileContexts::from_str(
///     "/srv/www(/.*)?  system_u:object_r:httpd_sys_content_t:s0\n\
///      /srv/www/tmp(/.*)?  <<none>>\n",
/// )?;
/// let mut restorer = Restorer::new(fc);
/// restorer.customizable_types(CustomizableTypes::from_str("public_content_t\n")?);
/// let current: SecurityContext = "unconfined_u:object_r:user_home_t:s0:c1".parse().unwrap();
/// // Only the type changes without force.
/// let target = restorer.target_for("/srv/www/index.html".as_ref(), FileKind::File, Some(&current));
/// assert_eq!(target.unwrap().to_string(), "unconfined_u:object_r:httpd_sys_content_t:s0:c1");
/// // Force replaces everything.
/// let mut forced = restorer.clone();
/// forced.force(true);
/// let target = forced.target_for("/srv/www/index.html".as_ref(), FileKind::File, Some(&current));
/// assert_eq!(target.unwrap().to_string(), "system_u:object_r:httpd_sys_content_t:s0");
/// // <<none>>: leave it.
/// assert_eq!(restorer.target_for("/srv/www/tmp/x".as_ref(), FileKind::File, Some(&current)), None);
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[doc(alias = "selinux_restorecon")]
#[doc(alias = "restorecon")]
#[derive(Clone, Debug)]
pub struct Restorer<L = FileContexts> {
    labeler: L,
    force: bool,
    customizable: CustomizableTypes,
}

impl<L: Labeler> Restorer<L> {
    /// A restorer over `labeler` (a [`FileContexts`], a reference or `Arc`
    /// to one, or another backend), without force and with no
    /// customizable types.
    pub fn new(labeler: L) -> Restorer<L> {
        Restorer {
            labeler,
            force: false,
            customizable: CustomizableTypes::default(),
        }
    }

    /// Replace whole contexts and relabel customizable types (`restorecon -F`).
    pub fn force(&mut self, force: bool) -> &mut Restorer<L> {
        self.force = force;
        self
    }

    /// The types to leave alone without force.
    pub fn customizable_types(&mut self, types: CustomizableTypes) -> &mut Restorer<L> {
        self.customizable = types;
        self
    }

    /// The rules' backend.
    pub fn labeler(&self) -> &L {
        &self.labeler
    }

    /// Whether force is on.
    pub fn is_forced(&self) -> bool {
        self.force
    }

    /// The decision for `path` of kind `kind` currently labeled `current`
    /// (`None`: no label, or one that does not parse); an error when the
    /// backend fails.
    pub fn try_decide(
        &self,
        path: &Path,
        kind: FileKind,
        current: Option<&SecurityContext>,
    ) -> Result<RestoreAction, L::Error> {
        let Some(wanted) = self.labeler.lookup(path, Some(kind))? else {
            return Ok(match self.labeler.says_no_label(path, Some(kind)) {
                Some(true) => RestoreAction::NoLabel,
                Some(false) => RestoreAction::NoRule,
                None => RestoreAction::NoContext,
            });
        };
        let target = match current {
            None => wanted,
            Some(_) if self.force => wanted,
            Some(cur) => {
                if self.customizable.contains(cur.type_()) {
                    return Ok(RestoreAction::Customizable);
                }
                match cur.with_type(wanted.type_()) {
                    Ok(ctx) => ctx,
                    // Cannot happen: the type comes from a parsed context.
                    Err(_) => wanted,
                }
            }
        };
        Ok(if current == Some(&target) {
            RestoreAction::Unchanged
        } else {
            RestoreAction::Write(target)
        })
    }

    /// The context to write to `path`, or `Ok(None)` when nothing should
    /// be written (see [`try_decide`](Self::try_decide) for why).
    pub fn try_target_for(
        &self,
        path: &Path,
        kind: FileKind,
        current: Option<&SecurityContext>,
    ) -> Result<Option<SecurityContext>, L::Error> {
        Ok(self.try_decide(path, kind, current)?.target())
    }
}

impl<L: Labeler<Error = Infallible>> Restorer<L> {
    /// The decision for `path` of kind `kind` currently labeled `current`
    /// (`None`: no label, or one that does not parse), with a backend that
    /// cannot fail.
    pub fn decide(
        &self,
        path: &Path,
        kind: FileKind,
        current: Option<&SecurityContext>,
    ) -> RestoreAction {
        match self.try_decide(path, kind, current) {
            Ok(action) => action,
            Err(never) => match never {},
        }
    }

    /// The context to write to `path`, or `None` when nothing should be
    /// written (see [`decide`](Self::decide) for why).
    pub fn target_for(
        &self,
        path: &Path,
        kind: FileKind,
        current: Option<&SecurityContext>,
    ) -> Option<SecurityContext> {
        self.decide(path, kind, current).target()
    }
}

impl<L: Labeler + Send + Sync + 'static> Restorer<L> {
    /// `restorecon` as one operation: a [`Restore`] that gives every entry
    /// the label these rules give it, through the relabel walker (by
    /// directory fds, never following symlinks, reading before writing).
    /// A failed lookup is a failure of that entry in the report, and so is
    /// a current label that is not a valid context (`garbage`,
    /// `s0:c5.c1`): like `selinux_restorecon`, nothing is written there.
    ///
    /// ```
    /// use selinux_mcs::policy::{FileContexts, Restorer};
    /// # let dir = tempfile::tempdir()?;
    /// let fc = FileContexts::from_str("/.* system_u:object_r:var_t:s0")?;
    /// let mut restore = Restorer::new(fc).restore();
    /// restore.dry_run(true).recursive(true);
    /// let report = restore.run_all(&[dir.path()])?;
    /// assert_eq!(report.changed, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "selinux_restorecon")]
    pub fn restore(self) -> Restore {
        let rules = Arc::new(self);
        let customized = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&customized);
        let rule = move |path: &Path, kind, current: Option<&SecurityContext>| {
            let action = rules
                .try_decide(path, kind, current)
                .map_err(|e| Box::new(e) as crate::label::RuleError)?;
            if action == RestoreAction::Customizable {
                kept.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(path.to_path_buf());
            }
            Ok(action.target())
        };
        let mut relabel = crate::label::Relabel::new(Target::Custom(Arc::new(rule)));
        // The policy's own labels go wherever the rules say, /etc included;
        // a root named as a symlink is restored itself, as restorecon does.
        relabel
            .protection(Protection::unrestricted())
            .dereference(false)
            .recursive(false)
            // A label that is not a context is reported and left, as
            // selinux_restorecon does, not silently replaced.
            .keep_invalid_labels(true);
        Restore {
            relabel,
            customized,
        }
    }
}

/// A restore (`restorecon`), built by [`Restorer::restore`]: a
/// [`Relabel`](crate::label::Relabel) (its options through `Deref`;
/// by default not recursive, as `restorecon` without `-R`) whose roots are
/// resolved as `restorecon` resolves them before the rules see them.
#[derive(Debug)]
pub struct Restore {
    relabel: crate::label::Relabel,
    /// Entries the rules left as customized during the current run.
    customized: Arc<Mutex<Vec<PathBuf>>>,
}

impl Restore {
    /// Restores every path (recursively with `recursive(true)`), one report
    /// for all. Each path is made absolute with its parent directory
    /// resolved and its last component kept (the rules match real paths; a
    /// symlink named here is restored itself), then every root is checked
    /// before anything is written. The report names the entries left alone
    /// because their type is customizable (`customized`).
    pub fn run_all<P: AsRef<Path>>(&self, paths: &[P]) -> Result<Report, RelabelError> {
        let roots: Vec<PathBuf> = paths
            .iter()
            .map(|p| real_parent(p.as_ref()).unwrap_or_else(|_| p.as_ref().to_path_buf()))
            .collect();
        let result = self.relabel.run_all(&roots);
        let kept = std::mem::take(&mut *self.customized.lock().unwrap_or_else(|e| e.into_inner()));
        let mut report = result?;
        report.customized = kept.len() as u64;
        report.customized_paths = kept;
        report
            .customized_paths
            .truncate(self.relabel.failure_limit());
        Ok(report)
    }
}

impl Deref for Restore {
    type Target = crate::label::Relabel;
    fn deref(&self) -> &crate::label::Relabel {
        &self.relabel
    }
}

impl DerefMut for Restore {
    fn deref_mut(&mut self) -> &mut crate::label::Relabel {
        &mut self.relabel
    }
}

impl std::str::FromStr for CustomizableTypes {
    type Err = PolicyError;

    /// Parses the file's text.
    fn from_str(text: &str) -> Result<CustomizableTypes, PolicyError> {
        CustomizableTypes::parse(text, Path::new(STRING_SOURCE))
    }
}
