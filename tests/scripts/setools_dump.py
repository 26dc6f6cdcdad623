#!/usr/bin/python3
"""Dumps what setools (libsepol underneath) reads from a binary policy, as
JSON in the shape tests/tests/policydb_setools.rs builds from our reader:
every type with its aliases and attributes, every attribute's members,
every user's roles, range and default level, every role's types, every
boolean's default, sensitivities and categories with aliases, and seinfo's
statistics. Levels are {"sens": name, "cats": [names]} so that no
formatting convention is compared, only content."""
import json
import sys

import setools


def level(l):
    return {"sens": str(l.sensitivity), "cats": sorted(str(c) for c in l.categories())}


def main(path):
    p = setools.SELinuxPolicy(path)
    out = {}
    out["types"] = {
        str(t): {
            "aliases": sorted(str(a) for a in t.aliases()),
            "attributes": sorted(str(a) for a in t.attributes()),
            "permissive": bool(t.ispermissive),
        }
        for t in p.types()
    }
    out["attributes"] = {str(a): sorted(str(t) for t in a.expand()) for a in p.typeattributes()}
    out["users"] = {
        str(u): {
            "roles": sorted(str(r) for r in u.roles),
            "range": {"low": level(u.mls_range.low), "high": level(u.mls_range.high)} if p.mls else None,
            "default_level": level(u.mls_level) if p.mls else None,
        }
        for u in p.users()
    }
    # setools lists object_r with no types; the kernel lets it hold any.
    out["roles"] = {str(r): sorted(str(t) for t in r.types()) for r in p.roles() if str(r) != "object_r"}
    out["booleans"] = {str(b): bool(b.state) for b in p.bools()}
    out["sensitivities"] = [
        {"name": str(s), "aliases": sorted(str(a) for a in s.aliases())} for s in sorted(p.sensitivities())
    ]
    out["categories"] = {str(c): sorted(str(a) for a in c.aliases()) for c in p.categories()}
    out["classes"] = {
        str(c): sorted(set(str(x) for x in c.perms) | (set(str(x) for x in c.common.perms) if _has_common(c) else set()))
        for c in p.classes()
    }
    stats = {}
    for key, attr in STATS.items():
        stats[key] = getattr(p, attr)
    stats["version"] = int(str(p.version))
    stats["mls"] = bool(p.mls)
    stats["handle_unknown"] = str(p.handle_unknown)
    out["stats"] = stats
    json.dump(out, sys.stdout, sort_keys=True)


def _has_common(c):
    try:
        c.common
        return True
    except setools.exception.NoCommon:
        return False


STATS = {
    "classes": "class_count",
    "permissions": "permission_count",
    "sensitivities": "level_count",
    "categories": "category_count",
    "types": "type_count",
    "attributes": "type_attribute_count",
    "users": "user_count",
    "roles": "role_count",
    "booleans": "boolean_count",
    "conditionals": "conditional_count",
    "allow": "allow_count",
    "auditallow": "auditallow_count",
    "dontaudit": "dontaudit_count",
    "type_transition": "type_transition_count",
    "type_change": "type_change_count",
    "type_member": "type_member_count",
    "range_transition": "range_transition_count",
    "role_allow": "role_allow_count",
    "role_transition": "role_transition_count",
    "constraints": "constraint_count",
    "validatetrans": "validatetrans_count",
    "mls_constraints": "mlsconstraint_count",
    "mls_validatetrans": "mlsvalidatetrans_count",
    "permissives": "permissives_count",
    "polcaps": "polcap_count",
    "defaults": "default_count",
    "typebounds": "typebounds_count",
    "allowxperm": "allowxperm_count",
    "auditallowxperm": "auditallowxperm_count",
    "dontauditxperm": "dontauditxperm_count",
    "initial_sids": "initialsids_count",
    "fs_use": "fs_use_count",
    "genfscon": "genfscon_count",
    "portcon": "portcon_count",
    "netifcon": "netifcon_count",
    "nodecon": "nodecon_count",
    "ibpkeycon": "ibpkeycon_count",
    "ibendportcon": "ibendportcon_count",
}

if __name__ == "__main__":
    main(sys.argv[1])
