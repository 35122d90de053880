"""Fixtures of the client tests: a real emailshare server of their own (they change state and
mint tokens), and a scripted fake Zoho for what emailshare never answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import oauth_tokens
from tests.client.both import Api, build
from tests.client.fake_zoho import FakeZoho
from tests.conftest import ACME_FIXTURE, db_url_for

WILL_ID = "412463000001213019"
BOYLE_ID = "412463000000867017"
CARLA_ID = "412463000000500002"

WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
BOYLE = "1000.0000000000000000000000000000a002.00000000000000000000000000000002"
ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
WILL_EXPIRED = "1000.0000000000000000000000000000a00a.0000000000000000000000000000000a"

SEED_RECORD = "3652397000001790004"  # Accounts "Zylker": the contract's sample answer
PAT_LEAD = "3652397000001790011"
CARLA_LEAD = "3652397000001790010"
PROJECT = "3652397000001790040"


@pytest.fixture(scope="package")
def es(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real emailshare server loaded with tests/data/acme.json, for these tests only."""
    server = start_server(
        db_url=db_url_for(tmp_path_factory.mktemp("client")), fixture=ACME_FIXTURE
    )
    yield server
    server.stop()


@pytest.fixture
def fake() -> Iterator[FakeZoho]:
    with FakeZoho() as zoho:
        yield zoho


def refresh_token_for(srv: ServerProcess, user: str = WILL_ID) -> str:
    """A refresh token from the real flow: a grant code (CLI), exchanged at the token endpoint."""
    answer = oauth_tokens(
        srv.url, srv.db_url, user, "ZohoCRM.modules.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
    )
    token: str = answer["refresh_token"]
    return token


def revoke(srv: ServerProcess, token: str) -> None:
    r = httpx.post(f"{srv.url}/oauth/v2/token/revoke", params={"token": token})
    assert r.json() == {"status": "success"}


class Make(Protocol):
    def __call__(self, *, sleeps: list[float] | None = None, **kwargs: Any) -> Api: ...


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """Build clients of the parametrised kind; all are closed after the test."""
    made: list[Api] = []

    def factory(*, sleeps: list[float] | None = None, **kwargs: Any) -> Api:
        api = build(request.param, sleeps, kwargs)
        made.append(api)
        return api

    yield factory
    for api in made:
        api.close()
