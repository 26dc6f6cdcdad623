"""get_label, set_label and relabel on real security.selinux xattrs, in
temporary directories only."""

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from selinux_mcs import (
    DEFAULT_FILE_CONTEXT,
    XATTR_NAME,
    Context,
    Failure,
    InvalidArgumentError,
    LabelError,
    ParseError,
    ProtectedPathError,
    Report,
    SelinuxMcsError,
    get_label,
    relabel,
    set_label,
)

from conftest import raw_label

FILE_T = "system_u:object_r:container_file_t"


def make_tree(root: Path, dirs: int = 3, files: int = 3) -> int:
    """A small tree with a symlink to /etc/passwd; returns its entry count."""
    n = 1
    for d in range(dirs):
        sub = root / f"d{d}"
        sub.mkdir()
        n += 1
        for f in range(files):
            (sub / f"f{f}").write_text("x")
            n += 1
    (root / "passwd").symlink_to("/etc/passwd")
    return n + 1


def labels(root: Path):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            out[name] = raw_label(name)
    return out


def test_set_and_get(labeled_dir):
    f = labeled_dir / "file"
    f.write_text("x")
    set_label(f, "system_u:object_r:container_file_t:s0:c2,c1")
    assert raw_label(f) == b"system_u:object_r:container_file_t:s0:c1,c2\0"
    assert get_label(f) == Context("system_u:object_r:container_file_t:s0:c1,c2")
    set_label(str(f), Context("u:r:t:s0"))
    assert get_label(str(f)) == Context("u:r:t:s0")
    set_label(os.fsencode(f), "u:r:t:s0:c9")  # bytes paths too
    assert str(get_label(os.fsencode(f))) == "u:r:t:s0:c9"
    assert XATTR_NAME == "security.selinux"


def test_symlinks_are_labeled_not_followed(labeled_dir):
    target = labeled_dir / "target"
    target.write_text("x")
    set_label(target, "u:r:target_t:s0")
    link = labeled_dir / "link"
    link.symlink_to(target)
    set_label(link, "u:r:link_t:s0")
    assert get_label(link) == Context("u:r:link_t:s0")
    assert get_label(target) == Context("u:r:target_t:s0")
    assert get_label(link, follow_symlinks=True) == Context("u:r:target_t:s0")
    set_label(link, "u:r:other_t:s0", follow_symlinks=True)
    assert get_label(target) == Context("u:r:other_t:s0")
    assert get_label(link) == Context("u:r:link_t:s0")


def test_errors_name_path_and_errno(labeled_dir):
    missing = labeled_dir / "missing"
    with pytest.raises(LabelError) as info:
        get_label(missing)
    e = info.value
    assert isinstance(e, OSError) and isinstance(e, SelinuxMcsError)
    assert (e.errno, e.kind, e.call, e.path) == (errno.ENOENT, "not-found", "lgetxattr", str(missing))
    assert e.filename == str(missing)
    assert str(e).startswith(f"lgetxattr {missing}: no such file")
    with pytest.raises(LabelError) as info:
        set_label(missing, "u:r:t:s0")
    assert info.value.errno == errno.ENOENT

    f = labeled_dir / "file"
    f.write_text("x")
    os.setxattr(f, "security.selinux", b"not a context\0")
    with pytest.raises(LabelError) as info:
        get_label(f)
    assert (info.value.kind, info.value.errno) == ("invalid", None)
    assert "not a valid context" in str(info.value)

    try:
        os.removexattr(f, "security.selinux")
        unlabeled = True
    except OSError:  # a kernel that labels every file (SELinux on)
        unlabeled = False
    if unlabeled:
        with pytest.raises(LabelError) as info:
            get_label(f)
        assert (info.value.errno, info.value.kind) == (errno.ENODATA, "no-label")


def test_bad_context_writes_nothing(labeled_dir):
    f = labeled_dir / "file"
    f.write_text("x")
    set_label(f, "u:r:t:s0")
    with pytest.raises(ParseError):
        set_label(f, "u:r:t:s0:c5.c1")
    with pytest.raises(TypeError):
        set_label(f, 42)
    with pytest.raises(TypeError):
        get_label(None)
    assert raw_label(f) == b"u:r:t:s0\0"


def test_relabel_shared_private_context(labeled_dir):
    root = labeled_dir / "vol"
    root.mkdir()
    n = make_tree(root)
    passwd_before = raw_label("/etc/passwd") if _has_label("/etc/passwd") else None

    report = relabel(root, shared=True)
    assert isinstance(report, Report)
    assert (report.visited, report.changed, report.unchanged, report.failed) == (n, n, 0, 0)
    assert report.success and report.failures == [] and not report.stopped
    assert set(labels(root).values()) == {f"{FILE_T}:s0\0".encode()}
    # The symlink was labeled itself; /etc/passwd was not touched.
    assert raw_label(root / "passwd") == f"{FILE_T}:s0\0".encode()
    if passwd_before is not None:
        assert raw_label("/etc/passwd") == passwd_before

    again = relabel(str(root), shared=True)
    assert (again.changed, again.unchanged) == (0, n)  # nothing rewritten

    report = relabel(root, private="s0:c2,c1", threads=1)
    assert report.changed == n
    assert set(labels(root).values()) == {f"{FILE_T}:s0:c1,c2\0".encode()}

    report = relabel(root, context=Context("u:r:exact_t:s0"))
    assert report.changed == n
    assert set(labels(root).values()) == {b"u:r:exact_t:s0\0"}

    report = relabel(root, private="s0:c7,c8", file_context="system_u:object_r:svirt_sandbox_file_t:s0")
    assert set(labels(root).values()) == {b"system_u:object_r:svirt_sandbox_file_t:s0:c7,c8\0"}
    assert DEFAULT_FILE_CONTEXT == f"{FILE_T}:s0"


def _has_label(path) -> bool:
    try:
        raw_label(path)
        return True
    except OSError:
        return False


def test_dry_run_exclude_several_roots(labeled_dir):
    a, b = labeled_dir / "a", labeled_dir / "b"
    for root in (a, b):
        root.mkdir()
        (root / "f").write_text("x")
        set_label(root, "u:r:t:s0")
        set_label(root / "f", "u:r:t:s0")
    report = relabel(a, shared=True, dry_run=True)
    assert report.changed == 2
    assert raw_label(a / "f") == b"u:r:t:s0\0"  # nothing written
    report = relabel(a, shared=True, exclude=[a / "f"])
    assert report.visited == 1 and raw_label(a / "f") == b"u:r:t:s0\0"
    report = relabel([a, b], shared=True)
    assert report.visited == 4 and report.changed == 3
    report = relabel((str(a),), shared=True, recursive=False, skip_hardlinks=True, one_file_system=True)
    assert report.visited == 1


def test_exactly_one_target(labeled_dir):
    for kwargs in [{}, {"shared": True, "private": "s0:c1,c2"}, {"private": "s0:c1,c2", "context": "u:r:t:s0"}]:
        with pytest.raises(InvalidArgumentError):
            relabel(labeled_dir, **kwargs)
    with pytest.raises(ParseError):
        relabel(labeled_dir, private="s0:c5.c1")
    with pytest.raises(ParseError):
        relabel(labeled_dir, context="nope")
    with pytest.raises(TypeError):
        relabel(42, shared=True)


@pytest.mark.parametrize("path,matched", [("/usr//", "/usr"), ("/etc/../usr", "/usr"), ("/", "/"), ("/proc/self", None)])
def test_protected_paths_are_refused(path, matched):
    with pytest.raises(ProtectedPathError) as info:
        relabel(path, shared=True, dry_run=True)
    e = info.value
    assert e.path == path and not e.needs_force
    if matched:
        assert e.matched == matched
    assert str(e).startswith(f"refusing to relabel {path}")


def test_force_only_subtrees_say_so():
    with pytest.raises(ProtectedPathError) as info:
        relabel("/etc/selinux", shared=True, dry_run=True)
    assert info.value.needs_force and info.value.matched == "/etc"


def test_missing_root(labeled_dir):
    with pytest.raises(LabelError) as info:
        relabel(labeled_dir / "missing", shared=True)
    assert (info.value.errno, info.value.kind) == (errno.ENOENT, "not-found")
    assert info.value.path == str(labeled_dir / "missing")


def test_failures_are_reported(labeled_dir):
    """A label longer than any xattr value fails on every entry, as a failure
    in the report (E2BIG or ENOSPC), not an exception."""
    root = labeled_dir / "vol"
    root.mkdir()
    (root / "f").write_text("x")
    huge = Context("u:r:" + "t" * 70000 + ":s0")
    report = relabel(root, context=huge)
    assert report.failed == report.visited == 2 and not report.success
    assert all(isinstance(f, Failure) for f in report.failures)
    paths = {f.path for f in report.failures}
    assert paths == {str(root), str(root / "f")}
    for f in report.failures:
        assert isinstance(f.error, LabelError)
        assert f.error.kind == "too-long" and f.error.errno in (errno.E2BIG, errno.ENOSPC, errno.ERANGE)
        assert f.error.path == f.path
        assert repr(f).startswith("Failure(path=")
    doc = report.to_dict()
    assert doc["failed"] == 2 and len(doc["failures"]) == 2
    assert set(doc) >= {"visited", "changed", "unchanged", "failed", "failures", "skipped_mounts",
                        "mount_points", "hardlinked", "hardlinks", "customized", "customized_paths"}
    report = relabel(root, context=huge, stop_on_first_error=True, threads=1)
    assert report.stopped and report.failed == 1
    assert relabel(root, context=huge, max_failures=1).failures.__len__() == 1


def test_hard_links_are_counted(labeled_dir):
    root = labeled_dir / "vol"
    root.mkdir()
    (root / "f").write_text("x")
    os.link(root / "f", root / "g")
    report = relabel(root, shared=True)
    # The first name labeled changes the inode; the second finds it done.
    assert (report.changed, report.unchanged) == (2, 1)
    assert report.hardlinked == 1 and report.hardlinks[0] in (str(root / "f"), str(root / "g"))
    assert report.skipped_mounts == 0 and report.mount_points == []
    assert repr(report) == "Report(visited=3, changed=2, unchanged=1, failed=0)"


def test_relabel_releases_the_gil(labeled_dir):
    """While a relabel of a large tree runs, another Python thread runs.

    A ticker thread records the time every half millisecond. Were the GIL
    held for the whole walk, it could not run inside the call: there would
    be one gap as long as the relabel. Released, its ticks fill the call.
    """
    root = labeled_dir / "big"
    root.mkdir()
    for d in range(100):
        sub = root / f"d{d}"
        sub.mkdir()
        for f in range(300):
            (sub / f"f{f}").touch()
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.0005)

    thread = threading.Thread(target=ticker)
    thread.start()
    time.sleep(0.05)
    start = time.perf_counter()
    report = relabel(root, private="s0:c3,c4", threads=1)
    end = time.perf_counter()
    stop.set()
    thread.join()
    assert report.changed == 30101
    duration = end - start
    inside = [t for t in ticks if start < t < end]
    points = [start] + inside + [end]
    gap = max(b - a for a, b in zip(points, points[1:]))
    assert duration > 0.05, f"the relabel took {duration * 1000:.0f} ms: too short to tell"
    assert len(inside) >= 10, f"the other thread ticked {len(inside)} times in {duration * 1000:.0f} ms"
    assert gap < duration / 2, f"the other thread stood still {gap * 1000:.0f} ms of {duration * 1000:.0f} ms"
