//! C ABI for `selinux-mcs`. The full binding surface is built in a later
//! issue; for now it exposes the library version so the crate links.

use std::ffi::c_char;

/// The library version as a NUL-terminated static string; never free it.
#[no_mangle]
pub extern "C" fn selinux_mcs_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
