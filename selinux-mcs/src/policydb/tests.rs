#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use super::*;

fn fixture(v: u32) -> Vec<u8> {
    let path = format!(
        "{}/../tests/data/policydb/mls.{v}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).unwrap()
}

#[test]
fn every_version_loads_with_its_facts() {
    for v in 30..=33 {
        let p = Policy::from_bytes(&fixture(v)).unwrap();
        assert_eq!(p.version(), v);
        assert!(p.mls());
        assert_eq!(p.handle_unknown(), HandleUnknown::Deny);
        assert_eq!(p.capabilities(), ["network_peer_controls", "open_perms"]);
        assert_eq!(p.sensitivities().len(), 16);
        assert_eq!(&*p.sensitivities()[2].aliases[0], "secret");
        assert_eq!(p.sensitivity("secret").unwrap().name.as_ref(), "s2");
        assert_eq!(p.category("red").unwrap().name.as_ref(), "c1");
        assert_eq!(p.categories().len(), 32);
        let limits = p.limits().unwrap();
        assert_eq!(
            limits,
            crate::mls::Limits::new(
                crate::mls::Sensitivity::new(15),
                crate::mls::Category::new(31).unwrap()
            )
        );
        let t = p.type_("svirt_lxc_net_t").unwrap();
        assert_eq!(&*t.name, "container_t");
        let attrs: Vec<&str> = p.attributes_of(t).iter().map(|a| &*a.name).collect();
        assert_eq!(attrs, ["domain", "mcs_constrained_type"]);
        assert!(p.is_permissive(p.type_("child_t").unwrap()));
        assert_eq!(p.type_("child_t").unwrap().bounds, t.value);
        assert!(p.mcs_constrained_types().contains("svirt_lxc_net_t"));
        let b = p.boolean("allow_exec").unwrap();
        assert!(b.default);
        let file = p.class("file").unwrap();
        assert_eq!(p.permission_value(file, "read"), Some(2));
        assert_eq!(p.permission_value(file, "open"), Some(11));
        assert_eq!(file.constraints.len(), 3);
        assert_eq!(file.constraints.iter().filter(|c| c.is_mls()).count(), 2);
        assert_eq!(file.validatetrans.len(), 2);
        let user = p.user("sysadm_u").unwrap();
        assert_eq!(p.range_to_string(&user.range), "s0-s3:c0.c7");
        assert_eq!(p.level_to_string(&user.default_level), "s1");
        assert_eq!(p.conditionals().len(), 3);
        // Each block's rules are stored enabled as its condition evaluates
        // under the default booleans.
        let state = |b: u32| p.booleans()[b as usize - 1].default;
        for c in p.conditionals() {
            let now = c.expr.eval(&state);
            assert!(p.conditional_rules()[c.if_true.clone()]
                .iter()
                .all(|r| r.enabled == now));
            assert!(p.conditional_rules()[c.if_false.clone()]
                .iter()
                .all(|r| r.enabled != now));
        }
        assert_eq!(p.xperms().len(), 2);
        assert_eq!(p.range_transitions().len(), 2);
    }
}

#[test]
fn validity_follows_the_kernels_rules() {
    let p = Policy::from_bytes(&fixture(33)).unwrap();
    let check = |s: &str| {
        s.parse::<crate::SecurityContext>()
            .unwrap()
            .validate(&p)
            .map_err(|e| e.to_string())
    };
    assert_eq!(check("system_u:system_r:container_t:s0:c1,c2"), Ok(()));
    assert_eq!(check("system_u:system_r:svirt_lxc_net_t:s0:c1,c2"), Ok(()));
    assert_eq!(
        check("system_u:object_r:container_file_t:s15:c0.c31"),
        Ok(())
    );
    assert_eq!(
        check("user_u:object_r:file_t:s15"),
        Ok(()),
        "object_r: no user range check"
    );
    assert_eq!(
        check("system_u:system_r:container_fle_t:s0").unwrap_err(),
        "unknown type container_fle_t; did you mean container_file_t?"
    );
    assert_eq!(
        check("sytem_u:object_r:file_t:s0").unwrap_err(),
        "unknown user sytem_u; did you mean system_u?"
    );
    assert_eq!(
        check("system_u:sytem_r:file_t:s0").unwrap_err(),
        "unknown role sytem_r; did you mean system_r?"
    );
    assert_eq!(
        check("system_u:object_r:zzzzzzz:s0").unwrap_err(),
        "unknown type zzzzzzz"
    );
    assert_eq!(
        check("system_u:object_r:domain:s0").unwrap_err(),
        "domain is an attribute (a set of types), not a type"
    );
    assert_eq!(check("system_u:system_r:file_t:s0").unwrap_err(), "role system_r may not hold type file_t (no `role system_r types file_t`; only object_r takes any type)");
    assert_eq!(
        check("user_u:system_r:init_t:s0").unwrap_err(),
        "user user_u may not take role system_r (its roles: user_r)"
    );
    assert_eq!(
        check("user_u:user_r:user_t:s0:c4").unwrap_err(),
        "range s0:c4 is outside user user_u's range s0-s0:c0.c3"
    );
    assert_eq!(
        check("user_u:user_r:user_t:s1").unwrap_err(),
        "range s1 is outside user user_u's range s0-s0:c0.c3"
    );
    assert_eq!(
        check("system_u:object_r:file_t:s2:c16").unwrap_err(),
        "category c16 is not allowed with sensitivity s2"
    );
    assert_eq!(
        check("system_u:object_r:file_t:s0:c32").unwrap_err(),
        "unknown category c32 (the policy defines c0.c31)"
    );
    assert_eq!(
        check("system_u:object_r:file_t").unwrap_err(),
        "the policy has MLS on: a context needs a level (e.g. s0)"
    );
    let ctx: crate::SecurityContext = "system_u:object_r:svirt_sandbox_file_t:s0".parse().unwrap();
    assert_eq!(
        p.canonical_context(&ctx).unwrap().to_string(),
        "system_u:object_r:container_file_t:s0"
    );
}

#[test]
fn every_truncation_is_an_error_naming_its_offset() {
    let bytes = fixture(33);
    for len in 0..bytes.len() {
        let err = Policy::from_bytes(&bytes[..len]).unwrap_err();
        let off = err.offset().unwrap();
        assert!(off <= len, "cut at {len}: offset {off}: {err}");
        assert!(
            err.to_string().starts_with("malformed policy at byte "),
            "{err}"
        );
    }
}

#[test]
fn every_flipped_byte_is_an_error_or_a_policy() {
    // No panic and no runaway allocation, whatever the byte.
    let bytes = fixture(31);
    for i in 0..bytes.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= x;
            let _ = Policy::from_bytes(&b);
        }
    }
}

#[test]
fn header_errors_say_what_was_expected() {
    let mut b = fixture(33);
    b[8 + 8] = 34; // version
    assert_eq!(
        Policy::from_bytes(&b).unwrap_err().to_string(),
        "malformed policy at byte 16: expected a policy version from 30 to 33, found version 34"
    );
    assert_eq!(
        Policy::from_bytes(b"\x8c\xff\x7c\xf9").unwrap_err().to_string(),
        "malformed policy at byte 4: expected the length of the target name (4 bytes), found the end of the file after 0 bytes"
    );
    assert_eq!(
        Policy::from_bytes(b"nope").unwrap_err().to_string(),
        "malformed policy at byte 0: expected the policy magic number 0xf97cff8c, found 0x65706f6e"
    );
}

#[test]
fn a_huge_count_is_refused_before_allocating() {
    let mut b = fixture(33);
    // The commons table's entry count sits after the header and bitmaps;
    // find the first table header by searching for nprim=1,nel=1 of commons.
    let pos = (0..b.len() - 8)
        .find(|&i| b[i..i + 8] == [1, 0, 0, 0, 1, 0, 0, 0])
        .unwrap();
    b[pos + 4..pos + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = Policy::from_bytes(&b).unwrap_err().to_string();
    assert!(err.contains("that the remaining"), "{err}");
}

#[test]
fn cached_decisions_are_the_computed_ones() {
    let p = Policy::from_bytes(&fixture(33)).unwrap();
    let access = p.access();
    let file = p.class("file").unwrap().value;
    let s: crate::SecurityContext = "system_u:system_r:container_t:s0:c1,c2".parse().unwrap();
    for t in [
        "system_u:object_r:container_file_t:s0:c1,c2",
        "system_u:object_r:container_file_t:s0:c1,c3",
        "system_u:object_r:file_t:s0",
    ] {
        let t: crate::SecurityContext = t.parse().unwrap();
        let first = access.compute_av_value(&s, &t, file).unwrap();
        let again = access.compute_av_value(&s, &t, file).unwrap();
        let (fresh, _) = access.compute_av_reason(&s, &t, file, u32::MAX).unwrap();
        assert_eq!(first, again);
        assert_eq!(first, fresh);
    }
    assert_eq!(access.cached(), 3);
    let read = 1
        << (p
            .permission_value(p.class("file").unwrap(), "read")
            .unwrap()
            - 1);
    let same = access
        .compute_av(
            &s,
            &"system_u:object_r:container_file_t:s0:c1,c2"
                .parse()
                .unwrap(),
            "file",
        )
        .unwrap();
    let other = access
        .compute_av(
            &s,
            &"system_u:object_r:container_file_t:s0:c1,c3"
                .parse()
                .unwrap(),
            "file",
        )
        .unwrap();
    assert_ne!(same.allowed & read, 0);
    assert_eq!(other.allowed & read, 0, "MCS: c3 is not the container's");
    // Booleans: the conditional write rule follows the override.
    let user: crate::SecurityContext = "user_u:user_r:user_t:s0".parse().unwrap();
    let ft: crate::SecurityContext = "system_u:object_r:file_t:s0".parse().unwrap();
    let write = 1
        << (p
            .permission_value(p.class("file").unwrap(), "write")
            .unwrap()
            - 1);
    assert_eq!(
        access.compute_av(&user, &ft, "file").unwrap().allowed & write,
        0
    );
    let on = p.access_with(p.booleans_with([("allow_write", true)]).unwrap());
    assert_ne!(
        on.compute_av(&user, &ft, "file").unwrap().allowed & write,
        0
    );
    assert!(matches!(
        p.booleans_with([("nope", true)]),
        Err(AccessError::UnknownBoolean(_))
    ));
    // The permissive domain is flagged.
    let child: crate::SecurityContext = "system_u:system_r:child_t:s0".parse().unwrap();
    assert!(access.compute_av(&child, &ft, "file").unwrap().permissive);
}

#[test]
fn a_policy_with_more_sensitivities_widens_the_parser() {
    let path = format!(
        "{}/../tests/data/policydb/mls24.33",
        env!("CARGO_MANIFEST_DIR")
    );
    let p = Policy::from_path(path).unwrap();
    assert_eq!(p.sensitivities().len(), 24);
    let text = "system_u:object_r:file_t:s20:c1";
    assert!(
        text.parse::<crate::SecurityContext>().is_err(),
        "the default parser stops at s15"
    );
    let ctx = crate::SecurityContext::parse_with(text, &p.parse_limits()).unwrap();
    assert_eq!(ctx.validate(&p), Ok(()));
    let narrow = Policy::from_bytes(&fixture(33)).unwrap();
    assert_eq!(narrow.parse_limits(), crate::mls::Limits::default());
    let ctx =
        crate::SecurityContext::parse_with("system_u:object_r:file_t:s15", &narrow.parse_limits())
            .unwrap();
    assert_eq!(ctx.validate(&narrow), Ok(()));
}
