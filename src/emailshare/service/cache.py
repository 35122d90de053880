"""Per-process caches that are never stale: emptied whenever the store changed.

Before serving from a cache, a request asks the store for its version (SQLite: ``PRAGMA
data_version`` plus this process's own commits; PostgreSQL: a row every write bumps). Any
change, by any process of any instance, empties the caches, so an answer is reused only while
nothing at all was written: a write is visible to the very next request everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from emailshare.domain.rules import ShareFromUser
from emailshare.service.ports import SharerReads, StoreVersion

K = TypeVar("K")
V = TypeVar("V")


class Clearable(Protocol):
    def clear(self) -> None: ...


class BoundedCache(Generic[K, V]):
    """A dict bounded to ``capacity`` entries and, given ``weigh``, to ``budget`` bytes in all;
    the oldest insertion goes first (FIFO)."""

    __slots__ = ("_budget", "_capacity", "_items", "_weigh", "_weight")

    def __init__(
        self, capacity: int, budget: int = 0, weigh: Callable[[V], int] | None = None
    ) -> None:
        self._capacity = capacity
        self._items: dict[K, V] = {}
        self._budget = budget if weigh is not None else 0
        self._weigh = weigh
        self._weight = 0

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        if self._capacity <= 0:
            return
        items, weigh, budget = self._items, self._weigh, self._budget
        if weigh is None:
            if key not in items and len(items) >= self._capacity:
                del items[next(iter(items))]
            items[key] = value
            return
        weight = weigh(value)
        if budget and weight > budget:
            return
        self.discard(key)
        while items and (
            len(items) >= self._capacity or (budget and self._weight + weight > budget)
        ):
            self._weight -= weigh(items.pop(next(iter(items))))
        items[key] = value
        self._weight += weight

    def discard(self, key: K) -> None:
        old = self._items.pop(key, None)
        if old is not None and self._weigh is not None:
            self._weight -= self._weigh(old)

    def clear(self) -> None:
        self._items.clear()
        self._weight = 0

    @property
    def weight(self) -> int:
        """The bytes held, as ``weigh`` counts them (0 without it)."""
        return self._weight

    def __len__(self) -> int:
        return len(self._items)


class Freshness:
    """Tracks the store's version; ``epoch`` grows each time the caches had to be emptied."""

    __slots__ = ("_caches", "_db", "_seen", "epoch", "hits", "misses")

    def __init__(self, db: StoreVersion, *caches: Clearable) -> None:
        self._db = db
        self._caches = caches
        self._seen: object = object()  # equal to no version: the first check empties
        self.epoch = 0
        self.hits = 0
        self.misses = 0

    async def check(self) -> int:
        """Empty every cache if the store changed since the last check; return the epoch."""
        version = await self._db.version()
        if version != self._seen:
            for cache in self._caches:
                cache.clear()
            self._seen = version
            self.epoch += 1
        return self.epoch


class PublicSharersCache:
    """The org's public sharers (the same for every record), read once per store version."""

    __slots__ = ("_cache", "_freshness", "_store")

    def __init__(
        self,
        store: SharerReads,
        freshness: Freshness,
        cache: BoundedCache[int, list[ShareFromUser]],
    ) -> None:
        self._store, self._freshness, self._cache = store, freshness, cache

    async def get(self, org_id: int) -> list[ShareFromUser]:
        hit = self._cache.get(org_id)
        if hit is None:
            epoch = self._freshness.epoch
            hit = await self._store.public_sharers(org_id)
            if self._freshness.epoch == epoch:  # nothing changed while reading
                self._cache.put(org_id, hit)
        return hit
