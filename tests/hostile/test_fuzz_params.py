"""Generated parameters on every operation that parses integers or ids, the admin API
included: never a 5xx (docs/reliability.md "Odd input").

In process (the app, its store: SQLite, or PostgreSQL under ``EMAILSHARE_TEST_PG``), so that
a case costs milliseconds: ``EMAILSHARE_FUZZ_EXAMPLES`` cases per operation (CI: 200,
derandomized; the 1,000-case run is
``EMAILSHARE_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest -p no:cacheprovider
tests/hostile/test_fuzz_params.py``). Values mix odd integers (over 64 bits, signs, spaces,
non-ASCII digits, ``²``), the fixture's real ids, and arbitrary text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emailshare.config import Settings
from emailshare.testing import InProcess
from tests.builders import ACME_CLIENT, ACME_SECRET
from tests.conftest import ACME_FIXTURE, db_url_for

KEY = "fuzz-params-admin-key"
ADMIN = {"X-Emailshare-Admin-Key": KEY}
_LONG = int(os.environ.get("EMAILSHARE_FUZZ_EXAMPLES", "0"))
CASES = settings(
    max_examples=_LONG or 200,
    derandomize=not _LONG,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

REAL = [
    "412463000001213019",
    "412463000000500001",
    "412463000000000001",
    "3652397000001790004",
    "5124630000001790001",
    "1",
]
ODD = [
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999",
    "0",
    "-1",
    "+1",
    " 1",
    "1_0",
    "0x1",
    "1e3",
    "²",
    "١٢",
    "\uff11",  # a fullwidth one
    "",
    "4xx",
    "999",
]
values = st.one_of(
    st.sampled_from(REAL),
    st.sampled_from(ODD),
    st.integers(-(2**70), 2**70).map(str),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    tmp: Path = tmp_path_factory.mktemp("fuzz-params")
    settings_ = Settings(db_url=db_url_for(tmp), admin_key=KEY)
    with InProcess(fixture=ACME_FIXTURE, settings=settings_) as served:
        yield served


def _token(app: InProcess) -> str:
    token: str | None = getattr(app, "_fuzz_token", None)
    if token is None:
        token = app.token(412463000000500001, ["ZohoCRM.users.READ", "ZohoCRM.modules.ALL"])
        app._fuzz_token = token  # type: ignore[attr-defined]
    return token


def no_5xx(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])


def params(names: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=dict.fromkeys(names, values))


@CASES
@given(q=params(["org", "summary"]))
def test_admin_state(app: InProcess, q: dict[str, str]) -> None:
    no_5xx(app.client.get("/__emailshare/state", params=q, headers=ADMIN))


@CASES
@given(q=params(["limit", "status", "caller", "org", "since", "method", "path", "path_contains"]))
def test_admin_requests(app: InProcess, q: dict[str, str]) -> None:
    no_5xx(app.client.get("/__emailshare/requests", params=q, headers=ADMIN))


@CASES
@given(q=params(["caller", "record", "module", "org", "type", "owner_id", "format"]))
def test_admin_explain(app: InProcess, q: dict[str, str]) -> None:
    no_5xx(app.client.get("/__emailshare/explain", params=q, headers=ADMIN))


@CASES
@given(q=params(["type", "page", "per_page"]))
def test_users(app: InProcess, q: dict[str, str]) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {_token(app)}"}
    no_5xx(app.client.get("/crm/v8/users", params=q, headers=headers))


@CASES
@given(record=values, q=params(["type", "owner_id", "page", "per_page", "index"]))
def test_emails(app: InProcess, record: str, q: dict[str, str]) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {_token(app)}"}
    path = f"/crm/v8/Accounts/{quote(record, safe='')}/Emails"
    no_5xx(app.client.get(path, params=q, headers=headers))


@CASES
@given(
    soid=values,
    grant=st.sampled_from(["client_credentials", "refresh_token", "authorization_code"]),
    extra=params(["code", "refresh_token", "scope", "redirect_uri"]),
)
def test_token_endpoint(app: InProcess, soid: str, grant: str, extra: dict[str, str]) -> None:
    form = {"grant_type": grant, "client_id": ACME_CLIENT, "client_secret": ACME_SECRET}
    form |= {"soid": f"ZohoCRM.{soid}", "scope": "ZohoCRM.modules.ALL"} | extra
    r = app.client.post("/oauth/v2/token", data=form)
    no_5xx(r)
