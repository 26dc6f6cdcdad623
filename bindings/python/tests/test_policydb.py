"""Policy: load, validate, compute_av and explain on the binary fixture
(tests/data/policydb/mls.conf) and, where installed, the system's policy."""

import os
import threading

import pytest

from selinux_mcs import (
    Access,
    AccessVector,
    Context,
    InvalidArgumentError,
    InvalidContextError,
    ParseError,
    Policy,
    PolicyError,
)

from conftest import DATA, required

PROC = "system_u:system_r:container_t:s0:c1,c2"
FILE = "system_u:object_r:container_file_t:s0:c1,c2"


def test_facts(policy):
    assert policy.version == 33 and policy.mls and policy.handle_unknown == "deny"
    assert policy.path.endswith("mls.33")
    assert policy.booleans == {"allow_exec": True, "allow_write": False, "allow_other": False}
    assert "svirt_lxc_net_t" in policy.mcs_constrained_types()
    assert policy.permissions("file")[1] == "read"  # bit 1 is read (value 2)
    assert policy.stats()["version"] == 33
    assert repr(policy).startswith("Policy(")
    for v in (30, 31, 32):
        assert Policy.from_path(DATA / "policydb" / f"mls.{v}").version == v
    data = (DATA / "policydb" / "mls.33").read_bytes()
    assert Policy.from_bytes(data).path == "<bytes>"


def test_validate(policy):
    assert policy.validate(PROC) is None
    assert policy.validate(Context("system_u:system_r:svirt_lxc_net_t:s0:c1,c2")) is None
    assert policy.is_valid(PROC) and not policy.is_valid("system_u:object_r:file_t:s0:c32")
    cases = {
        "system_u:system_r:container_fle_t:s0": ("type", "unknown type container_fle_t; did you mean container_file_t?"),
        "sytem_u:object_r:file_t:s0": ("user", "unknown user sytem_u; did you mean system_u?"),
        "system_u:object_r:domain:s0": ("attribute", "domain is an attribute (a set of types), not a type"),
        "user_u:user_r:user_t:s0:c4": ("user_range", "range s0:c4 is outside user user_u's range s0-s0:c0.c3"),
        "system_u:object_r:file_t": ("level", "the policy has MLS on: a context needs a level (e.g. s0)"),
    }
    for text, (rule, message) in cases.items():
        with pytest.raises(InvalidContextError) as info:
            policy.validate(text)
        assert (info.value.rule, info.value.context) == (rule, text)
        assert str(info.value) == f"{text}: {message}"
        assert isinstance(info.value, ValueError)
    with pytest.raises(ParseError):
        policy.validate("nope")


def test_parse_context_uses_the_policys_limits():
    p24 = Policy(DATA / "policydb" / "mls24.33")
    assert str(p24.parse_context("system_u:object_r:file_t:s20")) == "system_u:object_r:file_t:s20"
    assert p24.is_valid("system_u:object_r:file_t:s20")
    with pytest.raises(ParseError):
        Context("system_u:object_r:file_t:s20")  # beyond the default s15
    with pytest.raises(ParseError):
        p24.parse_context("x")


def test_compute_av(policy):
    av = policy.compute_av(PROC, FILE, "file")
    assert isinstance(av, AccessVector)
    assert "read" in av and "write" in av and "execute" not in av
    assert av.allowed & (1 << 1)  # read
    assert not av.permissive and av.auditdeny != 0
    assert av.permissions == [p for p in policy.permissions("file") if p in av]
    assert repr(av).startswith("AccessVector(allowed=0x")
    other = policy.compute_av(PROC, "system_u:object_r:container_file_t:s0:c1,c3", "file")
    assert "read" not in other  # MCS: c3 is not the container's
    # Conditional rules follow the booleans.
    # (at s0, where the MLS constraint on write holds: low levels equal).
    proc_s0, exec_file = "system_u:system_r:container_t:s0", "system_u:object_r:exec_t:s0"
    assert "execute" in policy.compute_av(proc_s0, exec_file, "file")
    assert "write" not in policy.compute_av(proc_s0, exec_file, "file")
    assert "execute" not in policy.compute_av(proc_s0, exec_file, "file", booleans={"allow_exec": False})
    assert "write" in policy.compute_av(proc_s0, exec_file, "file", booleans={"allow_exec": False})


def test_explain(policy):
    verdicts = policy.explain(PROC, "system_u:object_r:container_file_t:s0:c1,c3", "file", ["read", "execute"])
    read, execute = verdicts
    assert read["permission"] == "read" and not read["allowed"]
    assert read["rule"] == "mls" and read["missing_categories"] == ["c3"]
    assert execute["rule"] == "te"
    everything = policy.explain(PROC, FILE)
    assert [v["permission"] for v in everything] == policy.permissions("file")
    write = policy.explain("system_u:system_r:container_t:s0", "system_u:object_r:exec_t:s0", "file", ["write"])[0]
    assert write["rule"] == "te" and write["booleans"] == ["allow_exec=off"]
    assert write["reason"] == "no allow rule grants it with the current booleans; allow_exec=off would"


def test_access_objects(policy):
    access = policy.access()
    assert isinstance(access, Access)
    assert access.booleans == policy.booleans
    assert "read" in access.compute_av(PROC, FILE, "file")
    assert access.cached >= 1
    off = policy.access({"allow_exec": False})
    assert off.booleans["allow_exec"] is False
    assert "execute" not in off.compute_av(PROC, "system_u:object_r:exec_t:s0", "file")
    assert off.explain(PROC, FILE, "file", ["read"])[0]["allowed"]
    results = []
    threads = [threading.Thread(target=lambda: results.append("read" in access.compute_av(PROC, FILE, "file")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8


def test_bad_input(policy, tmp_path):
    with pytest.raises(InvalidArgumentError):
        policy.compute_av(PROC, FILE, "nosuchclass")
    with pytest.raises(InvalidArgumentError):
        policy.explain(PROC, FILE, "file", ["fly"])
    with pytest.raises(InvalidArgumentError):
        policy.access({"nosuchboolean": True})
    with pytest.raises(InvalidArgumentError):
        policy.permissions("nosuchclass")
    with pytest.raises(InvalidContextError) as info:
        policy.compute_av("system_u:system_r:nope_t:s0", FILE, "file")
    assert info.value.rule == "type"
    with pytest.raises(PolicyError) as info:
        Policy.from_bytes(b"nope")
    assert info.value.offset == 0
    assert str(info.value) == "malformed policy at byte 0: expected the policy magic number 0xf97cff8c, found 0x65706f6e"
    data = bytearray((DATA / "policydb" / "mls.33").read_bytes())
    for cut in (5, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(PolicyError) as info:
            Policy.from_bytes(bytes(data[:cut]))
        assert info.value.offset is not None and info.value.offset <= cut
    truncated = tmp_path / "policy.33"
    truncated.write_bytes(bytes(data[:1000]))
    with pytest.raises(PolicyError) as info:
        Policy(truncated)
    assert info.value.path == str(truncated) and info.value.offset is not None
    with pytest.raises(PolicyError) as info:
        Policy(tmp_path / "missing")
    assert info.value.path == str(tmp_path / "missing")
    with pytest.raises(PolicyError):
        Policy(tmp_path)
    with pytest.raises(TypeError):
        Policy.from_bytes("text")


SYSTEM = "/etc/selinux/default/policy"


def test_system_policy():
    """The installed policy (Debian's selinux-policy-default); CI requires it."""
    if not os.path.isdir(SYSTEM) and not os.path.exists("/sys/fs/selinux/policy"):
        if required("SELINUX_MCS_REQUIRE_SYSTEM_POLICY"):
            pytest.fail("no system policy, and SELINUX_MCS_REQUIRE_SYSTEM_POLICY=1")
        pytest.skip("no system policy installed")
    p = Policy.system()
    assert 30 <= p.version <= 33 and p.mls
    # Debian's policy has no container module: its MCS-constrained VM
    # domain, svirt_t, stands in.
    assert "svirt_t" in p.mcs_constrained_types()
    vm, image = "system_u:system_r:svirt_t:s0:c1,c2", "system_u:object_r:svirt_image_t:s0:c1,c3"
    assert p.is_valid(vm) and p.is_valid(image)
    doc = p.explain(vm, image, "file", ["read"])
    assert doc[0]["allowed"] is False and doc[0]["rule"] == "mls" and doc[0]["missing_categories"] == ["c3"]
    assert "read" in p.compute_av(vm, image.replace("c1,c3", "c1,c2"), "file")


def test_flipped_bytes_give_a_policy_or_a_policy_error():
    """Any byte of the fixture changed: PolicyError or a policy, never a crash."""
    import random

    rng = random.Random(19)
    data = (DATA / "policydb" / "mls.33").read_bytes()
    loaded = 0
    for _ in range(300):
        b = bytearray(data)
        b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            p = Policy.from_bytes(bytes(b))
        except PolicyError as e:
            assert e.offset is None or 0 <= e.offset <= len(b)
        else:
            loaded += 1
            p.is_valid(PROC)
            try:
                p.compute_av(PROC, FILE, "file")
            except (InvalidContextError, InvalidArgumentError):
                pass
    assert loaded < 300  # most flips are caught
