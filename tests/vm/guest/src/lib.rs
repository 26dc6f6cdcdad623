//! The logic of the tests/vm suite, apart from the kernel: context and level
//! generators, and the comparison of our answers with an oracle's. The
//! binary (`vm-guest`) plugs in the real kernel (selinuxfs); the unit tests
//! below plug in a fake one, so this builds and tests on any host.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, RngCore};
use selinux_mcs::mcs::{decide, Permission};
use selinux_mcs::policydb::Policy;
#[cfg(doc)]
use selinux_mcs::policydb::ValidityError;
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

/// User:role:type prefixes for generated contexts, with weights. The first
/// ones are valid in the test policy (Debian's default plus
/// tests/vm/container.cil); the others break each rule of validity that
/// depends on the policy rather than on MLS syntax. The comments say which
/// (the names [`ValidityError::rule`] gives).
pub const PREFIXES: &[(&str, u32)] = &[
    ("system_u:object_r:container_file_t", 30),
    ("system_u:system_r:container_t", 12),
    ("unconfined_u:object_r:user_home_t", 4),
    ("system_u:object_r:svirt_image_t", 4),
    ("unconfined_u:unconfined_r:unconfined_t", 3),
    ("staff_u:staff_r:staff_t", 3),
    // Aliases: the kernel prints the primary names (container_file_t,
    // container_t).
    ("system_u:object_r:svirt_sandbox_file_t", 3),
    ("system_u:system_r:svirt_lxc_net_t", 2),
    // user_range: user_u and xdm may only have s0.
    ("user_u:user_r:user_t", 3),
    ("xdm:xdm_r:xdm_t", 1),
    // user_roles: system_u has only system_r.
    ("system_u:user_r:user_t", 2),
    // role_types: system_r may not hold a file type, nor user_r container_t.
    ("system_u:system_r:container_file_t", 2),
    ("system_u:user_r:container_t", 1),
    // attribute: a set of types is never a label.
    ("system_u:object_r:file_type", 1),
    ("system_u:system_r:mcs_constrained_type", 1),
    // user, role, type: not defined.
    ("nosuch_u:object_r:container_file_t", 1),
    ("system_u:nosuch_r:container_t", 1),
    ("system_u:object_r:nosuch_t", 1),
    ("system_u:object_r:container_fle_t", 1),
];

/// The rules of validity that depend on the policy (as
/// [`ValidityError::rule`] names them): a generated corpus must make the
/// kernel refuse a context for each, so that check 1 proves we predict
/// each one.
pub const POLICY_RULES: &[&str] = &[
    "user",
    "role",
    "type",
    "attribute",
    "role_types",
    "user_roles",
    "user_range",
    "sensitivity",
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
    // libsepol 3.4 ignores what follows a second `-`; the kernel does not.
    "s0:c1-s0:c1,c2-s0",
    "s0-s0:c0.c1023-junk",
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
    "system_u:object_r:file_type:s0",
    "system_u:system_r:svirt_lxc_net_t:s0:c2,c1",
    "system_u:object_r:svirt_sandbox_file_t:s0-s0:c0.c1023",
    "system_u:system_r:container_t:s1",
    "system_u:system_r:container_t:s0-s1",
    "staff_u:sysadm_r:sysadm_t:s0-s0:c0.c1023",
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
    /// Both accept with byte-identical canonical text; `renamed` when that
    /// text names the primary of an alias the input used.
    AgreeAccept {
        /// The canonical user:role:type differs from the input's.
        renamed: bool,
    },
    /// Both reject; the rule we found broken (`syntax` when the text does
    /// not parse, else [`ValidityError::rule`]).
    AgreeReject(&'static str),
    /// Skipped: not something a single write can carry (empty, NUL, too long).
    Skipped(&'static str),
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

/// What we predict the kernel answers for `input` under `policy`: the
/// canonical text it prints (aliases replaced by primary names), or the
/// rule that makes it refuse.
pub fn predict(input: &[u8], policy: &Policy) -> Result<String, &'static str> {
    let parsed = match std::str::from_utf8(input) {
        Ok(text) => policy.parse_context(text),
        Err(_) => SecurityContext::try_from(input),
    };
    let ctx = parsed.map_err(|_| "syntax")?;
    policy
        .canonical_context(&ctx)
        .map(|c| c.to_string())
        .map_err(|e| e.rule())
}

/// Compares our prediction with the kernel on one input.
pub fn compare_context(
    input: &[u8],
    policy: &Policy,
    kernel: &mut dyn Kernel,
) -> io::Result<Outcome> {
    if input.is_empty() {
        return Ok(Outcome::Skipped("empty (a zero-length write)"));
    }
    if input.contains(&0) {
        return Ok(Outcome::Skipped("holds a NUL (the kernel stops there)"));
    }
    if input.len() > MAX_INPUT {
        return Ok(Outcome::Skipped("longer than a selinuxfs transaction"));
    }
    let ours = predict(input, policy);
    let theirs = kernel.canonicalize(input)?;
    Ok(match (ours, theirs) {
        (Err(rule), None) => Outcome::AgreeReject(rule),
        (Ok(mine), Some(k)) if mine == k => Outcome::AgreeAccept {
            renamed: prefix_part(&k).as_bytes() != prefix_bytes(input),
        },
        (ours, theirs) => Outcome::Disagree {
            ours: match ours {
                Ok(c) => format!("accept: {c}"),
                Err(rule) => format!("reject ({rule})"),
            },
            kernel: match theirs {
                Some(k) => format!("accept: {k}"),
                None => "reject: EINVAL".to_owned(),
            },
        },
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

/// user:role:type: of raw input (up to and with the third `:`).
fn prefix_bytes(input: &[u8]) -> &[u8] {
    let mut colons = 0;
    for (i, b) in input.iter().enumerate() {
        if *b == b':' {
            colons += 1;
            if colons == 3 {
                return &input[..=i];
            }
        }
    }
    input
}

/// Counts for a check-1 run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Inputs seen.
    pub inputs: usize,
    /// Both accepted, same text.
    pub agree_accept: usize,
    /// Of those, the kernel printed an alias's primary name.
    pub renamed: usize,
    /// Both rejected, by the rule we found broken, with up to 2 examples.
    pub agree_reject: BTreeMap<&'static str, (usize, Vec<String>)>,
    /// Skipped.
    pub skipped: usize,
    /// Disagreements: input, ours, kernel's.
    pub disagreements: Vec<(String, String, String)>,
}

impl Tally {
    /// Adds one outcome.
    pub fn add(&mut self, input: &[u8], outcome: Outcome) {
        self.inputs += 1;
        let shown = String::from_utf8_lossy(input).into_owned();
        match outcome {
            Outcome::AgreeAccept { renamed } => {
                self.agree_accept += 1;
                self.renamed += usize::from(renamed);
            }
            Outcome::AgreeReject(rule) => {
                let (n, ex) = self.agree_reject.entry(rule).or_default();
                *n += 1;
                if ex.len() < 2 {
                    ex.push(shown);
                }
            }
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Disagree { ours, kernel } => self.disagreements.push((shown, ours, kernel)),
        }
    }

    /// The policy-dependent rules no input was rejected for.
    pub fn rules_not_seen(&self) -> Vec<&'static str> {
        POLICY_RULES
            .iter()
            .copied()
            .filter(|r| !self.agree_reject.contains_key(r))
            .collect()
    }

    /// The report.
    pub fn report(&self) -> String {
        let mut s = String::new();
        let rejected: usize = self.agree_reject.values().map(|(n, _)| n).sum();
        let _ = writeln!(
            s,
            "check1: inputs={} agree-accept={} (alias renamed={}) agree-reject={} skipped={} disagreements={}",
            self.inputs,
            self.agree_accept,
            self.renamed,
            rejected,
            self.skipped,
            self.disagreements.len()
        );
        for (rule, (n, ex)) in &self.agree_reject {
            let _ = writeln!(s, "check1: agree-reject ({rule}): {n}, e.g. {ex:?}");
        }
        for (input, ours, kernel) in self.disagreements.iter().take(50) {
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

    /// The committed MLS fixture (tests/data/policydb/mls.conf).
    fn fixture() -> Policy {
        Policy::from_bytes(include_bytes!("../../../data/policydb/mls.33")).expect("fixture")
    }

    /// A fake kernel: our own prediction under the fixture, except that it
    /// accepts one context we refuse (to see a disagreement reported).
    struct Fake(Policy);
    const PLANTED: &str = "system_u:object_r:file_t:s0:c40";
    impl Kernel for Fake {
        fn canonicalize(&mut self, ctx: &[u8]) -> io::Result<Option<String>> {
            if ctx == PLANTED.as_bytes() {
                return Ok(Some(PLANTED.to_owned()));
            }
            Ok(predict(ctx, &self.0).ok())
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
        // Every policy-dependent prefix is drawn.
        for (prefix, _) in PREFIXES {
            let with = format!("{prefix}:");
            assert!(corpus.iter().any(|c| c.starts_with(&with)), "{prefix}");
        }
    }

    #[test]
    fn classification_against_a_fake_kernel() {
        let mut k = Fake(fixture());
        let p = fixture();
        let mut o = |s: &str| compare_context(s.as_bytes(), &p, &mut k).expect("fake");
        let accept = |renamed| Outcome::AgreeAccept { renamed };
        assert_eq!(
            o("system_u:object_r:container_file_t:s0:c2,c1"),
            accept(false)
        );
        assert_eq!(o("system_u:object_r:svirt_sandbox_file_t:s0"), accept(true));
        assert_eq!(o("system_u:object_r:file_t:secret:red"), accept(false));
        assert_eq!(
            o("system_u:object_r:file_t:s0:c2.c1"),
            Outcome::AgreeReject("syntax")
        );
        assert_eq!(o("system_u:object_r:file_t"), Outcome::AgreeReject("level"));
        assert_eq!(
            o("nosuch_u:object_r:file_t:s0"),
            Outcome::AgreeReject("user")
        );
        assert_eq!(
            o("user_u:user_r:user_t:s1"),
            Outcome::AgreeReject("user_range")
        );
        assert_eq!(
            o("system_u:object_r:domain:s0"),
            Outcome::AgreeReject("attribute")
        );
        assert_eq!(
            o(PLANTED),
            Outcome::Disagree {
                ours: "reject (category)".to_owned(),
                kernel: format!("accept: {PLANTED}"),
            }
        );
        assert!(matches!(o(""), Outcome::Skipped(_)));
        let mut t = Tally::default();
        t.add(b"x", Outcome::AgreeReject("user"));
        t.add(b"y", Outcome::AgreeAccept { renamed: true });
        assert!(!t.rules_not_seen().contains(&"user"));
        assert!(t.rules_not_seen().contains(&"role"));
        assert!(
            t.report().contains("agree-accept=1 (alias renamed=1)"),
            "{}",
            t.report()
        );
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
            &mut Fake(fixture()),
        )
        .expect("fake");
        assert!(d.is_empty(), "{d:?}");
    }
}
