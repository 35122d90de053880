"""SIGKILL the server amid acknowledged writes: after a restart every acknowledged write is
there, and no request is half applied; twice in a row, so that a store recovered from a crash
is shown to take writes and survive the next crash too.

Writers mix bulk requests (20 ids) and single-record requests. Every answer is checked as it
arrives (only SUCCESS, ALREADY_SHARED or NOT_SHARED, consistent with what the writer knows);
a writer that meets anything else fails the test rather than dying silently in its thread.
After the last restart the write path must agree with the read path: unsharing everything
succeeds for exactly the records the details endpoint shows as shared.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import SharingOrg, auth, sharing_org
from tests.conftest import db_url_for

# docs/testing.md: always on a real socket. SIGKILL of a real server process amid writes, then a
# restart.
pytestmark = pytest.mark.socket

MEMBERS, RECORDS, BATCH = 4, 40, 20
SINGLE = 0.25  # share of single-record requests
CYCLES = 2  # write, SIGKILL, restart, check: this many times on the same store


@dataclass
class Writer:
    """One member's stream of writes; only it touches that member's shares."""

    member: int
    shared: set[int] = field(default_factory=set)  # the state after every acknowledged write
    in_flight: tuple[str, list[int]] | None = None
    acked: int = 0
    failure: str | None = None


def entries(r: httpx.Response, single: bool) -> list[dict[str, Any]]:
    """The per-id results of an answer, whether bulk (``data``) or single (flat error)."""
    body = r.json()
    if single and r.status_code == 400:
        assert set(body) == {"code", "details", "message", "status"}, body
        return [body]
    assert r.status_code in (200, 207, 400), (r.status_code, body)
    data: list[dict[str, Any]] = body["data"]
    return data


def write(url: str, org: SharingOrg, w: Writer, stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    with httpx.Client(base_url=url, timeout=10) as c:
        while not stop.is_set():
            action = rnd.choice(["share", "unshare"])
            single = rnd.random() < SINGLE
            ids = [rnd.choice(org.record_ids)] if single else rnd.sample(org.record_ids, BATCH)
            w.in_flight = (action, ids)
            try:
                if single:
                    r = c.post(
                        f"/crm/v8/Leads/{ids[0]}/actions/{action}_emails",
                        headers=auth(org.member_tokens[w.member]),
                    )
                else:
                    r = c.post(
                        f"/crm/v8/Leads/actions/{action}_emails",
                        headers=auth(org.member_tokens[w.member]),
                        json={"ids": [str(i) for i in ids]},
                    )
            except httpx.HTTPError:
                return  # killed mid-request: this one stays in flight
            for rid, entry in zip(ids, entries(r, single), strict=True):
                if entry["code"] == "SUCCESS":
                    assert entry["details"] == {"id": str(rid)}
                    (w.shared.add if action == "share" else w.shared.discard)(rid)
                else:
                    assert entry["code"] in ("ALREADY_SHARED", "NOT_SHARED"), entry
                    assert entry["details"] == {"id": str(rid)}
                    assert (rid in w.shared) == (action == "share"), (rid, entry)
            w.in_flight = None
            w.acked += 1


def run_writer(url: str, org: SharingOrg, w: Writer, stop: threading.Event, seed: int) -> None:
    try:
        write(url, org, w, stop, seed)
    except BaseException as exc:  # a thread's exception would otherwise be lost
        w.failure = f"{type(exc).__name__}: {exc}"


def shared_by_member(url: str, org: SharingOrg) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {m: set() for m in range(MEMBERS)}
    with httpx.Client(base_url=url, timeout=10) as c:
        for rid in org.record_ids:
            r = c.get(
                f"/crm/v8/Leads/{rid}/__emails_sharing_details", headers=auth(org.admin_token)
            )
            assert r.status_code == 200, r.text
            ids = {u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]}
            for m, member in enumerate(org.member_ids):
                if str(member) in ids:
                    found[m].add(rid)
    return found


def start(tmp: Path, org: SharingOrg, fixture: bool, db_url: str | None = None) -> ServerProcess:
    return start_server(
        db_url=db_url or db_url_for(tmp),
        fixture=org.write(tmp / "org.json") if fixture else None,
        workers=2,
    )


def write_then_kill(srv: ServerProcess, org: SharingOrg, writers: list[Writer], seed: int) -> None:
    stop = threading.Event()
    acked_before = sum(w.acked for w in writers)
    threads = [
        threading.Thread(target=run_writer, args=(srv.url, org, w, stop, seed * 10 + i))
        for i, w in enumerate(writers)
    ]
    for t in threads:
        t.start()
    # Kill at a random moment once the writers are under way (a fresh server's first writes can
    # be slow to come: its workers are still opening their store connections).
    deadline = time.monotonic() + 20
    while sum(w.acked for w in writers) - acked_before <= 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(0.3, 1.1))
    srv.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads), "a writer hangs"
    assert [w.failure for w in writers] == [None] * len(writers)
    acked = sum(w.acked for w in writers) - acked_before
    assert acked > 5, "the writers got too little done to prove much"


def check_and_settle(found: dict[int, set[int]], writers: list[Writer]) -> None:
    """Every acknowledged write is there; the one in flight is wholly applied or not at all.
    Then the writers carry on from what the store holds."""
    for w in writers:
        if w.in_flight is not None:
            action, ids = w.in_flight
            applied = w.shared | set(ids) if action == "share" else w.shared - set(ids)
            assert found[w.member] in (w.shared, applied), (w.member, action)
        else:
            assert found[w.member] == w.shared, w.member
        w.shared, w.in_flight = set(found[w.member]), None


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, seed: int) -> None:
    org = sharing_org(8_000_000_000_000 + seed * 1_000_000, MEMBERS, RECORDS)
    writers = [Writer(m) for m in range(MEMBERS)]
    srv = start(tmp_path, org, fixture=True)
    for cycle in range(CYCLES):
        write_then_kill(srv, org, writers, seed * 100 + cycle)
        srv = start(tmp_path, org, fixture=False, db_url=srv.db_url)
        try:
            check_and_settle(shared_by_member(srv.url, org), writers)
        except BaseException:
            srv.stop()
            raise
    try:
        # The write path agrees with the read path: no share seen by one and not the other.
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            for w in writers:
                r = c.post(
                    "/crm/v8/Leads/actions/unshare_emails",
                    headers=auth(org.member_tokens[w.member]),
                    json={"ids": [str(i) for i in org.record_ids]},
                )
                done = {
                    rid
                    for rid, e in zip(org.record_ids, r.json()["data"], strict=True)
                    if e["code"] == "SUCCESS"
                }
                assert done == w.shared, w.member
        assert shared_by_member(srv.url, org) == {m: set() for m in range(MEMBERS)}
    finally:
        srv.stop()


def test_write_acknowledged_then_killed_at_once(tmp_path: Path) -> None:
    org = sharing_org(8_900_000_000_000, 1, 3)
    srv = start(tmp_path, org, fixture=True)
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.post(
            "/crm/v8/Leads/actions/share_emails",
            headers=auth(org.member_tokens[0]),
            json={"ids": [str(i) for i in org.record_ids]},
        )
        assert r.status_code == 200
        one = c.post(
            f"/crm/v8/Leads/{org.record_ids[0]}/actions/unshare_emails",
            headers=auth(org.member_tokens[0]),
        )
        assert one.status_code == 200
    srv.stop(sig=signal.SIGKILL)
    again = start(tmp_path, org, fixture=False, db_url=srv.db_url)
    try:
        assert shared_by_member(again.url, org)[0] == set(org.record_ids[1:])
    finally:
        again.stop()
