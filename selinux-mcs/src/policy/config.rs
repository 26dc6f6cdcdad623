//! `/etc/selinux/config`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::{read_policy_file, PolicyError, STRING_SOURCE};

/// The SELinux mode named by `SELINUX=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Denials are enforced.
    Enforcing,
    /// Denials are logged, not enforced.
    Permissive,
    /// SELinux is off.
    Disabled,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Enforcing => "enforcing",
            Mode::Permissive => "permissive",
            Mode::Disabled => "disabled",
        })
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s.to_ascii_lowercase().as_str() {
            "enforcing" => Ok(Mode::Enforcing),
            "permissive" => Ok(Mode::Permissive),
            "disabled" => Ok(Mode::Disabled),
            _ => Err(format!(
                "unknown mode {s:?}: expected enforcing, permissive or disabled"
            )),
        }
    }
}

/// `/etc/selinux/config`: `SELINUX=` (the mode) and `SELINUXTYPE=` (the
/// policy's directory under `/etc/selinux`). Other keys are ignored, as
/// libselinux ignores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    mode: Option<Mode>,
    policy_type: Option<String>,
}

impl Config {
    /// The policy type libselinux assumes when `SELINUXTYPE=` is absent.
    pub const DEFAULT_POLICY_TYPE: &'static str = "targeted";

    /// Parses the config from a file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Config, PolicyError> {
        let path = path.as_ref();
        Config::parse(&read_policy_file(path)?, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Config, PolicyError> {
        let mut config = Config {
            mode: None,
            policy_type: None,
        };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = |message: String| PolicyError::Syntax {
                path: PathBuf::from(path),
                line: i + 1,
                text: raw.to_owned(),
                message,
            };
            let Some((key, value)) = line.split_once('=') else {
                return Err(syntax("expected KEY=VALUE".into()));
            };
            let value = value.trim().trim_matches('"').trim();
            match key.trim() {
                "SELINUX" => config.mode = Some(value.parse().map_err(syntax)?),
                "SELINUXTYPE" => {
                    if value.is_empty()
                        || value == "."
                        || value == ".."
                        || !value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        return Err(syntax(
                            "SELINUXTYPE must name a directory under /etc/selinux \
                             (letters, digits, '_', '-', '.')"
                                .into(),
                        ));
                    }
                    config.policy_type = Some(value.to_owned());
                }
                _ => {}
            }
        }
        Ok(config)
    }

    /// The mode, if `SELINUX=` is set.
    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    /// The policy type (`targeted`, `default`, `mls`); `targeted` when
    /// `SELINUXTYPE=` is absent, as in libselinux.
    pub fn policy_type(&self) -> &str {
        self.policy_type
            .as_deref()
            .unwrap_or(Self::DEFAULT_POLICY_TYPE)
    }
}

impl std::str::FromStr for Config {
    type Err = PolicyError;

    /// Parses the config from text.
    fn from_str(text: &str) -> Result<Config, PolicyError> {
        Config::parse(text, Path::new(STRING_SOURCE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_type_must_name_a_directory() {
        for bad in [
            "SELINUXTYPE=../x",
            "SELINUXTYPE=a/b",
            "SELINUXTYPE=.",
            "SELINUXTYPE=\"ta\rgeted\"",
            "SELINUXTYPE=a b",
            "SELINUXTYPE=",
        ] {
            let err = Config::from_str(bad).unwrap_err();
            assert_eq!(err.line(), Some(1), "{bad:?}: {err}");
        }
        let c = Config::from_str("SELINUX=Enforcing\r\nSELINUXTYPE=\" targeted \"\r\n").unwrap();
        assert_eq!(c.mode(), Some(Mode::Enforcing));
        assert_eq!(c.policy_type(), "targeted");
        assert_eq!(Config::from_str("").unwrap().policy_type(), "targeted");
    }
}
