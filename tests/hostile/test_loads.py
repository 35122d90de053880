"""Fixture loads that cannot hurt the server (issue 16, docs/reliability.md "Loads"): a load
cannot take over an OAuth client it does not hold, and every finding is repeated as written.

The claims: a fixture naming a client made by ``emailshare client add``, or one another org
holds, is refused naming it, and nothing changes: the client keeps its secret and org, and the
tokens other orgs' users got through it keep working.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ACME_FIXTURE, Served, open_client, serve

KEY = "loads-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
ACME_CLIENT = "1000.ACMECLIENT0000000000000000000001"
WILL = "412463000001213019"
SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
ACME_RECORD = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
REDIRECT = "http://shared.test/cb"
ACME_REDIRECT = "http://localhost/callback"


def cli(srv: Served, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "emailshare", *args, "--db", srv.db_url],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


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
    acme = (ACME_CLIENT, "acme-client-secret")
    will = token_through(c, srv, acme, WILL, ACME_REDIRECT)
    r = c.post("/__emailshare/load", json=intruder(ACME_CLIENT), headers=ADMIN)
    assert r.status_code == 400, r.text
    reason = r.json()["details"]["reason"]
    assert reason.startswith("$.orgs[0].clients[0].client_id:"), reason
    assert ACME_CLIENT in reason
    assert "another org" in reason
    assert details(c, will).status_code == 200
    assert token_through(c, srv, acme, WILL, ACME_REDIRECT)
