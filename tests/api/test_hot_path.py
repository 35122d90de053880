"""The hot path: a details answer, cached or computed, goes out before routing (``api.hotpath``,
asking ``api.answers.lookup`` and ``api.answers.compute`` as the handler does). It must be
indistinguishable from the routed answer, observed like any other request, and a failure of its
own must be reported, not hidden."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emailshare.api.logs import JsonFormatter
from emailshare.testing import InProcess
from tests.api.conftest import FailsOnce
from tests.api.test_observability import parse_exposition, value_of
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
        assert kept["hot-2"]["response_body"] == kept["hot-1"]["response_body"] == first.text
        assert kept["hot-2"]["path"] == path
        samples = parse_exposition(c.get("/metrics").text)
        route = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
        counted = value_of(
            samples, "emailshare_requests_total", route=route, method="GET", status=str(status)
        )
        assert counted >= 2


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


@pytest.mark.parametrize(
    ("path", "header", "status"),
    [
        (SEED, auth(WILL), 200),
        (PAT_LEAD, auth(WILL), 403),
        (SEED.replace("Accounts", "Nope"), auth(WILL), 400),  # INVALID_MODULE
        (SEED.replace("3652397000001790004", "12x"), auth(WILL), 400),  # INVALID_DATA
        (SEED, {"Authorization": "Zoho-oauthtoken 1000.ab.cd"}, 401),  # INVALID_TOKEN
    ],
)
def test_a_computed_answer_is_the_handlers_byte_for_byte(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    path: str,
    header: dict[str, str],
    status: int,
) -> None:
    """With the answer cache off every answer is computed: on the hot path for a plain GET, by
    the routed handler for the same GET with a query string (which the endpoint ignores)."""
    server = serve(request, tmp_path, fixture=ACME_FIXTURE, cache_size=0)
    try:
        with open_client(server, timeout=10) as c:
            hot = c.get(path, headers=header)
            routed = c.get(path + "?routed=1", headers=header)
            again = c.get(path, headers=header)
    finally:
        server.stop()
    assert hot.status_code == routed.status_code == again.status_code == status
    assert hot.content == routed.content == again.content
    assert fixed_headers(hot) == fixed_headers(routed)


def test_a_failing_lookup_is_logged_counted_and_answered_by_the_full_path(
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    version_read_fails_once: FailsOnce,
) -> None:
    # In this process, so that the store's version read can be made to fail once, as a driver
    # bug would: the hot path's lookup fails, the full path's (the next read) works.
    monkeypatch.setattr(logging.getLogger("emailshare"), "propagate", True)
    caplog.set_level(logging.INFO, logger="emailshare")
    with InProcess(fixture=ACME_FIXTURE) as app:
        computed = app.client.get(SEED, headers=auth(WILL))
        assert computed.status_code == 200
        version_read_fails_once.arm()
        r = app.client.get(SEED, headers={**auth(WILL), "X-Request-Id": "hot-broken"})
        assert (r.status_code, r.content) == (200, computed.content)
        assert r.headers["x-request-id"] == "hot-broken"
        assert (
            version_read_fails_once.calls == 2
        )  # the hot path's lookup failed; the handler's answered
        samples = parse_exposition(app.client.get("/metrics").text)
    assert value_of(samples, "emailshare_hot_path_errors_total") == 1
    route = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
    assert value_of(samples, "emailshare_requests_total", route=route, status="200") == 2
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    [warning] = [line for line in lines if line["level"] == "warning"]
    assert warning["request_id"] == "hot-broken"
    assert warning["message"] == "hot path lookup failed (RuntimeError); the full path answers"
    assert "RuntimeError: version read failed" in warning["trace"]
    assert WILL not in json.dumps(lines)
    assert not [line for line in lines if line["level"] == "error"]  # no 500, no crash
