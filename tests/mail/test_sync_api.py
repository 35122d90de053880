"""Synced emails through the API (docs/contract.md §§12.3, 13): a message to a Lead's address,
synced from a real Dovecot, is in that Lead's Emails list for exactly the callers the sharing
rules allow — after ``emailshare sync`` and after ``serve --sync-every``."""

from __future__ import annotations

import subprocess
import sys
import time
from email.message import EmailMessage

import httpx

from emailshare.testing import free_port, running_app, stop_group, wait_for_port
from tests.mail.conftest import CARL, DORA, LEAD, LEAD_ID, PAT, WILL, Env, token

PATH = f"/crm/v8/Leads/{LEAD_ID}/Emails"


def mail(subject: str, sender: str, to: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0530"
    msg.set_content("hello")
    return msg.as_bytes()


def subjects(client: httpx.Client, user: int) -> list[str] | None:
    """The subjects the user sees in the Lead's Emails list; None for a 204."""
    answer = client.get(PATH, headers={"Authorization": f"Zoho-oauthtoken {token(user)}"})
    if answer.status_code == 204:
        return None
    assert answer.status_code == 200, answer.text
    return sorted(e["subject"] for e in answer.json()["Emails"])


def test_synced_email_listed_for_exactly_the_allowed_callers(env: Env) -> None:
    d = env.dovecot
    d.append("will@acme.test", mail("Pour Will — ünïcode", f"Zoë <{LEAD}>", "will@acme.test"))
    d.append("dora@acme.test", mail("Pour Dora", f"Zoë <{LEAD}>", "dora@acme.test"))
    d.append("dora@acme.test", mail("Not the lead", "x@else.test", "dora@acme.test"))
    d.deliver("pat@acme.test", mail("Pour Pat", f"Zoë <{LEAD}>", "pat@acme.test"))
    env.connect(WILL, "will@acme.test")  # IMAP
    env.connect(DORA, "dora@acme.test", port="imaps", security="tls")  # IMAP over TLS
    env.connect(PAT, "pat@acme.test", port="pop3")  # POP3
    assert "3 mailboxes: 4 new" in env.sync()
    with running_app(db_url=env.db) as app:
        # Will and Pat share publicly, Dora privately; Carl has no mailbox.
        assert subjects(app.client, WILL) == ["Pour Pat", "Pour Will — ünïcode"]
        assert subjects(app.client, PAT) == ["Pour Pat", "Pour Will — ünïcode"]
        assert subjects(app.client, DORA) == ["Pour Dora", "Pour Pat", "Pour Will — ünïcode"]
        assert subjects(app.client, CARL) is None
        listed = app.client.get(
            PATH, headers={"Authorization": f"Zoho-oauthtoken {token(WILL)}"}
        ).json()["Emails"]
        [one] = [e for e in listed if e["owner"]["id"] == str(WILL)]  # his own, to open
        assert one["from"] == {"user_name": "Zoë", "email": LEAD}
        assert one["time"] == "2026-12-01T09:30:00+05:30"
        assert one["sent"] is False
        got = app.client.get(
            f"{PATH}/{one['message_id']}",
            headers={"Authorization": f"Zoho-oauthtoken {token(WILL)}"},
        )
        assert got.status_code == 200, got.text
        assert got.json()["Emails"][0]["content"].strip() == "hello"


def test_serve_sync_every_syncs_in_the_background(env: Env) -> None:
    env.connect(WILL, "will@acme.test")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emailshare",
            "serve",
            "--db",
            env.db,
            "--port",
            str(port),
            "--workers",
            "2",
            "--sync-every",
            "0.5",
            "--secret-key-file",
            str(env.key_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        try:
            wait_for_port("127.0.0.1", port, 30.0, proc)
        except RuntimeError:
            raise AssertionError(proc.communicate()[1]) from None
        env.dovecot.append("will@acme.test", mail("Arrived later", LEAD, "will@acme.test"))
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 30
            while subjects(client, WILL) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert subjects(client, WILL) == ["Arrived later"]
        # One sync loop for the server, not one per worker: the message is stored once and
        # the lease is never contended.
        assert env.cli("mailbox", "list", "--db", env.db).count("1 emails") == 1
    finally:
        stop_group(proc)
