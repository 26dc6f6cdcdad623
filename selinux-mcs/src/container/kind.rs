//! Labels for the other kinds of container process (go-selinux
//! `KVMContainerLabels`, `InitContainerLabels`, `SetProcessKind`) and the
//! option helpers `DupSecOpt` and `DisableSecOpt`.

use super::labels::{init_labels_with_process, InitLabelsError, LabelOption, LabelOptionError};
use super::{ContainerContexts, ContainerLabels};
use crate::mls::Level;
use crate::SecurityContext;

/// What runs in the container, which picks the process entry of the
/// container contexts file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessKind {
    /// An ordinary container: `process` (`container_t`).
    Regular,
    /// A container running an init system such as systemd: `init_process`
    /// (`container_init_t`), else `process`.
    Init,
    /// A container isolated in a virtual machine (kata): `kvm_process`
    /// (`container_kvm_t`), else `process`.
    Kvm,
}

impl ProcessKind {
    /// The contexts-file key, and the one used when the file lacks it.
    fn keys(self) -> (&'static str, Option<&'static str>) {
        match self {
            ProcessKind::Regular => ("process", None),
            ProcessKind::Init => ("init_process", Some("process")),
            ProcessKind::Kvm => ("kvm_process", Some("process")),
        }
    }
}

impl ContainerContexts {
    /// The process label for `kind`: `init_process` or `kvm_process`, else
    /// `process` (as go-selinux falls back).
    pub fn process_for(&self, kind: ProcessKind) -> Option<&SecurityContext> {
        let (key, fallback) = kind.keys();
        self.get(key).or_else(|| fallback.and_then(|f| self.get(f)))
    }

    fn require_process(&self, kind: ProcessKind) -> Result<&SecurityContext, LabelOptionError> {
        self.process_for(kind)
            .ok_or(LabelOptionError::Missing { key: kind.keys().0 })
    }
}

/// [`init_labels`](super::init_labels) for a kind of container: the
/// process label comes from [`ContainerContexts::process_for`], the rest
/// (options, the level from `level`, the file label) is the same.
pub fn init_labels_for<E>(
    kind: ProcessKind,
    contexts: &ContainerContexts,
    options: &[LabelOption],
    level: impl FnOnce(Option<&Level>) -> Result<Level, E>,
) -> Result<ContainerLabels, InitLabelsError<E>>
where
    E: std::error::Error + 'static,
{
    let process = contexts.require_process(kind)?;
    init_labels_with_process(process, contexts, options, level)
}

/// The labels of a KVM-isolated container (kata): the `kvm_process` entry
/// (else `process`) and the `file` entry, both at the level `level` gives
/// (called once with `None`: allocate a pair).
///
/// `level` is where the pair comes from: an in-memory
/// [`Allocator`](crate::mcs::Allocator) or a persistent
/// [`Registry`](crate::mcs::Registry):
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::container::{kvm_container_labels, ContainerContexts};
/// use selinux_mcs::mcs::{Allocator, PairSpace, Registry};
/// let contexts = ContainerContexts::from_str(
///     "process = \"system_u:system_r:container_t:s0\"\n\
///      kvm_process = \"system_u:system_r:container_kvm_t:s0\"\n\
///      file = \"system_u:object_r:container_file_t:s0\"\n",
/// )?;
/// let mut alloc = Allocator::new(PairSpace::default());
/// let labels = kvm_container_labels(&contexts, |_| alloc.allocate().map(|p| p.level()))?;
/// let process = labels.process.unwrap();
/// assert_eq!(process.type_(), "container_kvm_t");
/// assert_eq!(process.level(), labels.file.level());
///
/// let dir = tempfile::tempdir()?;
/// let registry = Registry::open(dir.path().join("mcs.db"))?;
/// let labels = kvm_container_labels(&contexts, |_| registry.allocate_for("kata:vm1").map(|e| e.level))?;
/// assert_eq!(labels.file.level(), Some(&registry.get("kata:vm1")?.unwrap().level));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "KVMContainerLabels")]
#[doc(alias = "KVMContainerLabel")]
pub fn kvm_container_labels<E>(
    contexts: &ContainerContexts,
    level: impl FnOnce(Option<&Level>) -> Result<Level, E>,
) -> Result<ContainerLabels, InitLabelsError<E>>
where
    E: std::error::Error + 'static,
{
    init_labels_for(ProcessKind::Kvm, contexts, &[], level)
}

/// The labels of a container running an init system: the `init_process`
/// entry (else `process`) and the `file` entry, at the level `level` gives.
/// See [`kvm_container_labels`] for where the level comes from.
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::container::{init_container_labels, ContainerContexts};
/// use selinux_mcs::mcs::{Allocator, PairSpace};
/// let contexts = ContainerContexts::from_str(
///     "process = \"system_u:system_r:container_t:s0\"\n\
///      init_process = \"system_u:system_r:container_init_t:s0\"\n\
///      file = \"system_u:object_r:container_file_t:s0\"\n",
/// )?;
/// let mut alloc = Allocator::new(PairSpace::default());
/// let labels = init_container_labels(&contexts, |_| alloc.allocate().map(|p| p.level()))?;
/// assert_eq!(labels.process.unwrap().type_(), "container_init_t");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "InitContainerLabels")]
#[doc(alias = "InitContainerLabel")]
pub fn init_container_labels<E>(
    contexts: &ContainerContexts,
    level: impl FnOnce(Option<&Level>) -> Result<Level, E>,
) -> Result<ContainerLabels, InitLabelsError<E>>
where
    E: std::error::Error + 'static,
{
    init_labels_for(ProcessKind::Init, contexts, &[], level)
}

/// `label` with the type of `kind`'s process entry (go-selinux
/// `SetProcessKind`): user, role and range are kept. Unlike go-selinux,
/// which returns `label` unchanged when the file has no entry for `kind`,
/// that is an error ([`LabelOptionError::Missing`]).
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::container::{set_process_kind, ContainerContexts, ProcessKind};
/// let contexts = ContainerContexts::from_str(
///     "process = \"system_u:system_r:container_t:s0\"\n\
///      kvm_process = \"system_u:system_r:container_kvm_t:s0\"\n",
/// )?;
/// let label = "system_u:system_r:container_t:s0:c1,c2".parse()?;
/// let kvm = set_process_kind(&label, ProcessKind::Kvm, &contexts)?;
/// assert_eq!(kvm.to_string(), "system_u:system_r:container_kvm_t:s0:c1,c2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "SetProcessKind")]
pub fn set_process_kind(
    label: &SecurityContext,
    kind: ProcessKind,
    contexts: &ContainerContexts,
) -> Result<SecurityContext, LabelOptionError> {
    let source = contexts.require_process(kind)?;
    label
        .with_type(source.type_())
        .map_err(|source| LabelOptionError::Value {
            option: format!("type:{}", label.type_()),
            source,
        })
}

/// The options that give a new container the same label as `ctx` (go-selinux
/// `DupSecOpt`): `user:`, `role:`, `type:` and, when `ctx` has a level,
/// `level:`.
///
/// Each option prints as go-selinux's string (`user:system_u`), which is
/// what [`init_labels`](super::init_labels) and podman's `label=` value
/// take; [`LabelOption::security_opt`] gives the `--security-opt` form
/// (`label=user:system_u`). A range whose high level differs from its low
/// (`s0-s0:c0.c1023`) is an error: a `level:` option holds one level.
///
/// ```
/// use selinux_mcs::container::dup_sec_opt;
/// let ctx = "system_u:system_r:container_t:s0:c2,c1".parse()?;
/// let opts = dup_sec_opt(&ctx)?;
/// let text: Vec<String> = opts.iter().map(|o| o.to_string()).collect();
/// assert_eq!(text, ["user:system_u", "role:system_r", "type:container_t", "level:s0:c1,c2"]);
/// assert_eq!(opts[2].security_opt(), "label=type:container_t");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "DupSecOpt")]
pub fn dup_sec_opt(ctx: &SecurityContext) -> Result<Vec<LabelOption>, LabelOptionError> {
    let mut options = vec![
        LabelOption::User(ctx.user().to_owned()),
        LabelOption::Role(ctx.role().to_owned()),
        LabelOption::Type(ctx.type_().to_owned()),
    ];
    if let Some(range) = ctx.range() {
        if range.low() != range.high() {
            return Err(LabelOptionError::Option {
                option: ctx.to_string(),
                message: format!("the range {range} has two levels; a level: option holds one"),
            });
        }
        options.push(LabelOption::Level(*range.low()));
    }
    Ok(options)
}

/// The options that turn labeling off for a new container (go-selinux
/// `DisableSecOpt`): `[disable]`.
///
/// ```
/// use selinux_mcs::container::{disable_sec_opt, LabelOption};
/// assert_eq!(disable_sec_opt(), [LabelOption::Disable]);
/// assert_eq!(disable_sec_opt()[0].security_opt(), "label=disable");
/// ```
#[doc(alias = "DisableSecOpt")]
pub fn disable_sec_opt() -> Vec<LabelOption> {
    vec![LabelOption::Disable]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is the failure report
    use super::*;
    use crate::container::init_labels;
    use crate::mcs::{Allocator, McsError, PairSpace};
    use std::str::FromStr;

    fn contexts(extra: &str) -> ContainerContexts {
        ContainerContexts::from_str(&format!(
            "process = \"system_u:system_r:container_t:s0\"\n\
             file = \"system_u:object_r:container_file_t:s0\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn kinds_pick_their_entry_or_fall_back_to_process() {
        let full = contexts(
            "kvm_process = \"system_u:system_r:container_kvm_t:s0\"\n\
             init_process = \"system_u:system_r:container_init_t:s0\"\n",
        );
        let plain = contexts("");
        let mut alloc = Allocator::new(PairSpace::default());
        for (c, kind, want) in [
            (&full, ProcessKind::Kvm, "container_kvm_t"),
            (&full, ProcessKind::Init, "container_init_t"),
            (&full, ProcessKind::Regular, "container_t"),
            (&plain, ProcessKind::Kvm, "container_t"),
            (&plain, ProcessKind::Init, "container_t"),
        ] {
            let labels =
                init_labels_for(kind, c, &[], |_| alloc.allocate().map(|p| p.level())).unwrap();
            let process = labels.process.unwrap();
            assert_eq!(process.type_(), want, "{kind:?}");
            assert_eq!(labels.file.type_(), "container_file_t");
            assert_eq!(process.level(), labels.file.level());
            assert_eq!(process.level().unwrap().categories().len(), 2);
        }
        // Five containers, five pairs taken.
        assert_eq!(alloc.len(), 5);
        let kvm = kvm_container_labels(&full, |_| alloc.allocate().map(|p| p.level())).unwrap();
        assert_eq!(kvm.process.unwrap().type_(), "container_kvm_t");
        let init = init_container_labels(&full, |_| alloc.allocate().map(|p| p.level())).unwrap();
        assert_eq!(init.process.unwrap().type_(), "container_init_t");
    }

    #[test]
    fn regular_is_init_labels() {
        let c = contexts("");
        let level = || Ok::<_, McsError>("s0:c3,c4".parse().unwrap());
        assert_eq!(
            init_labels_for(ProcessKind::Regular, &c, &[], |_| level()).unwrap(),
            init_labels(&c, &[], |_| level()).unwrap()
        );
    }

    #[cfg(feature = "registry")]
    #[test]
    fn a_registry_owner_keeps_its_pair() {
        let dir = tempfile::tempdir().unwrap();
        let registry = crate::mcs::Registry::open(dir.path().join("mcs.db")).unwrap();
        let c = contexts("kvm_process = \"system_u:system_r:container_kvm_t:s0\"\n");
        let a = kvm_container_labels(&c, |_| registry.allocate_for("vm").map(|e| e.level)).unwrap();
        let b = kvm_container_labels(&c, |_| registry.allocate_for("vm").map(|e| e.level)).unwrap();
        assert_eq!(a, b);
        assert_eq!(registry.len().unwrap(), 1);
    }

    #[test]
    fn missing_entries_are_named() {
        let c = ContainerContexts::from_str("file = \"u:r:t:s0\"\n").unwrap();
        let e = kvm_container_labels(&c, |_| Ok::<_, McsError>(Level::s0())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the container contexts file has no \"kvm_process\" entry"
        );
        let label = "u:r:t:s0".parse().unwrap();
        let e = set_process_kind(&label, ProcessKind::Init, &c).unwrap_err();
        assert_eq!(
            e,
            LabelOptionError::Missing {
                key: "init_process"
            }
        );
    }

    #[test]
    fn dup_sec_opt_round_trips_through_init_labels() {
        let ctx: SecurityContext = "u1:r1:t1:s0:c7,c3".parse().unwrap();
        let opts = dup_sec_opt(&ctx).unwrap();
        let labels = init_labels(&contexts(""), &opts, |asked| {
            Ok::<_, McsError>(*asked.unwrap())
        })
        .unwrap();
        assert_eq!(labels.process.unwrap(), ctx);
        // Options print as go-selinux's strings and parse back.
        for o in &opts {
            assert_eq!(&o.to_string().parse::<LabelOption>().unwrap(), o);
            assert_eq!(o.security_opt(), format!("label={o}"));
        }
        // No level, no level option.
        let opts = dup_sec_opt(&"u:r:t".parse().unwrap()).unwrap();
        assert_eq!(opts.len(), 3);
        // s0-s0 is one level.
        let opts = dup_sec_opt(&"u:r:t:s0-s0".parse().unwrap()).unwrap();
        assert_eq!(opts[3].to_string(), "level:s0");
        let e = dup_sec_opt(&"u:r:t:s0-s0:c0.c1023".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("has two levels"), "{e}");
    }

    #[test]
    fn disable_sec_opt_disables() {
        let labels = init_labels(
            &contexts(""),
            &disable_sec_opt(),
            |_| -> Result<Level, McsError> { panic!("disable allocates nothing") },
        )
        .unwrap();
        assert_eq!(labels.process, None);
    }
}
