//! Labels on files: `get_label`, `set_label`, `relabel` and its `Report`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use selinux_mcs::label::{self, Failure, Relabel, Report, Target};

use crate::context::{context_arg, PyContext};
use crate::errors::{self, path_obj};
use crate::explain::json_to_py;
use crate::mls::level_arg;
use crate::path::PathArg;

/// The label of ``path``: its ``security.selinux`` xattr, parsed. A
/// symlink's own label unless ``follow_symlinks=True``. Raises
/// :class:`LabelError` (``errno`` ``ENODATA`` for an unlabeled file,
/// ``ENOTSUP`` where the file system has no labels, ``ENOENT`` ...; ``kind``
/// ``invalid`` when the stored label is not a context). Releases the GIL.
#[pyfunction]
#[pyo3(signature = (path, *, follow_symlinks = false))]
pub fn get_label(py: Python<'_>, path: PathArg, follow_symlinks: bool) -> PyResult<PyContext> {
    let path = path.0;
    py.detach(|| {
        if follow_symlinks {
            label::get_deref(&path)
        } else {
            label::get(&path)
        }
    })
    .map(PyContext)
    .map_err(|e| errors::label_error(py, &e))
}

/// Writes ``context`` (a Context or its text) as the label of ``path``:
/// the canonical text and one NUL byte. A symlink itself is labeled unless
/// ``follow_symlinks=True``. Raises :class:`LabelError`. Releases the GIL.
#[pyfunction]
#[pyo3(signature = (path, context, *, follow_symlinks = false))]
pub fn set_label(
    py: Python<'_>,
    path: PathArg,
    context: &Bound<'_, PyAny>,
    follow_symlinks: bool,
) -> PyResult<()> {
    let path = path.0;
    let ctx = context_arg(py, context)?;
    py.detach(|| {
        if follow_symlinks {
            label::set_deref(&path, &ctx)
        } else {
            label::set(&path, &ctx)
        }
    })
    .map_err(|e| errors::label_error(py, &e))
}

/// Relabels the tree at ``path`` (or every tree of a list of paths, all
/// checked before any is written), in parallel, and returns a
/// :class:`Report`. Give exactly one target:
///
/// - ``shared=True``: the file context at ``s0``, readable by every
///   container (podman's ``:z``);
/// - ``private=level``: the file context at the container's own pair
///   (podman's ``:Z``), a Level or text;
/// - ``context=ctx``: this exact context.
///
/// ``file_context`` is the context whose user, role and type ``shared``
/// and ``private`` use (default
/// ``system_u:object_r:container_file_t:s0``). ``dry_run=True`` writes
/// nothing and counts what would change.
///
/// The root is resolved once, to a file descriptor; the walk never follows
/// a symlink inside the tree, writes only labels that differ, leaves mount
/// points alone (unless ``one_file_system=False``) and labels the root
/// last. Protected paths (``/``, ``/usr``, homes, pseudo file systems ...)
/// raise :class:`ProtectedPathError` however they are spelled; ``/etc``,
/// ``/usr``, ``/boot`` subtrees need ``force=True``. A root that cannot be
/// opened raises :class:`LabelError`; failures inside the tree are in the
/// report. The GIL is released for the whole walk.
#[pyfunction]
#[pyo3(signature = (
    path, *, shared = false, private = None, context = None, file_context = None,
    dry_run = false, force = false, threads = None, one_file_system = true,
    dereference = true, recursive = true, skip_hardlinks = false, exclude = Vec::new(),
    stop_on_first_error = false, max_failures = None,
))]
#[allow(clippy::too_many_arguments)] // one keyword argument per builder option
pub fn relabel(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    shared: bool,
    private: Option<&Bound<'_, PyAny>>,
    context: Option<&Bound<'_, PyAny>>,
    file_context: Option<&Bound<'_, PyAny>>,
    dry_run: bool,
    force: bool,
    threads: Option<usize>,
    one_file_system: bool,
    dereference: bool,
    recursive: bool,
    skip_hardlinks: bool,
    exclude: Vec<PathArg>,
    stop_on_first_error: bool,
    max_failures: Option<usize>,
) -> PyResult<PyReport> {
    let target = match (shared, private, context) {
        (true, None, None) => Target::Shared,
        (false, Some(level), None) => Target::Private(level_arg(py, level)?),
        (false, None, Some(ctx)) => Target::Context(context_arg(py, ctx)?),
        _ => {
            return Err(errors::invalid(
                py,
                "relabel needs exactly one of shared=True, private=LEVEL or context=CONTEXT",
            ))
        }
    };
    let roots: Vec<PathBuf> = if path.is_instance_of::<PyList>() || path.is_instance_of::<PyTuple>()
    {
        path.extract::<Vec<PathArg>>()?
            .into_iter()
            .map(|p| p.0)
            .collect()
    } else {
        vec![path.extract::<PathArg>()?.0]
    };
    let mut rel = Relabel::new(target);
    rel.dry_run(dry_run)
        .force(force)
        .one_file_system(one_file_system)
        .dereference(dereference)
        .recursive(recursive)
        .skip_hardlinks(skip_hardlinks)
        .stop_on_first_error(stop_on_first_error);
    if let Some(ctx) = file_context {
        rel.file_context(context_arg(py, ctx)?);
    }
    if let Some(n) = threads {
        rel.threads(n);
    }
    if let Some(n) = max_failures {
        rel.max_failures(n);
    }
    for PathArg(e) in exclude {
        rel.exclude(e);
    }
    let result = py.detach(|| match roots.as_slice() {
        [one] => rel.run(one),
        many => rel.run_all(many),
    });
    match result {
        Ok(report) => Ok(PyReport(report)),
        Err(e) => {
            let root = roots.first().cloned().unwrap_or_default();
            Err(errors::relabel_error(py, &root, &e))
        }
    }
}

/// One entry a relabel could not label.
#[pyclass(frozen, module = "selinux_mcs", name = "Failure")]
#[derive(Debug)]
pub struct PyFailure {
    path: PathBuf,
    error: Py<PyAny>,
}

#[pymethods]
impl PyFailure {
    /// The entry (the root as given, joined with the names below it).
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        path_obj(py, &self.path)
    }

    /// What went wrong: a :class:`LabelError` (not raised), with ``path``,
    /// ``errno``, ``call`` and ``kind``.
    #[getter]
    fn error(&self, py: Python<'_>) -> Py<PyAny> {
        self.error.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Failure(path={}, error={})",
            errors::repr(py, self.path.as_os_str()),
            self.error.bind(py)
        )
    }
}

fn failure(py: Python<'_>, f: &Failure) -> PyFailure {
    PyFailure {
        path: f.path.clone(),
        error: errors::label_error(py, &f.error).into_value(py).into_any(),
    }
}

/// What a relabel did. ``visited == changed + unchanged + failed``.
#[pyclass(frozen, module = "selinux_mcs", name = "Report")]
#[derive(Debug)]
pub struct PyReport(Report);

fn paths<'py>(py: Python<'py>, list: &[PathBuf]) -> Vec<Bound<'py, PyAny>> {
    list.iter().map(|p| path_obj(py, p)).collect()
}

#[pymethods]
impl PyReport {
    /// Entries examined.
    #[getter]
    fn visited(&self) -> u64 {
        self.0.visited
    }

    /// Entries whose label was changed (or, in a dry run, would be).
    #[getter]
    fn changed(&self) -> u64 {
        self.0.changed
    }

    /// Entries that already had the label (not written).
    #[getter]
    fn unchanged(&self) -> u64 {
        self.0.unchanged
    }

    /// Entries that failed.
    #[getter]
    fn failed(&self) -> u64 {
        self.0.failed
    }

    /// The failures, each a :class:`Failure` (at most ``max_failures``).
    #[getter]
    fn failures(&self, py: Python<'_>) -> Vec<PyFailure> {
        self.0.failures.iter().map(|f| failure(py, f)).collect()
    }

    /// Whether the walk stopped early (``stop_on_first_error``).
    #[getter]
    fn stopped(&self) -> bool {
        self.0.stopped
    }

    /// Mount points inside the tree that were neither labeled nor entered.
    #[getter]
    fn skipped_mounts(&self) -> u64 {
        self.0.skipped_mounts
    }

    /// Their paths.
    #[getter]
    fn mount_points<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyAny>> {
        paths(py, &self.0.mount_points)
    }

    /// Regular files with more than one link that were labeled (their other
    /// names, maybe outside the tree, share the label).
    #[getter]
    fn hardlinked(&self) -> u64 {
        self.0.hardlinked
    }

    /// Their paths.
    #[getter]
    fn hardlinks<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyAny>> {
        paths(py, &self.0.hardlinks)
    }

    /// Whether nothing failed.
    #[getter]
    fn success(&self) -> bool {
        self.0.is_success()
    }

    /// The report as the JSON document ``relabel apply --json`` prints:
    /// ``{"visited": n, "changed": n, "unchanged": n, "failed": n,
    /// "failures": [{"path": ..., "error": ...}], "skipped_mounts": n,
    /// "mount_points": [...], "hardlinked": n, "hardlinks": [...],
    /// "customized": n, "customized_paths": [...]}``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(&self.0)
            .map_err(|e| errors::invalid(py, format!("report: {e}")))?;
        json_to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(visited={}, changed={}, unchanged={}, failed={})",
            self.0.visited, self.0.changed, self.0.unchanged, self.0.failed
        )
    }
}
