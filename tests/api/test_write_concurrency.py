"""Parallel share/unshare on the same records leave a state some serial order would leave."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import SharingOrg, auth, sharing_org
from tests.conftest import db_url_for

# docs/testing.md: always on a real socket. Parallel writes through two real workers.
pytestmark = pytest.mark.socket

MEMBERS, RECORDS, THREADS, OPS_PER_THREAD = 4, 6, 8, 60


@pytest.fixture(scope="module")
def org() -> SharingOrg:
    return sharing_org(7_000_000_000_000, MEMBERS, RECORDS)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, org: SharingOrg) -> Iterator[ServerProcess]:
    tmp: Path = tmp_path_factory.mktemp("concurrency")
    server = start_server(db_url=db_url_for(tmp), fixture=org.write(tmp / "org.json"), workers=2)
    yield server
    server.stop()


Op = tuple[int, int, str, str]  # member index, record id, action, outcome code


def worker(url: str, org: SharingOrg, seed: int) -> list[Op]:
    rnd = random.Random(seed)
    done: list[Op] = []
    with httpx.Client(base_url=url, timeout=30) as c:
        for _ in range(OPS_PER_THREAD):
            m = rnd.randrange(MEMBERS)
            action = rnd.choice(["share", "unshare"])
            if rnd.random() < 0.5:
                rid = rnd.choice(org.record_ids)
                r = c.post(
                    f"/crm/v8/Leads/{rid}/actions/{action}_emails",
                    headers=auth(org.member_tokens[m]),
                )
                code = r.json()["data"][0]["code"] if r.status_code == 200 else r.json()["code"]
                done.append((m, rid, action, code))
            else:
                ids = rnd.sample(org.record_ids, rnd.randint(1, RECORDS))
                r = c.post(
                    f"/crm/v8/Leads/actions/{action}_emails",
                    headers=auth(org.member_tokens[m]),
                    json={"ids": [str(i) for i in ids]},
                )
                assert r.status_code in (200, 207, 400), r.text
                for rid, entry in zip(ids, r.json()["data"], strict=True):
                    done.append((m, rid, action, entry["code"]))
    return done


def test_parallel_writes_equal_some_serial_order(srv: ServerProcess, org: SharingOrg) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        results = [
            op for ops in pool.map(lambda s: worker(srv.url, org, s), range(THREADS)) for op in ops
        ]
    assert len(results) >= THREADS * OPS_PER_THREAD
    wins: Counter[tuple[int, int, str]] = Counter()
    for m, rid, action, code in results:
        expected_failure = "ALREADY_SHARED" if action == "share" else "NOT_SHARED"
        assert code in ("SUCCESS", expected_failure), (m, rid, action, code)
        if code == "SUCCESS":
            wins[(m, rid, action)] += 1
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        for rid in org.record_ids:
            r = c.get(
                f"/crm/v8/Leads/{rid}/__emails_sharing_details", headers=auth(org.admin_token)
            )
            ids = [u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]
            assert len(ids) == len(set(ids)), "a user listed twice"
            for m, member in enumerate(org.member_ids):
                shares, unshares = wins[(m, rid, "share")], wins[(m, rid, "unshare")]
                # From "not shared", any serial order alternates successful share and unshare.
                assert shares - unshares in (0, 1), (m, rid, shares, unshares)
                assert (str(member) in ids) == (shares - unshares == 1), (m, rid)
