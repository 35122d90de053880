"""``service.cache``: caches that are never stale, emptied whenever the store's version moves;
on a fake store whose version is its count of commits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from emailshare.service.cache import BoundedCache, Freshness, PerOrg, ScopedCache
from tests.unit.fakes import FakeStore
from tests.unit.service.org import ADMIN, ORG, org

pytestmark = pytest.mark.anyio


def test_the_oldest_insertion_goes_first_at_capacity() -> None:
    """Putting a key again changes its value, not its age: "a" is still the oldest."""
    cache: BoundedCache[str, int] = BoundedCache(2)
    for key, value in [("a", 1), ("b", 2), ("a", 3), ("c", 4)]:
        cache.put(key, value)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (None, 2, 4, 2)


def test_a_cache_of_no_capacity_keeps_nothing() -> None:
    cache: BoundedCache[str, int] = BoundedCache(0)
    cache.put("a", 1)
    assert (cache.get("a"), len(cache)) == (None, 0)


def test_a_weighed_cache_keeps_within_its_budget() -> None:
    cache: BoundedCache[str, bytes] = BoundedCache(10, budget=5, weigh=len)
    cache.put("a", b"123")
    cache.put("b", b"45")
    assert cache.weight == 5
    cache.put("c", b"6")  # over budget: the oldest goes
    assert (cache.get("a"), cache.get("b"), cache.get("c"), cache.weight) == (None, b"45", b"6", 3)
    cache.put("big", b"x" * 6)  # larger than the whole budget: never kept
    assert (cache.get("big"), cache.weight) == (None, 3)
    cache.discard("b")
    assert cache.weight == 1
    cache.clear()
    assert (len(cache), cache.weight) == (0, 0)


async def test_the_first_check_and_every_commit_empty_the_caches() -> None:
    store = FakeStore([org()])
    cache: BoundedCache[str, int] = BoundedCache(10)
    fresh = Freshness(store, cache)
    cache.put("k", 1)
    assert await fresh.check() == 1
    assert cache.get("k") is None
    cache.put("k", 1)
    assert await fresh.check() == 1  # nothing written: kept
    assert cache.get("k") == 1
    await store.add_access_token("1000." + "a" * 32 + "." + "b" * 32, ORG, ADMIN, ["x"], 10)
    assert await fresh.check() == 2
    assert cache.get("k") is None


def test_a_scoped_cache_forgets_exactly_its_scopes_through_evictions_and_puts() -> None:
    cache: ScopedCache[str, tuple[int, int | None]] = ScopedCache(
        3, budget=30, weigh=lambda v: 10, scope=lambda _, v: v
    )
    cache.put("a", (1, 10))
    cache.put("b", (1, 11))
    cache.put("c", (2, 10))
    cache.put("d", (1, 10))  # at capacity: "a", the oldest, goes, and out of the index too
    assert cache.get("a") is None
    cache.put("b", (2, 10))  # put again under another scope: filed under that one only
    cache.forget_record(1, 11)
    assert cache.get("b") == (2, 10)
    cache.forget_record(2, 10)
    assert (cache.get("b"), cache.get("c"), cache.get("d")) == (None, None, (1, 10))
    cache.put("e", (1, None))
    cache.forget_org(2)
    assert (cache.get("d"), cache.get("e")) == ((1, 10), (1, None))
    cache.forget_org(1)
    assert (len(cache), cache.weight) == (0, 0)
    cache.put("f", (3, 1))
    cache.clear()
    cache.forget_record(3, 1)  # nothing left to forget, and no error
    assert len(cache) == 0


def test_a_scoped_cache_index_forgets_no_entry_put_again_and_stays_bounded() -> None:
    """The index of records is lazy (evicted keys stay in it until it is rebuilt): a key
    evicted and put again under the same record is forgotten with it once, a key put under
    another record is not, and the index never holds more than twice the entries (and 64)."""
    cache: ScopedCache[str, tuple[int, int | None]] = ScopedCache(2, scope=lambda _, v: v)
    for n in range(1000):
        cache.put(f"k{n}", (1, n))
        assert cache._indexed <= 2 * len(cache) + 64
    assert sum(map(filed, cache._by_record.values())) == cache._indexed
    cache.put("a", (1, 5))
    cache.put("b", (1, 6))
    cache.put("c", (1, 7))  # "a" evicted, still in the index
    cache.put("a", (1, 5), where=(1, 5))  # back, under the same record ("b" goes)
    cache.put("c", (2, 7))  # put again under another record
    cache.forget_record(1, 7)
    assert (cache.get("a"), cache.get("c")) == ((1, 5), (2, 7))
    cache.forget_record(1, 5)
    assert (cache.get("a"), len(cache)) == (None, 1)
    cache.forget_record(2, 7)
    assert len(cache) == 0


def filed(keys: object) -> int:
    """How many keys the index holds under one record: a key itself, or a list of them."""
    return len(keys) if isinstance(keys, list) else 1


def test_a_scoped_cache_files_a_record_s_one_key_itself_and_a_list_from_the_second() -> None:
    """Most records have one key: the index holds it, no list (one tracked object fewer per
    answer); a second key of the record makes the list, and forgetting the record forgets
    both, and no other record's."""
    cache: ScopedCache[tuple[str, str], tuple[int, int | None]] = ScopedCache(
        10, scope=lambda _, v: v
    )
    one, two, other = ("t1", "5"), ("t2", "5"), ("t1", "6")
    cache.put(one, (1, 5))
    cache.put(other, (1, 6))
    assert cache._by_record == {(1, 5): one, (1, 6): other}
    assert cache._indexed == 2
    cache.put(two, (1, 5))
    assert cache._by_record[(1, 5)] == [one, two]
    assert cache._indexed == 3
    cache.forget_record(1, 5)
    assert (cache.get(one), cache.get(two), cache.get(other)) == (None, None, (1, 6))
    assert (cache._by_record, cache._indexed) == ({(1, 6): other}, 1)
    cache.forget_record(1, 6)
    assert (len(cache), cache._by_record, cache._indexed) == (0, {}, 0)


def test_a_scoped_cache_key_evicted_and_put_again_is_filed_once_and_forgotten() -> None:
    """A key evicted stays filed under its record (the index is lazy); put again under the
    same record it is not filed twice, and forgetting the record forgets it; put again under
    another record, the old record's forgetting leaves it."""
    cache: ScopedCache[str, tuple[int, int | None]] = ScopedCache(1, scope=lambda _, v: v)
    cache.put("a", (1, 5))
    cache.put("b", (1, 6))  # "a" evicted, still filed under (1, 5)
    assert cache.get("a") is None
    assert cache._by_record == {(1, 5): "a", (1, 6): "b"}
    cache.put("a", (1, 5))  # back ("b" evicted): filed once, not twice
    assert (cache._by_record[(1, 5)], cache._indexed) == ("a", 2)
    cache.forget_record(1, 5)
    assert (cache.get("a"), len(cache)) == (None, 0)
    cache.put("b", (1, 7))  # "b" again, under another record: (1, 6) still names it
    cache.forget_record(1, 6)
    assert cache.get("b") == (1, 7)
    cache.forget_record(1, 7)
    assert len(cache) == 0


def test_a_weighed_scoped_cache_stays_within_its_budget_when_a_key_grows() -> None:
    cache: ScopedCache[str, bytes] = ScopedCache(
        10, budget=6, weigh=len, scope=lambda _, v: (1, len(v))
    )
    cache.put("a", b"123")
    cache.put("b", b"45")
    cache.put("b", b"4567")  # "b" grows past the budget: the oldest, "a", makes room
    assert (cache.get("a"), cache.get("b"), cache.weight) == (None, b"4567", 4)
    cache.forget_record(1, 4)
    assert (len(cache), cache.weight) == (0, 0)


class Loads:
    """Counts its loads (each value names the load it came from); a load waits for ``gate``."""

    def __init__(self) -> None:
        self.loads: list[int] = []
        self.gate: asyncio.Event | None = None

    async def load(self, org_id: int) -> str:
        self.loads.append(org_id)
        if self.gate is not None:
            await self.gate.wait()
        return f"load {len(self.loads)} of {org_id}"


@pytest.mark.parametrize(
    ("emptying", "kept"),
    [
        (lambda c: c.forget_org(7), False),
        (lambda c: c.clear(), False),
        (lambda c: c.forget_record(7, 1), True),  # holds nothing of a record: moves nothing
    ],
    ids=["forget_org", "clear", "forget_record"],
)
async def test_per_org_keeps_no_load_that_overlapped_an_emptying(
    emptying: Callable[[PerOrg[str]], None], kept: bool
) -> None:
    loads = Loads()
    cache = PerOrg(loads.load, 8)
    loads.gate = asyncio.Event()
    pending = asyncio.ensure_future(cache.get(7))
    await asyncio.sleep(0)  # the load is under way
    emptying(cache)
    loads.gate.set()
    assert await pending == "load 1 of 7"  # used for its own request either way
    loads.gate = None
    again = "load 1 of 7" if kept else "load 2 of 7"
    assert (await cache.get(7), len(cache)) == (again, 1)


async def test_per_org_loads_each_org_once_and_forgets_one_org_only() -> None:
    loads = Loads()
    cache = PerOrg(loads.load, 8)
    assert [await cache.get(o) for o in (7, 8, 7)] == ["load 1 of 7", "load 2 of 8", "load 1 of 7"]
    cache.forget_org(7)
    assert (await cache.get(7), await cache.get(8)) == ("load 3 of 7", "load 2 of 8")
    bounded = PerOrg(loads.load, 1)
    await bounded.get(1)
    await bounded.get(2)
    assert len(bounded) == 1


def _put_cost(cache: BoundedCache[str, bytes], capacity: int, puts: int) -> float:
    """CPU seconds per put into ``cache`` once it is full and has evicted ``capacity // 2``
    entries (the best of three batches of ``puts``)."""
    n = 0

    def put(count: int) -> None:
        nonlocal n
        for _ in range(count):
            cache.put(f"k{n}", b"x")
            n += 1

    put(capacity + capacity // 2)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        put(puts)
        best = min(best, time.process_time() - start)
    return best / puts


@pytest.mark.parametrize("kind", ["plain", "weighed", "scoped", "weighed scoped"])
def test_a_put_into_a_full_cache_costs_the_same_whatever_its_capacity(kind: str) -> None:
    """An eviction takes the oldest entry in constant time: with a plain dict, finding it
    (``next(iter(d))``) walked past every slot popped since the table was last rebuilt, so a
    put into a full cache of 100,000 cost 20-50 times one into a cache of 600
    (docs/performance.md, "Where the time goes")."""

    def make(capacity: int) -> BoundedCache[str, bytes]:
        weigh = len if "weighed" in kind else None
        if "scoped" in kind:
            return ScopedCache(capacity, 10**9, weigh, scope=lambda k, _: (1, int(k[1:])))
        return BoundedCache(capacity, 10**9, weigh)

    small = _put_cost(make(600), 600, 5000)
    large = _put_cost(make(100_000), 100_000, 5000)
    assert large < 4 * small, (small, large)
