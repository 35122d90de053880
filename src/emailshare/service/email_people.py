"""Each org's people as the emails calls read them (``domain.email_reads.People``: its users,
its roles' spans, its ``Emails`` data sharing), kept per worker.

Every emails request needs them for every email it decides (whose name an email shows, whether
its owner's mailbox is readable, whether the caller's role is above its owner's), and they are
the same for every record of the org: read once (three statements), then looked up in memory,
where joining them into each page's statement cost a users probe and two roles probes per row.

Never stale (a ``service.cache.PerOrg``): ``service.cache.Freshness`` empties the cache
whenever the store changed (:meth:`clear`); a change scoped to an org forgets that org
(:meth:`forget_org`), and one scoped to a record forgets nothing here (:meth:`forget_record`:
nothing of a record is held). A read that overlapped an emptying is used but not kept.
"""

from __future__ import annotations

from typing import Protocol

from emailshare.domain.email_reads import People
from emailshare.service.cache import PerOrg


class PeopleReads(Protocol):
    async def people(self, org_id: int) -> People: ...


class PeopleCache(PerOrg[People]):
    """An org's :class:`People`, read on first use and kept for up to ``capacity`` orgs
    (``service.cache.PerOrg``)."""

    __slots__ = ()

    def __init__(self, reads: PeopleReads, capacity: int) -> None:
        super().__init__(reads.people, capacity)
