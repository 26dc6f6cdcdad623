//! The kernel's binary policy (`policy.33`), read in pure Rust.
//!
//! [`Policy`] loads what `checkpolicy`/`semodule` write and the kernel
//! loads, versions 30 to 33 (Debian 12, Fedora, RHEL 8 and 9), and exposes
//! it with typed values: the header, sensitivities and categories, classes
//! and permissions, types and attributes, roles, users, booleans, the access
//! vector table (unconditional and conditional) and the constraints as
//! expression trees. [`SecurityContext::validate`](crate::SecurityContext::validate)
//! applies the kernel's validity rules to a context without a kernel.
//!
//! Nothing here trusts the file: every malformed input is a
//! [`PolicyDbError`] naming the byte offset and what was expected there, and
//! every count is checked against the bytes left before anything is
//! allocated for it.
//!
//! ```no_run
//! use selinux_mcs::policydb::Policy;
//! let policy = Policy::system()?; // /sys/fs/selinux/policy, else the highest policy.NN
//! let ctx = "system_u:object_r:container_fle_t:s0:c1,c2".parse::<selinux_mcs::SecurityContext>()?;
//! let err = ctx.validate(&policy).unwrap_err();
//! assert_eq!(err.to_string(), "unknown type container_fle_t; did you mean container_file_t?");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod bitmap;
mod model;
mod parse;
mod read;
mod stats;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use access::{Access, AccessError, AccessVector, Denial, PermissionVerdict, Reasons};
pub use bitmap::Bitmap;
pub use model::*;
pub use stats::Stats;
pub use validate::{Suggestion, ValidityError};

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyDbError {
    /// The file could not be read.
    #[error("cannot read policy {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not a regular file, or too large.
    #[error(transparent)]
    File(#[from] crate::policy::PolicyError),
    /// No policy file was found where the system keeps one.
    #[error("no binary policy found (tried {})", .tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound {
        /// Every place looked at.
        tried: Vec<PathBuf>,
    },
    /// The bytes are not a policy this reader accepts.
    #[error("malformed policy at byte {offset}: expected {expected}, found {found}")]
    Malformed {
        /// Where in the file.
        offset: usize,
        /// What the reader expected there.
        expected: String,
        /// What it found.
        found: String,
    },
    /// Malformed, in a named file.
    #[error("{path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: Box<PolicyDbError>,
    },
}

impl PolicyDbError {
    /// The byte offset of a malformed input.
    pub fn offset(&self) -> Option<usize> {
        match self {
            PolicyDbError::Malformed { offset, .. } => Some(*offset),
            PolicyDbError::InFile { source, .. } => source.offset(),
            _ => None,
        }
    }
}

/// The oldest and newest policy versions this reader loads.
pub const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 30..=33;

/// Policy capability names, by bit (libsepol's `polcap_names`).
pub const CAPABILITY_NAMES: &[&str] = &[
    "network_peer_controls",
    "open_perms",
    "extended_socket_class",
    "always_check_network",
    "cgroup_seclabel",
    "nnp_nosuid_transition",
    "genfs_seclabel_symlinks",
    "ioctl_skip_cloexec",
    "userspace_initial_context",
    "netlink_xperm",
    "netif_wildcard",
    "genfs_seclabel_wildcard",
    "functionfs_seclabel",
    "memfd_class",
];

/// A loaded binary policy. Everything is read at load time; lookups by name
/// are hash lookups.
#[derive(Debug)]
pub struct Policy {
    pub(crate) version: u32,
    pub(crate) mls: bool,
    pub(crate) handle_unknown: HandleUnknown,
    pub(crate) capabilities: Bitmap,
    /// Bit = type value (not value - 1), as the kernel stores it.
    pub(crate) permissive: Bitmap,
    pub(crate) commons: Vec<Common>,
    pub(crate) classes: Vec<Class>,
    pub(crate) roles: Vec<Role>,
    pub(crate) types: Vec<Type>,
    pub(crate) users: Vec<User>,
    pub(crate) booleans: Vec<Boolean>,
    pub(crate) sensitivities: Vec<SensitivityDef>,
    pub(crate) categories: Vec<CategoryDef>,
    pub(crate) rules: Vec<AvRule>,
    pub(crate) conditionals: Vec<Conditional>,
    pub(crate) conditional_rules: Vec<AvRule>,
    pub(crate) xperms: Vec<Xperms>,
    pub(crate) role_transitions: Vec<RoleTransition>,
    pub(crate) role_allows: Vec<(u32, u32)>,
    pub(crate) filename_transitions: usize,
    pub(crate) range_transitions: Vec<RangeTransition>,
    pub(crate) labeling: LabelingCounts,
    /// Index = type value - 1; bits = value - 1 of the attributes holding it
    /// (and the type itself, as the kernel keeps it).
    pub(crate) type_attrs: Vec<Bitmap>,
    /// Index = attribute value - 1; bits = its member types.
    pub(crate) attr_types: Vec<Bitmap>,
    pub(crate) names: Names,
}

/// Name → value for each symbol kind, aliases included.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) classes: HashMap<Box<str>, u32>,
    pub(crate) roles: HashMap<Box<str>, u32>,
    pub(crate) types: HashMap<Box<str>, u32>,
    pub(crate) users: HashMap<Box<str>, u32>,
    pub(crate) booleans: HashMap<Box<str>, u32>,
    pub(crate) sensitivities: HashMap<Box<str>, u32>,
    pub(crate) categories: HashMap<Box<str>, u32>,
    /// Whether sensitivity value v is named `s{v-1}` and category value v
    /// `c{v-1}` (refpolicy's names): levels then map without lookups.
    pub(crate) numeric_sensitivities: bool,
    pub(crate) numeric_categories: bool,
}

impl Policy {
    /// The kernel's copy of the running policy.
    pub const KERNEL_POLICY: &'static str = "/sys/fs/selinux/policy";

    /// Parses a policy from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Policy, PolicyDbError> {
        parse::parse(bytes)
    }

    /// Reads and parses a policy file (regular files only, up to
    /// [`policy::MAX_FILE_SIZE`](crate::policy::MAX_FILE_SIZE); the kernel's
    /// `/sys/fs/selinux/policy` is read whole).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Policy, PolicyDbError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Policy::from_bytes(&bytes).map_err(|e| PolicyDbError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// The running system's policy: `/sys/fs/selinux/policy` when the
    /// kernel has one loaded, else the highest `policy.NN` of the configured
    /// policy (see [`Policy::default_path`]).
    pub fn system() -> Result<Policy, PolicyDbError> {
        Policy::from_path(Policy::default_path(&crate::policy::Root::default())?)
    }

    /// Where [`Policy::system`] reads: `/sys/fs/selinux/policy` when
    /// present, else the highest-numbered `policy.NN` under
    /// `<root>/<SELINUXTYPE>/policy/` (what `load_policy` would load).
    pub fn default_path(root: &crate::policy::Root) -> Result<PathBuf, PolicyDbError> {
        let kernel = Path::new(Policy::KERNEL_POLICY);
        if root.dir() == Path::new(crate::policy::Root::DEFAULT) && kernel.exists() {
            return Ok(kernel.to_owned());
        }
        let mut tried = vec![];
        if root.dir() == Path::new(crate::policy::Root::DEFAULT) {
            tried.push(kernel.to_owned());
        }
        match root.policy_dir() {
            Ok(dir) => {
                let dir = dir.join("policy");
                if let Some(p) = highest_policy_file(&dir) {
                    return Ok(p);
                }
                tried.push(dir.join("policy.NN"));
            }
            Err(_) => tried.push(root.dir().join("config")),
        }
        Err(PolicyDbError::NotFound { tried })
    }

    /// The policy's version (30 to 33).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Whether MLS is on (it is for MCS policies too).
    pub fn mls(&self) -> bool {
        self.mls
    }

    /// What the kernel does with unknown classes and permissions.
    pub fn handle_unknown(&self) -> HandleUnknown {
        self.handle_unknown
    }

    /// The policy capabilities, by name (unknown bits as `capability<N>`).
    pub fn capabilities(&self) -> Vec<String> {
        self.capabilities
            .iter()
            .map(|b| match CAPABILITY_NAMES.get(b as usize) {
                Some(n) => (*n).to_owned(),
                None => format!("capability{b}"),
            })
            .collect()
    }

    /// The commons.
    pub fn commons(&self) -> &[Common] {
        &self.commons
    }

    /// The classes, by value (`classes()[v - 1]`).
    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    /// A class by name.
    pub fn class(&self, name: &str) -> Option<&Class> {
        let v = *self.names.classes.get(name)?;
        self.classes.get(v as usize - 1)
    }

    /// Every permission of a class with its value, the common's included.
    pub fn class_permissions<'a>(
        &'a self,
        class: &'a Class,
    ) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let common = class.common.and_then(|i| self.commons.get(i));
        common
            .into_iter()
            .flat_map(|c| c.perms.iter())
            .chain(class.perms.iter())
            .map(|(n, v)| (&**n, *v))
    }

    /// The value of a permission of a class (bit `value - 1`).
    pub fn permission_value(&self, class: &Class, perm: &str) -> Option<u32> {
        self.class_permissions(class)
            .find(|(n, _)| *n == perm)
            .map(|(_, v)| v)
    }

    /// The roles, by value.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// A role by name.
    pub fn role(&self, name: &str) -> Option<&Role> {
        let v = *self.names.roles.get(name)?;
        self.roles.get(v as usize - 1)
    }

    /// Types and attributes, by value (`types()[v - 1]`).
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// A type or attribute by name or alias.
    pub fn type_(&self, name: &str) -> Option<&Type> {
        let v = *self.names.types.get(name)?;
        self.types.get(v as usize - 1)
    }

    /// A type by value.
    pub fn type_by_value(&self, value: u32) -> Option<&Type> {
        self.types.get((value as usize).checked_sub(1)?)
    }

    /// The attributes a type has (not itself), sorted by name.
    pub fn attributes_of(&self, type_: &Type) -> Vec<&Type> {
        let mut out: Vec<&Type> = self
            .type_attrs
            .get(type_.value as usize - 1)
            .into_iter()
            .flat_map(Bitmap::iter)
            .filter_map(|b| self.types.get(b as usize))
            .filter(|t| t.attribute && t.value != type_.value)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The types an attribute holds (bits = value - 1); for a type, itself.
    pub fn members_of(&self, attribute: &Type) -> &Bitmap {
        static EMPTY: std::sync::OnceLock<Bitmap> = std::sync::OnceLock::new();
        self.attr_types
            .get(attribute.value as usize - 1)
            .unwrap_or_else(|| EMPTY.get_or_init(Bitmap::default))
    }

    /// Whether a type is permissive (`permissive foo_t;`).
    pub fn is_permissive(&self, type_: &Type) -> bool {
        self.permissive.contains(type_.value)
    }

    /// The attributes of each type, for callers that look many up: index =
    /// type value - 1, bits = value - 1 (the type itself included, as in the
    /// kernel's `type_attr_map`).
    pub fn type_attribute_map(&self) -> &[Bitmap] {
        &self.type_attrs
    }

    /// The users, by value.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// A user by name.
    pub fn user(&self, name: &str) -> Option<&User> {
        let v = *self.names.users.get(name)?;
        self.users.get(v as usize - 1)
    }

    /// The booleans, by value.
    pub fn booleans(&self) -> &[Boolean] {
        &self.booleans
    }

    /// A boolean by name.
    pub fn boolean(&self, name: &str) -> Option<&Boolean> {
        let v = *self.names.booleans.get(name)?;
        self.booleans.get(v as usize - 1)
    }

    /// The sensitivities in dominance order.
    pub fn sensitivities(&self) -> &[SensitivityDef] {
        &self.sensitivities
    }

    /// A sensitivity by name or alias.
    pub fn sensitivity(&self, name: &str) -> Option<&SensitivityDef> {
        let v = *self.names.sensitivities.get(name)?;
        self.sensitivities.get(v as usize - 1)
    }

    /// The categories, by value.
    pub fn categories(&self) -> &[CategoryDef] {
        &self.categories
    }

    /// A category by name or alias.
    pub fn category(&self, name: &str) -> Option<&CategoryDef> {
        let v = *self.names.categories.get(name)?;
        self.categories.get(v as usize - 1)
    }

    /// The parser's limits for this policy: its highest sensitivity and
    /// category, when they are named `sN`/`cN` as in refpolicy. `None` when
    /// the names follow another scheme (use [`validate`](crate::SecurityContext::validate)).
    pub fn limits(&self) -> Option<crate::mls::Limits> {
        let s = self.sensitivities.last()?;
        let s: u16 = s.name.strip_prefix('s')?.parse().ok()?;
        let c = match self.categories.last() {
            Some(c) => c.name.strip_prefix('c')?.parse::<u16>().ok()?,
            None => 0,
        };
        let c = crate::mls::Category::new(c)?;
        Some(crate::mls::Limits::new(crate::mls::Sensitivity::new(s), c))
    }

    /// The limits to parse text with before checking it against this
    /// policy: never narrower than the parser's defaults (`s15`, `c1023`),
    /// wider when the policy defines more sensitivities, so that `s20` of a
    /// policy with 24 parses, and `s3` of an MCS policy parses and is then
    /// refused by [`validate`](crate::SecurityContext::validate) with a
    /// reason rather than as a syntax error.
    pub fn parse_limits(&self) -> crate::mls::Limits {
        let default = crate::mls::Limits::default();
        match self.limits() {
            Some(l) if l.max_sensitivity() > default.max_sensitivity() => {
                crate::mls::Limits::new(l.max_sensitivity(), default.max_category())
            }
            _ => default,
        }
    }

    /// The unconditional access vector table.
    pub fn rules(&self) -> &[AvRule] {
        &self.rules
    }

    /// The conditional blocks.
    pub fn conditionals(&self) -> &[Conditional] {
        &self.conditionals
    }

    /// The rules of the conditional blocks (see [`Conditional::if_true`]).
    pub fn conditional_rules(&self) -> &[AvRule] {
        &self.conditional_rules
    }

    /// The ioctl sets of xperm rules (see [`AvRule::data`]).
    pub fn xperms(&self) -> &[Xperms] {
        &self.xperms
    }

    /// `role_transition` rules.
    pub fn role_transitions(&self) -> &[RoleTransition] {
        &self.role_transitions
    }

    /// `allow role1 role2;` rules.
    pub fn role_allows(&self) -> &[(u32, u32)] {
        &self.role_allows
    }

    /// `range_transition` rules.
    pub fn range_transitions(&self) -> &[RangeTransition] {
        &self.range_transitions
    }

    /// How many of each labeling statement the policy has.
    pub fn labeling(&self) -> &LabelingCounts {
        &self.labeling
    }

    /// The types with the `mcs_constrained_type` attribute: the process
    /// types whose MCS categories the policy's `mlsconstrain`s check.
    pub fn mcs_constrained_types(&self) -> crate::mcs::ConstrainedTypes {
        let Some(attr) = self.type_(MCS_CONSTRAINED) else {
            return crate::mcs::ConstrainedTypes::from_iter(std::iter::empty::<String>());
        };
        let mut out = crate::mcs::ConstrainedTypes::from_iter(std::iter::empty::<String>());
        for bit in self.members_of(attr).iter() {
            if let Some(t) = self.types.get(bit as usize) {
                if !t.attribute {
                    out.insert(&*t.name);
                    for a in &t.aliases {
                        out.insert(&**a);
                    }
                }
            }
        }
        out
    }

    /// Formats a policy level with its names (`s0:c0.c1023`), abbreviating
    /// runs of consecutive category values with `.` as libsepol does.
    pub fn level_to_string(&self, level: &PolicyLevel) -> String {
        let mut out = match self
            .sensitivities
            .get((level.sens as usize).wrapping_sub(1))
        {
            Some(s) => s.name.to_string(),
            None => format!("<sensitivity {}>", level.sens),
        };
        let cat = |b: u32| match self.categories.get(b as usize) {
            Some(c) => c.name.to_string(),
            None => format!("<category {}>", b + 1),
        };
        let bits: Vec<u32> = level.cats.iter().collect();
        let mut i = 0;
        let mut first = true;
        while i < bits.len() {
            let mut j = i;
            while j + 1 < bits.len() && bits[j + 1] == bits[j] + 1 {
                j += 1;
            }
            out.push(if first { ':' } else { ',' });
            first = false;
            out.push_str(&cat(bits[i]));
            if j > i {
                out.push(if j == i + 1 { ',' } else { '.' });
                out.push_str(&cat(bits[j]));
            }
            i = j + 1;
        }
        out
    }

    /// Formats a range (`s0-s0:c0.c1023`, or one level when low == high).
    pub fn range_to_string(&self, range: &PolicyRange) -> String {
        if range.low == range.high {
            self.level_to_string(&range.low)
        } else {
            format!(
                "{}-{}",
                self.level_to_string(&range.low),
                self.level_to_string(&range.high)
            )
        }
    }

    /// Statistics like `seinfo`'s.
    pub fn stats(&self) -> Stats {
        stats::stats(self)
    }
}

/// refpolicy's attribute for MCS-constrained process types.
pub const MCS_CONSTRAINED: &str = "mcs_constrained_type";

fn read_file(path: &Path) -> Result<Vec<u8>, PolicyDbError> {
    let io = |source| PolicyDbError::Io {
        path: path.to_owned(),
        source,
    };
    // /sys/fs/selinux/policy reports size 0 until read; read it whole.
    if path.starts_with("/sys/fs/selinux") {
        return std::fs::read(path).map_err(io);
    }
    Ok(crate::policy::read::read_binary_file(path)?)
}

fn highest_policy_file(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(|n| n.strip_prefix("policy.")) else {
            continue;
        };
        let Ok(v) = n.parse::<u32>() else { continue };
        if best.as_ref().is_none_or(|(b, _)| v > *b) {
            best = Some((v, entry.path()));
        }
    }
    best.map(|(_, p)| p)
}
