//! Fuzzes the context parser on raw xattr bytes: it must never panic, and
//! whatever it accepts must print canonically and parse back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use selinux_mcs::SecurityContext;

fuzz_target!(|data: &[u8]| {
    if let Ok(ctx) = SecurityContext::try_from(data) {
        let printed = ctx.to_string();
        let again: SecurityContext = printed.parse().expect("canonical text parses");
        assert_eq!(again, ctx);
        assert_eq!(again.to_string(), printed);
    }
});
