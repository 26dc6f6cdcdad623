//! The labels of a new container (go-selinux `InitLabels`) and the mount
//! option that labels a fresh volume (`FormatMountLabel`).

use std::fmt;
use std::str::FromStr;

use super::ContainerContexts;
use crate::mls::Level;
use crate::{ParseError, SecurityContext};

/// One label option, as podman's `--security-opt label=...` takes it:
/// `disable`, `user:NAME`, `role:NAME`, `type:NAME` (the process type),
/// `filetype:NAME` (the file type) or `level:LEVEL`.
///
/// ```
/// use selinux_mcs::label::LabelOption;
/// assert_eq!("type:spc_t".parse(), Ok(LabelOption::Type("spc_t".into())));
/// let err = "level:s0:110".parse::<LabelOption>().unwrap_err();
/// assert!(err.to_string().starts_with("bad label option \"level:s0:110\": category \"110\" at byte 3"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelOption {
    /// No confinement: no process label, the privileged mount label.
    Disable,
    /// The SELinux user of both labels.
    User(String),
    /// The process role.
    Role(String),
    /// The process type.
    Type(String),
    /// The file type.
    FileType(String),
    /// The level of both labels, instead of a new pair.
    Level(Level),
}

/// A label option that does not parse, or labels that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelOptionError {
    /// An option of the wrong form or with an unknown key.
    #[error("bad label option {option:?}: {message}")]
    Option {
        /// The option as given.
        option: String,
        /// What is wrong and what is valid.
        message: String,
    },
    /// A name or level that does not parse.
    #[error("bad label option {option:?}: {source}")]
    Value {
        /// The option as given.
        option: String,
        /// Why the value does not parse (offsets are into the value).
        #[source]
        source: ParseError,
    },
    /// The container contexts file lacks a key.
    #[error("the container contexts file has no {key:?} entry")]
    Missing {
        /// The key (`process`, `file`).
        key: &'static str,
    },
}

const VALID: &str = "valid options are 'disable' or 'user', 'role', 'type', 'filetype', 'level' followed by ':' and a value";

impl FromStr for LabelOption {
    type Err = LabelOptionError;
    fn from_str(s: &str) -> Result<LabelOption, LabelOptionError> {
        if s == "disable" {
            return Ok(LabelOption::Disable);
        }
        let bad = |message: String| LabelOptionError::Option {
            option: s.to_owned(),
            message,
        };
        let Some((key, value)) = s.split_once(':') else {
            return Err(bad(VALID.to_owned()));
        };
        if value.is_empty() {
            return Err(bad(format!("expected a value after '{key}:'")));
        }
        let value_err = |source| LabelOptionError::Value {
            option: s.to_owned(),
            source,
        };
        // Names are checked as the context parser checks them.
        let name = |v: &str| {
            SecurityContext::new(v, "r", "t", None)
                .map(|_| v.to_owned())
                .map_err(value_err)
        };
        Ok(match key {
            "user" => LabelOption::User(name(value)?),
            "role" => LabelOption::Role(name(value)?),
            "type" => LabelOption::Type(name(value)?),
            "filetype" => LabelOption::FileType(name(value)?),
            "level" => LabelOption::Level(value.parse().map_err(value_err)?),
            _ => return Err(bad(format!("unknown key {key:?}; {VALID}"))),
        })
    }
}

impl LabelOption {
    /// The option as podman's and docker's `--security-opt` take it:
    /// `label=` and the option (`label=type:spc_t`, `label=disable`).
    pub fn security_opt(&self) -> String {
        format!("label={self}")
    }
}

impl fmt::Display for LabelOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelOption::Disable => f.write_str("disable"),
            LabelOption::User(v) => write!(f, "user:{v}"),
            LabelOption::Role(v) => write!(f, "role:{v}"),
            LabelOption::Type(v) => write!(f, "type:{v}"),
            LabelOption::FileType(v) => write!(f, "filetype:{v}"),
            LabelOption::Level(v) => write!(f, "level:{v}"),
        }
    }
}

/// The labels of a new container: its process label (`None` when
/// confinement is disabled) and the label of its files and mounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerLabels {
    /// The process label (`system_u:system_r:container_t:s0:c1,c2`).
    pub process: Option<SecurityContext>,
    /// The file (mount) label (`system_u:object_r:container_file_t:s0:c1,c2`).
    pub file: SecurityContext,
}

/// The level of privileged containers' mounts, never handed out as a pair:
/// `s0:c1022,c1023`.
pub fn privileged_level() -> Level {
    crate::mcs::PairSpace::privileged_pair().level()
}

/// Makes a new container's labels from the container contexts file, the
/// way go-selinux `InitLabels` does: the `process` and `file` entries, at
/// the level `level` gives, changed by `options` (see [`LabelOption`]).
///
/// `level` is called at most once, with the level a `level:` option asks
/// for (`Some`, to be reserved) or `None` (a new pair to allocate): this is
/// where the caller plugs in the MCS registry. With `disable` it is not
/// called; the process label is `None` and the file label is at
/// [`privileged_level`]. Options are all validated before `level` is
/// called, so a bad option reserves nothing.
///
/// ```
/// # use std::str::FromStr;
/// use selinux_mcs::label::{init_labels, LabelOption};
/// use selinux_mcs::policy::ContainerContexts;
/// let contexts = ContainerContexts::from_str(
///     "process = \"system_u:system_r:container_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n",
/// )?;
/// let labels = init_labels(&contexts, &["type:spc_t".parse::<LabelOption>()?], |asked| {
///     assert!(asked.is_none());
///     Ok::<_, std::convert::Infallible>("s0:c1,c2".parse().unwrap())
/// })?;
/// assert_eq!(labels.process.unwrap().to_string(), "system_u:system_r:spc_t:s0:c1,c2");
/// assert_eq!(labels.file.to_string(), "system_u:object_r:container_file_t:s0:c1,c2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "InitLabels")]
#[doc(alias = "ContainerLabels")]
pub fn init_labels<E>(
    contexts: &ContainerContexts,
    options: &[LabelOption],
    level: impl FnOnce(Option<&Level>) -> Result<Level, E>,
) -> Result<ContainerLabels, InitLabelsError<E>>
where
    E: std::error::Error + 'static,
{
    let process = contexts
        .process()
        .ok_or(LabelOptionError::Missing { key: "process" })?;
    init_labels_with_process(process, contexts, options, level)
}

/// [`init_labels`] with the process entry already chosen.
pub(super) fn init_labels_with_process<E>(
    process: &SecurityContext,
    contexts: &ContainerContexts,
    options: &[LabelOption],
    level: impl FnOnce(Option<&Level>) -> Result<Level, E>,
) -> Result<ContainerLabels, InitLabelsError<E>>
where
    E: std::error::Error + 'static,
{
    let file = contexts
        .file()
        .ok_or(LabelOptionError::Missing { key: "file" })?;
    let ctx_err = |o: &LabelOption, source| LabelOptionError::Value {
        option: o.to_string(),
        source,
    };
    if options.contains(&LabelOption::Disable) {
        return Ok(ContainerLabels {
            process: None,
            file: file.with_level(privileged_level()),
        });
    }
    let mut process = process.clone();
    let mut file = file.clone();
    let mut asked = None;
    for o in options {
        match o {
            LabelOption::Disable => {}
            LabelOption::User(u) => {
                process = process.with_user(u).map_err(|e| ctx_err(o, e))?;
                file = file.with_user(u).map_err(|e| ctx_err(o, e))?;
            }
            LabelOption::Role(r) => process = process.with_role(r).map_err(|e| ctx_err(o, e))?,
            LabelOption::Type(t) => process = process.with_type(t).map_err(|e| ctx_err(o, e))?,
            LabelOption::FileType(t) => file = file.with_type(t).map_err(|e| ctx_err(o, e))?,
            LabelOption::Level(l) => asked = Some(*l),
        }
    }
    let level = level(asked.as_ref()).map_err(InitLabelsError::Level)?;
    Ok(ContainerLabels {
        process: Some(process.with_level(level)),
        file: file.with_level(level),
    })
}

/// Why [`init_labels`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitLabelsError<E: std::error::Error + 'static> {
    /// A bad option, or a contexts file without `process` or `file`.
    #[error(transparent)]
    Option(#[from] LabelOptionError),
    /// The level could not be had (the registry's error).
    #[error("cannot get the container's level: {0}")]
    Level(#[source] E),
}

/// The mount option that labels every file of a fresh mount:
/// `context="<label>"` (quoted, since a category list holds commas).
///
/// ```
/// let label = "system_u:object_r:container_file_t:s0:c1,c2".parse()?;
/// assert_eq!(
///     selinux_mcs::label::mount_option(&label),
///     r#"context="system_u:object_r:container_file_t:s0:c1,c2""#
/// );
/// # Ok::<(), selinux_mcs::ParseError>(())
/// ```
pub fn mount_option(label: &SecurityContext) -> String {
    format!("context=\"{label}\"")
}

/// go-selinux `FormatMountLabel`: `src` with `context="<label>"` appended
/// (after a comma when `src` is not empty); `src` alone without a label.
///
/// ```
/// use selinux_mcs::label::format_mount_label;
/// let label = "system_u:object_r:container_file_t:s0:c1,c2".parse()?;
/// assert_eq!(
///     format_mount_label("nodev", Some(&label)),
///     r#"nodev,context="system_u:object_r:container_file_t:s0:c1,c2""#
/// );
/// assert_eq!(format_mount_label("nodev", None), "nodev");
/// # Ok::<(), selinux_mcs::ParseError>(())
/// ```
#[doc(alias = "FormatMountLabel")]
pub fn format_mount_label(src: &str, label: Option<&SecurityContext>) -> String {
    match label {
        None => src.to_owned(),
        Some(l) if src.is_empty() => mount_option(l),
        Some(l) => format!("{src},{}", mount_option(l)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts() -> ContainerContexts {
        ContainerContexts::from_str(
            "process = \"system_u:system_r:container_t:s0\"\n\
             file = \"system_u:object_r:container_file_t:s0\"\n",
        )
        .unwrap()
    }

    fn opts(list: &[&str]) -> Vec<LabelOption> {
        list.iter().map(|o| o.parse().unwrap()).collect()
    }

    #[test]
    fn options_set_fields() {
        let labels = init_labels(
            &contexts(),
            &opts(&["user:u1", "role:r1", "type:t1", "filetype:ft1"]),
            |_| Ok::<_, std::io::Error>("s0:c3,c4".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(labels.process.unwrap().to_string(), "u1:r1:t1:s0:c3,c4");
        assert_eq!(labels.file.to_string(), "u1:object_r:ft1:s0:c3,c4");
    }

    #[test]
    fn a_level_option_is_passed_to_the_registry() {
        let mut seen = None;
        let labels = init_labels(&contexts(), &opts(&["level:s0:c9,c1"]), |asked| {
            seen = asked.copied();
            Ok::<_, std::io::Error>(*asked.unwrap())
        })
        .unwrap();
        assert_eq!(seen.unwrap().to_string(), "s0:c1,c9");
        assert_eq!(
            labels.file.to_string(),
            "system_u:object_r:container_file_t:s0:c1,c9"
        );
    }

    #[test]
    fn disable_gives_the_privileged_mount_label_and_reserves_nothing() {
        let labels = init_labels(
            &contexts(),
            &opts(&["disable"]),
            |_| -> Result<Level, std::io::Error> { panic!("must not allocate") },
        )
        .unwrap();
        assert_eq!(labels.process, None);
        assert_eq!(
            labels.file.to_string(),
            "system_u:object_r:container_file_t:s0:c1022,c1023"
        );
    }

    #[test]
    fn bad_options_are_named() {
        let err = "level:s0:110".parse::<LabelOption>().unwrap_err();
        assert!(matches!(err, LabelOptionError::Value { .. }));
        let err = "colour:red".parse::<LabelOption>().unwrap_err();
        assert!(err.to_string().contains("unknown key \"colour\""), "{err}");
        let err = "nocolon".parse::<LabelOption>().unwrap_err();
        assert!(err.to_string().starts_with("bad label option \"nocolon\""));
        assert!("type:".parse::<LabelOption>().is_err());
        assert!("type:a b".parse::<LabelOption>().is_err());
    }

    #[test]
    fn registry_errors_pass_through() {
        let err = init_labels(&contexts(), &[], |_| {
            Err::<Level, _>(std::io::Error::other("pool exhausted"))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot get the container's level: pool exhausted"
        );
    }

    #[test]
    fn missing_entries_are_errors() {
        let c = ContainerContexts::from_str("file = \"u:r:t:s0\"\n").unwrap();
        let err = init_labels(&c, &[], |_| Ok::<_, std::io::Error>(Level::s0())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the container contexts file has no \"process\" entry"
        );
    }
}
