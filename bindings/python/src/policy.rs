//! `FileContexts`: file_contexts rules and lookups.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use selinux_mcs::policy::{FileContexts, Root, Rule};
use selinux_mcs::FileKind;

use crate::context::PyContext;
use crate::errors::{self, obj, path_obj};
use crate::path::PathArg;

fn kind_arg(py: Python<'_>, kind: Option<&str>) -> PyResult<Option<FileKind>> {
    kind.map(|k| {
        k.parse::<FileKind>()
            .map_err(|e| errors::invalid(py, e.to_string()))
    })
    .transpose()
}

/// The rules of a ``file_contexts`` file (with its ``.homedirs``,
/// ``.local``, ``.subs_dist`` and ``.subs`` companions), read in PCRE2's
/// dialect as libselinux reads them; lookups answer as ``selabel_lookup``
/// does. Loading releases the GIL.
#[pyclass(frozen, module = "selinux_mcs", name = "FileContexts")]
#[derive(Debug)]
pub struct PyFileContexts(FileContexts);

#[pymethods]
impl PyFileContexts {
    /// Loads ``path`` (a ``file_contexts`` file) and the companions that
    /// exist beside it. Raises :class:`PolicyError` naming the file and
    /// line of a bad rule.
    #[new]
    fn new(py: Python<'_>, path: PathArg) -> PyResult<PyFileContexts> {
        let path = path.0;
        py.detach(|| FileContexts::from_path(&path))
            .map(PyFileContexts)
            .map_err(|e| errors::policy_error(py, &e))
    }

    /// The rules of one file given as text (no companions).
    #[classmethod]
    fn from_string(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        text: String,
    ) -> PyResult<PyFileContexts> {
        py.detach(|| FileContexts::from_str(&text))
            .map(PyFileContexts)
            .map_err(|e| errors::policy_error(py, &e))
    }

    /// The configured policy's file_contexts under ``root`` (default
    /// ``/etc/selinux``; ``SELINUXTYPE`` from its ``config``).
    #[classmethod]
    #[pyo3(signature = (root = None))]
    fn system(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        root: Option<PathArg>,
    ) -> PyResult<PyFileContexts> {
        let root = root.map_or_else(|| PathBuf::from(Root::DEFAULT), |r| r.0);
        py.detach(|| Root::new(root).file_contexts())
            .map(PyFileContexts)
            .map_err(|e| errors::policy_error(py, &e))
    }

    /// The context the rules give ``path``, or ``None`` when no rule
    /// applies or the winning rule says ``<<none>>``. ``kind`` is the
    /// file's kind (``file``, ``dir``, ``symlink``, ``chr``, ``blk``,
    /// ``fifo``, ``sock``, or a rule flag such as ``-d``); ``None`` lets
    /// every rule apply. The path is looked up as written (``//`` and a
    /// trailing ``/`` folded, substitutions applied); nothing is read
    /// from disk.
    #[pyo3(signature = (path, kind = None))]
    fn lookup(
        &self,
        py: Python<'_>,
        path: PathArg,
        kind: Option<&str>,
    ) -> PyResult<Option<PyContext>> {
        let path = path.0;
        let kind = kind_arg(py, kind)?;
        Ok(self.0.lookup(&path, kind).map(PyContext))
    }

    /// The winning rule for ``path``, ``<<none>>`` rules included, as a
    /// dict (``regex``, ``kind`` or ``None``, ``context`` or ``None`` for
    /// ``<<none>>``, ``source`` file, ``line``), or ``None``.
    #[pyo3(signature = (path, kind = None))]
    fn lookup_rule<'py>(
        &self,
        py: Python<'py>,
        path: PathArg,
        kind: Option<&str>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let path = path.0;
        let kind = kind_arg(py, kind)?;
        self.0
            .lookup_rule(&path, kind)
            .map(|r| rule_dict(py, r))
            .transpose()
    }

    /// ``path`` as the rules see it: duplicate and trailing slashes
    /// removed, substitutions applied.
    fn substitute<'py>(&self, py: Python<'py>, path: PathArg) -> Bound<'py, PyAny> {
        let path = path.0;
        path_obj(py, &self.0.substitute(&path))
    }

    /// The files read, in order.
    #[getter]
    fn sources<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyAny>> {
        self.0.sources().iter().map(|p| path_obj(py, p)).collect()
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __repr__(&self) -> String {
        format!("FileContexts({} rules)", self.0.len())
    }
}

fn rule_dict<'py>(py: Python<'py>, r: &Rule) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("regex", r.regex())?;
    d.set_item("kind", r.file_kind().map(|k| k.name()))?;
    d.set_item("context", r.context().map(|c| PyContext(c.clone())))?;
    d.set_item("source", path_obj(py, r.source()))?;
    d.set_item("line", obj(py, r.line()))?;
    Ok(d)
}
