//! `Access::compute_av_reason` against libsepol's `sepol_compute_av_reason`
//! on the same policy: 100,000 random (source, target, class, levels)
//! queries on Debian's policy with tests/vm/container.cil, booleans at
//! their defaults and with some flipped, and 100,000 on Debian's policy as
//! installed. Allowed, auditallow and auditdeny vectors and the reason bits
//! (TE, constraint, RBAC, bounds) must be identical, and so must validity.
//!
//! Needs gcc and libsepol's static library (libsepol-dev); without them
//! the test says so and passes, unless `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1`.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use selinux_mcs::policydb::{Bitmap, Policy, PolicyLevel};
use selinux_mcs::SecurityContext;

fn required() -> bool {
    std::env::var("SELINUX_MCS_REQUIRE_SYSTEM_POLICY").as_deref() == Ok("1")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Builds the libsepol helper, or says why not.
fn helper(dir: &Path) -> Option<PathBuf> {
    let lib = Path::new("/usr/lib/x86_64-linux-gnu/libsepol.a");
    let out = dir.join("sepol_av");
    let built = lib.exists()
        && Command::new("gcc")
            .args(["-O2", "-o"])
            .arg(&out)
            .arg(repo().join("tests/scripts/sepol_av.c"))
            .arg(lib)
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        built || !required(),
        "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but gcc or libsepol.a is missing"
    );
    if !built {
        eprintln!("skipped: cannot build the libsepol helper (apt install gcc libsepol-dev)");
    }
    built.then_some(out)
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A level within `high` (the user's high level) with a few random
/// categories, a pair, none, or all of them.
fn level(p: &Policy, rng: &mut Rng, high: &PolicyLevel) -> String {
    let cats: Vec<u32> = high.cats.iter().collect();
    let sens = &p.sensitivities()[rng.below(high.sens as usize)].name;
    let chosen: Vec<u32> = match rng.below(6) {
        0 => vec![],
        1 => cats.clone(),
        _ if cats.is_empty() => vec![],
        _ => {
            let n = 1 + rng.below(3);
            let mut v: Vec<u32> = (0..n).map(|_| *rng.pick(&cats)).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    p.level_to_string(&PolicyLevel::new(
        p.sensitivity(sens).unwrap().value,
        Bitmap::from_bits(chosen),
    ))
}

/// A valid context holding `type_value` (a type, not an attribute).
fn context(p: &Policy, rng: &mut Rng, type_value: u32, object: bool) -> String {
    let t = &p.types()[type_value as usize - 1];
    let roles: Vec<&str> = p
        .roles()
        .iter()
        .filter(|r| &*r.name != "object_r" && r.types.contains(type_value - 1))
        .filter(|r| p.users().iter().any(|u| u.roles.contains(r.value - 1)))
        .map(|r| &*r.name)
        .collect();
    let role = if object || roles.is_empty() || rng.below(5) == 0 {
        "object_r"
    } else {
        *rng.pick(&roles)
    };
    let users: Vec<_> = p
        .users()
        .iter()
        .filter(|u| role == "object_r" || u.roles.contains(p.role(role).unwrap().value - 1))
        .collect();
    let user = *rng.pick(&users);
    let high = if role == "object_r" {
        PolicyLevel::new(
            p.sensitivities().len() as u32,
            Bitmap::from_bits(0..p.categories().len() as u32),
        )
    } else {
        user.range.high.clone()
    };
    let low = level(p, rng, &high);
    let lvl = if rng.below(4) == 0 && role != "object_r" {
        format!("{low}-{}", p.level_to_string(&high))
    } else {
        low
    };
    format!("{}:{role}:{}:{lvl}", user.name, t.name)
}

fn member(p: &Policy, rng: &mut Rng, value: u16) -> Option<u32> {
    let t = &p.types()[value as usize - 1];
    let members: Vec<u32> = p.members_of(t).iter().collect();
    if members.is_empty() {
        return None;
    }
    Some(*rng.pick(&members) + 1)
}

/// Queries: half from allow rules (types drawn from their attributes), half
/// from random types, MCS-constrained sources favored.
fn queries(p: &Policy, seed: u64, n: usize) -> Vec<(String, String, u32, u32)> {
    let mut rng = Rng(seed);
    let types: Vec<u32> = p
        .types()
        .iter()
        .filter(|t| !t.attribute)
        .map(|t| t.value)
        .collect();
    let constrained: Vec<u32> = types
        .iter()
        .copied()
        .filter(|v| {
            p.mcs_constrained_types()
                .contains(&p.types()[*v as usize - 1].name)
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let (s, t, class) = match rng.below(3) {
            0 => {
                let r = rng.pick(p.rules());
                let (Some(s), Some(t)) =
                    (member(p, &mut rng, r.source), member(p, &mut rng, r.target))
                else {
                    continue;
                };
                (s, t, u32::from(r.class))
            }
            1 if !constrained.is_empty() => (
                *rng.pick(&constrained),
                *rng.pick(&types),
                p.class("file").map_or(1, |c| c.value),
            ),
            _ => (
                *rng.pick(&types),
                *rng.pick(&types),
                1 + rng.below(p.classes().len()) as u32,
            ),
        };
        let sc = context(p, &mut rng, s, false);
        let tc = context(p, &mut rng, t, true);
        let cls = &p.classes()[class as usize - 1];
        let nperms = p.class_permissions(cls).map(|(_, v)| v).max().unwrap_or(0);
        let requested = if nperms == 32 {
            u32::MAX
        } else {
            (1u32 << nperms) - 1
        };
        out.push((sc, tc, class, requested));
    }
    out
}

fn compare(policy_path: &Path, helper: &Path, seed: u64, n: usize, flips: &[(&str, bool)]) {
    let p = Policy::from_path(policy_path).unwrap();
    let booleans = p.booleans_with(flips.iter().copied()).unwrap();
    let access = p.access_with(booleans);
    let qs = queries(&p, seed, n);
    let mut child = Command::new(helper)
        .arg(policy_path)
        .args(flips.iter().map(|(b, s)| format!("{b}={}", u8::from(*s))))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input: String = qs
        .iter()
        .map(|(s, t, c, r)| format!("{s} {t} {c} {r:x}\n"))
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .collect();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(lines.len(), qs.len());
    let (mut allowed_some, mut denied_te, mut denied_cons, mut invalid, mut mismatches) =
        (0, 0, 0, 0, vec![]);
    for ((s, t, c, r), theirs) in qs.iter().zip(&lines) {
        let (sc, tc): (SecurityContext, SecurityContext) = (s.parse().unwrap(), t.parse().unwrap());
        let ours = match access.compute_av_reason(&sc, &tc, *c, *r) {
            Ok((av, why)) => format!(
                "{:x} {:x} {:x} {:x}",
                av.allowed,
                av.auditallow,
                av.auditdeny,
                why.bits()
            ),
            Err(_) => "invalid".to_owned(),
        };
        if ours != *theirs {
            mismatches.push(format!("{s} {t} class {c}: ours {ours}, libsepol {theirs}"));
        }
        match theirs
            .split(' ')
            .nth(3)
            .map(|r| u32::from_str_radix(r, 16).unwrap_or(0))
        {
            None => invalid += 1,
            Some(r) => {
                if r & 1 != 0 {
                    denied_te += 1;
                }
                if r & 2 != 0 {
                    denied_cons += 1;
                }
                if !theirs.starts_with("0 ") {
                    allowed_some += 1;
                }
            }
        }
    }
    eprintln!(
        "{} (flipped {flips:?}): {} queries, {} mismatches; {allowed_some} allow something, {denied_te} TE denials, {denied_cons} constraint denials, {invalid} invalid",
        policy_path.display(),
        qs.len(),
        mismatches.len()
    );
    mismatches.truncate(10);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        denied_cons > 0 && allowed_some > 0,
        "the queries should exercise constraints and allows"
    );
}

/// Booleans that gate many conditional rules: flipping them matters.
fn busy_booleans(p: &Policy, n: usize) -> Vec<(String, bool)> {
    let mut count = vec![0usize; p.booleans().len()];
    for c in p.conditionals() {
        let mut b = vec![];
        c.expr.booleans(&mut b);
        for v in b {
            count[v as usize - 1] += c.if_true.len() + c.if_false.len();
        }
    }
    let mut idx: Vec<usize> = (0..count.len()).collect();
    idx.sort_by_key(|i| std::cmp::Reverse(count[*i]));
    idx.into_iter()
        .take(n)
        .map(|i| (p.booleans()[i].name.to_string(), !p.booleans()[i].default))
        .collect()
}

fn container_policy(dir: &Path) -> Option<PathBuf> {
    if !Path::new("/var/lib/selinux/default").exists()
        || Command::new("semodule").arg("-h").output().is_err()
    {
        assert!(
            !required(),
            "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but semodule or the policy store is missing"
        );
        eprintln!("skipped: no semodule or policy store");
        return None;
    }
    std::fs::create_dir_all(dir.join("var/lib")).unwrap();
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    for (from, to) in [("/var/lib/selinux", "var/lib/"), ("/etc/selinux", "etc/")] {
        assert!(Command::new("cp")
            .args(["-a", from])
            .arg(dir.join(to))
            .status()
            .unwrap()
            .success());
    }
    let out = Command::new("semodule")
        .arg("-p")
        .arg(dir)
        .args(["-s", "default", "-n", "-i"])
        .arg(repo().join("tests/vm/container.cil"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "semodule: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(dir.join("etc/selinux/default/policy/policy.33"))
}

#[test]
fn compute_av_agrees_with_libsepol() {
    let dir = tempfile::tempdir().unwrap();
    let Some(helper) = helper(dir.path()) else {
        return;
    };
    let debian = Path::new("/etc/selinux/default/policy/policy.33");
    if !debian.exists() {
        assert!(
            !required(),
            "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but {} is missing",
            debian.display()
        );
        eprintln!("skipped: no {}", debian.display());
        return;
    }
    // Four independent runs, in parallel: each has its own libsepol process.
    let container = container_policy(&dir.path().join("root"));
    let flips: Vec<(String, bool)> = container
        .as_ref()
        .map(|c| busy_booleans(&Policy::from_path(c).unwrap(), 5))
        .unwrap_or_default();
    let helper = helper.as_path();
    std::thread::scope(|scope| {
        scope.spawn(move || compare(debian, helper, 0x5eed_0001, 100_000, &[]));
        scope.spawn(move || {
            // The fixture: typebounds, a permissive type, role allows, every constraint kind.
            compare(
                &repo().join("tests/data/policydb/mls.33"),
                helper,
                0x5eed_0004,
                20_000,
                &[("allow_write", true)],
            )
        });
        if let Some(container) = &container {
            scope.spawn(move || compare(container, helper, 0x5eed_0002, 60_000, &[]));
            let flips: Vec<(&str, bool)> = flips.iter().map(|(n, s)| (n.as_str(), *s)).collect();
            scope.spawn(move || compare(container, helper, 0x5eed_0003, 40_000, &flips));
        }
    });
}
