"""Zoho's official SDKs getting their own tokens from emailshare's ``/oauth/v2/token``.

The other SDK tests hand the SDKs a ready access token. Here nothing is pre-seeded: each SDK is
initialised the way Zoho's documentation shows for a server-side app, with the client id and
secret plus a **grant token** (Python SDKs, ``OAuthToken(client_id, client_secret, grant_token,
redirect_url)``) or a **refresh token** (Python and Node SDKs), a file token store in a temporary
directory and default settings otherwise, and must then read the seed's sharing details (Will
Grandon on Zylker, ``Accounts/3652397000001790004``, docs/contract.md §6).

Grant codes come from the CLI (``emailshare grant``); a refresh token, when a test needs one
up front, from exchanging such a code over HTTP like any OAuth client would. That the SDK's
tokens really come from this server (and not from some cached or pre-seeded source) is shown
by what the server then does with them: the SDK's access token works on the API directly, a
grant code the SDK already used is refused with ``invalid_code``, and once its refresh token is
revoked (``POST /oauth/v2/token/revoke``) the SDK's cached access token answers
``INVALID_TOKEN`` and its next refresh fails with ``invalid_code``. Both SDK families surface a
token endpoint ``{"error": E}`` as an ``SDKException`` with code ``"INVALID TOKEN ERROR"`` and
message ``E`` (``OAuthToken.parse_response`` / ``parseResponse``).

"Next refresh" is reached without waiting an hour: the test sets ``expiry_time`` in the SDK's
token file (same CSV layout in all three SDKs) to the past, and the SDK refreshes when fewer
than 5 s remain.

Uses its own server (module scope; the tests consume grant codes and revoke tokens). A missing
SDK install fails the tests; ``EMAILSHARE_SKIP_SDK=1`` skips them.
"""

from __future__ import annotations

import csv
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emailshare.testing import ServerProcess, start_server
from tests.builders import ACME_CLIENT, ACME_REDIRECT, ACME_SECRET, grant_code
from tests.conformance.test_node_sdk import NODE_DIR, node_with_sdk
from tests.conformance.test_node_sdk import PROBE as NODE_PROBE
from tests.conformance.test_python_sdks import PROBE as PY_PROBE
from tests.conformance.test_python_sdks import REPO, SDK_MAJORS, Sdk, probe_answer, require_venv
from tests.conftest import ACME_FIXTURE

pytestmark = pytest.mark.sdk

# Will Grandon (Acme, tests/data/acme.json; its OAuth client: tests.builders).
WILL_ID = "412463000001213019"
WILL_EMAIL = "will@acme.test"
# What Will's demo token has: the module scope for the details call, users/org for the SDKs'
# first-use calls (docs/contract.md §11).
SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")

ZYLKER_ACCOUNT = "3652397000001790004"
SEED_TYPES = ["emails_sent_from_crm", "all_contacts_emails", "all_imap_shared_users", "all_emails"]
# The seed's share_from_users. The Python SDKs give ids as int, the Node probe as BigInt text.
SEED_USERS = [
    {"id": 412463000001213019, "name": "Will Grandon", "_type": "pop"},
    {"id": 412463000000867017, "name": "boyle", "_type": "imap"},
]
SEED_USERS_NODE = [{**u, "id": str(u["id"])} for u in SEED_USERS]
SEED_PATH = f"/crm/v8/Accounts/{ZYLKER_ACCOUNT}/__emails_sharing_details"

ACCESS_TTL_MS = 3600 * 1000  # docs/contract.md §9: expires_in 3600 (seconds)
TOKEN_FILE = "sdk_tokens.txt"
# What the SDKs raise for a token endpoint answer {"error": "invalid_code"}.
SDK_INVALID_CODE = {"code": "INVALID TOKEN ERROR", "message": "invalid_code"}


@pytest.fixture(scope="module")
def oauth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("sdk-oauth")
    srv = start_server(db_url=f"sqlite:///{tmp}/x.db", fixture=ACME_FIXTURE)
    yield srv
    srv.stop()


@pytest.fixture(params=SDK_MAJORS, ids=[f"sdk{n}" for n in SDK_MAJORS])
def py_sdk(request: pytest.FixtureRequest) -> Sdk:
    major: int = request.param
    return Sdk(major=major, python=REPO / ".venvs" / f"sdk{major}" / "bin" / "python")


# --- the server side: grant codes (CLI), exchange and revoke (HTTP) ---------------------------


def will_code(server: ServerProcess) -> str:
    """A fresh single-use grant code for Will of ``SCOPES`` (valid 120 s)."""
    return grant_code(server.db_url, WILL_ID, ",".join(SCOPES))


def exchange_code(server: ServerProcess) -> dict[str, Any]:
    """A grant code exchanged over HTTP, as an OAuth client does; the answer's JSON."""
    r = httpx.post(
        f"{server.url}/oauth/v2/token",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "client_id": ACME_CLIENT,
            "client_secret": ACME_SECRET,
            "redirect_uri": ACME_REDIRECT,
            "code": will_code(server),
        },
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert isinstance(body.get("refresh_token"), str), body
    return body


def revoke(server: ServerProcess, refresh_token: str) -> None:
    r = httpx.post(
        f"{server.url}/oauth/v2/token/revoke", params={"token": refresh_token}, timeout=10
    )
    assert (r.status_code, r.json()) == (200, {"status": "success"}), r.text


def api_status(server: ServerProcess, access_token: str) -> int:
    """The seed call made directly (not through an SDK) with an access token the SDK got."""
    r = httpx.get(
        server.url + SEED_PATH,
        timeout=10,
        headers={"Authorization": f"Zoho-oauthtoken {access_token}"},
    )
    return r.status_code


# --- the SDKs' token files --------------------------------------------------------------------


def stored_token(store: Path) -> dict[str, str]:
    """The one row of the SDK's token file (columns id, user_name, client_id, client_secret,
    refresh_token, access_token, grant_token, expiry_time, redirect_url, api_domain)."""
    with (store / TOKEN_FILE).open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if any(row.values())]
    assert len(rows) == 1, rows
    return rows[0]


def expire_stored_token(store: Path) -> None:
    """As if the hour had passed: ``expiry_time`` (epoch ms) in the past, so the SDK's next
    ``get_token()`` refreshes with the stored refresh token."""
    path = store / TOKEN_FILE
    with path.open(newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    column = rows[0].index("expiry_time")
    assert len(rows) == 2, rows
    assert rows[1][column], rows  # an access token with an expiry was stored
    rows[1][column] = "1"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)


def assert_fresh_expiry(expiry_ms: str, before: float, after: float) -> None:
    """The SDK's expiry = its clock + expires_in x 1000: so expires_in arrived in seconds."""
    expiry = int(expiry_ms)
    assert int(before * 1000) + ACCESS_TTL_MS <= expiry <= int(after * 1000) + ACCESS_TTL_MS, (
        expiry_ms,
        before,
        after,
    )


def assert_named_for_will(user_name: str | None) -> None:
    """The SDK's first-use users/org calls worked with the access token it got."""
    assert isinstance(user_name, str), user_name
    email, _, zgid = user_name.partition(":")
    assert email == WILL_EMAIL, user_name
    assert zgid, user_name


# --- running the probes -----------------------------------------------------------------------


def run_py_probe(
    request: pytest.FixtureRequest,
    sdk: Sdk,
    *,
    grant: str | None = None,
    refresh: str | None = None,
    store: Path | None = None,
) -> dict[str, Any]:
    """The seed call through a Python SDK holding a grant or refresh token (no access token).

    The venv check comes first, so a missing SDK fails before a server starts.
    """
    require_venv(sdk)
    server: ServerProcess = request.getfixturevalue("oauth_server")
    cmd = [
        str(sdk.python),
        str(PY_PROBE),
        "--url",
        server.url,
        "--sdk",
        str(sdk.major),
        "--client-id",
        ACME_CLIENT,
        "--client-secret",
        ACME_SECRET,
        "--module",
        "Accounts",
        "--record-id",
        ZYLKER_ACCOUNT,
    ]
    if grant is not None:
        cmd += ["--grant-token", grant, "--redirect-url", ACME_REDIRECT]
    if refresh is not None:
        cmd += ["--refresh-token", refresh]
    if store is not None:
        cmd += ["--store", str(store)]
    return probe_answer(cmd, server)


def run_node_probe(
    request: pytest.FixtureRequest, refresh: str, store: Path | None = None
) -> dict[str, Any]:
    """The seed call through the Node SDK built with client id/secret + refresh token."""
    node = node_with_sdk()
    server: ServerProcess = request.getfixturevalue("oauth_server")
    cmd = [
        node,
        str(NODE_PROBE),
        server.url,
        refresh,
        "Accounts",
        ZYLKER_ACCOUNT,
        "--client-id",
        ACME_CLIENT,
        "--client-secret",
        ACME_SECRET,
    ]
    if store is not None:
        cmd += ["--store", str(store)]
    proc = subprocess.run(
        cmd, cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False
    )
    context = (
        f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}\n"
        f"--- server log ---\n{server.log()[-4000:]}"
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, f"probe must print exactly one JSON line; {context}"
    result: dict[str, Any] = json.loads(lines[0])
    # probe.js: 0 for a ResponseWrapper or APIException, 2 when the SDK threw.
    assert proc.returncode == (2 if "sdk_error" in result else 0), context
    return result


def assert_py_seed(result: dict[str, Any]) -> None:
    assert result["kind"] == "success", result
    assert result["http_status"] == 200, result
    assert result["entries"] == 1, result
    assert result["available_types"] == SEED_TYPES, result
    assert result["share_from_users"] == SEED_USERS, result
    assert_named_for_will(result["user_signature"])


def assert_py_invalid_code(result: dict[str, Any]) -> None:
    """The token endpoint's {"error":"invalid_code"}, raised by initialize(): no API call."""
    assert result["kind"] == "sdk_exception", result
    assert {"code": result["code"], "message": result["message"]} == SDK_INVALID_CODE, result


def assert_py_invalid_token(result: dict[str, Any]) -> None:
    """The details call made with a revoked access token, as the SDK's APIException."""
    assert result["kind"] == "api_exception", result
    assert (result["code"], result["message"], result["http_status"]) == (
        "INVALID_TOKEN",
        "invalid oauth token",
        401,
    ), result


NODE_SEED = {"ok": True, "available_types": SEED_TYPES, "share_from_users": SEED_USERS_NODE}
NODE_INVALID_TOKEN = {
    "ok": False,
    "code": "INVALID_TOKEN",
    "message": "invalid oauth token",
    "details": {},
    "status": "error",
}


def node_sdk_error(result: dict[str, Any]) -> dict[str, Any]:
    error = result.get("sdk_error")
    assert isinstance(error, dict), result
    return {"code": error["code"], "message": error["message"]}


# --- Python SDKs: grant token -----------------------------------------------------------------


def test_python_grant_token_flow(
    request: pytest.FixtureRequest, py_sdk: Sdk, tmp_path: Path
) -> None:
    """OAuthToken(client_id, client_secret, grant_token, redirect_url): the SDK exchanges the
    code at our endpoint, names the token via users/org, and reads the seed answer."""
    require_venv(py_sdk)
    server: ServerProcess = request.getfixturevalue("oauth_server")
    code = will_code(server)
    before = time.time()
    result = run_py_probe(request, py_sdk, grant=code, store=tmp_path)
    after = time.time()
    assert_py_seed(result)
    assert result["auth"] == "grant_token"
    token = result["token"]
    # Tokens the server issued: the access token works on the API, and api_domain is the
    # server's own URL (so the SDK keeps its Environment; docs/contract.md §11).
    assert api_status(server, token["access_token"]) == 200
    assert isinstance(token["refresh_token"], str), token
    assert token["refresh_token"].startswith("1000."), token
    assert token["api_domain"] == server.url
    assert_fresh_expiry(token["expires_in"], before, after)
    row = stored_token(tmp_path)
    assert (row["grant_token"], row["refresh_token"], row["access_token"]) == (
        code,
        token["refresh_token"],
        token["access_token"],
    )
    assert_named_for_will(row["user_name"])


def test_python_reused_grant_code_is_invalid_code(
    request: pytest.FixtureRequest, py_sdk: Sdk
) -> None:
    """A code is single use: the same code in a fresh SDK (empty token store) must make the
    SDK post it again, and our endpoint's invalid_code stops it before any API call."""
    require_venv(py_sdk)
    code = will_code(request.getfixturevalue("oauth_server"))
    assert_py_seed(run_py_probe(request, py_sdk, grant=code))
    assert_py_invalid_code(run_py_probe(request, py_sdk, grant=code))


def test_python_grant_then_refresh_then_revoke(
    request: pytest.FixtureRequest, py_sdk: Sdk, tmp_path: Path
) -> None:
    """Same grant-token setup on a kept token store: after expiry the SDK refreshes with the
    refresh token our endpoint gave it (not re-posting the spent code); once that refresh token
    is revoked, its next refresh gets invalid_code."""
    require_venv(py_sdk)
    server: ServerProcess = request.getfixturevalue("oauth_server")
    code = will_code(server)
    first = run_py_probe(request, py_sdk, grant=code, store=tmp_path)
    assert_py_seed(first)
    refresh_token = first["token"]["refresh_token"]

    expire_stored_token(tmp_path)
    before = time.time()
    second = run_py_probe(request, py_sdk, grant=code, store=tmp_path)
    after = time.time()
    assert_py_seed(second)
    assert second["token"]["refresh_token"] == refresh_token  # a refresh issues no new one
    assert second["token"]["access_token"] != first["token"]["access_token"]
    assert_fresh_expiry(second["token"]["expires_in"], before, after)
    assert api_status(server, second["token"]["access_token"]) == 200

    revoke(server, refresh_token)
    assert api_status(server, second["token"]["access_token"]) == 401
    expire_stored_token(tmp_path)
    assert_py_invalid_code(run_py_probe(request, py_sdk, grant=code, store=tmp_path))


# --- Python SDKs: refresh token ---------------------------------------------------------------


def test_python_refresh_token_flow(
    request: pytest.FixtureRequest, py_sdk: Sdk, tmp_path: Path
) -> None:
    """OAuthToken(client_id, client_secret, refresh_token): the SDK refreshes at our endpoint
    (form-urlencoded) and reads the seed answer with the new access token."""
    require_venv(py_sdk)
    server: ServerProcess = request.getfixturevalue("oauth_server")
    issued = exchange_code(server)
    before = time.time()
    result = run_py_probe(request, py_sdk, refresh=issued["refresh_token"], store=tmp_path)
    after = time.time()
    assert_py_seed(result)
    assert result["auth"] == "refresh_token"
    token = result["token"]
    assert token["access_token"] not in (None, issued["access_token"]), token
    assert token["refresh_token"] == issued["refresh_token"]
    assert token["api_domain"] == server.url
    assert_fresh_expiry(token["expires_in"], before, after)
    assert api_status(server, token["access_token"]) == 200
    assert stored_token(tmp_path)["access_token"] == token["access_token"]


def test_python_revoked_refresh_token(
    request: pytest.FixtureRequest, py_sdk: Sdk, tmp_path: Path
) -> None:
    """After revocation: the SDK's cached access token (made from the refresh token) is refused
    with INVALID_TOKEN; its next refresh, and a fresh SDK, get invalid_code."""
    require_venv(py_sdk)
    server: ServerProcess = request.getfixturevalue("oauth_server")
    refresh_token: str = exchange_code(server)["refresh_token"]
    assert_py_seed(run_py_probe(request, py_sdk, refresh=refresh_token, store=tmp_path))

    revoke(server, refresh_token)
    # Not expired yet: no refresh, the stored access token goes to the API and is refused.
    assert_py_invalid_token(run_py_probe(request, py_sdk, refresh=refresh_token, store=tmp_path))
    expire_stored_token(tmp_path)
    assert_py_invalid_code(run_py_probe(request, py_sdk, refresh=refresh_token, store=tmp_path))
    assert_py_invalid_code(run_py_probe(request, py_sdk, refresh=refresh_token))


# --- Node SDK: refresh token ------------------------------------------------------------------


def test_node_refresh_token_flow(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """OAuthBuilder().clientId().clientSecret().refreshToken(): the SDK refreshes at our endpoint
    (multipart/form-data) and reads the seed answer."""
    node_with_sdk()
    server: ServerProcess = request.getfixturevalue("oauth_server")
    issued = exchange_code(server)
    before = time.time()
    result = run_node_probe(request, issued["refresh_token"], store=tmp_path)
    after = time.time()
    assert result == NODE_SEED
    row = stored_token(tmp_path)
    assert row["refresh_token"] == issued["refresh_token"]
    assert row["access_token"] not in ("", issued["access_token"]), row
    assert row["api_domain"] == server.url
    assert_fresh_expiry(row["expiry_time"], before, after)
    assert_named_for_will(row["user_name"])
    assert api_status(server, row["access_token"]) == 200


def test_node_revoked_refresh_token(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """As for Python: cached access token → INVALID_TOKEN; next refresh → invalid_code."""
    node_with_sdk()
    server: ServerProcess = request.getfixturevalue("oauth_server")
    refresh_token: str = exchange_code(server)["refresh_token"]
    assert run_node_probe(request, refresh_token, store=tmp_path) == NODE_SEED

    revoke(server, refresh_token)
    assert run_node_probe(request, refresh_token, store=tmp_path) == NODE_INVALID_TOKEN
    expire_stored_token(tmp_path)
    assert node_sdk_error(run_node_probe(request, refresh_token, store=tmp_path)) == (
        SDK_INVALID_CODE
    )
    assert node_sdk_error(run_node_probe(request, refresh_token)) == SDK_INVALID_CODE
