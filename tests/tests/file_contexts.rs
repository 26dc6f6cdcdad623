//! file_contexts on the Debian-style fixture under tests/data/policy: every
//! lookup in lookups.txt must give what libselinux 3.4's selabel_lookup gave
//! (lookups.expected, recorded with bench/c/selabel_bench.c), plus the
//! fixture's other files.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::Path;

use selinux_mcs::policy::{FileContexts, Root};
use selinux_mcs::FileKind;
use selinux_mcs_tests::data_file;

fn root() -> Root {
    Root::new(data_file("policy/etc/selinux"))
        .with_containers_contexts(data_file("policy/does-not-exist"))
}

fn fixture() -> FileContexts {
    let path = root().file_contexts_path().expect("fixture config");
    FileContexts::from_path(path).expect("fixture file_contexts loads")
}

fn kind(word: &str) -> Option<FileKind> {
    (word != "-").then(|| word.parse().expect("kind in lookups.txt"))
}

#[test]
fn fixture_is_debian_sized_and_layered() {
    let fc = fixture();
    assert!(fc.len() > 600, "{} rules", fc.len());
    let names: Vec<String> = fc
        .sources()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "file_contexts",
            "file_contexts.homedirs",
            "file_contexts.local",
            "file_contexts.subs_dist",
            "file_contexts.subs"
        ]
    );
}

#[test]
fn every_lookup_matches_libselinux() {
    let fc = fixture();
    let expected = std::fs::read_to_string(data_file("policy/lookups.expected")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in expected.lines() {
        let mut f = line.split('\t');
        let (path, k, want) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let got = fc
            .lookup(path, kind(k))
            .map_or_else(|| "<<none>>".to_owned(), |c| c.to_string());
        if got != want {
            let rule = fc
                .lookup_rule(path, kind(k))
                .map(|r| format!("{}:{}: {r}", r.source().display(), r.line()));
            failures.push(format!(
                "{path} [{k}]: libselinux {want}, ours {got} (rule {rule:?})"
            ));
        }
        checked += 1;
    }
    assert!(checked > 1000);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A differential check on any file_contexts, against lookups recorded with
/// `bench/c/selabel_bench.c lookup`: runs only when
/// `SELINUX_MCS_DIFF_FILE_CONTEXTS` and `SELINUX_MCS_DIFF_EXPECTED` are set.
/// ```text
/// find / -xdev -printf '%p\t%y\n' | sed 's/\tf$/\tfile/;s/\td$/\tdir/;s/\tl$/\tsymlink/;s/\tc$/\tchr/;s/\tb$/\tblk/;s/\tp$/\tfifo/;s/\ts$/\tsock/' > /tmp/req
/// target/selabel_bench lookup /etc/selinux/default/contexts/files/file_contexts < /tmp/req > /tmp/expected
/// SELINUX_MCS_DIFF_FILE_CONTEXTS=/etc/selinux/default/contexts/files/file_contexts \
///   SELINUX_MCS_DIFF_EXPECTED=/tmp/expected cargo test -p selinux-mcs-tests --test file_contexts
/// ```
#[test]
fn differential_against_recorded_libselinux_lookups() {
    let (Ok(fc_path), Ok(expected)) = (
        std::env::var("SELINUX_MCS_DIFF_FILE_CONTEXTS"),
        std::env::var("SELINUX_MCS_DIFF_EXPECTED"),
    ) else {
        return;
    };
    let fc = FileContexts::from_path(&fc_path).unwrap();
    let expected = std::fs::read(&expected).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in expected.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        use std::os::unix::ffi::OsStrExt;
        let mut f = line.split(|&b| b == b'\t');
        let (path, k, want) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let path = Path::new(std::ffi::OsStr::from_bytes(path));
        let k = kind(std::str::from_utf8(k).unwrap());
        let got = fc
            .lookup(path, k)
            .map_or_else(|| "<<none>>".to_owned(), |c| c.to_string());
        if got.as_bytes() != want {
            failures.push(format!(
                "{} [{k:?}]: libselinux {}, ours {got}",
                path.display(),
                String::from_utf8_lossy(want)
            ));
        }
        n += 1;
    }
    eprintln!("{n} lookups compared, {} mismatches", failures.len());
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(50)].join("\n")
    );
}
