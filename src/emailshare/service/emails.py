"""The use cases behind ``GET …/{module}/{record_id}/Emails[/{message_id}]`` (docs/contract.md §12).

Checks 5 to 8 of docs/contract.md §3 exactly as the sharing details run them, then the query
parameters (§12.2), then (one email) the message. Which emails are shown is decided by
``domain.emails`` from facts the store gathers through the :class:`EmailReads` port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from emailshare.domain import emails as rules
from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import invalid_message_id, invalid_param
from emailshare.domain.mail import EmailKind
from emailshare.domain.model import DataSharing
from emailshare.domain.modules import Module
from emailshare.domain.numbers import parse_id
from emailshare.domain.rules import MailboxFacts, mailbox_decision
from emailshare.service import email_index
from emailshare.service.auth import Caller
from emailshare.service.ports import RecordLookup
from emailshare.service.records import readable, record_id_of, require_readable, resolve_module


class EmailReads(Protocol):
    """The port of the emails use cases (implemented by ``storage.emails.EmailStore``)."""

    async def paging_secret(self) -> bytes: ...
    async def emails_sharing(self, org_id: int) -> DataSharing: ...
    async def user_exists(self, org_id: int, user_id: int) -> bool: ...
    async def contacts(self, org_id: int, record_id: int, module: str) -> list[int]: ...
    async def mailbox_owners(
        self, org_id: int, record_id: int, basis: rules.Basis, caller_id: int
    ) -> dict[int, MailboxFacts]: ...
    async def mailbox_facts(
        self, org_id: int, user_id: int, record_id: int, caller_id: int
    ) -> MailboxFacts | None: ...
    async def crm_owners(
        self,
        org_id: int,
        record_ids: Sequence[int],
        kinds: Iterable[EmailKind],
        caller_role: int | None,
    ) -> dict[int, bool]: ...
    async def page(
        self, org_id: int, query: rules.PageQuery, start: rules.Position | None, backwards: bool
    ) -> list[rules.Listed]: ...
    async def email(self, org_id: int, message_id: str) -> rules.Listed | None: ...
    async def associated(
        self, org_id: int, message_id: str, basis: rules.Basis, record_id: int
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class EmailList:
    """One page of the list, free of any wire spelling; ``items`` empty means 204."""

    items: Sequence[rules.Listed]
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


async def _owner(
    reads: EmailReads, caller: Caller, params: Mapping[str, Sequence[str]], names: Sequence[str]
) -> int | None:
    for name in names:
        text = _first(params, name)
        if text is None:
            continue
        owner = parse_id(text)
        if owner is None or not await reads.user_exists(caller.org_id, owner):
            raise invalid_param(name)
        return owner
    return None


async def _readable(reads: EmailReads, caller: Caller, record_id: int, user_id: int) -> bool:
    facts = await reads.mailbox_facts(caller.org_id, user_id, record_id, caller.user_id)
    return facts is not None and mailbox_decision(facts).included


async def _readable_contacts(
    store: RecordLookup, reads: EmailReads, caller: Caller, module: Module, record_id: int
) -> list[int]:
    contacts = Module("Contacts", custom=False)
    return [
        cid
        for cid in await reads.contacts(caller.org_id, record_id, module.api_name)
        if await readable(store, caller, contacts, cid)
    ]


async def _crm_owners(
    reads: EmailReads, caller: Caller, records: Sequence[int], kinds: Iterable[EmailKind]
) -> frozenset[int] | None:
    """The owners whose CRM emails the caller sees; None: every owner's."""
    level = await reads.emails_sharing(caller.org_id)
    if rules.crm_visible(level, caller.is_admin, False, False):
        return None  # visible to a user who is neither owner nor above: to everyone
    owners = await reads.crm_owners(caller.org_id, records, kinds, caller.role_id)
    return frozenset(
        uid
        for uid, above in owners.items()
        if rules.crm_visible(level, caller.is_admin, uid == caller.user_id, above)
    )


def _has_mailbox(caller: Caller) -> bool:
    return caller.mailbox_protocol is not None and caller.mailbox_enabled


async def list_emails(
    store: RecordLookup,
    reads: EmailReads,
    caller: Caller,
    module_name: str,
    record_text: str,
    params: Mapping[str, Sequence[str]],
) -> EmailList:
    """``GET …/Emails``: checks 5 to 8, ``type``, ``owner_id``, ``index``, then the page."""
    module, record_id = await _record(store, caller, module_name, record_text)
    type_text, spec = _type(params, module)
    owner = await _owner(reads, caller, params, ("owner_id",))
    binding = email_index.Binding(
        caller.org_id, caller.user_id, record_id, type_text, owner if owner is not None else 0
    )
    index = _first(params, "index")
    secret = await reads.paging_secret()
    start = None
    if index is not None and index != "0":
        start = email_index.decode(secret, binding, index)

    basis = rules.association_basis(module.api_name)
    readable: set[int] = set()
    if spec.mailbox is not rules.MailboxPart.NONE:
        owners = await reads.mailbox_owners(caller.org_id, record_id, basis, caller.user_id)
        readable = {uid for uid, facts in owners.items() if mailbox_decision(facts).included}
    if spec.mailbox is rules.MailboxPart.ALWAYS and owner is not None and owner != caller.user_id:
        rules.check_owner(
            spec, owner, caller.user_id, await _readable(reads, caller, record_id, owner)
        )
    crm_records: Sequence[int] = (record_id,)
    if spec.on_contacts:
        crm_records = await _readable_contacts(store, reads, caller, module, record_id)
    crm_owners = None
    if spec.crm_kinds and crm_records:
        crm_owners = await _crm_owners(reads, caller, crm_records, spec.crm_kinds)
    query = rules.PageQuery(
        record_id,
        basis,
        spec.crm_kinds,
        tuple(crm_records),
        crm_owners,
        rules.mailbox_owners(spec, _has_mailbox(caller), readable, owner),
    )
    items = await reads.page(caller.org_id, query, start, backwards=False)
    more = len(items) > rules.PER_PAGE
    items = items[: rules.PER_PAGE]
    next_index = None
    if more:
        next_index = email_index.encode(secret, binding, rules.position(items[-1].email))
    prev_index = "0"
    if start is not None:
        back = await reads.page(caller.org_id, query, start, backwards=True)
        if len(back) > rules.PER_PAGE:  # the previous page starts after the 11th email back
            prev_index = email_index.encode(secret, binding, rules.position(back[-1].email))
    return EmailList(items, next_index, prev_index, more)


async def open_email(
    store: RecordLookup,
    reads: EmailReads,
    caller: Caller,
    module_name: str,
    record_text: str,
    message_id: str,
    params: Mapping[str, Sequence[str]],
) -> OpenedEmail:
    """``GET …/Emails/{message_id}``: checks 5 to 8, ``type``, ``owner_id``/``user_id``, then
    the message (docs/contract.md §12.5)."""
    module, record_id = await _record(store, caller, module_name, record_text)
    _type(params, module)  # checked as on the list, and otherwise ignored [model]
    owner = await _owner(reads, caller, params, ("owner_id", "user_id"))
    found = await reads.email(caller.org_id, message_id)
    if found is None:
        raise invalid_message_id()
    email = found.email
    visible = readable = False
    if email.kind.from_crm:
        contacts = []
        if email.record != record_id and module.gathers_contacts:
            contacts = await _readable_contacts(store, reads, caller, module, record_id)
            if email.record not in await reads.contacts(caller.org_id, record_id, module.api_name):
                raise invalid_message_id()
        elif email.record != record_id:
            raise invalid_message_id()
        assert email.record is not None
        shown = await _crm_owners(reads, caller, (email.record,), (email.kind,))
        visible = shown is None or email.owner in shown
        if email.record != record_id:
            visible = visible and email.record in contacts
    else:
        basis = rules.association_basis(module.api_name)
        if not await reads.associated(caller.org_id, message_id, basis, record_id):
            raise invalid_message_id()
        readable = await _readable(reads, caller, record_id, email.owner)
    requested = owner if owner is not None else caller.user_id
    rules.check_open(email, requested, caller.user_id, readable, visible)
    return OpenedEmail(found, rules.editable(email, caller.user_id))
