//! Issue 12, findings 10 and 15, at the library: every policy file loader
//! and the registry refuse anything but a regular file without blocking,
//! refuse files over 64 MiB naming the limit, and a file_contexts regex too
//! big to compile is a load error naming file and line.
//!
//! Calls that could block run in a thread with a deadline, so a regression
//! fails instead of hanging.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use selinux_mcs::mcs::{McsError, Registry};
use selinux_mcs::policy::{
    Config, ContainerContexts, CustomizableTypes, FileContexts, PolicyError, Translations,
    MAX_FILE_SIZE,
};

const DEADLINE: Duration = Duration::from_secs(10);

/// Runs `f` in a thread; panics when it does not return within the
/// deadline (the thread is left blocked; the test process ends anyway).
fn within_deadline<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE)
        .unwrap_or_else(|_| panic!("{what} did not return within {DEADLINE:?}: it blocked"))
}

fn mkfifo(path: &Path) {
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        path,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("mkfifo");
}

/// A policy loader: `from_path`, its value dropped.
type Load = fn(PathBuf) -> Result<(), PolicyError>;

/// Every policy loader, by name.
fn loaders() -> Vec<(&'static str, Load)> {
    vec![
        ("Config", |p| Config::from_path(p).map(drop)),
        ("ContainerContexts", |p| {
            ContainerContexts::from_path(p).map(drop)
        }),
        ("CustomizableTypes", |p| {
            CustomizableTypes::from_path(p).map(drop)
        }),
        ("FileContexts", |p| FileContexts::from_path(p).map(drop)),
        ("Translations", |p| Translations::from_path(p).map(drop)),
    ]
}

fn assert_not_a_file(e: &PolicyError, path: &Path, found: &str) {
    assert!(
        matches!(e, PolicyError::NotAFile { path: p, found: f } if p == path && *f == found),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("{} is {found}, not a regular file", path.display())
    );
}

#[test]
fn every_loader_refuses_a_fifo_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    for (name, load) in loaders() {
        let p = fifo.clone();
        let e = within_deadline(name, move || load(p)).expect_err(name);
        assert_not_a_file(&e, &fifo, "a FIFO");
    }
}

#[test]
fn every_loader_refuses_devices_and_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, load) in loaders() {
        let e = within_deadline(name, move || load("/dev/zero".into())).expect_err(name);
        assert_not_a_file(&e, Path::new("/dev/zero"), "a character device");
        let d = dir.path().to_path_buf();
        let e = load(d.clone()).expect_err(name);
        assert_not_a_file(&e, &d, "a directory");
    }
}

#[test]
fn file_contexts_siblings_and_setrans_includes_are_checked_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fc = dir.path().join("file_contexts");
    std::fs::write(&fc, "/srv(/.*)?  system_u:object_r:var_t:s0\n").expect("write");
    for suffix in ["homedirs", "local", "subs_dist", "subs"] {
        let sibling = dir.path().join(format!("file_contexts.{suffix}"));
        mkfifo(&sibling);
        let p = fc.clone();
        let e = within_deadline(suffix, move || FileContexts::from_path(p)).expect_err(suffix);
        assert_not_a_file(&e, &sibling, "a FIFO");
        std::fs::remove_file(&sibling).expect("rm");
        // A symlink is followed: one to /dev/zero is a device.
        std::os::unix::fs::symlink("/dev/zero", &sibling).expect("symlink");
        let e = FileContexts::from_path(&fc).expect_err(suffix);
        assert_not_a_file(&e, &sibling, "a character device");
        std::fs::remove_file(&sibling).expect("rm");
    }
    assert!(FileContexts::from_path(&fc).is_ok());

    let setrans = dir.path().join("setrans.conf");
    std::fs::write(&setrans, "s0=SystemLow\nInclude=more.conf\n").expect("write");
    let more = dir.path().join("more.conf");
    mkfifo(&more);
    let e =
        within_deadline("Include", move || Translations::from_path(setrans)).expect_err("include");
    assert_not_a_file(&e, &more, "a FIFO");
}

#[test]
fn files_over_the_limit_are_refused_before_reading() {
    assert_eq!(MAX_FILE_SIZE, 64 << 20);
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big");
    // Sparse: a 3.9 GiB file that costs no disk.
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(4_200_000_000))
        .expect("sparse file");
    for (name, load) in loaders() {
        let e = load(big.clone()).expect_err(name);
        assert!(
            matches!(e, PolicyError::TooLarge { size: 4_200_000_000, limit, .. } if limit == MAX_FILE_SIZE),
            "{name}: {e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!("{} is 3.9 GiB, over the 64 MiB limit", big.display())
        );
    }
    // Exactly the limit is fine as far as size goes (it is then parsed).
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(MAX_FILE_SIZE + 1))
        .expect("sparse file");
    let e = Config::from_path(&big).expect_err("one byte over");
    assert_eq!(
        e.to_string(),
        format!("{} is 64.0 MiB, over the 64 MiB limit", big.display())
    );
}

#[test]
fn the_registry_refuses_a_fifo_or_device_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("mcs.db");
    mkfifo(&fifo);
    let p = fifo.clone();
    let e = within_deadline("Registry::open", move || Registry::open(p)).expect_err("fifo");
    assert!(matches!(e, McsError::NotARegistry { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} is not a selinux-mcs registry: a FIFO, not a regular file; refusing to touch it",
            fifo.display()
        )
    );
    let p = fifo.clone();
    let e = within_deadline("Registry::open_read_only", move || {
        Registry::open_read_only(p)
    })
    .expect_err("fifo");
    assert!(matches!(e, McsError::NotARegistry { .. }), "{e:?}");
    let e = within_deadline("Registry::open /dev/zero", || Registry::open("/dev/zero"))
        .expect_err("device");
    assert!(
        e.to_string()
            .contains("a character device, not a regular file"),
        "{e}"
    );
    // Nothing was created beside the FIFO (no lock file).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["mcs.db"]);
}

#[test]
fn a_regex_too_big_to_compile_is_a_load_error_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fc = dir.path().join("file_contexts");
    std::fs::write(
        &fc,
        "/big(/.*)?  system_u:object_r:usr_t:s0\n\
         # a comment\n\
         /big/a{0,1000}{0,1000}  system_u:object_r:etc_t:s0\n",
    )
    .expect("write");
    // PCRE2 (libselinux's engine) rejects the stacked quantifier.
    let e = FileContexts::from_path(&fc).expect_err("PCRE2 rejects it");
    assert!(
        matches!(&e, PolicyError::Syntax { path, line: 3, .. } if path == &fc),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:3: invalid regex \"/big/a{{0,1000}}{{0,1000}}\": PCRE2 rejects it",
            fc.display()
        )),
        "{text}"
    );
    // Too big for the regex crate but not for PCRE2: PCRE2 matches it.
    let huge = FileContexts::from_str("/x/(a{999}){999}  system_u:object_r:etc_t:s0\n")
        .expect("PCRE2 compiles it");
    assert!(huge.lookup("/x/aaa", None).is_none());
    // Large but compilable patterns still load and match.
    let fc = FileContexts::from_str(
        "/big(/.*)?  system_u:object_r:usr_t:s0\n/big/a{0,20}  system_u:object_r:etc_t:s0\n",
    )
    .expect("loads");
    assert_eq!(
        fc.lookup("/big/aaaa", None).map(|c| c.type_().to_owned()),
        Some("etc_t".to_owned())
    );
}
