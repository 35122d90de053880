"""Writes empty only what they change (``service.cache``, ``storage.changes``): a share of one
record leaves every other record's cached answer in place, yet that record's next answer is
fresh in every worker; an org's reload, by another process, empties that org's answers only.
Each worker is asked through a keep-alive connection of its own, and its cache figures
(``/__emailshare/stats``) tell a hit from a miss."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import auth, one_client_per_worker
from tests.conftest import ACME_FIXTURE, acme, db_url_for

pytestmark = pytest.mark.socket

ADMIN_KEY = "scoped-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": ADMIN_KEY}
ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
GINA = "1000.0000000000000000000000000000b001.00000000000000000000000000000b01"
CARLA_ID = "412463000000500002"
RECORD_A = "/crm/v8/Leads/3652397000001790011"  # Pat's lead: Carla shares its emails
RECORD_B = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
GLOBEX = "/crm/v8/Leads/5124630000001790001/__emails_sharing_details"
DETAILS = "/__emails_sharing_details"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("scoped")
    server = start_server(
        db_url=db_url_for(tmp),
        fixture=ACME_FIXTURE,
        workers=2,
        args=["--admin-key", ADMIN_KEY],
    )
    yield server
    server.stop()


class Worker:
    """A keep-alive client of one worker. The server closes a connection idle for 30 s
    (granian's header-read timeout), and a new one may reach either worker, so :meth:`stats`
    checks whose figures it read and connects again until it reaches this worker; the requests
    that follow it go over that connection at once."""

    def __init__(self, srv: ServerProcess, pid: int, client: httpx.Client) -> None:
        self._srv, self.pid, self.client = srv, pid, client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.client.post(path, **kw)

    def stats(self) -> dict[str, Any]:
        for _ in range(60):
            doc: dict[str, Any] = self.client.get("/__emailshare/stats", headers=ADMIN).json()
            if doc["pid"] == self.pid:
                return doc
            self.client.close()
            self.client = _client(self._srv)
        raise AssertionError(f"worker {self.pid} did not answer in 60 new connections")


def _client(srv: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=srv.url, timeout=10, trust_env=False)


@pytest.fixture
def workers(srv: ServerProcess) -> Iterator[list[Worker]]:
    """One keep-alive client per worker."""
    clients = one_client_per_worker(srv.url, ADMIN_KEY)
    pinned = [
        Worker(srv, c.get("/__emailshare/stats", headers=ADMIN).json()["pid"], c) for c in clients
    ]
    yield pinned
    for w in pinned:
        w.client.close()


def stats(w: Worker) -> tuple[int, int]:
    doc = w.stats()
    return doc["cache_hits"], doc["cache_misses"]


def sharers(c: Worker, path: str, token: str) -> list[str]:
    r = c.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]


def test_a_share_of_one_record_leaves_the_others_cached_and_is_seen_everywhere(
    workers: list[Worker],
) -> None:
    for i, action in enumerate(["share", "unshare", "share", "unshare"]):
        for c in workers:  # both answers cached in both workers
            sharers(c, RECORD_A + DETAILS, ADA)
            sharers(c, RECORD_B, ADA)
        r = workers[i % 2].post(f"{RECORD_A}/actions/{action}_emails", headers=auth(CARLA))
        assert r.status_code == 200, r.text
        for c in workers:
            hits, misses = stats(c)
            sharers(c, RECORD_B, ADA)
            assert stats(c) == (hits + 1, misses), "record B's answer should have stayed cached"
            listed = CARLA_ID in sharers(c, RECORD_A + DETAILS, ADA)
            assert listed == (action == "share"), "record A's answer should be fresh"
            assert stats(c) == (hits + 1, misses + 1)


def test_an_org_reload_by_another_process_empties_only_that_org(
    srv: ServerProcess, workers: list[Worker], tmp_path: Path
) -> None:
    doc = acme()
    acme_only = {**doc, "orgs": [o for o in doc["orgs"] if o["name"] == "Acme"]}
    for rec in acme_only["orgs"][0]["records"]:
        if rec["id"] == "3652397000001790004":
            rec["emails_shared_by"] = [CARLA_ID]
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(acme_only))
    for c in workers:
        sharers(c, GLOBEX, GINA)
        assert CARLA_ID not in sharers(c, RECORD_B, ADA)
    subprocess.run(
        [sys.executable, "-m", "emailshare", "load", "--db", srv.db_url, str(path)],
        check=True,
        capture_output=True,
    )
    for c in workers:
        hits, misses = stats(c)
        sharers(c, GLOBEX, GINA)
        assert stats(c) == (hits + 1, misses), "another org's answer should have stayed cached"
        assert CARLA_ID in sharers(c, RECORD_B, ADA)  # Carla is custom: shared, listed
        assert stats(c) == (hits + 1, misses + 1)
