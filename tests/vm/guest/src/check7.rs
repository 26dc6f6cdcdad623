//! Check 7: `policydb::Access::compute_av` against the kernel's own
//! decisions (`/sys/fs/selinux/access`) on the policy the guest loaded
//! (`/policy`): allowed, auditallow and auditdeny vectors for random
//! (source, target, class, levels) queries, first with the booleans at
//! their defaults, then with some flipped through
//! `/sys/fs/selinux/booleans` (and `access_with` the same values).

use std::fs;
use std::io;
use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use selinux_mcs::policydb::{Bitmap, Policy, PolicyLevel};
use selinux_mcs::SecurityContext;

use super::{result, say, Checker, SelinuxFs, SELINUXFS};

/// Queries per boolean setting (TCG is slow; each is one selinuxfs write).
const QUERIES: usize = 15_000;

/// The kernel's answer: "allowed decided auditallow auditdeny seqno flags".
fn kernel_av(scon: &str, tcon: &str, class: u32) -> io::Result<Option<(u32, u32, u32)>> {
    let Some(out) = SelinuxFs::transaction("access", format!("{scon} {tcon} {class}").as_bytes())?
    else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&out);
    let f: Vec<u32> = text
        .split_whitespace()
        .map(|w| u32::from_str_radix(w, 16).unwrap_or(0))
        .collect();
    match f.as_slice() {
        [allowed, _decided, auditallow, auditdeny, ..] => {
            Ok(Some((*allowed, *auditallow, *auditdeny)))
        }
        _ => Err(io::Error::other(format!("access answer {text:?}"))),
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, v: &'a [T]) -> Option<&'a T> {
    if v.is_empty() {
        None
    } else {
        Some(&v[rng.random_range(0..v.len())])
    }
}

/// A valid context holding type value `t`: a role that may hold it (or
/// object_r), a user of that role, a level within the user's range.
fn context(p: &Policy, rng: &mut ChaCha8Rng, t: u32) -> Option<String> {
    let roles: Vec<u32> = p
        .roles()
        .iter()
        .filter(|r| &*r.name != "object_r" && r.types.contains(t - 1))
        .filter(|r| p.users().iter().any(|u| u.roles.contains(r.value - 1)))
        .map(|r| r.value)
        .collect();
    let role = if roles.is_empty() || rng.random_range(0..4) == 0 {
        1
    } else {
        *pick(rng, &roles)?
    };
    let users: Vec<_> = p
        .users()
        .iter()
        .filter(|u| role == 1 || u.roles.contains(role - 1))
        .collect();
    let user = *pick(rng, &users)?;
    let cats: Vec<u32> = if role == 1 {
        (0..p.categories().len() as u32).collect()
    } else {
        user.range.high.cats.iter().collect()
    };
    let chosen: Vec<u32> = match rng.random_range(0..5) {
        0 => vec![],
        1 => cats.clone(),
        _ => (0..rng.random_range(1..3))
            .filter_map(|_| pick(rng, &cats).copied())
            .collect(),
    };
    let level = p.level_to_string(&PolicyLevel::new(1, Bitmap::from_bits(chosen)));
    Some(format!(
        "{}:{}:{}:{level}",
        user.name,
        p.roles()[role as usize - 1].name,
        p.types()[t as usize - 1].name
    ))
}

fn member(p: &Policy, rng: &mut ChaCha8Rng, v: u16) -> Option<u32> {
    let members: Vec<u32> = p.members_of(&p.types()[v as usize - 1]).iter().collect();
    pick(rng, &members).map(|b| b + 1)
}

fn run(
    c: &mut Checker,
    p: &Policy,
    booleans: Vec<bool>,
    rng: &mut ChaCha8Rng,
    what: &str,
) -> io::Result<()> {
    let access = p.access_with(booleans);
    let types: Vec<u32> = p
        .types()
        .iter()
        .filter(|t| !t.attribute)
        .map(|t| t.value)
        .collect();
    let (mut compared, mut allowed_some, mut refused) = (0, 0, 0);
    for _ in 0..QUERIES {
        let (s, t, class) = if rng.random_range(0..2) == 0 {
            let Some(r) = pick(rng, p.rules()) else {
                continue;
            };
            let (Some(s), Some(t)) = (member(p, rng, r.source), member(p, rng, r.target)) else {
                continue;
            };
            (s, t, u32::from(r.class))
        } else {
            let (Some(s), Some(t)) = (pick(rng, &types), pick(rng, &types)) else {
                continue;
            };
            (*s, *t, rng.random_range(1..=p.classes().len() as u32))
        };
        let (Some(scon), Some(tcon)) = (context(p, rng, s), context(p, rng, t)) else {
            continue;
        };
        let kernel = kernel_av(&scon, &tcon, class)?;
        let ours = match (
            scon.parse::<SecurityContext>(),
            tcon.parse::<SecurityContext>(),
        ) {
            (Ok(sc), Ok(tc)) => access.compute_av_value(&sc, &tc, class).ok(),
            _ => None,
        };
        let ours = ours.map(|av| (av.allowed, av.auditallow, av.auditdeny));
        if kernel.is_none() {
            refused += 1;
        }
        if kernel.is_some_and(|k| k.0 != 0) {
            allowed_some += 1;
        }
        compared += 1;
        c.expect("check7", ours == kernel, || {
            format!("{what}: {scon} {tcon} class {class}: ours {ours:x?}, kernel {kernel:x?}")
        });
    }
    say(&format!(
        "check7 {what}: {compared} queries compared with /sys/fs/selinux/access ({allowed_some} allow something, {refused} refused by both)"
    ));
    c.expect("check7", allowed_some > 0, || {
        format!("{what}: no query allowed anything")
    });
    Ok(())
}

/// Sets booleans in the kernel (pending, then committed).
fn set_kernel_booleans(p: &Policy, flips: &[(String, bool)]) -> io::Result<()> {
    let dir = Path::new(SELINUXFS).join("booleans");
    for (name, state) in flips {
        fs::write(dir.join(name), if *state { "1" } else { "0" })?;
    }
    fs::write(Path::new(SELINUXFS).join("commit_pending_bools"), "1")?;
    let _ = p;
    Ok(())
}

pub fn check7(seed: u64) -> io::Result<bool> {
    let started = Instant::now();
    say("== check 7: compute_av against /sys/fs/selinux/access on /policy");
    let mut c = Checker {
        failures: 0,
        checks: 0,
    };
    let t = Instant::now();
    let p = match Policy::from_path("/policy") {
        Ok(p) => p,
        Err(e) => {
            say(&format!("check7: /policy does not load: {e}"));
            return Ok(result("check7", false, started));
        }
    };
    say(&format!(
        "check7: /policy loaded in {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    ));
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7777);
    run(
        &mut c,
        &p,
        p.default_booleans(),
        &mut rng,
        "default booleans",
    )?;
    // Flip the booleans that gate the most conditional rules.
    let mut weight = vec![0usize; p.booleans().len()];
    for cond in p.conditionals() {
        let mut b = vec![];
        cond.expr.booleans(&mut b);
        for v in b {
            weight[v as usize - 1] += cond.if_true.len() + cond.if_false.len();
        }
    }
    let mut order: Vec<usize> = (0..weight.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(weight[*i]));
    let flips: Vec<(String, bool)> = order
        .iter()
        .take(6)
        .map(|i| (p.booleans()[*i].name.to_string(), !p.booleans()[*i].default))
        .collect();
    set_kernel_booleans(&p, &flips)?;
    let values = p
        .booleans_with(flips.iter().map(|(n, s)| (n.as_str(), *s)))
        .map_err(io::Error::other)?;
    run(&mut c, &p, values, &mut rng, &format!("flipped {flips:?}"))?;
    // Back to the defaults for whatever runs next.
    let back: Vec<(String, bool)> = flips.into_iter().map(|(n, s)| (n, !s)).collect();
    set_kernel_booleans(&p, &back)?;
    say(&format!(
        "check7: {} checks, {} failures",
        c.checks, c.failures
    ));
    Ok(result("check7", c.failures == 0, started))
}
