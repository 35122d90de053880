"""The API operations: each a :class:`~emailshare.client.flow.Call` naming its path and how its
answer is read. Shared by the sync and async clients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from emailshare.client import wire
from emailshare.client.errors import ZohoAPIError
from emailshare.client.flow import Call, error_of
from emailshare.client.models import ActionResult, CurrentUser, Org, SharingDetails

# The share/unshare APIs exist in v8 only (docs/contract.md §8).
ACTIONS_VERSION = "v8"

Verb = Literal["share", "unshare"]
T = TypeVar("T")


def _segment(value: str | int) -> str:
    return quote(str(value), safe="")


def _read(parse: Callable[[Any], T]) -> Callable[[int, Any, bytes], T]:
    """An interpreter for GETs: a 2xx without an error body is parsed, anything else raised."""

    def interpret(status: int, body: Any, content: bytes) -> T:
        if 200 <= status < 300 and wire.error_fields(body) is None:
            return parse(body)
        raise error_of(status, body, content)

    return interpret


def sharing_details(version: str, module: str, record_id: str | int) -> Call[SharingDetails]:
    """``GET /crm/{v}/{module}/{id}/__emails_sharing_details``."""
    path = f"/crm/{version}/{_segment(module)}/{_segment(record_id)}/__emails_sharing_details"
    return Call("GET", path, _read(wire.sharing_details))


def current_user(version: str) -> Call[CurrentUser]:
    """``GET /crm/{v}/users?type=CurrentUser``."""
    return Call("GET", f"/crm/{version}/users", _read(wire.current_user), {"type": "CurrentUser"})


def org(version: str) -> Call[Org]:
    """``GET /crm/{v}/org``."""
    return Call("GET", f"/crm/{version}/org", _read(wire.org))


def share_one(verb: Verb, module: str, record_id: str | int) -> Call[ActionResult]:
    """``POST /crm/v8/{module}/{id}/actions/{verb}_emails``: the result, or the error raised."""
    rid = str(record_id)

    def interpret(status: int, body: Any, content: bytes) -> ActionResult:
        if 200 <= status < 300 and wire.error_fields(body) is None:
            return wire.action_results(body, [rid])[0]
        raise error_of(status, body, content)

    path = f"/crm/{ACTIONS_VERSION}/{_segment(module)}/{_segment(rid)}/actions/{verb}_emails"
    return Call("POST", path, interpret, write=True)


def share_many(
    verb: Verb, module: str, record_ids: Sequence[str | int]
) -> Call[list[ActionResult]]:
    """``POST /crm/v8/{module}/actions/{verb}_emails`` with ``{"ids": [...]}``.

    An answer carrying ``data`` entries (HTTP 200, 207 or 400) is returned entry by entry; a
    flat error body (the whole request refused) is raised.
    """
    ids = [str(i) for i in record_ids]

    def interpret(status: int, body: Any, content: bytes) -> list[ActionResult]:
        has_entries = isinstance(body, dict) and isinstance(body.get("data"), list)
        if has_entries and (200 <= status < 300 or status == 400):
            return wire.action_results(body, ids)
        error: ZohoAPIError = error_of(status, body, content)
        raise error

    path = f"/crm/{ACTIONS_VERSION}/{_segment(module)}/actions/{verb}_emails"
    return Call("POST", path, interpret, json={"ids": ids}, write=True)
