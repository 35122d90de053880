"""Zoho's official Node SDK (@zohocrm/nodejs-sdk-7.0 4.0.0, unmodified) as a client of emailshare.

Each case runs tests/conformance/node/probe.js, which initialises the SDK against the test server
(its own data centre: API domain and accounts URL = the server), calls
EmailSharingDetailsOperations.getEmailSharingDetails() and prints what the SDK's getters return.
Install the SDK with scripts/setup-node-sdk.sh; EMAILSHARE_SKIP_SDK=1 skips these tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from emailshare.testing import ServerProcess

pytestmark = pytest.mark.sdk

NODE_DIR = Path(__file__).parent / "node"
PROBE = NODE_DIR / "probe.js"
SDK_PACKAGE = NODE_DIR / "node_modules" / "@zohocrm" / "nodejs-sdk-7.0" / "package.json"
SDK_VERSION = "4.0.0"

WILL_TOKEN = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
WILL = {"id": "412463000001213019", "name": "Will Grandon", "_type": "pop"}
BOYLE = {"id": "412463000000867017", "name": "boyle", "_type": "imap"}
CARLA = {"id": "412463000000500002", "name": "Carla Custom", "_type": "api"}

ZYLKER_ACCOUNT = "3652397000001790004"
CARLAS_LEAD = "3652397000001790010"
PATS_LEAD = "3652397000001790011"
GLOBEX_LEAD = "5124630000001790001"

INVALID_ID = {
    "code": "INVALID_DATA",
    "message": "the related id given seems to be invalid",
    "details": {"resource_path_index": 1},
    "status": "error",
}


def node_with_sdk() -> str:
    """The node executable once the pinned SDK is installed; skips only on EMAILSHARE_SKIP_SDK=1."""
    if os.environ.get("EMAILSHARE_SKIP_SDK") == "1":
        pytest.skip("EMAILSHARE_SKIP_SDK=1")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js >= 18, run scripts/setup-node-sdk.sh")
    if not SDK_PACKAGE.is_file():
        pytest.fail(
            f"@zohocrm/nodejs-sdk-7.0 is not installed in {NODE_DIR / 'node_modules'}: "
            "run scripts/setup-node-sdk.sh (or set EMAILSHARE_SKIP_SDK=1 to skip SDK tests)"
        )
    installed = json.loads(SDK_PACKAGE.read_text())["version"]
    if installed != SDK_VERSION:
        pytest.fail(
            f"@zohocrm/nodejs-sdk-7.0 {installed} is installed, the tests pin {SDK_VERSION}: "
            "run scripts/setup-node-sdk.sh"
        )
    return node


def details(
    request: pytest.FixtureRequest, module: str, record_id: str, token: str = WILL_TOKEN
) -> dict[str, Any]:
    """One record's email sharing details as the Node SDK parses them (Will's view by default).

    The SDK check comes first, so a missing install fails at once, before a server starts.
    """
    node = node_with_sdk()
    server: ServerProcess = request.getfixturevalue("server")
    proc = subprocess.run(
        [node, str(PROBE), server.url, token, module, record_id],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    context = (
        f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}\n"
        f"--- server log ---\n{server.log()}"
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, f"probe must print exactly one JSON line; {context}"
    result: dict[str, Any] = json.loads(lines[0])
    assert "sdk_error" not in result, f"the SDK itself failed; {context}"
    assert proc.returncode == 0, context
    return result


def test_seed_sample_reads_back_through_the_sdk(request: pytest.FixtureRequest) -> None:
    result = details(request, "Accounts", ZYLKER_ACCOUNT)
    assert result == {
        "ok": True,
        "available_types": [
            "emails_sent_from_crm",
            "all_contacts_emails",
            "all_imap_shared_users",
            "all_emails",
        ],
        "share_from_users": [WILL, BOYLE],
    }


def test_shared_lead_lists_caller_then_case_folded_names(
    request: pytest.FixtureRequest,
) -> None:
    # Will first (the caller); then "boyle" < "carla custom" by casefold; Carla shares her
    # emails of this record (custom sharing); Leads gathers no contacts' emails.
    result = details(request, "Leads", CARLAS_LEAD)
    assert result == {
        "ok": True,
        "available_types": ["emails_sent_from_crm", "all_imap_shared_users", "all_emails"],
        "share_from_users": [WILL, BOYLE, CARLA],
    }


@pytest.mark.parametrize(
    ("module", "record_id", "expected"),
    [
        pytest.param("Accounts", "abc", INVALID_ID, id="non-numeric-record-id"),
        pytest.param(
            "Tasks",
            ZYLKER_ACCOUNT,
            {
                "code": "NOT_SUPPORTED",
                "message": "the given module is not supported in api",
                "details": {"resource_path_index": 0},
                "status": "error",
            },
            id="unsupported-module",
        ),
        pytest.param("Leads", GLOBEX_LEAD, INVALID_ID, id="other-orgs-record"),
        pytest.param(
            "Leads",
            PATS_LEAD,
            {
                "code": "NO_PERMISSION",
                "message": "permission denied",
                "details": {"permissions": ["Crm_Implied_View_Emails"]},
                "status": "error",
            },
            id="unreadable-record",
        ),
    ],
)
def test_errors_parse_into_the_sdks_api_exception(
    request: pytest.FixtureRequest,
    module: str,
    record_id: str,
    expected: dict[str, Any],
) -> None:
    result = details(request, module, record_id)
    assert result == {"ok": False, **expected}
