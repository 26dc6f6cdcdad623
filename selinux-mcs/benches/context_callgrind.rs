//! Parse and canonical print of the same 100,000-context corpus as the
//! `context` benchmark, as a plain program: under callgrind it gives
//! instruction counts, which stay the same on a busy machine where wall
//! times do not.
//!
//! ```sh
//! cargo bench -p selinux-mcs --bench context_callgrind --no-run
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='context_callgrind::work' \
//!     target/release/deps/context_callgrind-* 1
//! ```
//!
//! Run directly (`cargo bench -p selinux-mcs --bench context_callgrind`) it
//! prints the mean time per context over 10 passes. `UNSORTED=1` uses the
//! corpus with lists in random order; `RANGE=1` also reads each context's
//! range (whose category sets are built on first use).

use std::fmt::Write as _;
#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

fn main() {
    let reps: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let canonical = std::env::var_os("UNSORTED").is_none();
    let with_range = std::env::var_os("RANGE").is_some();
    let corpus = corpus(100_000, canonical);
    let mut buf = String::new();
    let t = std::time::Instant::now();
    let n = work(&corpus, reps, &mut buf, with_range);
    let _ = write!(buf, "{n}");
    eprintln!("{:?} per ctx", t.elapsed() / (corpus.len() as u32 * reps));
}

#[inline(never)]
fn work(corpus: &[String], reps: u32, buf: &mut String, with_range: bool) -> usize {
    let mut n = 0;
    for _ in 0..reps {
        for s in corpus {
            let c: selinux_mcs::SecurityContext = s.parse().expect("valid");
            buf.clear();
            c.write_to(buf).expect("write");
            n += buf.len();
            if with_range {
                std::hint::black_box(c.range());
            }
        }
    }
    n
}
