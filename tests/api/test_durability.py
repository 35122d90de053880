"""SIGKILL the server amid acknowledged writes: after a restart every acknowledged write is
there, and no bulk request is half applied."""

from __future__ import annotations

import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import SharingOrg, auth, sharing_org
from tests.conftest import db_url_for

MEMBERS, RECORDS, BATCH = 4, 40, 20


@dataclass
class Writer:
    """One member's stream of bulk writes; only it touches that member's shares."""

    member: int
    shared: set[int] = field(default_factory=set)  # the state after every acknowledged write
    in_flight: tuple[str, list[int]] | None = None
    acked: int = 0


def run_writer(url: str, org: SharingOrg, w: Writer, stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    with httpx.Client(base_url=url, timeout=10) as c:
        while not stop.is_set():
            action = rnd.choice(["share", "unshare"])
            ids = rnd.sample(org.record_ids, BATCH)
            w.in_flight = (action, ids)
            try:
                r = c.post(
                    f"/crm/v8/Leads/actions/{action}_emails",
                    headers=auth(org.member_tokens[w.member]),
                    json={"ids": [str(i) for i in ids]},
                )
            except httpx.HTTPError:
                return  # killed mid-request: this one stays in flight
            for rid, entry in zip(ids, r.json()["data"], strict=True):
                if entry["code"] == "SUCCESS":
                    (w.shared.add if action == "share" else w.shared.discard)(rid)
                else:
                    assert entry["code"] in ("ALREADY_SHARED", "NOT_SHARED")
                    assert (rid in w.shared) == (action == "share")
            w.in_flight = None
            w.acked += 1


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


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, seed: int) -> None:
    org = sharing_org(8_000_000_000_000 + seed * 1_000_000, MEMBERS, RECORDS)
    srv = start(tmp_path, org, fixture=True)
    stop = threading.Event()
    writers = [Writer(m) for m in range(MEMBERS)]
    threads = [
        threading.Thread(target=run_writer, args=(srv.url, org, w, stop, seed * 10 + i))
        for i, w in enumerate(writers)
    ]
    for t in threads:
        t.start()
    time.sleep(random.Random(seed).uniform(0.8, 1.6))
    srv.stop(sig=signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join(20)
    assert sum(w.acked for w in writers) > 5, "the writers got too little done to prove much"
    again = start(tmp_path, org, fixture=False, db_url=srv.db_url)
    try:
        found = shared_by_member(again.url, org)
    finally:
        again.stop()
    for w in writers:
        if w.in_flight is None:
            assert found[w.member] == w.shared
            continue
        action, ids = w.in_flight
        applied = set(w.shared) | set(ids) if action == "share" else set(w.shared) - set(ids)
        # The unacknowledged request was applied wholly or not at all.
        assert found[w.member] in (w.shared, applied), (w.member, action)


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
    srv.stop(sig=signal.SIGKILL)
    again = start(tmp_path, org, fixture=False, db_url=srv.db_url)
    try:
        assert shared_by_member(again.url, org)[0] == set(org.record_ids)
    finally:
        again.stop()
