"""``service.directory`` against a fake of its port: a page of users costs one store call and
never reads the whole org, whatever the page."""

from __future__ import annotations

import asyncio

import pytest

from emailshare.domain.errors import InvalidData
from emailshare.domain.views import UserInfo
from emailshare.service import directory
from emailshare.service.auth import Caller

ORG = 7


def _user(uid: int, active: bool = True) -> UserInfo:
    return UserInfo(uid, f"User {uid}", f"u{uid}@x.test", "active" if active else "inactive",
                    "standard", None, None)  # fmt: skip


class FakeDirectory:
    """``DirectoryReads`` over a list, recording each call."""

    def __init__(self, users: list[UserInfo]) -> None:
        self.users = users
        self.calls: list[tuple[str, int, int]] = []

    async def user_info(self, org_id: int, user_id: int) -> UserInfo | None:
        self.calls.append(("user_info", user_id, 0))
        return next((u for u in self.users if u.id == user_id), None)

    async def users_page(
        self, org_id: int, *, active_only: bool, offset: int, limit: int
    ) -> list[UserInfo]:
        self.calls.append(("users_page", offset, limit))
        found = [u for u in self.users if not active_only or u.status == "active"]
        return found[offset : offset + limit]

    async def org_name(self, org_id: int) -> str | None:
        return "Org"


CALLER = Caller(ORG, 1, "User 1", "administrator", None, frozenset({"zohocrm.users.read"}),
                None, False)  # fmt: skip


def _list(store: FakeDirectory, kind: str, page: str | None, per_page: str | None
          ) -> directory.UsersPage:  # fmt: skip
    return asyncio.run(directory.list_users(store, CALLER, kind, page, per_page))


def test_a_page_is_one_store_call_of_one_page() -> None:
    store = FakeDirectory([_user(i, active=i % 2 == 0) for i in range(1, 1001)])
    found = _list(store, "ActiveUsers", "3", "100")
    assert [u.id for u in found.users] == list(range(402, 602, 2))
    assert (found.page, found.per_page, found.more) == (3, 100, True)
    assert store.calls == [("users_page", 200, 101)]  # one row more: is there another page


def test_the_last_page_says_no_more() -> None:
    store = FakeDirectory([_user(i) for i in range(1, 251)])
    assert _list(store, "AllUsers", None, None).more
    last = _list(store, "AllUsers", "2", None)
    assert (len(last.users), last.more) == (50, False)


@pytest.mark.parametrize(
    ("page", "per_page", "bad"), [("0", None, "page"), ("1", "201", "per_page")]
)
def test_bad_paging_is_refused_before_the_store_is_asked(
    page: str, per_page: str | None, bad: str
) -> None:
    store = FakeDirectory([_user(1)])
    with pytest.raises(InvalidData) as raised:
        _list(store, "AllUsers", page, per_page)
    assert raised.value.details == {"param_name": bad}
    assert store.calls == []
