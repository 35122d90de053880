"""The use case behind ``GET …/{module}/{record_id}/__emails_sharing_details``."""

from __future__ import annotations

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
from emailshare.storage.repo import RecordAccess, Store


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


async def sharing_details(
    store: Store, caller: Caller, module_name: str, record_text: str
) -> rules.SharingDetails:
    """Checks 5 to 8 of CONTRACT section 3, then the answer of section 6."""
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = await readable_record(store, caller, module, record_text)
    rows = await store.share_candidates(caller.org_id, record_id, caller.user_id)
    me = None
    if caller.mailbox_protocol is not None and caller.mailbox_enabled:
        me = rules.ShareFromUser(caller.user_id, caller.name, caller.mailbox_protocol)
    others = [rules.ShareFromUser(uid, name, proto) for uid, name, proto in rows]
    return rules.assemble(me, others, module.gathers_contacts)
