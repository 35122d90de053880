"""Zoho's official SDKs, unmodified, list, page and open the emails of a record on emailshare
(docs/contract.md §12): zohocrmsdk7-0 and zohocrmsdk8-0 (``EmailRelatedRecordsOperations``,
through tests/conformance/sdk_py_emails_probe.py in their virtualenvs) and
@zohocrm/nodejs-sdk-7.0 (``EmailRelatedRecords``, through tests/conformance/node/emails_probe.mjs).

What is checked is what each SDK *parsed*, through its getters: every page followed by
``next_index``, ids (Python ``int``, Node ``BigInt``), date-times (the same instant), booleans,
the nested objects (owner, from, to, cc, reply_to, linked_record with its module, status,
attachments), the 204 of an empty list, and the API exceptions (code, message, details) of
§§12.2, 12.3 and 12.5. Expected values come from tests/conformance/emails_org.py.
``EMAILSHARE_SKIP_SDK=1`` skips these tests when the SDKs are not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emailshare.testing import ServerProcess, start_server
from tests.conformance import emails_org as org
from tests.conftest import db_url_for

pytestmark = pytest.mark.sdk

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PY_PROBE = HERE / "sdk_py_emails_probe.py"
NODE_DIR = HERE / "node"
NODE_PROBE = NODE_DIR / "emails_probe.mjs"
SDKS = ("sdk7", "sdk8", "node")
RICH_TIME = datetime.fromisoformat("2024-02-01T10:15:30+05:30")
COLLEAGUE = (
    "Your colleague has not provided viewing permissions for the email messages related to "
    "this record."
)
NOT_IN_MAILBOX = "Do not have any email with this message id in user configured email account"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("sdk-emails")
    server = start_server(db_url=db_url_for(folder), fixture=org.write(Path(folder)))
    yield server
    server.stop()


def _command(sdk: str) -> list[str]:
    if os.environ.get("EMAILSHARE_SKIP_SDK") == "1":
        pytest.skip("EMAILSHARE_SKIP_SDK=1")
    if sdk == "node":
        node = shutil.which("node")
        if node is None or not (NODE_DIR / "node_modules" / "@zohocrm").is_dir():
            pytest.fail("the Node SDK is not installed: run scripts/setup-node-sdk.sh")
        return [node, str(NODE_PROBE)]
    python = REPO / ".venvs" / sdk / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run scripts/setup-python-sdks.sh")
    return [str(python), str(PY_PROBE)]


def run(
    srv: ServerProcess,
    sdk: str,
    *extra: str,
    user: str = org.WILL_ID,
    module: str = "Leads",
    record: str = org.LEAD,
) -> dict[str, Any]:
    """One probe run: what the SDK parsed, as the probe prints it."""
    command = _command(sdk)
    if sdk == "node":
        args = [srv.url, org.token(user), module, record, *extra]
    else:
        args = ["--url", srv.url, "--token", org.token(user), "--module", module]
        args += ["--record-id", record, *extra]
    proc = subprocess.run(
        [*command, *args],
        cwd=NODE_DIR if sdk == "node" else REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout, f"{sdk} printed nothing: {proc.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def ident(sdk: str, value: Any) -> str:
    """An id as the SDK typed it: Python ``Long`` is an int, Node ``BigInt`` a digit string."""
    if sdk == "node":
        assert isinstance(value, str)
        return value
    assert isinstance(value, dict)
    assert isinstance(value["int"], int)
    return str(value["int"])


def instant(sdk: str, value: Any) -> datetime:
    """A parsed date-time: Python ``datetime`` (aware), Node ``Date``."""
    if sdk == "node":
        return datetime.fromisoformat(value["iso"].replace("Z", "+00:00"))
    parsed = datetime.fromisoformat(value["datetime"])
    assert parsed.utcoffset() is not None
    return parsed


def emails_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    assert result["ok"] is True, result
    return [e for page in result["pages"] for e in page.get("emails", [])]


@pytest.mark.parametrize("sdk", SDKS)
def test_every_page_is_listed_once(srv: ServerProcess, sdk: str) -> None:
    """Paging through ``index`` = ``next_index`` gives the contract's list, newest first."""
    for user in (org.WILL_ID, org.CARLA_ID, org.PAT_ID):
        result = run(srv, sdk, "--all", user=user)
        assert [e["message_id"] for e in emails_of(result)] == org.default_list(user)
        first = result["pages"][0]
        assert first["http_status"] == 200
        assert first["info"]["per_page"] == 10
        assert first["info"]["prev_index"] == "0"
    pages = run(srv, sdk, "--all")["pages"]
    assert [p["info"]["count"] for p in pages] == [10, 10, 6]
    assert [p["info"]["more_records"] for p in pages] == [True, True, False]
    assert pages[-1]["info"]["next_index"] is None
    assert pages[2]["info"]["prev_index"] == pages[0]["info"]["next_index"]


@pytest.mark.parametrize("sdk", SDKS)
def test_list_fields_are_parsed(srv: ServerProcess, sdk: str) -> None:
    rich = next(e for e in emails_of(run(srv, sdk, "--all")) if e["message_id"] == org.RICH)
    assert instant(sdk, rich["time"]) == RICH_TIME
    assert ident(sdk, rich["owner"]["id"]) == org.WILL_ID
    assert rich["owner"]["name"] == "Will Grandon"
    assert rich["from"] == {"user_name": "Lead Person", "email": org.ADDRESS}
    assert rich["to"] == [{"user_name": "Will Grandon", "email": "will@acme.test"}]
    assert rich["cc"] == [{"user_name": None, "email": "cc@customer.test"}]
    assert rich["status"] == [{"type": "received"}]
    flags = (rich["sent"], rich["read"], rich["has_attachment"], rich["has_thread_attachment"])
    assert flags == (False, False, True, True)
    linked = rich["linked_record"]
    assert ident(sdk, linked["id"]) == org.DEAL
    assert (linked["name"], linked["module"]["api_name"]) == ("Big Deal", "Deals")
    assert ident(sdk, linked["module"]["id"]).isdigit()
    assert (rich["intent"], rich["sentiment_info"]) == ("purchase", "positive")
    assert (rich["emotion"], rich["summary"]) == ("gratitude", "Asks for a quote.")
    assert rich["content"] is None  # never in the list
    crm = next(e for e in emails_of(run(srv, sdk)) if e["message_id"].startswith("crm"))
    assert (crm["cc"], crm["linked_record"], crm["source"]) == (None, None, "individual")


@pytest.mark.parametrize("sdk", SDKS)
def test_one_email(srv: ServerProcess, sdk: str) -> None:
    result = run(srv, sdk, "--message", org.RICH)
    assert result["ok"] is True, result
    (one,) = result["emails"]
    assert one["content"] == "<div>please quote</div>"
    assert one["mail_format"] == "html"
    assert one["attachments"] == [{"id": "72daf06349c51ce66", "name": "quote.pdf", "size": "24792"}]
    assert one["sent_time"] == "2024-02-01T10:15:30+05:30"  # a String in both SDKs
    assert one["thread_id"] == "777000111"
    assert one["editable"] is False
    assert one["reply_to"] == {"user_name": "Lead Desk", "email": "desk@customer.test"}
    assert one["cc"] == [{"user_name": None, "email": "cc@customer.test"}]
    assert one["status"] == [{"type": "received"}]


@pytest.mark.parametrize("sdk", SDKS)
def test_type_owner_and_empty(srv: ServerProcess, sdk: str) -> None:
    drafts = emails_of(run(srv, sdk, "--type", "drafts", "--all"))
    assert [e["status"] for e in drafts] == [[{"type": "draft"}]]
    boyle = emails_of(run(srv, sdk, "--type", "user_emails", "--owner-id", org.BOYLE_ID, "--all"))
    assert boyle
    assert {ident(sdk, e["owner"]["id"]) for e in boyle} == {org.BOYLE_ID}
    empty = run(srv, sdk, "--type", "drafts", module="Deals", record=org.DEAL)
    assert empty == {**empty, "ok": True, "pages": [{"http_status": 204, "empty": True}]}


def _error(result: dict[str, Any]) -> tuple[Any, ...]:
    assert result["ok"] is False, result
    assert result.get("kind", "api_exception") == "api_exception", result
    assert result["status"] == "error"
    return (result["http_status"], result["code"], result["message"], result["details"])


@pytest.mark.parametrize("sdk", SDKS)
def test_errors_are_api_exceptions(srv: ServerProcess, sdk: str) -> None:
    status, code, _, details = _error(run(srv, sdk, "--type", "all_emails"))
    assert (status, code, details) == (400, "INVALID_DATA", {"param_name": "type"})
    status, code, _, details = _error(run(srv, sdk, "--index", "feedface"))
    assert (status, code, details) == (400, "INVALID_DATA", {"param_name": "index"})
    colleague = run(srv, sdk, "--type", "user_emails", "--owner-id", org.CARLA_ID)
    assert _error(colleague) == (403, "NO_PERMISSION", COLLEAGUE, {})
    boyles = run(srv, sdk, "--message", org.message_id(1))
    assert _error(boyles) == (403, "NO_PERMISSION", NOT_IN_MAILBOX, {})
    unknown = _error(run(srv, sdk, "--message", "nosuchmessage"))
    assert unknown == (
        400,
        "INVALID_DATA",
        "Invalid message id has been provided",
        {"resource_path_index": 3},
    )
