"""The request journal of the admin API (docs/admin.md, docs/observability.md): each exchange
with its caller, headers and bodies, redacted; filters; one entry by id; clearing; one journal
for every worker; a store that fails a write loses the batch, never the request."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emailshare.api.admin import HEADER
from emailshare.api.journal import SECRET_HEADERS
from emailshare.testing import InProcess
from tests.builders import ACME_CLIENT, ACME_ID, ACME_SECRET, auth, one_client_per_worker
from tests.conftest import ACME_FIXTURE, Served, db_url_for, serve

KEY = "journal-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
WILL_ID = "412463000001213019"
LEAD_BY_CARLA = "3652397000001790010"
DETAILS = f"/crm/v8/Leads/{LEAD_BY_CARLA}/__emails_sharing_details"
TOKEN = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    served = serve(request, tmp_path_factory.mktemp("journal"), fixture=ACME_FIXTURE, admin_key=KEY)
    yield served
    served.stop()


@pytest.fixture
def client(srv: Served) -> httpx.Client:
    srv.client.delete("/__emailshare/requests", headers=ADMIN).raise_for_status()
    return srv.client


def journal(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    r = client.get("/__emailshare/requests", params=params, headers=ADMIN)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["requests"]
    return entries


def test_an_entry_holds_the_whole_exchange(client: httpx.Client) -> None:
    sent = {**auth(WILL), "X-Request-Id": "jr-details", "X-Custom": "kept"}
    live = client.get(DETAILS, params={"a": "1"}, headers=sent)
    assert live.status_code == 200
    [entry] = journal(client)
    assert entry["id"] == "jr-details"
    assert (entry["method"], entry["path"], entry["query"]) == ("GET", DETAILS, "a=1")
    assert entry["url"] == f"{DETAILS}?a=1"
    assert entry["status"] == 200
    assert (entry["user_id"], entry["org_id"]) == (WILL_ID, ACME_ID)
    assert entry["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    headers = dict(entry["request_headers"])
    assert headers["authorization"] == "Zoho-oauthtoken [redacted]"
    assert headers["x-custom"] == "kept"
    assert entry["request_body"] == ""
    assert entry["response_body"] == live.text
    assert entry["response_size"] == len(live.content)
    assert dict(entry["response_headers"])["x-request-id"] == "jr-details"
    assert entry["explain"] == {
        "caller": WILL_ID,
        "org": ACME_ID,
        "module": "Leads",
        "record": LEAD_BY_CARLA,
    }
    one = client.get("/__emailshare/requests/jr-details", headers=ADMIN)
    assert one.status_code == 200
    assert one.json() == entry


def test_an_emails_request_is_explained_with_its_type(client: httpx.Client) -> None:
    path = f"/crm/v8/leads/{LEAD_BY_CARLA}/Emails"
    client.get(path, params={"type": "drafts"}, headers={**auth(WILL), "X-Request-Id": "jr-em"})
    [entry] = journal(client)
    assert entry["explain"] == {
        "caller": WILL_ID,
        "org": ACME_ID,
        "module": "leads",  # as the URL wrote it: explain matches it as the endpoint does
        "record": LEAD_BY_CARLA,
        "type": "drafts",
    }


def test_secrets_are_redacted_everywhere(client: httpx.Client) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "scope": "ZohoCRM.modules.ALL",
        "soid": f"ZohoCRM.{ACME_ID}",
    }
    minted = client.post(
        "/oauth/v2/token", data=form, headers={"X-Request-Id": "jr-mint", "Cookie": "s=1"}
    )
    token = minted.json()["access_token"]
    client.post(f"/oauth/v2/token/revoke?token={token}", headers={"X-Request-Id": "jr-revoke"})
    client.get(DETAILS, headers={"X-Odd": f"x {WILL} y", "X-Request-Id": "jr-odd"})
    entries = {e["id"]: e for e in journal(client)}
    mint = entries["jr-mint"]
    assert "client_secret=[redacted]" in mint["request_body"]
    assert f"client_id={ACME_CLIENT}" in mint["request_body"]
    assert '"access_token":"[redacted]"' in mint["response_body"]
    assert dict(mint["request_headers"])["cookie"] == "[redacted]"
    assert entries["jr-revoke"]["query"] == "token=[redacted]"
    assert dict(entries["jr-odd"]["request_headers"])["x-odd"] == "x [redacted] y"
    text = client.get("/__emailshare/requests", headers=ADMIN).text
    assert not TOKEN.search(text)
    assert ACME_SECRET not in text
    assert HEADER in SECRET_HEADERS


def test_the_admin_key_header_is_redacted_and_the_admin_api_not_kept(
    client: httpx.Client,
) -> None:
    client.get("/crm/v8/org", headers={**auth(WILL), **ADMIN, "X-Request-Id": "jr-key"})
    client.get("/__emailshare/state?summary=1", headers=ADMIN)
    client.get("/healthz")
    [entry] = journal(client)
    assert dict(entry["request_headers"])["x-emailshare-admin-key"] == "[redacted]"
    assert KEY not in str(entry)


def test_bodies_are_capped_at_4_kib(client: httpx.Client) -> None:
    big = "x" * 10_000
    r = client.post(
        "/crm/v8/Leads/actions/share_emails",
        content=big,
        headers={**auth(WILL), "X-Request-Id": "jr-big", "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    spec = client.get("/openapi.json", headers={"X-Request-Id": "jr-spec"})
    entries = {e["id"]: e for e in journal(client)}
    assert entries["jr-big"]["request_body"] == big[:4096]
    assert entries["jr-big"]["request_size"] == 10_000
    assert entries["jr-spec"]["response_body"] == spec.content[:4096].decode()
    assert entries["jr-spec"]["response_size"] == len(spec.content)


def test_the_filters(client: httpx.Client) -> None:
    client.get(DETAILS, headers={**auth(WILL), "X-Request-Id": "f-1"})
    client.get("/crm/v8/users?type=CurrentUser", headers={**auth(WILL), "X-Request-Id": "f-2"})
    client.get(DETAILS, headers={"X-Request-Id": "f-3"})  # no token: 401
    client.post(DETAILS, headers={**auth(WILL), "X-Request-Id": "f-4"})  # 400
    client.get("/crm/v8/nowhere", headers={"X-Request-Id": "f-5"})  # 404

    def ids(**params: str) -> list[str]:
        return [e["id"] for e in journal(client, **params)]

    assert ids() == ["f-1", "f-2", "f-3", "f-4", "f-5"]
    assert ids(path="/crm/v8/Leads/") == ["f-1", "f-3", "f-4"]
    assert ids(path_contains="users") == ["f-2"]
    assert ids(method="post") == ["f-4"]
    assert ids(status="200") == ["f-1", "f-2"]
    assert ids(status="4xx") == ["f-3", "f-4", "f-5"]
    assert ids(caller=WILL_ID) == ["f-1", "f-2", "f-4"]
    assert ids(org=ACME_ID, method="GET") == ["f-1", "f-2"]
    assert ids(since="f-3") == ["f-4", "f-5"]
    assert ids(limit="2") == ["f-4", "f-5"]
    first = journal(client, status="200")[0]["time"]  # f-1, to the millisecond
    assert ids(since=first) == ["f-1", "f-2", "f-3", "f-4", "f-5"]
    assert ids(since="2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "10001"),
        ("status", "4yy"),
        ("status", "99"),
        ("caller", "will"),
        ("method", "G T"),
        ("since", "no such request"),
        ("since", "never-seen-id"),
        ("user", "1"),
    ],
)
def test_a_bad_filter_is_invalid_data_naming_it(
    client: httpx.Client, name: str, value: str
) -> None:
    r = client.get("/__emailshare/requests", params={name: value}, headers=ADMIN)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "INVALID_DATA"
    assert r.json()["details"] == {"param_name": name}


def test_clear_and_get_one(client: httpx.Client) -> None:
    client.get(DETAILS, headers={**auth(WILL), "X-Request-Id": "jr-gone"})
    r = client.delete("/__emailshare/requests", headers=ADMIN)
    assert r.json() == {"status": "success", "deleted": 1}
    assert journal(client) == []
    missing = client.get("/__emailshare/requests/jr-gone", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["code"] == "INVALID_URL_PATTERN"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/__emailshare/requests", {}, 401, "AUTHENTICATION_FAILURE"),
        ("DELETE", "/__emailshare/requests", {"X-Emailshare-Admin-Key": "no"}, 401, None),
        ("GET", "/__emailshare/requests/x", {}, 401, "AUTHENTICATION_FAILURE"),
        ("POST", "/__emailshare/requests", ADMIN, 400, "INVALID_REQUEST_METHOD"),
        ("DELETE", "/__emailshare/requests/x", ADMIN, 400, "INVALID_REQUEST_METHOD"),
    ],
)
def test_the_journal_is_guarded_like_the_admin_api(
    client: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    r = client.request(method, path, headers=headers)
    assert r.status_code == status
    assert r.json()["code"] == (code or "AUTHENTICATION_FAILURE")


def test_the_journal_keeps_the_newest_request_log_size_entries(tmp_path: Path) -> None:
    settings_db = db_url_for(tmp_path)
    from emailshare.config import Settings

    with InProcess(
        fixture=ACME_FIXTURE,
        settings=Settings(db_url=settings_db, admin_key=KEY, request_log_size=3),
    ) as app:
        for n in range(7):
            app.client.get("/crm/v8/org", headers={**auth(WILL), "X-Request-Id": f"k-{n}"})
        assert [e["id"] for e in journal(app.client, limit="100")] == ["k-4", "k-5", "k-6"]


def test_without_the_admin_key_there_is_no_journal(tmp_path: Path) -> None:
    with InProcess(fixture=ACME_FIXTURE, db_url=db_url_for(tmp_path)) as app:
        assert app.app.state.journal is None
        assert app.client.get("/__emailshare/requests").status_code == 404


def test_a_store_that_fails_the_write_loses_the_batch_not_the_request(tmp_path: Path) -> None:
    from emailshare.config import Settings

    with InProcess(
        fixture=ACME_FIXTURE, settings=Settings(db_url=db_url_for(tmp_path), admin_key=KEY)
    ) as app:
        journal_ = app.app.state.journal
        store = journal_.store

        class Down:
            async def add_entries(self, entries: object, keep: int) -> None:
                raise OSError("the store is down")

        journal_.store = Down()
        for n in range(3):
            r = app.client.get(DETAILS, headers={**auth(WILL), "X-Request-Id": f"d-{n}"})
            assert r.status_code == 200
        deadline = time.monotonic() + 5
        while journal_.dropped < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert journal_.dropped == 3
        journal_.store = store
        app.client.get(DETAILS, headers={**auth(WILL), "X-Request-Id": "d-back"})
        r = app.client.get("/__emailshare/requests", headers=ADMIN)
        assert [e["id"] for e in r.json()["requests"]] == ["d-back"]
        assert r.json()["dropped"] == 3


@pytest.mark.socket
def test_one_journal_for_every_worker(tmp_path: Path) -> None:
    from emailshare.testing import start_server

    srv = start_server(
        db_url=db_url_for(tmp_path), fixture=ACME_FIXTURE, workers=2, args=["--admin-key", KEY]
    )
    clients = one_client_per_worker(srv.url, KEY)
    try:
        first, second = clients
        first.get(DETAILS, headers={**auth(WILL), "X-Request-Id": "w-1"})
        second.get(DETAILS, headers={**auth(WILL), "X-Request-Id": "w-2"})
        servers: set[str] = set()
        deadline = time.monotonic() + 5
        while len(servers) < 2 and time.monotonic() < deadline:
            entries = journal(first, path=DETAILS)
            servers = {e["server"] for e in entries if e["id"] in ("w-1", "w-2")}
            time.sleep(0.05)
        assert len(servers) == 2, "each worker's request is in the one journal"
    finally:
        for c in clients:
            c.close()
        srv.stop()


def test_the_journal_never_empties_the_answer_caches(tmp_path: Path) -> None:
    """The journal's writes leave the cached answers be (on SQLite its file is its own)."""
    from emailshare.config import Settings

    db_url = db_url_for(tmp_path)
    with InProcess(fixture=ACME_FIXTURE, settings=Settings(db_url=db_url, admin_key=KEY)) as app:

        def hits() -> int:
            stats = app.client.get("/__emailshare/stats", headers=ADMIN).json()
            return int(stats["cache_hits"])

        app.client.get(DETAILS, headers=auth(WILL))  # computed, then cached
        journal(app.client)  # the journal is written
        before = hits()
        for _ in range(3):
            app.client.get(DETAILS, headers=auth(WILL))
            assert journal(app.client, limit="1")[0]["status"] == 200  # written each time
        assert hits() == before + 3
        if db_url.startswith("sqlite:"):
            assert Path(db_url.removeprefix("sqlite:///") + ".requests").exists()
