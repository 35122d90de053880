"""Zoho's API limits, emulated (docs/limits.md), over real sockets with two workers: credits per
org over a rolling 24 h and requests in flight per org are counted in the store, so the limits
hold whichever worker answers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emailshare.storage.db import Row, connect
from emailshare.testing import ServerProcess, start_server
from tests.builders import (
    SharingOrg,
    auth,
    one_client_per_worker,
    one_per_worker,
    sharing_org,
)
from tests.conftest import Served, acme, db_url_for, open_client

# docs/testing.md: always on a real socket. Credits and requests in flight counted across two real
# workers.
pytestmark = pytest.mark.socket

CREDITS = 10
CONCURRENT = 2
ADMIN_KEY = "ratelimit-admin-key"
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
ACME_ID = 412463000000000001
TOO_MANY = {
    "code": "TOO_MANY_REQUESTS",
    "details": {},
    "message": "too many requests continuously",
    "status": "error",
}

# One org per test, so that tests do not spend each other's credits.
ORGS = {
    name: sharing_org(612463000000000000 + i * 1_000_000, members=2, records=3)
    for i, name in enumerate(("spread", "window", "free", "bulk", "inflight", "lease"))
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    doc = acme()
    for org in ORGS.values():
        doc["orgs"] += org.doc["orgs"]
    server = start_server(
        db_url=db_url_for(tmp_path_factory.mktemp("ratelimit")),
        fixture=doc,
        workers=2,
        args=[
            "--credits-per-day",
            str(CREDITS),
            "--max-concurrent",
            str(CONCURRENT),
            "--admin-key",
            ADMIN_KEY,
        ],
    )
    yield server
    server.stop()


def sql(db_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Row]:
    """Run one statement on the server's store, as another process would."""

    async def run() -> list[Row]:
        db = await connect(db_url, pool_size=1)
        try:
            async with db.transaction(bump=False) as tx:
                if statement.startswith("SELECT"):
                    return await tx.fetchall(statement, params)
                await tx.execute(statement, params)
                return []
        finally:
            await db.close()

    return asyncio.run(run())


def spent(srv: ServerProcess, org: SharingOrg) -> int:
    rows = sql(srv.db_url, "SELECT SUM(credits) FROM api_credits WHERE org_id = ?", (org.org_id,))
    return int(rows[0][0] or 0)


def in_flight(srv: ServerProcess, org: SharingOrg) -> int:
    rows = sql(srv.db_url, "SELECT COUNT(*) FROM api_inflight WHERE org_id = ?", (org.org_id,))
    return int(rows[0][0])


def details(org: SharingOrg) -> str:
    return f"/crm/v8/Leads/{org.record_ids[0]}/__emails_sharing_details"


def wait_until(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_credits_are_counted_across_workers(srv: ServerProcess) -> None:
    org = ORGS["spread"]
    clients = one_client_per_worker(srv.url, ADMIN_KEY)
    try:
        for n in range(1, CREDITS + 1):  # alternate workers: each sees the other's spending
            r = clients[n % 2].get(details(org), headers=auth(org.admin_token))
            assert r.status_code == 200, r.text
            remaining = r.headers.get("X-API-CREDITS-REMAINING")
            # Zoho: the header appears once half of the credits are used.
            assert remaining == (str(CREDITS - n) if 2 * n >= CREDITS else None), n
        for c in clients:
            r = c.get(details(org), headers=auth(org.admin_token))
            assert r.status_code == 429
            assert r.headers["content-type"] == "application/json;charset=UTF-8"
            assert r.json() == TOO_MANY
            assert r.headers["X-API-CREDITS-REMAINING"] == "0"
            assert 0 < int(r.headers["Retry-After"]) <= 24 * 3600
    finally:
        for c in clients:
            c.close()
    assert spent(srv, org) == CREDITS  # refused requests cost nothing


def test_the_window_rolls_over_24_hours(srv: ServerProcess) -> None:
    org = ORGS["window"]
    minute = int(time.time()) // 60
    # 4 credits spent 23 h 50 min ago still count; older spending no longer does.
    for age, credits in ((1430, 4), (1450, 50), (3000, 50)):
        sql(
            srv.db_url,
            "INSERT INTO api_credits (org_id, minute, credits) VALUES (?, ?, ?)",
            (org.org_id, minute - age, credits),
        )
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.get(details(org), headers=auth(org.admin_token))
        assert r.status_code == 200, r.text
        assert r.headers["X-API-CREDITS-REMAINING"] == str(CREDITS - 4 - 1)
        assert spent(srv, org) == 5  # the aged buckets were pruned
        for _ in range(CREDITS - 5):
            assert c.get(details(org), headers=auth(org.admin_token)).status_code == 200
        r = c.get(details(org), headers=auth(org.admin_token))
        assert r.status_code == 429
        # A credit frees when the oldest counted minute leaves the window, ~10 minutes on.
        assert 0 < int(r.headers["Retry-After"]) <= 11 * 60


def test_what_costs_nothing(srv: ServerProcess) -> None:
    org = ORGS["free"]
    sql(
        srv.db_url,
        "INSERT INTO api_credits (org_id, minute, credits) VALUES (?, ?, ?)",
        (org.org_id, int(time.time()) // 60, CREDITS),
    )
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.get(details(org), headers=auth(org.admin_token))
        assert r.status_code == 429, r.text
        # Unauthenticated requests are not charged, nor refused: the handler answers them.
        r = c.get(details(org))
        assert (r.status_code, r.json()["code"]) == (401, "AUTHENTICATION_FAILURE")
        bad = "1000." + "f" * 32 + "." + "f" * 32
        r = c.get(details(org), headers=auth(bad))
        assert (r.status_code, r.json()["code"]) == (401, "INVALID_TOKEN")
        # Zoho Accounts, health and metrics are not CRM API calls.
        assert c.post("/oauth/v2/token").json() == {"error": "unsupported_grant_type"}
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/metrics").status_code == 200
        # The budget is the org's: another org is not affected.
        r = c.get(SEED, headers=auth(WILL))
        assert r.status_code == 200, r.text
    assert spent(srv, org) == CREDITS


def test_share_and_unshare_cost_one_credit_per_call(srv: ServerProcess) -> None:
    org = ORGS["bulk"]
    member = org.member_tokens[0]
    ids = {"ids": [str(i) for i in org.record_ids]}
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.post("/crm/v8/Leads/actions/share_emails", json=ids, headers=auth(member))
        assert r.status_code == 200, r.text
        assert spent(srv, org) == 1
        one = f"/crm/v8/Leads/{org.record_ids[0]}"
        r = c.post(f"{one}/actions/unshare_emails", headers=auth(member))
        assert r.status_code == 200, r.text
        assert spent(srv, org) == 2
        r = c.get("/crm/v8/users?type=CurrentUser", headers=auth(member))
        assert r.status_code == 200, r.text
        assert spent(srv, org) == 3


class Held:
    """A raw HTTP/1.1 connection that can leave a request in flight, its body half sent."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.rest = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, head: str, body: bytes = b"", sent: int | None = None) -> None:
        lines = [head, "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        cut = len(data) if sent is None else len(data) - len(body) + sent
        self.sock.sendall(data[:cut])
        self.rest = data[cut:]

    def finish(self) -> None:
        self.sock.sendall(self.rest)
        self.rest = b""

    def response(self) -> tuple[int, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = int(fields["content-length"])
        while len(body) < length:
            body += self.sock.recv(65536)
        return int(lines[0].split()[1]), body

    def pid(self) -> int:
        self.send(f"GET /__emailshare/stats HTTP/1.1\r\nX-Emailshare-Admin-Key: {ADMIN_KEY}")
        status, body = self.response()
        assert status == 200, body
        pid: int = json.loads(body)["pid"]
        return pid


def held_per_worker(srv: ServerProcess, workers: int = 2) -> list[Held]:
    return one_per_worker(lambda: Held(srv.port), Held.pid, Held.close, workers)


def test_requests_in_flight_are_counted_across_workers(srv: ServerProcess) -> None:
    org = ORGS["inflight"]
    body = json.dumps({"ids": [str(org.record_ids[0])]}).encode()
    held = held_per_worker(srv)
    try:
        for h, token in zip(held, org.member_tokens, strict=True):
            h.send(
                "POST /crm/v8/Leads/actions/share_emails HTTP/1.1\r\n"
                f"Authorization: Zoho-oauthtoken {token}\r\n"
                "Content-Type: application/json",
                body,
                sent=3,  # the handler waits for the rest of the body: the request is in flight
            )
        wait_until(lambda: in_flight(srv, org) == CONCURRENT, "both requests in flight")
        before = spent(srv, org)
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            r = c.get(details(org), headers=auth(org.admin_token))
            assert r.status_code == 429
            assert r.json() == TOO_MANY
            assert r.headers["Retry-After"] == "1"
            assert spent(srv, org) == before  # refused: no credit spent
            held[0].finish()
            status, answer = held[0].response()
            assert status == 200, answer
            wait_until(lambda: in_flight(srv, org) == 1, "the finished request's slot freed")
            r = c.get(details(org), headers=auth(org.admin_token))
            assert r.status_code == 200, r.text
    finally:
        for h in held:
            h.close()
    # A client that goes away frees its slot too.
    wait_until(lambda: in_flight(srv, org) == 0, "every slot freed")


def test_a_lost_slot_stops_counting_when_its_lease_ends(srv: ServerProcess) -> None:
    org = ORGS["lease"]
    now = int(time.time())

    def slots(expires_at: int) -> None:
        for name in ("a", "b"):
            sql(
                srv.db_url,
                "INSERT INTO api_inflight (org_id, slot, expires_at) VALUES (?, ?, ?)",
                (org.org_id, f"{name}{expires_at}", expires_at),
            )

    with httpx.Client(base_url=srv.url, timeout=10) as c:
        slots(now + 300)  # as a worker killed mid-request leaves them, leases still running
        assert c.get(details(org), headers=auth(org.admin_token)).status_code == 429
        sql(srv.db_url, "DELETE FROM api_inflight WHERE org_id = ?", (org.org_id,))
        slots(now - 1)  # leases over: they count no more, and are cleared
        assert c.get(details(org), headers=auth(org.admin_token)).status_code == 200
    # The slot is released after the answer is sent: the client may see the answer first.
    wait_until(lambda: in_flight(srv, org) == 0, "the answered request's slot freed")


def test_limits_are_off_by_default(server: Served) -> None:
    """The shared server (either transport) runs with the defaults."""
    with open_client(server, timeout=10) as c:
        for _ in range(3):
            r = c.get(SEED, headers=auth(WILL))
            assert r.status_code == 200, r.text
            assert "X-API-CREDITS-REMAINING" not in r.headers
    rows = sql(server.db_url, "SELECT COUNT(*) FROM api_credits WHERE org_id = ?", (ACME_ID,))
    assert rows == [(0,)]
