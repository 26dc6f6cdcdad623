//! selinux-mcs against libselinux, in one process, on the same inputs
//! (feature `libselinux`):
//!
//! ```text
//! cargo bench -p selinux-mcs --features libselinux --bench vs_libselinux
//! ```
//!
//! - `context_parse_print/*`: the 100,000 canonical contexts of `benches/context.rs`,
//!   each parsed and printed: ours (`parse` + `write_to` into a reused
//!   buffer) against libselinux's `context_new` + `context_str` (+
//!   `context_free`), called through the `selinux` crate. libselinux only
//!   splits the text at `:`; ours also checks and canonicalizes the levels.
//! - `file_contexts_lookup/*`: the lookups of `benches/file_contexts.rs` on
//!   the same file_contexts (the system's when installed, else a generated
//!   one of more than 5,000 rules; `$SELINUX_MCS_BENCH_FILE_CONTEXTS`
//!   overrides): `FileContexts::lookup` against `selabel_lookup_raw` on a
//!   `selabel_open(SELABEL_OPT_PATH)` handle (through
//!   `system::SelabelFileContexts`, which adds a mutex lock per lookup, and
//!   through the `selinux` crate's handle directly).
//!
//! Criterion prints throughput in elements/s; divide the time by the
//! number of elements for the time per context or per lookup.

use std::ffi::CString;
use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selinux::label::back_end::File as FileBackEnd;
use selinux_mcs::policy::FileContexts;
use selinux_mcs::system::SelabelFileContexts;
use selinux_mcs::{FileKind, SecurityContext};

#[path = "common/corpus.rs"]
mod corpus;
#[path = "file_contexts.rs"]
#[allow(dead_code)]
mod file_contexts_bench;

fn contexts(c: &mut Criterion) {
    let corpus = corpus::corpus(100_000, true);
    let c_corpus: Vec<CString> = corpus
        .iter()
        .map(|s| CString::new(s.as_str()).expect("no NUL"))
        .collect();
    let mut g = c.benchmark_group("context_parse_print");
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.sample_size(20);
    let mut buf = String::with_capacity(256);
    g.bench_function("selinux-mcs", |b| {
        b.iter(|| {
            for s in &corpus {
                let ctx: SecurityContext = s.parse().expect("valid");
                buf.clear();
                ctx.write_to(&mut buf).expect("writes to a String");
                black_box(&buf);
            }
        })
    });
    g.bench_function("libselinux", |b| {
        b.iter(|| {
            for s in &c_corpus {
                let ctx = selinux::OpaqueSecurityContext::from_c_str(s).expect("context_new");
                black_box(ctx.to_c_string().expect("context_str"));
            }
        })
    });
    g.finish();
}

fn lookups(c: &mut Criterion) {
    let input = file_contexts_bench::input();
    let ours = FileContexts::from_path(&input.file_contexts).expect("file_contexts loads");
    let theirs = SelabelFileContexts::open(&input.file_contexts).expect("selabel_open");
    let c_path = CString::new(input.file_contexts.display().to_string()).expect("no NUL");
    let opts = [(
        selinux_sys::SELABEL_OPT_PATH,
        c_path.as_ptr().cast::<std::ffi::c_void>(),
    )];
    let raw = selinux::label::Labeler::<FileBackEnd>::new(&opts, true).expect("selabel_open");
    let requests: Vec<(String, Option<FileKind>)> = input.requests;
    eprintln!(
        "file_contexts: {} ({}, {} rules); {} lookups per iteration",
        input.file_contexts.display(),
        input.origin,
        ours.len(),
        requests.len()
    );
    // Both compile regexes on first use: warm up once, and check that both
    // give the same answers on these inputs.
    for (path, kind) in &requests {
        let a = ours.lookup(path, *kind).map(|c| c.to_string());
        let b = theirs
            .lookup_text(Path::new(path), *kind)
            .expect("selabel_lookup");
        let b = b.map(|t| t.parse::<SecurityContext>().expect("parses").to_string());
        assert_eq!(a, b, "{path} {kind:?}");
    }

    let mut g = c.benchmark_group("file_contexts_lookup");
    g.sample_size(30);
    g.throughput(Throughput::Elements(requests.len() as u64));
    g.bench_function("selinux-mcs", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (path, kind) in &requests {
                found += usize::from(ours.lookup(black_box(path.as_str()), *kind).is_some());
            }
            found
        })
    });
    g.bench_function("libselinux", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (path, kind) in &requests {
                found += usize::from(
                    raw.look_up_by_path(
                        black_box(path.as_str()),
                        selinux::FileAccessMode::new(kind.map_or(0, FileKind::mode_bits)),
                    )
                    .is_ok(),
                );
            }
            found
        })
    });
    g.bench_function("libselinux_via_labeler_trait", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for (path, kind) in &requests {
                found += usize::from(
                    theirs
                        .lookup_text(Path::new(black_box(path.as_str())), *kind)
                        .is_ok_and(|c| c.is_some()),
                );
            }
            found
        })
    });
    g.finish();

    let mut g = c.benchmark_group("file_contexts_load");
    g.sample_size(10);
    g.bench_function("selinux-mcs", |b| {
        b.iter(|| FileContexts::from_path(black_box(&input.file_contexts)).map(|fc| fc.len()))
    });
    g.bench_function("libselinux", |b| {
        b.iter(|| SelabelFileContexts::open(black_box(&input.file_contexts)).is_ok())
    });
    g.finish();
}

criterion_group!(benches, contexts, lookups);
criterion_main!(benches);
