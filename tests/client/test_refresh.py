"""Token refresh against a fake Zoho Accounts: one refresh at a time (threads and tasks), the
token request itself, its retries and its errors."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from emailshare.client import (
    AsyncClient,
    Client,
    OAuthCredentials,
    OAuthError,
    RetryPolicy,
    ZohoAPIError,
)
from tests.client.conftest import Make
from tests.client.fake_zoho import FakeZoho, Scripted, Seen

DETAILS = "/crm/v8/Leads/1/__emails_sharing_details"
TOKEN_PATH = "/oauth/v2/token"
OK_BODY = {
    "__emails_sharing_details": [{"available_types": ["all_emails"], "share_from_users": []}]
}
INVALID_TOKEN = {
    "code": "INVALID_TOKEN",
    "details": {},
    "message": "invalid oauth token",
    "status": "error",
}
OLD = "1000.00000000000000000000000000000old.00000000000000000000000000000old"


def creds(fake: FakeZoho) -> OAuthCredentials:
    return OAuthCredentials("1000.CLIENT", "s3cret", "1000.refresh", accounts_url=fake.url)


NEW = "1000.new"


def token_answer(fake: FakeZoho, **extra: Any) -> dict[str, Any]:
    return {
        "access_token": NEW,
        "scope": "ZohoCRM.modules.ALL",
        "api_domain": fake.url,
        "token_type": "Bearer",
        "expires_in": 3600,
        **extra,
    }


def only_new_token_works(seen: Seen) -> Scripted:
    return Scripted(200, OK_BODY) if seen.token == NEW else Scripted(401, INVALID_TOKEN)


def test_token_request_is_zohos_refresh_grant(make: Make, fake: FakeZoho) -> None:
    fake.on("POST", TOKEN_PATH, Scripted(200, token_answer(fake)))
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    make(oauth=creds(fake)).sharing_details("Leads", "1")
    (request,) = fake.requests("POST", TOKEN_PATH)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "grant_type": ["refresh_token"],
        "client_id": ["1000.CLIENT"],
        "client_secret": ["s3cret"],
        "refresh_token": ["1000.refresh"],
    }
    assert fake.requests("GET", DETAILS)[0].token == NEW


def test_concurrent_threads_share_one_refresh(fake: FakeZoho) -> None:
    # The token answer is held back so that every thread reaches the lock while it runs.
    fake.on("POST", TOKEN_PATH, Scripted(200, token_answer(fake), pause=0.2))
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    with Client(oauth=creds(fake)) as api, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: api.sharing_details("Leads", "1"), range(8)))
    assert len(fake.requests("POST", TOKEN_PATH)) == 1
    assert {s.token for s in fake.requests("GET", DETAILS)} == {NEW}


def test_concurrent_401s_share_one_refresh(fake: FakeZoho) -> None:
    fake.on("POST", TOKEN_PATH, Scripted(200, token_answer(fake), pause=0.2))
    fake.respond("GET", DETAILS, only_new_token_works)
    with (
        Client(access_token=OLD, oauth=creds(fake), api_domain=fake.url) as api,
        ThreadPoolExecutor(6) as pool,
    ):
        list(pool.map(lambda _: api.sharing_details("Leads", "1"), range(6)))
    assert len(fake.requests("POST", TOKEN_PATH)) == 1


def test_concurrent_tasks_share_one_refresh(fake: FakeZoho) -> None:
    fake.on("POST", TOKEN_PATH, Scripted(200, token_answer(fake), pause=0.2))
    fake.respond("GET", DETAILS, only_new_token_works)

    async def main() -> None:
        async with AsyncClient(access_token=OLD, oauth=creds(fake), api_domain=fake.url) as api:
            await asyncio.gather(*(api.sharing_details("Leads", "1") for _ in range(8)))

    asyncio.run(main())
    assert len(fake.requests("POST", TOKEN_PATH)) == 1


def test_a_second_invalid_token_is_raised_not_refreshed_again(make: Make, fake: FakeZoho) -> None:
    fake.on("POST", TOKEN_PATH, Scripted(200, token_answer(fake)))
    fake.on("GET", DETAILS, Scripted(401, INVALID_TOKEN))
    with pytest.raises(ZohoAPIError) as exc:
        make(oauth=creds(fake)).sharing_details("Leads", "1")
    assert (exc.value.status, exc.value.code, exc.value.attempts) == (401, "INVALID_TOKEN", 2)
    assert len(fake.requests("POST", TOKEN_PATH)) == 2  # the first token, then one refresh


def test_expires_in_sec_wins_over_expires_in(make: Make, fake: FakeZoho) -> None:
    # Older Zoho answers: expires_in in milliseconds, expires_in_sec in seconds.
    answer = token_answer(fake, expires_in=3_600_000, expires_in_sec=3600)
    fake.on("POST", TOKEN_PATH, Scripted(200, answer))
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    clock = [0.0]
    api = make(oauth=creds(fake), monotonic=lambda: clock[0])
    api.sharing_details("Leads", "1")
    clock[0] = 3600.0
    api.sharing_details("Leads", "1")
    assert len(fake.requests("POST", TOKEN_PATH)) == 2


def test_a_token_without_lifetime_is_kept_until_refused(make: Make, fake: FakeZoho) -> None:
    answer = token_answer(fake)
    del answer["expires_in"]
    fake.on("POST", TOKEN_PATH, Scripted(200, answer))
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    clock = [0.0]
    api = make(oauth=creds(fake), monotonic=lambda: clock[0])
    api.sharing_details("Leads", "1")
    clock[0] = 1e9
    api.sharing_details("Leads", "1")
    assert len(fake.requests("POST", TOKEN_PATH)) == 1


def test_token_endpoint_5xx_and_429_are_retried(make: Make, fake: FakeZoho) -> None:
    fake.on(
        "POST",
        TOKEN_PATH,
        Scripted(503, b"unavailable"),
        Scripted(429, {"error": "Access Denied"}, {"Retry-After": "4"}),
        Scripted(drop=True),
        Scripted(200, token_answer(fake)),
    )
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    sleeps: list[float] = []
    make(oauth=creds(fake), sleeps=sleeps, random=lambda: 0.5).sharing_details("Leads", "1")
    assert sleeps == [0.25, 4.0, 1.0]


def test_token_endpoint_failing_for_good(make: Make, fake: FakeZoho) -> None:
    fake.on("POST", TOKEN_PATH, Scripted(503, b"unavailable"))
    api = make(oauth=creds(fake), sleeps=[], retry=RetryPolicy(max_attempts=2))
    with pytest.raises(OAuthError) as exc:
        api.sharing_details("Leads", "1")
    assert (exc.value.error, exc.value.status) == ("server_error", 503)


@pytest.mark.parametrize(
    ("answer", "error", "description"),
    [
        (Scripted(200, {"error": "invalid_code"}), "invalid_code", None),
        (
            Scripted(
                400,
                {
                    "error": "Access Denied",
                    "error_description": "You have made too many requests continuously.",
                    "status": "failure",
                },
            ),
            "Access Denied",
            "You have made too many requests continuously.",
        ),
        (Scripted(200, b"<html>login</html>"), "unexpected_response", "HTTP 200 without a token"),
    ],
)
def test_token_endpoint_errors(
    make: Make, fake: FakeZoho, answer: Scripted, error: str, description: str | None
) -> None:
    fake.on("POST", TOKEN_PATH, answer)
    with pytest.raises(OAuthError) as exc:
        make(oauth=creds(fake)).sharing_details("Leads", "1")
    assert (exc.value.error, exc.value.description) == (error, description)
    assert fake.requests("GET", DETAILS) == []


def test_token_answer_without_api_domain_needs_one_configured(make: Make, fake: FakeZoho) -> None:
    answer = token_answer(fake)
    del answer["api_domain"]
    fake.on("POST", TOKEN_PATH, Scripted(200, answer))
    fake.on("GET", DETAILS, Scripted(200, OK_BODY))
    with pytest.raises(OAuthError) as exc:
        make(oauth=creds(fake)).sharing_details("Leads", "1")
    assert exc.value.error == "unexpected_response"
    make(oauth=creds(fake), api_domain=fake.url).sharing_details("Leads", "1")


def test_configuration_errors() -> None:
    with pytest.raises(ValueError, match="access_token"):
        Client()
    with pytest.raises(ValueError, match="api_domain"):
        Client(access_token=OLD)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    assert "s3cret" not in repr(OAuthCredentials("id", "s3cret", "refresh-secret"))
    assert "refresh-secret" not in repr(OAuthCredentials("id", "s3cret", "refresh-secret"))
