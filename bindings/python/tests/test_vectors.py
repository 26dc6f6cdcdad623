"""The Rust tests' vectors (tests/data/contexts.txt), through Python.

Same file, same expectations as tests/tests/context_vectors.rs: each
accept/reject, canonical form and level-math fact holds from Python too,
and every rejection is a ParseError naming the kind and byte offset.
"""

import re
from collections import Counter

import pytest

from selinux_mcs import (
    Context,
    InvalidArgumentError,
    Level,
    ParseError,
    Range,
    calculate_glb_lub,
)

from conftest import DATA


def unescape(field: str) -> bytes:
    """``\\xNN`` is a byte and ``\\\\`` a backslash, as in the Rust loader."""
    out = bytearray()
    i = 0
    raw = field.encode()
    while i < len(raw):
        if raw[i : i + 2] == b"\\\\":
            out += b"\\"
            i += 2
        elif raw[i : i + 2] == b"\\x" and re.fullmatch(rb"[0-9a-fA-F]{2}", raw[i + 2 : i + 4]):
            out.append(int(raw[i + 2 : i + 4], 16))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)


def load():
    vectors = []
    text = (DATA / "contexts.txt").read_text()
    for n, line in enumerate(text.split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        kind, *fields = line.split("\t")
        vectors.append((n, kind, [unescape(f) for f in fields]))
    return vectors


VECTORS = load()


def check(parse, data, expected: str):
    if expected.startswith("!"):
        with pytest.raises(ParseError) as info:
            parse(data)
        e = info.value
        assert f"{e.kind}@{e.offset}" == expected[1:], str(e)
        assert f"byte {e.offset}" in str(e), f"message does not name the offset: {e}"
    else:
        assert str(parse(data)) == expected


def test_the_file_has_every_kind():
    counts = Counter(kind for _, kind, _ in VECTORS)
    assert len(VECTORS) > 100
    assert set(counts) == {"context", "mcs-context", "bytes", "level", "range", "compare", "contains", "glblub"}


@pytest.mark.parametrize("line,kind,fields", VECTORS, ids=[f"line{n}" for n, _, _ in VECTORS])
def test_vector(line, kind, fields):
    text = lambda i: fields[i].decode("utf-8", "surrogateescape")  # noqa: E731
    if kind == "context":
        check(Context, text(0), text(1))
        if not text(1).startswith("!"):
            ctx = Context(text(0))
            assert Context(str(ctx)) == ctx  # the canonical form parses back
    elif kind == "mcs-context":
        check(lambda t: Context.parse(t, max_sensitivity=0), text(0), text(1))
    elif kind == "bytes":
        check(Context.from_bytes, fields[0], text(1))
    elif kind == "level":
        check(Level, text(0), text(1))
    elif kind == "range":
        check(Range, text(0), text(1))
    elif kind == "compare":
        a, b = Level(text(0)), Level(text(1))
        got = {
            (True, False, False): "greater",
            (False, True, False): "less",
            (False, False, True): "equal",
            (False, False, False): "incomparable",
        }[(a > b, a < b, a == b)]
        assert got == text(2), f"{a} vs {b}"
        assert (a >= b) == (got in ("greater", "equal"))
        assert (a <= b) == (got in ("less", "equal"))
        assert a.dominates(b) == (got in ("greater", "equal"))
        assert a.is_incomparable(b) == (got == "incomparable")
    elif kind == "contains":
        a, b = Range(text(0)), Range(text(1))
        assert a.contains(b) == (text(2) == "yes")
        assert (b in a) == (text(2) == "yes")
        assert (a >= b) == (text(2) == "yes")
    elif kind == "glblub":
        want = text(2)
        if want.startswith("!"):
            with pytest.raises(InvalidArgumentError) as info:
                calculate_glb_lub(text(0), text(1))
            assert info.value.kind == want[1:]
        else:
            assert str(calculate_glb_lub(text(0), text(1))) == want
    else:
        pytest.fail(f"line {line}: unknown vector kind {kind!r}")
