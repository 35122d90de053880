"""Observability (docs/observability.md) over real sockets: request ids, JSON log lines with no
secret in them, the request log of the admin API, Prometheus metrics adding up every worker,
and health probes, the store's outage included."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emailshare.api.logs import JsonFormatter
from emailshare.storage.db import StoreUnavailable
from emailshare.testing import InProcess, ServerProcess, start_server
from tests.builders import ACME_CLIENT, ACME_ID, ACME_SECRET, auth, one_client_per_worker
from tests.conftest import ACME_FIXTURE, db_url_for

# docs/testing.md: always on a real socket. What a real server writes to its log, and metrics
# added up over two workers.
pytestmark = pytest.mark.socket

ADMIN_KEY = "observability-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": ADMIN_KEY}
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
DETAILS_ROUTE = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
TOKEN = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
MADE_ID = re.compile(r"[0-9a-f]{22}")
INTERNAL = {"code": "INTERNAL_ERROR", "details": {}, "message": "Internal Server Error"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        db_url=db_url_for(tmp_path_factory.mktemp("observe")),
        fixture=ACME_FIXTURE,
        workers=2,
        args=["--log-requests", "--admin-key", ADMIN_KEY],
    )
    yield server
    server.stop()


@pytest.fixture
def client(srv: ServerProcess) -> Iterator[httpx.Client]:
    # One keep-alive connection: every request of a test reaches the same worker.
    with httpx.Client(base_url=srv.url, timeout=10, limits=httpx.Limits(max_connections=1)) as c:
        yield c


def log_lines(srv: ServerProcess) -> list[dict[str, Any]]:
    """The server's JSON log lines (granian's own start-up lines may be plain text)."""
    found = []
    for line in srv.log().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def line_of(srv: ServerProcess, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in log_lines(srv):
            if line.get("request_id") == request_id and line.get("message") == "request":
                return line
        time.sleep(0.02)
    raise AssertionError(f"no log line for request {request_id}:\n{srv.log()[-3000:]}")


def test_request_ids_are_echoed_or_made(client: httpx.Client) -> None:
    for given in ("req-1", "0f8e2c1a-5b7d-4e0f-9a3c-2d1e0f9a8b7c", "a.b_c:D-9", "x" * 64):
        r = client.get("/healthz", headers={"X-Request-Id": given})
        assert r.headers["X-Request-Id"] == given
    # Not well formed (or long enough to hide a token): a new id instead of the client's.
    for bad in ("has space", "-leading-dash", "x" * 65, 'quote"d', "é", WILL):
        r = client.get("/healthz", headers=[(b"X-Request-Id", bad.encode())])
        assert MADE_ID.fullmatch(r.headers["X-Request-Id"]), bad
    made = {client.get("/healthz").headers["X-Request-Id"] for _ in range(20)}
    assert len(made) == 20
    assert all(MADE_ID.fullmatch(m) for m in made)
    # Every answer carries one, errors included.
    for path, status in (("/nowhere", 404), (SEED, 401)):
        r = client.get(path)
        assert r.status_code == status
        assert MADE_ID.fullmatch(r.headers["X-Request-Id"])


def test_one_json_line_per_request(srv: ServerProcess, client: httpx.Client) -> None:
    r = client.get(SEED, headers={**auth(WILL), "X-Request-Id": "obs-line-1"})
    assert r.status_code == 200
    line = line_of(srv, "obs-line-1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "info"
    assert (line["method"], line["path"], line["status"]) == ("GET", SEED, 200)
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["org_id"] == ACME_ID
    client.get(SEED, headers={"X-Request-Id": "obs-line-2"})  # no token: org unknown
    line = line_of(srv, "obs-line-2")
    assert (line["status"], line["org_id"]) == (401, None)


def test_secrets_in_query_strings_are_redacted(srv: ServerProcess, client: httpx.Client) -> None:
    query = (
        f"grant_type=authorization_code&client_id={ACME_CLIENT}&client_secret=S3KRIT-VALUE"
        "&redirect_uri=http://localhost/callback&code=C0DE-VALUE"
    )
    r = client.post(f"/oauth/v2/token?{query}", headers={"X-Request-Id": "obs-redact-1"})
    assert r.status_code == 200
    path = line_of(srv, "obs-redact-1")["path"]
    assert path.startswith("/oauth/v2/token?grant_type=authorization_code&client_id=")
    assert "client_secret=[redacted]" in path
    assert "code=[redacted]" in path
    refresh = "1000." + "a" * 32 + "." + "b" * 32  # no such token: nothing is revoked
    client.post(f"/oauth/v2/token/revoke?token={refresh}", headers={"X-Request-Id": "obs-redact-2"})
    assert line_of(srv, "obs-redact-2")["path"] == "/oauth/v2/token/revoke?token=[redacted]"
    log = srv.log()
    assert "S3KRIT" not in log
    assert "C0DE-VALUE" not in log


def test_no_token_ever_reaches_the_log_or_the_request_log(
    srv: ServerProcess, client: httpx.Client
) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "scope": "ZohoCRM.modules.ALL",
        "soid": f"ZohoCRM.{ACME_ID}",
    }
    r = client.post("/oauth/v2/token", data=form, headers={"X-Request-Id": "obs-mint"})
    issued = r.json()["access_token"]
    assert TOKEN.fullmatch(issued), r.text
    assert client.get(SEED, headers=auth(issued)).status_code == 200
    assert client.get(SEED, headers=auth("1000." + "e" * 32 + "." + "e" * 32)).status_code == 401
    assert client.get("/crm/v8/users?type=CurrentUser", headers=auth(WILL)).status_code == 200
    line_of(srv, "obs-mint")
    # The journal kept these requests and their answers (redacted).
    answer = client.get("/__emailshare/requests?limit=50", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    entries = answer.json()["requests"]
    minted = next(e for e in entries if e["id"] == "obs-mint")
    assert set(minted) >= {"id", "time", "method", "path", "status", "duration_ms"}
    assert (minted["method"], minted["path"], minted["status"]) == ("POST", "/oauth/v2/token", 200)
    response = json.loads(minted["response_body"])
    assert response["access_token"] == "[redacted]"
    assert response["api_domain"] == srv.url
    assert any(e["path"] == SEED and '"share_from_users"' in e["response_body"] for e in entries)
    assert not any(e["path"].startswith(("/__emailshare/", "/healthz")) for e in entries)
    for text in (srv.log(), answer.text):
        assert not TOKEN.search(text), "a token was written out"
        assert ACME_SECRET not in text


def test_the_request_log_keeps_4_kib_of_each_answer(client: httpx.Client) -> None:
    r = client.get("/openapi.json", headers={"X-Request-Id": "obs-big"})
    assert r.status_code == 200
    assert len(r.content) > 4096
    entries = client.get("/__emailshare/requests?limit=10", headers=ADMIN).json()["requests"]
    kept = next(e for e in entries if e["id"] == "obs-big")["response_body"]
    assert kept == r.content[:4096].decode("utf-8", "replace")


Sample = tuple[str, dict[str, str], float]


def parse_exposition(text: str) -> list[Sample]:
    """Prometheus' text format, checked as a scraper reads it: every sample's family declared
    with a TYPE, histogram buckets cumulative and ending at +Inf = _count."""
    types: dict[str, str] = {}
    samples: list[Sample] = []
    sample = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)")
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = sample.fullmatch(line)
        assert match, line
        name, labels, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no TYPE"
        samples.append((name, dict(label.findall(labels or "")), float(value)))
    for name, labels, value in samples:
        if name.endswith("_count") and types.get(name[: -len("_count")]) == "histogram":
            buckets = [
                v
                for n, lb, v in samples
                if n == name.replace("_count", "_bucket") and lb["route"] == labels["route"]
            ]
            assert buckets == sorted(buckets)
            assert buckets[-1] == value
    return samples


def value_of(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(v for n, lb, v in samples if n == name and labels.items() <= lb.items())


def test_metrics_add_up_every_worker(srv: ServerProcess) -> None:
    clients = one_client_per_worker(srv.url, ADMIN_KEY)
    try:
        for c in clients:
            for _ in range(4):
                assert c.get(SEED, headers=auth(WILL)).status_code == 200
            # Last, 3 requests that no other test makes: a worker's counts are written all at
            # once, so once these show, so does everything the worker answered before them.
            for _ in range(3):
                assert c.patch("/crm/v8/org", headers=auth(WILL)).status_code == 400
        deadline = time.monotonic() + 10
        while True:  # each worker shares its counts within a second
            r = clients[0].get("/metrics")
            assert r.status_code == 200
            assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
            samples = parse_exposition(r.text)
            patched = value_of(samples, "emailshare_requests_total", method="PATCH", status="400")
            # A worker's counter and histogram are moved one after the other: a scrape may
            # fall between the two, so wait for both (seen once: requests 6, durations 3).
            timed = value_of(
                samples, "emailshare_request_duration_seconds_count", route="/crm/{version}/org"
            )
            if (patched == 6 and timed >= 6) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    finally:
        for c in clients:
            c.close()
    assert patched == 6
    assert value_of(samples, "emailshare_processes") == 2
    org_route = {"route": "/crm/{version}/org"}
    assert value_of(samples, "emailshare_request_duration_seconds_count", **org_route) >= 6
    assert value_of(samples, "emailshare_requests_total", route=DETAILS_ROUTE, status="200") >= 8
    # The answer cache of each worker served the repeated requests.
    assert value_of(samples, "emailshare_cache_hits_total") >= 6
    assert value_of(samples, "emailshare_cache_misses_total") >= 2
    assert value_of(samples, "emailshare_store_errors_total") == 0
    assert value_of(samples, "emailshare_hot_path_errors_total") == 0
    # Unknown paths are counted together, not one series per path.
    assert not any("nowhere" in str(labels) for _, labels, _ in samples)


def test_metrics_answers_get_only(client: httpx.Client) -> None:
    r = client.post("/metrics")
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_REQUEST_METHOD")


@pytest.mark.skipif(
    bool(os.environ.get("EMAILSHARE_TEST_PG")), reason="runs in the SQLite pass; it starts its own"
)
def test_readyz_reports_the_store_down_and_errors_are_logged(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pgutil = pytest.importorskip("tests.pgutil")
    try:
        pgutil.pg_bin()
    except RuntimeError:
        pytest.skip("PostgreSQL server binaries not installed")
    cluster = pgutil.Cluster.create()
    cluster.start()
    server = None
    try:
        db_url = pgutil.fresh_database(cluster.url)
        server = start_server(db_url=db_url, fixture=ACME_FIXTURE)  # request lines off
        with httpx.Client(base_url=server.url, timeout=30) as c:
            assert c.get("/readyz").json() == {"status": "ready"}
            cluster.stop("immediate")
            r = c.get("/readyz", headers={"X-Request-Id": "obs-down"})
            assert (r.status_code, r.json()) == (500, {**INTERNAL, "status": "error"})
            assert r.headers["X-Request-Id"] == "obs-down"
            assert c.get("/healthz").status_code == 200
            samples = parse_exposition(c.get("/metrics").text)
            assert value_of(samples, "emailshare_store_errors_total") >= 1
            cluster.start()
            deadline = time.monotonic() + 15
            while c.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "readyz did not recover"
                time.sleep(0.1)
        # Errors are logged, with the request id, even with request lines off.
        mine = [line for line in log_lines(server) if line.get("request_id") == "obs-down"]
        assert {line["level"] for line in mine} >= {"warning", "error"}, mine
        summary = next(line for line in mine if line["message"] == "request")
        assert (summary["path"], summary["status"]) == ("/readyz", 500)
        # Request lines off: only answers of 500 or more have one (the readyz polls above that
        # met the circuit breaker still open, for up to 200 ms after the store's return).
        written = [line for line in log_lines(server) if line["message"] == "request"]
        assert summary in written
        assert {(line["path"], line["status"]) for line in written} == {("/readyz", 500)}
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()


def test_an_unexpected_error_answers_500_with_the_request_id(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No socket here: the app in this process, so that its store can be made to fail at will.
    monkeypatch.setattr(logging.getLogger("emailshare"), "propagate", True)
    caplog.set_level(logging.INFO, logger="emailshare")

    async def crash(_org_id: int) -> str | None:
        raise RuntimeError("boom")

    async def down(_org_id: int) -> str | None:
        raise StoreUnavailable("connection refused")

    with InProcess(fixture=ACME_FIXTURE) as app:
        monkeypatch.setattr(app.app.state.store, "org_name", crash)
        r = app.client.get("/readyz", headers={"X-Request-Id": "obs-crash"})
        assert (r.status_code, r.json()) == (500, {**INTERNAL, "status": "error"})
        assert r.headers["X-Request-Id"] == "obs-crash"
        monkeypatch.setattr(app.app.state.store, "org_name", down)
        r = app.client.get("/readyz", headers={"X-Request-Id": "obs-gone"})
        assert r.status_code == 500
        assert r.headers["X-Request-Id"] == "obs-gone"
        samples = parse_exposition(app.client.get("/metrics").text)
        assert value_of(samples, "emailshare_store_errors_total") == 1  # the crash is not one
        assert value_of(samples, "emailshare_requests_total", route="/readyz", status="500") == 2
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    crash_lines = [line for line in lines if line.get("request_id") == "obs-crash"]
    # Logged once (by api.errors, through Starlette's error boundary), with the request's id.
    [traced] = [line for line in crash_lines if "trace" in line]
    assert "RuntimeError: boom" in traced["trace"]
    assert any(line["message"] == "request" and line["status"] == 500 for line in crash_lines)
    gone = [line["level"] for line in lines if line.get("request_id") == "obs-gone"]
    assert sorted(gone) == ["error", "warning"]  # the store's outage, then the request line


def test_raise_app_exceptions_shows_the_crash_to_the_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``InProcess(raise_app_exceptions=True)``: the crash is raised in the test, after the app
    answered and counted its 500 as ever; without it the test gets the 500."""

    async def crash(_org_id: int) -> str | None:
        raise RuntimeError("boom")

    with InProcess(fixture=ACME_FIXTURE, raise_app_exceptions=True) as app:
        assert app.client.get("/readyz").status_code == 200
        monkeypatch.setattr(app.app.state.store, "org_name", crash)
        with pytest.raises(RuntimeError, match="boom"):
            app.client.get("/readyz")
        monkeypatch.undo()
        samples = parse_exposition(app.client.get("/metrics").text)
        assert value_of(samples, "emailshare_requests_total", route="/readyz", status="500") == 1
    with InProcess(fixture=ACME_FIXTURE) as app:
        monkeypatch.setattr(app.app.state.store, "org_name", crash)
        assert app.client.get("/readyz").status_code == 500


def test_the_metrics_directory_lives_as_long_as_its_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp = tmp_path_factory.mktemp("metrics-dir")
    given = tmp / "given"
    db_url = db_url_for(tmp)

    def patched(server: ServerProcess) -> float:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            samples = parse_exposition(c.get("/metrics").text)
        return value_of(samples, "emailshare_requests_total", method="PATCH")

    first = start_server(db_url=db_url, fixture=ACME_FIXTURE, args=["--metrics-dir", str(given)])
    try:
        with httpx.Client(base_url=first.url, timeout=10) as c:
            for _ in range(3):
                assert c.patch("/crm/v8/org", headers=auth(WILL)).status_code == 400
        assert patched(first) == 3
    finally:
        first.stop()
    # A folder given is kept, with the counts; the worker marked itself dead on its way out.
    kept = sorted(p.name for p in given.iterdir())
    assert any(name.startswith("counter_") for name in kept), kept
    assert not any(name.startswith("gauge_live") for name in kept), kept
    again = start_server(db_url=db_url, args=["--metrics-dir", str(given)])
    try:  # the previous run's files are not added to this run's counts
        assert patched(again) == 0
        with httpx.Client(base_url=again.url, timeout=10) as c:
            assert value_of(parse_exposition(c.get("/metrics").text), "emailshare_processes") == 1
    finally:
        again.stop()
    # Without one, the server makes a folder of its own and removes it when it stops.
    private = tmp / "tmpdir"
    private.mkdir()
    own = start_server(db_url=db_url, env={"TMPDIR": str(private)})
    try:
        assert [p.name[:19] for p in private.iterdir()] == ["emailshare-metrics-"]
    finally:
        own.stop()
    assert list(private.iterdir()) == []
