"""Two emailshare processes on one PostgreSQL: a change made through one is seen by the other
on its very next request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import auth, oauth_tokens
from tests.conftest import ACME_FIXTURE
from tests.pgutil import Cluster, fresh_database

ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
CARLA_ID = "412463000000500002"
PAT_LEAD = "/crm/v8/Leads/3652397000001790011"
KEY = "two-instances-admin-key"


@pytest.fixture(scope="module")
def pair(cluster: Cluster) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    db = fresh_database(cluster.url)
    a = start_server(db_url=db, fixture=ACME_FIXTURE, args=["--admin-key", KEY])
    b = start_server(db_url=db, args=["--admin-key", KEY])
    yield a, b
    a.stop()
    b.stop()


def users_seen(url: str, token: str = ADA) -> list[str]:
    r = httpx.get(f"{url}{PAT_LEAD}/__emails_sharing_details", headers=auth(token))
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]


def test_share_and_unshare_cross_instances(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    assert CARLA_ID not in users_seen(b.url)
    assert (
        httpx.post(f"{a.url}{PAT_LEAD}/actions/share_emails", headers=auth(CARLA)).status_code
        == 200
    )
    assert CARLA_ID in users_seen(b.url)
    assert (
        httpx.post(f"{b.url}{PAT_LEAD}/actions/unshare_emails", headers=auth(CARLA)).status_code
        == 200
    )
    assert CARLA_ID not in users_seen(a.url)


def test_token_revocation_cross_instances(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = pair
    tokens = oauth_tokens(a.url, a.db_url, "412463000000500001")
    access = tokens["access_token"]
    assert users_seen(b.url, access)
    assert httpx.post(
        f"{b.url}/oauth/v2/token/revoke", data={"token": tokens["refresh_token"]}
    ).json() == {"status": "success"}
    r = httpx.get(f"{a.url}{PAT_LEAD}/__emails_sharing_details", headers=auth(access))
    assert (r.status_code, r.json()["code"]) == (401, "INVALID_TOKEN")


def test_fixture_load_through_one_is_seen_by_the_other(
    pair: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    a, b = pair
    doc = ACME_FIXTURE.read_text().replace('"name": "boyle"', '"name": "Boyle Renamed"')
    r = httpx.post(
        f"{a.url}/__emailshare/load", content=doc.encode(), headers={"X-Emailshare-Admin-Key": KEY}
    )
    assert r.status_code == 200, r.text
    r = httpx.get(
        f"{b.url}/crm/v8/Accounts/3652397000001790004/__emails_sharing_details",
        headers=auth("1000.0000000000000000000000000000a001.00000000000000000000000000000001"),
    )
    names = [u["name"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]
    assert names == ["Will Grandon", "Boyle Renamed"]


def test_admin_api_is_guarded(pair: tuple[ServerProcess, ServerProcess]) -> None:
    a, _ = pair
    r = httpx.post(f"{a.url}/__emailshare/load", content=b"{}")
    assert (r.status_code, r.json()["code"]) == (401, "AUTHENTICATION_FAILURE")
    r = httpx.post(
        f"{a.url}/__emailshare/load", content=b"{}", headers={"X-Emailshare-Admin-Key": "wrong"}
    )
    assert (r.status_code, r.json()["code"]) == (401, "AUTHENTICATION_FAILURE")
    r = httpx.post(
        f"{a.url}/__emailshare/load",
        content=b'{"orgs": [{"id": "x"}]}',
        headers={"X-Emailshare-Admin-Key": KEY},
    )
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_DATA")
    assert "$.orgs[0]" in r.json()["details"]["reason"]
