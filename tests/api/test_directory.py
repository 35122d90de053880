"""``GET /crm/{v}/users`` paged as Zoho's Users API pages (docs/contract-decisions.md, Users and
org), in-process on a real store (SQLite; PostgreSQL with ``EMAILSHARE_TEST_PG``): ``page`` and
``per_page`` are honoured, the ``ActiveUsers`` filter applies before a page is cut, and
``more_records`` is true only when another page exists, so a client paging on it stops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emailshare.testing import InProcess
from tests.builders import auth, token_for
from tests.conftest import db_url_for

ORG = 712463000000000000
ADMIN = ORG + 1
USERS = 450  # the admin, then 449 others; every third of those inactive
INACTIVE = {ORG + 100 + i for i in range(USERS - 1) if i % 3 == 0}
TOKEN = token_for(ORG, 0)


def _org() -> dict[str, Any]:
    users: list[dict[str, Any]] = [
        {"id": str(ADMIN), "name": "Admin", "email": "admin@x.test", "profile": "administrator"}
    ]
    users += [
        {
            "id": str(uid),
            "name": f"User {i:03d}",
            "email": f"u{i}@x.test",
            "status": "inactive" if uid in INACTIVE else "active",
        }
        for i, uid in enumerate(range(ORG + 100, ORG + 100 + USERS - 1))
    ]
    tokens = [{"access_token": TOKEN, "user": str(ADMIN), "scopes": ["ZohoCRM.users.READ"]}]
    return {"orgs": [{"id": str(ORG), "name": "Paged", "users": users, "tokens": tokens}]}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    db_url = db_url_for(tmp_path_factory.mktemp("directory"))
    with InProcess(fixture=_org(), db_url=db_url) as running:
        yield running


def _get(app: InProcess, **params: str) -> tuple[int, dict[str, Any]]:
    r = app.client.get("/crm/v8/users", params=params, headers=auth(TOKEN))
    body: dict[str, Any] = r.json()
    return r.status_code, body


def _ids(body: dict[str, Any]) -> list[int]:
    return [int(u["id"]) for u in body["users"]]


def _all_pages(app: InProcess, kind: str, per_page: int | None = None) -> list[int]:
    """Page as a client does, on ``more_records``; at most 10 pages (a loop is a failure)."""
    found: list[int] = []
    for page in range(1, 11):
        params = {"type": kind, "page": str(page)}
        if per_page is not None:
            params["per_page"] = str(per_page)
        status, body = _get(app, **params)
        assert status == 200
        assert body["info"]["page"] == page
        assert body["info"]["count"] == len(body["users"])
        found += _ids(body)
        if not body["info"]["more_records"]:
            return found
    raise AssertionError("more_records never turned false")


def test_the_first_page_holds_200_and_says_more(app: InProcess) -> None:
    status, body = _get(app, type="AllUsers")
    assert status == 200
    assert body["info"] == {"per_page": 200, "count": 200, "page": 1, "more_records": True}
    assert _ids(body) == sorted(_ids(body))


def test_paging_on_more_records_visits_every_user_once(app: InProcess) -> None:
    every = _all_pages(app, "AllUsers")
    assert len(every) == USERS
    assert every == sorted(set(every))


def test_active_users_filter_before_the_page_is_cut(app: InProcess) -> None:
    active = _all_pages(app, "ActiveUsers")
    assert len(active) == USERS - len(INACTIVE)
    assert not INACTIVE & set(active)
    status, body = _get(app, type="ActiveUsers")
    assert (status, len(body["users"])) == (200, 200)  # a full first page of active users


def test_per_page_and_the_last_page(app: InProcess) -> None:
    assert _all_pages(app, "AllUsers", per_page=64) == _all_pages(app, "AllUsers")
    status, body = _get(app, type="AllUsers", page="3", per_page="200")
    assert status == 200
    assert body["info"] == {"per_page": 200, "count": 50, "page": 3, "more_records": False}
    status, body = _get(app, type="AllUsers", page="4")
    assert (status, body["users"], body["info"]["more_records"]) == (200, [], False)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "0"),
        ("page", "-1"),
        ("page", "abc"),
        ("page", "1.5"),
        ("page", "99999999999999999999999"),
        ("per_page", "0"),
        ("per_page", "201"),
        ("per_page", "x"),
        ("per_page", ""),
    ],
)
def test_a_bad_page_or_per_page_is_invalid_data(app: InProcess, name: str, value: str) -> None:
    status, body = _get(app, type="AllUsers", **{name: value})
    assert status == 400
    assert body == {
        "code": "INVALID_DATA",
        "details": {"param_name": name},
        "message": "invalid data",
        "status": "error",
    }


def test_current_user_is_one_user_on_one_page(app: InProcess) -> None:
    status, body = _get(app, type="CurrentUser")
    assert status == 200
    assert _ids(body) == [ADMIN]
    assert body["info"] == {"per_page": 200, "count": 1, "page": 1, "more_records": False}
