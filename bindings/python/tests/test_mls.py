"""Level and Range: dominance as comparisons, glb/lub, containment."""

import pickle

import pytest

from selinux_mcs import InvalidArgumentError, Level, ParseError, Range, calculate_glb_lub


def test_level_fields_and_text():
    level = Level("s0:c9,c2,c3,c4")
    assert str(level) == "s0:c2.c4,c9"
    assert repr(level) == "Level('s0:c2.c4,c9')"
    assert level.sensitivity == 0
    assert level.categories == (2, 3, 4, 9)
    assert Level.s0() == Level("s0")
    assert Level.from_parts(3, [5, 1, 1]) == Level("s3:c1,c5")
    assert Level.from_parts(0) == Level("s0")
    with pytest.raises(InvalidArgumentError):
        Level.from_parts(0, [1024])


def test_dominance_is_the_comparison():
    p = Level("s0:c1,c2")
    assert p >= Level("s0:c1") and p > Level("s0:c1") and p >= p and not p > p
    assert Level("s0") <= p and Level("s0") < p
    other = Level("s0:c1,c3")
    assert not (p < other or p <= other or p > other or p >= other or p == other)
    assert p != other
    assert p.is_incomparable(other) and not p.dominates(other)
    assert p.dominates("s0:c2")
    assert Level("s1") > Level("s0") and Level("s1").is_incomparable("s0:c1")
    with pytest.raises(TypeError):
        p < "s0"


def test_glb_and_lub():
    a, b = Level("s2:c1,c2,c5"), Level("s1:c2,c5,c9")
    assert a.glb(b) == Level("s1:c2,c5")
    assert a.lub(b) == Level("s2:c1,c2,c5,c9")
    assert a.glb("s0") == Level("s0")


def test_level_hash_and_pickle():
    assert hash(Level("s0:c2,c1")) == hash(Level("s0:c1,c2"))
    assert len({Level("s0:c1,c2"), Level("s0:c2,c1"), Level("s0:c1")}) == 2
    assert pickle.loads(pickle.dumps(Level("s0:c5,c1"))) == Level("s0:c1,c5")


def test_range():
    r = Range("s0-s0:c0.c1023")
    assert (str(r.low), str(r.high)) == ("s0", "s0:c0.c1023")
    assert not r.is_single() and Range("s0-s0").is_single()
    assert str(Range("s0:c1", "s0:c1,c2")) == "s0:c1-s0:c1,c2"
    assert str(Range(Level("s1"))) == "s1"
    assert repr(r) == "Range('s0-s0:c0.c1023')"
    assert Level("s0:c7") in r and "s0:c7" in r and Range("s0-s0:c1") in r
    assert Level("s1") not in r
    assert r.contains("s0:c1,c2")
    assert r >= Range("s0:c5") and r > Range("s0:c5") and Range("s0:c5") < r
    assert not (Range("s0:c1") <= Range("s0:c2")) and not (Range("s0:c1") >= Range("s0:c2"))
    assert hash(Range("s0-s0")) == hash(Range("s0"))
    assert pickle.loads(pickle.dumps(r)) == r


def test_range_errors():
    with pytest.raises(ParseError) as info:
        Range("s0:c1-s0")
    assert info.value.kind == "high-does-not-dominate-low"
    with pytest.raises(InvalidArgumentError) as info:
        Range("s0:c1", "s0")
    assert info.value.kind == "high-does-not-dominate-low"
    with pytest.raises(ParseError):
        Range.parse("s3-s4", max_sensitivity=3)
    assert str(Range.parse("s3-s20", max_sensitivity=20)) == "s3-s20"
    with pytest.raises(ParseError):
        Range("s3-s20")
    assert Level.parse("s20:c5", max_sensitivity=20) == Level.from_parts(20, [5])
    with pytest.raises(ParseError) as info:
        Level.parse("s0:c9", max_category=8)
    assert info.value.kind == "category-above-limit"
    with pytest.raises(InvalidArgumentError):
        Level.parse("s0", max_category=5000)
    with pytest.raises(TypeError):
        Level("s0", max_sensitivity=3)
    with pytest.raises(TypeError):
        Range(42)


def test_glb_lub():
    a, b = Range("s0:c0.c100-s10:c0.c150"), Range("s5:c50.c100-s15:c0.c149")
    assert str(a.glb_lub(b)) == "s5:c50.c100-s10:c0.c149"
    assert str(a.glb_lub("s5:c50.c100-s15:c0.c149")) == "s5:c50.c100-s10:c0.c149"
    with pytest.raises(InvalidArgumentError) as info:
        Range("s0-s1").glb_lub(Range("s3-s4"))
    assert info.value.kind == "disjoint"
    with pytest.raises(ParseError) as info:
        calculate_glb_lub("s0:c", "s0")
    assert str(info.value).startswith('bad source range "s0:c"')
