"""Record-level email sharing: ``actions/share_emails``, ``unshare_emails`` (docs/contract.md §8).

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

from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import (
    AlreadyShared,
    DuplicateData,
    InvalidData,
    NotAllowed,
    NotShared,
    NotSupported,
    ZohoError,
)
from emailshare.domain.modules import Module
from emailshare.domain.numbers import parse_id
from emailshare.service.auth import Caller
from emailshare.service.ports import ShareTx, ShareWrites
from emailshare.service.records import record_id_of, require_readable, resolve_module

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


async def _share_module(store: ShareWrites, caller: Caller, module_name: str) -> Module:
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


async def _apply(tx: ShareTx, caller: Caller, action: Action, record_id: int) -> ZohoError | None:
    if action is Action.SHARE:
        changed = await tx.add_email_share(caller.org_id, record_id, caller.user_id)
        return None if changed else AlreadyShared({"id": str(record_id)})
    changed = await tx.remove_email_share(caller.org_id, record_id, caller.user_id)
    return None if changed else NotShared({"id": str(record_id)})


async def share_one(
    store: ShareWrites, caller: Caller, module_name: str, record_text: str, action: Action
) -> str:
    """Share or unshare one record named in the path; raise its error, flat."""
    module = await _share_module(store, caller, module_name)
    record_id = record_id_of(record_text)

    async def attempt(tx: ShareTx) -> str:
        await require_readable(tx, caller, module, record_id)
        _caller_may_share(caller)
        error = await _apply(tx, caller, action, record_id)
        if error is not None:
            raise error
        return str(record_id)

    return await store.in_share_transaction(attempt)


async def share_many(
    store: ShareWrites, caller: Caller, module_name: str, ids: Sequence[Any], action: Action
) -> list[Outcome]:
    """Share or unshare each id of a bulk body; one entry per id, in the request's order.

    Every id is first checked, in order; then the writes happen in ascending id order, so
    that concurrent bulk requests take their row locks in one order and cannot deadlock.
    """
    module = await _share_module(store, caller, module_name)

    async def attempt(tx: ShareTx) -> list[Outcome]:
        texts = [_id_text(raw) for raw in ids]
        checked: list[ZohoError | int] = []
        seen: set[int] = set()
        for raw, text in zip(ids, texts, strict=True):
            valid = isinstance(raw, str | int) and not isinstance(raw, bool)
            record_id = parse_id(text) if valid else None
            checked.append(await _check_one(tx, caller, module, record_id, text, seen))
        written: dict[int, ZohoError | None] = {}
        for record_id in sorted(r for r in checked if isinstance(r, int)):
            written[record_id] = await _apply(tx, caller, action, record_id)
        return [
            Outcome(text, written[c] if isinstance(c, int) else c)
            for text, c in zip(texts, checked, strict=True)
        ]

    return await store.in_share_transaction(attempt)


async def _check_one(
    tx: ShareTx,
    caller: Caller,
    module: Module,
    record_id: int | None,
    text: str,
    seen: set[int],
) -> ZohoError | int:
    """The id's error, or the record id when it may be written."""
    if record_id is None:
        return InvalidData({"id": text}, "The id given seems to be invalid")
    if record_id in seen:
        return DuplicateData({"id": text})
    seen.add(record_id)
    try:
        await require_readable(
            tx,
            caller,
            module,
            record_id,
            InvalidData({"id": text}, "The id given seems to be invalid"),
        )
        _caller_may_share(caller)
    except ZohoError as exc:
        return exc
    return record_id
