//! `Context`: a parsed, canonical security context.

use std::borrow::Cow;

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyBytes, PyString};

use selinux_mcs::SecurityContext;

use crate::errors::{self, obj};
use crate::mls::{compare, hash_of, level_arg, limits, range_arg, PyLevel, PyRange};

/// A security context ``user:role:type[:range]``, parsed strictly (what the
/// kernel accepts, nothing more) and printed in the kernel's canonical
/// form: ``str(Context("u:r:t:s0:c5,c2")) == "u:r:t:s0:c2,c5"``.
///
/// Contexts are immutable. Equality and hashing use the parsed value, so
/// two spellings of one context are equal and hash alike; ``<`` and the
/// other comparisons are a fixed total order (user, role, type, then the
/// range) for sorting, not dominance (compare :attr:`level` for that).
#[pyclass(frozen, freelist = 256, module = "selinux_mcs", name = "Context")]
#[derive(Clone, Debug)]
pub struct PyContext(pub SecurityContext);

/// A `Context` or the text of one.
pub fn context_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<SecurityContext> {
    if let Ok(c) = value.cast::<PyContext>() {
        return Ok(c.get().0.clone());
    }
    match value.cast::<PyString>() {
        Ok(s) => {
            let t = s.to_cow()?;
            t.parse::<SecurityContext>()
                .map_err(|e| errors::parse_error(py, "context", &t, &e))
        }
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a Context or str, got {}",
            value.get_type().name()?
        ))),
    }
}

#[pymethods]
impl PyContext {
    /// Parses ``text``. Categories in any order are folded into the
    /// canonical form; ``s0-s0`` is ``s0``. Raises :class:`ParseError`,
    /// whose ``offset`` is the byte where the text goes wrong, for
    /// anything the kernel would reject (sensitivities above ``s15`` and
    /// categories above ``c1023`` included; :meth:`parse` takes other
    /// limits).
    #[new]
    fn new(py: Python<'_>, text: PyBackedStr) -> PyResult<PyContext> {
        // One positional argument and nothing else: this is the call made
        // once per context, and keyword handling would cost it a tenth.
        text.parse::<SecurityContext>()
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "context", &text, &e))
    }

    /// Parses ``text`` as ``Context(text)`` does, with the highest
    /// sensitivity ``max_sensitivity`` (default 15; an MCS policy has only
    /// ``s0``: pass 0) and the highest category ``max_category`` (default
    /// 1023).
    #[staticmethod]
    #[pyo3(signature = (text, *, max_sensitivity = None, max_category = None))]
    fn parse(
        py: Python<'_>,
        text: PyBackedStr,
        max_sensitivity: Option<u16>,
        max_category: Option<u16>,
    ) -> PyResult<PyContext> {
        SecurityContext::parse_with(&text, &limits(py, max_sensitivity, max_category)?)
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "context", &text, &e))
    }

    /// Parses a raw ``security.selinux`` value as the kernel stores it:
    /// exactly one trailing NUL byte is stripped; any other NUL, or bytes
    /// that are not UTF-8, raise :class:`ParseError`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, raw: &[u8]) -> PyResult<PyContext> {
        SecurityContext::try_from(raw)
            .map(PyContext)
            .map_err(|e| errors::parse_bytes_error(py, raw, &e))
    }

    /// Builds a context from its fields (``range`` a Range, a Level, text,
    /// or ``None`` for a context without MLS field), checking the names as
    /// the parser does.
    #[staticmethod]
    #[pyo3(signature = (user, role, r#type, range = None))]
    fn from_parts(
        py: Python<'_>,
        user: Cow<'_, str>,
        role: Cow<'_, str>,
        r#type: Cow<'_, str>,
        range: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyContext> {
        let range = range.map(|r| range_arg(py, r)).transpose()?;
        SecurityContext::new(&user, &role, &r#type, range)
            .map(PyContext)
            .map_err(|e| {
                let text = format!("{user}:{role}:{type}", r#type = r#type);
                errors::parse_error(py, "context", &text, &e)
            })
    }

    /// The SELinux user (``system_u``).
    #[getter]
    fn user(&self) -> &str {
        self.0.user()
    }

    /// The role (``system_r``, ``object_r``).
    #[getter]
    fn role(&self) -> &str {
        self.0.role()
    }

    /// The type (``container_t``).
    #[getter]
    fn r#type(&self) -> &str {
        self.0.type_()
    }

    /// The MLS range, or ``None`` for a context without MLS field.
    #[getter]
    fn range(&self) -> Option<PyRange> {
        self.0.range().map(|r| PyRange(*r))
    }

    /// The low (current) level, or ``None``.
    #[getter]
    fn level(&self) -> Option<PyLevel> {
        self.0.level().map(|l| PyLevel(*l))
    }

    /// The high level (clearance), or ``None``.
    #[getter]
    fn high(&self) -> Option<PyLevel> {
        self.0.high_level().map(|l| PyLevel(*l))
    }

    /// The same context with another user.
    fn with_user(&self, py: Python<'_>, user: Cow<'_, str>) -> PyResult<PyContext> {
        self.0
            .with_user(&user)
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "user", &user, &e))
    }

    /// The same context with another role.
    fn with_role(&self, py: Python<'_>, role: Cow<'_, str>) -> PyResult<PyContext> {
        self.0
            .with_role(&role)
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "role", &role, &e))
    }

    /// The same context with another type (``container_file_t``).
    fn with_type(&self, py: Python<'_>, r#type: Cow<'_, str>) -> PyResult<PyContext> {
        self.0
            .with_type(&r#type)
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "type", &r#type, &e))
    }

    /// The same context at the single level ``level`` (a Level or text):
    /// ``ctx.with_level("s0:c1,c2")`` is a container's private label.
    fn with_level(&self, py: Python<'_>, level: &Bound<'_, PyAny>) -> PyResult<PyContext> {
        Ok(PyContext(self.0.with_level(level_arg(py, level)?)))
    }

    /// The same context with the range ``range`` (a Range, a Level or
    /// text).
    fn with_range(&self, py: Python<'_>, range: &Bound<'_, PyAny>) -> PyResult<PyContext> {
        Ok(PyContext(self.0.with_range(range_arg(py, range)?)))
    }

    /// The same context without MLS field (``user:role:type``).
    fn without_range(&self) -> PyContext {
        PyContext(self.0.without_range())
    }

    /// The bytes to store in the ``security.selinux`` xattr: the canonical
    /// text and one NUL byte, as libselinux writes it.
    fn to_xattr_value<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.to_xattr_value())
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        match other.cast::<PyContext>() {
            Ok(o) => Ok(obj(py, compare(Some(self.0.cmp(&o.get().0)), op)).unbind()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self) -> u64 {
        hash_of(&self.0)
    }

    fn __str__(&self) -> &str {
        self.0.as_str()
    }

    fn __repr__(&self) -> String {
        format!("Context('{}')", self.0)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((py.get_type::<PyContext>().into_any(), (self.0.to_string(),)))
    }
}
