//! Property tests: canonical printing round-trips and is idempotent, the
//! parsed category set matches a simple model, and no input makes the parser
//! panic.

use std::collections::BTreeSet;

use proptest::prelude::*;
use selinux_mcs::mls::{Level, MlsRange};
use selinux_mcs::SecurityContext;

/// A category list as written (items in any order, with overlaps), and the
/// set it denotes.
fn category_list() -> impl Strategy<Value = (String, BTreeSet<u16>)> {
    let item = prop_oneof![
        (0u16..1024).prop_map(|c| (format!("c{c}"), vec![c])),
        (0u16..1023, 1u16..64).prop_map(|(a, len)| {
            let b = (a + len).min(1023);
            (format!("c{a}.c{b}"), (a..=b).collect())
        }),
    ];
    proptest::collection::vec(item, 1..12).prop_map(|items| {
        let text = items
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let set = items.into_iter().flat_map(|(_, cats)| cats).collect();
        (text, set)
    })
}

fn level() -> impl Strategy<Value = (String, u16, BTreeSet<u16>)> {
    (0u16..16, proptest::option::of(category_list())).prop_map(|(s, cats)| match cats {
        None => (format!("s{s}"), s, BTreeSet::new()),
        Some((text, set)) => (format!("s{s}:{text}"), s, set),
    })
}

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-zA-Z0-9_.-]{0,20}"
}

/// A valid context as written, with a range whose high dominates its low.
fn context_text() -> impl Strategy<Value = String> {
    (
        name(),
        name(),
        name(),
        proptest::option::of((level(), level())),
    )
        .prop_map(|(u, r, t, range)| match range {
            None => format!("{u}:{r}:{t}"),
            Some(((_, ls, lc), (_, hs, hc))) => {
                // Make high dominate low: higher sensitivity, superset of categories.
                let low = render(ls.min(hs), &lc);
                let high_cats: BTreeSet<u16> = lc.union(&hc).copied().collect();
                let high = render(ls.max(hs), &high_cats);
                format!("{u}:{r}:{t}:{low}-{high}")
            }
        })
}

fn render(s: u16, cats: &BTreeSet<u16>) -> String {
    if cats.is_empty() {
        format!("s{s}")
    } else {
        // Deliberately not canonical: reversed singles.
        let list: Vec<String> = cats.iter().rev().map(|c| format!("c{c}")).collect();
        format!("s{s}:{}", list.join(","))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn display_round_trips(text in context_text()) {
        let ctx: SecurityContext = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let printed = ctx.to_string();
        let again: SecurityContext = printed.parse().map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(&again, &ctx);
        prop_assert_eq!(again.to_string(), printed);
    }

    /// The range a context gives (built while parsing, or later from the
    /// canonical text) is the range its MLS field parses to on its own, for
    /// the text as written and as printed, parsed one after the other so
    /// that reused context blocks are in play.
    #[test]
    fn context_range_is_the_parsed_range(text in context_text(), other in context_text()) {
        for t in [&text, &other, &text] {
            let ctx: SecurityContext = t.parse().map_err(|e| TestCaseError::fail(format!("{t}: {e}")))?;
            let want = t.splitn(4, ':').nth(3).map(|mls| mls.parse::<MlsRange>());
            let want = match want {
                Some(r) => Some(r.map_err(|e| TestCaseError::fail(format!("{t}: {e}")))?),
                None => None,
            };
            prop_assert_eq!(ctx.range(), want.as_ref());
            let printed: SecurityContext = ctx.to_string().parse().map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
            drop(ctx);
            prop_assert_eq!(printed.range(), want.as_ref());
            let copy = printed.clone();
            prop_assert_eq!(copy.range(), want.as_ref());
        }
    }

    #[test]
    fn categories_match_the_model((text, s, model) in level()) {
        let level: Level = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(level.sensitivity().number(), s);
        let got: BTreeSet<u16> = level.categories().iter().map(|c| c.number()).collect();
        prop_assert_eq!(&got, &model);
        prop_assert_eq!(level.categories().len(), model.len());
        // Canonical text: maximal runs, ascending, `.` only for 3 or more.
        let printed = level.to_string();
        let reparsed: Level = printed.parse().map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(reparsed, level);
        if let Some((_, list)) = printed.split_once(':') {
            for item in list.split(',') {
                if let Some((a, b)) = item.split_once('.') {
                    let a: u16 = a[1..].parse().unwrap_or(0);
                    let b: u16 = b[1..].parse().unwrap_or(0);
                    prop_assert!(b >= a + 2, "run {item} shorter than 3 printed with '.'");
                }
            }
        }
    }

    #[test]
    fn dominance_matches_the_model(((_, s1, c1), (_, s2, c2)) in (level(), level())) {
        let a = Level::new(selinux_mcs::mls::Sensitivity::new(s1), c1.iter().filter_map(|&c| selinux_mcs::mls::Category::new(c)).collect());
        let b = Level::new(selinux_mcs::mls::Sensitivity::new(s2), c2.iter().filter_map(|&c| selinux_mcs::mls::Category::new(c)).collect());
        prop_assert_eq!(a.dominates(&b), s1 >= s2 && c1.is_superset(&c2));
        prop_assert_eq!(MlsRange::new(b, a).is_ok(), a.dominates(&b));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = SecurityContext::try_from(bytes.as_slice());
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = s.parse::<SecurityContext>();
            let _ = s.parse::<Level>();
            let _ = s.parse::<MlsRange>();
        }
    }

    #[test]
    fn near_miss_text_never_panics(text in "[usrtc0-9:,.\\- \u{0}é]{0,48}") {
        match text.parse::<SecurityContext>() {
            // Whatever parses prints canonically and round-trips.
            Ok(ctx) => prop_assert_eq!(ctx.to_string().parse::<SecurityContext>().ok(), Some(ctx)),
            Err(e) => prop_assert!(e.offset() <= text.len()),
        }
        let prefixed = format!("u:r:t:{text}");
        match prefixed.parse::<SecurityContext>() {
            Ok(ctx) => prop_assert_eq!(ctx.to_string().parse::<SecurityContext>().ok(), Some(ctx)),
            Err(e) => prop_assert!(e.offset() <= prefixed.len(), "{e}"),
        }
    }
}
