"""The emails calls answered before routing (``api.emails_fast``): every answer is the routed
handler's byte for byte, headers included; it is observed under the route that would have
answered; a failure of its own is logged, counted and answered by the full path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from emailshare.api.logs import JsonFormatter
from emailshare.testing import InProcess
from tests.api.conftest import FailsOnce
from tests.api.emails_fixture import EMAILS, EMAILS_FIXTURE, ORG, RECORDS, USERS
from tests.api.test_observability import parse_exposition, value_of
from tests.builders import auth

VARIABLE = {b"x-request-id", b"date"}
LIST_ROUTE = "/crm/{version}/{module}/{record_id}/Emails"
ONE_ROUTE = "/crm/{version}/{module}/{record_id}/Emails/{message_id}"
LEAD = RECORDS["Lead One"]


def _tokens() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, user in USERS.items():
        for t in ORG["tokens"]:
            if t["user"] == user["id"] and t["scopes"] == ["ZohoCRM.modules.ALL"]:
                found[name] = t["access_token"]
    return found


TOKENS = _tokens()


def fixed_headers(r: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k.lower(), v) for k, v in r.headers.raw if k.lower() not in VARIABLE]


@pytest.fixture(scope="module")
def app() -> Iterator[InProcess]:
    with InProcess(fixture=EMAILS_FIXTURE) as served:
        yield served


def _paths() -> list[str]:
    paths = []
    for r in RECORDS.values():
        base = f"/crm/v8/{r['module']}/{r['id']}/Emails"
        paths += [base, *(f"{base}/{mid}" for mid in EMAILS)]
    return paths


def test_every_plain_get_is_the_routed_answer_byte_for_byte(app: InProcess) -> None:
    """A query string the calls ignore (``filter``) sends the same request to the router."""
    assert len(TOKENS) >= 4
    statuses = set()
    for name, token in TOKENS.items():
        for path in _paths():
            fast = app.client.get(path, headers=auth(token))
            routed = app.client.get(path + "?filter=routed", headers=auth(token))
            assert (fast.status_code, fast.content) == (routed.status_code, routed.content), (
                name,
                path,
            )
            assert fixed_headers(fast) == fixed_headers(routed), (name, path)
            statuses.add(fast.status_code)
    assert {200, 204, 400, 403} <= statuses


@pytest.mark.parametrize(
    "path",
    [
        f"/crm/v3/Leads/{LEAD['id']}/Emails",  # an old version
        f"/crm/v8/Leads/{LEAD['id']}/Emails/m1-bob",  # not a message id's shape
        "/crm/v8/Leads/actions/Emails",  # the bulk actions' route
        "/crm/v8/Nope/1/Emails",  # no such module
        f"/crm/v8/Leads/{LEAD['id']}/Emails/",
    ],
)
def test_paths_the_router_sends_elsewhere_get_its_answer(app: InProcess, path: str) -> None:
    token = TOKENS["Bob"]
    fast = app.client.get(path, headers=auth(token))
    routed = app.client.get(path + "?filter=routed", headers=auth(token))
    assert (fast.status_code, fast.content) == (routed.status_code, routed.content)
    assert fast.status_code >= 400


def test_answers_are_counted_under_the_route_that_would_have_answered(app: InProcess) -> None:
    def counts() -> tuple[float, float]:
        samples = parse_exposition(app.client.get("/metrics").text)
        return (
            value_of(samples, "emailshare_requests_total", route=LIST_ROUTE, status="200"),
            value_of(samples, "emailshare_requests_total", route=ONE_ROUTE, status="200"),
        )

    before = counts()
    base = f"/crm/v8/Leads/{LEAD['id']}/Emails"
    assert app.client.get(base, headers=auth(TOKENS["Bob"])).status_code == 200
    assert app.client.get(f"{base}/m1bob", headers=auth(TOKENS["Bob"])).status_code == 200
    assert counts() == (before[0] + 1, before[1] + 1)


def test_a_failure_of_its_own_is_logged_counted_and_answered_by_the_full_path(
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    version_read_fails_once: FailsOnce,
) -> None:
    monkeypatch.setattr(logging.getLogger("emailshare"), "propagate", True)
    caplog.set_level(logging.INFO, logger="emailshare")
    path = f"/crm/v8/Leads/{LEAD['id']}/Emails"
    with InProcess(fixture=EMAILS_FIXTURE) as served:
        computed = served.client.get(path, headers=auth(TOKENS["Bob"]))
        assert computed.status_code == 200
        version_read_fails_once.arm()
        r = served.client.get(path, headers={**auth(TOKENS["Bob"]), "X-Request-Id": "fast-broken"})
        assert (r.status_code, r.content) == (200, computed.content)
        assert (
            version_read_fails_once.calls == 2
        )  # the fast path's read failed; the handler's answered
        samples = parse_exposition(served.client.get("/metrics").text)
    assert value_of(samples, "emailshare_hot_path_errors_total") == 1
    assert value_of(samples, "emailshare_requests_total", route=LIST_ROUTE, status="200") == 2
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    [warning] = [line for line in lines if line["level"] == "warning"]
    assert warning["request_id"] == "fast-broken"
    assert warning["message"] == "emails fast path failed (RuntimeError); the full path answers"
    assert "RuntimeError: version read failed" in warning["trace"]
    assert not [line for line in lines if line["level"] == "error"]


def test_a_request_over_a_limit_is_refused_as_before_routing(app: InProcess) -> None:
    path = f"/crm/v8/Leads/{LEAD['id']}/Emails"
    headers = {**auth(TOKENS["Bob"]), "X-Padding": "p" * 20_000}
    fast = app.client.get(path, headers=headers)
    routed = app.client.get(path + "?filter=routed", headers=headers)
    assert fast.status_code == routed.status_code == 400
    assert fast.content == routed.content
    assert b"LIMIT_EXCEEDED" in fast.content
