"""Retries against a scripted fake Zoho: 429 and Retry-After, 5xx, dropped and refused
connections. The schedule is read from the injected sleep; nothing is timed."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from emailshare.client import (
    RetryPolicy,
    UnexpectedResponseError,
    ZohoAPIError,
    ZohoTransportError,
)
from emailshare.testing import free_port
from tests.client.conftest import Make
from tests.client.fake_zoho import FakeZoho, Scripted

DETAILS = "/crm/v8/Leads/1/__emails_sharing_details"
SHARE = "/crm/v8/Leads/1/actions/share_emails"
BULK = "/crm/v8/Leads/actions/share_emails"
TOKEN = "1000.0000000000000000000000000000f001.0000000000000000000000000000f001"

OK_BODY = {
    "__emails_sharing_details": [
        {
            "available_types": ["emails_sent_from_crm", "all_emails"],
            "share_from_users": [],
        }
    ]
}


def zoho_error(code: str, message: str = "", details: dict[str, Any] | None = None) -> Any:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


TOO_MANY = zoho_error("TOO_MANY_REQUESTS", "too many requests")
INTERNAL = zoho_error("INTERNAL_ERROR", "Internal Server Error")
ALREADY = zoho_error(
    "ALREADY_SHARED", "Emails are already shared to the colleagues already", {"id": "1"}
)


def api_for(make: Make, fake: FakeZoho, sleeps: list[float], **kwargs: Any) -> Any:
    options: dict[str, Any] = {"random": lambda: 0.5, **kwargs}
    return make(api_domain=fake.url, access_token=TOKEN, sleeps=sleeps, **options)


def test_429_waits_retry_after_seconds(make: Make, fake: FakeZoho) -> None:
    fake.on("GET", DETAILS, Scripted(429, TOO_MANY, {"Retry-After": "3"}), Scripted(200, OK_BODY))
    sleeps: list[float] = []
    details = api_for(make, fake, sleeps).sharing_details("Leads", "1")
    assert details.available_types == ["emails_sent_from_crm", "all_emails"]
    assert sleeps == [3.0]
    assert len(fake.requests("GET", DETAILS)) == 2


def test_429_waits_until_an_http_date(make: Make, fake: FakeZoho) -> None:
    now = 1_750_000_000.0
    when = email.utils.formatdate(now + 7, usegmt=True)
    fake.on("GET", DETAILS, Scripted(429, TOO_MANY, {"Retry-After": when}), Scripted(200, OK_BODY))
    sleeps: list[float] = []
    api_for(make, fake, sleeps, now=lambda: now).sharing_details("Leads", "1")
    assert sleeps == [7.0]


def test_retry_after_never_shortened_by_backoff_but_jitter_may_lengthen_it(
    make: Make, fake: FakeZoho
) -> None:
    fake.on(
        "GET",
        DETAILS,
        Scripted(503, INTERNAL, {"Retry-After": "0"}),
        Scripted(503, INTERNAL, {"Retry-After": "garbage"}),
        Scripted(200, OK_BODY),
    )
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay=4.0)
    api_for(make, fake, sleeps, retry=policy, random=lambda: 0.25).sharing_details("Leads", "1")
    assert sleeps == [1.0, 2.0]  # max(0, 0.25*4); an unreadable header is ignored: 0.25*8


def test_5xx_backoff_is_exponential_with_full_jitter(make: Make, fake: FakeZoho) -> None:
    fake.on(
        "GET",
        DETAILS,
        Scripted(503, INTERNAL),
        Scripted(502, b"<html>bad gateway</html>"),
        Scripted(500, INTERNAL),
        Scripted(200, OK_BODY),
    )
    sleeps: list[float] = []
    draws = iter([0.1, 0.9, 0.5])
    api_for(make, fake, sleeps, random=lambda: next(draws)).sharing_details("Leads", "1")
    # ceilings 0.5, 1, 2 (base_delay 0.5 doubling), each scaled by its draw
    assert sleeps == pytest.approx([0.05, 0.9, 1.0])


def test_backoff_ceiling_is_capped_by_max_delay(make: Make, fake: FakeZoho) -> None:
    fake.on(
        "GET", DETAILS, Scripted(503, INTERNAL), Scripted(503, INTERNAL), Scripted(200, OK_BODY)
    )
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay=10.0, max_delay=15.0)
    api_for(make, fake, sleeps, retry=policy, random=lambda: 0.5).sharing_details("Leads", "1")
    assert sleeps == [5.0, 7.5]


def test_gives_up_after_max_attempts(make: Make, fake: FakeZoho) -> None:
    fake.on("GET", DETAILS, Scripted(503, INTERNAL, {"Retry-After": "1"}))
    sleeps: list[float] = []
    api = api_for(make, fake, sleeps, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ZohoAPIError) as exc:
        api.sharing_details("Leads", "1")
    assert (exc.value.status, exc.value.code, exc.value.attempts) == (503, "INTERNAL_ERROR", 3)
    assert exc.value.retry_after == 1.0
    assert sleeps == [1.0, 1.0]
    assert len(fake.requests("GET", DETAILS)) == 3


def test_retry_after_beyond_the_cap_is_raised_at_once(make: Make, fake: FakeZoho) -> None:
    fake.on("GET", DETAILS, Scripted(429, TOO_MANY, {"Retry-After": "120"}))
    sleeps: list[float] = []
    api = api_for(make, fake, sleeps, retry=RetryPolicy(max_delay=30.0))
    with pytest.raises(ZohoAPIError) as exc:
        api.sharing_details("Leads", "1")
    assert (exc.value.status, exc.value.code, exc.value.retry_after) == (
        429,
        "TOO_MANY_REQUESTS",
        120.0,
    )
    assert exc.value.attempts == 1
    assert sleeps == []


def test_max_attempts_one_disables_retries(make: Make, fake: FakeZoho) -> None:
    fake.on("GET", DETAILS, Scripted(503, INTERNAL), Scripted(200, OK_BODY))
    sleeps: list[float] = []
    with pytest.raises(ZohoAPIError):
        api_for(make, fake, sleeps, retry=RetryPolicy(max_attempts=1)).sharing_details("Leads", "1")
    assert sleeps == []


def test_a_body_that_is_not_zoho_json_is_an_unexpected_response(make: Make, fake: FakeZoho) -> None:
    fake.on(
        "GET", DETAILS, Scripted(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    )
    sleeps: list[float] = []
    api = api_for(make, fake, sleeps, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(UnexpectedResponseError) as exc:
        api.sharing_details("Leads", "1")
    assert (exc.value.status, exc.value.code) == (502, "UNEXPECTED_RESPONSE")
    assert exc.value.details == {"body": "<html>Bad Gateway</html>"}
    assert isinstance(exc.value, ZohoAPIError)


def test_share_retried_after_5xx_flags_already_shared_as_uncertain(
    make: Make, fake: FakeZoho
) -> None:
    # The first attempt may have been applied before the 500: the retry reports it.
    fake.on("POST", SHARE, Scripted(500, INTERNAL), Scripted(400, ALREADY))
    sleeps: list[float] = []
    with pytest.raises(ZohoAPIError) as exc:
        api_for(make, fake, sleeps).share_emails("Leads", "1")
    assert (exc.value.code, exc.value.attempts, exc.value.uncertain_retry) == (
        "ALREADY_SHARED",
        2,
        True,
    )
    assert sleeps == [0.25]


def test_share_retried_after_429_is_not_uncertain(make: Make, fake: FakeZoho) -> None:
    # A 429 means "not processed": an ALREADY_SHARED after it was so before this call.
    fake.on("POST", SHARE, Scripted(429, TOO_MANY, {"Retry-After": "2"}), Scripted(400, ALREADY))
    with pytest.raises(ZohoAPIError) as exc:
        api_for(make, fake, []).share_emails("Leads", "1")
    assert (exc.value.code, exc.value.attempts, exc.value.uncertain_retry) == (
        "ALREADY_SHARED",
        2,
        False,
    )


def test_bulk_retried_after_5xx_reports_entries_in_effect(make: Make, fake: FakeZoho) -> None:
    already = [{**ALREADY, "details": {"id": rid}} for rid in ("1", "2")]
    fake.on("POST", BULK, Scripted(503, INTERNAL), Scripted(400, {"data": already}))
    results = api_for(make, fake, []).share_emails_bulk("Leads", ["1", 2])
    assert [(r.id, r.code, r.ok, r.in_effect) for r in results] == [
        ("1", "ALREADY_SHARED", False, True),
        ("2", "ALREADY_SHARED", False, True),
    ]
    bodies = [s.body for s in fake.requests("POST", BULK)]
    assert bodies == [b'{"ids":["1","2"]}'] * 2


def test_get_is_retried_after_a_dropped_connection(make: Make, fake: FakeZoho) -> None:
    fake.on("GET", DETAILS, Scripted(drop=True), Scripted(200, OK_BODY))
    sleeps: list[float] = []
    api_for(make, fake, sleeps).sharing_details("Leads", "1")
    assert sleeps == [0.25]


def test_share_is_not_repeated_after_a_dropped_connection(make: Make, fake: FakeZoho) -> None:
    fake.on("POST", SHARE, Scripted(drop=True), Scripted(200, {"data": []}))
    sleeps: list[float] = []
    with pytest.raises(ZohoTransportError) as exc:
        api_for(make, fake, sleeps).share_emails("Leads", "1")
    assert (exc.value.request_sent, exc.value.attempts) == (True, 1)
    assert sleeps == []
    assert len(fake.requests("POST", SHARE)) == 1


@pytest.mark.parametrize("what", ["details", "share"])
def test_refused_connections_are_retried_for_every_call(make: Make, what: str) -> None:
    sleeps: list[float] = []
    api = make(
        api_domain=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        access_token=TOKEN,
        sleeps=sleeps,
        random=lambda: 0.5,
        retry=RetryPolicy(max_attempts=3),
    )
    call = api.sharing_details if what == "details" else api.share_emails
    with pytest.raises(ZohoTransportError) as exc:
        call("Leads", "1")
    assert (exc.value.request_sent, exc.value.attempts) == (False, 3)
    assert sleeps == [0.25, 0.5]
