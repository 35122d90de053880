"""Record-level email sharing: ``actions/share_emails`` and ``unshare_emails`` (CONTRACT §8).

Every id of a request is checked and written inside one store transaction, so each id is
applied atomically and a bulk request is all-or-nothing per id. Whether a share already
exists is decided by the write itself (insert-if-absent, delete-if-present), so concurrent
requests can neither duplicate nor lose a share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson

from emailshare.domain import rules
from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import (
    AlreadyShared,
    DuplicateData,
    InvalidData,
    NotAllowed,
    NotShared,
    NotSupported,
    ZohoError,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.modules import Module
from emailshare.service.auth import Caller
from emailshare.service.details import read_facts, resolve_module
from emailshare.service.fixtures import parse_id
from emailshare.storage import repo
from emailshare.storage.db import Tx
from emailshare.storage.repo import Store

MAX_BULK_IDS = 200


class Action(Enum):
    SHARE = "share_emails"
    UNSHARE = "unshare_emails"

    @property
    def done_message(self) -> str:
        return "Successfully shared" if self is Action.SHARE else "Sharing revoked successfully"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One id's result: ``error`` is None on success."""

    record_id: str
    error: ZohoError | None


def _id_text(value: Any) -> str:
    """An id of a bulk body as its entry shows it: a string as given, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


async def _share_module(store: Store, caller: Caller, module_name: str) -> Module:
    module = await resolve_module(store, caller.org_id, module_name)
    if not module.takes_email_shares:
        raise NotSupported({"resource_path_index": 0})
    scope_rules.require_share_write(caller.scopes, module.scope_name)
    return module


def _caller_may_share(caller: Caller) -> None:
    if caller.mailbox_protocol is None:
        raise NotAllowed(message="Email Configuration does not exist")
    if caller.email_sharing != "custom":
        raise NotAllowed()


async def _apply(tx: Tx, caller: Caller, action: Action, record_id: int) -> ZohoError | None:
    if action is Action.SHARE:
        changed = await repo.add_email_share(tx, caller.org_id, record_id, caller.user_id)
        return None if changed else AlreadyShared({"id": str(record_id)})
    changed = await repo.remove_email_share(tx, caller.org_id, record_id, caller.user_id)
    return None if changed else NotShared({"id": str(record_id)})


async def share_one(
    store: Store, caller: Caller, module_name: str, record_text: str, action: Action
) -> str:
    """Share or unshare one record named in the path; raise its error, flat."""
    module = await _share_module(store, caller, module_name)
    record_id = parse_id(record_text)
    if record_id is None:
        raise invalid_record_path()
    async with store.db.transaction() as tx:
        access = await repo.record_access(
            tx, caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
        )
        if access is None:
            raise invalid_record_path()
        if rules.read_rule(read_facts(caller, access)) is None:
            raise no_read_permission()
        _caller_may_share(caller)
        error = await _apply(tx, caller, action, record_id)
        if error is not None:
            raise error
        await repo.bump_org_version(tx, caller.org_id)
    return str(record_id)


async def share_many(
    store: Store, caller: Caller, module_name: str, ids: Sequence[Any], action: Action
) -> list[Outcome]:
    """Share or unshare each id of a bulk body, in order; errors become entries."""
    module = await _share_module(store, caller, module_name)
    outcomes: list[Outcome] = []
    seen: set[int] = set()
    changed = False
    async with store.db.transaction() as tx:
        for raw in ids:
            text = _id_text(raw)
            record_id = (
                parse_id(text) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
            )
            outcomes.append(
                Outcome(text, await _one_of_many(tx, caller, module, action, record_id, text, seen))
            )
            changed = changed or outcomes[-1].error is None
        if changed:
            await repo.bump_org_version(tx, caller.org_id)
    return outcomes


async def _one_of_many(
    tx: Tx,
    caller: Caller,
    module: Module,
    action: Action,
    record_id: int | None,
    text: str,
    seen: set[int],
) -> ZohoError | None:
    if record_id is None:
        return InvalidData({"id": text}, "The id given seems to be invalid")
    if record_id in seen:
        return DuplicateData({"id": text})
    seen.add(record_id)
    access = await repo.record_access(
        tx, caller.org_id, module.api_name, record_id, caller.user_id, caller.role_id
    )
    if access is None:
        return InvalidData({"id": text}, "The id given seems to be invalid")
    if rules.read_rule(read_facts(caller, access)) is None:
        return no_read_permission()
    try:
        _caller_may_share(caller)
    except NotAllowed as exc:
        return exc
    return await _apply(tx, caller, action, record_id)
