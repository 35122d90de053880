"""Per-process caches that are never stale: each write empties only what it changed.

Before serving from a cache, a request asks the store for its version, a cheap signal that
moves with every commit (SQLite: the wal-index header, mapped; PostgreSQL: the seq its
listener heard, ``storage.postgres``). When it moved, :class:`Freshness` reads the change log
after the last seq it applied (``storage.changes``: every write transaction names its scopes
there, in the transaction) and calls the narrowest forgetting for each change: one record of
an org, one org, or everything. A write by any process of any instance is so visible to the
next request of every worker, and a share of one record leaves every other answer in place.
Everything is forgotten when the log cannot tell exactly what changed: a gap (the reader fell
more than ``storage.changes.KEEP`` writes behind, its next seq pruned), more than
``MAX_CHANGES`` rows at once, a kind it does not know, or the store gone back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar, runtime_checkable

from emailshare.domain.changes import ORG, RECORD, TOKENS, ChangeBatch
from emailshare.domain.rules import ShareFromUser
from emailshare.service.ports import SharerReads, StoreVersion

MAX_CHANGES = 1000  # rows read at once; past this, everything is forgotten

K = TypeVar("K")
V = TypeVar("V")


class Clearable(Protocol):
    def clear(self) -> None: ...


@runtime_checkable
class Scoped(Protocol):
    """A cache that can forget one org's entries, or one record's of an org, as well as all."""

    def clear(self) -> None: ...
    def forget_org(self, org_id: int) -> None: ...
    def forget_record(self, org_id: int, record_id: int) -> None: ...


class ChangeFeed(StoreVersion, Protocol):
    async def changes_after(self, seq: int, limit: int) -> ChangeBatch:
        """The changes committed after ``seq`` (``domain.changes``), at most ``limit``."""
        ...


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
                self.discard(next(iter(items)))
            items[key] = value
            return
        weight = weigh(value)
        if budget and weight > budget:
            return
        self.discard(key)
        while items and (
            len(items) >= self._capacity or (budget and self._weight + weight > budget)
        ):
            self.discard(next(iter(items)))
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


# Where an entry belongs: its org, and its record (None: the org's, not one record's).
Scope = tuple[int, int | None]


class ScopedCache(BoundedCache[K, V]):
    """A :class:`BoundedCache` whose entries each belong to an org and maybe a record
    (``scope`` of the key and value says which), so that a change forgets only those."""

    __slots__ = ("_by_record", "_scope", "_scopes")

    def __init__(
        self,
        capacity: int,
        budget: int = 0,
        weigh: Callable[[V], int] | None = None,
        *,
        scope: Callable[[K, V], Scope],
    ) -> None:
        super().__init__(capacity, budget, weigh)
        self._scope = scope
        self._scopes: dict[K, Scope] = {}
        self._by_record: dict[tuple[int, int], list[K]] = {}

    def put(self, key: K, value: V) -> None:
        super().put(key, value)
        if self._items.get(key) is not value:
            return  # not kept (over the budget): any older value keeps its own scope
        where = self._scope(key, value)
        old = self._scopes.get(key)
        if old == where:
            return
        if old is not None:
            self._unindex(key, old)
        self._scopes[key] = where
        if where[1] is not None:
            self._by_record.setdefault((where[0], where[1]), []).append(key)

    def _unindex(self, key: K, where: Scope) -> None:
        if where[1] is None:
            return
        place = (where[0], where[1])
        keys = self._by_record.get(place)
        if keys is not None:
            if key in keys:
                keys.remove(key)
            if not keys:
                del self._by_record[place]

    def discard(self, key: K) -> None:
        super().discard(key)
        where = self._scopes.pop(key, None)
        if where is not None:
            self._unindex(key, where)

    def clear(self) -> None:
        super().clear()
        self._scopes.clear()
        self._by_record.clear()

    def forget_org(self, org_id: int) -> None:
        """Drop the org's entries (a scan: org changes are rare; records' are not)."""
        for key in [k for k, where in self._scopes.items() if where[0] == org_id]:
            self.discard(key)

    def forget_record(self, org_id: int, record_id: int) -> None:
        for key in self._by_record.pop((org_id, record_id), ()):
            self._scopes.pop(key, None)
            super().discard(key)


class Freshness:
    """Applies the store's changes to the caches before a request reads them; ``epoch``
    grows each time any cache forgot anything (a computation that straddles it is not kept)."""

    __slots__ = (
        "_caches",
        "_db",
        "_lock",
        "_plain",
        "_scoped",
        "_seen",
        "_seq",
        "epoch",
        "hits",
        "misses",
    )

    def __init__(self, db: ChangeFeed, *caches: Clearable | Scoped) -> None:
        self._db = db
        self._caches = caches
        # A cache with only clear() forgets everything on any change.
        self._scoped = [c for c in caches if isinstance(c, Scoped)]
        self._plain = [c for c in caches if not isinstance(c, Scoped)]
        self._seen: object = object()  # equal to no version: the first check reads the log
        self._seq: int | None = None  # the last change applied; None: none yet, forget all
        self._lock = asyncio.Lock()
        self.epoch = 0
        self.hits = 0
        self.misses = 0

    async def check(self) -> int:
        """Forget what the store changed since the last check; return the epoch."""
        version = await self._db.version()
        if version != self._seen:
            # One reader of the log at a time; those that waited for it read the log again
            # only if what it applied is not the version they saw (no second probe: on
            # PostgreSQL without its listener, each would be a round trip in the lock).
            async with self._lock:
                if version != self._seen:
                    await self._apply(await self._db.changes_after(self._seq or 0, MAX_CHANGES))
                    self._seen = version
        return self.epoch

    async def _apply(self, batch: ChangeBatch) -> None:
        changes = batch.changes if self._seq is not None else None
        self._seq = batch.latest
        if changes == ():
            return  # a commit that changed nothing cached (API-limit usage, a migration)
        self.epoch += 1
        if changes is None:
            self.clear()
            return
        for change in changes:
            kind, org_id, record_id = change.kind, change.org_id, change.record_id
            if org_id is None or kind not in (RECORD, ORG, TOKENS):
                self.clear()  # everything, or a kind this version does not know
                return
            for plain in self._plain:
                plain.clear()
            for cache in self._scoped:
                if kind == RECORD and record_id is not None:
                    cache.forget_record(org_id, record_id)
                else:  # an org, or its tokens: the caches of callers and answers hold them
                    cache.forget_org(org_id)

    def clear(self) -> None:
        for cache in self._caches:
            cache.clear()


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
