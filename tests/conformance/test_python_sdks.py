"""Zoho's official Python SDKs, unmodified, as real clients of emailshare.

Each case runs ``tests/conformance/sdk_py_probe.py`` with the interpreter of an SDK virtualenv
(``.venvs/sdk7``: zohocrmsdk7-0 6.0.0, calls ``/crm/v7/...``; ``.venvs/sdk8``: zohocrmsdk8-0
7.0.0, calls ``/crm/v8/...``; made by ``scripts/setup-python-sdks.sh``) against the session
server loaded with ``tests/data/acme.json``, and checks what the SDK *parsed*: its
``ResponseWrapper`` for a success, its ``APIException`` (code/message/details/status) for an
error. Expected answers are derived from docs/contract.md and the fixture, not from server output.

Both SDKs pick the response class from the JSON body, never from the HTTP status: a 401/403/400
comes back as an ``APIException`` object, nothing is raised. On first use of an access token
(inside ``Initializer.initialize``) they call ``GET /crm/{v}/users?type=CurrentUser`` and then
``GET /crm/{v}/org`` with that token, to name the token ``<users[0].email>:<org[0].zgid>`` in
their token store. A token without the users/org scopes gets an error there; the SDK logs it,
stores the token unnamed and goes on to the real call, so those calls never decide a test's
outcome. The probe reports the name as ``user_signature``, which shows whether the first-use
calls succeeded: they must for the demo token (``a001`` has ``ZohoCRM.users.READ`` and
``ZohoCRM.org.READ``) and must not for tokens that lack those scopes (``a008``, ``a003``...),
since ``ZohoCRM.modules.ALL`` does not cover them (docs/contract.md §11).

Set ``EMAILSHARE_SKIP_SDK=1`` to skip these tests when the SDK virtualenvs are absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emailshare.testing import ServerProcess

pytestmark = pytest.mark.sdk

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().with_name("sdk_py_probe.py")
FIXTURE = REPO / "tests" / "data" / "acme.json"
SDK_MAJORS = (7, 8)

# Fixed tokens of tests/data/acme.json.
WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"  # + users, org
BOYLE = "1000.0000000000000000000000000000a002.00000000000000000000000000000002"
ADA_ADMIN = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
IAN_INACTIVE = "1000.0000000000000000000000000000a006.00000000000000000000000000000006"
WILL_MODULES_READ_ONLY = "1000.0000000000000000000000000000a008.00000000000000000000000000000008"
WILL_LEADS_EMAILS = "1000.0000000000000000000000000000a009.00000000000000000000000000000009"
WILL_EXPIRED = "1000.0000000000000000000000000000a00a.0000000000000000000000000000000a"
DAN_DELETED = "1000.0000000000000000000000000000a00b.0000000000000000000000000000000b"
GINA_GLOBEX = "1000.0000000000000000000000000000b001.00000000000000000000000000000b01"

ZYLKER_ACCOUNT = "3652397000001790004"  # Accounts, owner Will
CARLA_LEAD = "3652397000001790010"  # Leads, owner Carla, shared with Will, Carla shares emails
PAT_LEAD = "3652397000001790011"  # Leads, owner Pat (same role as Will), Leads private
PUBLIC_CONTACT = "3652397000001790020"  # Contacts (public_read_only), owner Pat
WILL_DEAL = "3652397000001790030"  # Deals, owner Will
PROJECT_X = "3652397000001790040"  # custom module Projects, owner Carla, Carla shares emails
GLOBEX_LEAD = "5124630000001790001"  # Leads of the other org (Globex)


# --- expected answers, from docs/contract.md §6 and the fixture -----------------------------


def _fixture() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(FIXTURE.read_text())
    return doc


def _org_and_user(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for org in _fixture()["orgs"]:
        for tok in org.get("tokens", []):
            if tok["access_token"] == token:
                user = next(u for u in org["users"] if u["id"] == tok["user"])
                return org, user
    raise AssertionError(f"token {token} is not in the fixture")


def _visible_mailbox(user: dict[str, Any]) -> bool:
    mailbox = user.get("mailbox")
    return (
        user.get("status", "active") == "active"
        and mailbox is not None
        and bool(mailbox.get("enabled", True))
    )


def expected_success(token: str, module: str, record_id: str) -> dict[str, Any]:
    """What the SDK should parse for a readable record: section 6 applied to the fixture.

    ``id`` is an ``int`` because both SDKs declare ``ShareFromUser.id`` as ``Long`` and convert
    the wire's digit string with ``int()``.
    """
    org, caller = _org_and_user(token)
    record = next(r for r in org["records"] if r["id"] == record_id)
    shared_by = set(record.get("emails_shared_by", []))

    def shares(user: dict[str, Any]) -> bool:
        mode = user.get("email_sharing", "private")
        return mode == "public" or (mode == "custom" and user["id"] in shared_by)

    others = [
        u for u in org["users"] if u["id"] != caller["id"] and _visible_mailbox(u) and shares(u)
    ]
    others.sort(key=lambda u: (u["name"].casefold(), int(u["id"])))
    users = ([caller] if _visible_mailbox(caller) else []) + others
    users = users[:50]
    canonical = record["module"]
    types = ["emails_sent_from_crm"]
    if canonical in ("Accounts", "Deals"):
        types.append("all_contacts_emails")
    if users:
        types.append("all_imap_shared_users")
    types.append("all_emails")
    return {
        "available_types": types,
        "share_from_users": [
            {"id": int(u["id"]), "name": u["name"], "_type": u["mailbox"]["protocol"]}
            for u in users
        ],
    }


# --- running the probe ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sdk:
    major: int
    python: Path


@pytest.fixture(params=SDK_MAJORS, ids=[f"sdk{n}" for n in SDK_MAJORS])
def sdk(request: pytest.FixtureRequest) -> Sdk:
    major: int = request.param
    return Sdk(major=major, python=REPO / ".venvs" / f"sdk{major}" / "bin" / "python")


def require_venv(sdk: Sdk) -> None:
    """A missing SDK venv fails the test (in its body, so it reports FAILED, not ERROR),
    unless EMAILSHARE_SKIP_SDK=1."""
    if sdk.python.exists():
        return
    message = (
        f"{sdk.python} is missing: run scripts/setup-python-sdks.sh to install Zoho's "
        f"Python SDK (zohocrmsdk{sdk.major}-0) into .venvs/sdk{sdk.major}"
    )
    if os.environ.get("EMAILSHARE_SKIP_SDK") == "1":
        pytest.skip(message)
    pytest.fail(message)


def run_probe(
    sdk: Sdk, server: ServerProcess, token: str, module: str, record_id: int | str
) -> dict[str, Any]:
    require_venv(sdk)
    cmd = [
        str(sdk.python),
        str(PROBE),
        "--url",
        server.url,
        "--token",
        token,
        "--module",
        module,
        "--record-id",
        str(record_id),
        "--sdk",
        str(sdk.major),
    ]
    return probe_answer(cmd, server)


def probe_answer(cmd: list[str], server: ServerProcess) -> dict[str, Any]:
    """The one JSON line a Python SDK probe (``cmd``) prints; a failure says the probe's and
    the server's output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or len(lines) != 1:
        pytest.fail(
            f"probe failed (rc={proc.returncode}): {' '.join(cmd)}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}\n"
            f"server log:\n{server.log()[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[0])
    return result


def assert_first_use_named(result: dict[str, Any], email: str) -> None:
    """users/org answered the SDK: it named the token '<users[0].email>:<org[0].zgid>'."""
    signature = result["user_signature"]
    assert isinstance(signature, str), result
    name, _, zgid = signature.partition(":")
    assert name == email, result
    assert zgid, f"org[0].zgid missing or empty: {result}"


# --- (a) successes ----------------------------------------------------------------------------


def test_seed_answer(sdk: Sdk, server: ServerProcess) -> None:
    """The seed's sample answer, as the SDK parses it (Will Grandon on Zylker)."""
    result = run_probe(sdk, server, WILL, "Accounts", ZYLKER_ACCOUNT)
    assert result["ok"] is True, result
    assert result["kind"] == "success"
    assert result["http_status"] == 200
    assert result["entries"] == 1  # the outer value is an array holding one object
    expected = expected_success(WILL, "Accounts", ZYLKER_ACCOUNT)
    assert result["available_types"] == expected["available_types"]
    assert result["share_from_users"] == expected["share_from_users"]
    # The seed's sample, spelled out.
    assert result["available_types"] == [
        "emails_sent_from_crm",
        "all_contacts_emails",
        "all_imap_shared_users",
        "all_emails",
    ]
    assert result["share_from_users"] == [
        {"id": 412463000001213019, "name": "Will Grandon", "_type": "pop"},
        {"id": 412463000000867017, "name": "boyle", "_type": "imap"},
    ]
    assert_first_use_named(result, "will@acme.test")


@pytest.mark.parametrize(
    ("token", "module", "record_id", "email"),
    [
        # Carla's lead is shared with Will; Carla (custom sharing) shared its emails.
        (WILL, "Leads", CARLA_LEAD, "will@acme.test"),
        # Contacts are public_read_only in Acme: Will may read Pat's contact.
        (WILL, "Contacts", PUBLIC_CONTACT, "will@acme.test"),
        (WILL, "Deals", WILL_DEAL, "will@acme.test"),
        # Module names match case-insensitively.
        (WILL, "accounts", ZYLKER_ACCOUNT, "will@acme.test"),
        # An administrator reads any record, here of a custom module; Ada's own mailbox comes
        # first although her sharing is private. a003 lacks the users/org scopes.
        (ADA_ADMIN, "Projects", PROJECT_X, None),
        # boyle on his own quote (Quotes are private by default): boyle first, then Will.
        (BOYLE, "Quotes", "3652397000001790050", None),
        # The other org, with its own demo-like token.
        (GINA_GLOBEX, "Leads", GLOBEX_LEAD, "gina@globex.test"),
        # Narrow scopes: module scope for leads plus emails read are enough.
        (WILL_LEADS_EMAILS, "Leads", CARLA_LEAD, None),
    ],
    ids=[
        "will-carla-lead",
        "will-public-contact",
        "will-deal",
        "lowercase-module",
        "admin-custom-module",
        "boyle-quote",
        "globex",
        "narrow-scopes",
    ],
)
def test_success(
    sdk: Sdk, server: ServerProcess, token: str, module: str, record_id: str, email: str | None
) -> None:
    result = run_probe(sdk, server, token, module, record_id)
    assert result["ok"] is True, result
    assert result["http_status"] == 200
    assert result["entries"] == 1
    expected = expected_success(token, module, record_id)
    assert result["available_types"] == expected["available_types"], result
    assert result["share_from_users"] == expected["share_from_users"], result
    if email is None:
        # No ZohoCRM.users/org scope: the first-use calls must be refused, as Zoho does.
        assert result["user_signature"] is None, result
    else:
        assert_first_use_named(result, email)


# --- (b) errors, as the SDK's APIException ----------------------------------------------------

ErrorCase = tuple[str, str, dict[str, Any], int]  # code, message, details, HTTP status

INVALID_DATA: ErrorCase = (
    "INVALID_DATA",
    "the related id given seems to be invalid",
    {"resource_path_index": 1},
    400,
)
NOT_SUPPORTED: ErrorCase = (
    "NOT_SUPPORTED",
    "the given module is not supported in api",
    {"resource_path_index": 0},
    400,
)
INVALID_MODULE: ErrorCase = (
    "INVALID_MODULE",
    "the module name given seems to be invalid",
    {"resource_path_index": 0},
    400,
)
NO_PERMISSION: ErrorCase = (
    "NO_PERMISSION",
    "permission denied",
    {"permissions": ["Crm_Implied_View_Emails"]},
    403,
)
INVALID_TOKEN: ErrorCase = ("INVALID_TOKEN", "invalid oauth token", {}, 401)
SCOPE_MISMATCH: ErrorCase = (
    "OAUTH_SCOPE_MISMATCH",
    "invalid oauth scope to access this URL",
    {},
    401,
)


@pytest.mark.parametrize(
    ("token", "module", "record_id", "error"),
    [
        # The SDK only accepts an int record id, so "invalid" means: no such record, not
        # positive, or not a signed 64-bit value (20 digits; 2**63 has 19 digits).
        (WILL, "Accounts", 1, INVALID_DATA),
        (WILL, "Accounts", 0, INVALID_DATA),
        (WILL, "Accounts", -1, INVALID_DATA),
        (WILL, "Accounts", 10**19, INVALID_DATA),
        (WILL, "Accounts", 2**63, INVALID_DATA),
        # A real record, but of another module.
        (WILL, "Accounts", CARLA_LEAD, INVALID_DATA),
        # A record of another org never shows that it exists.
        (WILL, "Leads", GLOBEX_LEAD, INVALID_DATA),
        (WILL, "Tasks", ZYLKER_ACCOUNT, NOT_SUPPORTED),
        (WILL, "Products", ZYLKER_ACCOUNT, NOT_SUPPORTED),
        (WILL, "NoSuchModule", ZYLKER_ACCOUNT, INVALID_MODULE),
        # Pat's lead: Leads are private, Pat is not below Will, not shared with him.
        (WILL, "Leads", PAT_LEAD, NO_PERMISSION),
        # Carla (Sales Manager) owns Project X; Will (Sales Rep) is below her.
        (WILL, "Projects", PROJECT_X, NO_PERMISSION),
        # Token errors. These tokens also fail the SDK's first-use users/org calls (INVALID_TOKEN
        # or OAUTH_SCOPE_MISMATCH there); the SDK logs that and still makes the details call,
        # whose APIException is what we check.
        (WILL_EXPIRED, "Accounts", ZYLKER_ACCOUNT, INVALID_TOKEN),
        (IAN_INACTIVE, "Accounts", ZYLKER_ACCOUNT, INVALID_TOKEN),
        (DAN_DELETED, "Accounts", ZYLKER_ACCOUNT, INVALID_TOKEN),
        (
            "1000.ffffffffffffffffffffffffffffffff.ffffffffffffffffffffffffffffffff",
            "Accounts",
            ZYLKER_ACCOUNT,
            INVALID_TOKEN,
        ),
        # a008 has only ZohoCRM.modules.READ: no emails scope.
        (WILL_MODULES_READ_ONLY, "Accounts", ZYLKER_ACCOUNT, SCOPE_MISMATCH),
        # a009: leads + emails only; Accounts are out of its module scope.
        (WILL_LEADS_EMAILS, "Accounts", ZYLKER_ACCOUNT, SCOPE_MISMATCH),
    ],
    ids=[
        "unknown-id",
        "zero-id",
        "negative-id",
        "20-digit-id",
        "2pow63-id",
        "other-module-id",
        "other-org",
        "tasks",
        "products",
        "invalid-module",
        "no-permission-lead",
        "no-permission-project",
        "expired-token",
        "inactive-user",
        "deleted-user",
        "unknown-token",
        "no-emails-scope",
        "no-module-scope",
    ],
)
def test_error(
    sdk: Sdk, server: ServerProcess, token: str, module: str, record_id: int | str, error: ErrorCase
) -> None:
    code, message, details, http_status = error
    result = run_probe(sdk, server, token, module, record_id)
    # Not raised: the SDK hands back its APIException object whatever the HTTP status.
    assert result["kind"] == "api_exception", result
    assert result["ok"] is False
    assert result["code"] == code, result
    assert result["message"] == message, result
    assert result["details"] == details, result
    assert result["status"] == "error", result
    assert result["http_status"] == http_status, result


def test_first_use_calls_refused_without_scopes(sdk: Sdk, server: ServerProcess) -> None:
    """a008 (ZohoCRM.modules.READ only): users/org answer an error, the SDK still works."""
    result = run_probe(sdk, server, WILL_MODULES_READ_ONLY, "Accounts", ZYLKER_ACCOUNT)
    assert result["user_signature"] is None, result
    assert result["kind"] == "api_exception", result
