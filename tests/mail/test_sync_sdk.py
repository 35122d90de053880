"""Zoho's official Python SDK (zohocrmsdk8-0, unmodified) lists an email synced from a real
Dovecot in the record's Emails list, for the owner and for the colleague the rules allow
(docs/contract.md §§12, 13), through tests/conformance/sdk_py_emails_probe.py."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emailshare.testing import start_server
from tests.mail.conftest import CARL, DORA, LEAD, LEAD_ID, WILL, Env, token

pytestmark = pytest.mark.sdk

REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "tests" / "conformance" / "sdk_py_emails_probe.py"


def listed(url: str, user: int) -> dict[str, Any]:
    python = REPO / ".venvs" / "sdk8" / "bin" / "python"
    if os.environ.get("EMAILSHARE_SKIP_SDK") == "1":
        pytest.skip("EMAILSHARE_SKIP_SDK=1")
    if not python.exists():
        pytest.fail(f"{python} is missing: run scripts/setup-python-sdks.sh")
    done = subprocess.run(
        [
            str(python),
            str(PROBE),
            "--url",
            url,
            "--token",
            token(user),
            "--module",
            "Leads",
            "--record-id",
            str(LEAD_ID),
            "--all",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result["ok"] is True, result
    return result


def test_the_sdk_lists_a_synced_email_for_exactly_the_allowed_callers(env: Env) -> None:
    env.dovecot.append(
        "will@acme.test",
        b"From: =?utf-8?q?Zo=C3=AB?= <" + LEAD.encode() + b">\r\nTo: will@acme.test\r\n"
        b"Subject: =?utf-8?q?Synced_=E2=80=94_=C3=BC?=\r\n"
        b"Date: Tue, 01 Dec 2026 09:30:00 +0530\r\n\r\nhello\r\n",
    )
    env.connect(WILL, "will@acme.test")
    assert "1 new" in env.sync()
    server = start_server(db_url=env.db)
    try:
        for user in (WILL, DORA):
            [page] = listed(server.url, user)["pages"]
            [email] = page["emails"]
            assert email["subject"] == "Synced — ü"
            assert email["from"] == {"user_name": "Zoë", "email": LEAD}
            when = datetime.fromisoformat(email["time"]["datetime"])
            assert when == datetime.fromisoformat("2026-12-01T09:30:00+05:30")
        [empty] = listed(server.url, CARL)["pages"]
        assert empty["http_status"] == 204
    finally:
        server.stop()
