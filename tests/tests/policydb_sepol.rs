//! `validate` against libsepol's `sepol_check_context` on the same policy
//! files, context by context: ours accepts when the text parses
//! (`SecurityContext::from_str`) and `Policy::validate` finds no broken
//! rule; libsepol accepts when `sepol_check_context` returns 0. Every
//! answer must agree. The contexts come from a seeded generator that mixes
//! plausible contexts (a user's role, a role's type, a level in the user's
//! range) with every way to get one wrong: unknown and misspelt users,
//! roles and types, type aliases and attributes, roles the user may not
//! take, types the role may not hold, undefined sensitivities (`s1` on an
//! MCS policy) and categories (`c1024`), categories a sensitivity may not
//! carry, ranges whose high level is below the low one, levels outside the
//! user's range, and broken syntax.
//!
//! Policies: the committed MLS fixture (16 sensitivities, aliases),
//! Debian's installed policy, and Debian's policy with tests/vm/container.cil
//! built into a private root with `semodule -p`.
//!
//! The helper is a 30-line C program compiled here with gcc against
//! libsepol (libsepol-dev). Without gcc or libsepol the test says so and
//! passes, unless `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1` (CI sets it).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use selinux_mcs::policydb::{Policy, PolicyLevel};
use selinux_mcs_tests::system_policy::{container_policy, debian_policy, skip};
use selinux_mcs_tests::workspace_root;

/// Reads contexts one a line and prints `1` (valid) or `0` for each, as
/// `sepol_check_context` answers for the policy file given.
const HELPER: &str = r#"
#include <stdio.h>
#include <string.h>
#include <sepol/sepol.h>
#include <sepol/debug.h>
#include <sepol/context.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s POLICY CONTEXTS\n", argv[0]); return 2; }
    FILE *pf = fopen(argv[1], "r");
    if (!pf) { perror(argv[1]); return 2; }
    sepol_debug(0);
    if (sepol_set_policydb_from_file(pf) < 0) { fprintf(stderr, "libsepol cannot load %s\n", argv[1]); return 2; }
    fclose(pf);
    FILE *cf = fopen(argv[2], "r");
    if (!cf) { perror(argv[2]); return 2; }
    static char line[65536];
    while (fgets(line, sizeof line, cf)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = 0;
        putchar(sepol_check_context(line) == 0 ? '1' : '0');
        putchar('\n');
    }
    return fclose(cf) == 0 && fflush(stdout) == 0 ? 0 : 2;
}
"#;

/// Compiles the helper into `dir`; `None` (skipped) without gcc or libsepol.
fn helper(dir: &Path) -> Option<PathBuf> {
    if !Path::new("/usr/include/sepol/context.h").exists() {
        skip("libsepol's headers are missing (apt install libsepol-dev)");
        return None;
    }
    let src = dir.join("sepol_check.c");
    let bin = dir.join("sepol_check");
    std::fs::write(&src, HELPER).unwrap();
    let out = match Command::new("gcc")
        .arg("-O2")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .arg("-lsepol")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            skip(&format!("gcc cannot run ({e}; apt install gcc)"));
            return None;
        }
    };
    assert!(
        out.status.success(),
        "gcc sepol_check.c -lsepol: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(bin)
}

/// libsepol's answers, in order.
fn sepol_answers(helper: &Path, policy: &Path, contexts: &[String], dir: &Path) -> Vec<bool> {
    let list = dir.join("contexts.txt");
    let mut text = contexts.join("\n");
    text.push('\n');
    std::fs::write(&list, text).unwrap();
    let out = Command::new(helper)
        .arg(policy)
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sepol_check {}: {}",
        policy.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<bool> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l == b"1")
        .collect();
    assert_eq!(answers.len(), contexts.len(), "one answer per context");
    answers
}

/// SplitMix64: a seeded generator, so a failure names a reproducible input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A misspelling: a letter dropped, doubled, swapped, replaced or added.
fn typo(name: &str, rng: &mut Rng) -> String {
    let mut b: Vec<u8> = name.bytes().collect();
    let letters = b"abcdefghijklmnopqrstuvwxyz_";
    let i = rng.below(b.len().max(1));
    match rng.below(6) {
        0 if b.len() > 1 => {
            b.remove(i);
        }
        1 if !b.is_empty() => b.insert(i, b[i]),
        2 if b.len() > 1 => {
            let j = (i + 1) % b.len();
            b.swap(i, j);
        }
        3 if !b.is_empty() => b[i] = *rng.pick(letters),
        4 if !b.is_empty() => b[i] = b[i].to_ascii_uppercase(),
        _ => b.push(*rng.pick(letters)),
    }
    String::from_utf8(b).unwrap()
}

/// What the generator draws names from, read from the policy (our reader;
/// libsepol is the judge of whether the contexts built from them are valid).
struct Names {
    users: Vec<String>,
    roles: Vec<String>,
    types: Vec<String>,
    aliases: Vec<String>,
    attributes: Vec<String>,
    /// Per role (by value - 1): the names of the types it may hold.
    role_types: Vec<Vec<String>>,
    /// Per user: the role values - 1 it may take.
    user_roles: Vec<Vec<usize>>,
    sens: Vec<String>,
    sens_aliases: Vec<String>,
    cats: Vec<String>,
    cat_aliases: Vec<String>,
}

impl Names {
    fn new(p: &Policy) -> Names {
        let name = |t: &selinux_mcs::policydb::Type| t.name.to_string();
        let types: Vec<_> = p.types().iter().filter(|t| !t.attribute).collect();
        Names {
            users: p.users().iter().map(|u| u.name.to_string()).collect(),
            roles: p.roles().iter().map(|r| r.name.to_string()).collect(),
            types: types.iter().map(|t| name(t)).collect(),
            aliases: types
                .iter()
                .flat_map(|t| t.aliases.iter().map(|a| a.to_string()))
                .collect(),
            attributes: p.types().iter().filter(|t| t.attribute).map(name).collect(),
            role_types: p
                .roles()
                .iter()
                .map(|r| {
                    r.types
                        .iter()
                        .filter_map(|b| p.types().get(b as usize))
                        .filter(|t| !t.attribute)
                        .map(name)
                        .collect()
                })
                .collect(),
            user_roles: p
                .users()
                .iter()
                .map(|u| u.roles.iter().map(|b| b as usize).collect())
                .collect(),
            sens: p
                .sensitivities()
                .iter()
                .map(|s| s.name.to_string())
                .collect(),
            sens_aliases: p
                .sensitivities()
                .iter()
                .flat_map(|s| s.aliases.iter().map(|a| a.to_string()))
                .collect(),
            cats: p.categories().iter().map(|c| c.name.to_string()).collect(),
            cat_aliases: p
                .categories()
                .iter()
                .flat_map(|c| c.aliases.iter().map(|a| a.to_string()))
                .collect(),
        }
    }
}

/// One category item: `cN` (mostly defined, sometimes just past the last
/// one, `c1023`, `c1024`, an alias or a leading zero) or a range `cA.cB`
/// (sometimes empty or reversed).
fn category_item(n: &Names, rng: &mut Rng) -> String {
    let ncats = n.cats.len();
    let number = |rng: &mut Rng| -> usize {
        match rng.below(10) {
            0..=3 => rng.below(ncats.clamp(1, 16)),
            4..=6 => rng.below(ncats.max(1)),
            7 => (ncats + rng.below(3)).saturating_sub(2),
            8 => 1022 + rng.below(3),
            _ => rng.below(1100),
        }
    };
    match rng.below(20) {
        0..=11 => format!("c{}", number(rng)),
        12..=16 => {
            let a = number(rng);
            let b = if rng.chance(85) {
                a + 1 + rng.below(40)
            } else {
                rng.below(a + 1)
            };
            format!("c{a}.c{b}")
        }
        17 if !n.cat_aliases.is_empty() => rng.pick(&n.cat_aliases).clone(),
        18 => format!("c0{}", rng.below(10)),
        _ => format!("c{}", rng.below(ncats.max(1))),
    }
}

/// A sensitivity name: mostly defined, sometimes one past the last, `s1`,
/// `s16`, an alias, or misspelt.
fn sensitivity(n: &Names, rng: &mut Rng) -> String {
    match rng.below(20) {
        0..=14 => rng.pick(&n.sens).clone(),
        15 => format!("s{}", n.sens.len()),
        16 => format!("s{}", 1 + rng.below(16)),
        17 if !n.sens_aliases.is_empty() => rng.pick(&n.sens_aliases).clone(),
        18 => "s00".to_owned(),
        _ => rng.pick(&n.sens).clone(),
    }
}

fn level(n: &Names, rng: &mut Rng) -> String {
    let mut s = sensitivity(n, rng);
    let items = match rng.below(10) {
        0..=3 => 0,
        4..=7 => 1 + rng.below(2),
        _ => 1 + rng.below(5),
    };
    for i in 0..items {
        s.push(if i == 0 { ':' } else { ',' });
        s.push_str(&category_item(n, rng));
    }
    s
}

/// A level inside a user's range: a sensitivity between the range's, and
/// some of the high level's categories.
fn level_in(p: &Policy, range: (&PolicyLevel, &PolicyLevel), rng: &mut Rng) -> String {
    let (low, high) = range;
    let sens = low.sens + rng.below((high.sens - low.sens + 1) as usize) as u32;
    let mut s = p.sensitivities()[sens as usize - 1].name.to_string();
    let cats: Vec<u32> = high.cats.iter().collect();
    if !cats.is_empty() && rng.chance(60) {
        let mut chosen: Vec<u32> = (0..1 + rng.below(4)).map(|_| *rng.pick(&cats)).collect();
        chosen.sort_unstable();
        chosen.dedup();
        for (i, c) in chosen.iter().enumerate() {
            s.push(if i == 0 { ':' } else { ',' });
            s.push_str(&p.categories()[*c as usize].name);
        }
    }
    s
}

/// The MLS field: a level or a range, sometimes missing or broken.
fn mls(p: &Policy, n: &Names, user: Option<usize>, rng: &mut Rng) -> Option<String> {
    let pick_level = |rng: &mut Rng| match user {
        Some(u) if rng.chance(60) => {
            let r = &p.users()[u].range;
            level_in(p, (&r.low, &r.high), rng)
        }
        _ => level(n, rng),
    };
    let low = pick_level(rng);
    let field = match rng.below(10) {
        0..=5 => low,
        6 | 7 => {
            // Often valid: the same level with more categories, or higher.
            let high = pick_level(rng);
            format!("{low}-{high}")
        }
        8 => {
            let extra = category_item(n, rng);
            let sep = if low.contains(':') { ',' } else { ':' };
            format!("{low}-{low}{sep}{extra}")
        }
        _ => match rng.below(8) {
            0 => return None,
            1 => format!("{low}:"),
            2 => format!("{low}-"),
            3 => format!("-{low}"),
            4 => format!("{low},,c1"),
            5 => format!("{low}:c1:c2"),
            6 => low.replacen('s', "S", 1),
            _ => format!("{low}-{low}-{low}"),
        },
    };
    Some(field)
}

/// One generated context.
fn context(p: &Policy, n: &Names, rng: &mut Rng) -> String {
    let (user, role, type_, uidx) = if rng.chance(55) {
        // Plausible: the user's role, the role's type (object_r: any type).
        let u = rng.below(n.users.len());
        let roles = &n.user_roles[u];
        let r = if roles.is_empty() || rng.chance(30) {
            0 // object_r
        } else {
            *rng.pick(roles)
        };
        let t = if r == 0 || n.role_types[r].is_empty() || rng.chance(10) {
            rng.pick(&n.types).clone()
        } else {
            rng.pick(&n.role_types[r]).clone()
        };
        let t = if !n.aliases.is_empty() && rng.chance(5) {
            rng.pick(&n.aliases).clone()
        } else {
            t
        };
        (n.users[u].clone(), n.roles[r].clone(), t, Some(u))
    } else {
        let user = match rng.below(10) {
            0..=7 => rng.pick(&n.users).clone(),
            8 => {
                let name = rng.pick(&n.users).clone();
                typo(&name, rng)
            }
            _ => "nosuch_u".to_owned(),
        };
        let role = match rng.below(10) {
            0..=7 => rng.pick(&n.roles).clone(),
            8 => {
                let name = rng.pick(&n.roles).clone();
                typo(&name, rng)
            }
            _ => "nosuch_r".to_owned(),
        };
        let type_ = match rng.below(20) {
            0..=11 => rng.pick(&n.types).clone(),
            12 | 13 if !n.aliases.is_empty() => rng.pick(&n.aliases).clone(),
            14 | 15 if !n.attributes.is_empty() => rng.pick(&n.attributes).clone(),
            16 | 17 => {
                let name = rng.pick(&n.types).clone();
                typo(&name, rng)
            }
            _ => rng.pick(&n.types).clone(),
        };
        let uidx = n.users.iter().position(|u| *u == user);
        (user, role, type_, uidx)
    };
    match mls(p, n, uidx, rng) {
        Some(m) => format!("{user}:{role}:{type_}:{m}"),
        None => format!("{user}:{role}:{type_}"),
    }
}

/// Our answer: parsed as the kernel reads it under the policy (level
/// aliases stand for their primary names), and valid. The reason when not.
fn ours(p: &Policy, text: &str) -> Result<(), String> {
    let ctx = p.parse_context(text).map_err(|_| "syntax".to_owned())?;
    p.validate(&ctx).map_err(|e| e.rule().to_owned())
}

/// libsepol 3.4's `mls_context_to_sid` stops after the high level and
/// ignores what follows a further `-` (`s0-s0-anything` is `s0-s0`). The
/// kernel reads the whole field and refuses these (tests/vm check 1 has
/// them among its fixed inputs), and so do we: such an input counts as
/// libsepol's leniency when ours accepts the text cut before that `-`.
fn libsepol_ignores_tail(p: &Policy, text: &str) -> bool {
    let Some((start, _)) = text.match_indices(':').nth(2) else {
        return false;
    };
    let Some((second, _)) = text[start..].match_indices('-').nth(1) else {
        return false;
    };
    ours(p, &text[..start + second]).is_ok()
}

/// Generates `count` contexts for `policy` and compares every answer.
/// Returns how many contexts were compared and how many of them libsepol
/// accepted only by ignoring a tail (see [`libsepol_ignores_tail`]).
fn agree(policy: &Path, count: usize, seed: u64, helper: &Path, dir: &Path) -> (usize, usize) {
    let p = Policy::from_path(policy).unwrap();
    let n = Names::new(&p);
    let mut rng = Rng(seed);
    let contexts: Vec<String> = (0..count).map(|_| context(&p, &n, &mut rng)).collect();
    let theirs = sepol_answers(helper, policy, &contexts, dir);
    let mut valid = 0usize;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = vec![];
    let mut lenient = 0usize;
    for (ctx, &sepol_ok) in contexts.iter().zip(&theirs) {
        let mine = ours(&p, ctx);
        match (&mine, sepol_ok) {
            (Ok(()), true) => valid += 1,
            (Err(why), false) => *reasons.entry(why.clone()).or_default() += 1,
            (Err(_), true) if libsepol_ignores_tail(&p, ctx) => lenient += 1,
            _ => disagreements.push(format!(
                "{ctx}: ours {}, libsepol {}",
                match &mine {
                    Ok(()) => "valid".to_owned(),
                    Err(why) => format!("invalid ({why})"),
                },
                if sepol_ok { "valid" } else { "invalid" }
            )),
        }
    }
    eprintln!(
        "{}: {} contexts: {} valid for both, {} invalid for both {:?}, {} after a second `-` (libsepol ignores the tail, the kernel and we refuse), {} disagree",
        policy.display(),
        contexts.len(),
        valid,
        reasons.values().sum::<usize>(),
        reasons,
        lenient,
        disagreements.len()
    );
    let shown: Vec<_> = disagreements.iter().take(30).cloned().collect();
    assert!(
        disagreements.is_empty(),
        "{}: {} of {} contexts disagree with sepol_check_context:\n{}",
        policy.display(),
        disagreements.len(),
        contexts.len(),
        shown.join("\n")
    );
    // The corpus means something only if both answers happen often, and
    // every rule the policy can break is broken somewhere.
    assert!(
        valid > count / 10 && valid < count * 9 / 10,
        "{valid} valid of {count}"
    );
    let mut rules = vec![
        "syntax",
        "user",
        "role",
        "type",
        "attribute",
        "role_types",
        "user_roles",
        "level",
    ];
    // The parser itself refuses s16 and c1024: with s0 to s15 (or c0 to
    // c1023) defined, no name is left for validate to find undefined.
    if p.sensitivities().len() < 16 {
        rules.push("sensitivity");
    }
    if p.categories().len() < 1024 {
        rules.push("category");
    }
    if p.users().iter().any(|u| u.range.low != u.range.high) {
        rules.push("user_range");
    }
    for rule in rules {
        assert!(
            reasons.contains_key(rule),
            "{}: no generated context breaks rule {rule}: {reasons:?}",
            policy.display()
        );
    }
    (count, lenient)
}

#[test]
fn validate_agrees_with_sepol_check_context() {
    let dir = tempfile::tempdir().unwrap();
    let Some(helper) = helper(dir.path()) else {
        return;
    };
    let mut runs = vec![];
    let fixture = workspace_root().join("tests/data/policydb/mls.33");
    runs.push(agree(&fixture, 8_000, 1, &helper, dir.path()));
    if let Some(debian) = debian_policy() {
        runs.push(agree(&debian, 10_000, 2, &helper, dir.path()));
    }
    let root = dir.path().join("root");
    if let Some(container) = container_policy(&root) {
        runs.push(agree(&container, 10_000, 3, &helper, dir.path()));
    }
    let total: usize = runs.iter().map(|r| r.0).sum();
    let lenient: usize = runs.iter().map(|r| r.1).sum();
    eprintln!(
        "validate and sepol_check_context: {} of {total} contexts answered alike, \
         {lenient} accepted by libsepol only for ignoring what follows a second `-`, none otherwise different",
        total - lenient
    );
}

/// The kernel reads a sensitivity or category alias as its primary name
/// (`secret` is s2, `red` is c1 in the fixture), and prints the primary.
#[test]
fn level_aliases_are_read_as_their_primary_names() {
    let p = Policy::from_path(workspace_root().join("tests/data/policydb/mls.33")).unwrap();
    let ctx = p
        .parse_context("sysadm_u:sysadm_r:user_t:secret:red,c2-secret:c0.c3")
        .unwrap();
    assert_eq!(
        ctx.to_string(),
        "sysadm_u:sysadm_r:user_t:s2:c1,c2-s2:c0.c3"
    );
    assert_eq!(p.validate(&ctx), Ok(()));
    // An alias type and alias levels: the canonical form has primary names.
    let ctx = p
        .parse_context("system_u:object_r:svirt_sandbox_file_t:secret:c0.red")
        .unwrap();
    assert_eq!(
        p.canonical_context(&ctx).unwrap().to_string(),
        "system_u:object_r:container_file_t:s2:c0,c1"
    );
    // Without aliases it is FromStr; a category `red` is not a sensitivity.
    assert_eq!(
        p.parse_context("system_u:object_r:file_t:s0:c1").unwrap(),
        "system_u:object_r:file_t:s0:c1".parse().unwrap()
    );
    assert!(p.parse_context("system_u:object_r:file_t:red").is_err());
    assert!(p
        .parse_context("system_u:object_r:file_t:s0:secret")
        .is_err());
    // s2 may carry only c0.c15 in the fixture.
    let ctx = p
        .parse_context("system_u:object_r:file_t:secret:c16")
        .unwrap();
    assert_eq!(
        p.validate(&ctx).unwrap_err().to_string(),
        "category c16 is not allowed with sensitivity s2"
    );
    // Errors are reported on the text as written.
    let e = p
        .parse_context("system_u:object_r:file_t:secret:c3.c1")
        .unwrap_err();
    assert!(e.to_string().contains("secret"), "{e}");
}
