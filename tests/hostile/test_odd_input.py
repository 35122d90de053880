"""Odd input is a Zoho error, never a 500 or a traceback (docs/reliability.md "Odd input").

The findings of issue 16 repeated as filed, on the store the suite runs on (SQLite, or
PostgreSQL under ``EMAILSHARE_TEST_PG``), and the one integer parser they now all go through
(``domain/numbers.py``), checked on every shape of odd integer text.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emailshare.domain.numbers import MAX_INT64, parse_id, parse_int
from emailshare.startup import Exit
from tests.builders import ACME_CLIENT, ACME_SECRET, store_command
from tests.conftest import ACME_FIXTURE, Served, db_url_for, serve

KEY = "odd-input-admin-key"
ODD_INTEGERS = [
    "9223372036854775808",  # 2**63: over a signed 64-bit BIGINT
    "18446744073709551616",
    "99999999999999999999",
    "9" * 4050,  # a long number that still fits in the query limit (4 KiB)
    "²",  # str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() reads them, Zoho ids never hold them
    "-1",
    "+1",
    " 1",
    "1 ",
    "1_000",
    "0x10",
    "1e3",
    "",
]


@pytest.fixture(scope="module")
def srv(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    server = serve(request, tmp_path_factory.mktemp("odd"), fixture=ACME_FIXTURE, admin_key=KEY)
    yield server
    server.stop()


@pytest.fixture
def c(srv: Served) -> httpx.Client:
    return srv.client


@pytest.mark.parametrize("org", ["9223372036854775808", "18446744073709551616", "0", "١٢"])
def test_client_credentials_with_an_org_id_out_of_range_is_invalid_client(
    c: httpx.Client, org: str
) -> None:
    r = c.post(
        "/oauth/v2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ACME_CLIENT,
            "client_secret": ACME_SECRET,
            "scope": "ZohoCRM.modules.ALL",
            "soid": f"ZohoCRM.{org}",
        },
    )
    assert (r.status_code, r.json()) == (200, {"error": "invalid_client"})


@pytest.mark.parametrize("limit", [*ODD_INTEGERS, "0", "10001"])
def test_the_request_log_limit_is_checked(c: httpx.Client, limit: str) -> None:
    r = c.get(
        "/__emailshare/requests", params={"limit": limit}, headers={"X-Emailshare-Admin-Key": KEY}
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "INVALID_DATA"
    assert r.json()["details"] == {"param_name": "limit"}


@pytest.mark.parametrize("name", ["page", "per_page"])
@pytest.mark.parametrize("value", ODD_INTEGERS)
def test_users_paging_is_checked(c: httpx.Client, srv: Served, name: str, value: str) -> None:
    token = srv.token(412463000000500001, ["ZohoCRM.users.READ"])
    r = c.get(
        "/crm/v8/users",
        params={name: value},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["details"] == {"param_name": name}


def cli(name: str, *args: str, db: str) -> subprocess.CompletedProcess[str]:
    return store_command(db, name, *args, check=False)


@pytest.mark.parametrize("seconds", ["99999999999999999999", "10000000001", "0", "-5", "²"])
def test_token_expires_in_out_of_range_is_a_usage_error(tmp_path: Path, seconds: str) -> None:
    done = cli(
        "token",
        "--user",
        "412463000001213019",
        "--scope",
        "ZohoCRM.modules.ALL",
        "--expires-in",
        seconds,
        db=db_url_for(tmp_path),
    )
    assert done.returncode == Exit.USAGE, done.stderr
    assert "Traceback" not in done.stderr
    assert "--expires-in" in done.stderr
    assert "seconds" in done.stderr


@given(st.text(max_size=25))
def test_the_parser_takes_only_ascii_digits_within_64_bits(text: str) -> None:
    value = parse_int(text)
    ascii_number = text.isascii() and text.isdigit() and len(text) <= 19
    if ascii_number and int(text) <= MAX_INT64:
        assert value == int(text)
    else:
        assert value is None
    assert parse_id(text) == (value if value else None)


@pytest.mark.parametrize("text", [*ODD_INTEGERS, "9" * 5000])  # 5000: past int()'s 4300 digits
def test_the_parser_refuses_odd_integers(text: str) -> None:
    assert parse_int(text) is None
    assert parse_id(text) is None
