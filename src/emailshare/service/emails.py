"""The use cases behind ``GET …/{module}/{record_id}/Emails[/{message_id}]`` (docs/contract.md §12).

Checks 5 to 8 of docs/contract.md §3 exactly as the sharing details run them, then the query
parameters (§12.2), then (one email) the message. Which emails are shown is decided by
``domain.emails`` (through ``service.email_pages``) from the org's people, kept per worker
(``service.email_people``), and what the store reads through the :class:`EmailReads` port:
a page is one statement, one email one statement, beside the record's access.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from emailshare.domain import emails as rules
from emailshare.domain import scopes as scope_rules
from emailshare.domain.email_reads import Bound, Found, Head, Hidden, Item, People, Selection
from emailshare.domain.errors import invalid_message_id, invalid_param
from emailshare.domain.modules import Module
from emailshare.domain.numbers import parse_id
from emailshare.domain.rules import mailbox_decision
from emailshare.service import email_index, email_pages
from emailshare.service.auth import Caller
from emailshare.service.ports import RecordLookup
from emailshare.service.records import readable, record_id_of, require_readable, resolve_module


class EmailReads(Protocol):
    """The port of the emails use cases (implemented by ``storage.emails.EmailStore``)."""

    async def paging_secret(self) -> bytes: ...
    async def people(self, org_id: int) -> People: ...
    async def contacts(self, org_id: int, record_id: int, module: str) -> list[int]: ...
    async def shared(self, org_id: int, record_id: int, user_id: int) -> bool: ...
    async def candidates(
        self,
        org_id: int,
        selection: Selection,
        bound: Bound | None,
        limit: int,
        hidden: Hidden,
    ) -> list[Head]: ...
    async def opened(
        self, org_id: int, message_id: str, basis: rules.Basis, record_id: int
    ) -> tuple[Found, bool] | None: ...


@dataclass(frozen=True, slots=True)
class EmailSources:
    """What the emails use cases read: the store's port, and the org's people (kept per
    worker by ``service.email_people.PeopleCache``; ``reads.people`` itself reads them anew)."""

    reads: EmailReads
    people: Callable[[int], Awaitable[People]]


@dataclass(frozen=True, slots=True)
class EmailList:
    """One page of the list, free of any wire spelling; ``items`` empty means 204."""

    items: Sequence[Item]
    next_index: str | None
    prev_index: str  # "0": the first page
    more_records: bool


@dataclass(frozen=True, slots=True)
class OpenedEmail:
    listed: rules.Listed
    editable: bool


def _first(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


async def _record(
    store: RecordLookup, caller: Caller, module_name: str, record_text: str
) -> tuple[Module, int]:
    """Checks 5 to 8, exactly as ``__emails_sharing_details`` runs them."""
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = record_id_of(record_text)
    await require_readable(store, caller, module, record_id)
    return module, record_id


def _type(params: Mapping[str, Sequence[str]], module: Module) -> tuple[str, rules.TypeSpec]:
    text = _first(params, "type")
    spec = rules.type_spec(text, module.api_name)
    if spec is None:
        raise invalid_param("type")
    return text or "", spec


def _owner(people: People, params: Mapping[str, Sequence[str]], names: Sequence[str]) -> int | None:
    """``owner_id`` (or ``user_id``): a user of the caller's org, of any status."""
    for name in names:
        text = _first(params, name)
        if text is None:
            continue
        owner = parse_id(text)
        if owner is None or owner not in people.users:
            raise invalid_param(name)
        return owner
    return None


_CONTACTS = Module("Contacts", custom=False)


async def _readable_contacts(
    store: RecordLookup, reads: EmailReads, caller: Caller, module: Module, record_id: int
) -> list[int]:
    return [
        cid
        for cid in await reads.contacts(caller.org_id, record_id, module.api_name)
        if await readable(store, caller, _CONTACTS, cid)
    ]


def _has_mailbox(caller: Caller) -> bool:
    return caller.mailbox_protocol is not None and caller.mailbox_enabled


async def list_emails(
    store: RecordLookup,
    sources: EmailSources,
    caller: Caller,
    module_name: str,
    record_text: str,
    params: Mapping[str, Sequence[str]],
) -> EmailList:
    """``GET …/Emails``: checks 5 to 8, ``type``, ``owner_id``, ``index``, then the page."""
    module, record_id = await _record(store, caller, module_name, record_text)
    type_text, spec = _type(params, module)
    people = await sources.people(caller.org_id)
    owner = _owner(people, params, ("owner_id",))
    binding = email_index.Binding(
        caller.org_id, caller.user_id, record_id, type_text, owner if owner is not None else 0
    )
    index = _first(params, "index")
    store_reads = sources.reads
    secret = await store_reads.paging_secret()
    start = None
    if index is not None and index != "0":
        start = email_index.decode(secret, binding, index)

    if spec.mailbox is rules.MailboxPart.ALWAYS and owner is not None and owner != caller.user_id:
        shared = await store_reads.shared(caller.org_id, record_id, owner)
        facts = email_pages.mailbox_facts(people, owner, caller.user_id, shared)
        rules.check_owner(spec, owner, caller.user_id, mailbox_decision(facts).included)
    crm_records: Sequence[int] = (record_id,)
    if spec.on_contacts:
        crm_records = await _readable_contacts(store, store_reads, caller, module, record_id)
    selection = Selection(
        record_id,
        rules.association_basis(module.api_name),
        spec.crm_kinds,
        tuple(crm_records),
        rules.mailbox_scope(spec, _has_mailbox(caller), owner),
    )
    want = rules.PER_PAGE + 1
    bound = None if start is None else Bound(start)
    items = await email_pages.run(store_reads, people, caller, selection, bound, want)
    more = len(items) > rules.PER_PAGE
    items = items[: rules.PER_PAGE]
    next_index = None
    if more:
        next_index = email_index.encode(secret, binding, items[-1][0].position)
    prev_index = "0"
    if start is not None:
        back_from = Bound(start, backwards=True, inclusive=True)
        back = await email_pages.run(store_reads, people, caller, selection, back_from, want)
        if len(back) > rules.PER_PAGE:  # the previous page starts after the 11th email back
            prev_index = email_index.encode(secret, binding, back[-1][0].position)
    return EmailList(items, next_index, prev_index, more)


async def open_email(
    store: RecordLookup,
    sources: EmailSources,
    caller: Caller,
    module_name: str,
    record_text: str,
    message_id: str,
    params: Mapping[str, Sequence[str]],
) -> OpenedEmail:
    """``GET …/Emails/{message_id}``: checks 5 to 8, ``type``, ``owner_id``/``user_id``, then
    the message (docs/contract.md §12.5), read in one statement with what decides."""
    module, record_id = await _record(store, caller, module_name, record_text)
    _type(params, module)  # checked as on the list, and otherwise ignored [model]
    people = await sources.people(caller.org_id)
    owner = _owner(people, params, ("owner_id", "user_id"))
    basis = rules.association_basis(module.api_name)
    found = await sources.reads.opened(caller.org_id, message_id, basis, record_id)
    if found is None:
        raise invalid_message_id()
    row, belongs = found
    email = row.email
    seen = email_pages.shown(people, caller, email.kind, email.owner, row.owner_shared)
    visible = owner_readable = False
    if email.kind.from_crm:
        if email.record != record_id:
            # A Contact's CRM email, through its Account or Deal (as all_contacts_* list it).
            assert email.record is not None
            if not module.gathers_contacts or email.record not in await sources.reads.contacts(
                caller.org_id, record_id, module.api_name
            ):
                raise invalid_message_id()
            seen = seen and await readable(store, caller, _CONTACTS, email.record)
        visible = seen
    else:
        if not belongs:
            raise invalid_message_id()
        owner_readable = seen
    requested = owner if owner is not None else caller.user_id
    rules.check_open(email, requested, caller.user_id, owner_readable, visible)
    return OpenedEmail(email_pages.listed(people, row), rules.editable(email, caller.user_id))
