"""explain() and check(): the documents of `relabel explain --json` and
`relabel check --json`, as dicts."""

import json
import os
import subprocess

import pytest

from selinux_mcs import (
    Context,
    InvalidArgumentError,
    InvalidContextError,
    ParseError,
    PolicyError,
    check,
    explain,
)

from conftest import DATA, REPO

SETRANS = DATA / "policy" / "etc" / "selinux" / "default" / "setrans.conf"
PROC = "system_u:system_r:container_t:s0:c1,c2"
FILE = "system_u:object_r:container_file_t:s0:c1,c3"


def test_explain_fields():
    doc = explain("system_u:system_r:svirt_lxc_net_t:s0:c641,c186")
    assert doc["context"] == "system_u:system_r:svirt_lxc_net_t:s0:c641,c186"
    assert doc["canonical"] == "system_u:system_r:svirt_lxc_net_t:s0:c186,c641"
    assert (doc["user"], doc["role"], doc["type"]) == ("system_u", "system_r", "svirt_lxc_net_t")
    assert doc["range"] == "s0:c186,c641"
    assert doc["low"] == {"sensitivity": "s0", "categories": ["c186", "c641"]}
    assert doc["high"] == doc["low"]
    assert "private MCS pair c186,c641" in doc["meaning"]
    assert doc["translation"] is None
    assert "policy" not in doc


def test_explain_takes_a_context():
    doc = explain(Context("system_u:object_r:container_file_t:s0"))
    assert doc["context"] == doc["canonical"] == "system_u:object_r:container_file_t:s0"
    assert explain("u:r:t")["range"] is None and explain("u:r:t")["low"] is None


def test_explain_with_translations():
    doc = explain("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", setrans=SETRANS)
    assert doc["translation"] == "SystemLow-SystemHigh"
    with pytest.raises(PolicyError) as info:
        explain("u:r:t:s0", setrans=DATA / "policy" / "bad" / "setrans.badlevel.conf")
    assert info.value.path.endswith("setrans.badlevel.conf")
    assert info.value.line is not None
    with pytest.raises(PolicyError):
        explain("u:r:t:s0", setrans="/nonexistent/setrans.conf")


def test_explain_with_a_policy(policy):
    doc = explain(PROC, policy=policy)
    assert doc["policy"]["valid"] is True and doc["policy"]["invalid"] is None
    assert doc["policy"]["mcs_constrained"] is True
    assert "mcs_constrained_type" in doc["policy"]["type_attributes"]
    bad = explain("system_u:object_r:container_fle_t:s0", policy=policy)["policy"]
    assert bad["valid"] is False
    assert bad["invalid"] == {
        "rule": "type",
        "message": "unknown type container_fle_t; did you mean container_file_t?",
    }


def test_explain_bad_input():
    with pytest.raises(ParseError):
        explain("u:r:t:s0:c5.c1")
    with pytest.raises(TypeError):
        explain(7)


def test_check_mcs_only():
    doc = check(PROC, FILE)
    assert doc["mode"] == "mcs-only" and doc["constrained_by"] == "built-in list"
    assert doc["missing_categories"] == ["c3"]
    for perm in ("read", "write", "create"):
        assert doc[perm]["allowed"] is False
        assert "the process lacks c3" in doc[perm]["reason"]
    ok = check(PROC, "system_u:object_r:container_file_t:s0-s0:c1,c2", perms=["read", "create", "getattr"])
    assert ok["read"]["allowed"] and ok["getattr"]["allowed"] and not ok["create"]["allowed"]
    assert ok["missing_categories"] == []
    assert check("system_u:system_r:spc_t:s0", FILE)["read"]["allowed"]  # not constrained
    assert not check("system_u:system_r:my_t:s0", FILE, constrained=["my_t"])["read"]["allowed"]


def test_check_bad_input(policy):
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, perms=["fly"])
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, tclass="dir")  # needs a policy
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, booleans={"x": True})
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, policy=policy, constrained=["x"])
    with pytest.raises(ParseError):
        check("nope", FILE)


def test_check_with_a_policy(policy):
    doc = check(PROC, FILE, policy=policy)
    assert doc["mode"] == "policy" and doc["constrained_by"].endswith("mls.33")
    assert doc["missing_categories"] == ["c3"]
    assert doc["read"]["allowed"] is False and doc["read"]["rule"] == "mls"
    same = check(PROC, "system_u:object_r:container_file_t:s0:c1,c2", policy=policy, perms=["read", "execute"])
    assert same["read"] == {
        "allowed": True,
        "reason": "allowed by the policy",
        "rule": None,
        "booleans": [],
        "audited": True,
        "permissive": False,
    }
    assert same["execute"]["rule"] == "te"
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, policy=policy, tclass="nosuchclass")
    with pytest.raises(InvalidArgumentError):
        check(PROC, FILE, policy=policy, booleans={"nosuchboolean": True})
    with pytest.raises(InvalidContextError) as info:
        check("system_u:system_r:nope_t:s0", FILE, policy=policy)
    assert info.value.rule == "type"


# The CLI, when SELINUX_MCS_RELABEL names it (.ci/run does): its JSON and
# ours must be the same documents.
RELABEL = os.environ.get("SELINUX_MCS_RELABEL")


@pytest.mark.skipif(not RELABEL, reason="SELINUX_MCS_RELABEL is not set (the CLI to compare with)")
def test_same_documents_as_the_cli(policy):
    def cli(*args):
        out = subprocess.run([RELABEL, *args], check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    assert cli("explain", "--json", "--no-policy", PROC) == explain(PROC)
    assert cli("check", "--json", "--no-policy", PROC, FILE) == check(PROC, FILE)
    assert cli("check", "--json", "--policy", str(policy.path), PROC, FILE) == check(PROC, FILE, policy=policy)
