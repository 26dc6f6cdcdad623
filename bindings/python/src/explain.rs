//! `explain` and `check`: the documents `relabel explain --json` and
//! `relabel check --json` print, as Python dicts.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{json, Value};

use selinux_mcs::explain::Explanation;
use selinux_mcs::mcs::{ConstrainedTypes, Permission};
use selinux_mcs::policy::Translations;

use crate::context::PyContext;
use crate::errors::{self, obj};
use crate::path::PathArg;
use crate::policydb::{verdict_json, PyPolicy};

/// A JSON value as the Python object `json.loads` would make.
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => obj(py, *b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => obj(py, i),
            (None, Some(u)) => obj(py, u),
            _ => obj(py, n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => obj(py, s.as_str()),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A context argument and the text it was given as (a `Context` is given
/// as its canonical text).
fn context_and_text(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
) -> PyResult<(selinux_mcs::SecurityContext, String)> {
    if let Ok(c) = value.cast::<PyContext>() {
        let ctx = c.get().0.clone();
        let text = ctx.to_string();
        return Ok((ctx, text));
    }
    let ctx = crate::context::context_arg(py, value)?;
    Ok((ctx, value.extract::<String>()?))
}

/// Explains a context (a Context or its text) field by field, as the dict
/// ``relabel explain --json`` prints: ``context`` (the text as given),
/// ``canonical``, ``user``, ``role``, ``type``, ``range`` (or ``None``),
/// ``low`` and ``high`` (each ``{"sensitivity": "s0", "categories": ["c1",
/// ...]}``, or ``None``), ``meaning`` (one sentence) and ``translation``
/// (the range's name in ``setrans``, a setrans.conf path, or ``None``).
/// With ``policy`` (a :class:`Policy`) also ``policy``: ``valid``,
/// ``invalid`` (``{"rule", "message"}`` or ``None``), ``primary_type``,
/// ``type_aliases``, ``type_attributes``, ``mcs_constrained``.
#[pyfunction]
#[pyo3(signature = (context, *, policy = None, setrans = None))]
pub fn explain<'py>(
    py: Python<'py>,
    context: &Bound<'py, PyAny>,
    policy: Option<PyRef<'py, PyPolicy>>,
    setrans: Option<PathArg>,
) -> PyResult<Bound<'py, PyAny>> {
    let (ctx, given) = context_and_text(py, context)?;
    let mut explanation = match setrans {
        Some(PathArg(path)) => {
            let t = py
                .detach(|| Translations::from_path(&path))
                .map_err(|e| errors::policy_error(py, &e))?;
            Explanation::with_translations(&ctx, &t)
        }
        None => Explanation::new(&ctx),
    };
    if let Some(p) = &policy {
        explanation = explanation.with_policy(p.policy());
    }
    json_to_py(py, &explanation.to_json(&given))
}

/// May ``process`` read, write or create ``file`` (Contexts or their
/// text)? The dict ``relabel check --json`` prints: one entry per
/// permission (``perms``, default read, write and create) with
/// ``allowed`` and ``reason``, then ``missing_categories`` (the categories
/// the process lacks), ``mode`` and ``constrained_by``.
///
/// Without ``policy``, only MCS is evaluated (``mode == "mcs-only"``):
/// process types outside the built-in list of MCS-constrained types (plus
/// ``constrained``) pass. With a :class:`Policy` the answer is the
/// kernel's (``mode == "policy"``): type enforcement, conditional rules
/// under the booleans (defaults, or ``booleans``, a dict of name to bool),
/// constraints and MLS constraints, role allow and bounds, for class
/// ``tclass``; each permission then also has ``rule`` (``te``,
/// ``constraint``, ``mls``, ``rbac``, ``bounds`` or ``None``),
/// ``booleans`` that would allow it, ``audited`` and ``permissive``.
#[pyfunction]
#[pyo3(signature = (
    process, file, *, policy = None, tclass = "file", perms = None,
    booleans = None, constrained = None,
))]
#[allow(clippy::too_many_arguments)] // keyword arguments, as `relabel check` has options
pub fn check<'py>(
    py: Python<'py>,
    process: &Bound<'py, PyAny>,
    file: &Bound<'py, PyAny>,
    policy: Option<PyRef<'py, PyPolicy>>,
    tclass: &str,
    perms: Option<Vec<String>>,
    booleans: Option<HashMap<String, bool>>,
    constrained: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let process = crate::context::context_arg(py, process)?;
    let file = crate::context::context_arg(py, file)?;
    let perms = perms.unwrap_or_else(|| vec!["read".into(), "write".into(), "create".into()]);
    if let Some(p) = policy {
        if constrained.is_some() {
            return Err(errors::invalid(
                py,
                "constrained applies to the MCS-only answer; with a policy the constrained types are the policy's",
            ));
        }
        let access = p.access_for(py, booleans.as_ref())?;
        let names: Vec<&str> = perms.iter().map(String::as_str).collect();
        let verdicts = access
            .borrow_dependent()
            .explain(&process, &file, tclass, &names)
            .map_err(|e| errors::access_error(py, &e))?;
        let mut doc = serde_json::Map::new();
        let mut missing: Vec<String> = vec![];
        for v in &verdicts {
            let (entry, lacks) = verdict_json(v);
            for c in lacks {
                if !missing.contains(&c) {
                    missing.push(c);
                }
            }
            doc.insert(v.permission.clone(), entry);
        }
        doc.insert("missing_categories".into(), json!(missing));
        doc.insert("mode".into(), json!("policy"));
        doc.insert("constrained_by".into(), json!(p.source()));
        return json_to_py(py, &Value::Object(doc));
    }
    if booleans.is_some() || tclass != "file" {
        return Err(errors::invalid(
            py,
            "tclass and booleans need a policy (policy=Policy(...)); without one only MCS on files is evaluated",
        ));
    }
    let mut types = ConstrainedTypes::builtin();
    for t in constrained.unwrap_or_default() {
        types.insert(t);
    }
    let mut doc = serde_json::Map::new();
    let mut missing = None;
    for name in &perms {
        let p: Permission = name
            .parse()
            .map_err(|e: selinux_mcs::UnknownName| errors::invalid(py, e.to_string()))?;
        let d = types.decide(&process, &file, p);
        // Read and write need the same categories; create may also fail on
        // the range, which is no missing category.
        missing.get_or_insert_with(|| d.missing_categories());
        doc.insert(
            p.name().to_owned(),
            json!({"allowed": d.allowed(), "reason": d.reason().to_string()}),
        );
    }
    let missing: Vec<String> = missing
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_string())
        .collect();
    doc.insert("missing_categories".into(), json!(missing));
    doc.insert("mode".into(), json!("mcs-only"));
    doc.insert("constrained_by".into(), json!("built-in list"));
    json_to_py(py, &Value::Object(doc))
}
