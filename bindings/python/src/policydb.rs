//! `Policy`, `Access` and `AccessVector`: the kernel's binary policy, read
//! in pure Rust, and the access decisions computed from it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyType;
use serde_json::{json, Value};

use selinux_mcs::policydb::{Access, AccessVector, Denial, PermissionVerdict, Policy};
use selinux_mcs::SecurityContext;

use crate::context::{context_arg, PyContext};
use crate::errors;
use crate::explain::json_to_py;
use crate::path::PathArg;

self_cell::self_cell!(
    /// A policy and the decisions (with their cache) made over it.
    pub struct AccessCell {
        owner: Arc<Policy>,
        #[covariant]
        dependent: Access,
    }
    impl {Debug}
);

/// One permission's verdict as `relabel check --json` prints it, and the
/// categories an MLS constraint found missing.
pub fn verdict_json(v: &PermissionVerdict) -> (Value, Vec<String>) {
    let rule = v.denial.as_ref().map(|d| match d {
        Denial::TypeEnforcement { .. } => "te",
        Denial::Constraint { mls: true, .. } => "mls",
        Denial::Constraint { .. } => "constraint",
        Denial::RoleAllow { .. } => "rbac",
        Denial::Bounds { .. } => "bounds",
        _ => "other",
    });
    let booleans: Vec<String> = match &v.denial {
        Some(Denial::TypeEnforcement { booleans }) => booleans
            .iter()
            .map(|(n, s)| format!("{n}={}", if *s { "on" } else { "off" }))
            .collect(),
        _ => vec![],
    };
    let missing = match &v.denial {
        Some(Denial::Constraint {
            missing_categories, ..
        }) => missing_categories.clone(),
        _ => vec![],
    };
    let doc = json!({
        "allowed": v.allowed(),
        "reason": v.denial.as_ref().map_or("allowed by the policy".to_owned(), |d| d.to_string()),
        "rule": rule,
        "booleans": booleans,
        "audited": v.audited,
        "permissive": v.permissive,
    });
    (doc, missing)
}

fn verdicts_py<'py>(
    py: Python<'py>,
    verdicts: &[PermissionVerdict],
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    verdicts
        .iter()
        .map(|v| {
            let (mut doc, missing) = verdict_json(v);
            if let Some(map) = doc.as_object_mut() {
                map.insert("permission".into(), json!(v.permission));
                map.insert("missing_categories".into(), json!(missing));
            }
            json_to_py(py, &doc)
        })
        .collect()
}

/// A context argument parsed with the policy's limits (so that `s20` of a
/// policy with 24 sensitivities parses).
fn policy_context(
    py: Python<'_>,
    policy: &Policy,
    value: &Bound<'_, PyAny>,
) -> PyResult<SecurityContext> {
    if value.cast::<PyContext>().is_err() {
        if let Ok(text) = value.extract::<Cow<'_, str>>() {
            return SecurityContext::parse_with(&text, &policy.parse_limits())
                .map_err(|e| errors::parse_error(py, "context", &text, &e));
        }
    }
    context_arg(py, value)
}

/// What the kernel decides for a source, a target and a class: the
/// permission bits allowed (bit ``value - 1``), those audited when allowed
/// and when denied, and whether the source domain is permissive;
/// ``permissions`` names the allowed ones. ``"read" in av`` asks whether
/// a permission is allowed.
#[pyclass(frozen, module = "selinux_mcs", name = "AccessVector")]
#[derive(Debug)]
pub struct PyAccessVector {
    av: AccessVector,
    allowed_names: Vec<String>,
}

#[pymethods]
impl PyAccessVector {
    /// Permissions granted, as bits.
    #[getter]
    fn allowed(&self) -> u32 {
        self.av.allowed
    }

    /// Granted permissions that are logged (``auditallow``).
    #[getter]
    fn auditallow(&self) -> u32 {
        self.av.auditallow
    }

    /// Denied permissions that are logged (all but ``dontaudit``'s).
    #[getter]
    fn auditdeny(&self) -> u32 {
        self.av.auditdeny
    }

    /// Whether the source type is permissive (denials logged, not enforced).
    #[getter]
    fn permissive(&self) -> bool {
        self.av.permissive
    }

    /// The allowed permissions' names, in value order.
    #[getter]
    fn permissions(&self) -> Vec<String> {
        self.allowed_names.clone()
    }

    fn __contains__(&self, permission: Cow<'_, str>) -> bool {
        self.allowed_names.iter().any(|p| *p == permission)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AccessVector(allowed={:#x}, permissions={}, permissive={})",
            self.av.allowed,
            errors::repr(py, &self.allowed_names),
            if self.av.permissive { "True" } else { "False" }
        )
    }
}

fn access_vector(
    py: Python<'_>,
    access: &Access<'_>,
    source: &SecurityContext,
    target: &SecurityContext,
    tclass: &str,
) -> PyResult<PyAccessVector> {
    let policy = access.policy();
    let av = access
        .compute_av(source, target, tclass)
        .map_err(|e| errors::access_error(py, &e))?;
    let mut names: Vec<(&str, u32)> = match policy.class(tclass) {
        Some(c) => policy
            .class_permissions(c)
            .filter(|(_, v)| *v >= 1 && *v <= 32 && av.allowed & (1 << (v - 1)) != 0)
            .collect(),
        None => vec![],
    };
    names.sort_by_key(|(_, v)| *v);
    Ok(PyAccessVector {
        av,
        allowed_names: names.into_iter().map(|(n, _)| n.to_owned()).collect(),
    })
}

/// Access decisions over one policy and one set of boolean values, with a
/// cache (from :meth:`Policy.access`). Safe to share between threads.
#[pyclass(frozen, module = "selinux_mcs", name = "Access")]
#[derive(Debug)]
pub struct PyAccess {
    cell: Arc<AccessCell>,
}

#[pymethods]
impl PyAccess {
    /// The kernel's decision for ``source`` on ``target`` (Contexts or
    /// text) in class ``tclass``, as ``security_compute_av`` returns it.
    /// Raises :class:`InvalidContextError` for a context the policy does
    /// not accept, :class:`InvalidArgumentError` for an unknown class.
    fn compute_av(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
        tclass: Cow<'_, str>,
    ) -> PyResult<PyAccessVector> {
        let access = self.cell.borrow_dependent();
        let s = policy_context(py, access.policy(), source)?;
        let t = policy_context(py, access.policy(), target)?;
        access_vector(py, access, &s, &t, &tclass)
    }

    /// Each permission of ``perms`` (all of the class's when ``None``) with
    /// why it is denied, in the kernel's order (type enforcement,
    /// constraints, role allow, bounds): a list of dicts with
    /// ``permission``, ``allowed``, ``reason``, ``rule`` (``te``,
    /// ``constraint``, ``mls``, ``rbac``, ``bounds`` or ``None``),
    /// ``booleans`` (settings that would allow it), ``audited``,
    /// ``permissive`` and ``missing_categories``.
    #[pyo3(signature = (source, target, tclass = "file", perms = None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        tclass: &str,
        perms: Option<Vec<String>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let access = self.cell.borrow_dependent();
        let s = policy_context(py, access.policy(), source)?;
        let t = policy_context(py, access.policy(), target)?;
        let perms = perms.unwrap_or_default();
        let names: Vec<&str> = perms.iter().map(String::as_str).collect();
        let verdicts = access
            .explain(&s, &t, tclass, &names)
            .map_err(|e| errors::access_error(py, &e))?;
        verdicts_py(py, &verdicts)
    }

    /// The boolean values these decisions use, by name.
    #[getter]
    fn booleans(&self) -> HashMap<String, bool> {
        let access = self.cell.borrow_dependent();
        access
            .policy()
            .booleans()
            .iter()
            .zip(access.booleans())
            .map(|(b, on)| (b.name.to_string(), *on))
            .collect()
    }

    /// How many decisions are cached.
    #[getter]
    fn cached(&self) -> usize {
        self.cell.borrow_dependent().cached()
    }
}

/// The kernel's binary policy (``policy.33``, versions 30 to 33), read in
/// pure Rust: no libselinux, no kernel. Nothing in the file is trusted:
/// malformed input raises :class:`PolicyError` naming the byte offset.
///
/// ``Policy(path)`` loads a file; :meth:`system` the running system's;
/// :meth:`from_bytes` a policy in memory. Loading releases the GIL.
#[pyclass(frozen, module = "selinux_mcs", name = "Policy")]
#[derive(Debug)]
pub struct PyPolicy {
    policy: Arc<Policy>,
    source: String,
    default_access: OnceLock<Arc<AccessCell>>,
}

impl PyPolicy {
    fn wrap(policy: Policy, source: String) -> PyPolicy {
        PyPolicy {
            policy: Arc::new(policy),
            source,
            default_access: OnceLock::new(),
        }
    }

    /// The loaded policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Where it was read from (`<bytes>` for `from_bytes`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Decisions under `booleans` (defaults for those not named); the
    /// defaults' decisions are built once and kept.
    pub fn access_for(
        &self,
        py: Python<'_>,
        booleans: Option<&HashMap<String, bool>>,
    ) -> PyResult<Arc<AccessCell>> {
        match booleans {
            None => Ok(Arc::clone(self.default_access.get_or_init(|| {
                Arc::new(AccessCell::new(Arc::clone(&self.policy), |p| p.access()))
            }))),
            Some(map) => {
                let values = self
                    .policy
                    .booleans_with(map.iter().map(|(k, v)| (k.as_str(), *v)))
                    .map_err(|e| errors::access_error(py, &e))?;
                Ok(Arc::new(AccessCell::new(Arc::clone(&self.policy), |p| {
                    p.access_with(values)
                })))
            }
        }
    }
}

#[pymethods]
impl PyPolicy {
    /// Loads the binary policy at ``path`` (a regular file of at most 64
    /// MiB, or the kernel's ``/sys/fs/selinux/policy``).
    #[new]
    fn new(py: Python<'_>, path: PathArg) -> PyResult<PyPolicy> {
        let path = path.0;
        let policy = py
            .detach(|| Policy::from_path(&path))
            .map_err(|e| errors::policydb_error(py, &e))?;
        Ok(PyPolicy::wrap(policy, path.to_string_lossy().into_owned()))
    }

    /// Same as ``Policy(path)``.
    #[classmethod]
    fn from_path(_cls: &Bound<'_, PyType>, py: Python<'_>, path: PathArg) -> PyResult<PyPolicy> {
        PyPolicy::new(py, path)
    }

    /// The running system's policy: ``/sys/fs/selinux/policy`` when the
    /// kernel has one loaded, else the highest ``policy.NN`` of the
    /// configured policy under ``/etc/selinux``.
    #[classmethod]
    fn system(_cls: &Bound<'_, PyType>, py: Python<'_>) -> PyResult<PyPolicy> {
        let root = selinux_mcs::policy::Root::default();
        let (policy, path) = py
            .detach(|| {
                let path = Policy::default_path(&root)?;
                Policy::from_path(&path).map(|p| (p, path))
            })
            .map_err(|e| errors::policydb_error(py, &e))?;
        Ok(PyPolicy::wrap(policy, path.to_string_lossy().into_owned()))
    }

    /// Parses a policy from its bytes.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: Vec<u8>) -> PyResult<PyPolicy> {
        let policy = py
            .detach(|| Policy::from_bytes(&data))
            .map_err(|e| errors::policydb_error(py, &e))?;
        Ok(PyPolicy::wrap(policy, "<bytes>".into()))
    }

    /// The file the policy was read from (``<bytes>`` for
    /// :meth:`from_bytes`).
    #[getter]
    fn path(&self) -> &str {
        &self.source
    }

    /// The policy version (30 to 33).
    #[getter]
    fn version(&self) -> u32 {
        self.policy.version()
    }

    /// Whether MLS is on (it is for MCS policies too).
    #[getter]
    fn mls(&self) -> bool {
        self.policy.mls()
    }

    /// What the kernel does with unknown classes and permissions:
    /// ``deny``, ``reject`` or ``allow``.
    #[getter]
    fn handle_unknown(&self) -> &'static str {
        self.policy.handle_unknown().as_str()
    }

    /// The booleans and their default values.
    #[getter]
    fn booleans(&self) -> HashMap<String, bool> {
        self.policy
            .booleans()
            .iter()
            .map(|b| (b.name.to_string(), b.default))
            .collect()
    }

    /// Parses ``text`` with this policy's limits (a policy with 24
    /// sensitivities parses ``s20``); :class:`ParseError` on bad text.
    fn parse_context(&self, py: Python<'_>, text: Cow<'_, str>) -> PyResult<PyContext> {
        SecurityContext::parse_with(&text, &self.policy.parse_limits())
            .map(PyContext)
            .map_err(|e| errors::parse_error(py, "context", &text, &e))
    }

    /// Checks ``context`` (a Context or text) by the kernel's rules:
    /// returns ``None`` when the policy accepts it, else raises
    /// :class:`InvalidContextError` naming the first rule it breaks and a
    /// near-miss name (``unknown type container_fle_t; did you mean
    /// container_file_t?``).
    fn validate(&self, py: Python<'_>, context: &Bound<'_, PyAny>) -> PyResult<()> {
        let ctx = policy_context(py, &self.policy, context)?;
        self.policy
            .validate(&ctx)
            .map_err(|e| errors::validity_error(py, ctx.as_str(), &e))
    }

    /// Whether the policy accepts ``context`` (see :meth:`validate`).
    fn is_valid(&self, py: Python<'_>, context: &Bound<'_, PyAny>) -> PyResult<bool> {
        let ctx = policy_context(py, &self.policy, context)?;
        Ok(self.policy.validate(&ctx).is_ok())
    }

    /// The permissions of class ``tclass``, in value order (bit ``i`` of an
    /// access vector is ``permissions(tclass)[i]``). Raises
    /// :class:`InvalidArgumentError` for an unknown class.
    fn permissions(&self, py: Python<'_>, tclass: Cow<'_, str>) -> PyResult<Vec<String>> {
        let class = self
            .policy
            .class(&tclass)
            .ok_or_else(|| errors::invalid(py, format!("unknown class {tclass}")))?;
        let mut perms: Vec<(&str, u32)> = self.policy.class_permissions(class).collect();
        perms.sort_by_key(|(_, v)| *v);
        Ok(perms.into_iter().map(|(n, _)| n.to_owned()).collect())
    }

    /// The process types whose MCS categories the policy checks (those
    /// with the ``mcs_constrained_type`` attribute, aliases included).
    fn mcs_constrained_types(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .policy
            .mcs_constrained_types()
            .iter()
            .map(str::to_owned)
            .collect();
        out.sort();
        out
    }

    /// Counts like ``seinfo``'s statistics, as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(self.policy.stats())
            .map_err(|e| errors::invalid(py, format!("stats: {e}")))?;
        json_to_py(py, &value)
    }

    /// Decisions under ``booleans`` (a dict of name to bool; the others at
    /// their defaults), with their own cache. Raises
    /// :class:`InvalidArgumentError` for an unknown boolean.
    #[pyo3(signature = (booleans = None))]
    fn access(
        &self,
        py: Python<'_>,
        booleans: Option<HashMap<String, bool>>,
    ) -> PyResult<PyAccess> {
        Ok(PyAccess {
            cell: self.access_for(py, booleans.as_ref())?,
        })
    }

    /// :meth:`Access.compute_av` with the booleans at their defaults (or as
    /// ``booleans`` sets them).
    #[pyo3(signature = (source, target, tclass, *, booleans = None))]
    fn compute_av(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        target: &Bound<'_, PyAny>,
        tclass: Cow<'_, str>,
        booleans: Option<HashMap<String, bool>>,
    ) -> PyResult<PyAccessVector> {
        let cell = self.access_for(py, booleans.as_ref())?;
        let access = cell.borrow_dependent();
        let s = policy_context(py, &self.policy, source)?;
        let t = policy_context(py, &self.policy, target)?;
        access_vector(py, access, &s, &t, &tclass)
    }

    /// :meth:`Access.explain` with the booleans at their defaults (or as
    /// ``booleans`` sets them).
    #[pyo3(signature = (source, target, tclass = "file", perms = None, *, booleans = None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        target: &Bound<'py, PyAny>,
        tclass: &str,
        perms: Option<Vec<String>>,
        booleans: Option<HashMap<String, bool>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        PyAccess {
            cell: self.access_for(py, booleans.as_ref())?,
        }
        .explain(py, source, target, tclass, perms)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Policy({}, version={})",
            errors::repr(py, self.source.as_str()),
            self.policy.version()
        )
    }
}
