"""Context: parse, fields, canonical text, with_*, comparison, hashing."""

import copy
import pickle

import pytest

import selinux_mcs
from selinux_mcs import Context, Level, ParseError, Range, SelinuxMcsError

CONTAINER = "system_u:system_r:svirt_lxc_net_t:s0:c641,c186"


def test_parse_and_canonical_text():
    ctx = Context(CONTAINER)
    assert str(ctx) == "system_u:system_r:svirt_lxc_net_t:s0:c186,c641"
    assert repr(ctx) == "Context('system_u:system_r:svirt_lxc_net_t:s0:c186,c641')"
    assert str(Context("u:r:t:s0-s0")) == "u:r:t:s0"
    assert str(Context("u:r:t:s0:c0,c1,c2")) == "u:r:t:s0:c0.c2"


def test_fields():
    ctx = Context("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023")
    assert (ctx.user, ctx.role, ctx.type) == ("unconfined_u", "unconfined_r", "unconfined_t")
    assert isinstance(ctx.range, Range)
    assert str(ctx.range) == "s0-s0:c0.c1023"
    assert ctx.level == Level("s0")
    assert ctx.high == Level("s0:c0.c1023")
    assert ctx.high.categories == tuple(range(1024))
    bare = Context("system_u:system_r:kernel_t")
    assert bare.range is None and bare.level is None and bare.high is None


def test_with_methods_change_one_field():
    ctx = Context("system_u:system_r:container_t:s0:c1,c2")
    file = ctx.with_role("object_r").with_type("container_file_t")
    assert str(file) == "system_u:object_r:container_file_t:s0:c1,c2"
    assert str(ctx.with_user("u")) == "u:system_r:container_t:s0:c1,c2"
    assert str(ctx.with_level(Level.s0())) == "system_u:system_r:container_t:s0"
    assert str(ctx.with_level("s0:c5,c3")) == "system_u:system_r:container_t:s0:c3,c5"
    assert str(ctx.with_range("s0-s0:c0.c1023")) == "system_u:system_r:container_t:s0-s0:c0.c1023"
    assert str(ctx.with_range(Level("s0:c9"))) == "system_u:system_r:container_t:s0:c9"
    assert str(ctx.without_range()) == "system_u:system_r:container_t"
    assert str(ctx) == "system_u:system_r:container_t:s0:c1,c2"  # immutable


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.with_type("bad type"),
        lambda c: c.with_type("a:b"),
        lambda c: c.with_role(""),
        lambda c: c.with_user("u\x01"),
        lambda c: c.with_level("s0:c5.c1"),
        lambda c: c.with_range("s0:c1-s0"),
    ],
)
def test_with_methods_reject_bad_input(call):
    with pytest.raises(ParseError):
        call(Context("u:r:t:s0"))


def test_from_parts():
    assert str(Context.from_parts("u", "r", "t")) == "u:r:t"
    assert str(Context.from_parts("u", "r", "t", "s0:c2,c1")) == "u:r:t:s0:c1,c2"
    assert str(Context.from_parts("u", "r", "t", Range("s0-s1"))) == "u:r:t:s0-s1"
    with pytest.raises(ParseError) as info:
        Context.from_parts("u", "r:x", "t")
    assert info.value.kind == "invalid-name"
    assert info.value.offset == 3


def test_xattr_value_round_trip():
    ctx = Context("u:r:t:s0:c2,c1")
    assert ctx.to_xattr_value() == b"u:r:t:s0:c1,c2\0"
    assert Context.from_bytes(ctx.to_xattr_value()) == ctx
    with pytest.raises(ParseError) as info:
        Context.from_bytes(b"u:r:t:s0\0\0")
    assert (info.value.kind, info.value.offset) == ("nul", 8)


def test_equality_and_hash_use_the_parsed_value():
    a, b, c = Context("u:r:t:s0:c5,c2"), Context("u:r:t:s0:c2,c5"), Context("u:r:t:s0:c2,c5-s0:c5,c2")
    assert a == b == c
    assert hash(a) == hash(b) == hash(c)
    assert len({a, b, c}) == 1
    assert {a: 1}[c] == 1
    assert a != Context("u:r:t:s0:c2,c6")
    assert a != "u:r:t:s0:c2,c5"  # a Context is not its text
    assert not (a == 3)


def test_order_is_total_and_sorts():
    ctxs = [Context(t) for t in ["u:r:t:s0:c2", "a:r:t", "u:r:t:s0", "u:r:t", "a:r:t:s0"]]
    assert [str(c) for c in sorted(ctxs)] == ["a:r:t", "a:r:t:s0", "u:r:t", "u:r:t:s0", "u:r:t:s0:c2"]
    assert Context("a:r:t") < Context("b:r:t") <= Context("b:r:t")
    assert Context("b:r:t") > Context("a:r:t") >= Context("a:r:t")
    with pytest.raises(TypeError):
        Context("a:r:t") < "b:r:t"


def test_pickle_and_copy():
    ctx = Context(CONTAINER)
    assert pickle.loads(pickle.dumps(ctx)) == ctx
    assert copy.copy(ctx) == ctx and copy.deepcopy(ctx) == ctx


def test_limits():
    assert str(Context("u:r:t:s15:c1023")) == "u:r:t:s15:c1023"
    with pytest.raises(ParseError) as info:
        Context.parse("u:r:t:s3", max_sensitivity=0)
    assert str(info.value) == 'bad context "u:r:t:s3": sensitivity s3 at byte 6: above the highest sensitivity s0'
    assert (info.value.kind, info.value.offset) == ("sensitivity-above-limit", 6)
    with pytest.raises(ParseError):
        Context.parse("u:r:t:s0:c200", max_category=100)
    assert str(Context.parse("u:r:t:s20", max_sensitivity=23)) == "u:r:t:s20"
    assert Context.parse("u:r:t:s1") == Context("u:r:t:s1")
    with pytest.raises(selinux_mcs.InvalidArgumentError):
        Context.parse("u:r:t:s0", max_category=2000)
    with pytest.raises(TypeError):
        Context("u:r:t:s0", max_sensitivity=0)  # Context(text) takes the text alone


def test_parse_error_names_text_offset_and_kind():
    text = "system_u:object_r:container_file_t:s0:c5.c1"
    with pytest.raises(ParseError) as info:
        Context(text)
    e = info.value
    assert isinstance(e, SelinuxMcsError) and isinstance(e, ValueError)
    assert (e.text, e.offset, e.kind) == (text, 38, "category-range-order")
    assert str(e) == (
        f'bad context "{text}": category range c5.c1 at byte 38: '
        "the first category must be lower than the second"
    )


@pytest.mark.parametrize(
    "bad",
    ["", "u", "u:r", "u:r:t:", "u:r:t:s0:", "u:r:t:s0:c01", "u:r:t:s0:c1024", "u:r:t:s16", "u:r:t:s0-",
     "\x00", "u:r:t:s0:c1,,c2", "u:r:t:s0:c1:", "u:r:t:s0\n", "u:r:t:" + "s0:c1," * 5000],
)
def test_bad_text_raises_never_crashes(bad):
    with pytest.raises(ParseError):
        Context(bad)


@pytest.mark.parametrize("bad", [None, 3, b"u:r:t:s0", ["u:r:t"], object()])
def test_wrong_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        Context(bad)


def test_surrogates_in_text_raise():
    # Text that is not valid UTF-8 (a lone surrogate) cannot be a context.
    with pytest.raises((ParseError, UnicodeError)):
        Context("u:r:\udcff:s0")



def test_random_text_raises_only_parse_error():
    """Mutations of valid contexts and random strings: each parses or
    raises ParseError, never anything else."""
    import random

    rng = random.Random(19)
    alphabet = "su:_-.,c0123456789 \x00\t\n\u00e9\u2028:"
    seeds = ["system_u:object_r:container_file_t:s0:c1,c2", "u:r:t:s0-s15:c0.c1023", "u:r:t"]
    for i in range(20000):
        if i % 2:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        else:
            chars = list(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                chars.insert(rng.randrange(len(chars) + 1), rng.choice(alphabet))
                if chars and rng.random() < 0.5:
                    del chars[rng.randrange(len(chars))]
            text = "".join(chars)
        for parse in (Context, Level, Range):
            try:
                value = parse(text)
            except ParseError as e:
                assert 0 <= e.offset <= len(text.encode()), (text, e)
            else:
                assert parse(str(value)) == value  # the canonical form parses back
        try:
            Context.from_bytes(text.encode())
        except ParseError:
            pass
