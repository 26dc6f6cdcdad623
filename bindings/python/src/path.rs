//! Path arguments: `str`, `bytes` or any `os.PathLike`, as the `os`
//! module's own functions take them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// A path given from Python. pyo3's own `PathBuf` conversion refuses
/// `bytes`, which `os.fsencode` and `os.listdir(b".")` give and which
/// can name files whose names are not UTF-8.
#[derive(Debug, Clone)]
pub struct PathArg(pub PathBuf);

impl FromPyObject<'_, '_> for PathArg {
    type Error = PyErr;

    fn extract(ob: Borrowed<'_, '_, PyAny>) -> PyResult<PathArg> {
        if let Ok(s) = ob.cast::<PyString>() {
            return Ok(PathArg(PathBuf::from(&*s.to_cow()?)));
        }
        if let Ok(b) = ob.cast::<PyBytes>() {
            return Ok(PathArg(PathBuf::from(OsStr::from_bytes(b.as_bytes()))));
        }
        let fspath = ob.py().import("os")?.getattr("fspath")?.call1((ob,))?;
        if let Ok(b) = fspath.cast::<PyBytes>() {
            return Ok(PathArg(PathBuf::from(OsStr::from_bytes(b.as_bytes()))));
        }
        Ok(PathArg(fspath.extract::<PathBuf>()?))
    }
}
