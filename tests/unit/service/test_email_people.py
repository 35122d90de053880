"""``service.email_people``: an org's people are read once and kept, until an emptying that
covers them (``clear``, ``forget_org`` of that org); a read across an emptying is used but not
kept; ``forget_record`` keeps them (nothing of a record's is held)."""

from __future__ import annotations

import asyncio

import pytest

from emailshare.domain.email_reads import People, Person
from emailshare.domain.model import DataSharing, EmailSharing
from emailshare.service.email_people import PeopleCache

pytestmark = pytest.mark.anyio


class Reads:
    """Counts the reads; each read's People names the read it came from."""

    def __init__(self) -> None:
        self.reads: list[int] = []
        self.gate: asyncio.Event | None = None

    async def people(self, org_id: int) -> People:
        self.reads.append(org_id)
        if self.gate is not None:
            await self.gate.wait()
        user = Person(f"read {len(self.reads)}", True, True, True, EmailSharing.PUBLIC, None)
        return People({1: user}, {}, DataSharing.PUBLIC)


def name(people: People) -> str:
    return people.users[1].name


async def test_an_org_is_read_once_then_kept() -> None:
    reads = Reads()
    cache = PeopleCache(reads, 8)
    first, again, other = await cache.get(7), await cache.get(7), await cache.get(8)
    assert (name(first), name(again), name(other), reads.reads) == (
        "read 1",
        "read 1",
        "read 2",
        [7, 8],
    )


async def test_clear_and_forget_org_empty_what_they_cover() -> None:
    reads = Reads()
    cache = PeopleCache(reads, 8)
    await cache.get(7)
    await cache.get(8)
    cache.forget_org(7)
    assert (name(await cache.get(7)), name(await cache.get(8))) == ("read 3", "read 2")
    cache.clear()
    assert (name(await cache.get(7)), name(await cache.get(8))) == ("read 4", "read 5")


async def test_forget_record_keeps_the_orgs_people() -> None:
    reads = Reads()
    cache = PeopleCache(reads, 8)
    await cache.get(7)
    cache.forget_record(7, 123)
    assert (name(await cache.get(7)), reads.reads) == ("read 1", [7])


async def test_a_read_across_an_emptying_is_not_kept() -> None:
    """The org changed while its people were being read: what was read may be the old state,
    so the next request reads again."""
    reads = Reads()
    cache = PeopleCache(reads, 8)
    reads.gate = asyncio.Event()
    pending = asyncio.ensure_future(cache.get(7))
    await asyncio.sleep(0)
    cache.forget_org(7)
    reads.gate.set()
    assert name(await pending) == "read 1"
    reads.gate = None
    assert (name(await cache.get(7)), reads.reads) == ("read 2", [7, 7])


async def test_no_capacity_reads_every_time() -> None:
    reads = Reads()
    cache = PeopleCache(reads, 0)
    await cache.get(7)
    await cache.get(7)
    assert reads.reads == [7, 7]
