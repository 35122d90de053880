"""Each org's people as the emails calls read them (``domain.email_reads.People``: its users,
its roles' spans, its ``Emails`` data sharing), kept per worker.

Every emails request needs them for every email it decides (whose name an email shows, whether
its owner's mailbox is readable, whether the caller's role is above its owner's), and they are
the same for every record of the org: read once (three statements), then looked up in memory,
where joining them into each page's statement cost a users probe and two roles probes per row.

Never stale: ``service.cache.Freshness`` empties the cache whenever the store changed
(:meth:`clear`); a change scoped to an org forgets that org (:meth:`forget_org`), and one scoped
to a record forgets nothing here (:meth:`forget_record`: nothing of a record is held). A read
that overlapped an emptying is used but not kept.
"""

from __future__ import annotations

from typing import Protocol

from emailshare.domain.email_reads import People
from emailshare.service.cache import BoundedCache


class PeopleReads(Protocol):
    async def people(self, org_id: int) -> People: ...


class PeopleCache:
    """An org's :class:`People`, read on first use and kept for up to ``capacity`` orgs."""

    __slots__ = ("_cache", "_generation", "_reads")

    def __init__(self, reads: PeopleReads, capacity: int) -> None:
        self._reads = reads
        self._cache: BoundedCache[int, People] = BoundedCache(capacity)
        self._generation = 0  # grows with every emptying: a read across one is not kept

    async def get(self, org_id: int) -> People:
        hit = self._cache.get(org_id)
        if hit is None:
            generation = self._generation
            hit = await self._reads.people(org_id)
            if self._generation == generation:
                self._cache.put(org_id, hit)
        return hit

    def clear(self) -> None:
        self._generation += 1
        self._cache.clear()

    def forget_org(self, org_id: int) -> None:
        self._generation += 1
        self._cache.discard(org_id)

    def forget_record(self, org_id: int, record_id: int) -> None:
        """Nothing of a record is held: a record's change (a share, its addresses) keeps the
        org's people."""
