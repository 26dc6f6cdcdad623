//! `seinfo`-style statistics and the loaded policy's memory.

use std::collections::HashMap;

use super::{Constraint, Policy, RuleKind};

/// Counts like `seinfo`'s statistics (same names, same counting rules).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Policy version.
    pub version: u32,
    /// MLS on.
    pub mls: bool,
    /// `deny`, `reject` or `allow`.
    pub handle_unknown: &'static str,
    /// Classes.
    pub classes: usize,
    /// Permissions: each class's own and each common's, as seinfo counts them.
    pub permissions: usize,
    /// Sensitivities (aliases not counted).
    pub sensitivities: usize,
    /// Categories (aliases not counted).
    pub categories: usize,
    /// Types (attributes not counted).
    pub types: usize,
    /// Attributes.
    pub attributes: usize,
    /// Users.
    pub users: usize,
    /// Roles.
    pub roles: usize,
    /// Booleans.
    pub booleans: usize,
    /// Conditional blocks.
    pub conditionals: usize,
    /// `allow` rules (unconditional and conditional).
    pub allow: usize,
    /// `auditallow` rules.
    pub auditallow: usize,
    /// `dontaudit` rules.
    pub dontaudit: usize,
    /// `type_transition` rules (filename transitions included).
    pub type_transition: usize,
    /// `type_change` rules.
    pub type_change: usize,
    /// `type_member` rules.
    pub type_member: usize,
    /// `range_transition` rules.
    pub range_transition: usize,
    /// `allow` role rules.
    pub role_allow: usize,
    /// `role_transition` rules.
    pub role_transition: usize,
    /// `constrain` statements.
    pub constraints: usize,
    /// `validatetrans` statements.
    pub validatetrans: usize,
    /// `mlsconstrain` statements.
    pub mls_constraints: usize,
    /// `mlsvalidatetrans` statements.
    pub mls_validatetrans: usize,
    /// Permissive types.
    pub permissives: usize,
    /// Policy capabilities.
    pub polcaps: usize,
    /// `default_*` statements.
    pub defaults: usize,
    /// `typebounds` statements.
    pub typebounds: usize,
    /// `allowxperm` rules.
    pub allowxperm: usize,
    /// `auditallowxperm` rules.
    pub auditallowxperm: usize,
    /// `dontauditxperm` rules.
    pub dontauditxperm: usize,
    /// Initial SIDs.
    pub initial_sids: usize,
    /// `fs_use_*`.
    pub fs_use: usize,
    /// `genfscon`.
    pub genfscon: usize,
    /// `portcon`.
    pub portcon: usize,
    /// `netifcon`.
    pub netifcon: usize,
    /// `nodecon`.
    pub nodecon: usize,
    /// `ibpkeycon`.
    pub ibpkeycon: usize,
    /// `ibendportcon`.
    pub ibendportcon: usize,
}

pub(crate) fn stats(p: &Policy) -> Stats {
    let mut kinds: HashMap<RuleKind, usize> = HashMap::new();
    for r in p.rules.iter().chain(p.conditional_rules.iter()) {
        *kinds.entry(r.kind).or_default() += 1;
    }
    let k = |kind| kinds.get(&kind).copied().unwrap_or(0);
    // seinfo counts each class's own permissions plus each common's once.
    let permissions = p.classes.iter().map(|c| c.perms.len()).sum::<usize>()
        + p.commons.iter().map(|c| c.perms.len()).sum::<usize>();
    let split = |f: fn(&super::Class) -> &Vec<Constraint>| {
        let all = p.classes.iter().flat_map(f);
        let mls = all.clone().filter(|c| c.is_mls()).count();
        (all.count() - mls, mls)
    };
    let (constraints, mls_constraints) = split(|c| &c.constraints);
    let (validatetrans, mls_validatetrans) = split(|c| &c.validatetrans);
    let defaults = p
        .classes
        .iter()
        .map(|c| {
            [
                c.default_user,
                c.default_role,
                c.default_range,
                c.default_type,
            ]
            .iter()
            .filter(|d| **d != 0)
            .count()
        })
        .sum();
    let types = p.types.iter().filter(|t| !t.attribute).count();
    Stats {
        version: p.version,
        mls: p.mls,
        handle_unknown: p.handle_unknown.as_str(),
        classes: p.classes.len(),
        permissions,
        sensitivities: p.sensitivities.len(),
        categories: p.categories.len(),
        types,
        attributes: p.types.len() - types,
        users: p.users.len(),
        roles: p.roles.len(),
        booleans: p.booleans.len(),
        conditionals: p.conditionals.len(),
        allow: k(RuleKind::Allow),
        auditallow: k(RuleKind::AuditAllow),
        dontaudit: k(RuleKind::DontAudit),
        type_transition: k(RuleKind::TypeTransition) + p.filename_transitions,
        type_change: k(RuleKind::TypeChange),
        type_member: k(RuleKind::TypeMember),
        range_transition: p.range_transitions.len(),
        role_allow: p.role_allows.len(),
        role_transition: p.role_transitions.len(),
        constraints,
        validatetrans,
        mls_constraints,
        mls_validatetrans,
        permissives: p.permissive.len(),
        polcaps: p.capabilities.len(),
        defaults,
        typebounds: p.types.iter().filter(|t| t.bounds != 0).count(),
        allowxperm: k(RuleKind::AllowXperm),
        auditallowxperm: k(RuleKind::AuditAllowXperm),
        dontauditxperm: k(RuleKind::DontAuditXperm),
        initial_sids: p.labeling.initial_sids,
        fs_use: p.labeling.fs_use,
        genfscon: p.labeling.genfs,
        portcon: p.labeling.ports,
        netifcon: p.labeling.netifs,
        nodecon: p.labeling.nodes,
        ibpkeycon: p.labeling.ibpkeys,
        ibendportcon: p.labeling.ibendports,
    }
}
