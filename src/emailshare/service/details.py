"""The use case behind ``GET …/{module}/{record_id}/__emails_sharing_details``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

from emailshare.domain import rules
from emailshare.domain import scopes as scope_rules
from emailshare.domain.modules import ModuleLookup
from emailshare.domain.numbers import parse_id
from emailshare.domain.rules import ShareFromUser
from emailshare.domain.views import RecordAccess
from emailshare.service.auth import (
    Caller,
    CallerCache,
    caller_of,
    kept_caller,
    read_caller,
    token_shape_ok,
)
from emailshare.service.orgview import NOT_RENDERED, OrgView, Rendered
from emailshare.service.ports import DetailsReads, TokenDetailsReads
from emailshare.service.records import read_rule_of, record_id_of, resolve_module

Views = Callable[[int], Awaitable[OrgView]]


class Answer(NamedTuple):
    """An answer, with the org's public sharers and their renderings made already (its users
    are the caller, then some of those, in order, and the record's custom sharers)."""

    details: rules.SharingDetails
    publics: Sequence[rules.ShareFromUser]
    rendered: Rendered
    record_id: int  # the record the path names, as its scope in the answer cache


Found = tuple[RecordAccess, list[ShareFromUser]] | None  # what ``record_details`` reads


class Read(NamedTuple):
    """The record's details, read with the caller's token (:func:`caller_and_read`)."""

    found: Found


async def caller_and_read(
    store: TokenDetailsReads,
    token: str,
    hashed: str,
    now: int,
    cache: CallerCache | None,
    module_name: str,
    record_text: str,
) -> tuple[Caller, Read | None]:
    """The caller (as ``auth.authenticate_token``, raising what it raises) and, when its
    caller was not kept, the module is a standard one and the record a valid id, the
    record's details read in the same statement as the token (one round trip a miss), for
    :func:`answer` to check in its own order; else None (``answer`` reads them)."""
    hit = kept_caller(hashed, now, cache)
    if hit is not None:
        return hit, None
    module = ModuleLookup.standard(module_name)
    record_id = parse_id(record_text) if module is not None else None
    if module is None or record_id is None or not token_shape_ok(token):
        return await read_caller(store, token, hashed, now, cache), None
    owner, found = await store.token_and_details(hashed, module.api_name, record_id)
    return caller_of(owner, hashed, now, cache), Read(found)


async def answer(
    store: DetailsReads,
    caller: Caller,
    module_name: str,
    record_text: str,
    views: Views | None,
    read: Read | None = None,
) -> Answer:
    """Checks 5 to 8 of docs/contract.md §3, then the answer of section 6.

    One read per answer: the record's facts and its custom sharers (``record_details``),
    unless ``read`` holds them already (:func:`caller_and_read`: its module and record
    resolve without the store, so the checks below run as they would, in the same order).
    The org's public sharers, the same for every record, come from ``views``
    (``OrgViews.get``); without it they are read from the store.
    """
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = record_id_of(record_text)
    if read is not None:
        found = read.found
    else:
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
