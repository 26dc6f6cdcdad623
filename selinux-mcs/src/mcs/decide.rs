//! MCS access decisions: may a process read, write or create a file, as far
//! as the MCS constraints (refpolicy `policy/mcs`) go.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::mls::{CategorySet, Level};
use crate::SecurityContext;

/// A file permission the MCS constraints treat in one of three ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Permission {
    /// `read`.
    Read,
    /// `write`.
    Write,
    /// `open`.
    Open,
    /// `append`.
    Append,
    /// `setattr` (chmod, chown, utimes).
    Setattr,
    /// `unlink`.
    Unlink,
    /// `rename`.
    Rename,
    /// `relabelfrom`: relabel away from the file's label.
    RelabelFrom,
    /// `create` (of a file, symlink or fifo).
    Create,
    /// `relabelto` (of a file, symlink or fifo): relabel to the file's label.
    RelabelTo,
    /// `getattr` (stat, `ls -l`): never MCS-constrained.
    Getattr,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 11] = [
        Permission::Read,
        Permission::Write,
        Permission::Open,
        Permission::Append,
        Permission::Setattr,
        Permission::Unlink,
        Permission::Rename,
        Permission::RelabelFrom,
        Permission::Create,
        Permission::RelabelTo,
        Permission::Getattr,
    ];

    /// The policy's name for it (`read`, `relabelfrom`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Open => "open",
            Permission::Append => "append",
            Permission::Setattr => "setattr",
            Permission::Unlink => "unlink",
            Permission::Rename => "rename",
            Permission::RelabelFrom => "relabelfrom",
            Permission::Create => "create",
            Permission::RelabelTo => "relabelto",
            Permission::Getattr => "getattr",
        }
    }

    /// Whether the file's low level must equal its high level too
    /// (`create`, `relabelto`).
    const fn needs_single_level(self) -> bool {
        matches!(self, Permission::Create | Permission::RelabelTo)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Permission {
    type Err = crate::UnknownName;
    fn from_str(s: &str) -> Result<Permission, crate::UnknownName> {
        Permission::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| crate::UnknownName {
                what: "permission",
                text: s.to_owned(),
                expected: Permission::ALL.map(Permission::name).join(", "),
            })
    }
}

/// Why [`decide`] allowed or denied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The process type is not MCS-constrained (spc_t, unconfined_t, ...).
    NotConstrained {
        /// The process type.
        type_: String,
    },
    /// `getattr` is never MCS-constrained.
    NotChecked {
        /// The permission.
        permission: Permission,
    },
    /// A context has no MLS field, so there is no level to compare.
    NoMlsField,
    /// The process's high level dominates the file's high level.
    Dominates {
        /// The process's high level.
        process: Level,
        /// The file's high level.
        file: Level,
    },
    /// The process's high level does not dominate the file's.
    DoesNotDominate {
        /// The process's high level.
        process: Level,
        /// The file's high level.
        file: Level,
        /// The file's categories the process lacks.
        missing: CategorySet,
    },
    /// `create`/`relabelto` need the file's low level equal to its high level.
    NotSingleLevel {
        /// The file's low level.
        low: Level,
        /// The file's high level.
        high: Level,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotConstrained { type_ } => {
                write!(f, "{type_} is not MCS-constrained: categories are not checked")
            }
            Reason::NotChecked { permission } => {
                write!(f, "{permission} is never MCS-constrained")
            }
            Reason::NoMlsField => {
                f.write_str("a context has no MLS field: there are no levels to compare")
            }
            Reason::Dominates { process, file } => {
                write!(f, "process level {process} dominates file level {file}")
            }
            Reason::DoesNotDominate {
                process,
                file,
                missing,
            } => {
                write!(f, "process level {process} does not dominate file level {file}")?;
                if !missing.is_empty() {
                    write!(f, ": the process lacks {missing}")?;
                }
                if process.sensitivity() < file.sensitivity() {
                    write!(
                        f,
                        " (sensitivity {} is below {})",
                        process.sensitivity(),
                        file.sensitivity()
                    )?;
                }
                Ok(())
            }
            Reason::NotSingleLevel { low, high } => write!(
                f,
                "the file's range {low}-{high} is not a single level: create and relabelto need low == high"
            ),
        }
    }
}

/// The outcome of [`decide`]: allowed or not, why, and which categories the
/// process would need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    allowed: bool,
    reason: Reason,
}

impl Decision {
    /// Whether MCS allows the access. (Type enforcement may still deny it.)
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Why.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The file's categories the process's high level lacks (empty when
    /// none are missing).
    pub fn missing_categories(&self) -> CategorySet {
        match &self.reason {
            Reason::DoesNotDominate { missing, .. } => *missing,
            _ => CategorySet::new(),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.allowed { "allowed" } else { "denied" };
        write!(f, "{verdict}: {}", self.reason)
    }
}

/// Which process types are MCS-constrained. The built-in list
/// ([`ConstrainedTypes::builtin`]) holds the container and virtual machine
/// domains of container-selinux and refpolicy; build another with
/// `FromIterator` or extend it.
///
/// ```
/// use selinux_mcs::mcs::{ConstrainedTypes, Permission};
/// use selinux_mcs::SecurityContext;
/// let p: SecurityContext = "system_u:system_r:my_container_t:s0:c1,c2".parse().unwrap();
/// let f: SecurityContext = "system_u:object_r:container_file_t:s0:c3,c4".parse().unwrap();
/// // Not in the built-in list: not checked.
/// assert!(ConstrainedTypes::builtin().decide(&p, &f, Permission::Read).allowed());
/// let mut types = ConstrainedTypes::builtin();
/// types.insert("my_container_t");
/// assert!(!types.decide(&p, &f, Permission::Read).allowed());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstrainedTypes {
    types: BTreeSet<String>,
}

impl ConstrainedTypes {
    /// The built-in list: `container_t` and its alias `svirt_lxc_net_t`,
    /// `container_init_t`, `container_kvm_t`, `container_userns_t`,
    /// `container_logreader_t` (container-selinux's `container_domain`s),
    /// and the virtual machine domains `svirt_t`, `svirt_tcg_t`,
    /// `svirt_qemu_net_t`, `svirt_kvm_net_t`.
    pub const BUILTIN: &'static [&'static str] = &[
        "container_t",
        "svirt_lxc_net_t",
        "container_init_t",
        "container_kvm_t",
        "container_userns_t",
        "container_logreader_t",
        "svirt_t",
        "svirt_tcg_t",
        "svirt_qemu_net_t",
        "svirt_kvm_net_t",
    ];

    /// The types a loaded policy constrains: those with the
    /// `mcs_constrained_type` attribute, and their aliases. Prefer this to
    /// the built-in list whenever the policy is at hand: on Debian's policy
    /// it holds `qemu_t` and others the built-in list does not.
    pub fn from_policy(policy: &crate::policydb::Policy) -> ConstrainedTypes {
        policy.mcs_constrained_types()
    }

    /// The built-in list.
    pub fn builtin() -> ConstrainedTypes {
        ConstrainedTypes::BUILTIN.iter().copied().collect()
    }

    /// Adds a type.
    pub fn insert(&mut self, type_: impl Into<String>) -> bool {
        self.types.insert(type_.into())
    }

    /// Removes a type.
    pub fn remove(&mut self, type_: &str) -> bool {
        self.types.remove(type_)
    }

    /// Whether `type_` is constrained.
    pub fn contains(&self, type_: &str) -> bool {
        self.types.contains(type_)
    }

    /// Every type, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.types.iter().map(String::as_str)
    }

    /// Decides whether `process` may use `permission` on `file` under MCS:
    ///
    /// - a process whose type is not constrained passes;
    /// - `getattr` is never checked;
    /// - otherwise the process's high level must dominate the file's high
    ///   level, and for `create` and `relabelto` the file's low level must
    ///   also equal its high level.
    pub fn decide(
        &self,
        process: &SecurityContext,
        file: &SecurityContext,
        permission: Permission,
    ) -> Decision {
        let allow = |reason| Decision {
            allowed: true,
            reason,
        };
        let deny = |reason| Decision {
            allowed: false,
            reason,
        };
        if !self.contains(process.type_()) {
            return allow(Reason::NotConstrained {
                type_: process.type_().to_owned(),
            });
        }
        if permission == Permission::Getattr {
            return allow(Reason::NotChecked { permission });
        }
        let (Some(p_range), Some(f_range)) = (process.range(), file.range()) else {
            return allow(Reason::NoMlsField);
        };
        let (ph, fh) = (*p_range.high(), *f_range.high());
        if !ph.dominates(&fh) {
            return deny(Reason::DoesNotDominate {
                process: ph,
                file: fh,
                missing: fh.categories().difference(ph.categories()),
            });
        }
        if permission.needs_single_level() && !f_range.is_single() {
            return deny(Reason::NotSingleLevel {
                low: *f_range.low(),
                high: fh,
            });
        }
        allow(Reason::Dominates {
            process: ph,
            file: fh,
        })
    }
}

impl Default for ConstrainedTypes {
    fn default() -> ConstrainedTypes {
        ConstrainedTypes::builtin()
    }
}

impl<S: Into<String>> FromIterator<S> for ConstrainedTypes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> ConstrainedTypes {
        ConstrainedTypes {
            types: iter.into_iter().map(Into::into).collect(),
        }
    }
}

/// Decides an access under MCS with the built-in list of constrained types
/// (see [`ConstrainedTypes::decide`]).
///
/// ```
/// use selinux_mcs::mcs::{decide, Permission};
/// use selinux_mcs::SecurityContext;
/// let p: SecurityContext = "system_u:system_r:container_t:s0:c1,c2".parse().unwrap();
/// let f: SecurityContext = "system_u:object_r:container_file_t:s0:c1,c3".parse().unwrap();
/// let d = decide(&p, &f, Permission::Read);
/// assert!(!d.allowed());
/// assert_eq!(d.missing_categories().to_string(), "c3");
/// assert!(decide(&p, &f, Permission::Getattr).allowed()); // `ls -l` works
/// ```
pub fn decide(
    process: &SecurityContext,
    file: &SecurityContext,
    permission: Permission,
) -> Decision {
    ConstrainedTypes::builtin().decide(process, file, permission)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(s: &str) -> SecurityContext {
        s.parse().expect("test context")
    }

    fn proc_(level: &str) -> SecurityContext {
        ctx(&format!("system_u:system_r:container_t:{level}"))
    }

    fn file(level: &str) -> SecurityContext {
        ctx(&format!("system_u:object_r:container_file_t:{level}"))
    }

    // DESIGN.md "MCS access rules", example by example.

    #[test]
    fn pair_reads_same_pair_shared_and_subset() {
        let p = proc_("s0:c1,c2");
        for f in ["s0:c1,c2", "s0", "s0:c1"] {
            let d = decide(&p, &file(f), Permission::Read);
            assert!(d.allowed(), "{f}: {d}");
            assert!(d.missing_categories().is_empty());
        }
    }

    #[test]
    fn pair_cannot_read_other_pair() {
        let d = decide(&proc_("s0:c1,c2"), &file("s0:c1,c3"), Permission::Read);
        assert!(!d.allowed());
        assert_eq!(d.missing_categories().to_string(), "c3");
        assert_eq!(
            d.to_string(),
            "denied: process level s0:c1,c2 does not dominate file level s0:c1,c3: the process lacks c3"
        );
    }

    #[test]
    fn range_file_readable_not_creatable() {
        let p = proc_("s0:c1,c2");
        let f = file("s0-s0:c1,c2");
        assert!(decide(&p, &f, Permission::Read).allowed());
        let d = decide(&p, &f, Permission::Create);
        assert!(!d.allowed());
        assert!(matches!(d.reason(), Reason::NotSingleLevel { .. }));
        assert!(!decide(&p, &f, Permission::RelabelTo).allowed());
        assert!(decide(&p, &file("s0:c1,c2"), Permission::Create).allowed());
    }

    #[test]
    fn s0_process_reads_nothing_with_categories() {
        let p = proc_("s0");
        assert!(decide(&p, &file("s0"), Permission::Read).allowed());
        for f in ["s0:c1", "s0:c1,c2", "s0:c0.c1023", "s0-s0:c5"] {
            let d = decide(&p, &file(f), Permission::Read);
            assert!(!d.allowed(), "{f}");
            assert!(!d.missing_categories().is_empty());
        }
    }

    #[test]
    fn system_high_reads_everything() {
        let p = proc_("s0-s0:c0.c1023");
        for f in [
            "s0",
            "s0:c1,c2",
            "s0:c0.c1023",
            "s0-s0:c0.c1023",
            "s0:c1022,c1023",
        ] {
            for perm in [Permission::Read, Permission::Write, Permission::Unlink] {
                assert!(decide(&p, &file(f), perm).allowed(), "{f} {perm}");
            }
        }
    }

    #[test]
    fn getattr_is_never_constrained() {
        let d = decide(&proc_("s0:c1,c2"), &file("s0:c3,c4"), Permission::Getattr);
        assert!(d.allowed());
        assert!(!decide(&proc_("s0:c1,c2"), &file("s0:c3,c4"), Permission::Open).allowed());
    }

    #[test]
    fn read_class_uses_high_levels() {
        // Every permission of the read/write class behaves alike.
        let p = proc_("s0:c1,c2");
        for perm in [
            Permission::Read,
            Permission::Write,
            Permission::Open,
            Permission::Append,
            Permission::Setattr,
            Permission::Unlink,
            Permission::Rename,
            Permission::RelabelFrom,
        ] {
            assert!(decide(&p, &file("s0:c1"), perm).allowed(), "{perm}");
            assert!(!decide(&p, &file("s0:c9"), perm).allowed(), "{perm}");
        }
        // The process's high level counts, not its low.
        let p = proc_("s0-s0:c1,c2");
        assert!(decide(&p, &file("s0:c1,c2"), Permission::Read).allowed());
    }

    #[test]
    fn unconstrained_types_pass() {
        let f = file("s0:c3,c4");
        for t in ["spc_t", "unconfined_t", "container_runtime_t"] {
            let p = ctx(&format!("system_u:system_r:{t}:s0"));
            let d = decide(&p, &f, Permission::Write);
            assert!(d.allowed(), "{t}");
            assert!(matches!(d.reason(), Reason::NotConstrained { .. }));
        }
        // The alias is constrained like container_t.
        let p = ctx("system_u:system_r:svirt_lxc_net_t:s0:c1,c2");
        assert!(!decide(&p, &f, Permission::Read).allowed());
    }

    #[test]
    fn overridable_list() {
        let none: ConstrainedTypes = Vec::<String>::new().into_iter().collect();
        assert!(none
            .decide(&proc_("s0"), &file("s0:c1"), Permission::Read)
            .allowed());
        let mut t = ConstrainedTypes::builtin();
        assert!(t.remove("container_t"));
        assert!(t
            .decide(&proc_("s0"), &file("s0:c1"), Permission::Read)
            .allowed());
    }

    #[test]
    fn no_mls_field() {
        let p = ctx("system_u:system_r:container_t");
        let d = decide(&p, &file("s0:c1"), Permission::Read);
        assert!(d.allowed());
        assert_eq!(d.reason(), &Reason::NoMlsField);
    }

    #[test]
    fn permission_names() {
        for p in Permission::ALL {
            assert_eq!(p.name().parse::<Permission>(), Ok(p));
        }
        assert!("exec".parse::<Permission>().is_err());
    }
}
