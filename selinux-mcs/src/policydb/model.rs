//! What a binary policy holds, as plain read-only values. Values are the
//! policy's own numbers (1-based, as in the file); bitmaps hold value - 1
//! unless a field says otherwise.

use super::Bitmap;

/// What the kernel does with classes and permissions the policy does not
/// define (`handle_unknown` in the policy's config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandleUnknown {
    /// Deny them (the default).
    Deny,
    /// Refuse to load the policy.
    Reject,
    /// Allow them.
    Allow,
}

impl HandleUnknown {
    /// `deny`, `reject` or `allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleUnknown::Deny => "deny",
            HandleUnknown::Reject => "reject",
            HandleUnknown::Allow => "allow",
        }
    }
}

/// A set of permissions shared by classes (`common file { ioctl read ... }`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Common {
    /// The common's name.
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// Its permissions and their values (bit `value - 1` of an access vector).
    pub perms: Vec<(Box<str>, u32)>,
}

/// An object class with its permissions, constraints and defaults.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Class {
    /// The class's name.
    pub name: Box<str>,
    /// Its value (the number in access vector rules).
    pub value: u32,
    /// The common it inherits, as an index into [`Policy::commons`](super::Policy::commons).
    pub common: Option<usize>,
    /// Its own permissions and their values (after the common's).
    pub perms: Vec<(Box<str>, u32)>,
    /// `constrain` and `mlsconstrain` statements, in policy order.
    pub constraints: Vec<Constraint>,
    /// `validatetrans` and `mlsvalidatetrans` statements.
    pub validatetrans: Vec<Constraint>,
    /// `default_user` (0 none, 1 source, 2 target).
    pub default_user: u32,
    /// `default_role` (0 none, 1 source, 2 target).
    pub default_role: u32,
    /// `default_range` (0 none, 1..6 source/target low/high/low_high, 7 glblub).
    pub default_range: u32,
    /// `default_type` (0 none, 1 source, 2 target).
    pub default_type: u32,
}

/// A type or an attribute.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Type {
    /// The type's name.
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// Whether it is an attribute (a set of types) rather than a type.
    pub attribute: bool,
    /// `typebounds`: the value of the bounding type, 0 when none.
    pub bounds: u32,
    /// Its aliases.
    pub aliases: Vec<Box<str>>,
}

/// A role and the types it may hold.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Role {
    /// The role's name.
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// `rolebounds`, 0 when none.
    pub bounds: u32,
    /// The roles it dominates (bit = value - 1).
    pub dominates: Bitmap,
    /// The types it may hold (bit = value - 1).
    pub types: Bitmap,
}

/// A level as the policy stores it: a sensitivity value and category bits
/// (bit = category value - 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyLevel {
    /// The sensitivity's value (its place in the dominance order, from 1).
    pub sens: u32,
    /// The categories.
    pub cats: Bitmap,
}

impl PolicyLevel {
    /// A level of sensitivity value `sens` and categories `cats`.
    pub fn new(sens: u32, cats: Bitmap) -> PolicyLevel {
        PolicyLevel { sens, cats }
    }

    /// Dominance in the policy's terms: a sensitivity at least as high and
    /// a superset of the categories.
    pub fn dominates(&self, other: &PolicyLevel) -> bool {
        self.sens >= other.sens && self.cats.contains_all(&other.cats)
    }
}

/// A low and a high level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyRange {
    /// The low level.
    pub low: PolicyLevel,
    /// The high level.
    pub high: PolicyLevel,
}

impl PolicyRange {
    /// Whether `inner` lies within this range (the kernel's `mls_range_contains`).
    pub fn contains(&self, inner: &PolicyRange) -> bool {
        inner.low.dominates(&self.low) && self.high.dominates(&inner.high)
    }
}

/// A user, its roles and its MLS range.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct User {
    /// The user's name.
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// `userbounds`, 0 when none.
    pub bounds: u32,
    /// Its roles (bit = value - 1).
    pub roles: Bitmap,
    /// The range it may use.
    pub range: PolicyRange,
    /// Its default level.
    pub default_level: PolicyLevel,
}

/// A boolean and its default state.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Boolean {
    /// The boolean's name.
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// Its state in the policy file.
    pub default: bool,
}

/// A sensitivity, its aliases and the categories it may carry.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SensitivityDef {
    /// The sensitivity's name (`s0`).
    pub name: Box<str>,
    /// Its value: its place in the dominance order, from 1.
    pub value: u32,
    /// Its aliases.
    pub aliases: Vec<Box<str>>,
    /// The categories a level with it may carry (bit = value - 1).
    pub categories: Bitmap,
}

/// A category and its aliases.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CategoryDef {
    /// The category's name (`c0`).
    pub name: Box<str>,
    /// Its value.
    pub value: u32,
    /// Its aliases.
    pub aliases: Vec<Box<str>>,
}

/// What an access vector rule says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `allow`: the permissions are granted.
    Allow,
    /// `auditallow`: granted accesses are logged.
    AuditAllow,
    /// `dontaudit`: the data is the *audited* denials (the complement).
    DontAudit,
    /// `type_transition`: the data is the new type.
    TypeTransition,
    /// `type_member`.
    TypeMember,
    /// `type_change`.
    TypeChange,
    /// `allowxperm` (ioctl).
    AllowXperm,
    /// `auditallowxperm`.
    AuditAllowXperm,
    /// `dontauditxperm`.
    DontAuditXperm,
}

impl RuleKind {
    pub(crate) fn from_specified(spec: u16) -> Option<RuleKind> {
        Some(match spec {
            0x0001 => RuleKind::Allow,
            0x0002 => RuleKind::AuditAllow,
            0x0004 => RuleKind::DontAudit,
            0x0010 => RuleKind::TypeTransition,
            0x0020 => RuleKind::TypeMember,
            0x0040 => RuleKind::TypeChange,
            0x0100 => RuleKind::AllowXperm,
            0x0200 => RuleKind::AuditAllowXperm,
            0x0400 => RuleKind::DontAuditXperm,
            _ => return None,
        })
    }

    /// Whether the rule carries an extended-permission set.
    pub fn is_xperm(self) -> bool {
        matches!(
            self,
            RuleKind::AllowXperm | RuleKind::AuditAllowXperm | RuleKind::DontAuditXperm
        )
    }

    /// Whether the rule's data is a type.
    pub fn is_type_rule(self) -> bool {
        matches!(
            self,
            RuleKind::TypeTransition | RuleKind::TypeMember | RuleKind::TypeChange
        )
    }
}

/// One entry of the access vector table. Source and target are type or
/// attribute values; the kernel expands attributes when it looks rules up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AvRule {
    /// Source type or attribute value.
    pub source: u16,
    /// Target type or attribute value.
    pub target: u16,
    /// Class value.
    pub class: u16,
    /// What the rule says.
    pub kind: RuleKind,
    /// For a conditional rule, whether it is in effect with the policy's
    /// default booleans (the kernel's `AVTAB_ENABLED` as stored).
    pub enabled: bool,
    /// The permission bits (bit = permission value - 1), the new type, or
    /// for an xperm rule an index into [`Policy::xperms`](super::Policy::xperms).
    pub data: u32,
}

/// The ioctl numbers of an xperm rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Xperms {
    /// 1: function numbers under `driver`; 2: whole drivers.
    pub specified: u8,
    /// The driver (high byte of the ioctl number) for `specified == 1`.
    pub driver: u8,
    /// 256 bits.
    pub perms: [u32; 8],
}

/// A conditional expression over booleans, as a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoolExpr {
    /// A boolean, by value.
    Bool(u32),
    /// `!e`
    Not(Box<BoolExpr>),
    /// `a || b`
    Or(Box<BoolExpr>, Box<BoolExpr>),
    /// `a && b`
    And(Box<BoolExpr>, Box<BoolExpr>),
    /// `a ^ b`
    Xor(Box<BoolExpr>, Box<BoolExpr>),
    /// `a == b`
    Eq(Box<BoolExpr>, Box<BoolExpr>),
    /// `a != b`
    Neq(Box<BoolExpr>, Box<BoolExpr>),
}

impl BoolExpr {
    /// Evaluates the expression; `state(value)` gives each boolean's state.
    pub fn eval(&self, state: &impl Fn(u32) -> bool) -> bool {
        match self {
            BoolExpr::Bool(b) => state(*b),
            BoolExpr::Not(e) => !e.eval(state),
            BoolExpr::Or(a, b) => a.eval(state) || b.eval(state),
            BoolExpr::And(a, b) => a.eval(state) && b.eval(state),
            BoolExpr::Xor(a, b) => a.eval(state) ^ b.eval(state),
            BoolExpr::Eq(a, b) => a.eval(state) == b.eval(state),
            BoolExpr::Neq(a, b) => a.eval(state) != b.eval(state),
        }
    }

    /// Every boolean the expression reads.
    pub fn booleans(&self, out: &mut Vec<u32>) {
        match self {
            BoolExpr::Bool(b) => out.push(*b),
            BoolExpr::Not(e) => e.booleans(out),
            BoolExpr::Or(a, b)
            | BoolExpr::And(a, b)
            | BoolExpr::Xor(a, b)
            | BoolExpr::Eq(a, b)
            | BoolExpr::Neq(a, b) => {
                a.booleans(out);
                b.booleans(out);
            }
        }
    }
}

/// An `if (expr) { ... } else { ... }` block of rules.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Conditional {
    /// The condition.
    pub expr: BoolExpr,
    /// The rules in effect when it is true, as indexes into
    /// [`Policy::conditional_rules`](super::Policy::conditional_rules).
    pub if_true: std::ops::Range<usize>,
    /// The rules in effect when it is false.
    pub if_false: std::ops::Range<usize>,
}

/// What a constraint leaf compares (the kernel's `CEXPR_*` attribute bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintAttr {
    /// `u1` vs `u2` (or a name set).
    User,
    /// `r1` vs `r2`.
    Role,
    /// `t1` vs `t2`.
    Type,
    /// `l1` vs `l2`.
    L1L2,
    /// `l1` vs `h2`.
    L1H2,
    /// `h1` vs `l2`.
    H1L2,
    /// `h1` vs `h2`.
    H1H2,
    /// `l1` vs `h1`.
    L1H1,
    /// `l2` vs `h2`.
    L2H2,
}

impl ConstraintAttr {
    /// Whether this compares levels (an MLS constraint).
    pub fn is_mls(self) -> bool {
        !matches!(
            self,
            ConstraintAttr::User | ConstraintAttr::Role | ConstraintAttr::Type
        )
    }
}

/// A comparison in a constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintOp {
    /// `==`
    Eq,
    /// `!=`
    Neq,
    /// `dom`
    Dom,
    /// `domby`
    DomBy,
    /// `incomp`
    Incomp,
}

/// Which side a name-set leaf tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintSide {
    /// The source (`u1`, `r1`, `t1`).
    Source,
    /// The target (`u2`, `r2`, `t2`).
    Target,
    /// The third context of a validatetrans (`u3`, `r3`, `t3`).
    XTarget,
}

/// A constraint expression as a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintExpr {
    /// `not e`
    Not(Box<ConstraintExpr>),
    /// `a and b`
    And(Box<ConstraintExpr>, Box<ConstraintExpr>),
    /// `a or b`
    Or(Box<ConstraintExpr>, Box<ConstraintExpr>),
    /// `u1 == u2`, `l1 dom h2`, ...
    Attr {
        /// What is compared.
        attr: ConstraintAttr,
        /// How.
        op: ConstraintOp,
    },
    /// `t1 == { a b }`: the side's user, role or type against a set of
    /// values (bit = value - 1; for types, attributes are already expanded).
    Names {
        /// User, role or type.
        attr: ConstraintAttr,
        /// Which context.
        side: ConstraintSide,
        /// `==` or `!=`.
        op: ConstraintOp,
        /// The set.
        names: Bitmap,
    },
}

impl ConstraintExpr {
    /// Whether any leaf compares levels.
    pub fn is_mls(&self) -> bool {
        match self {
            ConstraintExpr::Not(e) => e.is_mls(),
            ConstraintExpr::And(a, b) | ConstraintExpr::Or(a, b) => a.is_mls() || b.is_mls(),
            ConstraintExpr::Attr { attr, .. } | ConstraintExpr::Names { attr, .. } => attr.is_mls(),
        }
    }
}

/// A `constrain`/`mlsconstrain` (or validatetrans) statement.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Constraint {
    /// The permissions it governs (bit = permission value - 1).
    pub permissions: u32,
    /// The condition that must hold.
    pub expr: ConstraintExpr,
}

impl Constraint {
    /// Whether this is an MLS constraint (`mlsconstrain`).
    pub fn is_mls(&self) -> bool {
        self.expr.is_mls()
    }
}

/// `role_transition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleTransition {
    /// The current role.
    pub role: u32,
    /// The type (executable or object).
    pub type_: u32,
    /// The class.
    pub class: u32,
    /// The new role.
    pub new_role: u32,
}

/// `range_transition`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RangeTransition {
    /// The source type.
    pub source: u32,
    /// The target type.
    pub target: u32,
    /// The class.
    pub class: u32,
    /// The new range.
    pub range: PolicyRange,
}

/// A context stored in the policy (initial SIDs, `fs_use`, `genfscon`, ports).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyContext {
    /// User value.
    pub user: u32,
    /// Role value.
    pub role: u32,
    /// Type value.
    pub type_: u32,
    /// The range.
    pub range: PolicyRange,
}

/// How many of each labeling statement the policy holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct LabelingCounts {
    /// Initial SIDs (`sid kernel ...`).
    pub initial_sids: usize,
    /// `fscon` (obsolete).
    pub fs: usize,
    /// `portcon`.
    pub ports: usize,
    /// `netifcon`.
    pub netifs: usize,
    /// `nodecon` (IPv4 and IPv6).
    pub nodes: usize,
    /// `fs_use_*`.
    pub fs_use: usize,
    /// `ibpkeycon`.
    pub ibpkeys: usize,
    /// `ibendportcon`.
    pub ibendports: usize,
    /// `genfscon` entries.
    pub genfs: usize,
}
