"""Per-org structures kept in memory: what every details answer of an org shares.

Every answer of an org lists the same public sharers (the org's first 51, docs/contract.md §6),
whichever record and caller it is for. An :class:`OrgView` holds them once per org, in answer
order, each with its rendering as the API spells it (``render``, given by the API layer: this
layer knows no wire spelling), so an answer is assembled from bytes made once. It is not a
cache of answers: every answer is still computed from the record's facts and custom sharers,
read per request.

:class:`OrgViews` keeps one view per org, bounded, and is emptied as ``service.cache``'s caches
are: registered with ``service.cache.Freshness``, which calls :meth:`OrgViews.clear` whenever
the store changed (or, when a change allows, the narrower :meth:`OrgViews.forget_org`; a view
holds nothing per record, so :meth:`OrgViews.forget_record` keeps it). A view read while the
views were emptied is used for its request but not kept: it may hold what was just changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from emailshare.domain import rules
from emailshare.domain.rules import ShareFromUser
from emailshare.service.cache import PerOrg
from emailshare.service.ports import SharerReads


@dataclass(frozen=True, slots=True)
class Rendered:
    """Users as the API spells them, made by the API layer (``api.wire.rendered``); opaque
    here."""

    each: tuple[bytes, ...]  # each user's rendering, in the users' order
    joined: bytes  # all of them, as the items of one list
    ends: tuple[int, ...]  # ends[k]: where the first k end in ``joined`` (ends[0] == 0)


NOT_RENDERED = Rendered((), b"", (0,))
Render = Callable[[Sequence[ShareFromUser]], Rendered]

#: Orgs whose views a worker keeps (each ~15 kB: 51 sharers and their renderings).
MAX_ORGS = 1024


@dataclass(frozen=True, slots=True)
class OrgView:
    """One org's public sharers, in answer order, and their renderings."""

    org_id: int
    publics: tuple[ShareFromUser, ...]  # the first 51, by ``rules.order_key``
    public_ids: frozenset[int]
    rendered: Rendered  # of ``publics`` (NOT_RENDERED without a ``render``)


class OrgViews(PerOrg[OrgView]):
    """One :class:`OrgView` per org, read from the store when missing (one indexed query) and
    kept; never stale (see the module's docstring and ``service.cache.PerOrg``)."""

    __slots__ = ()

    def __init__(
        self, store: SharerReads, render: Render | None = None, capacity: int = MAX_ORGS
    ) -> None:
        async def load(org_id: int) -> OrgView:
            publics = tuple(rules.ordered(await store.public_sharers(org_id)))
            rendered = render(publics) if render is not None else NOT_RENDERED
            return OrgView(org_id, publics, frozenset(u.id for u in publics), rendered)

        super().__init__(load, capacity)
