"""Registry: allocate, allocate_for, reserve, release, list; a context
manager; the GIL released while it waits for the database."""

import fcntl
import os
import threading
import time

import pytest

from selinux_mcs import (
    Entry,
    ExhaustedError,
    InvalidArgumentError,
    Level,
    ParseError,
    Registry,
    RegistryError,
    SelinuxMcsError,
)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "mcs.db"


def is_pair(level: Level) -> bool:
    return level.sensitivity == 0 and len(level.categories) == 2


def test_allocate_for_is_idempotent(db):
    with Registry(db) as reg:
        first = reg.allocate_for("volume:pgdata")
        assert isinstance(first, Entry)
        assert first.owner == "volume:pgdata" and is_pair(first.level)
        assert first.source is None and abs(first.created - time.time()) < 120
        assert reg.allocate_for("volume:pgdata") == first
        assert repr(first).startswith("Entry(owner='volume:pgdata', level='s0:c")
    with Registry(str(db)) as again:  # and across handles (processes alike)
        assert again.allocate_for("volume:pgdata").level == first.level


def test_allocate_reserve_release_list(db):
    with Registry(db) as reg:
        anon = reg.allocate()
        assert anon.owner == f"pair:{anon.level}"
        two = reg.allocate_anonymous(2)
        assert len(two) == 2 and len({e.level for e in two + [anon]}) == 3
        many = reg.allocate_many(["a", "b", "a"])
        assert [e.owner for e in many] == ["a", "b", "a"] and many[0] == many[2]
        web = reg.reserve("s0:c2,c1", "container:web")
        assert web.level == Level("s0:c1,c2")
        assert reg.reserve(Level("s0:c1,c2"), "container:web") == web  # idempotent
        assert reg.get("container:web") == web and reg.get("nobody") is None
        assert reg.holder("s0:c1,c2") == web and reg.holder("s0:c7,c8") is None
        assert len(reg) == 6
        assert {e.owner for e in reg.list()} == {anon.owner, two[0].owner, two[1].owner, "a", "b", "container:web"}
        assert reg.available() == 523775 - 6
        assert reg.release("a").owner == "a"
        assert reg.release("a") is None
        assert reg.release(level="s0:c1,c2") == web
        assert reg.release(level=Level("s0:c7,c8")) is None
        assert len(reg) == 4
        reg.check()


def test_one_pair_one_owner(db):
    with Registry(db) as reg:
        reg.reserve("s0:c1,c2", "container:web")
        with pytest.raises(RegistryError) as info:
            reg.reserve("s0:c1,c2", "container:other")
        assert info.value.kind == "taken"
        assert "container:web" in str(info.value)
        with pytest.raises(RegistryError) as info:
            reg.reserve("s0:c3,c4", "container:web")  # the owner holds another pair
        assert info.value.kind == "taken"


def test_exhausted(db):
    with Registry(db, pool="c4,c5") as reg:  # one pair
        reg.allocate_for("one")
        with pytest.raises(ExhaustedError) as info:
            reg.allocate_for("two")
        assert isinstance(info.value, RegistryError) and isinstance(info.value, SelinuxMcsError)
        assert "no free MCS pair left" in str(info.value)
        with pytest.raises(ExhaustedError):
            reg.allocate()
    with Registry(db, pool="c10.c14") as small:  # 10 pairs, one taken elsewhere in the file
        with pytest.raises(ExhaustedError):
            small.allocate_anonymous(11)
        assert len(small) == 1  # all or nothing


def test_bad_input(db, tmp_path):
    with Registry(db) as reg:
        for owner in ["", "a\x01b", "line\nbreak"]:
            with pytest.raises(InvalidArgumentError):
                reg.allocate_for(owner)
        with pytest.raises(InvalidArgumentError):
            reg.reserve("s0:c1", "x")  # not a pair
        with pytest.raises(InvalidArgumentError):
            reg.reserve("s0:c1022,c1023", "x")  # reserved by convention
        with pytest.raises(ParseError):
            reg.reserve("s0:c5.c1", "x")
        with pytest.raises(InvalidArgumentError):
            reg.release("a", level="s0:c1,c2")
        with pytest.raises(InvalidArgumentError):
            reg.release()
        with pytest.raises(TypeError):
            reg.allocate_for(3)
        assert len(reg) == 0
    with pytest.raises(ParseError):
        Registry(db, pool="c5.c1")
    with pytest.raises(InvalidArgumentError):
        Registry(db, pool="c1")  # no pair in it
    with pytest.raises(RegistryError):
        Registry(tmp_path)  # a directory
    foreign = tmp_path / "notes.txt"
    foreign.write_bytes(b"not a registry, and not to be written\n")
    with pytest.raises(RegistryError) as info:
        Registry(foreign)
    assert info.value.kind == "registry"
    assert foreign.read_bytes() == b"not a registry, and not to be written\n"
    with pytest.raises(RegistryError) as info:
        Registry(tmp_path / "missing" / "mcs.db")
    assert info.value.kind in ("io", "registry")


def test_read_only(db):
    missing = db.parent / "none.db"
    with pytest.raises(RegistryError):
        Registry(missing, read_only=True)
    assert not missing.exists()  # nothing created
    with Registry(db) as reg:
        entry = reg.allocate_for("volume:pgdata")
    with Registry(db, read_only=True) as ro:
        assert ro.read_only and ro.get("volume:pgdata") == entry
        with pytest.raises(RegistryError):
            ro.allocate_for("other")
        assert repr(ro) == f"Registry('{db}', read_only=True)"


def test_close_and_context_manager(db):
    reg = Registry(db)
    assert not reg.closed and bool(reg) and os.fspath(reg.path) == str(db)
    with reg as same:
        assert same is reg
        assert len(reg) == 0 and bool(reg)  # true even when empty
    assert reg.closed
    with pytest.raises(RegistryError) as info:
        reg.allocate_for("x")
    assert info.value.kind == "closed"
    reg.close()  # twice is fine
    with pytest.raises(ValueError):
        with Registry(db) as r:
            raise ValueError("the with block's error propagates")
    assert r.closed


def test_default_location(db, monkeypatch):
    monkeypatch.setenv("SELINUX_MCS_DB", str(db))
    with Registry.default() as reg:
        assert reg.path == str(db)
        reg.allocate_for("x")
    with Registry.default(read_only=True) as ro:
        assert ro.get("x") is not None


def test_threads_share_the_registry_safely(db):
    """Threads with their own handles and threads sharing one: no pair twice."""
    shared = Registry(db)
    got, errors = [], []

    def work(i):
        try:
            own = Registry(db)
            for n in range(10):
                got.append(own.allocate_for(f"own:{i}:{n}").level)
                got.append(shared.allocate_for(f"shared:{i}:{n}").level)
            own.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(got) == 80 and len(set(got)) == 80
    assert len(shared) == 80
    shared.close()


def test_the_gil_is_released_while_the_registry_waits(db):
    """An allocation waiting for another writer's lock lets Python run.

    The test holds the registry's writer lock (``flock`` on ``<db>-lock``)
    and starts an allocation in a second thread, which must wait for it.
    Were the GIL held while waiting, this thread could not run again until
    the allocation gave up (after ten seconds, with an error): here it keeps
    running, sees the allocation still waiting, and lets it finish by
    releasing the lock.
    """
    reg = Registry(db)
    result = {}

    def allocate():
        try:
            result["entry"] = reg.allocate_for("volume:waiting")
        except Exception as e:  # noqa: BLE001 - checked below
            result["error"] = e

    with open(f"{db}-lock", "r+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        worker = threading.Thread(target=allocate)
        start = time.monotonic()
        worker.start()
        ticks = 0
        while time.monotonic() - start < 0.5:
            ticks += 1
            time.sleep(0.001)
        elapsed = time.monotonic() - start
        assert worker.is_alive() and not result, "the allocation should still be waiting for the lock"
        assert elapsed < 3, f"this thread was blocked for {elapsed:.1f} s: the GIL was held"
        assert ticks > 50
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(10)
    assert "error" not in result, result.get("error")
    assert result["entry"].owner == "volume:waiting"
    reg.close()
