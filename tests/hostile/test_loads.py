"""Fixture loads that cannot hurt the server (issue 16, docs/reliability.md "Loads"): a load
cannot take over an OAuth client it does not hold, and every finding is repeated as written.

The claims: a fixture naming a client made by ``emailshare client add``, or one another org
holds, is refused naming it, and nothing changes: the client keeps its secret and org, and the
tokens other orgs' users got through it keep working.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.builders import ACME_CLIENT, ACME_REDIRECT, ACME_SECRET, store_command
from tests.conftest import ACME_FIXTURE, Served, open_client, serve

KEY = "loads-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
WILL = "412463000001213019"
SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
WILL_FIXED = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
ACME_RECORD = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
REDIRECT = "http://shared.test/cb"


def cli(srv: Served, name: str, *args: str) -> str:
    return store_command(srv.db_url, name, *args).stdout


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    server = serve(request, tmp_path_factory.mktemp("loads"), fixture=ACME_FIXTURE, admin_key=KEY)
    yield server
    server.stop()


@pytest.fixture
def c(srv: Served) -> Iterator[httpx.Client]:
    with open_client(srv, timeout=30) as client:
        yield client


def intruder(client_id: str) -> dict[str, Any]:
    """A new org whose fixture names ``client_id`` with its own secret and redirect URI."""
    return {
        "orgs": [
            {
                "id": "987650000000000001",
                "name": "Intruder",
                "users": [{"id": "987650000000000101", "name": "Mallory"}],
                "clients": [
                    {
                        "client_id": client_id,
                        "client_secret": "taken-over",
                        "redirect_uri": "http://evil.test/cb",
                    }
                ],
            }
        ]
    }


def token_through(
    c: httpx.Client, srv: Served, client: tuple[str, str], user: str, redirect: str = REDIRECT
) -> str:
    """An access token for ``user`` got through ``client`` by the code flow."""
    code = cli(srv, "grant", "--client", client[0], "--user", user, "--scope", SCOPE).strip()
    r = c.post(
        "/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client[0],
            "client_secret": client[1],
            "redirect_uri": redirect,
            "code": code,
        },
    )
    body = r.json()
    assert "access_token" in body, body
    token: str = body["access_token"]
    return token


def details(c: httpx.Client, token: str) -> httpx.Response:
    return c.get(ACME_RECORD, headers={"Authorization": f"Zoho-oauthtoken {token}"})


def test_a_fixture_naming_a_client_made_by_client_add_is_refused_and_changes_nothing(
    srv: Served, c: httpx.Client
) -> None:
    out = cli(srv, "client", "add", "--name", "shared", "--redirect-uri", REDIRECT)
    fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
    shared = (fields["client_id"], fields["client_secret"])
    will = token_through(c, srv, shared, WILL)
    assert details(c, will).status_code == 200

    r = c.post("/__emailshare/load", json=intruder(shared[0]), headers=ADMIN)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "INVALID_DATA"
    reason = body["details"]["reason"]
    assert reason.startswith("$.orgs[0].clients[0].client_id:"), reason
    assert shared[0] in reason
    assert "client add" in reason

    assert details(c, will).status_code == 200  # Will's token through it still works
    assert token_through(c, srv, shared, WILL)  # its secret and redirect URI are unchanged
    state = c.get("/__emailshare/state", headers=ADMIN)
    assert state.status_code == 200
    assert "987650000000000001" not in state.text


def test_a_fixture_naming_another_orgs_client_is_refused_and_changes_nothing(
    srv: Served, c: httpx.Client
) -> None:
    acme = (ACME_CLIENT, ACME_SECRET)
    will = token_through(c, srv, acme, WILL, ACME_REDIRECT)
    r = c.post("/__emailshare/load", json=intruder(ACME_CLIENT), headers=ADMIN)
    assert r.status_code == 400, r.text
    reason = r.json()["details"]["reason"]
    assert reason.startswith("$.orgs[0].clients[0].client_id:"), reason
    assert ACME_CLIENT in reason
    assert "another org" in reason
    assert details(c, will).status_code == 200
    assert token_through(c, srv, acme, WILL, ACME_REDIRECT)


# --- The findings repeated as written: quadratic loads, a worker blocked by a YAML parse -----

ORG = "700000000000000001"


def _id(n: int) -> str:
    return str(700000000000000000 + n)


def chain(n: int) -> dict[str, Any]:
    """An org whose ``n`` roles form one chain, one user in each."""
    roles = [
        {"id": _id(i), "name": f"Role {i}", "reports_to": _id(i - 1) if i else None}
        for i in range(n)
    ]
    users = [{"id": _id(100_000 + i), "name": f"U{i}", "role": _id(i)} for i in range(n)]
    return {"orgs": [{"id": ORG, "name": "Deep", "roles": roles, "users": users}]}


def shared(n: int) -> dict[str, Any]:
    """An org with one record shared with ``n`` users."""
    users = [{"id": _id(100_000 + i), "name": f"U{i}"} for i in range(n)]
    record = {
        "module": "Leads",
        "id": _id(900_000),
        "owner": users[0]["id"],
        "shared_with": [u["id"] for u in users],
    }
    return {"orgs": [{"id": ORG, "name": "Wide", "users": users, "records": [record]}]}


def load(c: httpx.Client, doc: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    r = c.post("/__emailshare/load", content=json.dumps(doc).encode(), headers=ADMIN)
    return r, time.monotonic() - started


def test_a_4000_role_chain_is_refused_at_once_naming_the_limit(
    srv: Served, c: httpx.Client
) -> None:
    """The finding: a 200 KB fixture, a chain of 4 000 roles, took 258 s and 1 GB of store."""
    doc = chain(4_000)
    assert len(json.dumps(doc)) > 200_000
    before = details(c, WILL_FIXED).content
    r, seconds = load(c, doc)
    assert r.status_code == 400, r.text
    reason = r.json()["details"]["reason"]
    assert reason == "$.orgs[0].roles[1000]: more than 1,000 levels of roles (docs/limits.md)"
    assert seconds < 10  # refused after one walk of the roles (milliseconds when idle)
    assert details(c, WILL_FIXED).content == before


def test_a_chain_at_the_depth_limit_loads_and_the_store_grows_linearly(
    srv: Served, c: httpx.Client
) -> None:
    """1 000 levels: a thousand role rows, not the closure's half million."""
    r, seconds = load(c, chain(1_000))
    assert r.status_code == 200, r.text
    assert seconds < 30  # about 0.1 s when idle (docs/reliability.md, "Loads")
    state = c.get("/__emailshare/state", params={"org": ORG}, headers=ADMIN)
    assert state.status_code == 200
    assert len(state.json()["orgs"][0]["roles"]) == 1_000


def test_a_record_shared_with_40000_ids_is_refused_at_once(srv: Served, c: httpx.Client) -> None:
    """The finding: a record with 40 000 ``shared_with`` ids took 15 s to validate."""
    r, seconds = load(c, shared(40_000))
    assert r.status_code == 400, r.text
    reason = r.json()["details"]["reason"]
    assert reason == ("$.orgs[0].records[0].shared_with: more than 10,000 ids (docs/limits.md)")
    assert seconds < 10


def test_a_record_shared_with_10000_ids_loads(srv: Served, c: httpx.Client) -> None:
    r, seconds = load(c, shared(10_000))
    assert r.status_code == 200, r.text
    assert seconds < 30  # under a second when idle


def test_a_worker_keeps_answering_while_a_large_yaml_document_loads(
    srv: Served, c: httpx.Client
) -> None:
    """The finding: a 3.6 MB YAML fixture blocked its worker for 22 s. Now the parse runs on
    a thread: health and details requests sent while the load runs are answered before it
    ends (ordering, not timings: the machine may be busy)."""
    users = [
        {"id": _id(100_000 + i), "name": f"User {i}", "mailbox": {"protocol": "imap"}}
        for i in range(8_000)
    ]
    text = yaml.safe_dump({"orgs": [{"id": ORG, "name": "Yaml", "users": users}]})
    assert len(text) > 500_000
    done = threading.Event()
    outcome: list[httpx.Response] = []

    def run_load() -> None:
        with open_client(srv, timeout=300) as own:
            outcome.append(own.post("/__emailshare/load", content=text.encode(), headers=ADMIN))
        done.set()

    loader = threading.Thread(target=run_load)
    loader.start()
    answered_during = 0
    try:
        time.sleep(0.2)  # the load is under way (its body is sent in a few ms)
        while not done.is_set():
            assert c.get("/healthz").status_code == 200
            assert details(c, WILL_FIXED).status_code == 200
            if not done.is_set():
                answered_during += 1
    finally:
        loader.join(timeout=300)
    assert outcome, "the load never answered"
    assert outcome[0].status_code == 200, outcome[0].text
    assert answered_during >= 3, answered_during
