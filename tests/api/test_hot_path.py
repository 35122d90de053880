"""The hot path: a cached details answer goes out before routing (``api.routes.cached_details``
called by ``api.observe``). It must be indistinguishable from the computed answer and observed
like any other request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.builders import auth
from tests.conftest import ACME_FIXTURE, Served, open_client, serve

ADMIN_KEY = "hot-path-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": ADMIN_KEY}
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
PAT_LEAD = "/crm/v8/Leads/3652397000001790011/__emails_sharing_details"  # Will may not read it
VARIABLE = {b"x-request-id", b"date"}


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("hot")
    server = serve(request, tmp, fixture=ACME_FIXTURE, admin_key=ADMIN_KEY)
    yield server
    server.stop()


def stats(c: httpx.Client) -> tuple[int, int]:
    doc = c.get("/__emailshare/stats", headers=ADMIN).json()
    return doc["cache_hits"], doc["cache_misses"]


def fixed_headers(r: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in r.headers.raw if k.lower() not in VARIABLE]


@pytest.mark.parametrize(("path", "status"), [(SEED, 200), (PAT_LEAD, 403)])
def test_a_cached_answer_is_the_computed_one_byte_for_byte(
    srv: Served, path: str, status: int
) -> None:
    with open_client(srv, timeout=10) as c:  # one worker: its cache answers
        hits, misses = stats(c)
        first = c.get(path, headers={**auth(WILL), "X-Request-Id": "hot-1"})
        second = c.get(path, headers={**auth(WILL), "X-Request-Id": "hot-2"})
        assert stats(c) == (hits + 1, misses + 1)  # computed once, then served from the cache
        assert first.status_code == second.status_code == status
        assert second.content == first.content
        assert fixed_headers(second) == fixed_headers(first)
        assert second.headers["x-request-id"] == "hot-2"
        # Observed like any request: in the request log with its answer, and in the metrics.
        entries = c.get("/__emailshare/requests?limit=5", headers=ADMIN).json()["requests"]
        kept = {e["id"]: e for e in entries}
        assert kept["hot-2"]["status"] == status
        assert kept["hot-2"]["response"] == kept["hot-1"]["response"] == first.text
        assert kept["hot-2"]["path"] == path
        metrics = c.get("/metrics").text
        route = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
        assert f'route="{route}",method="GET",status="{status}"' in metrics


def test_anything_but_a_plain_get_gets_the_full_paths_answer(srv: Served) -> None:
    with open_client(srv, timeout=10) as c:
        cached = c.get(SEED, headers=auth(WILL))
        assert c.get(SEED, headers=auth(WILL)).content == cached.content
        # The same request with a query string, another method, no token, a bad scheme: each
        # gets the answer the full path gives, never the cached one by mistake.
        assert c.get(SEED + "?x=1", headers=auth(WILL)).content == cached.content
        assert c.post(SEED, headers=auth(WILL)).json()["code"] == "INVALID_REQUEST_METHOD"
        assert c.head(SEED, headers=auth(WILL)).status_code == 400  # INVALID_REQUEST_METHOD
        assert c.get(SEED).json()["code"] == "AUTHENTICATION_FAILURE"
        bad = c.get(SEED, headers={"Authorization": "Bearer " + WILL})
        assert bad.json()["code"] == "AUTHENTICATION_FAILURE"
        other = c.get(SEED.replace("/v8/", "/v3/"), headers=auth(WILL))
        assert other.json()["code"] == "API_NOT_SUPPORTED"
