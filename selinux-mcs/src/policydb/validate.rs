//! Whether a context is valid under a policy, by the kernel's rules
//! (`string_to_context_struct`, `policydb_context_isvalid` and
//! `mls_context_isvalid` in security/selinux/ss/), and near-miss names.

use std::fmt;

use super::{Policy, PolicyContext, PolicyLevel, PolicyRange};
use crate::mls::Level;
use crate::SecurityContext;

/// A close name the policy does define ("did you mean container_file_t?").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion(pub Option<String>);

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(s) => write!(f, "; did you mean {s}?"),
            None => Ok(()),
        }
    }
}

/// Which of the kernel's rules a context breaks. The first broken rule, in
/// the order the kernel checks them, is the one reported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidityError {
    /// The user is not defined.
    #[error("unknown user {name}{suggestion}")]
    UnknownUser {
        /// The name.
        name: String,
        /// A close name.
        suggestion: Suggestion,
    },
    /// The role is not defined.
    #[error("unknown role {name}{suggestion}")]
    UnknownRole {
        /// The name.
        name: String,
        /// A close name.
        suggestion: Suggestion,
    },
    /// The type is not defined.
    #[error("unknown type {name}{suggestion}")]
    UnknownType {
        /// The name.
        name: String,
        /// A close name.
        suggestion: Suggestion,
    },
    /// The name is an attribute: a set of types, never a label.
    #[error("{name} is an attribute (a set of types), not a type")]
    Attribute {
        /// The name.
        name: String,
    },
    /// The policy is MLS but the context has no level.
    #[error("the policy has MLS on: a context needs a level (e.g. s0)")]
    MissingLevel,
    /// The policy has MLS off but the context has a level.
    #[error("the policy has MLS off: a context has no level")]
    UnexpectedLevel,
    /// The sensitivity is not defined.
    #[error("unknown sensitivity {name} (the policy defines {defined})")]
    UnknownSensitivity {
        /// The name.
        name: String,
        /// What the policy defines (`s0`, `s0-s15`).
        defined: String,
    },
    /// The category is not defined.
    #[error("unknown category {name} (the policy defines {defined})")]
    UnknownCategory {
        /// The name.
        name: String,
        /// What the policy defines (`c0.c1023`).
        defined: String,
    },
    /// The category may not be used with the sensitivity.
    #[error("category {category} is not allowed with sensitivity {sensitivity}")]
    CategoryNotAllowed {
        /// The category.
        category: String,
        /// The sensitivity.
        sensitivity: String,
    },
    /// The high level does not dominate the low one in the policy's order.
    #[error("the high level {high} does not dominate the low level {low}")]
    HighBelowLow {
        /// The low level.
        low: String,
        /// The high level.
        high: String,
    },
    /// The role may not hold the type.
    #[error("role {role} may not hold type {type_} (no `role {role} types {type_}`; only object_r takes any type)")]
    TypeNotInRole {
        /// The role.
        role: String,
        /// The type.
        type_: String,
    },
    /// The user may not take the role.
    #[error("user {user} may not take role {role} (its roles: {roles})")]
    RoleNotForUser {
        /// The user.
        user: String,
        /// The role.
        role: String,
        /// The user's roles.
        roles: String,
    },
    /// The range lies outside the user's range.
    #[error("range {range} is outside user {user}'s range {user_range}")]
    OutsideUserRange {
        /// The user.
        user: String,
        /// The context's range.
        range: String,
        /// The user's range.
        user_range: String,
    },
    /// A value in a context stored in the policy is out of range.
    #[error("{what} {value} is not defined")]
    BadValue {
        /// What.
        what: &'static str,
        /// The value.
        value: u32,
    },
}

impl ValidityError {
    /// Which rule failed, as a short stable name for JSON output:
    /// `user`, `role`, `type`, `attribute`, `level`, `sensitivity`,
    /// `category`, `role_types`, `user_roles`, `user_range`.
    pub fn rule(&self) -> &'static str {
        match self {
            ValidityError::UnknownUser { .. } => "user",
            ValidityError::UnknownRole { .. } => "role",
            ValidityError::UnknownType { .. } => "type",
            ValidityError::Attribute { .. } => "attribute",
            ValidityError::MissingLevel
            | ValidityError::UnexpectedLevel
            | ValidityError::HighBelowLow { .. } => "level",
            ValidityError::UnknownSensitivity { .. } => "sensitivity",
            ValidityError::UnknownCategory { .. } | ValidityError::CategoryNotAllowed { .. } => {
                "category"
            }
            ValidityError::TypeNotInRole { .. } => "role_types",
            ValidityError::RoleNotForUser { .. } => "user_roles",
            ValidityError::OutsideUserRange { .. } => "user_range",
            ValidityError::BadValue { .. } => "value",
        }
    }
}

/// The closest of `names` to `name`, if close enough to be a likely typo:
/// an edit distance of at most 2, or a quarter of the name's length.
pub(crate) fn suggest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Suggestion {
    let limit = 2.max(name.len() / 4);
    let mut best: Option<(usize, &str)> = None;
    for n in names {
        if n.len().abs_diff(name.len()) > limit {
            continue;
        }
        let d = strsim::damerau_levenshtein(name, n);
        if d <= limit && best.is_none_or(|(bd, bn)| d < bd || (d == bd && n < bn)) {
            best = Some((d, n));
        }
    }
    Suggestion(best.map(|(_, n)| n.to_owned()))
}

fn range_text(lo: &str, hi: &str) -> String {
    if lo == hi {
        lo.to_owned()
    } else {
        format!("{lo}-{hi}")
    }
}

impl Policy {
    fn defined_sensitivities(&self) -> String {
        match (self.sensitivities.first(), self.sensitivities.last()) {
            (Some(a), Some(b)) => range_text(&a.name, &b.name),
            _ => "none".to_owned(),
        }
    }

    fn defined_categories(&self) -> String {
        match (self.categories.first(), self.categories.last()) {
            (Some(a), Some(b)) if self.categories.len() > 2 => format!("{}.{}", a.name, b.name),
            (Some(a), Some(b)) => range_text(&a.name, &b.name),
            _ => "none".to_owned(),
        }
    }

    /// A level of a context in the policy's values.
    fn policy_level(&self, level: &Level) -> Result<PolicyLevel, ValidityError> {
        if self.names.numeric_sensitivities && self.names.numeric_categories {
            return self.policy_level_numeric(level);
        }
        let sname = level.sensitivity().to_string();
        let Some(&sens) = self.names.sensitivities.get(sname.as_str()) else {
            return Err(ValidityError::UnknownSensitivity {
                name: sname,
                defined: self.defined_sensitivities(),
            });
        };
        let mut bits = Vec::with_capacity(level.categories().len());
        for c in level.categories().iter() {
            let cname = c.to_string();
            match self.names.categories.get(cname.as_str()) {
                Some(&v) => bits.push(v - 1),
                None => {
                    return Err(ValidityError::UnknownCategory {
                        name: cname,
                        defined: self.defined_categories(),
                    })
                }
            }
        }
        let l = PolicyLevel {
            sens,
            cats: super::Bitmap::from_bits(bits),
        };
        self.level_allowed(&l)?;
        Ok(l)
    }

    /// [`policy_level`](Self::policy_level) when names are `sN`/`cN` with
    /// value N + 1: no name lookups, the category words become bitmap nodes.
    fn policy_level_numeric(&self, level: &Level) -> Result<PolicyLevel, ValidityError> {
        let sens = u32::from(level.sensitivity().number()) + 1;
        if sens as usize > self.sensitivities.len() {
            return Err(ValidityError::UnknownSensitivity {
                name: level.sensitivity().to_string(),
                defined: self.defined_sensitivities(),
            });
        }
        if let Some(last) = level.categories().last() {
            if usize::from(last.number()) >= self.categories.len() {
                return Err(ValidityError::UnknownCategory {
                    name: last.to_string(),
                    defined: self.defined_categories(),
                });
            }
        }
        let nodes = level
            .categories()
            .words()
            .iter()
            .enumerate()
            .filter(|(_, w)| **w != 0)
            .map(|(i, w)| (i as u32 * 64, *w))
            .collect();
        let l = PolicyLevel {
            sens,
            cats: super::Bitmap::from_nodes(nodes),
        };
        self.level_allowed(&l)?;
        Ok(l)
    }

    /// The kernel's `mls_level_isvalid`: the categories are allowed with
    /// the sensitivity.
    fn level_allowed(&self, l: &PolicyLevel) -> Result<(), ValidityError> {
        let s = self
            .sensitivities
            .get((l.sens as usize).wrapping_sub(1))
            .ok_or(ValidityError::BadValue {
                what: "sensitivity",
                value: l.sens,
            })?;
        if let Some(bad) = l.cats.iter().find(|b| !s.categories.contains(*b)) {
            return Err(ValidityError::CategoryNotAllowed {
                category: self
                    .categories
                    .get(bad as usize)
                    .map_or_else(|| format!("<category {}>", bad + 1), |c| c.name.to_string()),
                sensitivity: s.name.to_string(),
            });
        }
        Ok(())
    }

    /// Checks a context under this policy, as the kernel would when the
    /// context is written to `/sys/fs/selinux/context` or set as a label.
    pub fn validate(&self, ctx: &SecurityContext) -> Result<(), ValidityError> {
        self.resolve(ctx).map(|_| ())
    }

    /// The context as the kernel would print it back: aliases replaced by
    /// the primary type's name. Fails as [`validate`](Self::validate) does.
    pub fn canonical_context(
        &self,
        ctx: &SecurityContext,
    ) -> Result<SecurityContext, ValidityError> {
        let c = self.resolve(ctx)?;
        let primary = &self.types[c.type_ as usize - 1].name;
        if **primary == *ctx.type_() {
            return Ok(ctx.clone());
        }
        ctx.with_type(primary)
            .map_err(|_| ValidityError::UnknownType {
                name: primary.to_string(),
                suggestion: Suggestion(None),
            })
    }

    /// Parses a context as the kernel reads it under this policy: the
    /// aliases of sensitivities and categories (`sensitivity s2 alias
    /// secret;`, `category c1 alias red;`) stand for their primary names,
    /// so `u:r:t:secret:red` is `u:r:t:s2:c1`; the parser's limits are
    /// [`parse_limits`](Self::parse_limits) (wider than the defaults for a
    /// policy with more than 16 sensitivities). When
    /// the text does not parse either way, the error is the one for the
    /// text as written. Check the result with [`validate`](Self::validate).
    ///
    /// ```no_run
    /// # use selinux_mcs::policydb::Policy;
    /// let policy = Policy::system()?;
    /// // With `sensitivity s0 alias unclassified;` in the policy:
    /// let ctx = policy.parse_context("system_u:object_r:etc_t:unclassified")?;
    /// assert_eq!(ctx.to_string(), "system_u:object_r:etc_t:s0");
    /// policy.validate(&ctx)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_context(&self, text: &str) -> Result<SecurityContext, crate::ParseError> {
        let limits = self.parse_limits();
        let err = match SecurityContext::parse_with(text, &limits) {
            Ok(ctx) => return Ok(ctx),
            Err(e) => e,
        };
        match self.without_level_aliases(text) {
            Some(primary) => SecurityContext::parse_with(&primary, &limits).map_err(|_| err),
            None => Err(err),
        }
    }

    /// `text` with every sensitivity and category alias in its MLS field
    /// replaced by the primary name; `None` when there is none. A name is
    /// a sensitivity at the start of each level (the field's start or
    /// after `-`), else a category, as the kernel's `mls_context_to_sid`
    /// splits them.
    fn without_level_aliases(&self, text: &str) -> Option<String> {
        let start = text.match_indices(':').nth(2)?.0 + 1;
        let mut out = String::with_capacity(text.len() + 8);
        out.push_str(&text[..start]);
        let mut changed = false;
        let mut sensitivity = true;
        for piece in text[start..].split_inclusive([':', ',', '-', '.']) {
            let (name, sep) = match piece.char_indices().last() {
                Some((i, ':' | ',' | '-' | '.')) => piece.split_at(i),
                _ => (piece, ""),
            };
            let primary = if sensitivity {
                self.names
                    .sensitivities
                    .get(name)
                    .and_then(|&v| self.sensitivities.get((v as usize).wrapping_sub(1)))
                    .map(|s| &s.name)
            } else {
                self.names
                    .categories
                    .get(name)
                    .and_then(|&v| self.categories.get((v as usize).wrapping_sub(1)))
                    .map(|c| &c.name)
            };
            match primary {
                Some(p) if **p != *name => {
                    out.push_str(p);
                    changed = true;
                }
                _ => out.push_str(name),
            }
            out.push_str(sep);
            sensitivity = sep == "-";
        }
        changed.then_some(out)
    }

    pub(crate) fn resolve(&self, ctx: &SecurityContext) -> Result<PolicyContext, ValidityError> {
        let user = *self
            .names
            .users
            .get(ctx.user())
            .ok_or_else(|| ValidityError::UnknownUser {
                name: ctx.user().to_owned(),
                suggestion: suggest(ctx.user(), self.users.iter().map(|u| &*u.name)),
            })?;
        let role = *self
            .names
            .roles
            .get(ctx.role())
            .ok_or_else(|| ValidityError::UnknownRole {
                name: ctx.role().to_owned(),
                suggestion: suggest(ctx.role(), self.roles.iter().map(|r| &*r.name)),
            })?;
        let type_ =
            *self
                .names
                .types
                .get(ctx.type_())
                .ok_or_else(|| ValidityError::UnknownType {
                    name: ctx.type_().to_owned(),
                    suggestion: suggest(
                        ctx.type_(),
                        self.types
                            .iter()
                            .filter(|t| !t.attribute)
                            .flat_map(|t| std::iter::once(&t.name).chain(t.aliases.iter()))
                            .map(|n| &**n),
                    ),
                })?;
        if self.types[type_ as usize - 1].attribute {
            return Err(ValidityError::Attribute {
                name: ctx.type_().to_owned(),
            });
        }
        let range = match (ctx.range(), self.mls) {
            (Some(r), true) => {
                let low = self.policy_level(r.low())?;
                let high = self.policy_level(r.high())?;
                PolicyRange { low, high }
            }
            (None, true) => return Err(ValidityError::MissingLevel),
            (Some(_), false) => return Err(ValidityError::UnexpectedLevel),
            (None, false) => PolicyRange::default(),
        };
        let c = PolicyContext {
            user,
            role,
            type_,
            range,
        };
        check_values(self, &c)?;
        Ok(c)
    }
}

/// The kernel's `policydb_context_isvalid` on values (also used for the
/// contexts stored in the policy itself).
pub(crate) fn check_values(p: &Policy, c: &PolicyContext) -> Result<(), ValidityError> {
    let role = p
        .roles
        .get((c.role as usize).wrapping_sub(1))
        .ok_or(ValidityError::BadValue {
            what: "role",
            value: c.role,
        })?;
    let user = p
        .users
        .get((c.user as usize).wrapping_sub(1))
        .ok_or(ValidityError::BadValue {
            what: "user",
            value: c.user,
        })?;
    let type_ = p
        .types
        .get((c.type_ as usize).wrapping_sub(1))
        .ok_or(ValidityError::BadValue {
            what: "type",
            value: c.type_,
        })?;
    if c.role != 1 {
        if !role.types.contains(c.type_ - 1) {
            return Err(ValidityError::TypeNotInRole {
                role: role.name.to_string(),
                type_: type_.name.to_string(),
            });
        }
        if !user.roles.contains(c.role - 1) {
            let mut roles: Vec<&str> = user
                .roles
                .iter()
                .filter_map(|b| p.roles.get(b as usize))
                .map(|r| &*r.name)
                .collect();
            roles.sort_unstable();
            return Err(ValidityError::RoleNotForUser {
                user: user.name.to_string(),
                role: role.name.to_string(),
                roles: if roles.is_empty() {
                    "none".to_owned()
                } else {
                    roles.join(", ")
                },
            });
        }
    }
    if !p.mls {
        return Ok(());
    }
    p.level_allowed(&c.range.low)?;
    p.level_allowed(&c.range.high)?;
    if !c.range.high.dominates(&c.range.low) {
        return Err(ValidityError::HighBelowLow {
            low: p.level_to_string(&c.range.low),
            high: p.level_to_string(&c.range.high),
        });
    }
    if c.role != 1 && !user.range.contains(&c.range) {
        return Err(ValidityError::OutsideUserRange {
            user: user.name.to_string(),
            range: p.range_to_string(&c.range),
            user_range: p.range_to_string(&user.range),
        });
    }
    Ok(())
}

impl SecurityContext {
    /// Checks this context against a loaded policy with the kernel's rules:
    /// the user, role and type exist (an alias counts, an attribute does
    /// not); the role may hold the type and the user may take the role
    /// (`object_r` takes any type and any user); with MLS on, the level's
    /// sensitivities and categories exist, each category is allowed with
    /// its sensitivity, and the range lies within the user's (except for
    /// `object_r`). The error names the first rule broken, with a near-miss
    /// name when there is one:
    ///
    /// ```no_run
    /// # use selinux_mcs::{policydb::Policy, SecurityContext};
    /// let policy = Policy::system()?;
    /// let ctx: SecurityContext = "system_u:object_r:container_fle_t:s0".parse()?;
    /// assert_eq!(
    ///     ctx.validate(&policy).unwrap_err().to_string(),
    ///     "unknown type container_fle_t; did you mean container_file_t?"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self, policy: &Policy) -> Result<(), ValidityError> {
        policy.validate(self)
    }
}
