//! The logic of the tests/vm suite, apart from the kernel: context and level
//! generators, and the comparison of our answers with an oracle's. The
//! binary (`vm-guest`) plugs in the real kernel (selinuxfs); the unit tests
//! below plug in a fake one, so this builds and tests on any host.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngCore};
use selinux_mcs::mcs::{decide, Permission};
use selinux_mcs::mls::Limits;
use selinux_mcs::SecurityContext;

/// The answers a kernel gives (through selinuxfs in the guest).
pub trait Kernel {
    /// `/sys/fs/selinux/context`: `Ok(Some(canonical))` when the loaded
    /// policy accepts `ctx`, `Ok(None)` when it refuses it (EINVAL).
    fn canonicalize(&mut self, ctx: &[u8]) -> io::Result<Option<String>>;
    /// `/sys/fs/selinux/access`: the allowed vector for `scon` on `tcon` in
    /// class `tclass` (policy values).
    fn access(&mut self, scon: &str, tcon: &str, tclass: u16) -> io::Result<u32>;
}

// ---------------------------------------------------------------- check 1

/// User:role:type prefixes for generated contexts. The first ones are valid
/// in the test policy (Debian's default plus tests/vm/container.cil); the
/// others exercise rejections that depend on the policy, not on MLS syntax.
pub const PREFIXES: &[(&str, u32)] = &[
    ("system_u:object_r:container_file_t", 40),
    ("system_u:system_r:container_t", 15),
    ("unconfined_u:object_r:user_home_t", 5),
    ("system_u:object_r:svirt_image_t", 5),
    // An alias: the kernel prints the primary name (container_file_t).
    ("system_u:object_r:svirt_sandbox_file_t", 2),
    // user_u may only have s0.
    ("user_u:user_r:user_t", 2),
    // Not authorized: system_u has no user_r.
    ("system_u:user_r:container_t", 1),
    ("nosuch_u:object_r:container_file_t", 1),
    ("system_u:object_r:nosuch_t", 1),
];

/// Hand-picked inputs, always part of the generated corpus: the cases the
/// issue names and DESIGN.md's examples.
pub const FIXED_MLS: &[&str] = &[
    "s0",
    "s0-s0",
    "s0-s0:c0.c1023",
    "s0:c0.c1023",
    "s0:c0.c1023-s0:c0.c1023",
    "s0:c1023",
    "s0:c1024",
    "s0:c01",
    "s00",
    "s01",
    "s0:c0",
    "s0:c00",
    "s0:c5.c1",
    "s0:c5.c5",
    "s0:c1,c1",
    "s0:c2,c0,c1",
    "s0:c1.c3,c2",
    "s0:c0.c1",
    "s0:c0,c1,c2",
    "s0:c0,c2,c3,c4,c6,c7",
    "s0:c5,c2",
    "s0:c187.c191,c833",
    "s0:c60.c63,c64",
    "s0:c63,c64",
    "s0:c62,c63",
    "s0:c63.c65",
    "s0:c127,c128,c129",
    "s0:c1-s0",
    "s0:c1-s0:c2",
    "s0:c1-s0:c1,c2",
    "s0-s0:c1,c2",
    "s0:",
    "s0:c1:",
    "s0:c1,,c2",
    "s0:c1,",
    "s0:,c1",
    "s0-",
    "-s0",
    "s0--s0",
    "s0-s0-s0",
    "s0:c1.c2.c3",
    "s0:c1.",
    "s0:.c1",
    "s0:c",
    "s0:c-1",
    "s0:c+1",
    "s0:C1",
    "S0",
    "s",
    "s-0",
    "s1",
    "s15",
    "s16",
    "s0-s1",
    "s0 ",
    " s0",
    "s0\t",
    "s0:c1 ",
    "s0:c1\n",
    "s0:c1x",
    "s0:c1,c2junk",
    "s0:c1-s0:c1,c2:",
    "s0:c99999999999",
    "s0:c4294967297",
    "s4294967296",
    "s0:c1,c2-s0:c1.c3,c5",
    "s0:c0.c1023-s0",
    "s0-s0:c0.c1023,c5",
    "",
    ":",
];

/// Whole contexts without an MLS field or with a broken prefix.
pub const FIXED_WHOLE: &[&str] = &[
    "system_u:object_r:container_file_t",
    "system_u:object_r:container_file_t:",
    "system_u:object_r",
    "system_u::container_file_t:s0",
    ":object_r:container_file_t:s0",
    "system_u:object_r::s0",
    "system_u:object_r:container_file_t::s0",
    "system_u:object_r:container_file_t:s0:c1::c2",
    " system_u:object_r:container_file_t:s0",
    "system_u :object_r:container_file_t:s0",
    "system_u:object_r:container_file_t :s0",
    "system_u:system_r:svirt_lxc_net_t:s0:c186,c641",
    "system_u:system_r:svirt_lxc_net_t:s0:c641,c186",
    "user_u:user_r:user_t:s0",
    "user_u:user_r:user_t:s0:c1",
    "user_u:user_r:user_t:s0-s0:c0.c1023",
];

/// A category set as numbers, for the generators.
pub type Cats = BTreeSet<u32>;

fn random_cats(rng: &mut impl Rng) -> Cats {
    let mut set = Cats::new();
    match rng.random_range(0..10) {
        0 => {}
        1 | 2 => {
            // An MCS pair.
            set.insert(rng.random_range(0..1024));
            set.insert(rng.random_range(0..1024));
        }
        3 | 4 => {
            for _ in 0..rng.random_range(1..9) {
                set.insert(rng.random_range(0..1024));
            }
        }
        5 | 6 => {
            // Runs around 64-bit chunk boundaries (ebitmap nodes).
            for _ in 0..rng.random_range(1..4) {
                let chunk = rng.random_range(0..16u32) * 64;
                let start = (chunk + rng.random_range(0..8)).saturating_sub(4).min(1023);
                let len = rng.random_range(1..6);
                for c in start..(start + len).min(1024) {
                    set.insert(c);
                }
            }
        }
        7 => {
            // A long run and a few singles.
            let a = rng.random_range(0..1000);
            let b = rng.random_range(a..1024);
            set.extend(a..=b);
            for _ in 0..rng.random_range(0..4) {
                set.insert(rng.random_range(0..1024));
            }
        }
        8 => {
            // Dense within a window.
            let base = rng.random_range(0..960);
            for c in base..base + 64 {
                if rng.random_bool(0.6) {
                    set.insert(c);
                }
            }
        }
        _ => {
            set.extend(0..1024);
            if rng.random_bool(0.5) {
                set.remove(&rng.random_range(0..1024));
            }
        }
    }
    set
}

/// Renders `set` as a category list the way a human might write it:
/// runs written out or as `cA.cB`, overlapping ranges, duplicates, any order.
fn render_cats(set: &Cats, rng: &mut impl Rng) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &c in set {
        match runs.last_mut() {
            Some((_, hi)) if *hi + 1 == c => *hi = c,
            _ => runs.push((c, c)),
        }
    }
    let mut items: Vec<String> = Vec::new();
    for (lo, hi) in runs {
        if lo == hi || (hi - lo < 6 && rng.random_bool(0.3)) {
            items.extend((lo..=hi).map(|c| format!("c{c}")));
        } else if hi - lo >= 3 && rng.random_bool(0.2) {
            // Two overlapping ranges.
            let mid = rng.random_range(lo + 1..hi);
            items.push(format!("c{lo}.c{mid}"));
            items.push(format!("c{}.c{hi}", mid - 1));
        } else {
            items.push(format!("c{lo}.c{hi}"));
        }
    }
    if !items.is_empty() && rng.random_bool(0.15) {
        let dup = items[rng.random_range(0..items.len())].clone();
        items.push(dup);
    }
    if rng.random_bool(0.4) {
        items.shuffle(rng);
    }
    items.join(",")
}

fn render_level(sens: u32, set: &Cats, rng: &mut impl Rng) -> String {
    if set.is_empty() {
        format!("s{sens}")
    } else {
        format!("s{sens}:{}", render_cats(set, rng))
    }
}

/// One random MLS field: a level or a range, mostly well-formed.
pub fn random_mls(rng: &mut impl Rng) -> String {
    let sens = if rng.random_bool(0.03) {
        rng.random_range(1..17)
    } else {
        0
    };
    let low = random_cats(rng);
    match rng.random_range(0..4) {
        0 | 1 => render_level(sens, &low, rng),
        2 => {
            // A valid range: high is a superset of low.
            let mut high = low.clone();
            high.extend(random_cats(rng));
            let l = render_level(sens, &low, rng);
            let h = render_level(sens, &high, rng);
            format!("{l}-{h}")
        }
        _ => {
            // Any two levels: often invalid (high does not dominate low).
            let high = random_cats(rng);
            let l = render_level(sens, &low, rng);
            let h = render_level(if rng.random_bool(0.9) { 0 } else { sens }, &high, rng);
            format!("{l}-{h}")
        }
    }
}

const NOISE: &[&str] = &[
    ":", ",", ".", "-", "s", "c", "0", "1", "9", " ", "\t", "x", "c0", "s0", ".c5", ",c1", "-s0",
    "::",
];

/// Breaks `mls` in one of several ways (most results are invalid).
pub fn mutate(mls: &str, rng: &mut impl Rng) -> String {
    let mut s = mls.to_owned();
    let pos = |rng: &mut dyn RngCore, s: &str| -> usize {
        let boundaries: Vec<usize> = (0..=s.len()).filter(|&i| s.is_char_boundary(i)).collect();
        boundaries[rng.random_range(0..boundaries.len())]
    };
    match rng.random_range(0..8) {
        0 => {
            let p = pos(rng, &s);
            let noise = NOISE.choose(rng).copied().unwrap_or(":");
            s.insert_str(p, noise);
        }
        1 => {
            if !s.is_empty() {
                let p = pos(rng, &s[..s.len() - 1]);
                s.remove(p);
            }
        }
        2 => {
            let noise = NOISE.choose(rng).copied().unwrap_or(":");
            s.push_str(noise);
        }
        3 => s = s.replacen('c', "c0", 1),
        4 => {
            // A reversed or empty range.
            let a = rng.random_range(0..1024);
            let b = rng.random_range(0..=a);
            s.push_str(&format!(",c{a}.c{b}"));
        }
        5 => s.push_str(&format!(",c{}", rng.random_range(1020..1100))),
        6 => s = s.replacen(',', ",,", 1),
        _ => {
            let extra = random_mls(rng);
            s = format!("{s}-{extra}");
        }
    }
    s
}

/// The generated corpus for check 1: the fixed cases and `n` random ones.
pub fn generate(n: usize, rng: &mut impl Rng) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(n + FIXED_MLS.len() * 2 + FIXED_WHOLE.len());
    for mls in FIXED_MLS {
        out.push(format!("system_u:object_r:container_file_t:{mls}"));
        out.push(format!("system_u:system_r:container_t:{mls}"));
    }
    out.extend(FIXED_WHOLE.iter().map(|s| (*s).to_owned()));
    let total: u32 = PREFIXES.iter().map(|(_, w)| w).sum();
    while out.len() < n {
        let mut pick = rng.random_range(0..total);
        let mut prefix = PREFIXES[0].0;
        for (p, w) in PREFIXES {
            if pick < *w {
                prefix = p;
                break;
            }
            pick -= w;
        }
        let mut mls = random_mls(rng);
        if rng.random_bool(0.25) {
            mls = mutate(&mls, rng);
        }
        out.push(format!("{prefix}:{mls}"));
    }
    out
}

/// What happened to one input in check 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Both accept with byte-identical canonical text.
    AgreeAccept,
    /// Both reject.
    AgreeReject,
    /// Skipped: not something a single write can carry (empty, NUL, too long).
    Skipped(&'static str),
    /// The kernel's answer depends on the policy (names, authorizations,
    /// aliases, defined sensitivities), not on MLS structure.
    Policy(&'static str),
    /// A real disagreement.
    Disagree {
        /// What we said.
        ours: String,
        /// What the kernel said.
        kernel: String,
    },
}

/// The longest input written to the kernel (selinuxfs transactions hold
/// less than a page).
pub const MAX_INPUT: usize = 4000;

/// Compares our parser with the kernel on one input.
pub fn compare_context(input: &[u8], kernel: &mut dyn Kernel) -> io::Result<Outcome> {
    if input.is_empty() {
        return Ok(Outcome::Skipped("empty (a zero-length write)"));
    }
    if input.contains(&0) {
        return Ok(Outcome::Skipped("holds a NUL (the kernel stops there)"));
    }
    if input.len() > MAX_INPUT {
        return Ok(Outcome::Skipped("longer than a selinuxfs transaction"));
    }
    let ours = match std::str::from_utf8(input) {
        Ok(text) => text.parse::<SecurityContext>(),
        Err(_) => SecurityContext::try_from(input),
    };
    let theirs = kernel.canonicalize(input)?;
    Ok(match (ours, theirs) {
        (Err(_), None) => Outcome::AgreeReject,
        (Err(e), Some(k)) => Outcome::Disagree {
            ours: format!("reject: {e}"),
            kernel: format!("accept: {k}"),
        },
        (Ok(ctx), Some(k)) => {
            let mine = ctx.to_string();
            if mine == k {
                Outcome::AgreeAccept
            } else if mls_part(&mine) == mls_part(&k) && prefix_part(&mine) != prefix_part(&k) {
                Outcome::Policy("the kernel prints an alias's primary name")
            } else {
                Outcome::Disagree {
                    ours: format!("accept: {mine}"),
                    kernel: format!("accept: {k}"),
                }
            }
        }
        (Ok(ctx), None) => classify_rejection(&ctx, kernel)?,
    })
}

/// Ours accepts, the kernel refuses: find out whether the policy is why.
fn classify_rejection(ctx: &SecurityContext, kernel: &mut dyn Kernel) -> io::Result<Outcome> {
    let Some(range) = ctx.range() else {
        return Ok(Outcome::Policy(
            "no MLS field: an MLS-enabled policy needs one (mls_context_to_sid)",
        ));
    };
    let base = format!("{}:object_r:{}:s0", ctx.user(), ctx.type_());
    if kernel.canonicalize(base.as_bytes())?.is_none() {
        return Ok(Outcome::Policy("unknown user or type"));
    }
    if SecurityContext::parse_with(ctx.as_str(), &Limits::MCS).is_err() {
        return Ok(Outcome::Policy("a sensitivity the policy does not define"));
    }
    let object = format!("{}:object_r:{}:{range}", ctx.user(), ctx.type_());
    if kernel.canonicalize(object.as_bytes())?.is_some() {
        return Ok(Outcome::Policy(
            "role not authorized for the user or type, or range outside the user's",
        ));
    }
    Ok(Outcome::Disagree {
        ours: format!("accept: {ctx}"),
        kernel: "reject: EINVAL".to_owned(),
    })
}

/// Everything after the third `:`.
fn mls_part(ctx: &str) -> &str {
    ctx.splitn(4, ':').nth(3).unwrap_or("")
}

/// user:role:type.
fn prefix_part(ctx: &str) -> &str {
    let mls = mls_part(ctx);
    &ctx[..ctx.len() - mls.len()]
}

/// Counts for a check-1 run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Inputs seen.
    pub inputs: usize,
    /// Both accepted, same text.
    pub agree_accept: usize,
    /// Both rejected.
    pub agree_reject: usize,
    /// Skipped, with reasons.
    pub skipped: usize,
    /// Policy-dependent, by reason, with up to 3 examples each.
    pub policy: Vec<(&'static str, usize, Vec<String>)>,
    /// Disagreements: input, ours, kernel's.
    pub disagreements: Vec<(String, String, String)>,
}

impl Tally {
    /// Adds one outcome.
    pub fn add(&mut self, input: &[u8], outcome: Outcome) {
        self.inputs += 1;
        let shown = String::from_utf8_lossy(input).into_owned();
        match outcome {
            Outcome::AgreeAccept => self.agree_accept += 1,
            Outcome::AgreeReject => self.agree_reject += 1,
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Policy(why) => match self.policy.iter_mut().find(|(w, _, _)| *w == why) {
                Some((_, n, ex)) => {
                    *n += 1;
                    if ex.len() < 3 {
                        ex.push(shown);
                    }
                }
                None => self.policy.push((why, 1, vec![shown])),
            },
            Outcome::Disagree { ours, kernel } => self.disagreements.push((shown, ours, kernel)),
        }
    }

    /// The report.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let policy: usize = self.policy.iter().map(|(_, n, _)| n).sum();
        let _ = writeln!(
            s,
            "check1: inputs={} agree-accept={} agree-reject={} policy-dependent={} skipped={} disagreements={}",
            self.inputs,
            self.agree_accept,
            self.agree_reject,
            policy,
            self.skipped,
            self.disagreements.len()
        );
        for (why, n, ex) in &self.policy {
            let _ = writeln!(s, "check1: policy-dependent ({why}): {n}, e.g. {ex:?}");
        }
        for (input, ours, kernel) in &self.disagreements {
            let _ = writeln!(
                s,
                "check1 DISAGREE input={input:?} ours={ours:?} kernel={kernel:?}"
            );
        }
        s
    }
}

// ---------------------------------------------------------------- check 2

/// A random MCS level or range for a process or a file.
pub fn random_mcs_range(rng: &mut impl Rng) -> String {
    let pair = |rng: &mut dyn RngCore| {
        let a = rng.random_range(0..16u32);
        let mut b = rng.random_range(0..16u32);
        if a == b {
            b = (b + 1) % 16;
        }
        let mut set = Cats::new();
        set.insert(a);
        set.insert(b);
        set
    };
    // Small category numbers so that subsets and supersets happen often.
    let small = |rng: &mut dyn RngCore| {
        let mut set = Cats::new();
        for _ in 0..rng.random_range(0..4) {
            set.insert(rng.random_range(0..16u32));
        }
        set
    };
    let low: Cats = match rng.random_range(0..4) {
        0 => Cats::new(),
        1 => pair(rng),
        _ => small(rng),
    };
    let fmt = |set: &Cats| {
        let mut s = String::from("s0");
        for (i, c) in set.iter().enumerate() {
            s.push(if i == 0 { ':' } else { ',' });
            let _ = write!(s, "c{c}");
        }
        s
    };
    match rng.random_range(0..6) {
        0 => format!("s0-{}", fmt(&low)),
        1 => {
            let mut high = low.clone();
            high.extend(small(rng));
            format!("{}-{}", fmt(&low), fmt(&high))
        }
        2 if rng.random_bool(0.3) => "s0-s0:c0.c1023".to_owned(),
        _ => fmt(&low),
    }
}

/// Permissions check 2 compares.
pub const CHECKED: [Permission; 3] = [Permission::Read, Permission::Write, Permission::Create];

/// One (process, file) comparison: the permissions where we and the kernel
/// differ, as (permission, ours, kernel's).
pub fn compare_access(
    process: &str,
    file: &str,
    tclass: u16,
    bits: &[u32; 3],
    kernel: &mut dyn Kernel,
) -> io::Result<Vec<(Permission, bool, bool)>> {
    let p: SecurityContext = process
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{process}: {e}")))?;
    let f: SecurityContext = file
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{file}: {e}")))?;
    let allowed = kernel.access(process, file, tclass)?;
    let mut out = Vec::new();
    for (perm, bit) in CHECKED.iter().zip(bits) {
        let ours = decide(&p, &f, *perm).allowed();
        let theirs = allowed & bit != 0;
        if ours != theirs {
            out.push((*perm, ours, theirs));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// A fake kernel that uses our own parser (and a tiny "policy").
    struct Fake;
    impl Kernel for Fake {
        fn canonicalize(&mut self, ctx: &[u8]) -> io::Result<Option<String>> {
            let Ok(text) = std::str::from_utf8(ctx) else {
                return Ok(None);
            };
            match SecurityContext::parse_with(text, &Limits::MCS) {
                Ok(c) if c.range().is_some() && c.user() != "nosuch_u" => Ok(Some(c.to_string())),
                _ => Ok(None),
            }
        }
        fn access(&mut self, _: &str, _: &str, _: u16) -> io::Result<u32> {
            Ok(0b111)
        }
    }

    #[test]
    fn generated_corpus_is_big_and_mixed() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let corpus = generate(5000, &mut rng);
        assert!(corpus.len() >= 5000);
        let ok = corpus
            .iter()
            .filter(|c| c.parse::<SecurityContext>().is_ok())
            .count();
        assert!(ok > 1000 && ok < corpus.len() - 500, "valid: {ok}");
    }

    #[test]
    fn classification_against_a_fake_kernel() {
        let mut k = Fake;
        let o = |s: &str, k: &mut Fake| compare_context(s.as_bytes(), k).expect("fake");
        assert_eq!(o("u:r:t:s0:c2,c1", &mut k), Outcome::AgreeAccept);
        assert_eq!(o("u:r:t:s0:c2.c1", &mut k), Outcome::AgreeReject);
        assert!(matches!(o("u:r:t", &mut k), Outcome::Policy(_)));
        assert!(matches!(o("nosuch_u:r:t:s0", &mut k), Outcome::Policy(_)));
        assert!(matches!(o("u:r:t:s3", &mut k), Outcome::Policy(_)));
        assert!(matches!(o("", &mut k), Outcome::Skipped(_)));
    }

    #[test]
    fn access_levels_parse() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..1000 {
            let r = random_mcs_range(&mut rng);
            let ctx = format!("system_u:system_r:container_t:{r}");
            assert!(ctx.parse::<SecurityContext>().is_ok(), "{ctx}");
        }
        let d = compare_access(
            "system_u:system_r:container_t:s0:c1,c2",
            "system_u:object_r:container_file_t:s0:c1",
            6,
            &[1, 2, 4],
            &mut Fake,
        )
        .expect("fake");
        assert!(d.is_empty(), "{d:?}");
    }
}
