"""The Users and Org APIs (docs/contract.md §11): what the SDKs read on a token's first use."""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import InvalidData
from emailshare.domain.numbers import parse_int
from emailshare.domain.views import UserInfo
from emailshare.service.auth import Caller
from emailshare.service.ports import DirectoryReads

MAX_PER_PAGE = 200  # Zoho's default and maximum


@dataclass(frozen=True, slots=True)
class UsersPage:
    """One page of ``GET /crm/{v}/users``: ``more`` when another page exists."""

    users: list[UserInfo]
    page: int
    per_page: int
    more: bool


def _positive(text: str | None, name: str, default: int, maximum: int) -> int:
    if text is None:
        return default
    value = parse_int(text, 1, maximum)
    if value is None:
        raise InvalidData({"param_name": name}, "invalid data")
    return value


async def list_users(
    store: DirectoryReads,
    caller: Caller,
    kind: str,
    page_text: str | None = None,
    per_page_text: str | None = None,
) -> UsersPage:
    """``type`` ``CurrentUser``, ``AllUsers`` (the default) or ``ActiveUsers``, paged as Zoho
    pages (``page`` from 1, ``per_page`` 1 to 200): one indexed query per page."""
    scope_rules.require_users_read(caller.scopes)
    if kind not in ("CurrentUser", "AllUsers", "ActiveUsers"):
        raise InvalidData({"param_name": "type"}, "invalid data")
    page = _positive(page_text, "page", 1, 10**9 - 1)
    per_page = _positive(per_page_text, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)
    if kind == "CurrentUser":
        me = await store.user_info(caller.org_id, caller.user_id) if page == 1 else None
        return UsersPage([me] if me else [], page, per_page, False)
    found = await store.users_page(
        caller.org_id,
        active_only=kind == "ActiveUsers",
        offset=(page - 1) * per_page,
        limit=per_page + 1,  # one more than the page: whether another page exists
    )
    return UsersPage(found[:per_page], page, per_page, len(found) > per_page)


@dataclass(frozen=True, slots=True)
class OrgInfo:
    """The caller's org as the Org API shows it."""

    id: int
    name: str
    primary_email: str | None


async def org_of(store: DirectoryReads, caller: Caller) -> OrgInfo:
    """The caller's org; its primary email is the caller's own."""
    scope_rules.require_org_read(caller.scopes)
    name = await store.org_name(caller.org_id) or ""
    me = await store.user_info(caller.org_id, caller.user_id)
    return OrgInfo(caller.org_id, name, me.email if me else None)
