//! Reading and writing one label: never following symlinks unless asked,
//! errors that name the path, the call and the kind.

mod label_support;

use std::ffi::CString;
use std::fs::File;
use std::os::unix::fs::symlink;

use label_support::{ctx, label_of, xattrs_work};
use selinux_mcs::label::{self, ErrorKind, LabelError};

#[test]
fn set_and_get_a_file() {
    let dir = tempfile::tempdir().unwrap();
    if !xattrs_work(dir.path()) {
        return;
    }
    let f = dir.path().join("f");
    std::fs::write(&f, "x").unwrap();
    let c = ctx("system_u:object_r:container_file_t:s0:c5,c2");
    label::set(&f, &c).unwrap();
    assert_eq!(label::get(&f).unwrap(), c);
    // Stored as libselinux writes it: canonical text and one NUL.
    let mut raw = [0u8; 256];
    let n = rustix::fs::lgetxattr(&f, "security.selinux", &mut raw).unwrap();
    assert_eq!(&raw[..n], b"system_u:object_r:container_file_t:s0:c2,c5\0");
}

#[test]
fn symlinks_are_labeled_themselves_unless_deref() {
    let dir = tempfile::tempdir().unwrap();
    if !xattrs_work(dir.path()) {
        return;
    }
    let target = dir.path().join("target");
    std::fs::write(&target, "x").unwrap();
    label::set(&target, &ctx("u:r:target_t:s0")).unwrap();
    let link = dir.path().join("link");
    symlink(&target, &link).unwrap();
    let dangling = dir.path().join("dangling");
    symlink("/nonexistent/elsewhere", &dangling).unwrap();

    label::set(&link, &ctx("u:r:link_t:s0")).unwrap();
    label::set(&dangling, &ctx("u:r:link_t:s0")).unwrap();
    assert_eq!(label_of(&link).as_deref(), Some("u:r:link_t:s0"));
    assert_eq!(label_of(&dangling).as_deref(), Some("u:r:link_t:s0"));
    assert_eq!(label_of(&target).as_deref(), Some("u:r:target_t:s0"));

    // The deref variants go through the link.
    assert_eq!(label::get_deref(&link).unwrap(), ctx("u:r:target_t:s0"));
    label::set_deref(&link, &ctx("u:r:other_t:s0")).unwrap();
    assert_eq!(label_of(&target).as_deref(), Some("u:r:other_t:s0"));
    assert_eq!(label_of(&link).as_deref(), Some("u:r:link_t:s0"));
    let err = label::get_deref(&dangling).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.call(), Some("getxattr"));
}

#[test]
fn fd_and_dirfd_variants() {
    let dir = tempfile::tempdir().unwrap();
    if !xattrs_work(dir.path()) {
        return;
    }
    let f = dir.path().join("f");
    std::fs::write(&f, "x").unwrap();
    let file = File::open(&f).unwrap();
    label::set_fd(&file, &ctx("u:r:fd_t:s0")).unwrap();
    assert_eq!(label::get_fd(&file).unwrap(), ctx("u:r:fd_t:s0"));

    let link = dir.path().join("link");
    symlink("f", &link).unwrap();
    let d = File::open(dir.path()).unwrap();
    let name = CString::new("link").unwrap();
    label::set_at(&d, &name, &ctx("u:r:at_t:s0")).unwrap();
    assert_eq!(label::get_at(&d, &name).unwrap(), ctx("u:r:at_t:s0"));
    assert_eq!(label_of(&link).as_deref(), Some("u:r:at_t:s0"));
    assert_eq!(label_of(&f).as_deref(), Some("u:r:fd_t:s0"));
}

#[test]
fn errors_name_path_call_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    if !xattrs_work(dir.path()) {
        return;
    }
    // No label: a fresh symlink on a filesystem without a policy has none.
    let link = dir.path().join("fresh-link");
    symlink("x", &link).unwrap();
    let err = label::get(&link).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoLabel);
    assert_eq!(err.call(), Some("lgetxattr"));
    assert_eq!(err.path(), link);
    assert_eq!(err.raw_os_error(), Some(61));
    assert!(err
        .to_string()
        .starts_with(&format!("lgetxattr {}: no label", link.display())));
    assert!(std::error::Error::source(&err).is_some());

    // A stored label that does not parse keeps its bytes.
    let f = dir.path().join("bad");
    std::fs::write(&f, "x").unwrap();
    rustix::fs::lsetxattr(
        &f,
        "security.selinux",
        b"not-a-context",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    let err = label::get(&f).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    match err {
        LabelError::Invalid { raw, .. } => assert_eq!(raw, b"not-a-context"),
        other => panic!("{other:?}"),
    }

    let missing = dir.path().join("missing");
    let err = label::set(&missing, &ctx("u:r:t:s0")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.call(), Some("lsetxattr"));
}
