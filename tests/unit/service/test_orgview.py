"""``service.orgview.OrgViews``: one view per org, read once, dropped by what may change it, and
never kept when the views were dropped while it was being read."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from emailshare.domain.rules import ShareFromUser
from emailshare.service.orgview import OrgViews, Rendered

pytestmark = pytest.mark.anyio
BEA = ShareFromUser(2, "bea", "imap")
AL = ShareFromUser(1, "Al", "pop")


class Sharers:
    """A ``SharerReads`` that counts its reads and may run a hook while one is under way."""

    def __init__(self) -> None:
        self.reads: list[int] = []
        self.during: list[OrgViews] = []

    async def public_sharers(self, org_id: int) -> list[ShareFromUser]:
        self.reads.append(org_id)
        for views in self.during:  # the store changed while this read was under way
            views.clear()
        return [BEA, AL]  # a store in any order: the view keeps answer order


def spell(users: Sequence[ShareFromUser]) -> Rendered:
    each = tuple(u.name.encode() for u in users)
    return Rendered(each, b",".join(each), (0,))


async def test_a_view_is_read_once_in_answer_order_with_its_renderings() -> None:
    store = Sharers()
    views = OrgViews(store, spell)
    first = await views.get(7)
    assert (first.publics, first.public_ids, first.rendered.each) == (
        (AL, BEA),
        frozenset({1, 2}),
        (b"Al", b"bea"),
    )
    assert await views.get(7) is first
    assert store.reads == [7]


async def test_forget_org_drops_that_org_only_and_forget_record_drops_nothing() -> None:
    store = Sharers()
    views = OrgViews(store)
    seven, eight = await views.get(7), await views.get(8)
    views.forget_record(7, 1000)
    assert await views.get(7) is seven
    views.forget_org(7)
    assert await views.get(7) is not seven
    assert await views.get(8) is eight
    views.clear()
    assert await views.get(8) is not eight
    assert store.reads == [7, 8, 7, 8]


async def test_a_view_read_while_the_views_were_dropped_is_used_but_not_kept() -> None:
    store = Sharers()
    views = OrgViews(store)
    store.during.append(views)
    assert (await views.get(7)).publics == (AL, BEA)  # answers its own request
    store.during.clear()
    await views.get(7)
    assert store.reads == [7, 7]  # read again: the first was not kept
    assert len(views) == 1


async def test_views_are_bounded() -> None:
    views = OrgViews(Sharers(), capacity=2)
    for org in (1, 2, 3):
        await views.get(org)
    assert len(views) == 2
