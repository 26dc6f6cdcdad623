"""FileContexts: loading, lookups as libselinux answers them, bad rules."""

import pytest

from selinux_mcs import Context, FileContexts, InvalidArgumentError, PolicyError

from conftest import DATA

ROOT = DATA / "policy" / "etc" / "selinux"
FC = ROOT / "default" / "contexts" / "files" / "file_contexts"


@pytest.fixture(scope="module")
def fc():
    return FileContexts(FC)


def test_loads_the_file_and_its_companions(fc):
    assert len(fc) > 600
    names = [s.rsplit("/", 1)[1] for s in fc.sources]
    assert names == [
        "file_contexts",
        "file_contexts.homedirs",
        "file_contexts.local",
        "file_contexts.subs_dist",
        "file_contexts.subs",
    ]
    assert repr(fc) == f"FileContexts({len(fc)} rules)"
    assert len(FileContexts.system(root=ROOT)) == len(fc)


def test_every_lookup_matches_libselinux(fc):
    """lookups.expected was recorded with libselinux 3.4's selabel_lookup."""
    failures = []
    lines = (DATA / "policy" / "lookups.expected").read_text().splitlines()
    for line in lines:
        path, kind, want = line.split("\t")
        got = fc.lookup(path, None if kind == "-" else kind)
        got = "<<none>>" if got is None else str(got)
        if got != want:
            failures.append(f"{path} [{kind}]: libselinux {want}, ours {got}")
    assert len(lines) > 1000
    assert not failures, "\n".join(failures)


def test_lookup_rule_and_kinds(fc):
    assert fc.lookup("/usr/bin/ls", "file") == Context("system_u:object_r:bin_t:s0")
    assert fc.lookup("/usr/bin/ls", "--") == fc.lookup("/usr/bin/ls", "file")
    rule = fc.lookup_rule("/proc/self")
    assert rule["context"] is None and rule["regex"] == "/proc(/.*)?" and rule["kind"] is None
    assert fc.lookup("/proc/self") is None  # <<none>>
    rule = fc.lookup_rule("/mnt/x", "dir")
    assert rule["kind"] == "dir" and rule["line"] > 0 and rule["source"].endswith("file_contexts")
    assert fc.lookup_rule("relative/path") is None
    assert fc.substitute("/var//run/docker.sock") == "/run/docker.sock"
    with pytest.raises(InvalidArgumentError):
        fc.lookup("/x", "pipe")


def test_from_string():
    fc = FileContexts.from_string("/etc/shadow.* -- system_u:object_r:shadow_t:s0\n")
    assert fc.lookup("/etc/shadow-", "file") == Context("system_u:object_r:shadow_t:s0")
    assert fc.lookup("/etc/shadow-", "dir") is None
    assert fc.sources == ["<string>"] or len(fc.sources) == 1


@pytest.mark.parametrize(
    "name",
    ["file_contexts.bad_context", "file_contexts.bad_regex", "file_contexts.bad_type", "file_contexts.missing_context"],
)
def test_bad_files_name_file_and_line(name):
    with pytest.raises(PolicyError) as info:
        FileContexts(DATA / "policy" / "bad" / name)
    e = info.value
    assert e.path.endswith(name) and e.line is not None and e.line >= 1
    assert f"{name}:{e.line}:" in str(e)


def test_missing_and_odd_files(tmp_path):
    with pytest.raises(PolicyError) as info:
        FileContexts(tmp_path / "missing")
    assert info.value.path == str(tmp_path / "missing")
    with pytest.raises(PolicyError):
        FileContexts(tmp_path)  # a directory
    with pytest.raises(PolicyError):
        FileContexts.from_string("/x -q system_u:object_r:t:s0\n")
    with pytest.raises(PolicyError):
        FileContexts.system(root=tmp_path)
