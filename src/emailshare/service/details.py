"""The use case behind ``GET …/{module}/{record_id}/__emails_sharing_details``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from emailshare.domain import rules
from emailshare.domain import scopes as scope_rules
from emailshare.service.auth import Caller
from emailshare.service.ports import DetailsReads
from emailshare.service.records import read_rule_of, record_id_of, resolve_module

PublicSharers = Callable[[int], Awaitable[Sequence[rules.ShareFromUser]]]


async def sharing_details(
    store: DetailsReads,
    caller: Caller,
    module_name: str,
    record_text: str,
    publics_of: PublicSharers | None = None,
) -> rules.SharingDetails:
    """Checks 5 to 8 of docs/contract.md §3, then the answer of section 6: the record's facts
    and its custom sharers come in one read (``record_details``).

    ``publics_of`` may serve the org's public sharers from a cache (they are the same for
    every record of the org); by default they are read from the store.
    """
    module = await resolve_module(store, caller.org_id, module_name)
    scope_rules.require_details_read(caller.scopes, module.scope_name)
    record_id = record_id_of(record_text)
    found = await store.record_details(
        caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
    )
    read_rule_of(None if found is None else found[0], caller)
    assert found is not None  # read_rule_of raised otherwise
    customs = found[1]
    if publics_of is None:
        publics: Sequence[rules.ShareFromUser] = await store.public_sharers(caller.org_id)
    else:
        publics = await publics_of(caller.org_id)
    me = None
    if caller.mailbox_protocol is not None and caller.mailbox_enabled:
        me = rules.ShareFromUser(caller.user_id, caller.name, caller.mailbox_protocol)
    others = [u for u in (*publics, *customs) if u.id != caller.user_id]
    return rules.assemble(me, others, module.gathers_contacts)
