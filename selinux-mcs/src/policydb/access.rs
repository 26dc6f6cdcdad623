//! Access decisions from the policy, computed as the kernel's
//! `context_struct_compute_av` computes them (security/selinux/ss/services.c):
//! type enforcement through every attribute of source and target, the
//! conditional rules whose condition holds under the booleans, the class's
//! constraints (MLS included), the role allow check for process
//! transitions, and type bounds.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::RwLock;

use rustc_hash::FxHasher;

use super::{
    AvRule, ConstraintAttr, ConstraintExpr, ConstraintOp, ConstraintSide, Policy, PolicyContext,
    PolicyLevel, RuleKind, ValidityError,
};
use crate::SecurityContext;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What the kernel decides for a (source, target, class): the permission
/// bits (bit = permission value - 1) allowed, audited when allowed, and
/// audited when denied, and whether the source domain is permissive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccessVector {
    /// Permissions granted.
    pub allowed: u32,
    /// Granted permissions that are logged (`auditallow`).
    pub auditallow: u32,
    /// Denied permissions that are logged (all but `dontaudit`'s).
    pub auditdeny: u32,
    /// The source type is permissive: denials are logged, not enforced.
    pub permissive: bool,
}

/// Why a decision could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// The source context is not valid in the policy.
    #[error("source context {context}: {error}")]
    Source {
        /// The context.
        context: String,
        /// Why.
        error: ValidityError,
    },
    /// The target context is not valid in the policy.
    #[error("target context {context}: {error}")]
    Target {
        /// The context.
        context: String,
        /// Why.
        error: ValidityError,
    },
    /// The class is not defined.
    #[error("unknown class {0}")]
    UnknownClass(String),
    /// A permission is not defined for the class.
    #[error("class {class} has no permission {perm}")]
    UnknownPermission {
        /// The class.
        class: String,
        /// The permission.
        perm: String,
    },
    /// A boolean override names no boolean.
    #[error("unknown boolean {0}")]
    UnknownBoolean(String),
}

/// Which rule decided a permission's denial, in the kernel's order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denial {
    /// No `allow` rule grants it (type enforcement). `booleans` lists the
    /// settings that would enable a conditional rule granting it.
    TypeEnforcement {
        /// Boolean settings (name, state) that would allow it.
        booleans: Vec<(String, bool)>,
    },
    /// A `constrain` or `mlsconstrain` statement removes it.
    Constraint {
        /// Whether it is an MLS constraint.
        mls: bool,
        /// The constraint's expression, as policy text.
        expression: String,
        /// For an MLS constraint: the categories the source lacks (the
        /// target's categories outside the source's, in the level
        /// comparisons that failed).
        missing_categories: Vec<String>,
    },
    /// A process transition changes role without `allow r1 r2`.
    RoleAllow {
        /// The source role.
        from: String,
        /// The target role.
        to: String,
    },
    /// The source type's `typebounds` parent is not allowed it.
    Bounds {
        /// The bounding type.
        parent: String,
    },
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::TypeEnforcement { booleans } if booleans.is_empty() => {
                f.write_str("no allow rule grants it (type enforcement)")
            }
            Denial::TypeEnforcement { booleans } => {
                let list: Vec<String> = booleans
                    .iter()
                    .map(|(b, s)| format!("{b}={}", if *s { "on" } else { "off" }))
                    .collect();
                write!(
                    f,
                    "no allow rule grants it with the current booleans; {} would",
                    list.join(" and ")
                )
            }
            Denial::Constraint {
                mls,
                expression,
                missing_categories,
            } => {
                let kind = if *mls { "mlsconstrain" } else { "constrain" };
                write!(f, "{kind} {expression} fails")?;
                if !missing_categories.is_empty() {
                    write!(f, " (the source lacks {})", missing_categories.join(","))?;
                }
                Ok(())
            }
            Denial::RoleAllow { from, to } => {
                write!(f, "no `allow {from} {to};` for the role change")
            }
            Denial::Bounds { parent } => {
                write!(f, "its typebounds parent {parent} is not allowed it")
            }
        }
    }
}

/// One permission's verdict, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PermissionVerdict {
    /// The permission.
    pub permission: String,
    /// `None` when allowed, else the first rule that denies it.
    pub denial: Option<Denial>,
    /// The denial would be logged (not `dontaudit`ed).
    pub audited: bool,
    /// The source is permissive: a denial is logged but not enforced.
    pub permissive: bool,
}

impl PermissionVerdict {
    /// Whether the policy allows it.
    pub fn allowed(&self) -> bool {
        self.denial.is_none()
    }
}

/// Access decisions over one policy and one set of boolean values, with a
/// cache. Build once ([`Policy::access`]) and share: it is `Sync`.
///
/// ```no_run
/// use selinux_mcs::policydb::Policy;
/// let policy = Policy::system()?;
/// let access = policy.access();
/// let s = "system_u:system_r:container_t:s0:c1,c2".parse()?;
/// let t = "system_u:object_r:container_file_t:s0:c1,c3".parse()?;
/// let av = access.compute_av(&s, &t, "file")?;
/// let read = policy.permission_value(policy.class("file").unwrap(), "read").unwrap();
/// assert_eq!(av.allowed & (1 << (read - 1)), 0); // MCS: c3 is not the container's
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Access<'p> {
    policy: &'p Policy,
    booleans: Vec<bool>,
    /// (source, target, class) → range of `rules`.
    index: FxMap<u64, (u32, u32)>,
    /// Unconditional rules, then conditional ones, sorted by key. For a
    /// conditional rule, `enabled` is its state under `booleans`.
    rules: Vec<IndexedRule>,
    process_class: u32,
    trans_perms: u32,
    /// Decisions by a hash of (source, target, class); the entries are
    /// compared in full, so a collision costs a miss, never a wrong answer.
    /// Looking up hashes the contexts' text in place: no clone, no
    /// allocation on a hit.
    cache: RwLock<FxMap<u64, Vec<CacheEntry>>>,
}

type CacheEntry = (SecurityContext, SecurityContext, u32, AccessVector);

fn cache_hash(s: &SecurityContext, t: &SecurityContext, class: u32) -> u64 {
    use std::hash::Hasher;
    let mut h = FxHasher::default();
    h.write(s.as_str().as_bytes());
    h.write_u8(0);
    h.write(t.as_str().as_bytes());
    h.write_u32(class);
    h.finish()
}

#[derive(Clone, Copy, Debug)]
struct IndexedRule {
    kind: RuleKind,
    data: u32,
    enabled: bool,
    /// For a conditional rule: its block, and whether it is the true branch.
    cond: Option<(u32, bool)>,
}

fn key(source: u32, target: u32, class: u32) -> u64 {
    (u64::from(source) << 40) | (u64::from(target) << 20) | u64::from(class)
}

impl Policy {
    /// Every boolean at its default, by value - 1.
    pub fn default_booleans(&self) -> Vec<bool> {
        self.booleans.iter().map(|b| b.default).collect()
    }

    /// Access decisions with the booleans at their defaults.
    pub fn access(&self) -> Access<'_> {
        Access::new(self, self.default_booleans())
    }

    /// Access decisions with the given boolean values (by value - 1; see
    /// [`Policy::booleans_with`]).
    pub fn access_with(&self, booleans: Vec<bool>) -> Access<'_> {
        Access::new(self, booleans)
    }

    /// The defaults with some booleans set by name.
    pub fn booleans_with<'a>(
        &self,
        overrides: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Result<Vec<bool>, AccessError> {
        let mut out = self.default_booleans();
        for (name, state) in overrides {
            let b = self
                .boolean(name)
                .ok_or_else(|| AccessError::UnknownBoolean(name.to_owned()))?;
            out[b.value as usize - 1] = state;
        }
        Ok(out)
    }
}

impl<'p> Access<'p> {
    fn new(policy: &'p Policy, mut booleans: Vec<bool>) -> Access<'p> {
        booleans.resize(policy.booleans.len(), false);
        let state = |b: u32| booleans.get(b as usize - 1).copied().unwrap_or(false);
        let cond_on: Vec<bool> = policy
            .conditionals
            .iter()
            .map(|c| c.expr.eval(&state))
            .collect();
        let mut keyed: Vec<(u64, IndexedRule)> =
            Vec::with_capacity(policy.rules.len() + policy.conditional_rules.len());
        fn plain(r: &AvRule) -> (u64, &AvRule) {
            (key(r.source.into(), r.target.into(), r.class.into()), r)
        }
        for r in &policy.rules {
            let (k, r) = plain(r);
            keyed.push((
                k,
                IndexedRule {
                    kind: r.kind,
                    data: r.data,
                    enabled: true,
                    cond: None,
                },
            ));
        }
        for (ci, c) in policy.conditionals.iter().enumerate() {
            for (range, branch) in [(c.if_true.clone(), true), (c.if_false.clone(), false)] {
                for r in &policy.conditional_rules[range] {
                    let (k, r) = plain(r);
                    let enabled = cond_on[ci] == branch;
                    keyed.push((
                        k,
                        IndexedRule {
                            kind: r.kind,
                            data: r.data,
                            enabled,
                            cond: Some((ci as u32, branch)),
                        },
                    ));
                }
            }
        }
        keyed.sort_by_key(|(k, _)| *k);
        let mut index: FxMap<u64, (u32, u32)> = FxMap::default();
        let mut i = 0;
        while i < keyed.len() {
            let mut j = i;
            while j < keyed.len() && keyed[j].0 == keyed[i].0 {
                j += 1;
            }
            index.insert(keyed[i].0, (i as u32, j as u32));
            i = j;
        }
        let rules = keyed.into_iter().map(|(_, r)| r).collect();
        let process_class = policy.class("process").map_or(0, |c| c.value);
        let trans_perms = policy.class("process").map_or(0, |c| {
            ["transition", "dyntransition"]
                .iter()
                .filter_map(|p| policy.permission_value(c, p))
                .fold(0, |acc, v| acc | (1 << (v - 1)))
        });
        Access {
            policy,
            booleans,
            index,
            rules,
            process_class,
            trans_perms,
            cache: RwLock::new(FxMap::default()),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &'p Policy {
        self.policy
    }

    /// The boolean values decisions use (by value - 1).
    pub fn booleans(&self) -> &[bool] {
        &self.booleans
    }

    fn class_value(&self, class: &str) -> Result<u32, AccessError> {
        self.policy
            .class(class)
            .map(|c| c.value)
            .ok_or_else(|| AccessError::UnknownClass(class.to_owned()))
    }

    fn resolve(
        &self,
        s: &SecurityContext,
        t: &SecurityContext,
    ) -> Result<(PolicyContext, PolicyContext), AccessError> {
        let sc = self
            .policy
            .resolve(s)
            .map_err(|error| AccessError::Source {
                context: s.to_string(),
                error,
            })?;
        let tc = self
            .policy
            .resolve(t)
            .map_err(|error| AccessError::Target {
                context: t.to_string(),
                error,
            })?;
        Ok((sc, tc))
    }

    /// The kernel's decision for `source` on `target` in `class` (cached).
    pub fn compute_av(
        &self,
        source: &SecurityContext,
        target: &SecurityContext,
        class: &str,
    ) -> Result<AccessVector, AccessError> {
        let class = self.class_value(class)?;
        self.compute_av_value(source, target, class)
    }

    /// [`compute_av`](Self::compute_av) with the class's value.
    pub fn compute_av_value(
        &self,
        source: &SecurityContext,
        target: &SecurityContext,
        class: u32,
    ) -> Result<AccessVector, AccessError> {
        if class == 0 || class as usize > self.policy.classes.len() {
            return Err(AccessError::UnknownClass(format!("value {class}")));
        }
        let h = cache_hash(source, target, class);
        if let Ok(cache) = self.cache.read() {
            if let Some(bucket) = cache.get(&h) {
                for (s, t, c, av) in bucket {
                    if *c == class && s.as_str() == source.as_str() && t.as_str() == target.as_str()
                    {
                        return Ok(*av);
                    }
                }
            }
        }
        let (sc, tc) = self.resolve(source, target)?;
        let av = self.compute(&sc, &tc, class, 0).0;
        if let Ok(mut cache) = self.cache.write() {
            let bucket = cache.entry(h).or_default();
            if !bucket
                .iter()
                .any(|(s, t, c, _)| *c == class && s == source && t == target)
            {
                bucket.push((source.clone(), target.clone(), class, av));
            }
        }
        Ok(av)
    }

    /// The decision, and which stages denied some of `requested` (the bits
    /// of libsepol's `sepol_compute_av_reason`). Not cached.
    pub fn compute_av_reason(
        &self,
        source: &SecurityContext,
        target: &SecurityContext,
        class: u32,
        requested: u32,
    ) -> Result<(AccessVector, Reasons), AccessError> {
        if class == 0 || class as usize > self.policy.classes.len() {
            return Err(AccessError::UnknownClass(format!("value {class}")));
        }
        let (sc, tc) = self.resolve(source, target)?;
        let (av, st) = self.compute(&sc, &tc, class, 0);
        let mut req = requested;
        let te = req & !st.te != 0;
        req &= st.te;
        let removed: u32 = (0..32)
            .filter(|b| st.constraint[*b].is_some())
            .fold(0, |a, b| a | (1 << b));
        let constraint = req & removed != 0;
        req &= !removed;
        let rbac = req & st.role != 0;
        req &= !st.role;
        let bounds = req & st.bounds != 0;
        Ok((
            av,
            Reasons {
                te,
                constraint,
                rbac,
                bounds,
            },
        ))
    }

    /// Type enforcement: the bits of every enabled rule between any
    /// attribute of the source and any of the target.
    fn te(&self, stype: u32, ttype: u32, class: u32) -> AccessVector {
        let mut av = AccessVector {
            allowed: 0,
            auditallow: 0,
            auditdeny: u32::MAX,
            permissive: false,
        };
        for r in self
            .rules_between(stype, ttype, class)
            .filter(|r| r.enabled)
        {
            match r.kind {
                RuleKind::Allow => av.allowed |= r.data,
                RuleKind::AuditAllow => av.auditallow |= r.data,
                RuleKind::DontAudit => av.auditdeny &= r.data,
                _ => {}
            }
        }
        av
    }

    /// Every rule, enabled or not, keyed by an attribute of `stype` and an
    /// attribute of `ttype` (each type's attributes include itself) in
    /// `class`: the kernel's avtab walk.
    fn rules_between(
        &self,
        stype: u32,
        ttype: u32,
        class: u32,
    ) -> impl Iterator<Item = &IndexedRule> + '_ {
        let p = self.policy;
        let sattr = p.type_attrs.get((stype as usize).wrapping_sub(1));
        let tattr = p.type_attrs.get((ttype as usize).wrapping_sub(1));
        let pairs = sattr
            .zip(tattr)
            .into_iter()
            .flat_map(|(sa, ta)| sa.iter().flat_map(move |i| ta.iter().map(move |j| (i, j))));
        pairs
            .filter_map(move |(i, j)| self.index.get(&key(i + 1, j + 1, class)))
            .flat_map(move |&(a, b)| &self.rules[a as usize..b as usize])
    }

    /// `context_struct_compute_av`; also returns, per stage, the bits it removed.
    fn compute(
        &self,
        s: &PolicyContext,
        t: &PolicyContext,
        class: u32,
        depth: u32,
    ) -> (AccessVector, Stages) {
        let p = self.policy;
        let mut av = self.te(s.type_, t.type_, class);
        av.permissive = p.permissive.contains(s.type_);
        let mut stages = Stages {
            te: av.allowed,
            ..Stages::default()
        };
        let cls = &p.classes[class as usize - 1];
        for (ci, c) in cls.constraints.iter().enumerate() {
            if c.permissions & av.allowed != 0 && !eval(p, &c.expr, s, t) {
                for bit in 0..32 {
                    if c.permissions & av.allowed & (1 << bit) != 0 {
                        stages.constraint[bit] = Some(ci as u32);
                    }
                }
                av.allowed &= !c.permissions;
            }
        }
        if class == self.process_class
            && av.allowed & self.trans_perms != 0
            && s.role != t.role
            && !p.role_allows.contains(&(s.role, t.role))
        {
            stages.role |= av.allowed & self.trans_perms;
            av.allowed &= !self.trans_perms;
        }
        // typebounds: the child may not have what its parent lacks.
        let source = &p.types[s.type_ as usize - 1];
        if source.bounds != 0 && depth < 8 {
            let mut ls = s.clone();
            ls.type_ = source.bounds;
            let target = &p.types[t.type_ as usize - 1];
            let mut lt = t.clone();
            if target.bounds != 0 {
                lt.type_ = target.bounds;
            }
            let (lo, _) = self.compute(&ls, &lt, class, depth + 1);
            let masked = !lo.allowed & av.allowed;
            stages.bounds |= masked;
            av.allowed &= !masked;
        }
        (av, stages)
    }

    /// Each permission of `perms` (all of the class's when empty) with why
    /// it is denied, in the kernel's order: type enforcement, constraints,
    /// the role allow check, bounds.
    pub fn explain(
        &self,
        source: &SecurityContext,
        target: &SecurityContext,
        class: &str,
        perms: &[&str],
    ) -> Result<Vec<PermissionVerdict>, AccessError> {
        let p = self.policy;
        let cls = p
            .class(class)
            .ok_or_else(|| AccessError::UnknownClass(class.to_owned()))?;
        let (sc, tc) = self.resolve(source, target)?;
        let (av, stages) = self.compute(&sc, &tc, cls.value, 0);
        let mut all: Vec<(&str, u32)> = p.class_permissions(cls).collect();
        all.sort_by_key(|(_, v)| *v);
        let wanted: Vec<(String, u32)> = if perms.is_empty() {
            all.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect()
        } else {
            perms
                .iter()
                .map(|n| {
                    p.permission_value(cls, n)
                        .map(|v| ((*n).to_owned(), v))
                        .ok_or_else(|| AccessError::UnknownPermission {
                            class: class.to_owned(),
                            perm: (*n).to_owned(),
                        })
                })
                .collect::<Result<_, _>>()?
        };
        let mut out = vec![];
        for (name, v) in wanted {
            let bit = 1u32 << (v - 1);
            let denial = if stages.te & bit == 0 {
                Some(Denial::TypeEnforcement {
                    booleans: self.booleans_granting(sc.type_, tc.type_, cls.value, bit),
                })
            } else if let Some(ci) = stages.constraint[(v - 1) as usize] {
                let c = &cls.constraints[ci as usize];
                Some(Denial::Constraint {
                    mls: c.is_mls(),
                    expression: expr_text(p, &c.expr),
                    missing_categories: missing_categories(p, &c.expr, &sc, &tc),
                })
            } else if stages.role & bit != 0 {
                Some(Denial::RoleAllow {
                    from: p.roles[sc.role as usize - 1].name.to_string(),
                    to: p.roles[tc.role as usize - 1].name.to_string(),
                })
            } else if stages.bounds & bit != 0 {
                Some(Denial::Bounds {
                    parent: p.types[p.types[sc.type_ as usize - 1].bounds as usize - 1]
                        .name
                        .to_string(),
                })
            } else {
                None
            };
            debug_assert_eq!(denial.is_none(), av.allowed & bit != 0);
            out.push(PermissionVerdict {
                permission: name,
                denial,
                audited: av.auditdeny & bit != 0,
                permissive: av.permissive,
            });
        }
        Ok(out)
    }

    /// Boolean settings that would enable a conditional `allow` with `bit`
    /// between the two types: for each such rule not enabled now, the
    /// booleans of its condition, set as they must be for that branch
    /// (exact for single-boolean conditions, which are nearly all).
    fn booleans_granting(
        &self,
        stype: u32,
        ttype: u32,
        class: u32,
        bit: u32,
    ) -> Vec<(String, bool)> {
        let p = self.policy;
        let mut out: Vec<(String, bool)> = vec![];
        for r in self.rules_between(stype, ttype, class) {
            let Some((ci, branch)) = r.cond else { continue };
            if r.enabled || r.kind != RuleKind::Allow || r.data & bit == 0 {
                continue;
            }
            for setting in
                settings_for(p, &p.conditionals[ci as usize].expr, branch, &self.booleans)
            {
                if !out.contains(&setting) {
                    out.push(setting);
                }
            }
        }
        out.sort();
        out
    }

    /// How many decisions are cached.
    pub fn cached(&self) -> usize {
        self.cache
            .read()
            .map_or(0, |c| c.values().map(Vec::len).sum())
    }
}

/// Which stages of the decision denied requested permissions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reasons {
    /// No allow rule (type enforcement).
    pub te: bool,
    /// A constraint or MLS constraint.
    pub constraint: bool,
    /// The role allow check of a process transition.
    pub rbac: bool,
    /// Type bounds.
    pub bounds: bool,
}

impl Reasons {
    /// As libsepol's `SEPOL_COMPUTEAV_*` bits (TE 1, CONS 2, RBAC 4, BOUNDS 8).
    pub fn bits(self) -> u32 {
        u32::from(self.te)
            | u32::from(self.constraint) << 1
            | u32::from(self.rbac) << 2
            | u32::from(self.bounds) << 3
    }
}

/// The bits each stage removed.
#[derive(Debug, Default)]
struct Stages {
    te: u32,
    constraint: [Option<u32>; 32],
    role: u32,
    bounds: u32,
}

/// The boolean settings that make `expr` evaluate to `want`, found by
/// trying the fewest changes from the current values (the booleans of one
/// condition are few).
fn settings_for(
    p: &Policy,
    expr: &super::BoolExpr,
    want: bool,
    current: &[bool],
) -> Vec<(String, bool)> {
    let mut bools = vec![];
    expr.booleans(&mut bools);
    bools.sort_unstable();
    bools.dedup();
    if bools.len() > 10 {
        return vec![];
    }
    let mut best: Option<(u32, u32)> = None; // (changes, mask)
    for mask in 0u32..(1 << bools.len()) {
        let state = |b: u32| match bools.iter().position(|x| *x == b) {
            Some(i) => mask & (1 << i) != 0,
            None => current.get(b as usize - 1).copied().unwrap_or(false),
        };
        if expr.eval(&state) != want {
            continue;
        }
        let changes = bools
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                (mask & (1 << i) != 0) != current.get(**b as usize - 1).copied().unwrap_or(false)
            })
            .count() as u32;
        if best.is_none_or(|(c, _)| changes < c) {
            best = Some((changes, mask));
        }
    }
    let Some((_, mask)) = best else { return vec![] };
    bools
        .iter()
        .enumerate()
        .filter(|(i, b)| {
            (mask & (1 << i) != 0) != current.get(**b as usize - 1).copied().unwrap_or(false)
        })
        .map(|(i, b)| {
            (
                p.booleans[*b as usize - 1].name.to_string(),
                mask & (1 << i) != 0,
            )
        })
        .collect()
}

fn level_of(c: &PolicyContext, high: bool) -> &PolicyLevel {
    if high {
        &c.range.high
    } else {
        &c.range.low
    }
}

fn levels<'a>(
    attr: ConstraintAttr,
    s: &'a PolicyContext,
    t: &'a PolicyContext,
) -> Option<(&'a PolicyLevel, &'a PolicyLevel)> {
    Some(match attr {
        ConstraintAttr::L1L2 => (level_of(s, false), level_of(t, false)),
        ConstraintAttr::L1H2 => (level_of(s, false), level_of(t, true)),
        ConstraintAttr::H1L2 => (level_of(s, true), level_of(t, false)),
        ConstraintAttr::H1H2 => (level_of(s, true), level_of(t, true)),
        ConstraintAttr::L1H1 => (level_of(s, false), level_of(s, true)),
        ConstraintAttr::L2H2 => (level_of(t, false), level_of(t, true)),
        _ => return None,
    })
}

/// The kernel's `constraint_expr_eval` (no third context: not a validatetrans).
fn eval(p: &Policy, e: &ConstraintExpr, s: &PolicyContext, t: &PolicyContext) -> bool {
    match e {
        ConstraintExpr::Not(a) => !eval(p, a, s, t),
        ConstraintExpr::And(a, b) => eval(p, a, s, t) && eval(p, b, s, t),
        ConstraintExpr::Or(a, b) => eval(p, a, s, t) || eval(p, b, s, t),
        ConstraintExpr::Attr { attr, op } => {
            if let Some((l1, l2)) = levels(*attr, s, t) {
                return match op {
                    ConstraintOp::Eq => l1 == l2,
                    ConstraintOp::Neq => l1 != l2,
                    ConstraintOp::Dom => l1.dominates(l2),
                    ConstraintOp::DomBy => l2.dominates(l1),
                    ConstraintOp::Incomp => !l1.dominates(l2) && !l2.dominates(l1),
                };
            }
            let (v1, v2) = match attr {
                ConstraintAttr::User => (s.user, t.user),
                ConstraintAttr::Role => (s.role, t.role),
                _ => (s.type_, t.type_),
            };
            if *attr == ConstraintAttr::Role {
                let dom = |a: u32, b: u32| {
                    p.roles
                        .get(a as usize - 1)
                        .is_some_and(|r| r.dominates.contains(b - 1))
                };
                return match op {
                    ConstraintOp::Eq => v1 == v2,
                    ConstraintOp::Neq => v1 != v2,
                    ConstraintOp::Dom => dom(v1, v2),
                    ConstraintOp::DomBy => dom(v2, v1),
                    ConstraintOp::Incomp => !dom(v1, v2) && !dom(v2, v1),
                };
            }
            match op {
                ConstraintOp::Eq => v1 == v2,
                ConstraintOp::Neq => v1 != v2,
                _ => false,
            }
        }
        ConstraintExpr::Names {
            attr,
            side,
            op,
            names,
        } => {
            let c = match side {
                ConstraintSide::Source => s,
                // No third context outside validatetrans: the kernel reads the target's.
                _ => t,
            };
            let v = match attr {
                ConstraintAttr::User => c.user,
                ConstraintAttr::Role => c.role,
                _ => c.type_,
            };
            let hit = names.contains(v - 1);
            match op {
                ConstraintOp::Neq => !hit,
                _ => hit,
            }
        }
    }
}

/// The categories the source lacks in the failed level comparisons of `e`.
fn missing_categories(
    p: &Policy,
    e: &ConstraintExpr,
    s: &PolicyContext,
    t: &PolicyContext,
) -> Vec<String> {
    fn walk(
        p: &Policy,
        e: &ConstraintExpr,
        s: &PolicyContext,
        t: &PolicyContext,
        out: &mut Vec<u32>,
    ) {
        match e {
            ConstraintExpr::Not(a) => walk(p, a, s, t, out),
            ConstraintExpr::And(a, b) | ConstraintExpr::Or(a, b) => {
                walk(p, a, s, t, out);
                walk(p, b, s, t, out);
            }
            // Only comparisons of the source with the target: `l1 h1` and
            // `l2 h2` compare one context with itself.
            ConstraintExpr::Attr { attr, op }
                if !matches!(attr, ConstraintAttr::L1H1 | ConstraintAttr::L2H2) =>
            {
                let Some((l1, l2)) = levels(*attr, s, t) else {
                    return;
                };
                let (hi, lo) = match op {
                    ConstraintOp::Dom | ConstraintOp::Eq => (l1, l2),
                    ConstraintOp::DomBy => (l2, l1),
                    _ => return,
                };
                if !eval(p, e, s, t) {
                    out.extend(lo.cats.iter().filter(|b| !hi.cats.contains(*b)));
                }
            }
            ConstraintExpr::Attr { .. } | ConstraintExpr::Names { .. } => {}
        }
    }
    let mut bits = vec![];
    walk(p, e, s, t, &mut bits);
    bits.sort_unstable();
    bits.dedup();
    bits.into_iter()
        .map(|b| {
            p.categories
                .get(b as usize)
                .map_or_else(|| format!("<category {}>", b + 1), |c| c.name.to_string())
        })
        .collect()
}

/// A constraint expression as policy text (`(u1 == u2 or t1 == { a b })`),
/// name sets shortened past eight names.
pub(crate) fn expr_text(p: &Policy, e: &ConstraintExpr) -> String {
    let op_text = |op: &ConstraintOp| match op {
        ConstraintOp::Eq => "==",
        ConstraintOp::Neq => "!=",
        ConstraintOp::Dom => "dom",
        ConstraintOp::DomBy => "domby",
        ConstraintOp::Incomp => "incomp",
    };
    match e {
        ConstraintExpr::Not(a) => format!("not ({})", expr_text(p, a)),
        ConstraintExpr::And(a, b) => format!("({} and {})", expr_text(p, a), expr_text(p, b)),
        ConstraintExpr::Or(a, b) => format!("({} or {})", expr_text(p, a), expr_text(p, b)),
        ConstraintExpr::Attr { attr, op } => {
            let (l, r) = match attr {
                ConstraintAttr::User => ("u1", "u2"),
                ConstraintAttr::Role => ("r1", "r2"),
                ConstraintAttr::Type => ("t1", "t2"),
                ConstraintAttr::L1L2 => ("l1", "l2"),
                ConstraintAttr::L1H2 => ("l1", "h2"),
                ConstraintAttr::H1L2 => ("h1", "l2"),
                ConstraintAttr::H1H2 => ("h1", "h2"),
                ConstraintAttr::L1H1 => ("l1", "h1"),
                ConstraintAttr::L2H2 => ("l2", "h2"),
            };
            format!("{l} {} {r}", op_text(op))
        }
        ConstraintExpr::Names {
            attr,
            side,
            op,
            names,
        } => {
            let n = match side {
                ConstraintSide::Source => 1,
                ConstraintSide::Target => 2,
                ConstraintSide::XTarget => 3,
            };
            let (letter, list): (&str, Vec<&str>) = match attr {
                ConstraintAttr::User => (
                    "u",
                    names
                        .iter()
                        .filter_map(|b| p.users.get(b as usize))
                        .map(|x| &*x.name)
                        .collect(),
                ),
                ConstraintAttr::Role => (
                    "r",
                    names
                        .iter()
                        .filter_map(|b| p.roles.get(b as usize))
                        .map(|x| &*x.name)
                        .collect(),
                ),
                _ => (
                    "t",
                    names
                        .iter()
                        .filter_map(|b| p.types.get(b as usize))
                        .map(|x| &*x.name)
                        .collect(),
                ),
            };
            let shown = if list.len() > 8 {
                format!("{{ {} ... ({} in all) }}", list[..8].join(" "), list.len())
            } else if list.len() == 1 {
                list[0].to_owned()
            } else {
                format!("{{ {} }}", list.join(" "))
            };
            format!("{letter}{n} {} {shown}", op_text(op))
        }
    }
}
