//! Fuzzes the AVC record parser and `Why`; see `tests/src/fuzz.rs` for
//! what is checked.
#![no_main]

#[path = "../../tests/src/fuzz.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::avc(data));
