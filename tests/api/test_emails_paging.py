"""Paging of the emails list (docs/contract.md §§12.2 and 12.4): newest first, 10 a page,
``next_index`` / ``prev_index`` keyset tokens that stay right while emails are added and that
are good only for the caller, record, ``type`` and owner they were issued for; and the admin
state, which shows every email and loads back as it was."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emailshare.service.fixtures import parse_fixture, write_fixture
from emailshare.storage import migrate, snapshot
from emailshare.storage.db import Database, connect
from emailshare.storage.repo import Store
from tests import conftest

ORG = "800000000000000001"
BOB, ANN = "800000000000001001", "800000000000001002"
LEAD, LEAD2 = "800000000000002001", "800000000000002002"
TOKENS = {BOB: "1000." + "b" * 32 + "." + "1" * 32, ANN: "1000." + "a" * 32 + "." + "1" * 32}


def email(n: int, when: str) -> dict[str, Any]:
    return {
        "message_id": f"msg{n:03d}",
        "kind": "mailbox",
        "owner": BOB,
        "from": {"user_name": "Bob", "email": "bob@p.test"},
        "to": [{"user_name": None, "email": "lead@p.test"}],
        "subject": f"#{n}",
        "time": when,
    }


def document(emails: list[dict[str, Any]]) -> dict[str, Any]:
    users = [
        {
            "id": uid,
            "name": name,
            "mailbox": {"protocol": "imap", "address": f"{name}@p.test"},
            "email_sharing": "public",
        }
        for uid, name in ((BOB, "bob"), (ANN, "ann"))
    ]
    return {
        "orgs": [
            {
                "id": ORG,
                "name": "Paging",
                "data_sharing": {"Leads": "public"},
                "users": users,
                "records": [
                    {"module": "Leads", "id": LEAD, "owner": BOB, "emails": ["lead@p.test"]},
                    {"module": "Leads", "id": LEAD2, "owner": BOB, "emails": ["lead@p.test"]},
                ],
                "emails": emails,
                "tokens": [
                    {"access_token": t, "user": u, "scopes": ["ZohoCRM.modules.ALL"]}
                    for u, t in TOKENS.items()
                ],
            }
        ]
    }


# 25 emails: one a day, and three at the same instant written with different offsets (the
# instant orders; the message id breaks the tie).
FIRST = [email(n, f"2024-01-{n:02d}T12:00:00+00:00") for n in range(1, 23)] + [
    email(23, "2024-02-01T17:30:00+05:30"),
    email(24, "2024-02-01T12:00:00Z"),
    email(25, "2024-02-01T07:00:00-05:00"),
]


def newest_first(emails: list[dict[str, Any]]) -> list[str]:
    from datetime import datetime

    def key(e: dict[str, Any]) -> tuple[float, str]:
        return (-datetime.fromisoformat(e["time"]).timestamp(), e["message_id"])

    return [e["message_id"] for e in sorted(emails, key=key)]


@dataclass
class Live:
    client: httpx.Client
    db: Database
    runner: asyncio.Runner

    def load(self, doc: dict[str, Any]) -> None:
        self.runner.run(Store(self.db).replace_orgs(parse_fixture(doc), int(time.time())))

    def page(self, who: str = BOB, record: str = LEAD, **params: str) -> httpx.Response:
        return self.client.get(
            f"/crm/v8/Leads/{record}/Emails",
            params=params,
            headers={"Authorization": f"Zoho-oauthtoken {TOKENS[who]}"},
        )


@pytest.fixture(scope="module")
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    server = conftest.serve(request, tmp_path_factory.mktemp("paging"))
    runner = asyncio.Runner()
    try:
        db = runner.run(connect(server.db_url, pool_size=2))
        runner.run(migrate.upgrade(db))
        with conftest.open_client(server, timeout=30.0) as client:
            yield Live(client, db, runner)
        runner.run(db.close())
    finally:
        runner.close()
        server.stop()


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["message_id"] for e in response.json()["Emails"]]


def info(response: httpx.Response) -> dict[str, Any]:
    found: dict[str, Any] = response.json()["info"]
    return found


def test_pages_in_order_with_prev_and_next(live: Live) -> None:
    live.load(document(FIRST))
    order = newest_first(FIRST)
    assert order[:3] == ["msg023", "msg024", "msg025"]  # one instant: by message id
    one = live.page()
    assert ids(one) == order[:10]
    assert info(one) == {
        "per_page": 10,
        "next_index": info(one)["next_index"],
        "count": 10,
        "prev_index": "0",
        "more_records": True,
    }
    t1 = info(one)["next_index"]
    assert isinstance(t1, str)
    assert re.fullmatch("[0-9a-f]+", t1)  # opaque lowercase hex
    two = live.page(index=t1)
    assert ids(two) == order[10:20]
    assert (info(two)["prev_index"], info(two)["more_records"]) == ("0", True)
    three = live.page(index=info(two)["next_index"])
    assert ids(three) == order[20:]
    assert info(three)["count"] == 5
    assert (info(three)["next_index"], info(three)["more_records"]) == (None, False)
    assert info(three)["prev_index"] == t1  # the previous page's token
    assert ids(live.page(index=info(three)["prev_index"])) == order[10:20]
    assert ids(live.page(index="0")) == order[:10]


def test_tokens_stay_right_while_emails_are_added(live: Live) -> None:
    live.load(document(FIRST))
    order = newest_first(FIRST)
    t1 = info(live.page())["next_index"]
    added = [
        email(90, "2024-03-01T00:00:00Z"),
        email(91, "2024-03-02T00:00:00Z"),
        email(92, "2024-01-15T06:00:00Z"),
    ]
    live.load(document(FIRST + added))
    new_order = newest_first(FIRST + added)
    after = new_order[new_order.index(order[9]) + 1 :]
    two = live.page(index=t1)
    assert ids(two) == after[:10]  # what follows the last email seen, the new one included
    assert "msg092" in ids(two)


def test_a_token_is_good_only_for_its_binding(live: Live) -> None:
    live.load(document(FIRST))
    t1 = info(live.page())["next_index"]
    bad = {
        "code": "INVALID_DATA",
        "details": {"param_name": "index"},
        "message": "invalid data",
        "status": "error",
    }
    for response in (
        live.page(who=ANN, index=t1),  # another caller
        live.page(record=LEAD2, index=t1),  # another record
        live.page(index=t1, type="user_emails"),  # another type
        live.page(index=t1, type="user_emails", owner_id=BOB),
        live.page(index=t1[:-2] + ("00" if t1[-2:] != "00" else "11")),  # tampered
    ):
        assert (response.status_code, response.json()) == (400, bad)
    t2 = info(live.page(type="user_emails", owner_id=BOB))["next_index"]
    assert live.page(index=t2, type="user_emails", owner_id=BOB).status_code == 200
    assert live.page(index=t2, type="user_emails", owner_id=ANN).status_code == 400


def test_the_state_shows_emails_and_loads_back(live: Live) -> None:
    from tests.api.emails_fixture import DOC

    live.load(DOC)
    org_id = int(DOC["orgs"][0]["id"])
    org = live.runner.run(snapshot.read_org(live.db, org_id))
    assert org is not None
    written = write_fixture([org])
    assert [e["message_id"] for e in written["orgs"][0]["emails"]] == [
        e["message_id"] for e in DOC["orgs"][0]["emails"]
    ]
    assert parse_fixture(written)[0].mail == parse_fixture(DOC)[0].mail
