//! The binary policy, section by section, in the order the kernel's
//! `policydb_read` reads it (security/selinux/ss/policydb.c), for versions
//! 30 to 33.

use std::collections::HashMap;
use std::fmt::Display;

use super::read::Reader;
use super::*;

const MAGIC: u32 = 0xf97c_ff8c;
const TARGET: &[u8] = b"SE Linux";
const CONFIG_MLS: u32 = 1;
const CONFIG_UNKNOWN_MASK: u32 = 6;
const SYM_NUM: u32 = 8;
const OBJECT_R_VAL: u32 = 1;
/// The kernel's limits on expression depth (CEXPR_MAXDEPTH, COND_EXPR_MAXDEPTH).
const CEXPR_MAXDEPTH: usize = 5;
const COND_MAXDEPTH: usize = 10;
/// A class holds at most 32 permissions (one access vector).
const PERMS_MAX: u32 = 32;

pub(crate) fn parse(bytes: &[u8]) -> Result<Policy, PolicyDbError> {
    let mut r = Reader::new(bytes);
    let at = r.offset();
    let magic = r.u32("the policy magic number")?;
    if magic != MAGIC {
        return Err(r.bad_at(
            at,
            format!("the policy magic number {MAGIC:#010x}"),
            format!("{magic:#010x}"),
        ));
    }
    let at = r.offset();
    let len = r.u32("the length of the target name")?;
    if len as usize != TARGET.len() {
        return Err(r.bad_at(
            at,
            "the target name \"SE Linux\" (8 bytes)",
            format!("a name of {len} bytes"),
        ));
    }
    let at = r.offset();
    let target = r.take(TARGET.len(), "the target name")?;
    if target != TARGET {
        return Err(r.bad_at(
            at,
            "the target name \"SE Linux\"",
            format!("{:?}", String::from_utf8_lossy(target)),
        ));
    }
    let at = r.offset();
    let version = r.u32("the policy version")?;
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(r.bad_at(
            at,
            format!(
                "a policy version from {} to {}",
                SUPPORTED_VERSIONS.start(),
                SUPPORTED_VERSIONS.end()
            ),
            format!("version {version}"),
        ));
    }
    let config = r.u32("the policy config")?;
    let mls = config & CONFIG_MLS != 0;
    let handle_unknown = match config & CONFIG_UNKNOWN_MASK {
        0 => HandleUnknown::Deny,
        2 => HandleUnknown::Reject,
        _ => HandleUnknown::Allow,
    };
    let at = r.offset();
    let sym_num = r.u32("the number of symbol tables")?;
    let ocon_num = r.u32("the number of object context tables")?;
    let expected_ocon = if version >= 31 { 9 } else { 7 };
    if sym_num != SYM_NUM || ocon_num != expected_ocon {
        return Err(r.bad_at(
            at,
            format!("table sizes ({SYM_NUM}, {expected_ocon}) for version {version}"),
            format!("({sym_num}, {ocon_num})"),
        ));
    }
    let capabilities = r.bitmap("the policy capabilities")?;
    let permissive = r.bitmap("the permissive types")?;

    let mut p = Policy {
        version,
        mls,
        handle_unknown,
        capabilities,
        permissive,
        commons: vec![],
        classes: vec![],
        roles: vec![],
        types: vec![],
        users: vec![],
        booleans: vec![],
        sensitivities: vec![],
        categories: vec![],
        rules: vec![],
        conditionals: vec![],
        conditional_rules: vec![],
        xperms: vec![],
        role_transitions: vec![],
        role_allows: vec![],
        filename_transitions: 0,
        range_transitions: vec![],
        labeling: LabelingCounts::default(),
        type_attrs: vec![],
        attr_types: vec![],
        names: Names::default(),
    };

    read_commons(&mut r, &mut p)?;
    read_classes(&mut r, &mut p)?;
    read_roles(&mut r, &mut p)?;
    read_types(&mut r, &mut p)?;
    read_users(&mut r, &mut p)?;
    read_booleans(&mut r, &mut p)?;
    read_sensitivities(&mut r, &mut p)?;
    read_categories(&mut r, &mut p)?;
    check_symbol_references(&r, &p)?;

    let (rules, xperms) = read_avtab(&mut r, &p, false, vec![])?;
    p.rules = rules;
    p.xperms = xperms;
    read_conditionals(&mut r, &mut p)?;
    read_role_transitions(&mut r, &mut p)?;
    read_role_allows(&mut r, &mut p)?;
    read_filename_transitions(&mut r, &mut p)?;
    read_ocontexts(&mut r, &mut p, ocon_num)?;
    read_genfs(&mut r, &mut p)?;
    read_range_transitions(&mut r, &mut p)?;
    read_type_attr_map(&mut r, &mut p)?;
    // Exactly `s{value-1}` / `c{value-1}`: no leading zeros, no aliases
    // needed to read refpolicy's levels.
    let numbered = |name: &str, prefix: char, value: u32| {
        name.strip_prefix(prefix) == Some((value - 1).to_string().as_str())
    };
    p.names.numeric_sensitivities = p
        .sensitivities
        .iter()
        .all(|s| numbered(&s.name, 's', s.value));
    p.names.numeric_categories =
        p.categories.len() <= 1024 && p.categories.iter().all(|c| numbered(&c.name, 'c', c.value));
    Ok(p)
}

/// The two counts that open a symbol table: the number of values and the
/// number of entries (aliases make entries outnumber values).
fn table_header(
    r: &mut Reader<'_>,
    what: &str,
    min_entry: usize,
) -> Result<(u32, usize), PolicyDbError> {
    let at = r.offset();
    let nprim = r.u32(format_args!("the number of {what}"))?;
    if nprim as usize > r.remaining() {
        return Err(r.bad_at(
            at,
            format!("a number of {what} the file can hold"),
            nprim.to_string(),
        ));
    }
    let nel = r.count(format_args!("the number of {what} entries"), min_entry)?;
    if nel > 0 && nprim == 0 {
        return Err(r.bad_at(at, format!("{what} values for {nel} entries"), "none"));
    }
    Ok((nprim, nel))
}

/// A value from the file, checked to lie in `1..=max`.
fn value(r: &mut Reader<'_>, what: impl Display, max: u32) -> Result<u32, PolicyDbError> {
    let at = r.offset();
    let v = r.u32(&what)?;
    if v == 0 || v > max {
        return Err(r.bad_at(at, format!("{what} from 1 to {max}"), v.to_string()));
    }
    Ok(v)
}

/// Places `item` at `value - 1`, refusing a value given twice.
fn place<T>(
    r: &Reader<'_>,
    at: usize,
    slots: &mut [Option<T>],
    value: u32,
    item: T,
    what: &str,
) -> Result<(), PolicyDbError> {
    let slot = &mut slots[value as usize - 1];
    if slot.is_some() {
        return Err(r.bad_at(
            at,
            format!("a {what} value not used before"),
            format!("{value} again"),
        ));
    }
    *slot = Some(item);
    Ok(())
}

fn fill<T>(
    r: &Reader<'_>,
    at: usize,
    slots: Vec<Option<T>>,
    what: &str,
) -> Result<Vec<T>, PolicyDbError> {
    let mut out = Vec::with_capacity(slots.len());
    for (i, s) in slots.into_iter().enumerate() {
        match s {
            Some(s) => out.push(s),
            None => {
                return Err(r.bad_at(
                    at,
                    format!("a {what} for every value"),
                    format!("no {what} with value {}", i + 1),
                ))
            }
        }
    }
    Ok(out)
}

fn insert_name(
    r: &Reader<'_>,
    at: usize,
    map: &mut HashMap<Box<str>, u32>,
    name: &str,
    value: u32,
    what: &str,
) -> Result<(), PolicyDbError> {
    if map.insert(name.into(), value).is_some() {
        return Err(r.bad_at(
            at,
            format!("a {what} name not used before"),
            format!("{name} again"),
        ));
    }
    Ok(())
}

fn read_perms(
    r: &mut Reader<'_>,
    nel: usize,
    nprim: u32,
    owner: &str,
) -> Result<Vec<(Box<str>, u32)>, PolicyDbError> {
    let mut perms: Vec<(Box<str>, u32)> = Vec::with_capacity(nel);
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a permission name length")?;
        let v = value(r, format_args!("a permission value of {owner}"), nprim)?;
        let name = r.name(len, "a permission name")?;
        if perms.iter().any(|(n, pv)| *n == name || *pv == v) {
            return Err(r.bad_at(
                at,
                format!("a new permission of {owner}"),
                format!("{name} (value {v}) again"),
            ));
        }
        perms.push((name, v));
    }
    Ok(perms)
}

fn read_commons(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "commons", 16)?;
    let start = r.offset();
    let mut slots: Vec<Option<Common>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a common name length")?;
        let v = value(r, "a common value", nprim)?;
        let perm_nprim = r.u32("a common's permission count")?;
        if perm_nprim > PERMS_MAX {
            return Err(r.bad_at(at + 8, "at most 32 permissions", perm_nprim.to_string()));
        }
        let perm_nel = r.count("a common's permission entries", 9)?;
        let name = r.name(len, "a common name")?;
        let perms = read_perms(r, perm_nel, perm_nprim, &name)?;
        insert_name(r, at, &mut names, &name, v, "common")?;
        place(
            r,
            at,
            &mut slots,
            v,
            Common {
                name,
                value: v,
                perms,
            },
            "common",
        )?;
    }
    p.commons = fill(r, start, slots, "common")?;
    Ok(())
}

fn read_constraints(
    r: &mut Reader<'_>,
    n: usize,
    version: u32,
    xtarget: bool,
) -> Result<Vec<Constraint>, PolicyDbError> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let permissions = r.u32("a constraint's permissions")?;
        let nexpr = r.count("a constraint's expression length", 12)?;
        let mut stack: Vec<ConstraintExpr> = Vec::new();
        let expr_at = r.offset();
        for _ in 0..nexpr {
            let at = r.offset();
            let kind = r.u32("a constraint expression type")?;
            let attr_bits = r.u32("a constraint attribute")?;
            let op_raw = r.u32("a constraint operator")?;
            let bad = |r: &Reader<'_>, what: &str| {
                r.bad_at(
                    at,
                    what.to_owned(),
                    format!("type {kind}, attribute {attr_bits}, operator {op_raw}"),
                )
            };
            let op = match op_raw {
                1 => ConstraintOp::Eq,
                2 => ConstraintOp::Neq,
                3 => ConstraintOp::Dom,
                4 => ConstraintOp::DomBy,
                5 => ConstraintOp::Incomp,
                _ => ConstraintOp::Eq, // checked below where it matters
            };
            match kind {
                1 => {
                    let e = stack.pop().ok_or_else(|| bad(r, "an operand for `not`"))?;
                    stack.push(ConstraintExpr::Not(Box::new(e)));
                }
                2 | 3 => {
                    let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                        return Err(bad(r, "two operands for `and`/`or`"));
                    };
                    stack.push(if kind == 2 {
                        ConstraintExpr::And(Box::new(a), Box::new(b))
                    } else {
                        ConstraintExpr::Or(Box::new(a), Box::new(b))
                    });
                }
                4 => {
                    if !(1..=5).contains(&op_raw) {
                        return Err(bad(r, "an operator from 1 to 5"));
                    }
                    let attr = match attr_bits {
                        1 => ConstraintAttr::User,
                        2 => ConstraintAttr::Role,
                        4 => ConstraintAttr::Type,
                        32 => ConstraintAttr::L1L2,
                        64 => ConstraintAttr::L1H2,
                        128 => ConstraintAttr::H1L2,
                        256 => ConstraintAttr::H1H2,
                        512 => ConstraintAttr::L1H1,
                        1024 => ConstraintAttr::L2H2,
                        _ => {
                            return Err(bad(
                                r,
                                "a constraint attribute (u, r, t or a pair of levels)",
                            ))
                        }
                    };
                    if stack.len() == CEXPR_MAXDEPTH {
                        return Err(bad(r, "a constraint at most 5 deep"));
                    }
                    stack.push(ConstraintExpr::Attr { attr, op });
                }
                5 => {
                    if !(1..=2).contains(&op_raw) {
                        return Err(bad(r, "`==` or `!=` for a name set"));
                    }
                    let side = if attr_bits & 16 != 0 {
                        if !xtarget {
                            return Err(bad(r, "no third context outside validatetrans"));
                        }
                        ConstraintSide::XTarget
                    } else if attr_bits & 8 != 0 {
                        ConstraintSide::Target
                    } else {
                        ConstraintSide::Source
                    };
                    let attr = match attr_bits & !(8 | 16) {
                        1 => ConstraintAttr::User,
                        2 => ConstraintAttr::Role,
                        4 => ConstraintAttr::Type,
                        _ => return Err(bad(r, "a name set of users, roles or types")),
                    };
                    if stack.len() == CEXPR_MAXDEPTH {
                        return Err(bad(r, "a constraint at most 5 deep"));
                    }
                    let names = r.bitmap("a constraint's names")?;
                    if version >= 29 {
                        // The names as written (attributes unexpanded), for
                        // tools; the kernel decides with `names` alone.
                        r.bitmap("a constraint's type set")?;
                        r.bitmap("a constraint's negated type set")?;
                        r.u32("a constraint's type set flags")?;
                    }
                    stack.push(ConstraintExpr::Names {
                        attr,
                        side,
                        op,
                        names,
                    });
                }
                _ => return Err(bad(r, "a constraint expression type from 1 to 5")),
            }
        }
        let expr = match (stack.pop(), stack.is_empty()) {
            (Some(e), true) => e,
            _ => {
                return Err(r.bad_at(
                    expr_at,
                    "a constraint expression that reduces to one value",
                    format!("{nexpr} items that do not"),
                ))
            }
        };
        out.push(Constraint { permissions, expr });
    }
    Ok(out)
}

fn read_classes(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "classes", 24)?;
    if nprim > u16::MAX as u32 {
        return Err(r.bad_at(r.offset(), "at most 65535 classes", nprim.to_string()));
    }
    let start = r.offset();
    let mut slots: Vec<Option<Class>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    let common_names: HashMap<&str, usize> = p
        .commons
        .iter()
        .enumerate()
        .map(|(i, c)| (&*c.name, i))
        .collect();
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a class name length")?;
        let common_len = r.u32("a class's common name length")?;
        let v = value(r, "a class value", nprim)?;
        let perm_nprim = r.u32("a class's permission count")?;
        if perm_nprim > PERMS_MAX {
            return Err(r.bad_at(at + 12, "at most 32 permissions", perm_nprim.to_string()));
        }
        let perm_nel = r.count("a class's permission entries", 9)?;
        let ncons = r.count("a class's constraint count", 8)?;
        let name = r.name(len, "a class name")?;
        let common = if common_len > 0 {
            let cat = r.offset();
            let cname = r.name(common_len, "a class's common name")?;
            match common_names.get(&*cname) {
                Some(&i) => Some(i),
                None => {
                    return Err(r.bad_at(
                        cat,
                        "a common defined before",
                        format!("unknown common {cname}"),
                    ))
                }
            }
        } else {
            None
        };
        let perms = read_perms(r, perm_nel, perm_nprim, &name)?;
        if let Some(ci) = common {
            let cperms = &p.commons[ci].perms;
            if cperms
                .iter()
                .any(|(n, cv)| perms.iter().any(|(pn, pv)| pn == n || pv == cv))
            {
                return Err(r.bad_at(
                    at,
                    format!("permissions of {name} distinct from its common's"),
                    "a name or value in both",
                ));
            }
            if cperms.len() as u32 > perm_nprim {
                return Err(r.bad_at(
                    at,
                    format!("a permission count of {name} that covers its common"),
                    perm_nprim.to_string(),
                ));
            }
        }
        let constraints = read_constraints(r, ncons, p.version, false)?;
        let nvt = r.count("a class's validatetrans count", 8)?;
        let validatetrans = read_constraints(r, nvt, p.version, true)?;
        let default_user = r.u32("a class's default_user")?;
        let default_role = r.u32("a class's default_role")?;
        let default_range = r.u32("a class's default_range")?;
        let default_type = r.u32("a class's default_type")?;
        insert_name(r, at, &mut names, &name, v, "class")?;
        let class = Class {
            name,
            value: v,
            common,
            perms,
            constraints,
            validatetrans,
            default_user,
            default_role,
            default_range,
            default_type,
        };
        place(r, at, &mut slots, v, class, "class")?;
    }
    p.classes = fill(r, start, slots, "class")?;
    p.names.classes = names;
    Ok(())
}

fn read_roles(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "roles", 36)?;
    let start = r.offset();
    let mut slots: Vec<Option<Role>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a role name length")?;
        let v = value(r, "a role value", nprim)?;
        let bounds = r.u32("a role's bounds")?;
        let name = r.name(len, "a role name")?;
        let dominates = r.bitmap("a role's dominated roles")?;
        let types = r.bitmap("a role's types")?;
        if (&*name == "object_r") != (v == OBJECT_R_VAL) {
            return Err(r.bad_at(
                at,
                "object_r with value 1, and only object_r",
                format!("{name} with value {v}"),
            ));
        }
        insert_name(r, at, &mut names, &name, v, "role")?;
        place(
            r,
            at,
            &mut slots,
            v,
            Role {
                name,
                value: v,
                bounds,
                dominates,
                types,
            },
            "role",
        )?;
    }
    p.roles = fill(r, start, slots, "role")?;
    p.names.roles = names;
    Ok(())
}

fn read_types(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    const PRIMARY: u32 = 1;
    const ATTRIBUTE: u32 = 2;
    let (nprim, nel) = table_header(r, "types", 17)?;
    let start = r.offset();
    let mut slots: Vec<Option<Type>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    let mut aliases: Vec<(usize, Box<str>, u32)> = vec![];
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a type name length")?;
        let v = value(r, "a type value", nprim)?;
        let props = r.u32("a type's properties")?;
        let bounds = r.u32("a type's bounds")?;
        let name = r.name(len, "a type name")?;
        insert_name(r, at, &mut names, &name, v, "type")?;
        if props & PRIMARY == 0 {
            aliases.push((at, name, v));
            continue;
        }
        let t = Type {
            name,
            value: v,
            attribute: props & ATTRIBUTE != 0,
            bounds,
            aliases: vec![],
        };
        place(r, at, &mut slots, v, t, "type")?;
    }
    let mut types = fill(r, start, slots, "type")?;
    for (at, alias, v) in aliases {
        let t = &mut types[v as usize - 1];
        if t.attribute {
            return Err(r.bad_at(
                at,
                "an alias of a type",
                format!("{alias}, an alias of attribute {}", t.name),
            ));
        }
        t.aliases.push(alias);
    }
    for t in &types {
        if t.bounds > nprim {
            return Err(r.bad_at(
                start,
                format!("bounds of {} within the types", t.name),
                t.bounds.to_string(),
            ));
        }
    }
    p.types = types;
    p.names.types = names;
    Ok(())
}

/// An MLS level: a sensitivity value and a category bitmap.
fn read_level(r: &mut Reader<'_>, what: impl Display) -> Result<PolicyLevel, PolicyDbError> {
    let sens = r.u32(&what)?;
    let cats = r.bitmap(&what)?;
    Ok(PolicyLevel { sens, cats })
}

/// An MLS range: one or two sensitivities, then one or two category maps.
fn read_range(r: &mut Reader<'_>, what: impl Display) -> Result<PolicyRange, PolicyDbError> {
    let at = r.offset();
    let items = r.u32(&what)?;
    if !(1..=2).contains(&items) {
        return Err(r.bad_at(at, format!("{what}: 1 or 2 levels"), items.to_string()));
    }
    let low_sens = r.u32(&what)?;
    let high_sens = if items == 2 { r.u32(&what)? } else { low_sens };
    let low_cats = r.bitmap(&what)?;
    let high_cats = if items == 2 {
        r.bitmap(&what)?
    } else {
        low_cats.clone()
    };
    Ok(PolicyRange {
        low: PolicyLevel {
            sens: low_sens,
            cats: low_cats,
        },
        high: PolicyLevel {
            sens: high_sens,
            cats: high_cats,
        },
    })
}

fn read_users(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "users", 40)?;
    let start = r.offset();
    let mut slots: Vec<Option<User>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a user name length")?;
        let v = value(r, "a user value", nprim)?;
        let bounds = r.u32("a user's bounds")?;
        let name = r.name(len, "a user name")?;
        let roles = r.bitmap("a user's roles")?;
        let range = read_range(r, "a user's range")?;
        let default_level = read_level(r, "a user's default level")?;
        insert_name(r, at, &mut names, &name, v, "user")?;
        place(
            r,
            at,
            &mut slots,
            v,
            User {
                name,
                value: v,
                bounds,
                roles,
                range,
                default_level,
            },
            "user",
        )?;
    }
    p.users = fill(r, start, slots, "user")?;
    p.names.users = names;
    Ok(())
}

fn read_booleans(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "booleans", 13)?;
    let start = r.offset();
    let mut slots: Vec<Option<Boolean>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    for _ in 0..nel {
        let at = r.offset();
        let v = value(r, "a boolean value", nprim)?;
        let state_at = r.offset();
        let state = r.u32("a boolean's state")?;
        if state > 1 {
            return Err(r.bad_at(state_at, "a boolean state 0 or 1", state.to_string()));
        }
        let len = r.u32("a boolean name length")?;
        let name = r.name(len, "a boolean name")?;
        insert_name(r, at, &mut names, &name, v, "boolean")?;
        place(
            r,
            at,
            &mut slots,
            v,
            Boolean {
                name,
                value: v,
                default: state == 1,
            },
            "boolean",
        )?;
    }
    p.booleans = fill(r, start, slots, "boolean")?;
    p.names.booleans = names;
    Ok(())
}

fn read_sensitivities(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "sensitivities", 28)?;
    let start = r.offset();
    let mut slots: Vec<Option<SensitivityDef>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    let mut aliases = vec![];
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a sensitivity name length")?;
        let isalias = r.u32("a sensitivity's alias flag")?;
        let name = r.name(len, "a sensitivity name")?;
        let level_at = r.offset();
        let level = read_level(r, "a sensitivity's level")?;
        if level.sens == 0 || level.sens > nprim {
            return Err(r.bad_at(
                level_at,
                format!("a sensitivity value from 1 to {nprim}"),
                level.sens.to_string(),
            ));
        }
        insert_name(r, at, &mut names, &name, level.sens, "sensitivity")?;
        if isalias != 0 {
            aliases.push((name, level.sens));
            continue;
        }
        let s = SensitivityDef {
            name,
            value: level.sens,
            aliases: vec![],
            categories: level.cats,
        };
        place(r, at, &mut slots, s.value, s, "sensitivity")?;
    }
    // checkpolicy counts aliases in the table's size, so the values of the
    // sensitivities fill a prefix of it.
    let n = slots.iter().filter(|s| s.is_some()).count();
    slots.truncate(n);
    let mut sens = fill(r, start, slots, "sensitivity")?;
    for (alias, v) in aliases {
        match sens.get_mut(v as usize - 1) {
            Some(x) => x.aliases.push(alias),
            None => {
                return Err(r.bad_at(
                    start,
                    "an alias of a defined sensitivity",
                    format!("{alias} with value {v}"),
                ))
            }
        }
    }
    p.sensitivities = sens;
    p.names.sensitivities = names;
    Ok(())
}

fn read_categories(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let (nprim, nel) = table_header(r, "categories", 13)?;
    let start = r.offset();
    let mut slots: Vec<Option<CategoryDef>> = (0..nprim).map(|_| None).collect();
    let mut names = HashMap::with_capacity(nel);
    let mut aliases = vec![];
    for _ in 0..nel {
        let at = r.offset();
        let len = r.u32("a category name length")?;
        let v = value(r, "a category value", nprim)?;
        let isalias = r.u32("a category's alias flag")?;
        let name = r.name(len, "a category name")?;
        insert_name(r, at, &mut names, &name, v, "category")?;
        if isalias != 0 {
            aliases.push((name, v));
            continue;
        }
        place(
            r,
            at,
            &mut slots,
            v,
            CategoryDef {
                name,
                value: v,
                aliases: vec![],
            },
            "category",
        )?;
    }
    let n = slots.iter().filter(|s| s.is_some()).count();
    slots.truncate(n);
    let mut cats = fill(r, start, slots, "category")?;
    for (alias, v) in aliases {
        match cats.get_mut(v as usize - 1) {
            Some(x) => x.aliases.push(alias),
            None => {
                return Err(r.bad_at(
                    start,
                    "an alias of a defined category",
                    format!("{alias} with value {v}"),
                ))
            }
        }
    }
    p.categories = cats;
    p.names.categories = names;
    Ok(())
}

/// Bits of `map` must name values that exist (bit = value - 1).
fn check_bits(
    r: &Reader<'_>,
    at: usize,
    map: &Bitmap,
    max: usize,
    what: impl Display,
) -> Result<(), PolicyDbError> {
    match map.last() {
        Some(b) if b as usize >= max => {
            Err(r.bad_at(at, format!("{what} from 1 to {max}"), (b + 1).to_string()))
        }
        _ => Ok(()),
    }
}

fn check_level(
    r: &Reader<'_>,
    at: usize,
    p: &Policy,
    l: &PolicyLevel,
    what: impl Display,
) -> Result<(), PolicyDbError> {
    if p.mls && (l.sens == 0 || l.sens as usize > p.sensitivities.len()) {
        return Err(r.bad_at(
            at,
            format!("{what}: a sensitivity from 1 to {}", p.sensitivities.len()),
            l.sens.to_string(),
        ));
    }
    check_bits(
        r,
        at,
        &l.cats,
        p.categories.len(),
        format_args!("{what}: categories"),
    )
}

/// Cross-references between the symbol tables, checked once all are read
/// (the kernel's `policydb_index` and validity checks).
fn check_symbol_references(r: &Reader<'_>, p: &Policy) -> Result<(), PolicyDbError> {
    let at = r.offset();
    for role in &p.roles {
        check_bits(
            r,
            at,
            &role.types,
            p.types.len(),
            format_args!("types of role {}", role.name),
        )?;
        check_bits(
            r,
            at,
            &role.dominates,
            p.roles.len(),
            format_args!("roles dominated by {}", role.name),
        )?;
    }
    for u in &p.users {
        check_bits(
            r,
            at,
            &u.roles,
            p.roles.len(),
            format_args!("roles of user {}", u.name),
        )?;
        check_level(
            r,
            at,
            p,
            &u.range.low,
            format_args!("the range of user {}", u.name),
        )?;
        check_level(
            r,
            at,
            p,
            &u.range.high,
            format_args!("the range of user {}", u.name),
        )?;
        check_level(
            r,
            at,
            p,
            &u.default_level,
            format_args!("the default level of user {}", u.name),
        )?;
    }
    for s in &p.sensitivities {
        check_bits(
            r,
            at,
            &s.categories,
            p.categories.len(),
            format_args!("categories of {}", s.name),
        )?;
    }
    Ok(())
}

/// The access vector table, or one list of a conditional block.
fn read_avtab(
    r: &mut Reader<'_>,
    p: &Policy,
    conditional: bool,
    mut xperms: Vec<Xperms>,
) -> Result<(Vec<AvRule>, Vec<Xperms>), PolicyDbError> {
    let n = r.count(
        if conditional {
            "a conditional rule count"
        } else {
            "the rule count"
        },
        12,
    )?;
    let mut rules = Vec::with_capacity(n);
    for _ in 0..n {
        let at = r.offset();
        // One bounds check for the fixed part of a rule: this loop reads
        // every rule of the policy (130,000 in Debian's).
        let h: [u8; 8] = r.array("a rule's source type, target type, class and kind")?;
        let source = u16::from_le_bytes([h[0], h[1]]);
        let target = u16::from_le_bytes([h[2], h[3]]);
        let class = u16::from_le_bytes([h[4], h[5]]);
        let spec = u16::from_le_bytes([h[6], h[7]]);
        let enabled = spec & 0x8000 != 0;
        let kind = RuleKind::from_specified(spec & !0x8000).ok_or_else(|| {
            r.bad_at(
                at + 6,
                "exactly one rule kind (allow, auditallow, dontaudit, type_transition, ...)",
                format!("{spec:#06x}"),
            )
        })?;
        if source == 0
            || source as usize > p.types.len()
            || target == 0
            || target as usize > p.types.len()
        {
            return Err(r.bad_at(
                at,
                format!("rule types from 1 to {}", p.types.len()),
                format!("{source} and {target}"),
            ));
        }
        if class == 0 || class as usize > p.classes.len() {
            return Err(r.bad_at(
                at + 4,
                format!("a rule class from 1 to {}", p.classes.len()),
                class.to_string(),
            ));
        }
        let data = if kind.is_xperm() {
            let xat = r.offset();
            let specified = r.u8("an xperm rule's kind")?;
            let driver = r.u8("an xperm rule's driver")?;
            if !(1..=2).contains(&specified) {
                return Err(r.bad_at(
                    xat,
                    "an xperm kind 1 (ioctl functions) or 2 (drivers)",
                    specified.to_string(),
                ));
            }
            let mut perms = [0u32; 8];
            for w in &mut perms {
                *w = r.u32("an xperm rule's bits")?;
            }
            xperms.push(Xperms {
                specified,
                driver,
                perms,
            });
            (xperms.len() - 1) as u32
        } else {
            let dat = r.offset();
            let d = r.u32("a rule's data")?;
            if kind.is_type_rule() && (d == 0 || d as usize > p.types.len()) {
                return Err(r.bad_at(
                    dat,
                    format!("a new type from 1 to {}", p.types.len()),
                    d.to_string(),
                ));
            }
            d
        };
        rules.push(AvRule {
            source,
            target,
            class,
            kind,
            enabled,
            data,
        });
    }
    Ok((rules, xperms))
}

fn read_conditionals(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = r.count("the conditional block count", 16)?;
    let mut conds = Vec::with_capacity(n);
    let mut all_rules: Vec<AvRule> = vec![];
    let mut xperms = std::mem::take(&mut p.xperms);
    for _ in 0..n {
        r.u32("a conditional's current state")?;
        let nexpr = r.count("a conditional expression length", 8)?;
        let expr_at = r.offset();
        let mut stack: Vec<BoolExpr> = vec![];
        for _ in 0..nexpr {
            let at = r.offset();
            let kind = r.u32("a conditional operator")?;
            let b = r.u32("a conditional's boolean")?;
            let two = |stack: &mut Vec<BoolExpr>| match (stack.pop(), stack.pop()) {
                (Some(b), Some(a)) => Some((Box::new(a), Box::new(b))),
                _ => None,
            };
            let bad = |r: &Reader<'_>, what: &str| {
                r.bad_at(at, what.to_owned(), format!("operator {kind}, boolean {b}"))
            };
            let e = match kind {
                1 => {
                    if b == 0 || b as usize > p.booleans.len() {
                        return Err(bad(r, &format!("a boolean from 1 to {}", p.booleans.len())));
                    }
                    if stack.len() == COND_MAXDEPTH {
                        return Err(bad(r, "a condition at most 10 deep"));
                    }
                    BoolExpr::Bool(b)
                }
                2 => BoolExpr::Not(Box::new(
                    stack.pop().ok_or_else(|| bad(r, "an operand for `!`"))?,
                )),
                3..=7 => {
                    let (a, c) = two(&mut stack).ok_or_else(|| bad(r, "two operands"))?;
                    match kind {
                        3 => BoolExpr::Or(a, c),
                        4 => BoolExpr::And(a, c),
                        5 => BoolExpr::Xor(a, c),
                        6 => BoolExpr::Eq(a, c),
                        _ => BoolExpr::Neq(a, c),
                    }
                }
                _ => return Err(bad(r, "a conditional operator from 1 to 7")),
            };
            stack.push(e);
        }
        let expr = match (stack.pop(), stack.is_empty()) {
            (Some(e), true) => e,
            _ => {
                return Err(r.bad_at(
                    expr_at,
                    "a condition that reduces to one value",
                    format!("{nexpr} items that do not"),
                ))
            }
        };
        let (t, x) = read_avtab(r, p, true, xperms)?;
        let t_range = all_rules.len()..all_rules.len() + t.len();
        all_rules.extend(t);
        let (f, x) = read_avtab(r, p, true, x)?;
        xperms = x;
        let f_range = all_rules.len()..all_rules.len() + f.len();
        all_rules.extend(f);
        conds.push(Conditional {
            expr,
            if_true: t_range,
            if_false: f_range,
        });
    }
    p.conditionals = conds;
    p.conditional_rules = all_rules;
    p.xperms = xperms;
    Ok(())
}

fn read_role_transitions(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = r.count("the role_transition count", 16)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let role = value(r, "a role_transition's role", p.roles.len() as u32)?;
        let type_ = value(r, "a role_transition's type", p.types.len() as u32)?;
        let new_role = value(r, "a role_transition's new role", p.roles.len() as u32)?;
        let class = value(r, "a role_transition's class", p.classes.len() as u32)?;
        out.push(RoleTransition {
            role,
            type_,
            class,
            new_role,
        });
    }
    p.role_transitions = out;
    Ok(())
}

fn read_role_allows(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = r.count("the role allow count", 8)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let a = value(r, "a role allow's role", p.roles.len() as u32)?;
        let b = value(r, "a role allow's new role", p.roles.len() as u32)?;
        out.push((a, b));
    }
    p.role_allows = out;
    Ok(())
}

fn read_filename_transitions(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let ntypes = p.types.len() as u32;
    let nclasses = p.classes.len() as u32;
    if p.version < 33 {
        let n = r.count("the filename transition count", 21)?;
        for _ in 0..n {
            let len = r.u32("a filename transition's name length")?;
            r.name(len, "a filename transition's name")?;
            value(r, "a filename transition's source type", ntypes)?;
            value(r, "a filename transition's target type", ntypes)?;
            value(r, "a filename transition's class", nclasses)?;
            value(r, "a filename transition's new type", ntypes)?;
        }
        p.filename_transitions = n;
        return Ok(());
    }
    let n = r.count("the filename transition count", 33)?;
    let mut total = 0;
    for _ in 0..n {
        let len = r.u32("a filename transition's name length")?;
        r.name(len, "a filename transition's name")?;
        value(r, "a filename transition's target type", ntypes)?;
        value(r, "a filename transition's class", nclasses)?;
        let at = r.offset();
        let ndatum = r.count("a filename transition's entry count", 16)?;
        if ndatum == 0 {
            return Err(r.bad_at(at, "at least one entry", "0"));
        }
        for _ in 0..ndatum {
            let bat = r.offset();
            let stypes = r.bitmap("a filename transition's source types")?;
            check_bits(r, bat, &stypes, ntypes as usize, "source types")?;
            total += stypes.len();
            value(r, "a filename transition's new type", ntypes)?;
        }
    }
    p.filename_transitions = total;
    Ok(())
}

/// A context in the policy, checked as the kernel checks it on load.
fn read_context(r: &mut Reader<'_>, p: &Policy) -> Result<PolicyContext, PolicyDbError> {
    let at = r.offset();
    let user = r.u32("a context's user")?;
    let role = r.u32("a context's role")?;
    let type_ = r.u32("a context's type")?;
    let range = read_range(r, "a context's range")?;
    let c = PolicyContext {
        user,
        role,
        type_,
        range,
    };
    if let Err(e) = super::validate::check_values(p, &c) {
        return Err(r.bad_at(at, "a valid context", e.to_string()));
    }
    Ok(c)
}

fn read_ocontexts(r: &mut Reader<'_>, p: &mut Policy, ocon_num: u32) -> Result<(), PolicyDbError> {
    let mut counts = LabelingCounts::default();
    for kind in 0..ocon_num {
        let n = r.count("an object context count", 8)?;
        for _ in 0..n {
            match kind {
                0 => {
                    r.u32("an initial SID")?;
                    read_context(r, p)?;
                }
                1 | 3 => {
                    let at = r.offset();
                    let len = r.u32("a name length")?;
                    if len > 63 {
                        return Err(r.bad_at(at, "a name of at most 63 bytes", len.to_string()));
                    }
                    r.name(len, "a file system or interface name")?;
                    read_context(r, p)?;
                    read_context(r, p)?;
                }
                2 => {
                    r.take(12, "a port range")?;
                    read_context(r, p)?;
                }
                4 => {
                    r.take(8, "a node address and mask")?;
                    read_context(r, p)?;
                }
                5 => {
                    r.u32("an fs_use behavior")?;
                    let len = r.u32("a file system name length")?;
                    r.name(len, "a file system name")?;
                    read_context(r, p)?;
                }
                6 => {
                    r.take(32, "an IPv6 node address and mask")?;
                    read_context(r, p)?;
                }
                7 => {
                    r.take(16, "an InfiniBand pkey")?;
                    read_context(r, p)?;
                }
                _ => {
                    let len = r.u32("a device name length")?;
                    r.u32("a port")?;
                    r.name(len, "a device name")?;
                    read_context(r, p)?;
                }
            }
        }
        let slot = match kind {
            0 => &mut counts.initial_sids,
            1 => &mut counts.fs,
            2 => &mut counts.ports,
            3 => &mut counts.netifs,
            4 | 6 => &mut counts.nodes,
            5 => &mut counts.fs_use,
            7 => &mut counts.ibpkeys,
            _ => &mut counts.ibendports,
        };
        *slot += n;
    }
    p.labeling = counts;
    Ok(())
}

fn read_genfs(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = r.count("the genfscon file system count", 8)?;
    let mut total = 0;
    for _ in 0..n {
        let len = r.u32("a file system name length")?;
        r.name(len, "a file system name")?;
        let m = r.count("a genfscon entry count", 20)?;
        for _ in 0..m {
            let len = r.u32("a genfscon path length")?;
            r.name(len, "a genfscon path")?;
            r.u32("a genfscon class")?;
            read_context(r, p)?;
        }
        total += m;
    }
    p.labeling.genfs = total;
    Ok(())
}

fn read_range_transitions(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = r.count("the range_transition count", 24)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let source = value(r, "a range_transition's source type", p.types.len() as u32)?;
        let target = value(r, "a range_transition's target type", p.types.len() as u32)?;
        let class = value(r, "a range_transition's class", p.classes.len() as u32)?;
        let at = r.offset();
        let range = read_range(r, "a range_transition's range")?;
        check_level(r, at, p, &range.low, "a range_transition's range")?;
        check_level(r, at, p, &range.high, "a range_transition's range")?;
        out.push(RangeTransition {
            source,
            target,
            class,
            range,
        });
    }
    p.range_transitions = out;
    Ok(())
}

fn read_type_attr_map(r: &mut Reader<'_>, p: &mut Policy) -> Result<(), PolicyDbError> {
    let n = p.types.len();
    let mut type_attrs = Vec::with_capacity(n);
    let mut members: Vec<Vec<u32>> = vec![vec![]; n];
    for i in 0..n {
        let at = r.offset();
        let map = r.bitmap("a type's attributes")?;
        check_bits(r, at, &map, n, "attributes")?;
        for j in map.iter() {
            if j as usize == i {
                continue;
            }
            if p.types[i].attribute {
                return Err(r.bad_at(
                    at,
                    format!("no attributes of attribute {}", p.types[i].name),
                    format!("{}", p.types[j as usize].name),
                ));
            }
            if !p.types[j as usize].attribute {
                return Err(r.bad_at(
                    at,
                    format!("attributes of {}", p.types[i].name),
                    format!("type {}", p.types[j as usize].name),
                ));
            }
            members[j as usize].push(i as u32);
        }
        // The type itself, as the kernel adds it (a rule on a type applies
        // to that type).
        let map = if map.contains(i as u32) {
            map
        } else {
            Bitmap::from_bits(map.iter().chain([i as u32]))
        };
        if !p.types[i].attribute {
            members[i].push(i as u32);
        }
        type_attrs.push(map);
    }
    p.type_attrs = type_attrs;
    p.attr_types = members.into_iter().map(Bitmap::from_bits).collect();
    Ok(())
}
