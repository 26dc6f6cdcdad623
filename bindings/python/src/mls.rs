//! `Level` and `Range`: MLS levels, ranges, dominance, glb/lub.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyString, PyTuple};

use selinux_mcs::mls::{
    calculate_glb_lub as glb_lub_text, Category, CategorySet, GlbLubError, Level, LevelMathError,
    Limits, MlsRange, Sensitivity,
};

use crate::errors::{self, obj, Exc};

/// The parser's limits from the optional keyword arguments: the defaults
/// are `s15` and `c1023` (refpolicy's MLS policy).
pub fn limits(
    py: Python<'_>,
    max_sensitivity: Option<u16>,
    max_category: Option<u16>,
) -> PyResult<Limits> {
    let default = Limits::default();
    let category = match max_category {
        None => default.max_category(),
        Some(n) => Category::new(n).ok_or_else(|| {
            errors::invalid(
                py,
                format!("max_category {n}: categories go up to c{}", Category::MAX),
            )
        })?,
    };
    let sensitivity = max_sensitivity.map_or(default.max_sensitivity(), Sensitivity::new);
    Ok(Limits::new(sensitivity, category))
}

pub fn hash_of(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// An ordering as the answer to a rich comparison; `None` is incomparable,
/// where every comparison but `!=` is false.
pub fn compare(ord: Option<Ordering>, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Some(Ordering::Equal),
        CompareOp::Ne => ord != Some(Ordering::Equal),
        CompareOp::Lt => ord == Some(Ordering::Less),
        CompareOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CompareOp::Gt => ord == Some(Ordering::Greater),
        CompareOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn text<'a>(value: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Cow<'a, str>> {
    match value.cast::<PyString>() {
        Ok(s) => s.to_cow(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "expected a {what} or str, got {}",
            value.get_type().name()?
        ))),
    }
}

/// A `Level` or the text of one.
pub fn level_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Level> {
    if let Ok(l) = value.cast::<PyLevel>() {
        return Ok(l.get().0);
    }
    let t = text(value, "Level")?;
    t.parse::<Level>()
        .map_err(|e| errors::parse_error(py, "level", &t, &e))
}

/// A `Range`, a `Level` (a range of one level) or the text of a range.
pub fn range_arg(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<MlsRange> {
    if let Ok(r) = value.cast::<PyRange>() {
        return Ok(r.get().0);
    }
    if let Ok(l) = value.cast::<PyLevel>() {
        return Ok(MlsRange::single(l.get().0));
    }
    let t = text(value, "Range")?;
    t.parse::<MlsRange>()
        .map_err(|e| errors::parse_error(py, "range", &t, &e))
}

fn math_error(py: Python<'_>, e: &LevelMathError) -> PyErr {
    let kind = match e {
        LevelMathError::HighDoesNotDominateLow { .. } => "high-does-not-dominate-low",
        LevelMathError::Disjoint { .. } => "disjoint",
        _ => "other",
    };
    Exc::InvalidArgument.err(py, e.to_string(), &[("kind", obj(py, kind))])
}

/// An MLS level: a sensitivity and a set of categories (`s0:c1,c2`).
///
/// Comparisons are dominance: ``a >= b`` when ``a``'s sensitivity is at
/// least ``b``'s and its categories include ``b``'s. Two levels may be
/// incomparable (``s0:c1`` and ``s0:c2``): then ``<``, ``<=``, ``>`` and
/// ``>=`` are all false. Equal levels hash alike, so levels work in sets
/// and as dict keys; text prints in the kernel's canonical form.
///
/// >>> Level("s0:c2,c1") >= Level("s0:c1")
/// True
#[pyclass(frozen, freelist = 256, module = "selinux_mcs", name = "Level")]
#[derive(Clone, Debug)]
pub struct PyLevel(pub Level);

#[pymethods]
impl PyLevel {
    /// Parses a level such as ``s0`` or ``s0:c1,c5.c9``; categories in any
    /// order, with duplicates and overlaps, are folded. Raises
    /// :class:`ParseError` (with the byte offset) on bad text, a
    /// sensitivity above ``s15`` or a category above ``c1023``
    /// (:meth:`parse` takes other limits).
    #[new]
    fn new(py: Python<'_>, text: PyBackedStr) -> PyResult<PyLevel> {
        text.parse::<Level>()
            .map(PyLevel)
            .map_err(|e| errors::parse_error(py, "level", &text, &e))
    }

    /// Parses ``text`` as ``Level(text)`` does, with the highest
    /// sensitivity ``max_sensitivity`` (default 15) and the highest
    /// category ``max_category`` (default 1023).
    #[staticmethod]
    #[pyo3(signature = (text, *, max_sensitivity = None, max_category = None))]
    fn parse(
        py: Python<'_>,
        text: PyBackedStr,
        max_sensitivity: Option<u16>,
        max_category: Option<u16>,
    ) -> PyResult<PyLevel> {
        Level::parse_with(&text, &limits(py, max_sensitivity, max_category)?)
            .map(PyLevel)
            .map_err(|e| errors::parse_error(py, "level", &text, &e))
    }

    /// The level with sensitivity ``sensitivity`` and the categories
    /// numbered in ``categories`` (each 0 to 1023).
    #[staticmethod]
    #[pyo3(signature = (sensitivity, categories = Vec::new()))]
    fn from_parts(py: Python<'_>, sensitivity: u16, categories: Vec<u16>) -> PyResult<PyLevel> {
        let mut set = CategorySet::new();
        for n in categories {
            let c = Category::new(n).ok_or_else(|| {
                errors::invalid(
                    py,
                    format!("category c{n}: categories go up to c{}", Category::MAX),
                )
            })?;
            set.insert(c);
        }
        Ok(PyLevel(Level::new(Sensitivity::new(sensitivity), set)))
    }

    /// ``s0``, no categories: the level every container may read.
    #[staticmethod]
    fn s0() -> PyLevel {
        PyLevel(Level::s0())
    }

    /// The sensitivity's number (``0`` for ``s0``).
    #[getter]
    fn sensitivity(&self) -> u16 {
        self.0.sensitivity().number()
    }

    /// The categories' numbers, ascending.
    #[getter]
    fn categories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let numbers: Vec<u16> = self.0.categories().iter().map(|c| c.number()).collect();
        PyTuple::new(py, numbers)
    }

    /// Whether this level dominates ``other`` (a Level or its text): same
    /// as ``self >= other``.
    fn dominates(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.0.dominates(&level_arg(py, other)?))
    }

    /// Whether neither level dominates the other.
    fn is_incomparable(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.0.is_incomparable(&level_arg(py, other)?))
    }

    /// The greatest lower bound: the lower sensitivity and the common
    /// categories.
    fn glb(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyLevel> {
        Ok(PyLevel(self.0.glb(&level_arg(py, other)?)))
    }

    /// The least upper bound: the higher sensitivity and all categories
    /// of both.
    fn lub(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyLevel> {
        Ok(PyLevel(self.0.lub(&level_arg(py, other)?)))
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        match other.cast::<PyLevel>() {
            Ok(o) => Ok(obj(py, compare(self.0.partial_cmp(&o.get().0), op)).unbind()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self) -> u64 {
        hash_of(&self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Level('{}')", self.0)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((py.get_type::<PyLevel>().into_any(), (self.0.to_string(),)))
    }
}

/// An MLS range ``LOW-HIGH`` (``s0-s0:c0.c1023``), whose high level
/// dominates its low level; a single level prints without ``-HIGH``.
///
/// Comparisons are containment: ``a >= b`` when ``a`` contains ``b``
/// (``b.low`` dominates ``a.low`` and ``a.high`` dominates ``b.high``);
/// ``level in range`` asks whether a level lies within the range.
#[pyclass(frozen, freelist = 64, module = "selinux_mcs", name = "Range")]
#[derive(Clone, Debug)]
pub struct PyRange(pub MlsRange);

#[pymethods]
impl PyRange {
    /// ``Range("s0-s0:c0.c1023")`` parses a range (a Range or a Level is
    /// taken as it is); ``Range(low, high)`` builds one from two levels
    /// (Level or text). Raises :class:`ParseError` on bad text (including a
    /// high level that does not dominate the low one; limits as in
    /// ``Level(text)``, :meth:`parse` takes others),
    /// :class:`InvalidArgumentError` (``kind`` =
    /// ``high-does-not-dominate-low``) when two given levels make no range.
    #[new]
    #[pyo3(signature = (low, high = None))]
    fn new(
        py: Python<'_>,
        low: &Bound<'_, PyAny>,
        high: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyRange> {
        match high {
            Some(high) => MlsRange::new(level_arg(py, low)?, level_arg(py, high)?)
                .map(PyRange)
                .map_err(|e| math_error(py, &e)),
            None => range_arg(py, low).map(PyRange),
        }
    }

    /// Parses ``text`` as ``Range(text)`` does, with the highest
    /// sensitivity ``max_sensitivity`` (default 15) and the highest
    /// category ``max_category`` (default 1023).
    #[staticmethod]
    #[pyo3(signature = (text, *, max_sensitivity = None, max_category = None))]
    fn parse(
        py: Python<'_>,
        text: PyBackedStr,
        max_sensitivity: Option<u16>,
        max_category: Option<u16>,
    ) -> PyResult<PyRange> {
        MlsRange::parse_with(&text, &limits(py, max_sensitivity, max_category)?)
            .map(PyRange)
            .map_err(|e| errors::parse_error(py, "range", &text, &e))
    }

    /// The low level.
    #[getter]
    fn low(&self) -> PyLevel {
        PyLevel(*self.0.low())
    }

    /// The high level.
    #[getter]
    fn high(&self) -> PyLevel {
        PyLevel(*self.0.high())
    }

    /// Whether low and high are the same level.
    fn is_single(&self) -> bool {
        self.0.is_single()
    }

    /// Whether ``other`` lies within this range: a Level (or text of one
    /// without ``-``) between low and high, or a whole Range contained in
    /// this one.
    fn contains(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        if let Ok(l) = other.cast::<PyLevel>() {
            return Ok(self.0.contains_level(&l.get().0));
        }
        Ok(self.0.contains(&range_arg(py, other)?))
    }

    fn __contains__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.contains(py, other)
    }

    /// The part two ranges have in common, as go-selinux's
    /// ``CalculateGlbLub`` computes it: the higher of the low sensitivities
    /// with the common low categories, to the lower of the high
    /// sensitivities with the common high categories. Raises
    /// :class:`InvalidArgumentError` with ``kind`` ``disjoint`` when the
    /// ranges do not overlap, and ``high-does-not-dominate-low`` where
    /// go-selinux would return a range the kernel rejects.
    fn glb_lub(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyRange> {
        self.0
            .glb_lub(&range_arg(py, other)?)
            .map(PyRange)
            .map_err(|e| math_error(py, &e))
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(o) = other.cast::<PyRange>() else {
            return Ok(py.NotImplemented());
        };
        let (a, b) = (&self.0, &o.get().0);
        let ord = match (a.contains(b), b.contains(a)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        };
        Ok(obj(py, compare(ord, op)).unbind())
    }

    fn __hash__(&self) -> u64 {
        hash_of(&self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Range('{}')", self.0)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((py.get_type::<PyRange>().into_any(), (self.0.to_string(),)))
    }
}

/// go-selinux's ``CalculateGlbLub`` on text: each of ``source`` and
/// ``target`` is ``LOW`` or ``LOW-HIGH``; the result is
/// :meth:`Range.glb_lub` of the two. Raises :class:`ParseError` for text
/// that does not parse, :class:`InvalidArgumentError` (``kind``
/// ``disjoint`` or ``high-does-not-dominate-low``) when there is no valid
/// common range.
#[pyfunction]
pub fn calculate_glb_lub(py: Python<'_>, source: &str, target: &str) -> PyResult<PyRange> {
    glb_lub_text(source, target)
        .map(PyRange)
        .map_err(|e| match &e {
            GlbLubError::Source(p) => errors::parse_error(py, "source range", source, p),
            GlbLubError::Target(p) => errors::parse_error(py, "target range", target, p),
            GlbLubError::Math(m) => math_error(py, m),
            _ => errors::invalid(py, e.to_string()),
        })
}
