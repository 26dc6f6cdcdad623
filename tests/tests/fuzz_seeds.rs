//! Runs every fuzz seed through the same checks as its fuzz target, so the
//! corpora are exercised by `cargo test` without a fuzzer.

use selinux_mcs::SecurityContext;
use selinux_mcs_tests::workspace_root;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = workspace_root().join("fuzz/corpus").join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("readable corpus").path();
        let data = std::fs::read(&path).expect("readable seed");
        out.push((path.display().to_string(), data));
    }
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

#[test]
fn parse_context_seeds() {
    let seeds = seeds("parse_context");
    let mut accepted = 0;
    for (path, data) in &seeds {
        if let Ok(ctx) = SecurityContext::try_from(data.as_slice()) {
            accepted += 1;
            let printed = ctx.to_string();
            let again: SecurityContext = printed
                .parse()
                .unwrap_or_else(|e| panic!("{path}: {printed}: {e}"));
            assert_eq!(again, ctx, "{path}");
            assert_eq!(again.to_string(), printed, "{path}");
        }
    }
    assert!(
        accepted > 10 && accepted < seeds.len(),
        "{accepted} of {} seeds accepted",
        seeds.len()
    );
}
