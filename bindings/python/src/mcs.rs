//! `Registry` and `Entry`: MCS pairs held in a registry shared by every
//! process on the host.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyType;

use selinux_mcs::mcs::{Entry, McsError, PairSpace, Registry};
use selinux_mcs::mls::CategorySet;

use crate::errors::{self, obj, path_obj, Exc};
use crate::mls::{level_arg, PyLevel};
use crate::path::PathArg;

/// One reservation: an owner and its pair.
#[pyclass(frozen, module = "selinux_mcs", name = "Entry")]
#[derive(Clone, Debug)]
pub struct PyEntry(pub Entry);

#[pymethods]
impl PyEntry {
    /// The owner key: a volume name, container id, pod, or ``pair:<level>``
    /// for anonymous allocations.
    #[getter]
    fn owner(&self) -> &str {
        &self.0.owner
    }

    /// The pair, as a level ``s0:cA,cB``.
    #[getter]
    fn level(&self) -> PyLevel {
        PyLevel(self.0.level)
    }

    /// When the entry was made, in seconds since the Unix epoch.
    #[getter]
    fn created(&self) -> i64 {
        self.0.created
    }

    /// Where an adopted entry was found; ``None`` for pairs allocated or
    /// reserved by name.
    #[getter]
    fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    fn __richcmp__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let Ok(o) = other.cast::<PyEntry>() else {
            return Ok(py.NotImplemented());
        };
        Ok(match op {
            CompareOp::Eq => obj(py, self.0 == o.get().0).unbind(),
            CompareOp::Ne => obj(py, self.0 != o.get().0).unbind(),
            _ => py.NotImplemented(),
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Entry(owner={}, level='{}', created={})",
            errors::repr(py, self.0.owner.as_str()),
            self.0.level,
            self.0.created
        )
    }
}

/// Why a call on a registry handle failed before or inside the library.
enum CallError {
    Closed,
    Poisoned,
    Mcs(McsError),
}

/// A persistent MCS pair registry: ``s0:cA,cB`` levels handed out so that
/// one pair has one owner across processes and crashes (an SQLite database
/// in WAL mode, ``synchronous=FULL``: when a call returns, its change is on
/// disk). The same owner always gets the same pair back.
///
/// Every call that reads or writes the database releases the GIL, so other
/// Python threads run while it waits for the disk or for another process's
/// transaction. One handle serializes its own calls; threads that want to
/// allocate in parallel can each open their own (they coordinate as
/// processes do). Use it as a context manager, or call :meth:`close`.
///
/// >>> with Registry("/tmp/mcs.db") as reg:  # doctest: +SKIP
/// ...     reg.allocate_for("volume:pgdata").level
/// Level('s0:c221,c917')
#[pyclass(frozen, module = "selinux_mcs", name = "Registry")]
#[derive(Debug)]
pub struct PyRegistry {
    inner: Mutex<Option<Registry>>,
    location: PathBuf,
    read_only: bool,
}

/// Opens the registry at `location`, allocating from `space`. The one
/// place that turns what the caller gave into a store, so that another
/// kind of location (an etcd URL) is added here alone.
fn open(
    location: &std::path::Path,
    read_only: bool,
    space: PairSpace,
) -> Result<Registry, McsError> {
    if read_only {
        Registry::open_read_only_with_space(location, space)
    } else {
        Registry::open_with_space(location, space)
    }
}

/// The pair space of a `pool` argument: categories as text (`c0.c1023`,
/// `c4.c9,c20`), with the conventional reserved pair kept out.
fn space(py: Python<'_>, pool: Option<&str>) -> PyResult<PairSpace> {
    let Some(text) = pool else {
        return Ok(PairSpace::default());
    };
    let cats: CategorySet = text
        .parse()
        .map_err(|e| errors::parse_error(py, "category list", text, &e))?;
    PairSpace::new(cats).map_err(|e| errors::mcs_error(py, &e))
}

impl PyRegistry {
    /// Runs `f` on the registry with the GIL released.
    fn call<T, F>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&Registry) -> Result<T, McsError> + Send,
    {
        let result = py.detach(|| {
            // Taken without the GIL: a thread waiting here must not keep
            // the thread holding the lock from finishing.
            let guard = self.inner.lock().map_err(|_| CallError::Poisoned)?;
            let reg = guard.as_ref().ok_or(CallError::Closed)?;
            f(reg).map_err(CallError::Mcs)
        });
        result.map_err(|e| match e {
            CallError::Closed => Exc::Registry.err(
                py,
                format!("the registry {} is closed", self.location.to_string_lossy()),
                &[("kind", obj(py, "closed"))],
            ),
            CallError::Poisoned => Exc::Registry.err(
                py,
                "the registry handle is unusable after an internal error; open the registry again",
                &[("kind", obj(py, "registry"))],
            ),
            CallError::Mcs(e) => errors::mcs_error(py, &e),
        })
    }
}

fn entries(list: Vec<Entry>) -> Vec<PyEntry> {
    list.into_iter().map(PyEntry).collect()
}

#[pymethods]
impl PyRegistry {
    /// Opens the registry at ``path`` (str, bytes or os.PathLike), creating
    /// it when the file does not exist or is empty (its directory must
    /// exist). ``read_only=True`` creates and writes nothing, and every
    /// change raises :class:`RegistryError`. A file of another program, a
    /// damaged registry or a newer schema raise :class:`RegistryError`
    /// without being written. ``pool`` limits the categories this handle
    /// draws pairs from (``"c0.c1023"`` by default; ``s0:c1022,c1023`` is
    /// never handed out); uniqueness holds across every pool.
    #[new]
    #[pyo3(signature = (path, *, read_only = false, pool = None))]
    fn new(
        py: Python<'_>,
        path: PathArg,
        read_only: bool,
        pool: Option<&str>,
    ) -> PyResult<PyRegistry> {
        let path = path.0;
        let space = space(py, pool)?;
        let reg = py
            .detach(|| open(&path, read_only, space))
            .map_err(|e| errors::mcs_error(py, &e))?;
        Ok(PyRegistry {
            inner: Mutex::new(Some(reg)),
            location: path,
            read_only,
        })
    }

    /// Opens the default registry: ``$SELINUX_MCS_DB`` when set; for root
    /// ``/var/lib/selinux-mcs/mcs.db``; for others
    /// ``$XDG_STATE_HOME/selinux-mcs/mcs.db`` or
    /// ``~/.local/state/selinux-mcs/mcs.db`` (the directory is created
    /// unless ``read_only``).
    #[classmethod]
    #[pyo3(signature = (*, read_only = false))]
    fn default(_cls: &Bound<'_, PyType>, py: Python<'_>, read_only: bool) -> PyResult<PyRegistry> {
        // A file path, or an etcd:// URL's text (etcd needs the `etcd`
        // feature, which this build does not enable: opening says so).
        let path = match Registry::default_location().map_err(|e| errors::mcs_error(py, &e))? {
            selinux_mcs::mcs::Location::File(p) => p,
            other => PathBuf::from(other.to_string()),
        };
        let reg = py
            .detach(|| {
                if read_only {
                    Registry::open_default_read_only()
                } else {
                    Registry::open_default()
                }
            })
            .map_err(|e| errors::mcs_error(py, &e))?;
        Ok(PyRegistry {
            inner: Mutex::new(Some(reg)),
            location: path,
            read_only,
        })
    }

    /// Where the registry is (the database file).
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        path_obj(py, &self.location)
    }

    /// Whether the handle was opened with ``read_only=True``.
    #[getter]
    fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether :meth:`close` was called (or the ``with`` block ended).
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.inner.lock().map_or(true, |g| g.is_none()))
    }

    /// A new pair owned by itself (owner ``pair:<level>``), drawn uniformly
    /// among the free pairs. Raises :class:`ExhaustedError` when none is
    /// free.
    fn allocate(&self, py: Python<'_>) -> PyResult<PyEntry> {
        let mut list = self.call(py, |r| r.allocate_anonymous(1))?;
        match list.pop() {
            Some(e) => Ok(PyEntry(e)),
            None => Err(Exc::Exhausted.err(py, "no pair was allocated", &[])),
        }
    }

    /// ``count`` new pairs, each owned by itself, in one transaction: all or
    /// none. Raises :class:`ExhaustedError` when fewer are free.
    fn allocate_anonymous(&self, py: Python<'_>, count: usize) -> PyResult<Vec<PyEntry>> {
        self.call(py, |r| r.allocate_anonymous(count)).map(entries)
    }

    /// The pair of ``owner`` (``"volume:pgdata"``, a container id): the one
    /// it already holds, else a new one drawn uniformly among the free
    /// pairs. Idempotent, so a volume keeps its pair across restarts.
    /// Raises :class:`ExhaustedError` when no pair is free and
    /// :class:`InvalidArgumentError` for an empty owner or one with
    /// control characters.
    fn allocate_for(&self, py: Python<'_>, owner: Cow<'_, str>) -> PyResult<PyEntry> {
        self.call(py, |r| r.allocate_for(&owner)).map(PyEntry)
    }

    /// :meth:`allocate_for` for many owners in one transaction (one
    /// ``fsync``): all get a pair, or none does.
    fn allocate_many(&self, py: Python<'_>, owners: Vec<String>) -> PyResult<Vec<PyEntry>> {
        self.call(py, |r| r.allocate_many(&owners)).map(entries)
    }

    /// Records that ``owner`` holds ``level`` (a Level or text; a pair
    /// already in use, or one a user chose). Idempotent for the same owner
    /// and level. Raises :class:`RegistryError` (``kind == "taken"``) when
    /// another owner holds the pair or the owner holds another one, and
    /// :class:`InvalidArgumentError` for a level that is not a pair or is
    /// reserved (``s0:c1022,c1023``).
    fn reserve(
        &self,
        py: Python<'_>,
        level: &Bound<'_, PyAny>,
        owner: Cow<'_, str>,
    ) -> PyResult<PyEntry> {
        let level = level_arg(py, level)?;
        self.call(py, |r| r.reserve(&level, &owner)).map(PyEntry)
    }

    /// Releases ``owner``'s pair, or with ``level=`` the pair whoever holds
    /// it. Returns the entry released, or ``None`` when there was none.
    #[pyo3(signature = (owner = None, *, level = None))]
    fn release(
        &self,
        py: Python<'_>,
        owner: Option<Cow<'_, str>>,
        level: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyEntry>> {
        let found = match (owner, level) {
            (Some(owner), None) => self.call(py, |r| r.release_owner(&owner))?,
            (None, Some(level)) => {
                let level = level_arg(py, level)?;
                self.call(py, |r| r.release_level(&level))?
            }
            _ => {
                return Err(errors::invalid(
                    py,
                    "release takes an owner or level=, not both",
                ))
            }
        };
        Ok(found.map(PyEntry))
    }

    /// The entry of ``owner``, or ``None``.
    fn get(&self, py: Python<'_>, owner: Cow<'_, str>) -> PyResult<Option<PyEntry>> {
        Ok(self.call(py, |r| r.get(&owner))?.map(PyEntry))
    }

    /// Who holds ``level`` (a Level or text), or ``None``.
    fn holder(&self, py: Python<'_>, level: &Bound<'_, PyAny>) -> PyResult<Option<PyEntry>> {
        let level = level_arg(py, level)?;
        Ok(self.call(py, |r| r.holder(&level))?.map(PyEntry))
    }

    /// Every entry, oldest first (then by owner).
    fn list(&self, py: Python<'_>) -> PyResult<Vec<PyEntry>> {
        self.call(py, |r| r.list()).map(entries)
    }

    /// How many pairs of this handle's pool are free now.
    fn available(&self, py: Python<'_>) -> PyResult<usize> {
        self.call(py, |r| r.available())
    }

    /// Runs SQLite's integrity check over the whole file; raises
    /// :class:`RegistryError` when it finds damage.
    fn check(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |r| r.check())
    }

    /// How many pairs are taken in the registry (in any pool).
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.call(py, |r| r.len())
    }

    /// A handle is true, even when the registry is empty or the handle
    /// closed (``len()`` would otherwise decide, and raise when closed).
    fn __bool__(&self) -> bool {
        true
    }

    /// Closes the database. Later calls raise :class:`RegistryError`
    /// (``kind == "closed"``); closing twice is allowed.
    fn close(&self, py: Python<'_>) {
        let taken = py.detach(|| match self.inner.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        });
        drop(taken);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Registry({}{})",
            errors::repr(py, self.location.as_os_str()),
            if self.read_only {
                ", read_only=True"
            } else {
                ""
            }
        )
    }
}
