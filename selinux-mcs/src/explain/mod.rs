//! Explanations of contexts: every field, what the type is for when it is a
//! known container type, what the level means for isolation, and the
//! translated name where setrans.conf has one.
//!
//! MCS access decisions live in [`crate::mcs::decide`].
//!
//! ```
//! use selinux_mcs::explain::{Explanation, LevelMeaning};
//! let ctx = "system_u:system_r:svirt_lxc_net_t:s0:c186,c641".parse()?;
//! let e = Explanation::new(&ctx);
//! assert_eq!(e.known_type().unwrap().canonical, "container_t");
//! assert!(matches!(e.level_meaning(), LevelMeaning::PrivatePair { .. }));
//! assert_eq!(
//!     e.meaning(),
//!     "A container process (svirt_lxc_net_t, an alias of container_t) with the private MCS pair c186,c641: it may use files labeled s0, c186, c641 or c186,c641, and no other container's."
//! );
//! # Ok::<(), selinux_mcs::ParseError>(())
//! ```

use std::fmt;

use crate::escape::Escaped;
use crate::mcs::ConstrainedTypes;
use crate::mls::{Category, CategorySet, Level, MlsRange};
use crate::policy::Translations;
use crate::SecurityContext;

/// What a type is: a process domain or a file (object) type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// A process type (domain).
    Process,
    /// A file or other object type.
    File,
}

/// An entry of the built-in table of container-related types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// The type's name as looked up (possibly an alias).
    pub name: &'static str,
    /// The type it is an alias of, or the name itself.
    pub canonical: &'static str,
    /// Process or file.
    pub kind: TypeKind,
    /// What it is for, as a noun phrase ("a container process").
    pub summary: &'static str,
    /// More detail, one sentence.
    pub detail: &'static str,
}

const fn t(
    name: &'static str,
    canonical: &'static str,
    kind: TypeKind,
    summary: &'static str,
    detail: &'static str,
) -> TypeInfo {
    TypeInfo {
        name,
        canonical,
        kind,
        summary,
        detail,
    }
}

use TypeKind::{File, Process};

/// The built-in table: container-selinux's types and their old names
/// (aliases kept by the policy), the domains containers run in, and the few
/// other types people meet on container hosts.
pub const KNOWN_TYPES: &[TypeInfo] = &[
    t("container_t", "container_t", Process, "a container process",
      "The default domain of container processes (podman, CRI-O, Docker); confined and separated from other containers by its MCS categories."),
    t("svirt_lxc_net_t", "container_t", Process, "a container process",
      "The old name of container_t, kept as an alias."),
    t("container_init_t", "container_t", Process, "a container process running systemd as init",
      "The domain of containers whose init is systemd (podman --systemd); MCS-separated like container_t."),
    t("container_kvm_t", "container_kvm_t", Process, "a VM-isolated container process",
      "The domain of containers run inside a lightweight VM (Kata Containers); MCS-separated."),
    t("container_userns_t", "container_userns_t", Process, "a container process in a user namespace",
      "The domain of containers that run with their own user namespace; MCS-separated."),
    t("container_engine_t", "container_engine_t", Process, "a container engine running inside a container",
      "The domain of podman or buildah running inside a container (nested containers)."),
    t("container_runtime_t", "container_runtime_t", Process, "the container engine on the host",
      "The domain of podman, CRI-O, containerd, dockerd and runc on the host; not MCS-constrained."),
    t("docker_t", "container_runtime_t", Process, "the container engine on the host",
      "The old name of container_runtime_t, kept as an alias."),
    t("spc_t", "spc_t", Process, "a super-privileged container process",
      "The domain of --privileged containers and those run with label=disable; unconfined, so MCS categories do not restrict it."),
    t("unconfined_t", "unconfined_t", Process, "an unconfined process",
      "The domain of logged-in users' shells and programs on targeted policies; not MCS-constrained."),
    t("svirt_t", "svirt_t", Process, "a virtual machine process",
      "The domain of a libvirt-managed qemu process; MCS-separated from other VMs."),
    t("svirt_tcg_t", "svirt_tcg_t", Process, "a virtual machine process (TCG emulation)",
      "The domain of a qemu process emulating without KVM; MCS-separated."),
    t("container_file_t", "container_file_t", File, "container content",
      "Files containers may read and write: volumes relabeled with :z or :Z, container root filesystems."),
    t("svirt_sandbox_file_t", "container_file_t", File, "container content",
      "The old name of container_file_t, kept as an alias."),
    t("svirt_lxc_file_t", "container_file_t", File, "container content",
      "An older name of container_file_t, kept as an alias."),
    t("container_ro_file_t", "container_ro_file_t", File, "read-only container content",
      "Image layers and other content containers may read but not write (overlay lower directories)."),
    t("container_var_lib_t", "container_var_lib_t", File, "container engine state",
      "The engine's state under /var/lib/containers or /var/lib/docker; containers may not use it."),
    t("docker_var_lib_t", "container_var_lib_t", File, "container engine state",
      "The old name of container_var_lib_t, kept as an alias."),
    t("container_runtime_exec_t", "container_runtime_exec_t", File, "a container engine executable",
      "The podman, dockerd or runc binary; running it enters container_runtime_t."),
    t("container_log_t", "container_log_t", File, "container logs",
      "Log files the engine writes for containers (/var/log/containers, /var/log/pods)."),
    t("container_var_run_t", "container_var_run_t", File, "container engine runtime files",
      "Sockets and pid files of the engine under /run."),
    t("virt_var_lib_t", "virt_var_lib_t", File, "libvirt state",
      "Files under /var/lib/libvirt; lxc_contexts names it as `content`."),
    t("svirt_image_t", "svirt_image_t", File, "a virtual machine image in use",
      "A disk image labeled for one running VM, with that VM's MCS pair."),
    t("unlabeled_t", "unlabeled_t", File, "an unlabeled file",
      "The kernel's name for a file whose label is missing or not valid in the loaded policy; run restorecon or relabel it."),
    t("default_t", "default_t", File, "a file no rule describes",
      "The type file_contexts gives paths matched by no more specific rule; confined domains rarely may read it."),
];

/// What containers may do with files of a type (type enforcement, as
/// container-selinux writes it), which decides what a level can mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContainerUse {
    /// Containers may read and write it (`container_file_t`): its level
    /// says which containers.
    ReadWrite,
    /// Containers may read it only (`container_ro_file_t`).
    ReadOnly,
    /// Containers may not use it at any level (engine state, logs, images
    /// of VMs, `default_t`, ...).
    No,
    /// Not a file type of the built-in table (or a process type): the
    /// table does not say.
    Unknown,
}

impl TypeInfo {
    /// What containers may do with files of this type.
    pub fn container_use(&self) -> ContainerUse {
        match (self.kind, self.canonical) {
            (Process, _) => ContainerUse::Unknown,
            (File, "container_file_t") => ContainerUse::ReadWrite,
            (File, "container_ro_file_t") => ContainerUse::ReadOnly,
            (File, _) => ContainerUse::No,
        }
    }
}

/// Looks a type up in the built-in table.
///
/// ```
/// use selinux_mcs::explain::{known_type, TypeKind};
/// let info = known_type("svirt_sandbox_file_t").unwrap();
/// assert_eq!(info.canonical, "container_file_t");
/// assert_eq!(info.kind, TypeKind::File);
/// assert!(known_type("httpd_t").is_none());
/// ```
pub fn known_type(name: &str) -> Option<&'static TypeInfo> {
    KNOWN_TYPES.iter().find(|t| t.name == name)
}

/// What a context's level (or range) means for isolation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LevelMeaning {
    /// No MLS field: the policy has no MLS/MCS.
    NoMls,
    /// `s0` and no category: shared by all containers (`:z`).
    Shared,
    /// Two categories: a private MCS pair (`:Z`).
    PrivatePair {
        /// The lower category.
        first: Category,
        /// The higher category.
        second: Category,
        /// Whether it is `c1022,c1023`, reserved for privileged
        /// containers' mounts.
        reserved: bool,
    },
    /// Every category `c0.c1023`: system high.
    SystemHigh,
    /// Some other set of categories on one level.
    Categories(CategorySet),
    /// A sensitivity above `s0` (an MLS, not MCS, level).
    Sensitivity(Level),
    /// A range whose low and high differ.
    Range {
        /// The range.
        range: MlsRange,
        /// The meaning of its high level.
        high: Box<LevelMeaning>,
    },
}

impl LevelMeaning {
    /// The meaning of a context's range.
    pub fn of(range: Option<&MlsRange>) -> LevelMeaning {
        let Some(range) = range else {
            return LevelMeaning::NoMls;
        };
        if !range.is_single() {
            return LevelMeaning::Range {
                range: *range,
                high: Box::new(LevelMeaning::of_level(range.high())),
            };
        }
        LevelMeaning::of_level(range.low())
    }

    fn of_level(level: &Level) -> LevelMeaning {
        if level.sensitivity().number() > 0 {
            return LevelMeaning::Sensitivity(*level);
        }
        let cats = level.categories();
        if cats.is_empty() {
            return LevelMeaning::Shared;
        }
        if cats.len() == CategorySet::CAPACITY {
            return LevelMeaning::SystemHigh;
        }
        if cats.len() == 2 {
            if let (Some(first), Some(second)) = (cats.first(), cats.last()) {
                return LevelMeaning::PrivatePair {
                    first,
                    second,
                    reserved: crate::mcs::CategoryPair::new(first, second).ok()
                        == Some(crate::mcs::PairSpace::privileged_pair()),
                };
            }
        }
        LevelMeaning::Categories(*cats)
    }

    /// A phrase for a process (`is_process`) or a file at this level;
    /// for a file, what containers may do with its type decides what the
    /// level can grant.
    fn phrase(&self, is_process: bool, use_: ContainerUse) -> String {
        if !is_process && use_ != ContainerUse::ReadWrite {
            if let Some(p) = self.file_phrase(use_) {
                return p;
            }
        }
        match self {
            LevelMeaning::NoMls => "with no MLS field (the policy has no MLS/MCS)".into(),
            LevelMeaning::Shared => {
                if is_process {
                    "at s0 with no categories: it may use only shared (s0) files, no container's private ones".into()
                } else {
                    "at s0 with no categories: shared, every container may use it (:z)".into()
                }
            }
            LevelMeaning::PrivatePair {
                first,
                second,
                reserved,
            } => {
                let note = if *reserved {
                    " (c1022,c1023 is reserved by convention for privileged containers' mounts)"
                } else {
                    ""
                };
                if is_process {
                    format!(
                        "with the private MCS pair {first},{second}{note}: it may use files labeled s0, {first}, {second} or {first},{second}, and no other container's"
                    )
                } else {
                    format!(
                        "with the private MCS pair {first},{second}{note}: only processes holding both {first} and {second} may use it (:Z)"
                    )
                }
            }
            LevelMeaning::SystemHigh => {
                if is_process {
                    "at system high (all categories c0.c1023): it may use every container's files"
                        .into()
                } else {
                    "at system high (all categories c0.c1023): only processes holding every category may use it".into()
                }
            }
            LevelMeaning::Categories(cats) => {
                let n = cats.len();
                let what = if n == 1 { "category" } else { "categories" };
                if is_process {
                    format!(
                        "with {what} {cats}: it may use files whose categories are within {cats}"
                    )
                } else {
                    format!("with {what} {cats}: only processes holding all {n} may use it")
                }
            }
            LevelMeaning::Sensitivity(level) => format!(
                "at MLS level {level} (sensitivity {}): an MLS policy level, above what MCS uses",
                level.sensitivity()
            ),
            LevelMeaning::Range { range, high } => {
                let low = range.low();
                if is_process {
                    format!(
                        "with the range {range}: it runs at {low} and may use anything its high level {} dominates ({})",
                        range.high(),
                        high.short()
                    )
                } else {
                    format!(
                        "with the range {range}: readable by processes whose high level dominates {}, but it is not a single level, so no constrained process may create or relabel a file to it",
                        range.high()
                    )
                }
            }
        }
    }

    /// A file's level when its type is not read-write container content.
    fn file_phrase(&self, use_: ContainerUse) -> Option<String> {
        let label = self.label();
        Some(match (self, use_) {
            (LevelMeaning::Shared, ContainerUse::ReadOnly) => {
                format!("{label}: every container may read it (its type allows reading only)")
            }
            (LevelMeaning::PrivatePair { first, second, .. }, ContainerUse::ReadOnly) => format!(
                "{label}: only processes holding both {first} and {second} may read it (its type allows reading only)"
            ),
            (LevelMeaning::Shared, ContainerUse::No) => {
                format!("{label}: MCS does not restrict it, but containers may not use this type at any level")
            }
            (LevelMeaning::PrivatePair { first, second, .. }, ContainerUse::No) => format!(
                "{label}: MCS admits only processes holding both {first} and {second}, and containers may not use this type at any level"
            ),
            (LevelMeaning::Shared, ContainerUse::Unknown) => {
                format!("{label}: MCS does not restrict it; type enforcement decides which processes may use it")
            }
            (LevelMeaning::PrivatePair { first, second, .. }, ContainerUse::Unknown) => format!(
                "{label}: MCS admits only processes holding both {first} and {second}, if type enforcement lets them use the type at all"
            ),
            _ => return None,
        })
    }

    /// The level alone, without what it allows.
    fn label(&self) -> String {
        match self {
            LevelMeaning::NoMls => "with no MLS field".into(),
            LevelMeaning::Shared => "at s0 with no categories".into(),
            LevelMeaning::PrivatePair { first, second, .. } => {
                format!("with the MCS pair {first},{second}")
            }
            LevelMeaning::SystemHigh => "at system high (all categories c0.c1023)".into(),
            LevelMeaning::Categories(cats) => format!("with categories {cats}"),
            LevelMeaning::Sensitivity(level) => format!("at MLS level {level}"),
            LevelMeaning::Range { range, .. } => format!("with the range {range}"),
        }
    }

    fn short(&self) -> &'static str {
        match self {
            LevelMeaning::NoMls => "no MLS",
            LevelMeaning::Shared => "shared",
            LevelMeaning::PrivatePair { .. } => "a private pair",
            LevelMeaning::SystemHigh => "system high, all categories",
            LevelMeaning::Categories(_) => "a category set",
            LevelMeaning::Sensitivity(_) => "an MLS level",
            LevelMeaning::Range { .. } => "a range",
        }
    }
}

/// A field-by-field explanation of a context.
///
/// `Display` prints one field a line, as `relabel explain` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    context: SecurityContext,
    level: LevelMeaning,
    translation: Option<String>,
    policy: Option<PolicyFacts>,
}

/// What a loaded binary policy says about a context
/// ([`Explanation::with_policy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyFacts {
    /// Whether the policy accepts the context, and if not the first rule
    /// it breaks.
    pub validity: Result<(), crate::policydb::ValidityError>,
    /// The type's primary name, when the context names an alias.
    pub primary_type: Option<String>,
    /// The type's aliases.
    pub type_aliases: Vec<String>,
    /// The type's attributes, sorted.
    pub type_attributes: Vec<String>,
    /// Whether the type has the `mcs_constrained_type` attribute (`None`
    /// when the policy does not define the type).
    pub mcs_constrained: Option<bool>,
}

impl PolicyFacts {
    /// Reads the facts about `context` from `policy`.
    pub fn new(context: &SecurityContext, policy: &crate::policydb::Policy) -> PolicyFacts {
        let t = policy.type_(context.type_()).filter(|t| !t.attribute);
        PolicyFacts {
            validity: context.validate(policy),
            primary_type: t
                .filter(|t| *t.name != *context.type_())
                .map(|t| t.name.to_string()),
            type_aliases: t.map_or_else(Vec::new, |t| {
                t.aliases.iter().map(|a| a.to_string()).collect()
            }),
            type_attributes: t.map_or_else(Vec::new, |t| {
                policy
                    .attributes_of(t)
                    .iter()
                    .map(|a| a.name.to_string())
                    .collect()
            }),
            mcs_constrained: t.map(|t| {
                policy
                    .attributes_of(t)
                    .iter()
                    .any(|a| &*a.name == crate::policydb::MCS_CONSTRAINED)
            }),
        }
    }
}

impl Explanation {
    /// Explains `context`.
    pub fn new(context: &SecurityContext) -> Explanation {
        Explanation {
            context: context.clone(),
            level: LevelMeaning::of(context.range()),
            translation: None,
            policy: None,
        }
    }

    /// Adds what `policy` says: whether the context is valid (and which
    /// rule it breaks), the type's attributes and aliases, and whether the
    /// type is MCS-constrained, which then replaces the built-in list.
    #[must_use]
    pub fn with_policy(mut self, policy: &crate::policydb::Policy) -> Explanation {
        self.policy = Some(PolicyFacts::new(&self.context, policy));
        self
    }

    /// What the policy said, with [`with_policy`](Self::with_policy).
    pub fn policy_facts(&self) -> Option<&PolicyFacts> {
        self.policy.as_ref()
    }

    /// Whether the context's type is MCS-constrained: by the policy when
    /// one was given and defines the type, else by the built-in list.
    pub fn mcs_constrained(&self) -> bool {
        match self.policy.as_ref().and_then(|p| p.mcs_constrained) {
            Some(c) => c,
            None => ConstrainedTypes::BUILTIN.contains(&self.context.type_()),
        }
    }

    /// Explains `context`, with its range's name from `translations`.
    ///
    /// ```
    /// # use std::str::FromStr;
    /// use selinux_mcs::explain::Explanation;
    /// use selinux_mcs::policy::Translations;
    /// let t = Translations::from_str("s0:c0.c1023=SystemHigh\ns0=SystemLow\n")?;
    /// let ctx = "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023".parse().unwrap();
    /// let e = Explanation::with_translations(&ctx, &t);
    /// assert_eq!(e.translation(), Some("SystemLow-SystemHigh"));
    /// # Ok::<(), selinux_mcs::policy::PolicyError>(())
    /// ```
    pub fn with_translations(
        context: &SecurityContext,
        translations: &Translations,
    ) -> Explanation {
        let mut e = Explanation::new(context);
        e.translation = context.range().and_then(|r| translations.translation(r));
        e
    }

    /// The context explained.
    pub fn context(&self) -> &SecurityContext {
        &self.context
    }

    /// What the SELinux user is.
    pub fn user_meaning(&self) -> &'static str {
        match self.context.user() {
            "system_u" => "the SELinux user of system processes and files",
            "unconfined_u" => "the SELinux user of unconfined logins",
            "user_u" => "an unprivileged SELinux user",
            "staff_u" => "the SELinux user of staff who may become administrators",
            "sysadm_u" => "the SELinux user of administrators",
            "root" => "the SELinux user of root logins (MLS policies)",
            _ => "an SELinux user (users are not checked by MCS)",
        }
    }

    /// What the role is.
    pub fn role_meaning(&self) -> &'static str {
        match self.context.role() {
            "object_r" => "the role of files and other objects",
            "system_r" => "the role of system processes and services",
            "unconfined_r" => "the role of unconfined processes",
            "staff_r" => "the role of staff logins",
            "sysadm_r" => "the role of administrators",
            "user_r" => "the role of unprivileged logins",
            _ => "a role (roles limit which types a process may enter)",
        }
    }

    /// The type's entry in the built-in table, if known.
    pub fn known_type(&self) -> Option<&'static TypeInfo> {
        known_type(self.context.type_())
    }

    /// What the level or range means.
    pub fn level_meaning(&self) -> &LevelMeaning {
        &self.level
    }

    /// The range's name from setrans.conf, when one was given and has it.
    pub fn translation(&self) -> Option<&str> {
        self.translation.as_deref()
    }

    /// Whether the context reads as a process's (a known process type, or
    /// a role other than `object_r`).
    pub fn is_process(&self) -> bool {
        match self.known_type() {
            Some(info) => info.kind == TypeKind::Process,
            None => self.context.role() != "object_r",
        }
    }

    /// One sentence saying what the context is and what its level allows.
    pub fn meaning(&self) -> String {
        let type_ = self.context.type_();
        let subject = match self.known_type() {
            Some(info) if info.canonical != info.name => {
                format!(
                    "{} ({type_}, an alias of {})",
                    capitalize(info.summary),
                    info.canonical
                )
            }
            Some(info) => format!("{} ({type_})", capitalize(info.summary)),
            None if self.is_process() => format!("A process of type {type_}"),
            None => format!("A file of type {type_}"),
        };
        if self.is_process() && self.level != LevelMeaning::NoMls && !self.mcs_constrained() {
            return format!(
                "{subject} {}; {type_} is not MCS-constrained, so categories do not restrict what it may use.",
                self.level.label()
            );
        }
        let use_ = self
            .known_type()
            .map_or(ContainerUse::Unknown, TypeInfo::container_use);
        format!("{subject} {}.", self.level.phrase(self.is_process(), use_))
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Explanation {
    /// The explanation as the JSON document `relabel explain --json` prints
    /// (and the C binding returns): `context` (the text as given),
    /// `canonical`, `user`, `role`, `type`, `range` (or null), `low` and
    /// `high` (each `{"sensitivity": "s0", "categories": ["c1", ...]}`, or
    /// null without an MLS field), `meaning` and `translation` (or null).
    ///
    /// ```
    /// use selinux_mcs::explain::Explanation;
    /// let ctx = "system_u:system_r:container_t:s0:c2,c1".parse()?;
    /// let doc = Explanation::new(&ctx).to_json("system_u:system_r:container_t:s0:c2,c1");
    /// assert_eq!(doc["canonical"], "system_u:system_r:container_t:s0:c1,c2");
    /// assert_eq!(doc["low"]["categories"], serde_json::json!(["c1", "c2"]));
    /// # Ok::<(), selinux_mcs::ParseError>(())
    /// ```
    pub fn to_json(&self, given: &str) -> serde_json::Value {
        let ctx = &self.context;
        let mut doc = serde_json::json!({
            "context": given,
            "canonical": ctx.to_string(),
            "user": ctx.user(),
            "role": ctx.role(),
            "type": ctx.type_(),
            "range": ctx.range().map(|r| r.to_string()),
            "low": ctx.level().map(level_json),
            "high": ctx.high_level().map(level_json),
            "meaning": self.meaning(),
            "translation": self.translation(),
        });
        if let (Some(p), Some(map)) = (&self.policy, doc.as_object_mut()) {
            map.insert(
                "policy".into(),
                serde_json::json!({
                    "valid": p.validity.is_ok(),
                    "invalid": p.validity.as_ref().err().map(|e| serde_json::json!({
                        "rule": e.rule(),
                        "message": e.to_string(),
                    })),
                    "primary_type": p.primary_type,
                    "type_aliases": p.type_aliases,
                    "type_attributes": p.type_attributes,
                    "mcs_constrained": p.mcs_constrained,
                }),
            );
        }
        doc
    }
}

/// A level as JSON: `{"sensitivity": "s0", "categories": ["c1", "c2"]}`,
/// one entry per category, ascending.
pub fn level_json(level: &Level) -> serde_json::Value {
    serde_json::json!({
        "sensitivity": level.sensitivity().to_string(),
        "categories": level.categories().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    })
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ctx = &self.context;
        writeln!(f, "canonical:    {ctx}")?;
        writeln!(f, "user:         {} ({})", ctx.user(), self.user_meaning())?;
        writeln!(f, "role:         {} ({})", ctx.role(), self.role_meaning())?;
        match self.known_type() {
            Some(info) => {
                write!(f, "type:         {} ({}", ctx.type_(), info.summary)?;
                if info.canonical != info.name {
                    write!(f, "; alias of {}", info.canonical)?;
                }
                writeln!(f, ")")?;
                writeln!(f, "              {}", info.detail)?;
            }
            None => writeln!(f, "type:         {}", ctx.type_())?,
        }
        if let Some(p) = &self.policy {
            match &p.validity {
                Ok(()) => writeln!(f, "policy:       valid in the loaded policy")?,
                Err(e) => writeln!(f, "policy:       NOT VALID in the loaded policy: {e}")?,
            }
            if let Some(primary) = &p.primary_type {
                writeln!(f, "              {} is an alias of {primary}", ctx.type_())?;
            }
            if !p.type_aliases.is_empty() {
                writeln!(f, "aliases:      {}", p.type_aliases.join(", "))?;
            }
            if !p.type_attributes.is_empty() {
                writeln!(f, "attributes:   {}", p.type_attributes.join(", "))?;
            }
            match p.mcs_constrained {
                Some(true) => writeln!(
                    f,
                    "mcs:          {} is MCS-constrained (mcs_constrained_type)",
                    ctx.type_()
                )?,
                Some(false) if self.is_process() => {
                    writeln!(f, "mcs:          {} is not MCS-constrained", ctx.type_())?
                }
                _ => {}
            }
        }
        match ctx.range() {
            None => writeln!(f, "range:        none (no MLS field)")?,
            Some(range) => {
                let level = range.low();
                if range.is_single() {
                    writeln!(f, "level:        {range}")?;
                } else {
                    writeln!(
                        f,
                        "range:        {range} (low {} - high {})",
                        range.low(),
                        range.high()
                    )?;
                }
                let describe = |cats: &CategorySet| match cats.len() {
                    0 => "none".to_owned(),
                    1 => format!("{cats} (1 category)"),
                    n => format!("{cats} ({n} categories)"),
                };
                if range.is_single() {
                    writeln!(f, "sensitivity:  {}", level.sensitivity())?;
                    writeln!(f, "categories:   {}", describe(level.categories()))?;
                } else {
                    let (low, high) = (range.low(), range.high());
                    writeln!(
                        f,
                        "sensitivity:  {} (low), {} (high)",
                        low.sensitivity(),
                        high.sensitivity()
                    )?;
                    writeln!(
                        f,
                        "categories:   low {}; high {}",
                        describe(low.categories()),
                        describe(high.categories())
                    )?;
                }
            }
        }
        if let Some(name) = &self.translation {
            // setrans.conf is text someone else wrote: escaped, so it cannot
            // add lines or send escape sequences to a terminal.
            writeln!(f, "translation:  {}", Escaped::str(name))?;
        }
        write!(f, "meaning:      {}", self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(s: &str) -> Explanation {
        Explanation::new(&s.parse().expect("test context"))
    }

    /// No explanation contradicts itself: a type that containers may not
    /// use is never called shareable with :z or private with :Z, and a
    /// content type always is, at every kind of level.
    #[test]
    fn no_built_in_type_contradicts_its_level() {
        for info in KNOWN_TYPES {
            let use_ = info.container_use();
            if info.detail.contains("may not use") {
                assert_eq!(
                    use_,
                    ContainerUse::No,
                    "{}: detail and container_use disagree",
                    info.name
                );
            }
            for level in [
                "s0",
                "s0:c5,c9",
                "s0:c1,c2,c3",
                "s0:c0.c1023",
                "s0-s0:c0.c1023",
            ] {
                let role = if info.kind == Process {
                    "system_r"
                } else {
                    "object_r"
                };
                let m = explain(&format!("system_u:{role}:{}:{level}", info.name)).meaning();
                let grants = m.contains("(:z)")
                    || m.contains("(:Z)")
                    || m.contains("every container may use");
                let denies = m.contains("containers may not use");
                assert!(!(grants && denies), "{}: {m}", info.name);
                if info.kind == File {
                    if use_ != ContainerUse::ReadWrite {
                        assert!(!grants, "{} at {level}: {m}", info.name);
                    }
                    if use_ == ContainerUse::No && matches!(level, "s0" | "s0:c5,c9") {
                        assert!(denies, "{} at {level}: {m}", info.name);
                    }
                    if use_ == ContainerUse::ReadWrite && matches!(level, "s0" | "s0:c5,c9") {
                        assert!(grants, "{} at {level}: {m}", info.name);
                    }
                }
            }
        }
        assert_eq!(
            explain("system_u:object_r:container_var_lib_t:s0").meaning(),
            "Container engine state (container_var_lib_t) at s0 with no categories: MCS does not restrict it, but containers may not use this type at any level."
        );
    }

    #[test]
    fn aliases() {
        for (alias, canonical) in [
            ("svirt_lxc_net_t", "container_t"),
            ("svirt_sandbox_file_t", "container_file_t"),
            ("svirt_lxc_file_t", "container_file_t"),
            ("container_t", "container_t"),
        ] {
            assert_eq!(known_type(alias).map(|t| t.canonical), Some(canonical));
        }
        for name in [
            "container_ro_file_t",
            "container_init_t",
            "container_kvm_t",
            "spc_t",
            "unconfined_t",
        ] {
            assert!(known_type(name).is_some(), "{name}");
        }
    }

    #[test]
    fn level_meanings() {
        assert_eq!(
            *explain("system_u:object_r:container_file_t:s0").level_meaning(),
            LevelMeaning::Shared
        );
        assert_eq!(
            *explain("system_u:object_r:container_file_t:s0:c0.c1023").level_meaning(),
            LevelMeaning::SystemHigh
        );
        assert!(matches!(
            explain("system_u:object_r:container_file_t:s0:c1022,c1023").level_meaning(),
            LevelMeaning::PrivatePair { reserved: true, .. }
        ));
        assert!(matches!(
            explain("system_u:object_r:container_file_t:s0:c1,c2,c3").level_meaning(),
            LevelMeaning::Categories(_)
        ));
        assert!(matches!(
            explain("u:r:t:s0-s0:c0.c1023").level_meaning(),
            LevelMeaning::Range { high, .. } if **high == LevelMeaning::SystemHigh
        ));
        assert_eq!(*explain("u:r:t").level_meaning(), LevelMeaning::NoMls);
        assert!(matches!(
            explain("u:r:t:s3:c1").level_meaning(),
            LevelMeaning::Sensitivity(_)
        ));
    }

    #[test]
    fn sentences() {
        assert_eq!(
            explain("system_u:object_r:container_file_t:s0").meaning(),
            "Container content (container_file_t) at s0 with no categories: shared, every container may use it (:z)."
        );
        assert_eq!(
            explain("system_u:object_r:container_file_t:s0:c5,c9").meaning(),
            "Container content (container_file_t) with the private MCS pair c5,c9: only processes holding both c5 and c9 may use it (:Z)."
        );
        let spc = explain("system_u:system_r:spc_t:s0").meaning();
        assert!(
            spc.starts_with("A super-privileged container process (spc_t)"),
            "{spc}"
        );
        let unknown = explain("system_u:object_r:etc_t:s0").meaning();
        assert!(unknown.starts_with("A file of type etc_t"), "{unknown}");
        let unknown = explain("system_u:system_r:httpd_t:s0").meaning();
        assert!(
            unknown.starts_with("A process of type httpd_t"),
            "{unknown}"
        );
    }

    #[test]
    fn display_has_every_field() {
        let text = explain("system_u:system_r:svirt_lxc_net_t:s0:c641,c186").to_string();
        for needle in [
            "canonical:    system_u:system_r:svirt_lxc_net_t:s0:c186,c641",
            "user:         system_u",
            "role:         system_r",
            "alias of container_t",
            "sensitivity:  s0",
            "categories:   c186,c641 (2 categories)",
            "meaning:      A container process",
        ] {
            assert!(text.contains(needle), "{needle} not in\n{text}");
        }
    }

    #[test]
    fn display_escapes_the_translation() {
        let ctx = "u:r:t:s0:c1,c2".parse().expect("test context");
        let t = <Translations as std::str::FromStr>::from_str(
            "s0:c1,c2=Secret\x1b[31mRed\x1b]0;x\x07\n",
        )
        .expect("test setrans");
        let text = Explanation::with_translations(&ctx, &t).to_string();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(
            text.contains(r"translation:  Secret\e[31mRed\e]0;x\x07"),
            "{text}"
        );
    }
}
