"""Zoho's bodies read into the client's values, tolerant of the shapes Zoho's own documents
disagree on. Zoho's field names live here and in :mod:`.auth` (the token endpoint) only.

Tolerated, because some Zoho source shows it (see ``docs/zoho-openapi-notes.md``):

- ``__emails_sharing_details`` as an array holding one object (the API, the SDKs) or a bare
  object (the documentation page's sample);
- ``share_from_users`` (the API, the SDKs) or ``shared_from_users`` (one OpenAPI file);
- a user's protocol as ``_type`` or ``type``;
- ids as JSON strings or JSON numbers (kept as strings of digits, without loss);
- a single-record share error as a flat error body or wrapped in ``{"data": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from emailshare.client.models import ActionResult, CurrentUser, Org, ShareFromUser, SharingDetails

DETAILS_KEY = "__emails_sharing_details"
USERS_KEYS = ("share_from_users", "shared_from_users")


class ShapeError(ValueError):
    """A body not of the shape expected (the caller adds status and body)."""


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


# What :func:`load` gives for a body that is not JSON: no shape matches it.
NOT_JSON: Any = _NotJson()


def load(content: bytes) -> Any:
    """The JSON value of a body; None when it is empty, :data:`NOT_JSON` when it is not JSON."""
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return NOT_JSON


def id_text(value: Any) -> str:
    """An id as a string of digits: strings pass, integers are written out exactly."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ShapeError(f"an id must be a string or an integer, not {value!r}")


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if value is NOT_JSON:
        raise ShapeError("the body is not JSON")
    if not isinstance(value, Mapping):
        raise ShapeError(f"{what} must be a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{what} must be a JSON array")
    return value


def _first(value: Any, what: str) -> Mapping[str, Any]:
    """An array of (at least) one object, or a bare object: the object."""
    if isinstance(value, list):
        if not value:
            raise ShapeError(f"{what} is an empty array")
        value = value[0]
    return _object(value, what)


def _text(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    value = obj.get(key, default)
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def error_fields(body: Any) -> tuple[str, str, dict[str, Any]] | None:
    """``(code, message, details)`` of a Zoho error body, flat or as the first entry of
    ``data``; None when the body is not one."""
    if isinstance(body, Mapping) and isinstance(body.get("data"), list) and body["data"]:
        entry = body["data"][0]
        if isinstance(entry, Mapping) and entry.get("status") == "error":
            body = entry
    if not isinstance(body, Mapping) or not isinstance(body.get("code"), str):
        return None
    if "status" in body and body["status"] != "error":
        return None
    details = body.get("details")
    return (
        body["code"],
        _text(body, "message"),
        dict(details) if isinstance(details, Mapping) else {},
    )


def sharing_details(body: Any) -> SharingDetails:
    """The answer of ``__emails_sharing_details``, from any of Zoho's shapes."""
    if body is None:  # a 204 or an empty body: nothing is shared
        return SharingDetails(available_types=[], share_from_users=[])
    outer = _object(body, "the body")
    if DETAILS_KEY not in outer:
        raise ShapeError(f"no {DETAILS_KEY} in the body")
    inner = _first(outer[DETAILS_KEY], DETAILS_KEY)
    types = [str(t) for t in _list(inner.get("available_types"), "available_types")]
    raw_users: Any = None
    for key in USERS_KEYS:
        if key in inner:
            raw_users = inner[key]
            break
    users = []
    for item in _list(raw_users, "share_from_users"):
        user = _object(item, "a share_from_users entry")
        protocol = _text(user, "_type") or _text(user, "type")
        users.append(
            ShareFromUser(id=id_text(user.get("id")), name=_text(user, "name"), type=protocol)
        )
    return SharingDetails(available_types=types, share_from_users=users)


def _action(entry: Any, fallback_id: str | None) -> ActionResult:
    obj = _object(entry, "a data entry")
    details = obj.get("details")
    details = dict(details) if isinstance(details, Mapping) else {}
    rid = id_text(details["id"]) if details.get("id") is not None else fallback_id
    return ActionResult(
        id=rid,
        status=_text(obj, "status"),
        code=_text(obj, "code"),
        message=_text(obj, "message"),
        details=details,
    )


def action_results(body: Any, ids: Sequence[str]) -> list[ActionResult]:
    """The entries of a share/unshare answer ``{"data": [...]}``, one per id, in order."""
    entries = _list(_object(body, "the body").get("data"), "data")
    if not entries:
        raise ShapeError("data holds no entry")
    by_position = len(entries) == len(ids)
    return [_action(e, ids[i] if by_position else None) for i, e in enumerate(entries)]


def current_user(body: Any) -> CurrentUser:
    """The first user of ``{"users": [...]}``."""
    user = _first(_object(body, "the body").get("users"), "users")
    return CurrentUser(
        id=id_text(user.get("id")),
        full_name=_text(user, "full_name"),
        email=_text(user, "email"),
        status=_text(user, "status"),
        raw=dict(user),
    )


def org(body: Any) -> Org:
    """The org of ``{"org": [...]}`` (or a bare object)."""
    obj = _first(_object(body, "the body").get("org"), "org")
    zgid = obj.get("zgid")
    return Org(
        id=id_text(obj.get("id")),
        company_name=_text(obj, "company_name"),
        zgid=id_text(zgid) if zgid is not None else "",
        raw=dict(obj),
    )
