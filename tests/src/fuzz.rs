//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`
//! include this file with `#[path]`), so the seed corpora also run as
//! ordinary tests (`tests/tests/fuzz_seeds.rs`). Each parses arbitrary
//! bytes; on success it uses the result, and every error must name a line.

use selinux_mcs::label::{init_labels, LabelOption};
use selinux_mcs::mcs::{CategoryPair, Location, McsError, PairSpace};
use selinux_mcs::mls::{CategorySet, MlsRange};
use selinux_mcs::policy::{
    Config, ContainerContexts, CustomizableTypes, FileContexts, PolicyError, Translations,
};
use selinux_mcs::{FileKind, SecurityContext};
use std::str::FromStr;

fn check_error(e: &PolicyError) {
    // Content errors name a line from 1; formatting never panics.
    if let Some(line) = e.line() {
        assert!(line >= 1);
    }
    let _ = e.to_string();
}

/// file_contexts text: parse, then look up paths built from the input.
pub fn file_contexts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Split the input: rules, then substitutions after a NUL-free marker.
    let (rules, subs) = text.split_once("\n%subs\n").unwrap_or((text, ""));
    let built = FileContexts::builder()
        .rules("file_contexts", rules)
        .substitutions("file_contexts.subs_dist", subs)
        .build();
    match built {
        Err(e) => check_error(&e),
        Ok(fc) => {
            let mut paths: Vec<String> = vec!["/".into(), "/usr/bin/ls".into(), "//a//b/".into()];
            for rule in fc.rules() {
                let literal: String = rule
                    .regex()
                    .chars()
                    .filter(|c| !"\\^$.*+?()[]{}|".contains(*c))
                    .collect();
                paths.push(literal.clone());
                paths.push(format!("{literal}/x"));
                assert!(rule.line() >= 1);
                let _ = rule.to_string();
            }
            for path in paths.iter().take(64) {
                for kind in [None, Some(FileKind::File), Some(FileKind::Dir)] {
                    if let Some(rule) = fc.lookup_rule(path, kind) {
                        // The winner must apply to the kind asked for.
                        if let (Some(want), Some(k)) = (rule.file_kind(), kind) {
                            assert_eq!(want, k);
                        }
                    }
                }
            }
        }
    }
}

/// setrans.conf text: parse, then translate every entry both ways.
pub fn setrans(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Translations::from_str(text) {
        Err(e) => check_error(&e),
        Ok(t) => {
            for (range, name) in t.entries() {
                assert_eq!(t.translate(&range), name);
                assert_eq!(t.untranslate(name), Some(range));
            }
        }
    }
}

/// A container contexts file (`lxc_contexts`): parse, then print back.
pub fn container_contexts(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ContainerContexts::from_str(text) {
        Err(e) => check_error(&e),
        Ok(c) => {
            let mut printed = String::new();
            for (key, ctx) in c.entries() {
                printed.push_str(&format!("{key} = \"{ctx}\"\n"));
            }
            let again = ContainerContexts::from_str(&printed).expect("printed contexts parse");
            assert_eq!(again, c);
        }
    }
}

/// Raw `security.selinux` bytes: whatever parses prints canonically and
/// parses back to itself.
pub fn parse_context(data: &[u8]) {
    if let Ok(ctx) = SecurityContext::try_from(data) {
        let printed = ctx.to_string();
        let again: SecurityContext = printed.parse().expect("canonical text parses");
        assert_eq!(again, ctx);
        assert_eq!(again.to_string(), printed);
        // The range (built while parsing, or later from the canonical text)
        // is the one the MLS field parses to on its own.
        let mls = printed.splitn(4, ':').nth(3);
        let alone = mls.map(|m| m.parse::<MlsRange>().expect("the MLS field parses"));
        assert_eq!(again.range(), alone.as_ref());
        assert_eq!(ctx.range(), alone.as_ref());
    }
}

/// Container label options (`type:spc_t`, `level:s0:c1,c2`, `disable`, ...)
/// and `init_labels` with whatever parses: a parsed option prints back to an
/// option that parses the same, and the labels carry the level asked for.
pub fn label_option(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options: Vec<LabelOption> = text.split('\n').filter_map(|l| l.parse().ok()).collect();
    for o in &options {
        let again: LabelOption = o.to_string().parse().expect("a printed option parses");
        assert_eq!(&again, o);
    }
    let contexts = ContainerContexts::from_str(
        "process = \"system_u:system_r:container_t:s0\"\nfile = \"system_u:object_r:container_file_t:s0\"\n",
    )
    .expect("contexts");
    let pair = "s0:c1,c2".parse().expect("level");
    if let Ok(labels) = init_labels(&contexts, &options, |asked| {
        Ok::<_, std::convert::Infallible>(asked.copied().unwrap_or(pair))
    }) {
        if let Some(p) = &labels.process {
            assert_eq!(p.level(), labels.file.level());
        }
    }
}

/// `CategoryPair` and pool text: whatever parses round-trips through its
/// text, its level and its rank.
pub fn mcs_pair(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(pair) = text.parse::<CategoryPair>() {
        assert!(pair.first() < pair.second());
        let again: CategoryPair = pair.to_string().parse().expect("canonical text parses");
        assert_eq!(again, pair);
        assert_eq!(CategoryPair::try_from(pair.level()).expect("level"), pair);
        let space = PairSpace::default();
        let rank = space
            .rank(&pair)
            .expect("every pair is in the default pool");
        assert_eq!(space.unrank(rank), Some(pair));
    }
    if let Ok(pool) = text.parse::<CategorySet>() {
        match PairSpace::new(pool) {
            Ok(space) => {
                assert!(pool.len() >= 2);
                let last = space.len() - 1;
                let pair = space.unrank(last).expect("last rank");
                assert_eq!(space.rank(&pair), Some(last));
            }
            Err(_) => assert!(pool.len() < 2),
        }
    }
}

/// `/etc/selinux/config`: errors name a line; what parses prints back (as
/// `SELINUX=` and `SELINUXTYPE=` lines) to the same config.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_str(text) {
        Err(e) => check_error(&e),
        Ok(c) => {
            let mut printed = String::new();
            if let Some(mode) = c.mode() {
                printed.push_str(&format!("SELINUX={mode}\n"));
            }
            printed.push_str(&format!("SELINUXTYPE={}\n", c.policy_type()));
            let again = Config::from_str(&printed).expect("printed config parses");
            assert_eq!(again.mode(), c.mode());
            assert_eq!(again.policy_type(), c.policy_type());
        }
    }
}

/// The policy's `customizable_types`: errors name a line; every type read
/// is reported as customizable.
pub fn customizable_types(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match CustomizableTypes::from_str(text) {
        Err(e) => check_error(&e),
        Ok(types) => {
            for t in types.iter() {
                assert!(types.contains(t));
            }
        }
    }
}

/// A registry location (`--db`, `$SELINUX_MCS_DB`): a path or an etcd URL.
/// An etcd URL prints canonically and parses back to itself; an error
/// points inside the text.
pub fn registry_location(data: &[u8]) {
    use std::os::unix::ffi::OsStrExt as _;
    match Location::parse(std::ffi::OsStr::from_bytes(data)) {
        Ok(Location::Etcd(url)) => {
            assert!(!url.endpoints().is_empty());
            assert!(url.prefix().starts_with('/') && !url.prefix().ends_with('/'));
            let text = url.to_string();
            match Location::parse(&text) {
                Ok(Location::Etcd(again)) => assert_eq!(again, url),
                other => panic!("{text:?} reparsed as {other:?}"),
            }
        }
        Ok(Location::File(path)) => assert_eq!(path.as_os_str().as_bytes(), data),
        Ok(other) => panic!("unknown location {other:?}"),
        Err(McsError::BadLocation { text, offset, .. }) => {
            assert!(offset <= text.len(), "offset {offset} past {text:?}");
        }
        Err(e) => panic!("not a location error: {e}"),
    }
}

/// `/proc/self/mountinfo` text: the selinuxfs mount points found are at
/// most one a line, and each, escaped back as the kernel escapes it, is
/// found again in a line of its own.
pub fn mountinfo(data: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let mounts = selinux_mcs::process::selinuxfs_mounts_in(data);
    assert!(mounts.len() <= data.split(|&b| b == b'\n').count());
    for m in mounts {
        let mut escaped = Vec::new();
        for &b in m.as_os_str().as_bytes() {
            match b {
                b' ' | b'\t' | b'\n' | b'\\' => escaped.extend(format!("\\{b:03o}").bytes()),
                _ => escaped.push(b),
            }
        }
        let mut line = b"40 25 0:36 / ".to_vec();
        line.extend(&escaped);
        line.extend(b" rw,relatime shared:21 - selinuxfs selinuxfs rw\n");
        assert_eq!(selinux_mcs::process::selinuxfs_mounts_in(&line), [m]);
    }
}

/// A binary policy (`policy.NN`): load it; an error names an offset inside
/// the input; a loaded policy answers every query without panicking, names
/// resolve to their own values, conditional rule ranges lie inside the
/// table, and a context built from the policy's own names validates or
/// says why, and its canonical form parses back to itself.
pub fn policydb(data: &[u8]) {
    use selinux_mcs::policydb::{Policy, PolicyDbError};
    let p = match Policy::from_bytes(data) {
        Err(e) => {
            match &e {
                PolicyDbError::Malformed { offset, .. } => assert!(*offset <= data.len()),
                other => panic!("from_bytes gave a non-parse error: {other}"),
            }
            assert!(!e.to_string().is_empty());
            return;
        }
        Ok(p) => p,
    };
    let _ = (p.version(), p.mls(), p.handle_unknown(), p.capabilities());
    let _ = (p.stats(), p.limits(), p.mcs_constrained_types());
    let _ = (p.rules().len(), p.xperms().len(), p.labeling());
    let _ = (p.role_transitions(), p.role_allows(), p.range_transitions());
    for c in p.classes().iter().take(64) {
        assert_eq!(p.class(&c.name).map(|k| k.value), Some(c.value));
        for (perm, value) in p.class_permissions(c) {
            assert!(p.permission_value(c, perm).is_some(), "{perm} {value}");
        }
    }
    for t in p.types().iter().take(64) {
        assert_eq!(p.type_(&t.name).map(|k| k.value), Some(t.value));
        for a in &t.aliases {
            assert_eq!(p.type_(a).map(|k| k.value), Some(t.value));
        }
        let _ = (
            p.attributes_of(t),
            p.members_of(t).len(),
            p.is_permissive(t),
        );
    }
    let state = |b: u32| p.booleans().get(b as usize).is_some_and(|b| b.default);
    for c in p.conditionals() {
        let _ = c.expr.eval(&state);
        assert!(c.if_true.end <= p.conditional_rules().len());
        assert!(c.if_false.end <= p.conditional_rules().len());
    }
    for b in p.booleans().iter().take(16) {
        assert_eq!(p.boolean(&b.name).map(|k| k.value), Some(b.value));
    }
    for s in p.sensitivities().iter().take(16) {
        assert_eq!(p.sensitivity(&s.name).map(|k| k.value), Some(s.value));
    }
    // A context from the policy's own names, for each of a few users.
    for u in p.users().iter().take(8) {
        let role = u
            .roles
            .iter()
            .next()
            .and_then(|b| p.roles().get(b as usize));
        let type_ = role
            .and_then(|r| r.types.iter().next())
            .and_then(|b| p.types().get(b as usize))
            .or_else(|| p.types().first());
        let (Some(role), Some(type_)) = (role, type_) else {
            continue;
        };
        let mut text = format!("{}:{}:{}", u.name, role.name, type_.name);
        if p.mls() {
            text.push(':');
            text.push_str(&p.range_to_string(&u.range));
            let _ = p.level_to_string(&u.default_level);
        }
        let Ok(ctx) = p.parse_context(&text) else {
            continue; // names a context cannot hold (`:` or spaces in them)
        };
        match p.validate(&ctx) {
            Ok(()) => {
                let canonical = p.canonical_context(&ctx).expect("valid, so canonical");
                let again = p
                    .parse_context(canonical.as_str())
                    .expect("canonical parses");
                assert_eq!(again, canonical);
                assert_eq!(p.validate(&again), Ok(()));
            }
            Err(e) => {
                let _ = (e.rule(), e.to_string());
                assert!(p.canonical_context(&ctx).is_err());
            }
        }
    }
}

/// The fixture policy's decisions, loaded once per process.
fn fixture_access() -> Option<&'static selinux_mcs::policydb::Access<'static>> {
    use selinux_mcs::policydb::{Access, Policy};
    use std::sync::OnceLock;
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    static ACCESS: OnceLock<Option<Access<'static>>> = OnceLock::new();
    ACCESS
        .get_or_init(|| {
            POLICY
                .get_or_init(|| Policy::from_bytes(include_bytes!("../data/policydb/mls.33")).ok())
                .as_ref()
                .map(Policy::access)
        })
        .as_ref()
}

/// AVC log text: every malformed AVC line is an error naming a line of the
/// input; every record prints back to an equal record; the groups hold
/// every record once; and explaining a record with the fixture policy
/// gives a verdict or an error, never a panic.
pub fn avc(data: &[u8]) {
    use selinux_mcs::avc::{AvcLog, AvcRecord, Why};
    let lines = data.split(|b| *b == b'\n').count();
    let log = AvcLog::parse(data);
    for e in log.errors() {
        assert!(e.line() >= 1 && e.line() <= lines, "{e}");
        assert!(e.found().len() <= 83);
        let _ = e.to_string();
    }
    let read = AvcLog::read(data).expect("reading a slice cannot fail");
    assert_eq!(read, log);
    let why = fixture_access().map(Why::new);
    for r in log.records() {
        assert!(r.line() >= 1 && r.line() <= lines);
        let printed = r.to_string();
        let again = AvcRecord::parse(&printed, r.line())
            .unwrap_or_else(|e| panic!("{printed:?} does not parse back: {e}"))
            .unwrap_or_else(|| panic!("{printed:?} is no record"));
        assert_eq!(again.kind(), r.kind());
        assert_eq!(again.permissions(), r.permissions());
        assert_eq!(again.scontext(), r.scontext());
        assert_eq!(again.tcontext(), r.tcontext());
        assert_eq!(again.tclass(), r.tclass());
        assert_eq!(again.permissive(), r.permissive());
        assert_eq!(again.event(), r.event());
        assert_eq!(again.is_user(), r.is_user());
        assert_eq!(again.fields(), r.fields(), "{printed:?}");
        assert_eq!(again.to_string(), printed);
        if let Some(why) = &why {
            if let Ok(v) = why.explain(r) {
                assert!(v.permissions.len() <= r.permissions().len());
                assert!(!v.fix.is_empty() && !v.explanation.is_empty());
            }
        }
    }
    let groups = log.groups();
    assert_eq!(
        groups.iter().map(|g| g.count()).sum::<usize>(),
        log.records().len()
    );
}
