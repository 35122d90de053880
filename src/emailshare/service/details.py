"""The use case behind ``GET …/{module}/{record_id}/__emails_sharing_details``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

from emailshare.domain import rules
from emailshare.domain import scopes as scope_rules
from emailshare.service.auth import Caller
from emailshare.service.orgview import NOT_RENDERED, OrgView, Rendered
from emailshare.service.ports import DetailsReads
from emailshare.service.records import read_rule_of, record_id_of, resolve_module

Views = Callable[[int], Awaitable[OrgView]]


class Answer(NamedTuple):
    """An answer, with the org's public sharers and their renderings made already (its users
    are the caller, then some of those, in order, and the record's custom sharers)."""

    details: rules.SharingDetails
    publics: Sequence[rules.ShareFromUser]
    rendered: Rendered
    record_id: int  # the record the path names, as its scope in the answer cache


async def answer(
    store: DetailsReads, caller: Caller, module_name: str, record_text: str, views: Views | None
) -> Answer:
    """Checks 5 to 8 of docs/contract.md §3, then the answer of section 6.

    One read per answer: the record's facts and its custom sharers (``record_details``). The
    org's public sharers, the same for every record, come from ``views`` (``OrgViews.get``);
    without it they are read from the store.
    """
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = record_id_of(record_text)
    found = await store.record_details(
        caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
    )
    read_rule_of(None if found is None else found[0], caller)
    assert found is not None  # read_rule_of raised otherwise
    if views is None:
        publics = tuple(rules.ordered(await store.public_sharers(caller.org_id)))
        view = OrgView(caller.org_id, publics, frozenset(u.id for u in publics), NOT_RENDERED)
    else:
        view = await views(caller.org_id)
    me = None
    if caller.mailbox_protocol is not None and caller.mailbox_enabled:
        me = rules.ShareFromUser(caller.user_id, caller.name, caller.mailbox_protocol)
    others: tuple[rules.ShareFromUser, ...] | list[rules.ShareFromUser] = view.publics
    if caller.user_id in view.public_ids:
        others = [u for u in others if u.id != caller.user_id]
    customs = found[1]
    if customs:
        mine = [u for u in customs if u.id != caller.user_id]
        others = rules.merged(others, rules.ordered(mine))
    details = rules.assemble_ordered(me, others, module.gathers_contacts)
    return Answer(details, view.publics, view.rendered, record_id)


async def sharing_details(
    store: DetailsReads,
    caller: Caller,
    module_name: str,
    record_text: str,
    views: Views | None = None,
) -> rules.SharingDetails:
    """:func:`answer` without the renderings."""
    return (await answer(store, caller, module_name, record_text, views)).details
