//! Every accept/reject, canonical-form and level-math fact of DESIGN.md, from
//! `tests/data/contexts.txt`.

use selinux_mcs::mls::{calculate_glb_lub, GlbLubError, Level, LevelMathError, Limits, MlsRange};
use selinux_mcs::{ParseError, SecurityContext};
use selinux_mcs_tests::{context_vectors, Vector};

/// Checks a parse result against `EXPECTED` (canonical text or `!kind@offset`).
fn check<T: std::fmt::Display>(v: &Vector, got: Result<T, ParseError>, expected: &str) {
    let input = v.text(0);
    match (expected.strip_prefix('!'), got) {
        (None, Ok(value)) => assert_eq!(
            value.to_string(),
            expected,
            "line {}: {input:?} printed wrong",
            v.line
        ),
        (None, Err(e)) => panic!("line {}: {input:?} rejected: {e}", v.line),
        (Some(want), Ok(value)) => {
            panic!(
                "line {}: {input:?} accepted as {value}, wanted {want}",
                v.line
            )
        }
        (Some(want), Err(e)) => {
            let got = format!("{}@{}", e.kind(), e.offset());
            assert_eq!(got, want, "line {}: {input:?}: {e}", v.line);
            // The message names the offset.
            assert!(
                e.to_string().contains(&format!("byte {}", e.offset())),
                "line {}: message does not name the offset: {e}",
                v.line
            );
        }
    }
}

#[test]
fn vectors() {
    let vectors = context_vectors();
    assert!(vectors.len() > 100, "too few vectors: {}", vectors.len());
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for v in &vectors {
        *counts.entry(v.kind.clone()).or_default() += 1;
        let input = v.text(0);
        match v.kind.as_str() {
            "context" => {
                let got = input.parse::<SecurityContext>();
                // The canonical form parses back to the same value.
                if let Ok(ctx) = &got {
                    let again: SecurityContext =
                        ctx.to_string().parse().expect("canonical reparses");
                    assert_eq!(&again, ctx, "line {}", v.line);
                }
                check(v, got, &v.text(1));
            }
            "mcs-context" => check(
                v,
                SecurityContext::parse_with(&input, &Limits::MCS),
                &v.text(1),
            ),
            "bytes" => check(
                v,
                SecurityContext::try_from(v.fields[0].as_slice()),
                &v.text(1),
            ),
            "level" => check(v, input.parse::<Level>(), &v.text(1)),
            "range" => check(v, input.parse::<MlsRange>(), &v.text(1)),
            "compare" => {
                let a: Level = input.parse().expect("level");
                let b: Level = v.text(1).parse().expect("level");
                let got = match a.partial_cmp(&b) {
                    Some(std::cmp::Ordering::Greater) => "greater",
                    Some(std::cmp::Ordering::Less) => "less",
                    Some(std::cmp::Ordering::Equal) => "equal",
                    None => "incomparable",
                };
                assert_eq!(got, v.text(2), "line {}: {a} vs {b}", v.line);
                assert_eq!(a.dominates(&b), got == "greater" || got == "equal");
                assert_eq!(a.is_incomparable(&b), got == "incomparable");
            }
            "contains" => {
                let a: MlsRange = input.parse().expect("range");
                let b: MlsRange = v.text(1).parse().expect("range");
                assert_eq!(
                    a.contains(&b),
                    v.text(2) == "yes",
                    "line {}: {a} contains {b}",
                    v.line
                );
            }
            "glblub" => {
                let got = calculate_glb_lub(&input, &v.text(1));
                let want = v.text(2);
                match (want.strip_prefix('!'), got) {
                    (None, Ok(r)) => assert_eq!(r.to_string(), want, "line {}", v.line),
                    (
                        Some("high-does-not-dominate-low"),
                        Err(GlbLubError::Math(LevelMathError::HighDoesNotDominateLow { .. })),
                    ) => {}
                    (Some("disjoint"), Err(GlbLubError::Math(LevelMathError::Disjoint { .. }))) => {
                    }
                    (_, got) => panic!(
                        "line {}: glb/lub of {input} and {}: got {got:?}, wanted {want}",
                        v.line,
                        v.text(1)
                    ),
                }
            }
            other => panic!("line {}: unknown vector kind {other:?}", v.line),
        }
    }
    eprintln!("checked {} vectors: {counts:?}", vectors.len());
}

#[test]
fn equality_hash_and_order_use_the_parsed_value() {
    use std::collections::HashSet;
    let a: SecurityContext = "u:r:t:s0:c5,c2".parse().expect("valid");
    let b: SecurityContext = "u:r:t:s0:c2,c5".parse().expect("valid");
    let c: SecurityContext = "u:r:t:s0:c2,c5-s0:c5,c2".parse().expect("valid");
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
    let set: HashSet<_> = [a.clone(), b, c].into_iter().collect();
    assert_eq!(set.len(), 1);
    let d: SecurityContext = "u:r:t:s0:c2,c6".parse().expect("valid");
    assert_ne!(a, d);
}

#[test]
fn serde_uses_the_canonical_string() {
    let a: SecurityContext = "u:r:t:s0:c5,c2".parse().expect("valid");
    assert_eq!(
        serde_json::to_string(&a).expect("serializes"),
        "\"u:r:t:s0:c2,c5\""
    );
    let back: SecurityContext = serde_json::from_str("\"u:r:t:s0:c2,c5\"").expect("deserializes");
    assert_eq!(back, a);
    let err = serde_json::from_str::<SecurityContext>("\"u:r:t:s0:c5.c1\"").unwrap_err();
    assert!(
        err.to_string().contains("category range c5.c1 at byte 9"),
        "{err}"
    );
    let level: Level = serde_json::from_str("\"s0:c3,c1\"").expect("level");
    assert_eq!(
        serde_json::to_string(&level).expect("level"),
        "\"s0:c1,c3\""
    );
}

#[test]
fn with_methods_change_one_field() {
    let ctx: SecurityContext = "system_u:system_r:container_t:s0:c1,c2"
        .parse()
        .expect("valid");
    let file = ctx
        .with_role("object_r")
        .and_then(|c| c.with_type("container_file_t"))
        .expect("valid names");
    assert_eq!(
        file.to_string(),
        "system_u:object_r:container_file_t:s0:c1,c2"
    );
    assert_eq!(
        ctx.with_user("u").expect("valid").to_string(),
        "u:system_r:container_t:s0:c1,c2"
    );
    assert_eq!(
        ctx.with_level(Level::s0()).to_string(),
        "system_u:system_r:container_t:s0"
    );
    assert_eq!(
        ctx.without_range().to_string(),
        "system_u:system_r:container_t"
    );
    let err = ctx.with_type("bad type").unwrap_err();
    assert_eq!(err.kind().as_str(), "invalid-name");
    let err = ctx.with_type("a:b").unwrap_err();
    assert_eq!(err.kind().as_str(), "invalid-name");
    assert!(ctx.with_role("").is_err());
    let r: MlsRange = "s0-s0:c0.c1023".parse().expect("range");
    assert_eq!(
        ctx.with_range(r).to_string(),
        "system_u:system_r:container_t:s0-s0:c0.c1023"
    );
}

#[test]
fn xattr_value_has_one_nul() {
    let ctx: SecurityContext = "u:r:t:s0:c2,c1".parse().expect("valid");
    assert_eq!(ctx.to_xattr_value(), b"u:r:t:s0:c1,c2\0".to_vec());
    assert_eq!(
        SecurityContext::try_from(ctx.to_xattr_value().as_slice()),
        Ok(ctx)
    );
}
