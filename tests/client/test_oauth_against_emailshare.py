"""OAuth through emailshare's real token endpoint: first token, refresh on 401 and on expiry,
revoked and wrong credentials (sync and async)."""

from __future__ import annotations

import httpx
import pytest

from emailshare.client import Client, OAuthCredentials, OAuthError
from emailshare.testing import ServerProcess
from tests.builders import ACME_CLIENT, ACME_SECRET
from tests.client.conftest import (
    SEED_RECORD,
    WILL_EXPIRED,
    WILL_ID,
    Make,
    refresh_token_for,
    revoke,
)


def creds(es: ServerProcess, refresh: str, **overrides: str) -> OAuthCredentials:
    fields = {
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "refresh_token": refresh,
        "accounts_url": es.url,
        **overrides,
    }
    return OAuthCredentials(**fields)


@pytest.fixture(scope="module")
def refresh(es: ServerProcess) -> str:
    """Will's refresh token, shared by the tests that do not revoke it."""
    return refresh_token_for(es)


def test_first_token_and_api_domain_come_from_the_token_endpoint(
    es: ServerProcess, make: Make, refresh: str
) -> None:
    api = make(oauth=creds(es, refresh))  # no api_domain: the token answer names it
    assert api.current_user().id == WILL_ID
    assert api.sharing_details("Accounts", SEED_RECORD).share_from_users[0].id == WILL_ID


def test_accounts_url_may_be_the_full_token_endpoint(
    es: ServerProcess, make: Make, refresh: str
) -> None:
    api = make(oauth=creds(es, refresh, accounts_url=f"{es.url}/oauth/v2/token"))
    assert api.org().company_name == "Acme"


def test_invalid_token_is_refreshed_once(es: ServerProcess, make: Make, refresh: str) -> None:
    # An expired fixed token: the API says 401 INVALID_TOKEN, the client refreshes and resends.
    api = make(api_domain=es.url, access_token=WILL_EXPIRED, oauth=creds(es, refresh))
    assert api.current_user().id == WILL_ID


def test_revoked_refresh_token_fails_with_oauth_error(es: ServerProcess, make: Make) -> None:
    token = refresh_token_for(es)
    api = make(oauth=creds(es, token))
    assert api.current_user().id == WILL_ID
    # Revoking the refresh token kills the access token in use: the next call gets
    # 401 INVALID_TOKEN, and the refresh it triggers is refused.
    revoke(es, token)
    with pytest.raises(OAuthError) as exc:
        api.current_user()
    assert exc.value.error == "invalid_code"
    assert exc.value.status == 200  # Zoho Accounts answers its errors with HTTP 200


def test_wrong_client_secret(es: ServerProcess, make: Make, refresh: str) -> None:
    api = make(oauth=creds(es, refresh, client_secret="wrong"))
    with pytest.raises(OAuthError) as exc:
        api.sharing_details("Accounts", SEED_RECORD)
    assert exc.value.error == "invalid_client_secret"


def test_token_is_refreshed_before_it_expires(es: ServerProcess, refresh: str) -> None:
    clock = [1000.0]
    seen: list[httpx.Request] = []
    with (
        httpx.Client(event_hooks={"request": [seen.append]}) as http,
        Client(oauth=creds(es, refresh), http_client=http, monotonic=lambda: clock[0]) as api,
    ):
        api.current_user()
        clock[0] += 3600 - 61  # still more than the 60 s margin left
        api.current_user()
        clock[0] += 2  # inside the margin: refreshed before the call
        api.current_user()

    paths = [r.url.path for r in seen]
    assert paths == [
        "/oauth/v2/token",
        "/crm/v8/users",
        "/crm/v8/users",
        "/oauth/v2/token",
        "/crm/v8/users",
    ]
    tokens = [r.headers["authorization"] for r in seen if r.url.path == "/crm/v8/users"]
    assert tokens[0] == tokens[1] != tokens[2]
