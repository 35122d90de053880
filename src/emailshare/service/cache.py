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
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar, runtime_checkable

from emailshare.domain.changes import ORG, RECORD, TOKENS, ChangeBatch
from emailshare.service.ports import StoreVersion

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
    the oldest insertion goes first (FIFO).

    The entries are an ``OrderedDict``, whose oldest goes in constant time: a plain dict's
    oldest (``next(iter(d))``) is found by walking past every slot popped since the table was
    last rebuilt: ~11 µs a put into a full 20,000-entry cache (docs/performance.md, "Once the
    caches are full")."""

    __slots__ = ("_budget", "_capacity", "_items", "_weigh", "_weight")

    def __init__(
        self, capacity: int, budget: int = 0, weigh: Callable[[V], int] | None = None
    ) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
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
                items.popitem(last=False)
            items[key] = value
            return
        weight = weigh(value)
        if budget and weight > budget:
            return
        self.discard(key)
        while items and (
            len(items) >= self._capacity or (budget and self._weight + weight > budget)
        ):
            self._weight -= weigh(items.popitem(last=False)[1])
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


class PerOrg(Generic[V]):
    """One value per org, read through ``load`` on first use and kept for up to ``capacity``
    orgs; never stale: registered with :class:`Freshness`, it is emptied whenever the store
    changed (:meth:`clear`, or the narrower :meth:`forget_org`), and it holds nothing of any
    one record (:meth:`forget_record` keeps all). A load that overlapped an emptying is used for
    its own request but not kept: it may hold what was just changed (a generation counter,
    moved by every emptying, tells)."""

    __slots__ = ("_generation", "_load", "_values")

    def __init__(self, load: Callable[[int], Awaitable[V]], capacity: int) -> None:
        self._load = load
        self._values: BoundedCache[int, V] = BoundedCache(capacity)
        self._generation = 0

    async def get(self, org_id: int) -> V:
        """The org's value: kept, or loaded now and kept."""
        value = self._values.get(org_id)
        if value is None:
            generation = self._generation
            value = await self._load(org_id)
            if generation == self._generation:  # nothing was emptied while loading
                self._values.put(org_id, value)
        return value

    def clear(self) -> None:
        """Drop every org's value (the store changed in a way that may touch any org)."""
        self._values.clear()
        self._generation += 1

    def forget_org(self, org_id: int) -> None:
        """Drop the org's value (its users, roles or settings may have changed)."""
        self._values.discard(org_id)
        self._generation += 1

    def forget_record(self, org_id: int, record_id: int) -> None:
        """Nothing to drop: a value holds nothing of any one record."""

    def __len__(self) -> int:
        return len(self._values)


# Where an entry belongs: its org, and its record (None: the org's, not one record's).
Scope = tuple[int, int | None]


class ScopedCache(BoundedCache[K, V]):
    """A :class:`BoundedCache` whose entries each belong to an org and maybe a record
    (``scope`` of the key and value says which), so that a change forgets only those.

    A put is on every computed answer's path, so it does as little as it can
    (docs/performance.md): ``weigh`` and ``scope`` are called once per put, their results kept
    beside the entry (an eviction calls nothing), and the index of records is lazy: a put
    files the key under its record, an eviction leaves it there, and :meth:`forget_record`
    forgets only the keys whose entry is still of that record. The index is rebuilt from the
    entries when it holds twice as many keys as there are entries (each put pays for it once).
    Most records have one key: the index holds that key itself, and a list only from a second
    key on (a list per record was one more object per answer for the cyclic collector to
    track and walk, docs/performance.md, "Once the caches are full"). A key is hashable, so
    never a list: the two cannot be confused.
    """

    __slots__ = ("_by_record", "_indexed", "_meta", "_scope")

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
        self._meta: dict[K, tuple[int, int, int | None]] = {}  # key: weight, org, record
        # A record's key, or its keys from the second on; may name keys gone since.
        self._by_record: dict[tuple[int, int], K | list[K]] = {}
        self._indexed = 0  # keys in _by_record, gone ones included

    def put(self, key: K, value: V, where: Scope | None = None) -> None:
        """Keep ``value`` under ``key``, in the scope ``where`` (which must be what ``scope``
        says of them; the caller that knows it saves the call), else the one ``scope`` says."""
        capacity = self._capacity
        if capacity <= 0:
            return
        items, meta, weigh = self._items, self._meta, self._weigh
        old = meta.get(key)  # meta holds exactly the keys of items
        if weigh is None:
            weight = 0
            if old is None:  # a new key; one put again keeps its place
                while len(items) >= capacity:
                    meta.pop(items.popitem(last=False)[0])
        else:
            weight = weigh(value)
            budget = self._budget
            if budget and weight > budget:
                return  # never kept: any older value keeps its own place and scope
            total = self._weight + weight
            if old is not None:  # a weighed entry put again is a new insertion (as BoundedCache)
                del items[key], meta[key]
                total -= old[0]
                old = None
            while items and (len(items) >= capacity or (budget and total > budget)):
                total -= meta.pop(items.popitem(last=False)[0])[0]
            self._weight = total
        org_id, record_id = self._scope(key, value) if where is None else where
        items[key] = value
        meta[key] = (weight, org_id, record_id)
        if record_id is not None and (old is None or old[1] != org_id or old[2] != record_id):
            place = (org_id, record_id)
            by_record = self._by_record
            keys = by_record.get(place)
            if keys is None:
                by_record[place] = key
            elif isinstance(keys, list):
                keys.append(key)
            elif keys == key:
                return  # evicted and put again: still filed there, once
            else:
                by_record[place] = [keys, key]
            self._indexed += 1
            if self._indexed > 2 * len(items) + 64:
                self._reindex()

    def _reindex(self) -> None:
        """The index of records again, from the entries kept (it forgets the keys gone)."""
        index: dict[tuple[int, int], K | list[K]] = {}
        for key, (_, org_id, record_id) in self._meta.items():
            if record_id is not None:
                place = (org_id, record_id)
                keys = index.get(place)
                if keys is None:
                    index[place] = key
                elif isinstance(keys, list):
                    keys.append(key)
                else:
                    index[place] = [keys, key]
        self._by_record = index
        self._indexed = len(self._meta) - sum(m[2] is None for m in self._meta.values())

    def discard(self, key: K) -> None:
        if self._items.pop(key, None) is not None:
            self._weight -= self._meta.pop(key)[0]

    def clear(self) -> None:
        super().clear()
        self._meta.clear()
        self._by_record.clear()
        self._indexed = 0

    def forget_org(self, org_id: int) -> None:
        """Drop the org's entries (a scan: org changes are rare; records' are not)."""
        for key in [k for k, m in self._meta.items() if m[1] == org_id]:
            self.discard(key)

    def forget_record(self, org_id: int, record_id: int) -> None:
        filed = self._by_record.pop((org_id, record_id), None)
        if filed is None:
            return
        keys = filed if isinstance(filed, list) else (filed,)
        self._indexed -= len(keys)
        meta = self._meta
        for key in keys:
            where = meta.get(key)
            if where is not None and where[1] == org_id and where[2] == record_id:
                self.discard(key)


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
