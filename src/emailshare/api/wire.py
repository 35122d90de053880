"""Zoho's field names and body shapes, and nothing else. Key order is the contract's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from emailshare.domain.errors import ZohoError
from emailshare.domain.numbers import MAX_INT64
from emailshare.domain.rules import ShareFromUser, SharingDetails
from emailshare.domain.views import UserInfo
from emailshare.service.orgview import NOT_RENDERED, Rendered
from emailshare.service.sharing import Action, Outcome

CONTENT_TYPE = "application/json;charset=UTF-8"


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8, keys in insertion order (as the contract writes them)."""
    return orjson.dumps(value)


def sharer(user: ShareFromUser) -> bytes:
    """One entry of ``share_from_users``: ``{"id":…,"name":…,"_type":…}``."""
    return dumps({"id": str(user.id), "name": user.name, "_type": user.protocol})


def rendered(users: Sequence[ShareFromUser]) -> Rendered:
    """``users`` spelt once, for answers to be assembled from (an org's public sharers,
    ``service.orgview``): each :func:`sharer`, all of them as one list's items, and where the
    first k of them end."""
    each = tuple(sharer(u) for u in users)
    ends = [0]
    for n, item in enumerate(each):
        ends.append(ends[-1] + len(item) + (1 if n else 0))
    return Rendered(each, b",".join(each), tuple(ends))


_DETAILS_OPEN = b'{"__emails_sharing_details":[{"available_types":'
_DETAILS_USERS = b',"share_from_users":['
_DETAILS_CLOSE = b"]}]}"


def sharing_details(
    result: SharingDetails,
    publics: Sequence[ShareFromUser] = (),
    spelt: Rendered = NOT_RENDERED,
) -> bytes:
    """``{"__emails_sharing_details":[{"available_types":[…],"share_from_users":[…]}]}``: the
    bytes ``dumps`` makes of the whole answer's dict, assembled from ``spelt``, the
    :func:`rendered` ``publics``, wherever the answer lists those very objects."""
    types = dumps(list(result.available_types))
    return b"".join(
        (_DETAILS_OPEN, types, _DETAILS_USERS, _users(result, publics, spelt), _DETAILS_CLOSE)
    )


def _users(result: SharingDetails, publics: Sequence[ShareFromUser], spelt: Rendered) -> bytes:
    users = result.share_from_users
    n = len(users)
    if not n:
        return b""
    if len(spelt.each) == len(publics):
        # The usual answers: the first n public sharers, or the caller then the first n - 1.
        # (The lists compare identical objects without calling their __eq__.)
        if n <= len(publics) and list(users) == list(publics[:n]):
            return spelt.joined[: spelt.ends[n]]
        if n - 1 <= len(publics) and list(users[1:]) == list(publics[: n - 1]):
            first = sharer(users[0])
            return first + b"," + spelt.joined[: spelt.ends[n - 1]] if n > 1 else first
    # Any other mix (the record's custom sharers among them): each public sharer's own bytes
    # where it is that very object, in order (at most one skipped: the caller), else spelt now.
    items, each, j, m = [], spelt.each, 0, min(len(spelt.each), len(publics))
    for u in users:
        if j + 1 < m and u is publics[j + 1] and u is not publics[j]:
            j += 1
        if j < m and u is publics[j]:
            items.append(each[j])
            j += 1
        else:
            items.append(sharer(u))
    return b",".join(items)


def error(exc: ZohoError) -> bytes:
    return dumps(
        {"code": exc.code, "details": exc.details, "message": exc.message, "status": "error"}
    )


def _split_name(full: str) -> tuple[str | None, str]:
    first, _, last = full.rpartition(" ")
    return (first or None, last)


def profile_id(org_id: int, administrator: bool) -> str:
    """The profile's id: the org's id followed by 1 (Administrator) or 2 (Standard), an id of
    64 bits like every Zoho id. An org id of 19 digits would make 20 (over 2**63-1, which
    the SDKs read as a long): then its last digit is replaced instead of followed."""
    kind = 1 if administrator else 2
    appended = org_id * 10 + kind
    return str(appended if appended <= MAX_INT64 else org_id // 10 * 10 + kind)


def user(info: UserInfo, org_id: int) -> dict[str, Any]:
    """A user as Zoho's Users API shows one (the fields the official SDKs read, and more)."""
    first, last = _split_name(info.name)
    role = {"name": info.role_name, "id": str(info.role_id)} if info.role_id is not None else None
    profile_name = "Administrator" if info.profile == "administrator" else "Standard"
    return {
        "id": str(info.id),
        "full_name": info.name,
        "first_name": first,
        "last_name": last,
        "email": info.email,
        "status": info.status,
        "role": role,
        "profile": {
            "name": profile_name,
            "id": profile_id(org_id, info.profile == "administrator"),
        },
        "confirm": True,
        "zuid": str(info.id),
    }


def users(items: list[dict[str, Any]], page: int, per_page: int, more: bool) -> bytes:
    return dumps(
        {
            "users": items,
            "info": {"per_page": per_page, "count": len(items), "page": page, "more_records": more},
        }
    )


def org(org_id: int, name: str, primary_email: str | None) -> bytes:
    return dumps(
        {
            "org": [
                {
                    "id": str(org_id),
                    "company_name": name,
                    "zgid": str(org_id),
                    "primary_email": primary_email,
                    "domain_name": f"org{org_id}",
                    "currency": "US Dollar",
                    "iso_code": "USD",
                    "time_zone": "GMT",
                    "type": "production",
                }
            ]
        }
    )


def action_result(outcomes: Sequence[Outcome], action: Action) -> bytes:
    """``{"data": [...]}`` of share/unshare: one entry per id, in the request's order."""
    data: list[dict[str, Any]] = []
    for o in outcomes:
        if o.error is None:
            data.append(
                {
                    "code": "SUCCESS",
                    "details": {"id": o.record_id},
                    "message": action.done_message,
                    "status": "success",
                }
            )
        else:
            data.append(
                {
                    "code": o.error.code,
                    "details": o.error.details,
                    "message": o.error.message,
                    "status": "error",
                }
            )
    return dumps({"data": data})


def oauth(body: dict[str, Any]) -> bytes:
    """A body of Zoho Accounts' token endpoints (``{"error": code}`` for an error)."""
    return dumps(body)
