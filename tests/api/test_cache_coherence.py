"""Per-worker caches never serve a stale answer: every write, by any worker or any process, is
visible to the very next request, whichever worker answers it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import auth, cli_token, oauth_tokens
from tests.conftest import ACME_FIXTURE, acme, db_url_for

# docs/testing.md: always on a real socket. Two workers and writes by other processes: the caches
# of real worker processes.
pytestmark = pytest.mark.socket

ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
CARLA_ID = "412463000000500002"
PAT_LEAD = "/crm/v8/Leads/3652397000001790011"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("cache")
    server = start_server(db_url=db_url_for(tmp), fixture=ACME_FIXTURE, workers=2)
    yield server
    server.stop()


def carla_listed(c: httpx.Client) -> bool:
    r = c.get(f"{PAT_LEAD}/__emails_sharing_details", headers=auth(ADA))
    assert r.status_code == 200, r.text
    return CARLA_ID in [
        u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]
    ]


def test_writes_are_seen_by_every_worker_at_once(srv: ServerProcess) -> None:
    # A new connection per request spreads requests over both workers.
    with httpx.Client(
        base_url=srv.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as c:
        for i in range(12):
            for _ in range(6):  # warm both workers' caches with the current answer
                assert carla_listed(c) == (i % 2 == 1)
            action = "share" if i % 2 == 0 else "unshare"
            assert (
                c.post(f"{PAT_LEAD}/actions/{action}_emails", headers=auth(CARLA)).status_code
                == 200
            )
            for _ in range(6):
                assert carla_listed(c) == (action == "share")


def test_a_load_by_another_process_is_seen_at_once(srv: ServerProcess, tmp_path: Path) -> None:
    with httpx.Client(
        base_url=srv.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as c:
        for _ in range(6):
            carla_listed(c)
        doc = acme()
        for rec in doc["orgs"][0]["records"]:
            if rec["id"] == "3652397000001790011":
                rec["emails_shared_by"] = [CARLA_ID]
        path = tmp_path / "changed.json"
        path.write_text(json.dumps(doc))
        subprocess.run(
            [sys.executable, "-m", "emailshare", "load", "--db", srv.db_url, str(path)],
            check=True,
            capture_output=True,
        )
        for _ in range(6):
            assert carla_listed(c)


def test_revoked_token_is_refused_at_once_by_every_worker(srv: ServerProcess) -> None:
    with httpx.Client(
        base_url=srv.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
    ) as c:
        tokens = oauth_tokens(srv.url, srv.db_url, "412463000000500001")
        for _ in range(6):
            r = c.get(f"{PAT_LEAD}/__emails_sharing_details", headers=auth(tokens["access_token"]))
            assert r.status_code == 200
        c.post("/oauth/v2/token/revoke", data={"token": tokens["refresh_token"]})
        for _ in range(6):
            r = c.get(f"{PAT_LEAD}/__emails_sharing_details", headers=auth(tokens["access_token"]))
            assert (r.status_code, r.json()["code"]) == (401, "INVALID_TOKEN")


def test_a_cached_answer_dies_with_its_token(srv: ServerProcess) -> None:
    token = cli_token(srv.db_url, "412463000000500001", "ZohoCRM.modules.ALL", "--expires-in", "3")
    born = time.time()
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        for _ in range(6):
            r = c.get(f"{PAT_LEAD}/__emails_sharing_details", headers=auth(token))
            assert r.status_code == 200
        assert time.time() - born < 2.5, "too slow to prove anything"
        time.sleep(max(0.0, born + 4.0 - time.time()))
        for _ in range(6):
            r = c.get(f"{PAT_LEAD}/__emails_sharing_details", headers=auth(token))
            assert (r.status_code, r.json()["code"]) == (401, "INVALID_TOKEN")
