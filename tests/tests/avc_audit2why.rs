//! `relabel why`'s verdicts against `audit2why -p POLICY` (Debian's
//! policycoreutils-python-utils, run offline on an explicit policy) on
//! generated AVC denials: random (source, target, class, permissions)
//! drawn from the policy's allow, conditional and dontaudit rules, from
//! MCS-constrained sources on file classes, from process transitions, and
//! at random; written in the kernel's, dmesg's, the journal's and
//! ausearch's line formats. Over Debian's policy as installed and over
//! Debian's policy with tests/vm/container.cil (built with `semodule -p`
//! into a temporary root), and over the committed fixture.
//!
//! Every line's verdict class must equal audit2why's (type enforcement,
//! boolean, constraint, missing role allow, typebounds, allowed by the
//! active policy, dontaudit), the booleans named must be the same, and
//! every MCS denial must name its missing categories: categories of the
//! target that the source's high level lacks.
//!
//! Needs /usr/bin/python3 with the `selinux` and `sepolgen` modules
//! (python3-selinux, policycoreutils-python-utils); without them the test
//! says so and passes, unless `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1`.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use selinux_mcs::avc::{AvcLog, Cause, Why};
use selinux_mcs::policydb::{Bitmap, Policy, PolicyLevel, RuleKind};
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

/// audit2why, run with the system's python (where the `selinux` module
/// lives), or why not.
fn audit2why_available() -> bool {
    let ok = Path::new("/usr/bin/audit2allow").exists()
        && Command::new("/usr/bin/python3")
            .args(["-Es", "-c", "import selinux.audit2why, sepolgen.audit"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok || !required(),
        "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but audit2why is missing (apt install policycoreutils-python-utils python3-selinux)"
    );
    if !ok {
        eprintln!(
            "skipped: no audit2why (apt install policycoreutils-python-utils python3-selinux)"
        );
    }
    ok
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

/// A level within `high` with none, all, or a few of its categories.
fn level(p: &Policy, rng: &mut Rng, high: &PolicyLevel) -> String {
    let cats: Vec<u32> = high.cats.iter().collect();
    let sens = &p.sensitivities()[rng.below(high.sens as usize)].name;
    let chosen: Vec<u32> = match rng.below(6) {
        0 => vec![],
        1 => cats.clone(),
        _ if cats.is_empty() => vec![],
        _ => {
            // Few distinct categories, so that levels often overlap.
            let pool: Vec<u32> = cats.iter().copied().take(6).collect();
            let n = 1 + rng.below(3);
            let mut v: Vec<u32> = (0..n).map(|_| *rng.pick(&pool)).collect();
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

/// A valid context holding `type_value`; `object` forces object_r.
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

/// A type (not an attribute) that `value` (a type or attribute) holds.
fn member(p: &Policy, rng: &mut Rng, value: u16) -> Option<u32> {
    let t = &p.types()[value as usize - 1];
    let members: Vec<u32> = p.members_of(t).iter().collect();
    if members.is_empty() {
        return None;
    }
    Some(*rng.pick(&members) + 1)
}

/// Names of up to three permissions among `bits` of `class`.
fn perms_of(p: &Policy, rng: &mut Rng, class: u32, bits: u32) -> Vec<String> {
    let cls = &p.classes()[class as usize - 1];
    let all: Vec<(&str, u32)> = p
        .class_permissions(cls)
        .filter(|(_, v)| bits & (1 << (v - 1)) != 0)
        .collect();
    if all.is_empty() {
        return vec![];
    }
    let n = 1 + rng.below(3).min(all.len() - 1);
    let mut out: Vec<String> = vec![];
    for _ in 0..n {
        let (name, _) = *rng.pick(&all);
        if !out.iter().any(|x| x == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// What queries are drawn from, gathered once per policy.
struct Pools<'p> {
    types: Vec<u32>,
    constrained: Vec<u32>,
    allows: Vec<&'p selinux_mcs::policydb::AvRule>,
    hidden: Vec<&'p selinux_mcs::policydb::AvRule>,
    transitions: Vec<&'p selinux_mcs::policydb::AvRule>,
    file: u32,
    process: u32,
}

impl<'p> Pools<'p> {
    fn new(p: &'p Policy) -> Pools<'p> {
        let types: Vec<u32> = p
            .types()
            .iter()
            .filter(|t| !t.attribute)
            .map(|t| t.value)
            .collect();
        let mcs = p.mcs_constrained_types();
        let constrained = types
            .iter()
            .copied()
            .filter(|v| mcs.contains(&p.types()[*v as usize - 1].name))
            .collect();
        let file = p.class("file").unwrap().value;
        let process = p.class("process").unwrap().value;
        let of = |kind| p.rules().iter().filter(move |r| r.kind == kind);
        Pools {
            types,
            constrained,
            allows: of(RuleKind::Allow).collect(),
            hidden: of(RuleKind::DontAudit).collect(),
            transitions: of(RuleKind::Allow)
                .filter(|r| u32::from(r.class) == process)
                .collect(),
            file,
            process,
        }
    }
}

/// One (source, target, class, permissions) query.
fn query(
    p: &Policy,
    pools: &Pools<'_>,
    rng: &mut Rng,
) -> Option<(String, String, u32, Vec<String>)> {
    let (types, file) = (&pools.types, pools.file);
    let all_bits = |class: u32| {
        let cls = &p.classes()[class as usize - 1];
        p.class_permissions(cls)
            .fold(0u32, |acc, (_, v)| acc | (1 << (v - 1)))
    };
    let (s, t, class, bits, target_object) = match rng.below(10) {
        // From an unconditional allow: constraints, MCS, allowed now.
        0..=2 => {
            let r = *rng.pick(&pools.allows);
            let (s, t) = (member(p, rng, r.source)?, member(p, rng, r.target)?);
            (s, t, u32::from(r.class), r.data, true)
        }
        // An MCS-constrained source on a file.
        3 | 4 => {
            if pools.constrained.is_empty() {
                return None;
            }
            let s = *rng.pick(&pools.constrained);
            // Mostly targets the source may use by type enforcement.
            let sattr = &p.type_attribute_map()[s as usize - 1];
            let targets: Vec<(u16, u32)> = pools
                .allows
                .iter()
                .filter(|r| u32::from(r.class) == file && sattr.contains(u32::from(r.source) - 1))
                .map(|r| (r.target, r.data))
                .collect();
            if targets.is_empty() || rng.below(4) == 0 {
                (s, *rng.pick(types), file, all_bits(file), true)
            } else {
                let (t, data) = *rng.pick(&targets);
                (s, member(p, rng, t)?, file, data, true)
            }
        }
        // A conditional allow, often off now: booleans.
        5 | 6 => {
            let conds = p.conditionals();
            if conds.is_empty() {
                return None;
            }
            let c = rng.pick(conds);
            let rules = &p.conditional_rules()[if rng.below(2) == 0 {
                c.if_true.clone()
            } else {
                c.if_false.clone()
            }];
            let allows: Vec<_> = rules.iter().filter(|r| r.kind == RuleKind::Allow).collect();
            if allows.is_empty() {
                return None;
            }
            let r = *rng.pick(&allows);
            let (s, t) = (member(p, rng, r.source)?, member(p, rng, r.target)?);
            (s, t, u32::from(r.class), r.data, true)
        }
        // A dontaudit rule: the permissions it hides.
        7 => {
            if pools.hidden.is_empty() {
                return None;
            }
            let r = *rng.pick(&pools.hidden);
            let (s, t) = (member(p, rng, r.source)?, member(p, rng, r.target)?);
            let class = u32::from(r.class);
            (s, t, class, !r.data & all_bits(class), true)
        }
        // A process transition, the target often in another role: RBAC.
        8 => {
            if pools.transitions.is_empty() {
                return None;
            }
            let r = *rng.pick(&pools.transitions);
            let (s, t) = (member(p, rng, r.source)?, member(p, rng, r.target)?);
            (s, t, pools.process, r.data, false)
        }
        _ => {
            let class = 1 + rng.below(p.classes().len()) as u32;
            (
                *rng.pick(types),
                *rng.pick(types),
                class,
                all_bits(class),
                true,
            )
        }
    };
    let perms = perms_of(p, rng, class, bits);
    if perms.is_empty() {
        return None;
    }
    let sc = context(p, rng, s, false);
    let object = target_object && rng.below(3) != 0;
    let mut tc = context(p, rng, t, object);
    if rng.below(3) == 0 {
        // The source's own level: what passes most MLS constraints.
        let low = sc.splitn(4, ':').nth(3)?.split('-').next()?;
        tc = format!(
            "{}:{low}",
            tc.splitn(4, ':').take(3).collect::<Vec<_>>().join(":")
        );
    }
    Some((sc, tc, class, perms))
}

/// Generated denials, one per line, numbered by pid, in several formats.
fn generate(p: &Policy, seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng(seed);
    let pools = Pools::new(p);
    let mut lines = vec![];
    while lines.len() < n {
        let Some((s, t, class, perms)) = query(p, &pools, &mut rng) else {
            continue;
        };
        // Records must name valid contexts (audit2why drops the others):
        // a sensitivity may not hold every category.
        let (sc, tc): (SecurityContext, SecurityContext) = (s.parse().unwrap(), t.parse().unwrap());
        if sc.validate(p).is_err() || tc.validate(p).is_err() {
            continue;
        }
        let i = lines.len() + 1;
        let comm = if rng.below(3) == 0 {
            // A name with a space: the kernel writes it in hex.
            "6D7920617070".to_owned()
        } else {
            "\"app\"".to_owned()
        };
        let body = format!(
            "avc:  denied  {{ {} }} for  pid={i} comm={comm} name=\"f{i}\" dev=\"sda1\" ino={i} scontext={s} tcontext={t} tclass={} permissive=0",
            perms.join(" "),
            p.classes()[class as usize - 1].name
        );
        let line = match rng.below(4) {
            0 => format!("type=AVC msg=audit(1701597600.{i:03}:{i}): {body}"),
            1 => format!("[ {i}.000000] audit: type=1400 audit(1701597600.{i:03}:{i}): {body}"),
            2 => format!("Dec 03 10:00:00 host kernel: audit: type=1400 audit(1701597600.{i:03}:{i}): {body}"),
            _ => body,
        };
        lines.push(line);
    }
    lines
}

/// audit2why's verdict for each line (by pid): its class and the booleans
/// it names.
fn run_audit2why(policy: &Path, log: &Path) -> BTreeMap<usize, (String, Vec<(String, bool)>)> {
    let out = Command::new("/usr/bin/python3")
        .args(["-Es", "/usr/bin/audit2allow", "-w", "-p"])
        .arg(policy)
        .arg("-i")
        .arg(log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "audit2why failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut blocks: BTreeMap<usize, String> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if line.contains("avc:  denied") {
            let pid = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("pid="))
                .and_then(|v| v.parse().ok())
                .unwrap();
            current = Some(pid);
            blocks.insert(pid, String::new());
        } else if let Some(pid) = current {
            let b = blocks.get_mut(&pid).unwrap();
            b.push_str(line);
            b.push('\n');
        }
    }
    blocks
        .into_iter()
        .map(|(pid, b)| {
            let class = if b.contains("Missing type enforcement (TE) allow rule") {
                "TERULE"
            } else if b.contains("was set incorrectly") {
                "BOOLEAN"
            } else if b.contains("#Constraint rule:") {
                "CONSTRAINT"
            } else if b.contains("Missing role allow rule") {
                "RBAC"
            } else if b.contains("Typebounds violation") {
                "BOUNDS"
            } else if b.contains("would be allowed by active policy") {
                "ALLOW"
            } else if b.contains("should be dontaudit'd by active policy") {
                "DONTAUDIT"
            } else {
                panic!("line {pid}: unrecognized audit2why output:\n{b}")
            };
            let mut booleans: Vec<(String, bool)> = b
                .lines()
                .filter_map(|l| l.trim().strip_prefix("# setsebool -P "))
                .filter_map(|l| {
                    let (name, v) = l.split_once(' ')?;
                    Some((name.to_owned(), v.trim() == "1"))
                })
                .collect();
            booleans.sort();
            (pid, (class.to_owned(), booleans))
        })
        .collect()
}

fn audit2why_class(c: &Cause) -> &'static str {
    match c {
        Cause::AllowedNow => "ALLOW",
        Cause::Boolean { .. } => "BOOLEAN",
        Cause::TypeEnforcement => "TERULE",
        Cause::Dontaudit => "DONTAUDIT",
        Cause::Constraint { .. } => "CONSTRAINT",
        Cause::RoleAllow { .. } => "RBAC",
        Cause::Bounds { .. } => "BOUNDS",
        _ => "?",
    }
}

/// Compares the verdicts on `n` generated lines; returns the count per
/// class.
fn compare(policy_path: &Path, seed: u64, n: usize) -> BTreeMap<String, usize> {
    let p = Policy::from_path(policy_path).unwrap();
    let lines = generate(&p, seed, n);
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("audit.log");
    std::fs::write(&log_path, lines.join("\n") + "\n").unwrap();
    let started = std::time::Instant::now();
    let theirs = run_audit2why(policy_path, &log_path);
    let theirs_took = started.elapsed();
    let started = std::time::Instant::now();

    let log = AvcLog::parse(&std::fs::read(&log_path).unwrap());
    assert!(log.errors().is_empty(), "{:?}", log.errors());
    assert_eq!(log.records().len(), n);
    let access = p.access();
    let why = Why::new(&access);
    let (mut counts, mut mismatches) = (BTreeMap::new(), vec![]);
    for (i, r) in log.records().iter().enumerate() {
        assert_eq!(r.line(), i + 1);
        let v = why.explain(r).unwrap();
        let ours = audit2why_class(&v.cause);
        *counts.entry(v.cause.class().to_owned()).or_insert(0) += 1;
        let Some((class, booleans)) = theirs.get(&(i + 1)) else {
            mismatches.push(format!("line {}: audit2why printed nothing for it", i + 1));
            continue;
        };
        let mut our_booleans = match &v.cause {
            Cause::Boolean { booleans } => booleans.clone(),
            _ => vec![],
        };
        our_booleans.sort();
        if ours != class || our_booleans != *booleans {
            mismatches.push(format!(
                "line {}: ours {} {our_booleans:?}, audit2why {class} {booleans:?}\n  {}",
                i + 1,
                v.cause.class(),
                lines[i]
            ));
        }
        check_mcs(
            &v.cause,
            r.scontext(),
            r.tcontext(),
            r.tclass(),
            &p,
            &mut mismatches,
            i + 1,
        );
    }
    let ours_took = started.elapsed();
    let mut summary = String::new();
    for (k, v) in &counts {
        let _ = write!(summary, " {k} {v},");
    }
    eprintln!(
        "{}: {n} lines, {} mismatches;{summary} audit2why {theirs_took:.1?}, ours {ours_took:.1?}",
        policy_path.display(),
        mismatches.len()
    );
    mismatches.truncate(10);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    counts
}

/// Every MCS denial names categories the target has and the source's high
/// level lacks; and an MLS denial of a file by an MCS-constrained source
/// that lacks some of the file's categories is an MCS denial.
fn check_mcs(
    cause: &Cause,
    s: &SecurityContext,
    t: &SecurityContext,
    class: &str,
    p: &Policy,
    problems: &mut Vec<String>,
    line: usize,
) {
    let cats = |l: Option<&selinux_mcs::mls::Level>| -> Vec<String> {
        l.map(|l| l.categories().iter().map(|c| c.to_string()).collect())
            .unwrap_or_default()
    };
    let (s_high, t_low, t_high) = (cats(s.high_level()), cats(t.level()), cats(t.high_level()));
    let lacking: Vec<&String> = t_high.iter().filter(|c| !s_high.contains(c)).collect();
    let Cause::Constraint {
        mls: true,
        missing_categories,
        ..
    } = cause
    else {
        return;
    };
    for c in missing_categories {
        if s_high.contains(c) || !(t_low.contains(c) || t_high.contains(c)) {
            problems.push(format!(
                "line {line}: missing category {c} is not one the source lacks ({s} on {t})"
            ));
        }
    }
    if missing_categories.is_empty()
        && class == "file"
        && !lacking.is_empty()
        && p.mcs_constrained_types().contains(s.type_())
    {
        problems.push(format!(
            "line {line}: an MLS denial of {t} to {s} names no missing category (lacks {lacking:?})"
        ));
    }
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
fn why_agrees_with_audit2why() {
    if !audit2why_available() {
        return;
    }
    let fixture = compare(&repo().join("tests/data/policydb/mls.33"), 0xa2_0001, 400);
    for class in [
        "allowed-now",
        "boolean",
        "type-enforcement",
        "dontaudit",
        "mcs",
        "constraint",
        "rbac",
    ] {
        assert!(
            fixture.contains_key(class),
            "the fixture should give {class}: {fixture:?}"
        );
    }
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
    let counts = compare(debian, 0xa2_0002, 1000);
    for class in [
        "allowed-now",
        "boolean",
        "type-enforcement",
        "dontaudit",
        "constraint",
    ] {
        assert!(
            counts.contains_key(class),
            "Debian's policy should give {class}: {counts:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(container) = container_policy(&dir.path().join("root")) else {
        return;
    };
    let counts = compare(&container, 0xa2_0003, 1000);
    assert!(counts.get("mcs").is_some_and(|n| *n >= 20), "{counts:?}");
}
