//! Every seed of the policy-file fuzz corpora (`fuzz/corpus/<target>/`)
//! through the same body the fuzz target runs: none may panic.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use selinux_mcs_tests::{fuzz, workspace_root};

fn run_seeds(target: &str, body: fn(&[u8])) {
    let dir = workspace_root().join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| body(&data));
        assert!(result.is_ok(), "seed {} panicked", path.display());
        n += 1;
    }
    assert!(n >= 3, "{target}: only {n} seeds");
}

#[test]
fn parse_context_seeds() {
    run_seeds("parse_context", fuzz::parse_context);
}

#[test]
fn config_seeds() {
    run_seeds("config", fuzz::config);
}

#[test]
fn customizable_types_seeds() {
    run_seeds("customizable_types", fuzz::customizable_types);
}

#[test]
fn mcs_pair_seeds() {
    run_seeds("mcs_pair", fuzz::mcs_pair);
}

#[test]
fn registry_location_seeds() {
    run_seeds("registry_location", fuzz::registry_location);
}

#[test]
fn label_option_seeds() {
    run_seeds("label_option", fuzz::label_option);
}

#[test]
fn file_contexts_seeds() {
    run_seeds("file_contexts", fuzz::file_contexts);
}

#[test]
fn setrans_seeds() {
    run_seeds("setrans", fuzz::setrans);
}

#[test]
fn container_contexts_seeds() {
    run_seeds("container_contexts", fuzz::container_contexts);
}

#[test]
fn policydb_seeds() {
    run_seeds("policydb", fuzz::policydb);
}

proptest::proptest! {
    /// The policy loader on the fixtures with a few bytes overwritten,
    /// words near the front (counts, lengths) most often.
    #[test]
    fn mutated_policies_do_not_panic(
        version in 30u32..34,
        edits in proptest::collection::vec((0usize..6000, 0u8..=255, proptest::bool::ANY), 1..6),
    ) {
        let path = workspace_root().join(format!("tests/data/policydb/mls.{version}"));
        let mut data = std::fs::read(path).unwrap();
        for (at, byte, early) in edits {
            let at = if early { at % 512 } else { at } % data.len();
            data[at] = byte;
        }
        fuzz::policydb(&data);
    }
}

#[test]
fn avc_seeds() {
    run_seeds("avc", fuzz::avc);
}

proptest::proptest! {
    /// A poor man's fuzzing for `cargo test`: seeds with a slice replaced by
    /// random bytes drawn from the parsers' alphabet.
    #[test]
    fn mutated_seeds_do_not_panic(
        target in 0usize..4,
        seed in 0usize..16,
        at in 0usize..4096,
        junk in "[ \t\n#=;\"/\\\\.*+?()\\[\\]{}|^$a-z0-9:,_<>-]{0,24}",
    ) {
        let (name, body): (&str, fn(&[u8])) = [
            ("file_contexts", fuzz::file_contexts as fn(&[u8])),
            ("setrans", fuzz::setrans),
            ("container_contexts", fuzz::container_contexts),
            ("mountinfo", fuzz::mountinfo),
            ("avc", fuzz::avc),
        ][target];
        let dir = workspace_root().join("fuzz/corpus").join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        seeds.sort();
        let mut data = std::fs::read(&seeds[seed % seeds.len()]).unwrap();
        let at = at.min(data.len());
        let end = (at + junk.len()).min(data.len());
        data.splice(at..end, junk.bytes());
        body(&data);
    }
}

#[test]
fn mountinfo_seeds() {
    run_seeds("mountinfo", fuzz::mountinfo);
}
