//! Access decisions on Debian's policy (skipped when it is not installed):
//! one cached decision, and uncached ones over 1,000 queries drawn from the
//! policy's allow rules (source and target types taken from the rules'
//! attributes, so each decision walks real attribute sets).
//!
//!     cargo bench -p selinux-mcs --bench access
#![allow(clippy::unwrap_used)] // a bench: a panic is the failure report

use criterion::{criterion_group, criterion_main, Criterion};
use selinux_mcs::policydb::Policy;
use selinux_mcs::SecurityContext;

const POLICY: &str = "/etc/selinux/default/policy/policy.33";

fn queries(p: &Policy) -> Vec<(SecurityContext, SecurityContext, u32)> {
    let mut out = vec![];
    let step = (p.rules().len() / 1000).max(1);
    for r in p.rules().iter().step_by(step).take(1000) {
        let pick = |v: u16| {
            let t = &p.types()[v as usize - 1];
            p.members_of(t)
                .iter()
                .next()
                .map(|b| p.types()[b as usize].name.to_string())
        };
        let (Some(s), Some(t)) = (pick(r.source), pick(r.target)) else {
            continue;
        };
        let sc = format!("system_u:object_r:{s}:s0:c1,c2").parse().unwrap();
        let tc = format!("system_u:object_r:{t}:s0:c1,c3").parse().unwrap();
        out.push((sc, tc, u32::from(r.class)));
    }
    out
}

fn bench(c: &mut Criterion) {
    if !std::path::Path::new(POLICY).exists() {
        eprintln!("skipped: no {POLICY}");
        return;
    }
    let policy = Policy::from_path(POLICY).unwrap();
    let t = std::time::Instant::now();
    let access = policy.access();
    eprintln!("index built in {:?}", t.elapsed());
    let qs = queries(&policy);
    let mut i = 0;
    c.bench_function("compute_av uncached (Debian policy)", |b| {
        b.iter(|| {
            let (s, t, class) = &qs[i % qs.len()];
            i += 1;
            access.compute_av_reason(s, t, *class, u32::MAX).unwrap()
        })
    });
    let (s, t, class) = &qs[0];
    access.compute_av_value(s, t, *class).unwrap();
    c.bench_function("compute_av cached (Debian policy)", |b| {
        b.iter(|| access.compute_av_value(s, t, *class).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
