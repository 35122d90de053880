"""docs/contract.md §9: Zoho Accounts' token endpoint, its limits and revocation."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import ACME_CLIENT, ACME_REDIRECT, ACME_SECRET, ACME_SOID, auth, store_command
from tests.conftest import ACME_FIXTURE, Served, open_client, serve

WILL_ID = "412463000001213019"
ADA_ID = "412463000000500001"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
SCOPES = "ZohoCRM.modules.ALL,ZohoCRM.users.READ"


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    server = serve(request, tmp_path_factory.mktemp("oauth"), fixture=ACME_FIXTURE)
    yield server
    server.stop()


@pytest.fixture
def client(srv: Served) -> Iterator[httpx.Client]:
    with open_client(srv, timeout=10) as c:
        yield c


def cli(srv: Served, name: str, *args: str) -> str:
    return store_command(srv.db_url, name, *args).stdout.strip()


def grant(
    srv: Served,
    user: str = WILL_ID,
    issued_at: int | None = None,
    client_id: str = ACME_CLIENT,
) -> str:
    extra = ["--issued-at", str(issued_at)] if issued_at is not None else []
    return cli(srv, "grant", "--client", client_id, "--user", user, "--scope", SCOPES, *extra)


def exchange(
    c: httpx.Client,
    code: str,
    *,
    multipart: bool = False,
    extra: dict[str, str] | None = None,
    **overrides: str,
) -> dict[str, object]:
    fields = {
        "grant_type": "authorization_code",
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "redirect_uri": ACME_REDIRECT,
        "code": code,
        **(extra or {}),
        **overrides,
    }
    if multipart:
        r = c.post("/oauth/v2/token", files={k: (None, v) for k, v in fields.items()})
    else:
        r = c.post("/oauth/v2/token", data=fields)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, object] = r.json()
    return body


def refresh(c: httpx.Client, refresh_token: str, secret: str = ACME_SECRET) -> dict[str, object]:
    r = c.post(
        "/oauth/v2/token",
        files={
            "grant_type": (None, "refresh_token"),
            "client_id": (None, ACME_CLIENT),
            "client_secret": (None, secret),
            "refresh_token": (None, refresh_token),
        },
    )
    assert r.status_code == 200
    body: dict[str, object] = r.json()
    return body


def details_status(c: httpx.Client, token: object) -> int:
    return c.get(SEED, headers=auth(str(token))).status_code


@pytest.mark.parametrize("multipart", [False, True])
def test_authorization_code_flow(client: httpx.Client, srv: Served, multipart: bool) -> None:
    body = exchange(client, grant(srv), multipart=multipart)
    assert list(body) == [
        "access_token",
        "refresh_token",
        "scope",
        "api_domain",
        "token_type",
        "expires_in",
    ]
    assert body["api_domain"] == srv.url
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "ZohoCRM.modules.ALL ZohoCRM.users.READ"
    for key in ("access_token", "refresh_token"):
        value = str(body[key])
        assert value.startswith("1000.")
        assert len(value) == 70
    assert details_status(client, body["access_token"]) == 200
    r = client.get(
        "/crm/v8/users", params={"type": "CurrentUser"}, headers=auth(str(body["access_token"]))
    )
    assert r.json()["users"][0]["id"] == WILL_ID


def test_grant_code_is_single_use(client: httpx.Client, srv: Served) -> None:
    code = grant(srv)
    assert "access_token" in exchange(client, code)
    assert exchange(client, code) == {"error": "invalid_code"}


def test_grant_code_expires_after_120_seconds(client: httpx.Client, srv: Served) -> None:
    now = int(time.time())
    assert exchange(client, grant(srv, issued_at=now - 121)) == {"error": "invalid_code"}
    assert "access_token" in exchange(client, grant(srv, issued_at=now - 100))


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "1000.NOSUCHCLIENT"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client_secret"),
        (
            {"code": "1000.00000000000000000000000000000000.00000000000000000000000000000000"},
            "invalid_code",
        ),
        ({"redirect_uri": "http://evil.test/cb"}, "invalid_redirect_uri"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_exchange_errors_are_http_200(
    client: httpx.Client, srv: Served, overrides: dict[str, str], error: str
) -> None:
    fields = dict(overrides)
    code = fields.pop("code", None) or grant(srv)
    assert exchange(client, code, extra=fields) == {"error": error}


def test_json_body_is_refused(client: httpx.Client, srv: Served) -> None:
    r = client.post(
        "/oauth/v2/token",
        json={
            "grant_type": "authorization_code",
            "client_id": ACME_CLIENT,
            "client_secret": ACME_SECRET,
            "redirect_uri": ACME_REDIRECT,
            "code": grant(srv),
        },
    )
    assert (r.status_code, r.json()) == (200, {"error": "invalid_client"})


def test_parameters_in_the_query_string(client: httpx.Client, srv: Served) -> None:
    r = client.post(
        "/oauth/v2/token",
        params={
            "grant_type": "authorization_code",
            "client_id": ACME_CLIENT,
            "client_secret": ACME_SECRET,
            "redirect_uri": ACME_REDIRECT,
            "code": grant(srv),
        },
    )
    assert "access_token" in r.json()


def test_refresh_gives_access_token_only(client: httpx.Client, srv: Served) -> None:
    tokens = exchange(client, grant(srv))
    body = refresh(client, str(tokens["refresh_token"]))
    assert list(body) == ["access_token", "scope", "api_domain", "token_type", "expires_in"]
    assert details_status(client, body["access_token"]) == 200
    assert refresh(client, str(tokens["refresh_token"]), secret="nope") == {
        "error": "invalid_client_secret"
    }
    assert refresh(client, "1000.junk") == {"error": "invalid_code"}


def test_sixteenth_access_token_invalidates_the_oldest(client: httpx.Client, srv: Served) -> None:
    tokens = exchange(client, grant(srv))
    issued = [str(tokens["access_token"])]
    issued += [
        str(refresh(client, str(tokens["refresh_token"]))["access_token"]) for _ in range(15)
    ]
    assert details_status(client, issued[0]) == 401
    assert all(details_status(client, t) == 200 for t in issued[1:])


def test_twenty_first_refresh_token_invalidates_the_oldest(
    client: httpx.Client, srv: Served
) -> None:
    made = [exchange(client, grant(srv, user=ADA_ID)) for _ in range(21)]
    oldest = made[0]
    assert refresh(client, str(oldest["refresh_token"])) == {"error": "invalid_code"}
    assert details_status(client, oldest["access_token"]) == 401
    for later in made[1:]:
        assert details_status(client, later["access_token"]) == 200
    assert "access_token" in refresh(client, str(made[1]["refresh_token"]))


@pytest.mark.parametrize("as_form", [False, True])
def test_revoke_kills_refresh_and_its_access_tokens(
    client: httpx.Client, srv: Served, as_form: bool
) -> None:
    tokens = exchange(client, grant(srv))
    second = refresh(client, str(tokens["refresh_token"]))["access_token"]
    if as_form:
        r = client.post("/oauth/v2/token/revoke", data={"token": str(tokens["refresh_token"])})
    else:
        r = client.post("/oauth/v2/token/revoke", params={"token": str(tokens["refresh_token"])})
    assert (r.status_code, r.json()) == (200, {"status": "success"})
    assert details_status(client, tokens["access_token"]) == 401
    assert details_status(client, second) == 401
    assert refresh(client, str(tokens["refresh_token"])) == {"error": "invalid_code"}


def test_client_credentials_with_soid(client: httpx.Client) -> None:
    fields = {
        "grant_type": "client_credentials",
        "client_id": ACME_CLIENT,
        "client_secret": ACME_SECRET,
        "scope": "ZohoCRM.modules.ALL",
        "soid": ACME_SOID,
    }
    body = client.post("/oauth/v2/token", data=fields).json()
    assert "refresh_token" not in body
    assert details_status(client, body["access_token"]) == 200  # acts as the org's admin
    for soid in ("ZohoCRM.512463000000000001", "ZohoCRM.1", "Other.412463000000000001", ""):
        body = client.post("/oauth/v2/token", data={**fields, "soid": soid}).json()
        assert body == {"error": "invalid_client"}


def test_client_add_and_grant_commands(client: httpx.Client, srv: Served) -> None:
    out = cli(srv, "client", "add", "--name", "ci", "--redirect-uri", "http://x.test/cb")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    code = grant(srv, client_id=lines["client_id"])
    body = exchange(
        client,
        code,
        client_id=lines["client_id"],
        client_secret=lines["client_secret"],
        redirect_uri="http://x.test/cb",
    )
    assert details_status(client, body["access_token"]) == 200


def test_token_endpoint_method(client: httpx.Client) -> None:
    r = client.get("/oauth/v2/token")
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_REQUEST_METHOD")
