//! The policy reader against setools (libsepol underneath) on the same
//! files: every type with its aliases and attributes, every attribute's
//! members, every user's roles and range, every role's types, every
//! boolean's default, sensitivities, categories, classes and seinfo's
//! statistics must be identical. Policies: the committed MLS fixtures for
//! versions 30 to 33 (tests/data/policydb), Debian's installed policy, and
//! Debian's policy with tests/vm/container.cil built into a private root
//! with `semodule -p`.
//!
//! Needs /usr/bin/python3 with setools; without it the test says so and
//! passes, unless `SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1` (CI sets it).
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

use selinux_mcs::policydb::{Policy, PolicyLevel};
use selinux_mcs_tests::system_policy::{container_policy, debian_policy, required};
use serde_json::{json, Map, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn have_setools() -> bool {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import setools"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || !required(),
        "SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1 but python3-setools is not installed"
    );
    if !ok {
        eprintln!("skipped: /usr/bin/python3 has no setools (apt install python3-setools)");
    }
    ok
}

fn setools_dump(path: &Path) -> Value {
    let out = Command::new("/usr/bin/python3")
        .arg(repo().join("tests/scripts/setools_dump.py"))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "setools_dump.py {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn level(p: &Policy, l: &PolicyLevel) -> Value {
    let mut cats: Vec<String> = l
        .cats
        .iter()
        .map(|b| p.categories()[b as usize].name.to_string())
        .collect();
    cats.sort();
    json!({"sens": p.sensitivities()[l.sens as usize - 1].name.to_string(), "cats": cats})
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The same shape as setools_dump.py, from our reader.
fn our_dump(p: &Policy) -> Value {
    let mut types = Map::new();
    let mut attributes = Map::new();
    for t in p.types() {
        if t.attribute {
            let members = p
                .members_of(t)
                .iter()
                .map(|b| p.types()[b as usize].name.to_string())
                .collect();
            attributes.insert(t.name.to_string(), json!(sorted(members)));
        } else {
            types.insert(
                t.name.to_string(),
                json!({
                    "aliases": sorted(t.aliases.iter().map(|a| a.to_string()).collect()),
                    "attributes": sorted(p.attributes_of(t).iter().map(|a| a.name.to_string()).collect()),
                    "permissive": p.is_permissive(t),
                }),
            );
        }
    }
    let users: Map<String, Value> = p
        .users()
        .iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|b| p.roles()[b as usize].name.to_string())
                .collect();
            let (range, dflt) = if p.mls() {
                (
                    json!({"low": level(p, &u.range.low), "high": level(p, &u.range.high)}),
                    level(p, &u.default_level),
                )
            } else {
                (Value::Null, Value::Null)
            };
            (
                u.name.to_string(),
                json!({"roles": sorted(roles), "range": range, "default_level": dflt}),
            )
        })
        .collect();
    let roles: Map<String, Value> = p
        .roles()
        .iter()
        .filter(|r| &*r.name != "object_r")
        .map(|r| {
            let types = r
                .types
                .iter()
                .map(|b| p.types()[b as usize].name.to_string())
                .collect();
            (r.name.to_string(), json!(sorted(types)))
        })
        .collect();
    let booleans: Map<String, Value> = p
        .booleans()
        .iter()
        .map(|b| (b.name.to_string(), json!(b.default)))
        .collect();
    let sensitivities: Vec<Value> = p
        .sensitivities()
        .iter()
        .map(|s| json!({"name": s.name.to_string(), "aliases": sorted(s.aliases.iter().map(|a| a.to_string()).collect())}))
        .collect();
    let categories: Map<String, Value> = p
        .categories()
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                json!(sorted(c.aliases.iter().map(|a| a.to_string()).collect())),
            )
        })
        .collect();
    let classes: Map<String, Value> = p
        .classes()
        .iter()
        .map(|c| {
            let mut perms: Vec<String> =
                p.class_permissions(c).map(|(n, _)| n.to_owned()).collect();
            perms.sort();
            perms.dedup();
            (c.name.to_string(), json!(perms))
        })
        .collect();
    json!({
        "types": types,
        "attributes": attributes,
        "users": users,
        "roles": roles,
        "booleans": booleans,
        "sensitivities": sensitivities,
        "categories": categories,
        "classes": classes,
        "stats": serde_json::to_value(p.stats()).unwrap(),
    })
}

/// Compares section by section, naming the first differing entries.
fn compare(path: &Path) {
    let theirs = setools_dump(path);
    let p = Policy::from_path(path).unwrap();
    let ours = our_dump(&p);
    let mut problems = vec![];
    for section in [
        "types",
        "attributes",
        "users",
        "roles",
        "booleans",
        "sensitivities",
        "categories",
        "classes",
        "stats",
    ] {
        let (a, b) = (&ours[section], &theirs[section]);
        if a == b {
            continue;
        }
        match (a.as_object(), b.as_object()) {
            (Some(a), Some(b)) => {
                for (k, v) in a {
                    if b.get(k) != Some(v) {
                        problems.push(format!(
                            "{section}.{k}: ours {v}, setools {}",
                            b.get(k).unwrap_or(&Value::Null)
                        ));
                    }
                }
                for k in b.keys().filter(|k| !a.contains_key(*k)) {
                    problems.push(format!("{section}.{k}: missing from ours"));
                }
            }
            _ => problems.push(format!("{section}: ours {a}, setools {b}")),
        }
    }
    problems.truncate(20);
    assert!(
        problems.is_empty(),
        "{}: {} differences:\n{}",
        path.display(),
        problems.len(),
        problems.join("\n")
    );
    let n = |s: &str| ours[s].as_object().map_or(0, |o| o.len());
    eprintln!(
        "{}: identical ({} types, {} attributes, {} users, {} roles, {} booleans, statistics)",
        path.display(),
        n("types"),
        n("attributes"),
        n("users"),
        n("roles"),
        n("booleans")
    );
}

#[test]
fn fixtures_for_each_version_match_setools() {
    if !have_setools() {
        return;
    }
    for v in 30..=33 {
        let path = repo().join(format!("tests/data/policydb/mls.{v}"));
        assert_eq!(Policy::from_path(&path).unwrap().version(), v);
        compare(&path);
    }
}

#[test]
fn debian_policy_matches_setools() {
    if !have_setools() {
        return;
    }
    if let Some(path) = debian_policy() {
        compare(&path);
    }
}

#[test]
fn container_module_policy_matches_setools() {
    if !have_setools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    if let Some(path) = container_policy(dir.path()) {
        compare(&path);
        let p = Policy::from_path(&path).unwrap();
        // The module's types are there, and the policy marks container_t
        // constrained while the built-in list never knew qemu_t.
        assert!(p.type_("container_t").is_some());
        let constrained = p.mcs_constrained_types();
        assert!(constrained.contains("container_t"), "{:?}", constrained);
    }
}
