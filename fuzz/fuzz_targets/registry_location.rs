//! Fuzzes registry locations (`--db`, `$SELINUX_MCS_DB`: a path or an
//! `etcd://` URL); see `tests/src/fuzz.rs` for what is checked.
#![no_main]

#[path = "../../tests/src/fuzz.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::registry_location(data));
