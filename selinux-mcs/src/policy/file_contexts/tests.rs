use std::path::Path;

use super::dialect::*;
use super::index::*;
use super::*;

fn fc(text: &str) -> FileContexts {
    FileContexts::from_str(text).expect("test rules load")
}

fn type_of(fc: &FileContexts, path: &str, kind: Option<FileKind>) -> Option<String> {
    fc.lookup(path, kind).map(|c| c.type_().to_owned())
}

const F: Option<FileKind> = Some(FileKind::File);
const D: Option<FileKind> = Some(FileKind::Dir);

#[test]
fn last_matching_regex_wins() {
    let fc = fc("/srv(/.*)?  u:object_r:first_t:s0\n\
                 /srv/.*  u:object_r:second_t:s0\n\
                 /srv/a.*  u:object_r:third_t:s0\n");
    assert_eq!(type_of(&fc, "/srv/abc", None).as_deref(), Some("third_t"));
    assert_eq!(type_of(&fc, "/srv/xyz", None).as_deref(), Some("second_t"));
    assert_eq!(type_of(&fc, "/srv", None).as_deref(), Some("first_t"));
    // Order, not specificity, decides between regexes.
    let fc2 = self::fc("/srv/a.*  u:object_r:third_t:s0\n/srv/.*  u:object_r:second_t:s0\n");
    assert_eq!(type_of(&fc2, "/srv/abc", None).as_deref(), Some("second_t"));
}

#[test]
fn rule_without_metacharacters_beats_any_regex() {
    let fc = fc("/etc/hosts  u:object_r:exact_t:s0\n\
                 /etc/.*  u:object_r:regex_t:s0\n\
                 /etc/hosts(/.*)?  u:object_r:later_regex_t:s0\n");
    assert_eq!(type_of(&fc, "/etc/hosts", None).as_deref(), Some("exact_t"));
    assert!(fc.rules()[0].is_exact());
    assert!(!fc.rules()[1].is_exact());
    // An escaped metacharacter does not count (libselinux skips the
    // character after '\').
    let fc = self::fc(
        "/etc/ld\\.so\\.cache  u:object_r:exact_t:s0\n\
                       /etc/ld.*  u:object_r:regex_t:s0\n",
    );
    assert!(fc.rules()[0].is_exact());
    assert_eq!(
        type_of(&fc, "/etc/ld.so.cache", None).as_deref(),
        Some("exact_t")
    );
    assert_eq!(
        type_of(&fc, "/etc/ldXsoXcache", None).as_deref(),
        Some("regex_t")
    );
    // Between two exact rules, the later wins.
    let fc = self::fc("/a/b  u:object_r:one_t:s0\n/a/b  u:object_r:two_t:s0\n");
    assert_eq!(type_of(&fc, "/a/b", None).as_deref(), Some("two_t"));
}

#[test]
fn file_types_are_respected() {
    let fc = fc("/run/x(/.*)?  u:object_r:any_t:s0\n\
                 /run/x  -d  u:object_r:dir_t:s0\n\
                 /run/x\\.sock  -s  u:object_r:sock_t:s0\n\
                 /dev/tty[0-9]*  -c  u:object_r:tty_t:s0\n");
    assert_eq!(type_of(&fc, "/run/x", D).as_deref(), Some("dir_t"));
    assert_eq!(type_of(&fc, "/run/x", F).as_deref(), Some("any_t"));
    // No kind: every rule applies, so the exact -d rule wins.
    assert_eq!(type_of(&fc, "/run/x", None).as_deref(), Some("dir_t"));
    assert_eq!(
        type_of(&fc, "/run/x.sock", Some(FileKind::Socket)).as_deref(),
        Some("sock_t")
    );
    assert_eq!(type_of(&fc, "/run/x.sock", F), None);
    assert_eq!(
        type_of(&fc, "/dev/tty1", Some(FileKind::Char)).as_deref(),
        Some("tty_t")
    );
    assert_eq!(type_of(&fc, "/dev/tty1", Some(FileKind::Block)), None);
    for kind in FileKind::ALL {
        let fc = self::fc(&format!("/k  {}  u:object_r:k_t:s0\n", kind.rule_flag()));
        assert_eq!(fc.rules()[0].file_kind(), Some(kind));
        for other in FileKind::ALL {
            assert_eq!(fc.lookup("/k", Some(other)).is_some(), other == kind);
        }
    }
}

#[test]
fn none_means_do_not_label() {
    let fc = fc("/tmp(/.*)?  u:object_r:tmp_t:s0\n/tmp/.*  <<none>>\n");
    assert_eq!(type_of(&fc, "/tmp", D).as_deref(), Some("tmp_t"));
    assert_eq!(fc.lookup("/tmp/x", F), None);
    let rule = fc.lookup_rule("/tmp/x", F).expect("the <<none>> rule wins");
    assert_eq!(rule.context(), None);
    assert_eq!(rule.to_string(), "/tmp/.*\t<<none>>");
    // No rule at all is also None, with no rule.
    assert!(fc.lookup_rule("/var", None).is_none());
}

#[test]
fn regexes_are_anchored() {
    let fc = fc("/usr/bin  u:object_r:bin_t:s0\n/lib(64)?/.*  u:object_r:lib_t:s0\n");
    assert_eq!(fc.lookup("/usr/bin/ls", None), None);
    assert_eq!(fc.lookup("/x/usr/bin", None), None);
    assert_eq!(type_of(&fc, "/lib64/x", None).as_deref(), Some("lib_t"));
    assert_eq!(fc.lookup("/opt/lib/x", None), None);
    // libselinux anchors by concatenation: a top-level '|' splits the anchors.
    let fc = self::fc("/aaa|/bbb  u:object_r:alt_t:s0\n");
    assert_eq!(
        type_of(&fc, "/aaa/anything", None).as_deref(),
        Some("alt_t")
    );
    assert_eq!(
        type_of(&fc, "/anything/bbb", None).as_deref(),
        Some("alt_t")
    );
    assert_eq!(fc.lookup("/ccc", None), None);
}

#[test]
fn dot_matches_newline_and_dollar_before_final_newline() {
    let fc = fc("/n/.*  u:object_r:n_t:s0\n/e/x  u:object_r:e_t:s0\n");
    assert_eq!(type_of(&fc, "/n/a\nb", None).as_deref(), Some("n_t"));
    assert_eq!(type_of(&fc, "/e/x\n", None).as_deref(), Some("e_t"));
    assert_eq!(fc.lookup("/e/x\n\n", None), None);
}

#[test]
fn stems_follow_libselinux() {
    // `/usr/?` has stem /usr; the path /usr has none, so it never
    // matches, and `/usr/` is looked up as `/usr` (libselinux 3.4 gives
    // <<none>> for both).
    let fc = fc("/usr/?  u:object_r:odd_t:s0\n");
    assert_eq!(fc.lookup("/usr", None), None);
    assert_eq!(fc.lookup("/usr/", None), None);
}

#[test]
fn a_trailing_slash_is_dropped() {
    // As libselinux 3.4 answers (found by tests/tests/libselinux_diff.rs).
    let fc = fc("/a(/.*)?  u:object_r:a_t:s0\n/a/b/.*  u:object_r:ab_t:s0\n");
    for p in ["/a/b/", "/a/b", "/a/b//", "//a//b//"] {
        assert_eq!(type_of(&fc, p, None).as_deref(), Some("a_t"), "{p}");
    }
    assert_eq!(type_of(&fc, "/a/b/c/", None).as_deref(), Some("ab_t"));
    assert_eq!(fc.substitute("/"), Path::new("/"));
    assert_eq!(fc.substitute("//"), Path::new("/"));
}

#[test]
fn duplicate_slashes_collapse() {
    let fc = fc("/usr/bin(/.*)?  u:object_r:bin_t:s0\n");
    assert_eq!(
        type_of(&fc, "//usr///bin//ls", None).as_deref(),
        Some("bin_t")
    );
}

#[test]
fn substitutions_on_a_slash_boundary() {
    let fc = FileContexts::builder()
        .rules("fc", "/usr/lib(/.*)?  u:object_r:lib_t:s0\n/run(/.*)?  u:object_r:run_t:s0\n/var(/.*)?  u:object_r:var_t:s0\n/home(/.*)?  u:object_r:home_t:s0\n")
        .substitutions("dist", "/lib64 /usr/lib\n/var/run /run\n/usr/lib64 /usr/lib\n")
        .local_substitutions("local", "/export/home /home\n/srv/lib /lib64\n")
        .build()
        .unwrap();
    assert_eq!(
        type_of(&fc, "/lib64/libc.so", None).as_deref(),
        Some("lib_t")
    );
    assert_eq!(type_of(&fc, "/lib64", None).as_deref(), Some("lib_t"));
    assert_eq!(type_of(&fc, "/var/run/x", None).as_deref(), Some("run_t"));
    // Not on a '/' boundary: no substitution.
    assert_eq!(type_of(&fc, "/var/running", None).as_deref(), Some("var_t"));
    assert_eq!(fc.lookup("/lib64x", None), None);
    assert_eq!(
        type_of(&fc, "/export/home/a", None).as_deref(),
        Some("home_t")
    );
    // Local first, then the distribution's on the result.
    assert_eq!(type_of(&fc, "/srv/lib/x", None).as_deref(), Some("lib_t"));
    assert_eq!(
        fc.substitute(Path::new("/srv/lib/x")),
        Path::new("/usr/lib/x")
    );
    // Only the first matching line of a file applies (the last line is tried first).
    let fc = FileContexts::builder()
        .substitutions("dist", "/a /b\n/a /c\n")
        .build()
        .unwrap();
    assert_eq!(fc.substitute(Path::new("/a/x")), Path::new("/c/x"));
    // An alias of '/' does not give '//'.
    let fc = FileContexts::builder()
        .substitutions("dist", "/chroot /\n")
        .build()
        .unwrap();
    assert_eq!(fc.substitute(Path::new("/chroot/etc")), Path::new("/etc"));
    assert_eq!(fc.substitute(Path::new("/chroot")), Path::new("/"));
}

#[test]
fn later_files_win_ties() {
    let fc = FileContexts::builder()
        .rules(
            "file_contexts",
            "/srv/www(/.*)?  u:object_r:var_t:s0\n/etc/hosts  u:object_r:net_t:s0\n",
        )
        .rules(
            "file_contexts.local",
            "/srv/www(/.*)?  u:object_r:httpd_t:s0\n/etc/hosts  u:object_r:etc_t:s0\n",
        )
        .build()
        .unwrap();
    assert_eq!(type_of(&fc, "/srv/www/x", None).as_deref(), Some("httpd_t"));
    assert_eq!(type_of(&fc, "/etc/hosts", None).as_deref(), Some("etc_t"));
    let rule = fc.lookup_rule("/etc/hosts", None).unwrap();
    assert_eq!(rule.source(), Path::new("file_contexts.local"));
    assert_eq!(rule.line(), 2);
}

#[test]
fn fast_shapes_agree_with_regexes() {
    // Each fast shape, and the same rule forced through the regex engine
    // by a no-op group, must match the same paths.
    let shapes = [
        "(/.*)?",
        "/.*",
        ".*",
        "(/[^/]*)?",
        "/[^/]*",
        "",
        "/[^/]+",
        "x[^/]*",
        "x[^/]+",
    ];
    let paths = [
        "/p", "/p/", "/p/a", "/p/a/b", "/pa", "/p\n", "/q", "/p/a\n", "/px", "/pxy", "/px/",
        "/px\n",
    ];
    for shape in shapes {
        let fast = fc(&format!("/p{shape}  u:object_r:t_t:s0\n"));
        let slow = fc(&format!("/(p){shape}  u:object_r:t_t:s0\n"));
        assert!(
            !matches!(fast.rules()[0].tail, Tail::Regex { .. }),
            "{shape}"
        );
        assert!(
            matches!(slow.rules()[0].tail, Tail::Regex { .. }),
            "{shape}"
        );
        for path in paths {
            assert_eq!(
                fast.lookup(path, None).is_some(),
                slow.lookup(path, None).is_some(),
                "{shape:?} on {path:?}"
            );
        }
    }
}

#[test]
fn quantified_last_literal_is_not_part_of_the_prefix() {
    let fc = fc("/usr/lib64?/x  u:object_r:t_t:s0\n/etc/foo\\.?bar  u:object_r:u_t:s0\n");
    assert_eq!(type_of(&fc, "/usr/lib6/x", None).as_deref(), Some("t_t"));
    assert_eq!(type_of(&fc, "/usr/lib64/x", None).as_deref(), Some("t_t"));
    assert_eq!(type_of(&fc, "/etc/foobar", None).as_deref(), Some("u_t"));
    assert_eq!(type_of(&fc, "/etc/foo.bar", None).as_deref(), Some("u_t"));
}

#[test]
fn non_utf8_paths() {
    use std::os::unix::ffi::OsStrExt;
    let fc = fc("/data/[^/]*  u:object_r:d_t:s0\n");
    let path = Path::new(std::ffi::OsStr::from_bytes(b"/data/\xff\xfe"));
    assert_eq!(
        type_of(&fc, path.to_str().unwrap_or("/data/x"), None).as_deref(),
        Some("d_t")
    );
    assert!(fc.lookup(path, None).is_some());
}

fn error(text: &str) -> PolicyError {
    FileContexts::from_str(text).expect_err("the text must not load")
}

#[test]
fn malformed_lines_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("/ok  u:r:t:s0\n/only-one-field\n", 2, "missing fields"),
        ("# c\n\n/a -x u:r:t:s0\n", 3, "unknown file type \"-x\""),
        ("/a -- u:r:t:s0 extra\n", 1, "4 fields"),
        ("/a  not-a-context\n", 1, "bad context"),
        ("/a  u:r:t:s0:c5.c1\n", 1, "bad context"),
        ("/a(  u:r:t:s0\n", 1, "invalid regex"),
        ("/a[z-a]  u:r:t:s0\n", 1, "invalid regex"),
        ("/a**  u:r:t:s0\n", 1, "PCRE2"),
        ("/caf\u{e9}  u:r:t:s0\n", 1, "non-ASCII"),
    ];
    for (text, line, needle) in cases {
        let e = error(text);
        assert_eq!(e.line(), Some(*line), "{text:?}: {e}");
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("<string>:{line}: ")), "{msg}");
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
}

/// Each PCRE2 construct the `regex` crate lacks or reads otherwise: the
/// rule loads and matches as PCRE2 10.42 (libselinux 3.4) matches it.
/// `tests/tests/libselinux_diff.rs` checks the same rules against
/// `selabel_lookup`.
type Case = (
    &'static str,
    &'static [&'static [u8]],
    &'static [&'static [u8]],
);
const PCRE_CASES: &[Case] = &[
    // A '{' that starts no quantifier is literal, `{,2}` included (10.42).
    ("/b/a{b", &[b"/b/a{b"], &[b"/b/ab"]),
    ("/b/x{,2}", &[b"/b/x{,2}"], &[b"/b/x", b"/b/xx"]),
    ("/b/y{2}", &[b"/b/yy"], &[b"/b/y{2}"]),
    ("/m/a(?#note)b", &[b"/m/ab"], &[b"/m/a(?#note)b"]),
    ("/e/a\\eb", &[b"/e/a\x1bb"], &[b"/e/aeb"]),
    ("/e/\\101", &[b"/e/A"], &[b"/e/101"]),
    ("/e/\\cA", &[b"/e/\x01"], &[b"/e/cA"]),
    ("/e/z\\Z", &[b"/e/z", b"/e/z\n"], &[b"/e/zZ"]),
    (
        "/e/a\\hb",
        &[b"/e/a b", b"/e/a\tb", b"/e/a\xa0b"],
        &[b"/e/a\nb", b"/e/ahb"],
    ),
    ("/e/a\\Nb", &[b"/e/axb"], &[b"/e/a\nb"]),
    // Byte mode: \p{L} is a letter among the code points 0-255.
    ("/e/\\p{L}", &[b"/e/q", b"/e/\xe9"], &[b"/e/1", b"/e/\xd7"]),
    ("/q/\\Q.*\\E", &[b"/q/.*"], &[b"/q/ab"]),
    ("/l/a(?=b)b", &[b"/l/ab"], &[b"/l/ac"]),
    ("/l/(?!x)[a-z]", &[b"/l/a"], &[b"/l/x"]),
    ("/l/.(?<=a)b", &[b"/l/ab"], &[b"/l/cb"]),
    ("/r/(a|b)\\1", &[b"/r/aa", b"/r/bb"], &[b"/r/ab"]),
    ("/p/a*+a", &[], &[b"/p/aa", b"/p/a"]),
    ("/p/a++b", &[b"/p/aab"], &[b"/p/b"]),
    ("/p/(?>a*)a", &[], &[b"/p/aa"]),
    // `(?x)`: the '#' comment runs to the end and swallows libselinux's `$`.
    ("(?x)/x/a#c", &[b"/x/a", b"/x/abc"], &[b"/x/b"]),
    ("/i/(?i)abc", &[b"/i/ABC", b"/i/abc"], &[b"/i/abd"]),
    // `\<` is a literal '<' to PCRE2 (a word boundary to the regex crate).
    ("/w/\\<b\\>", &[b"/w/<b>"], &[b"/w/b"]),
    // An inner `$` also matches before a final newline.
    ("/d/a$\\n", &[b"/d/a\n"], &[b"/d/a"]),
    // A trailing '\' escapes libselinux's `$`.
    ("/t/a\\", &[b"/t/a$"], &[b"/t/a"]),
];

/// Regexes PCRE2 rejects; libselinux fails the rule, here they do not load.
/// `[\d-z]` included: PCRE2 10.42 says "invalid range in character class".
const PCRE_REJECTED: &[&str] = &[
    "/c/[\\d-z]",
    "/a**",
    "/b?*",
    "/c\\x{100}",
    "/d)",
    "/(e",
    "/f[z-a]",
];

#[test]
fn pcre_constructs_match_as_pcre2_does() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    for (regex, yes, no) in PCRE_CASES {
        let fc = fc(&format!("{regex}  u:object_r:t_t:s0\n"));
        for path in *yes {
            let p = Path::new(OsStr::from_bytes(path));
            assert!(fc.lookup(p, None).is_some(), "{regex} should match {p:?}");
        }
        for path in *no {
            let p = Path::new(OsStr::from_bytes(path));
            assert!(
                fc.lookup(p, None).is_none(),
                "{regex} should not match {p:?}"
            );
        }
    }
}

#[test]
fn regexes_pcre2_rejects_are_load_errors() {
    for regex in PCRE_REJECTED {
        let e = error(&format!("/ok  u:r:t:s0\n{regex}  u:r:t:s0\n"));
        assert_eq!(e.line(), Some(2), "{regex}: {e}");
        let msg = e.to_string();
        assert!(
            msg.starts_with("<string>:2: ") && msg.contains("PCRE2"),
            "{msg}"
        );
    }
    let msg = error("/a/b**  u:r:t:s0\n").to_string();
    assert!(msg.contains("at byte 5"), "{msg}");
}

#[test]
fn each_regex_goes_to_the_engine_that_reads_it_as_pcre2() {
    // Subset patterns go to the regex crate (and the set), the rest to PCRE2.
    let fc =
        fc("/s/a[0-9]+  u:r:t:s0\n/s/a\\hb  u:r:t:s0\n/s/a(?=b)  u:r:t:s0\n/s/a$|b  u:r:t:s0\n");
    assert!(matches!(fc.rules()[0].tail, Tail::Regex { .. }));
    for rule in &fc.rules()[1..] {
        assert!(matches!(rule.tail, Tail::Pcre2 { .. }), "{rule}");
    }
}

#[test]
fn braces_read_as_pcre2_10_42_reads_them() {
    for (body, want) in [
        ("x{,2}", "^x\\{,2}$"),
        ("a{b", "^a\\{b$"),
        ("a{2}b{1,}c{1,3}", "^a{2}b{1,}c{1,3}$"),
        ("\\x{41}\\p{L}", "^\\x{41}\\p{L}$"),
        ("\\Q{,1}\\E{", "^\\Q{,1}\\E\\{$"),
        ("(?#{)x{", "^(?#{)x\\{$"),
        ("[{]", "^[\\{]$"),
    ] {
        assert_eq!(pcre2_pattern(body), want, "{body}");
    }
}

#[test]
fn substitution_errors() {
    for (text, needle) in [
        ("/a\n", "two paths"),
        ("/a /b /c\n", "two paths"),
        ("a /b\n", "absolute"),
        ("/a/ /b\n", "must not end"),
    ] {
        let e = FileContexts::builder()
            .substitutions("subs", text)
            .build()
            .expect_err(text);
        assert!(e.to_string().starts_with("subs:1: "), "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn from_path_reads_the_family() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("file_contexts");
    std::fs::write(&base, "/x(/.*)?  u:object_r:x_t:s0\n").unwrap();
    std::fs::write(
        dir.path().join("file_contexts.local"),
        "/x/y  u:object_r:y_t:s0\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("file_contexts.subs"), "/alias /x\n").unwrap();
    let fc = FileContexts::from_path(&base).unwrap();
    assert_eq!(fc.sources().len(), 3);
    assert_eq!(type_of(&fc, "/alias/y", None).as_deref(), Some("y_t"));
    let e = FileContexts::from_path(dir.path().join("missing")).unwrap_err();
    assert!(matches!(e, PolicyError::Io { .. }));
    assert!(e.to_string().contains("missing"));
    std::fs::write(dir.path().join("file_contexts.homedirs"), "/h\n").unwrap();
    let e = FileContexts::from_path(&base).unwrap_err();
    assert!(e.to_string().contains("file_contexts.homedirs:1:"), "{e}");
}

fn regex_syntax_accepts(body: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&format!("^{body}(?:\n)?$"))
        .is_ok()
}

#[test]
fn simple_syntax_check_agrees_on_typical_regexes() {
    for ok in [
        "/usr/(.*/)?lib(/.*)?",
        "/dev/[shmxv]d[^/]*",
        "/etc/passwd[-\\+]?",
        "/a{2}b{1,3}c{4,}",
        "/(?:x|y)+",
        "/[]a]",
        "/[a-]",
        "/\\d+\\.log",
    ] {
        assert!(simple_syntax_ok(ok.as_bytes()), "{ok}");
        assert!(regex_syntax_accepts(ok), "{ok}");
    }
    for unsure in [
        "/a**",
        "/(",
        "/)",
        "/[z-a]",
        "/a{3,1}",
        "/\\<w",
        "/[[:alpha:]]",
        "/[a&&b]",
        "*a",
        "/a}",
    ] {
        assert!(!simple_syntax_ok(unsure.as_bytes()), "{unsure}");
    }
}

/// The worst patterns `regex_tail` leaves to be compiled on first use
/// (simple syntax, no counted repetition, at the length limit) do
/// compile; one byte longer, or with a count, they are compiled at load.
#[test]
fn patterns_left_for_first_use_are_sure_to_compile() {
    let lazy = |body: &str| match regex_tail(body, body) {
        Ok(Tail::Regex { pattern, compiled }) => compiled.get().is_none().then_some(pattern),
        _ => None,
    };
    let depth = (SURE_TO_COMPILE_LEN - 1) / 3;
    let nested = format!("{}a{}", "(".repeat(depth), ")*".repeat(depth));
    let classes = "[^/]*".repeat(SURE_TO_COMPILE_LEN / 5);
    let dots = ".*".repeat(SURE_TO_COMPILE_LEN / 2);
    let words = "\\w+".repeat(SURE_TO_COMPILE_LEN / 3);
    for body in [&nested, &classes, &dots, &words] {
        assert!(body.len() <= SURE_TO_COMPILE_LEN, "{body}");
        let Some(pattern) = lazy(body) else {
            panic!("{body:?} should be left for first use");
        };
        assert!(compile(&pattern).is_ok(), "{body}");
    }
    let longer = format!("{nested}b{}", "c".repeat(SURE_TO_COMPILE_LEN));
    assert!(lazy(&longer).is_none());
    assert!(
        matches!(regex_tail("a{2}", "a{2}"), Ok(Tail::Regex { compiled, .. }) if compiled.get().is_some())
    );
    // Too big for the regex crate, not for PCRE2: PCRE2 matches it.
    let huge = "(a{999}){999}";
    assert!(matches!(regex_tail(huge, huge), Ok(Tail::Pcre2 { .. })));
}

proptest::proptest! {
    /// What the quick check accepts, PCRE2 compiles too, and both
    /// engines match the same subjects.
    #[test]
    fn simple_subset_matches_as_pcre2_does(
        body in "[ab/.\\\\\\[\\]()^$*+?{}|,0-3dws\n-]{0,10}",
        subjects in proptest::collection::vec("[ab/.\n0-3 -]{0,6}", 8),
    ) {
        if simple_syntax_ok(body.as_bytes()) {
            let ours = compile(&format!("^{body}(?:\n)?$")).expect("the subset compiles");
            let pcre = compile_pcre2(&pcre2_pattern(&body));
            proptest::prop_assert!(pcre.is_ok(), "PCRE2 rejects {:?}", body);
            let pcre = pcre.expect("checked");
            for s in &subjects {
                proptest::prop_assert_eq!(
                    ours.is_match(s.as_bytes()),
                    pcre.is_match(s.as_bytes()).unwrap_or(false),
                    "{:?} on {:?}", body, s
                );
            }
        }
    }

    /// The quick check never accepts what the regex crate rejects.
    #[test]
    fn simple_syntax_check_is_sound(body in "[ab/.\\\\\\[\\]()^$*+?{}|,0-3dws<>:&~-]{0,12}") {
        if simple_syntax_ok(body.as_bytes()) {
            proptest::prop_assert!(regex_syntax_accepts(&body), "{:?}", body);
        }
    }
}

/// libselinux's loop, with no index: every rule, exact ones first,
/// later before earlier.
fn naive<'a>(fc: &'a FileContexts, path: &str, kind: Option<FileKind>) -> Option<&'a Rule> {
    let key = fc.key(path.as_bytes());
    let file_stem = key
        .get(1..)
        .and_then(|rest| rest.iter().position(|&b| b == b'/'))
        .map(|p| &key[..p + 1]);
    let mut order: Vec<usize> = (0..fc.rules.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((fc.rules[i].exact, i)));
    order
        .into_iter()
        .map(|i| &fc.rules[i])
        .find(|r| r.kind_applies(kind) && r.matches(&key, file_stem))
}

#[test]
fn index_and_regex_sets_agree_with_the_plain_loop() {
    let mut text = String::new();
    for (i, re) in [
        "/s(/.*)?",
        "/s/.*",
        "/s/(.*/)?lib(/.*)?",
        "/s/[a-c]+",
        "/s/x?y",
        "/s/(a|b)/c",
        "/s/.*\\.so(\\.[^/]*)*",
        "/s/?",
        "/s/a|/b",
        "/s/d[0-9]{2}",
        "/s/(?:e|f)g*",
        "/s/[^/]*/h",
        "/s/lib",
        "/s/.*cron.*",
        "/s/a",
        "/s/a/b/c",
        "/s/ab?c",
        "/(s|t)/z",
    ]
    .iter()
    .enumerate()
    {
        let kind = ["", "--", "-d"][i % 3];
        text.push_str(&format!("{re} {kind} u:object_r:r{i}_t:s0\n"));
    }
    let fc = fc(&text);
    let list = fc.trie.candidates(b"/s/x");
    assert!(list.regexes >= SET_THRESHOLD, "the set is used");
    let paths = [
        "/s",
        "/s/",
        "/s/a",
        "/s/ab",
        "/s/abc",
        "/s/ac",
        "/s/a/c",
        "/s/b/c",
        "/s/y",
        "/s/xy",
        "/s/lib",
        "/s/x/lib",
        "/s/x/lib/y",
        "/s/libz.so.1",
        "/s/d12",
        "/s/d123",
        "/s/eggg",
        "/s/q/h",
        "/s/q/r/h",
        "/s/ccron",
        "/s/a/b/c",
        "/t/z",
        "/s/z",
        "/x/b",
        "/s/\n",
        "/s/a\n",
        "/b",
    ];
    for path in paths {
        for kind in [None, F, D, Some(FileKind::Symlink)] {
            let want = naive(&fc, path, kind).map(|r| r.line());
            let got = fc.lookup_rule(path, kind).map(|r| r.line());
            assert_eq!(got, want, "{path:?} {kind:?}");
        }
    }
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FileContexts>();
}
