//! Rust errors to the Python exceptions of `selinux_mcs._errors`.
//!
//! The exception classes are Python classes (so that `ParseError` can be a
//! `ValueError` and `LabelError` an `OSError` as well as a
//! `SelinuxMcsError`); each is looked up once and kept.

use std::path::Path;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};
use pyo3::BoundObject;

use selinux_mcs::label::{LabelError, ProtectedError, RelabelError};
use selinux_mcs::mcs::{McsError, McsErrorKind};
use selinux_mcs::policy::PolicyError;
use selinux_mcs::policydb::{AccessError, PolicyDbError, ValidityError};
use selinux_mcs::ParseError;

/// The exception classes, by name.
#[derive(Clone, Copy, Debug)]
pub enum Exc {
    Parse,
    InvalidArgument,
    InvalidContext,
    Exhausted,
    Registry,
    ProtectedPath,
    Label,
    Policy,
}

impl Exc {
    fn name(self) -> &'static str {
        match self {
            Exc::Parse => "ParseError",
            Exc::InvalidArgument => "InvalidArgumentError",
            Exc::InvalidContext => "InvalidContextError",
            Exc::Exhausted => "ExhaustedError",
            Exc::Registry => "RegistryError",
            Exc::ProtectedPath => "ProtectedPathError",
            Exc::Label => "LabelError",
            Exc::Policy => "PolicyError",
        }
    }

    fn class(self, py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
        static CLASSES: [PyOnceLock<Py<PyType>>; 8] = [const { PyOnceLock::new() }; 8];
        CLASSES[self as usize].import(py, "selinux_mcs._errors", self.name())
    }

    /// The exception with `message` and the keyword attributes `attrs`.
    pub fn err<'py>(
        self,
        py: Python<'py>,
        message: impl AsRef<str>,
        attrs: &[(&str, Bound<'py, PyAny>)],
    ) -> PyErr {
        let build = || -> PyResult<PyErr> {
            let kwargs = PyDict::new(py);
            for (k, v) in attrs {
                kwargs.set_item(k, v)?;
            }
            let value = self.class(py)?.call((message.as_ref(),), Some(&kwargs))?;
            Ok(PyErr::from_value(value))
        };
        // Building the exception can only fail when `selinux_mcs._errors`
        // cannot be imported (a broken install); say so rather than lose
        // the message.
        build().unwrap_or_else(|e| {
            PyRuntimeError::new_err(format!(
                "{} (and raising {} failed: {e})",
                message.as_ref(),
                self.name()
            ))
        })
    }
}

/// A Python object from anything pyo3 converts (conversions used here do
/// not fail; a failure becomes `None`).
pub fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> Bound<'py, PyAny> {
    value
        .into_pyobject(py)
        .map(|b| b.into_any().into_bound())
        .unwrap_or_else(|_| py.None().into_bound(py))
}

/// Python's `repr()` of a value (strings quoted as Python quotes them).
pub fn repr<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> String {
    obj(py, value)
        .repr()
        .map_or_else(|_| "?".to_owned(), |r| r.to_string())
}

/// A path as a Python `str` (undecodable bytes kept as surrogates, as
/// `os.fsdecode` does).
pub fn path_obj<'py>(py: Python<'py>, path: &Path) -> Bound<'py, PyAny> {
    obj(py, path.as_os_str())
}

/// A parse error of `what` ("context", "level", ...) in `text`.
pub fn parse_error(py: Python<'_>, what: &str, text: &str, e: &ParseError) -> PyErr {
    Exc::Parse.err(
        py,
        format!("bad {what} {text:?}: {e}"),
        &[
            ("text", obj(py, text)),
            ("offset", obj(py, e.offset())),
            ("kind", obj(py, e.kind().as_str())),
        ],
    )
}

/// A parse error of raw bytes (an xattr value).
pub fn parse_bytes_error(py: Python<'_>, raw: &[u8], e: &ParseError) -> PyErr {
    let text = String::from_utf8_lossy(raw);
    Exc::Parse.err(
        py,
        format!("bad context {:?}: {e}", text),
        &[
            ("text", obj(py, &*text)),
            ("offset", obj(py, e.offset())),
            ("kind", obj(py, e.kind().as_str())),
        ],
    )
}

pub fn label_error(py: Python<'_>, e: &LabelError) -> PyErr {
    Exc::Label.err(
        py,
        e.to_string(),
        &[
            ("path", path_obj(py, e.path())),
            ("errno", obj(py, e.raw_os_error())),
            ("call", obj(py, e.call())),
            ("kind", obj(py, e.kind().as_str())),
        ],
    )
}

pub fn protected_error(py: Python<'_>, e: &ProtectedError) -> PyErr {
    if let ProtectedError::Unresolvable { path, source } = e {
        // Not a protected path: the root does not resolve (ENOENT, ...).
        let errno = source.raw_os_error();
        let kind = errno.map_or(selinux_mcs::label::ErrorKind::Other, |n| {
            selinux_mcs::label::ErrorKind::from_errno(n)
        });
        return Exc::Label.err(
            py,
            e.to_string(),
            &[
                ("path", path_obj(py, path)),
                ("errno", obj(py, errno)),
                ("call", obj(py, "open")),
                ("kind", obj(py, kind.as_str())),
            ],
        );
    }
    let path = match e {
        ProtectedError::Protected { path, .. }
        | ProtectedError::NeedsForce { path, .. }
        | ProtectedError::PseudoFileSystem { path, .. } => path_obj(py, path),
        _ => path_obj(py, e.matched()),
    };
    Exc::ProtectedPath.err(
        py,
        e.to_string(),
        &[
            ("path", path),
            ("matched", path_obj(py, e.matched())),
            ("needs_force", obj(py, e.needs_force())),
        ],
    )
}

pub fn relabel_error(py: Python<'_>, root: &Path, e: &RelabelError) -> PyErr {
    match e {
        RelabelError::Protected(p) => protected_error(py, p),
        RelabelError::Root(l) => label_error(py, l),
        RelabelError::NoSafeXattrCall(io) => Exc::Label.err(
            py,
            e.to_string(),
            &[
                ("path", path_obj(py, root)),
                ("errno", obj(py, io.raw_os_error())),
                ("call", obj(py, "setxattrat")),
                ("kind", obj(py, "other")),
            ],
        ),
        _ => Exc::Label.err(py, e.to_string(), &[("path", path_obj(py, root))]),
    }
}

pub fn mcs_error(py: Python<'_>, e: &McsError) -> PyErr {
    let message = e.to_string();
    match e.kind() {
        McsErrorKind::Parse => match e {
            McsError::Parse { text, source } => Exc::Parse.err(
                py,
                &message,
                &[
                    ("text", obj(py, text.as_str())),
                    ("offset", obj(py, source.offset())),
                    ("kind", obj(py, source.kind().as_str())),
                ],
            ),
            _ => Exc::Parse.err(py, &message, &[]),
        },
        McsErrorKind::Invalid => Exc::InvalidArgument.err(py, message, &[]),
        McsErrorKind::Exhausted => Exc::Exhausted.err(py, message, &[]),
        McsErrorKind::Taken => Exc::Registry.err(py, message, &[("kind", obj(py, "taken"))]),
        McsErrorKind::Io => Exc::Registry.err(
            py,
            message,
            &[
                ("kind", obj(py, "io")),
                ("errno", obj(py, e.raw_os_error())),
            ],
        ),
        _ => Exc::Registry.err(py, message, &[("kind", obj(py, "registry"))]),
    }
}

pub fn policy_error(py: Python<'_>, e: &PolicyError) -> PyErr {
    let path = match e {
        PolicyError::Io { path, .. }
        | PolicyError::NotAFile { path, .. }
        | PolicyError::TooLarge { path, .. }
        | PolicyError::Syntax { path, .. }
        | PolicyError::Context { path, .. }
        | PolicyError::Unsupported { path, .. } => Some(path_obj(py, path)),
        _ => None,
    };
    Exc::Policy.err(
        py,
        e.to_string(),
        &[
            ("path", path.unwrap_or_else(|| py.None().into_bound(py))),
            ("line", obj(py, e.line())),
        ],
    )
}

pub fn policydb_error(py: Python<'_>, e: &PolicyDbError) -> PyErr {
    let path = match e {
        PolicyDbError::Io { path, .. } | PolicyDbError::InFile { path, .. } => {
            Some(path_obj(py, path))
        }
        PolicyDbError::File(inner) => return policy_error(py, inner),
        _ => None,
    };
    Exc::Policy.err(
        py,
        e.to_string(),
        &[
            ("path", path.unwrap_or_else(|| py.None().into_bound(py))),
            ("offset", obj(py, e.offset())),
        ],
    )
}

pub fn validity_error(py: Python<'_>, context: &str, e: &ValidityError) -> PyErr {
    Exc::InvalidContext.err(
        py,
        format!("{context}: {e}"),
        &[("context", obj(py, context)), ("rule", obj(py, e.rule()))],
    )
}

pub fn access_error(py: Python<'_>, e: &AccessError) -> PyErr {
    match e {
        AccessError::Source { context, error } | AccessError::Target { context, error } => {
            Exc::InvalidContext.err(
                py,
                e.to_string(),
                &[
                    ("context", obj(py, context.as_str())),
                    ("rule", obj(py, error.rule())),
                ],
            )
        }
        _ => Exc::InvalidArgument.err(py, e.to_string(), &[]),
    }
}

/// An argument outside its set of values.
pub fn invalid(py: Python<'_>, message: impl AsRef<str>) -> PyErr {
    Exc::InvalidArgument.err(py, message, &[])
}
