//! `selinux_mcs._native`: the Python extension behind the `selinux_mcs`
//! package (pyo3, abi3: one wheel for CPython 3.8 and later).
//!
//! Each file wraps one module of the library and registers its classes
//! and functions in [`register`]; errors become the exceptions of
//! `selinux_mcs._errors` ([`errors`]). Like the C bindings, this layer only
//! translates arguments and results: every decision is the library's.
//!
//! Calls that do file or database I/O release the GIL (`Python::detach`):
//! label reads and writes, relabel walks, every registry call, loading a
//! policy or file_contexts. Parsing and comparing stay under the GIL: they
//! take tens of nanoseconds, less than releasing it would.

use pyo3::prelude::*;

mod context;
mod errors;
mod explain;
mod label;
mod mcs;
mod mls;
mod path;
mod policy;
mod policydb;

/// Registers one area of the API in the module.
fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Contexts, levels and ranges.
    m.add_class::<context::PyContext>()?;
    m.add_class::<mls::PyLevel>()?;
    m.add_class::<mls::PyRange>()?;
    m.add_function(wrap_pyfunction!(mls::calculate_glb_lub, m)?)?;
    // Explanations and MCS decisions.
    m.add_function(wrap_pyfunction!(explain::explain, m)?)?;
    m.add_function(wrap_pyfunction!(explain::check, m)?)?;
    // The pair registry.
    m.add_class::<mcs::PyRegistry>()?;
    m.add_class::<mcs::PyEntry>()?;
    // Labels.
    m.add_function(wrap_pyfunction!(label::get_label, m)?)?;
    m.add_function(wrap_pyfunction!(label::set_label, m)?)?;
    m.add_function(wrap_pyfunction!(label::relabel, m)?)?;
    m.add_class::<label::PyReport>()?;
    m.add_class::<label::PyFailure>()?;
    // Policy files and the binary policy.
    m.add_class::<policy::PyFileContexts>()?;
    m.add_class::<policydb::PyPolicy>()?;
    m.add_class::<policydb::PyAccess>()?;
    m.add_class::<policydb::PyAccessVector>()?;
    Ok(())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register(m)?;
    m.add(
        "DEFAULT_FILE_CONTEXT",
        selinux_mcs::label::DEFAULT_FILE_CONTEXT,
    )?;
    m.add("XATTR_NAME", selinux_mcs::label::XATTR_NAME)?;
    Ok(())
}
