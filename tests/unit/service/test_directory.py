"""``service.directory``: the Users and Org APIs (docs/contract.md §11). First against a fake of
its port alone: a page of users costs one store call and never reads the whole org, whatever
the page; then against the shared fake store (tests/unit/fakes.py): each branch and error."""

from __future__ import annotations

import asyncio

import pytest

from emailshare.domain.errors import InvalidData, OAuthScopeMismatch
from emailshare.domain.views import UserInfo
from emailshare.service import directory
from emailshare.service.auth import Caller
from tests.unit.fakes import FakeStore
from tests.unit.service import org as acme

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


# --- on the shared fake store ---------------------------------------------------------------

USERS = ("ZohoCRM.users.READ",)
EVERYONE = [acme.ADMIN, acme.MANAGER, acme.REP, acme.PEER, acme.NOMAIL, acme.GONE]  # in id order


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([acme.org(), acme.other_org()])


@pytest.mark.anyio
async def test_all_users_in_id_order_on_one_page(store: FakeStore) -> None:
    page = await directory.list_users(store, acme.caller(acme.REP, USERS), "AllUsers")
    assert [u.id for u in page.users] == EVERYONE
    assert (page.page, page.per_page, page.more) == (1, directory.MAX_PER_PAGE, False)
    rita = page.users[2]
    assert (rita.name, rita.email, rita.role_name) == ("Rita Rep", "rita@acme.test", "Rep")


@pytest.mark.anyio
async def test_active_users_leave_out_the_others(store: FakeStore) -> None:
    page = await directory.list_users(
        store, acme.caller(acme.REP, ("ZohoCRM.users.ALL",)), "ActiveUsers"
    )
    assert [u.id for u in page.users] == [u for u in EVERYONE if u != acme.GONE]


@pytest.mark.anyio
async def test_pages_say_whether_another_follows(store: FakeStore) -> None:
    pages = [
        await directory.list_users(store, acme.caller(acme.REP, USERS), "AllUsers", str(n), "4")
        for n in (1, 2, 3)
    ]
    assert [[u.id for u in p.users] for p in pages] == [EVERYONE[:4], EVERYONE[4:], []]
    assert [p.more for p in pages] == [True, False, False]


@pytest.mark.anyio
async def test_the_current_user_only_on_page_1(store: FakeStore) -> None:
    page = await directory.list_users(store, acme.caller(acme.REP, USERS), "CurrentUser")
    assert ([u.id for u in page.users], page.more) == ([acme.REP], False)
    page = await directory.list_users(store, acme.caller(acme.REP, USERS), "CurrentUser", "2")
    assert page.users == []


@pytest.mark.anyio
async def test_the_users_api_needs_a_users_scope(store: FakeStore) -> None:
    with pytest.raises(OAuthScopeMismatch):
        await directory.list_users(
            store, acme.caller(acme.REP, ("ZohoCRM.modules.ALL",)), "AllUsers"
        )


@pytest.mark.parametrize(
    ("kind", "page", "per_page", "bad"),
    [
        ("Everybody", None, None, "type"),
        ("AllUsers", "0", None, "page"),
        ("AllUsers", "x", None, "page"),
        ("AllUsers", "1" * 10, None, "page"),
        ("AllUsers", None, "0", "per_page"),
        ("AllUsers", None, "201", "per_page"),
        ("AllUsers", None, "-1", "per_page"),
    ],
)
@pytest.mark.anyio
async def test_bad_parameters_are_invalid_data_naming_them(
    store: FakeStore, kind: str, page: str | None, per_page: str | None, bad: str
) -> None:
    with pytest.raises(InvalidData) as exc:
        await directory.list_users(store, acme.caller(acme.REP, USERS), kind, page, per_page)
    assert (exc.value.message, exc.value.details) == ("invalid data", {"param_name": bad})


@pytest.mark.anyio
async def test_the_org_with_the_callers_email(store: FakeStore) -> None:
    found = await directory.org_of(store, acme.caller(acme.REP, ("ZohoCRM.org.READ",)))
    assert (found.id, found.name, found.primary_email) == (acme.ORG, "Acme", "rita@acme.test")


@pytest.mark.anyio
async def test_the_org_api_needs_an_org_scope(store: FakeStore) -> None:
    with pytest.raises(OAuthScopeMismatch):
        await directory.org_of(store, acme.caller(acme.REP, USERS))
