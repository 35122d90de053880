"""The use case behind ``GET …/{module}/{record_id}/__emails_sharing_details``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from emailshare.domain import rules
from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import (
    InvalidModule,
    NotSupported,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.modules import Module, ModuleLookup
from emailshare.service.auth import Caller
from emailshare.service.fixtures import parse_id
from emailshare.storage.repo import RecordAccess, Sharer, Store


async def resolve_module(store: Store, org_id: int, name: str) -> Module:
    """A URL module name to the org's module, or ``INVALID_MODULE`` / ``NOT_SUPPORTED``."""
    module = ModuleLookup.standard(name)
    if module is not None:
        return module
    if ModuleLookup.is_unsupported_standard(name):
        raise NotSupported({"resource_path_index": 0})
    if len(name) <= 100:
        custom = await store.custom_module(org_id, name)
        if custom is not None:
            return Module(custom, custom=True)
    raise InvalidModule({"resource_path_index": 0})


def read_facts(caller: Caller, access: RecordAccess) -> rules.ReadFacts:
    return rules.ReadFacts(
        caller_is_admin=caller.is_admin,
        caller_is_owner=caller.user_id == access.owner_id,
        caller_role_above_owner=access.caller_role_above_owner,
        module_sharing=access.module_sharing,
        shared_with_caller=access.shared_with_caller,
    )


async def readable_record(store: Store, caller: Caller, module: Module, record_text: str) -> int:
    """The record id, once the caller is known to be allowed to read it (checks 7 and 8)."""
    record_id = parse_id(record_text)
    if record_id is None:
        raise invalid_record_path()
    access = await store.record_access(
        caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
    )
    if access is None:
        raise invalid_record_path()
    if rules.read_rule(read_facts(caller, access)) is None:
        raise no_read_permission()
    return record_id


PublicSharers = Callable[[int], Awaitable[Sequence[rules.ShareFromUser]]]


async def read_public_sharers(store: Store, org_id: int) -> list[rules.ShareFromUser]:
    """The org's first 51 public sharers, as the rules take them."""
    return as_sharers(await store.public_sharers(org_id))


def as_sharers(rows: Sequence[Sharer]) -> list[rules.ShareFromUser]:
    return [rules.ShareFromUser(uid, name, proto) for uid, name, proto in rows]


async def sharing_details(
    store: Store,
    caller: Caller,
    module_name: str,
    record_text: str,
    publics_of: PublicSharers | None = None,
) -> rules.SharingDetails:
    """Checks 5 to 8 of docs/contract.md §3, then the answer of section 6.

    ``publics_of`` may serve the org's public sharers from a cache (they are the same for
    every record of the org); by default they are read from the store.
    """
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = await readable_record(store, caller, module, record_text)
    if publics_of is None:
        publics: Sequence[rules.ShareFromUser] = await read_public_sharers(store, caller.org_id)
    else:
        publics = await publics_of(caller.org_id)
    customs = as_sharers(await store.custom_sharers(caller.org_id, record_id))
    me = None
    if caller.mailbox_protocol is not None and caller.mailbox_enabled:
        me = rules.ShareFromUser(caller.user_id, caller.name, caller.mailbox_protocol)
    others = [u for u in (*publics, *customs) if u.id != caller.user_id]
    return rules.assemble(me, others, module.gathers_contacts)
