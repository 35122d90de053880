"""OAuth across clients and orgs: one client's grant codes and refresh tokens are worth
nothing to another client, and a client bound to an org serves no other org."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.builders import ACME_CLIENT, ACME_REDIRECT, ACME_SECRET, store_command
from tests.conftest import ACME_FIXTURE, Served, open_client, serve

OTHER_REDIRECT = "http://other.test/cb"
WILL, GINA = "412463000001213019", "512463000000000101"
SCOPE = "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
ACME_RECORD = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
GLOBEX_RECORD = "/crm/v8/Leads/5124630000001790001/__emails_sharing_details"


def cli(srv: Served, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return store_command(srv.db_url, name, *args, check=check)


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    server = serve(request, tmp_path_factory.mktemp("oauth-iso"), fixture=ACME_FIXTURE)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def other(srv: Served) -> tuple[str, str]:
    """A second client, not bound to any org (``emailshare client add``)."""
    out = cli(srv, "client", "add", "--name", "other", "--redirect-uri", OTHER_REDIRECT).stdout
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    return lines["client_id"], lines["client_secret"]


@pytest.fixture
def c(srv: Served) -> Iterator[httpx.Client]:
    with open_client(srv, timeout=10) as client:
        yield client


def grant(srv: Served, client_id: str, user: str) -> str:
    return cli(srv, "grant", "--client", client_id, "--user", user, "--scope", SCOPE).stdout.strip()


def token(c: httpx.Client, **fields: str) -> dict[str, str]:
    r = c.post("/oauth/v2/token", data=fields)
    assert r.status_code == 200
    body: dict[str, str] = r.json()
    return body


def by_code(c: httpx.Client, client: tuple[str, str], redirect: str, code: str) -> dict[str, str]:
    return token(
        c,
        grant_type="authorization_code",
        client_id=client[0],
        client_secret=client[1],
        redirect_uri=redirect,
        code=code,
    )


def by_refresh(c: httpx.Client, client: tuple[str, str], refresh: str) -> dict[str, str]:
    return token(
        c,
        grant_type="refresh_token",
        client_id=client[0],
        client_secret=client[1],
        refresh_token=refresh,
    )


def status(c: httpx.Client, path: str, access: str) -> int:
    return c.get(path, headers={"Authorization": f"Zoho-oauthtoken {access}"}).status_code


def test_a_grant_code_is_only_the_issuing_clients(
    c: httpx.Client, srv: Served, other: tuple[str, str]
) -> None:
    code = grant(srv, ACME_CLIENT, WILL)
    for redirect in (OTHER_REDIRECT, ACME_REDIRECT):
        assert by_code(c, other, redirect, code) == {"error": "invalid_code"}
    # The attempt did not burn it: the client it was issued to still exchanges it, once.
    issued = by_code(c, (ACME_CLIENT, ACME_SECRET), ACME_REDIRECT, code)
    assert status(c, ACME_RECORD, issued["access_token"]) == 200
    assert by_code(c, (ACME_CLIENT, ACME_SECRET), ACME_REDIRECT, code) == {"error": "invalid_code"}


def test_a_refresh_token_is_only_the_issuing_clients(
    c: httpx.Client, srv: Served, other: tuple[str, str]
) -> None:
    acme = (ACME_CLIENT, ACME_SECRET)
    refresh = by_code(c, acme, ACME_REDIRECT, grant(srv, ACME_CLIENT, WILL))["refresh_token"]
    assert by_refresh(c, other, refresh) == {"error": "invalid_code"}
    assert by_refresh(c, (other[0], ACME_SECRET), refresh) == {"error": "invalid_client_secret"}
    assert by_refresh(c, (ACME_CLIENT, other[1]), refresh) == {"error": "invalid_client_secret"}
    assert by_refresh(c, ("1000.NOSUCH", ACME_SECRET), refresh) == {"error": "invalid_client"}
    fresh = by_refresh(c, acme, refresh)
    assert status(c, ACME_RECORD, fresh["access_token"]) == 200


def test_another_orgs_tokens_are_not_refreshed_by_an_org_bound_client(
    c: httpx.Client, srv: Served, other: tuple[str, str]
) -> None:
    issued = by_code(c, other, OTHER_REDIRECT, grant(srv, other[0], GINA))
    assert status(c, GLOBEX_RECORD, issued["access_token"]) == 200
    assert by_refresh(c, (ACME_CLIENT, ACME_SECRET), issued["refresh_token"]) == {
        "error": "invalid_code"
    }
    # Gina's token, made by a client that serves every org, still sees only Globex.
    foreign = c.get(
        ACME_RECORD, headers={"Authorization": f"Zoho-oauthtoken {issued['access_token']}"}
    )
    nowhere = c.get(
        ACME_RECORD.replace("3652397000001790004", "3652397000009999999"),
        headers={"Authorization": f"Zoho-oauthtoken {issued['access_token']}"},
    )
    assert (foreign.status_code, foreign.content) == (nowhere.status_code, nowhere.content)


def test_an_org_bound_client_grants_nothing_in_another_org(srv: Served) -> None:
    done = cli(srv, "grant", "--client", ACME_CLIENT, "--user", GINA, "--scope", SCOPE, check=False)
    assert done.returncode != 0
    assert done.stdout == ""


def test_client_credentials_stay_in_the_clients_org(
    c: httpx.Client, other: tuple[str, str]
) -> None:
    acme_bound = {"client_id": ACME_CLIENT, "client_secret": ACME_SECRET}
    fields = {"grant_type": "client_credentials", "scope": "ZohoCRM.modules.ALL"}
    assert token(c, **acme_bound, **fields, soid="ZohoCRM.512463000000000001") == {
        "error": "invalid_client"
    }
    globex = token(
        c,
        client_id=other[0],
        client_secret=other[1],
        **fields,
        soid="ZohoCRM.512463000000000001",
    )
    assert status(c, GLOBEX_RECORD, globex["access_token"]) == 200
    assert status(c, ACME_RECORD, globex["access_token"]) == 400  # INVALID_DATA: not theirs


def test_revoking_one_clients_token_leaves_the_others(
    c: httpx.Client, srv: Served, other: tuple[str, str]
) -> None:
    acme = by_code(c, (ACME_CLIENT, ACME_SECRET), ACME_REDIRECT, grant(srv, ACME_CLIENT, WILL))
    mine = by_code(c, other, OTHER_REDIRECT, grant(srv, other[0], WILL))
    r = c.post("/oauth/v2/token/revoke", params={"token": acme["refresh_token"]})
    assert r.json() == {"status": "success"}
    assert status(c, ACME_RECORD, acme["access_token"]) == 401
    assert status(c, ACME_RECORD, mine["access_token"]) == 200
    assert "access_token" in by_refresh(c, other, mine["refresh_token"])
