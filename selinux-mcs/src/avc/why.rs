//! Why an AVC record happened: the decision recomputed from the policy,
//! classified as `audit2why` classifies it, with the fix in words.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::{AvcGroup, AvcKind, AvcRecord};
use crate::escape::Escaped;
use crate::mcs::ConstrainedTypes;
use crate::policydb::{Access, AccessError, Denial, PermissionVerdict, Policy, RuleKind};
use crate::SecurityContext;

/// Which part of the policy decides a record, in `audit2why`'s order:
/// type enforcement first (with the booleans), then constraints, then the
/// role allow check, then bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// Every permission is allowed now: the policy or its booleans changed
    /// since the record was logged, or it came from another policy (or,
    /// for a `granted` record, an `auditallow` rule logs it).
    AllowedNow,
    /// Type enforcement denies it, and turning one boolean to the state
    /// given would allow every permission of the record (each entry alone
    /// suffices).
    Boolean {
        /// (name, the state that allows it).
        booleans: Vec<(String, bool)>,
    },
    /// No `allow` rule grants it, and no single boolean would.
    TypeEnforcement,
    /// As [`TypeEnforcement`](Cause::TypeEnforcement), but a `dontaudit`
    /// rule covers a permission of the record, so the policy in use would
    /// not have logged it: it was logged with dontaudit rules disabled
    /// (`semodule -DB`) or under another policy.
    Dontaudit,
    /// Type enforcement allows it; a constraint removes it.
    Constraint {
        /// An `mlsconstrain` (else a `constrain`).
        mls: bool,
        /// The failing constraint's expression, as policy text.
        expression: String,
        /// For an MLS constraint: the categories the source lacks.
        missing_categories: Vec<String>,
    },
    /// A process transition changes role without `allow FROM TO;`.
    RoleAllow {
        /// The source's role.
        from: String,
        /// The target's role.
        to: String,
    },
    /// The source type's `typebounds` parent lacks the permission.
    Bounds {
        /// The bounding type.
        parent: String,
    },
}

impl Cause {
    /// A stable name: `allowed-now`, `boolean`, `type-enforcement`,
    /// `dontaudit`, `constraint`, `mls` (an MLS constraint, no category
    /// missing), `mcs` (an MLS constraint the source fails for lack of
    /// categories), `rbac`, `bounds`.
    pub fn class(&self) -> &'static str {
        match self {
            Cause::AllowedNow => "allowed-now",
            Cause::Boolean { .. } => "boolean",
            Cause::TypeEnforcement => "type-enforcement",
            Cause::Dontaudit => "dontaudit",
            Cause::Constraint { mls: false, .. } => "constraint",
            Cause::Constraint {
                missing_categories, ..
            } if missing_categories.is_empty() => "mls",
            Cause::Constraint { .. } => "mcs",
            Cause::RoleAllow { .. } => "rbac",
            Cause::Bounds { .. } => "bounds",
        }
    }
}

/// The explanation of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// What decides it.
    pub cause: Cause,
    /// Each permission of the record, with the first rule that denies it.
    pub permissions: Vec<PermissionVerdict>,
    /// What happened and why, one or two sentences.
    pub explanation: String,
    /// What to do, in words or as a command.
    pub fix: String,
    /// The rule `audit2allow` would write for the record
    /// (`allow container_t user_home_t:file { open read };`).
    pub allow_rule: String,
    /// Whether the policy logs a denial of every permission (no
    /// `dontaudit` rule covers one of them).
    pub audited: bool,
    /// Whether the source type is permissive in the policy.
    pub permissive_type: bool,
}

/// Explains AVC records with a policy and one set of boolean values.
///
/// ```no_run
/// use selinux_mcs::avc::{AvcRecord, Why};
/// use selinux_mcs::policydb::Policy;
/// let policy = Policy::system()?;
/// let access = policy.access();
/// let line = "avc:  denied  { read } for  pid=4242 comm=\"cat\" name=\"data\" scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c1,c3 tclass=file permissive=0";
/// let record = AvcRecord::parse(line, 1)?.expect("a record");
/// let verdict = Why::new(&access).explain(&record)?;
/// assert_eq!(verdict.cause.class(), "mcs");
/// println!("{}\nfix: {}", verdict.explanation, verdict.fix);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Why<'a, 'p> {
    access: &'a Access<'p>,
    constrained: ConstrainedTypes,
    /// Decisions with one boolean flipped, by boolean value - 1 (built on
    /// demand: only booleans whose conditions hold a relevant rule).
    flipped: Mutex<HashMap<usize, Arc<Access<'p>>>>,
}

/// How many flipped-boolean decision tables to keep (each indexes the
/// whole access vector table).
const FLIPPED_CACHE: usize = 16;

/// Classes whose objects live in a file system: an MCS denial on them is
/// fixed by relabeling the files.
const FILE_CLASSES: &[&str] = &[
    "file",
    "dir",
    "lnk_file",
    "chr_file",
    "blk_file",
    "sock_file",
    "fifo_file",
];

impl<'a, 'p> Why<'a, 'p> {
    /// Explanations under `access`'s policy and booleans.
    pub fn new(access: &'a Access<'p>) -> Why<'a, 'p> {
        Why {
            access,
            constrained: ConstrainedTypes::from_policy(access.policy()),
            flipped: Mutex::new(HashMap::new()),
        }
    }

    /// The record's verdict. Errors when the record names a context the
    /// policy rejects, or a class or permission it does not define (as
    /// `audit2why`, which reports such records as invalid).
    pub fn explain(&self, record: &AvcRecord) -> Result<Verdict, AccessError> {
        let p = self.access.policy();
        let (s, t) = (record.scontext(), record.tcontext());
        let class = p
            .class(record.tclass())
            .ok_or_else(|| AccessError::UnknownClass(record.tclass().to_owned()))?;
        let mut perms: Vec<&str> = vec![];
        for perm in record.permissions() {
            if !perms.contains(&perm.as_str()) {
                perms.push(perm);
            }
        }
        let mut requested = 0u32;
        for perm in &perms {
            let v =
                p.permission_value(class, perm)
                    .ok_or_else(|| AccessError::UnknownPermission {
                        class: record.tclass().to_owned(),
                        perm: (*perm).to_owned(),
                    })?;
            requested |= 1 << (v - 1);
        }
        let (av, reasons) = self
            .access
            .compute_av_reason(s, t, class.value, requested)?;
        let details = self.access.explain(s, t, record.tclass(), &perms)?;
        let audited = requested & !av.auditdeny == 0;
        let te_denied: u32 = details
            .iter()
            .filter(|d| matches!(d.denial, Some(Denial::TypeEnforcement { .. })))
            .filter_map(|d| p.permission_value(class, &d.permission))
            .fold(0, |acc, v| acc | (1 << (v - 1)));
        let first = |want: fn(&Denial) -> bool| {
            details
                .iter()
                .filter_map(|d| d.denial.as_ref())
                .find(|d| want(d))
                .cloned()
        };
        let cause = if reasons.bits() == 0 {
            Cause::AllowedNow
        } else if reasons.te {
            let booleans = self.single_flips(s, t, class.value, requested, te_denied)?;
            if !booleans.is_empty() {
                Cause::Boolean { booleans }
            } else if !audited {
                Cause::Dontaudit
            } else {
                Cause::TypeEnforcement
            }
        } else if reasons.constraint {
            // A category the source's high level holds is not one it
            // lacks (a failed `l2 eq h2` compares the target with itself).
            let has = |c: &str| {
                s.high_level()
                    .is_some_and(|l| l.categories().iter().any(|x| x.to_string() == c))
            };
            let mut missing: Vec<String> = vec![];
            for d in details.iter().filter_map(|d| d.denial.as_ref()) {
                if let Denial::Constraint {
                    missing_categories, ..
                } = d
                {
                    for c in missing_categories {
                        if !missing.contains(c) && !has(c) {
                            missing.push(c.clone());
                        }
                    }
                }
            }
            match first(|d| matches!(d, Denial::Constraint { .. })) {
                Some(Denial::Constraint {
                    mls, expression, ..
                }) => Cause::Constraint {
                    mls,
                    expression,
                    missing_categories: missing,
                },
                _ => Cause::Constraint {
                    mls: false,
                    expression: String::new(),
                    missing_categories: missing,
                },
            }
        } else if reasons.rbac {
            match first(|d| matches!(d, Denial::RoleAllow { .. })) {
                Some(Denial::RoleAllow { from, to }) => Cause::RoleAllow { from, to },
                _ => Cause::RoleAllow {
                    from: s.role().to_owned(),
                    to: t.role().to_owned(),
                },
            }
        } else {
            match first(|d| matches!(d, Denial::Bounds { .. })) {
                Some(Denial::Bounds { parent }) => Cause::Bounds { parent },
                _ => Cause::Bounds {
                    parent: String::new(),
                },
            }
        };
        let permissive_type = p.type_(s.type_()).is_some_and(|ty| p.is_permissive(ty));
        let allow_rule = allow_rule(s.type_(), t.type_(), record.tclass(), &perms);
        let (explanation, fix) = self.words(record, &cause, &allow_rule, p);
        let mut explanation = explanation;
        if record.permissive() == Some(true) && !matches!(cause, Cause::AllowedNow) {
            explanation.push_str(
                " The record says permissive=1: the kernel logged the denial but let the access through.",
            );
        } else if permissive_type && !matches!(cause, Cause::AllowedNow) {
            let _ = write!(
                explanation,
                " {} is a permissive type: such denials are logged, not enforced.",
                s.type_()
            );
        }
        Ok(Verdict {
            cause,
            permissions: details,
            explanation,
            fix,
            allow_rule,
            audited,
            permissive_type,
        })
    }

    /// `audit2why`'s boolean search: each boolean alone set to the other
    /// state, and kept when the whole request is then allowed. Only the
    /// booleans of conditions that hold an `allow` of a denied permission
    /// between the two types can do that, so only those are tried.
    fn single_flips(
        &self,
        s: &SecurityContext,
        t: &SecurityContext,
        class: u32,
        requested: u32,
        te_denied: u32,
    ) -> Result<Vec<(String, bool)>, AccessError> {
        let p = self.access.policy();
        let current = self.access.booleans();
        let (Some(st), Some(tt)) = (p.type_(s.type_()), p.type_(t.type_())) else {
            return Ok(vec![]);
        };
        let attrs = p.type_attribute_map();
        let (Some(sattr), Some(tattr)) = (
            attrs.get((st.value as usize).wrapping_sub(1)),
            attrs.get((tt.value as usize).wrapping_sub(1)),
        ) else {
            return Ok(vec![]);
        };
        let rules = p.conditional_rules();
        let matching = |range: std::ops::Range<usize>| -> u32 {
            rules
                .get(range)
                .unwrap_or_default()
                .iter()
                .filter(|r| {
                    r.kind == RuleKind::Allow
                        && u32::from(r.class) == class
                        && u32::from(r.source)
                            .checked_sub(1)
                            .is_some_and(|v| sattr.contains(v))
                        && u32::from(r.target)
                            .checked_sub(1)
                            .is_some_and(|v| tattr.contains(v))
                })
                .fold(0, |acc, r| acc | r.data)
        };
        // The conditionals with an allow between the two types: each with
        // the permissions its true and its false branch grant.
        let mut relevant = vec![];
        let mut candidates: Vec<u32> = vec![];
        for cond in p.conditionals() {
            let (yes, no) = (
                matching(cond.if_true.clone()),
                matching(cond.if_false.clone()),
            );
            if (yes | no) & te_denied != 0 {
                cond.expr.booleans(&mut candidates);
            }
            if yes | no != 0 {
                relevant.push((&cond.expr, yes, no));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = vec![];
        for b in candidates {
            let i = (b as usize).wrapping_sub(1);
            let (Some(state), Some(def)) = (current.get(i), p.booleans().get(i)) else {
                continue;
            };
            // Cheap and exact as a necessary condition: with `b` flipped,
            // the conditional rules must grant every permission type
            // enforcement denies now (no unconditional rule does). Only
            // then is the whole decision recomputed.
            let value = |v: u32| {
                let on = current
                    .get((v as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or(false);
                if v == b {
                    !on
                } else {
                    on
                }
            };
            let granted = relevant.iter().fold(0, |acc, (expr, yes, no)| {
                acc | if expr.eval(&value) { *yes } else { *no }
            });
            if te_denied & !granted != 0 {
                continue;
            }
            let flipped = self.flipped_access(i);
            let (_, reasons) = flipped.compute_av_reason(s, t, class, requested)?;
            if reasons.bits() == 0 {
                out.push((def.name.to_string(), !state));
            }
        }
        Ok(out)
    }

    fn flipped_access(&self, i: usize) -> Arc<Access<'p>> {
        let mut cache = self.flipped.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = cache.get(&i) {
            return Arc::clone(a);
        }
        let mut booleans = self.access.booleans().to_vec();
        if let Some(b) = booleans.get_mut(i) {
            *b = !*b;
        }
        let a = Arc::new(self.access.policy().access_with(booleans));
        if cache.len() >= FLIPPED_CACHE {
            cache.clear();
        }
        cache.insert(i, Arc::clone(&a));
        a
    }

    /// The explanation and the fix, in words.
    fn words(
        &self,
        record: &AvcRecord,
        cause: &Cause,
        allow_rule: &str,
        p: &Policy,
    ) -> (String, String) {
        let (s, t) = (record.scontext(), record.tcontext());
        let perms = record.permissions().join(" ");
        match cause {
            Cause::AllowedNow if record.kind() == AvcKind::Granted => (
                format!("The policy allows {{ {perms} }}; an auditallow rule logs it."),
                "nothing: the access is allowed (remove the auditallow rule to stop logging it)"
                    .to_owned(),
            ),
            Cause::AllowedNow => (
                format!(
                    "Allowed now: this policy grants {{ {perms} }}. The record was logged under another policy or other boolean values (a module or a boolean changed since), or on another host."
                ),
                "nothing to add to this policy; compare the booleans (relabel booleans) and modules with the host that logged it".to_owned(),
            ),
            Cause::Boolean { booleans } => {
                let names: Vec<String> = booleans
                    .iter()
                    .map(|(b, v)| format!("{b}={}", on_off(*v)))
                    .collect();
                let cmds: Vec<String> = booleans
                    .iter()
                    .map(|(b, v)| format!("setsebool -P {b} {}", on_off(*v)))
                    .collect();
                (
                    format!(
                        "Type enforcement: no allow rule grants it with the booleans as they are; a conditional rule would with {}.",
                        names.join(" or ")
                    ),
                    if cmds.len() == 1 {
                        cmds[0].clone()
                    } else {
                        format!("one of: {}", cmds.join("; "))
                    },
                )
            }
            Cause::TypeEnforcement => (
                format!(
                    "Type enforcement: no allow rule gives {} {{ {perms} }} on {} (class {}), and no boolean would.",
                    s.type_(),
                    t.type_(),
                    record.tclass()
                ),
                format!("a policy module with the rule audit2allow writes: {allow_rule}"),
            ),
            Cause::Dontaudit => (
                format!(
                    "Type enforcement: no allow rule gives {} {{ {perms} }} on {} (class {}), and a dontaudit rule hides the denial: it was logged with dontaudit rules disabled (semodule -DB) or under another policy.",
                    s.type_(),
                    t.type_(),
                    record.tclass()
                ),
                format!(
                    "usually nothing (semodule -B restores the dontaudit rules); if the access is needed: {allow_rule}"
                ),
            ),
            Cause::Constraint {
                mls: true,
                expression,
                missing_categories,
            } if !missing_categories.is_empty() => {
                let missing = missing_categories.join(",");
                let level = s
                    .high_level()
                    .map_or_else(|| "s0".to_owned(), |l| l.to_string());
                let noun = if missing_categories.len() == 1 {
                    "category"
                } else {
                    "categories"
                };
                let explanation = format!(
                    "MCS: the source ({}) lacks {noun} {missing} of the target ({}); mlsconstrain {expression} fails.",
                    s.range().map_or_else(String::new, |r| r.to_string()),
                    t.range().map_or_else(String::new, |r| r.to_string()),
                );
                let file = FILE_CLASSES.contains(&record.tclass());
                let fix = if file && self.constrained.contains(s.type_()) {
                    let mut cmd = format!(
                        "relabel the volume with the container's pair: relabel apply --private --level {level}"
                    );
                    if t.type_() != "container_file_t" {
                        let _ = write!(
                            cmd,
                            " --file-context {}:{}:{}:s0",
                            t.user(),
                            t.role(),
                            t.type_()
                        );
                    }
                    match (record.path(), record.name()) {
                        (Some(path), _) => {
                            let _ = write!(
                                cmd,
                                " {} (or the volume's top directory, to relabel it all)",
                                shell_word(path)
                            );
                        }
                        (None, Some(name)) => {
                            let _ = write!(
                                cmd,
                                " PATH (the volume holding \"{}\"{})",
                                Escaped::bytes(name),
                                device(record)
                            );
                        }
                        (None, None) => cmd.push_str(" PATH"),
                    }
                    cmd
                } else if file {
                    format!(
                        "give the target a level within the source's (chcon -l {level} ...), or run the source with categories that include {missing}"
                    )
                } else {
                    format!(
                        "the two must share categories: run the source with categories that include {missing}, or give the target the source's level {level}"
                    )
                };
                (explanation, fix)
            }
            Cause::Constraint {
                mls: true,
                expression,
                ..
            } => (
                format!(
                    "MLS: mlsconstrain {expression} fails for the source's range {} and the target's {}.",
                    s.range().map_or_else(String::new, |r| r.to_string()),
                    t.range().map_or_else(String::new, |r| r.to_string()),
                ),
                "change the source's or the target's level so that the constraint holds (a target with a single level the source dominates passes most MLS constraints)".to_owned(),
            ),
            Cause::Constraint { expression, .. } => {
                let mut differ = vec![];
                if s.user() != t.user() {
                    differ.push(format!("users {} and {}", s.user(), t.user()));
                }
                if s.role() != t.role() && t.role() != "object_r" {
                    differ.push(format!("roles {} and {}", s.role(), t.role()));
                }
                let why = if differ.is_empty() {
                    String::new()
                } else {
                    format!(" The labels differ in their {}.", differ.join(" and "))
                };
                (
                    format!("Constraint: constrain {expression} fails.{why}"),
                    "change the source's or the target's label (user, role or type) so that the constraint holds; an allow rule cannot help".to_owned(),
                )
            }
            Cause::RoleAllow { from, to } => (
                format!("RBAC: the transition changes role from {from} to {to}, and no role allow rule permits it."),
                format!("a policy module with the role allow rule: allow {from} {to};"),
            ),
            Cause::Bounds { parent } => {
                let target = p
                    .type_(t.type_())
                    .and_then(|ty| p.type_by_value(ty.bounds))
                    .map_or(t.type_(), |b| &*b.name);
                (
                    format!(
                        "Type bounds: {} is bounded by {parent}, which has no {{ {perms} }} on {target} (class {}).",
                        s.type_(),
                        record.tclass()
                    ),
                    format!(
                        "allow the parent type too: {}",
                        allow_rule_for(parent, target, record.tclass(), record.permissions())
                    ),
                )
            }
        }
    }
}

/// A path as a shell word: as it is when it holds only characters no
/// shell treats specially, else between single quotes. Control characters
/// and bytes that are not UTF-8 show escaped (see [`crate::escape`]).
fn shell_word(bytes: &[u8]) -> String {
    let text = Escaped::bytes(bytes).to_string();
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-+:,@%=".contains(&b));
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn on_off(v: bool) -> &'static str {
    if v {
        "on"
    } else {
        "off"
    }
}

fn device(record: &AvcRecord) -> String {
    let mut out = String::new();
    if let Some(dev) = record.field("dev") {
        let _ = write!(out, " on {}", Escaped::bytes(dev));
    }
    if let Some(ino) = record.field("ino") {
        let _ = write!(out, ", inode {}", Escaped::bytes(ino));
    }
    out
}

/// The rule `audit2allow` writes: `self` when source and target types are
/// the same, permissions sorted, braces only around several.
fn allow_rule(source: &str, target: &str, class: &str, perms: &[&str]) -> String {
    let target = if source == target { "self" } else { target };
    allow_rule_for(source, target, class, perms)
}

fn allow_rule_for(source: &str, target: &str, class: &str, perms: &[impl AsRef<str>]) -> String {
    let mut sorted: Vec<&str> = perms.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let perms = if sorted.len() == 1 {
        sorted[0].to_owned()
    } else {
        format!("{{ {} }}", sorted.join(" "))
    };
    format!("allow {source} {target}:{class} {perms};")
}

fn denial_class(d: &Denial) -> &'static str {
    match d {
        Denial::TypeEnforcement { .. } => "type-enforcement",
        Denial::Constraint { mls: false, .. } => "constraint",
        Denial::Constraint {
            missing_categories, ..
        } if missing_categories.is_empty() => "mls",
        Denial::Constraint { .. } => "mcs",
        Denial::RoleAllow { .. } => "rbac",
        Denial::Bounds { .. } => "bounds",
    }
}

impl AvcGroup {
    /// The group and its verdict as one JSON object (the shape `relabel
    /// why --json` prints for each group):
    ///
    /// `{"line": first line, "lines": [...], "count": n, "kind": "denied" |
    /// "granted", "permissions": [...], "scontext": "...", "tcontext":
    /// "...", "tclass": "...", "permissive": bool or null, "event": "..."
    /// or null, "comm", "name", "path": text or null (with "comm_escaped"
    /// ... true when the bytes were not UTF-8, see [`crate::escape`]),
    /// "verdict": a [`Cause::class`] or "error", "explanation": "...",
    /// "fix": "...", "allow_rule": "...", "booleans": [{"name": ...,
    /// "value": bool}], "constraint": {"mls": bool, "expression": "...",
    /// "missing_categories": [...]} or null, "role_allow": {"from": ...,
    /// "to": ...} or null, "bounds": parent or null, "audited": bool,
    /// "permissive_type": bool, "permission_verdicts": [{"permission":
    /// ..., "allowed": bool, "denied_by": a class or null, "reason": text
    /// or null}], "error": null or the message}`.
    pub fn to_json(&self, verdict: Result<&Verdict, &AccessError>) -> Value {
        let r = self.record();
        let mut doc = serde_json::Map::new();
        doc.insert("line".into(), json!(r.line()));
        doc.insert("lines".into(), json!(self.lines()));
        doc.insert("count".into(), json!(self.count()));
        doc.insert("kind".into(), json!(r.kind().as_str()));
        doc.insert("permissions".into(), json!(r.permissions()));
        doc.insert("scontext".into(), json!(r.scontext().to_string()));
        doc.insert("tcontext".into(), json!(r.tcontext().to_string()));
        doc.insert("tclass".into(), json!(r.tclass()));
        doc.insert("permissive".into(), json!(r.permissive()));
        doc.insert("event".into(), json!(r.event()));
        for (key, value) in [("comm", r.comm()), ("name", r.name()), ("path", r.path())] {
            match value {
                Some(v) => Escaped::bytes(v).insert_json(&mut doc, key),
                None => {
                    doc.insert(key.into(), Value::Null);
                }
            }
        }
        match verdict {
            Err(e) => {
                doc.insert("verdict".into(), json!("error"));
                doc.insert("error".into(), json!(e.to_string()));
            }
            Ok(v) => {
                doc.insert("verdict".into(), json!(v.cause.class()));
                doc.insert("explanation".into(), json!(v.explanation));
                doc.insert("fix".into(), json!(v.fix));
                doc.insert("allow_rule".into(), json!(v.allow_rule));
                let booleans: Vec<Value> = match &v.cause {
                    Cause::Boolean { booleans } => booleans
                        .iter()
                        .map(|(n, s)| json!({"name": n, "value": s}))
                        .collect(),
                    _ => vec![],
                };
                doc.insert("booleans".into(), json!(booleans));
                doc.insert(
                    "constraint".into(),
                    match &v.cause {
                        Cause::Constraint {
                            mls,
                            expression,
                            missing_categories,
                        } => json!({"mls": mls, "expression": expression, "missing_categories": missing_categories}),
                        _ => Value::Null,
                    },
                );
                doc.insert(
                    "role_allow".into(),
                    match &v.cause {
                        Cause::RoleAllow { from, to } => json!({"from": from, "to": to}),
                        _ => Value::Null,
                    },
                );
                doc.insert(
                    "bounds".into(),
                    match &v.cause {
                        Cause::Bounds { parent } => json!(parent),
                        _ => Value::Null,
                    },
                );
                doc.insert("audited".into(), json!(v.audited));
                doc.insert("permissive_type".into(), json!(v.permissive_type));
                let perms: Vec<Value> = v
                    .permissions
                    .iter()
                    .map(|pv| {
                        json!({
                            "permission": pv.permission,
                            "allowed": pv.allowed(),
                            "denied_by": pv.denial.as_ref().map(denial_class),
                            "reason": pv.denial.as_ref().map(ToString::to_string),
                        })
                    })
                    .collect();
                doc.insert("permission_verdicts".into(), json!(perms));
                doc.insert("error".into(), Value::Null);
            }
        }
        Value::Object(doc)
    }
}
