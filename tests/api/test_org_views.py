"""The per-org structures of the details answers (``service.orgview``: each org's public sharers
and their bytes) are never stale: a change to the org's users, roles or sharing is seen by the
very next answer. With the answer cache off as well as on: the views are kept either way (and
with it off, nothing but the views could serve a stale answer). SQLite here; PostgreSQL too under
EMAILSHARE_TEST_PG."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import auth
from tests.conftest import ACME_FIXTURE, Served, acme, open_client, serve

KEY = "org-views-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
WILL_ID, BOYLE_ID, CARLA_ID = "412463000001213019", "412463000000867017", "412463000000500002"
SALES_MANAGER = "412463000000100002"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"  # Will's own Account
PAT_LEAD = "/crm/v8/Leads/3652397000001790011"  # Pat's (Sales Rep, as Will), Leads private


@pytest.fixture(params=[0, 20_000], ids=["cache-off", "cache-on"])
def srv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    server = serve(request, tmp_path, fixture=ACME_FIXTURE, admin_key=KEY, cache_size=request.param)
    yield server
    server.stop()


def listed(c: httpx.Client, path: str = SEED, token: str = WILL) -> list[tuple[str, str, str]]:
    r = c.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    users = r.json()["__emails_sharing_details"][0]["share_from_users"]
    return [(u["id"], u["name"], u["_type"]) for u in users]


def load(c: httpx.Client, doc: dict[str, Any]) -> None:
    r = c.post("/__emailshare/load", content=json.dumps(doc), headers=ADMIN)
    assert r.status_code == 200, r.text


def user(doc: dict[str, Any], user_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(u for u in doc["orgs"][0]["users"] if u["id"] == user_id)
    return found


def test_a_public_sharers_change_is_in_the_next_answer(srv: Served) -> None:
    doc = acme()
    with open_client(srv, timeout=10) as c:
        assert listed(c) == [(WILL_ID, "Will Grandon", "pop"), (BOYLE_ID, "boyle", "imap")]
        user(doc, BOYLE_ID)["name"] = 'Boyle "the" Ünïcode'  # renamed: its bytes made anew
        load(c, doc)
        assert listed(c)[1] == (BOYLE_ID, 'Boyle "the" Ünïcode', "imap")
        user(doc, BOYLE_ID)["email_sharing"] = "private"  # no longer a public sharer
        load(c, doc)
        assert listed(c) == [(WILL_ID, "Will Grandon", "pop")]
        user(doc, CARLA_ID)["email_sharing"] = "public"  # a new public sharer
        load(c, doc)
        assert listed(c) == [(WILL_ID, "Will Grandon", "pop"), (CARLA_ID, "Carla Custom", "api")]


def test_a_role_change_is_in_the_next_answer(srv: Served) -> None:
    doc = acme()
    with open_client(srv, timeout=10) as c:
        details = f"{PAT_LEAD}/__emails_sharing_details"
        assert c.get(details, headers=auth(WILL)).json()["code"] == "NO_PERMISSION"
        user(doc, WILL_ID)["role"] = SALES_MANAGER  # now above Pat, the Lead's owner
        load(c, doc)
        assert listed(c, details)[0] == (WILL_ID, "Will Grandon", "pop")


def test_a_custom_sharers_share_is_in_the_next_answer(srv: Served) -> None:
    """Carla (custom sharing) shares her emails on Pat's Lead: Ada, an administrator, sees her
    listed among the org's public sharers at once, and no longer once she unshares."""
    details = f"{PAT_LEAD}/__emails_sharing_details"
    carla = (CARLA_ID, "Carla Custom", "api")
    with open_client(srv, timeout=10) as c:
        before = listed(c, details, ADA)
        assert carla not in before
        assert (BOYLE_ID, "boyle", "imap") in before
        for action in ("share", "unshare", "share"):
            r = c.post(f"{PAT_LEAD}/actions/{action}_emails", headers=auth(CARLA))
            assert r.status_code == 200, r.text
            after = listed(c, details, ADA)
            assert (carla in after) == (action == "share")
            assert [u for u in after if u != carla] == before
