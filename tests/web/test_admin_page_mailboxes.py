"""The admin page's Mailboxes view in a real headless Chromium (as tests/web/test_admin_page.py),
against mailboxes synced from a real Dovecot (tests/dovecot.py): one that synced, one whose
password the server refuses. Each row shows the protocol, the server's host:port and security,
the login name, the last sync, the emails, the last error and its time and the next retry; no
password is anywhere in the page (docs/mailboxes.md, "What a failing mailbox looks like")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from emailshare.mail import vault
from emailshare.testing import ServerProcess, load_fixture, start_server
from tests.conftest import db_url_for
from tests.dovecot import Dovecot
from tests.mail.conftest import DORA, ORG, PASSWORDS, WILL, Env, org_doc
from tests.web.test_admin_page import (  # noqa: F401 - browser: the shared Chromium fixture
    admin_page,
    browser,
)

KEY = "admin-page-mailboxes-key"
WRONG = "not-Doras-pw-91d3"
WHEN = r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d"


def mail(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "lead@client.test", "will@acme.test", subject
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    msg.set_content("hello")
    return msg.as_bytes()


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Env]]:
    """Will's mailbox synced (two emails); Dora's refused for a wrong password."""
    tmp: Path = tmp_path_factory.mktemp("web-mailboxes")
    dovecot = Dovecot.create(PASSWORDS)
    dovecot.start()
    try:
        db = db_url_for(tmp)
        load_fixture(db, json.dumps(org_doc()), reset=True)
        key_file = tmp / "emailshare.key"
        key_file.write_text(vault.new_key())
        env = Env(db, key_file, dovecot)
        dovecot.append("will@acme.test", mail("one"))
        dovecot.append("will@acme.test", mail("two"))
        env.connect(WILL, "will@acme.test")
        env.connect(DORA, "dora@acme.test", port="imaps", security="tls", password=WRONG)
        assert "1 failed" in env.sync(check=False)
        srv = start_server(db_url=db, args=["--admin-key", KEY])
        try:
            yield srv, env
        finally:
            srv.stop()
    finally:
        dovecot.destroy()


@pytest.fixture
def page(browser: Browser, synced: tuple[ServerProcess, Env]) -> Iterator[Page]:  # noqa: F811
    with admin_page(browser, synced[0].url, KEY) as opened:
        yield opened


def test_each_mailbox_shows_its_server_and_sync_state(
    page: Page, synced: tuple[ServerProcess, Env]
) -> None:
    ports = synced[1].dovecot.ports
    expect(page.locator("#mailboxes-count")).to_have_text("2 with a server, 1 failing")
    will = page.locator(f"#mailboxes-table tr[data-user='{WILL}']")
    expect(will).to_have_attribute("data-org", str(ORG))
    cells = will.locator("td")
    expect(cells.nth(2)).to_have_text("will@acme.test")
    expect(cells.nth(3)).to_have_text("imap")
    expect(cells.nth(4)).to_have_text(f"127.0.0.1:{ports['imap']}")
    expect(cells.nth(5)).to_have_text("none")
    expect(cells.nth(6)).to_have_text("will@acme.test")
    expect(cells.nth(7)).to_have_text(re.compile(f"^{WHEN}$"))
    expect(cells.nth(8)).to_have_text("2")
    expect(cells.nth(9)).to_have_text("ok")
    expect(cells.nth(11)).to_have_text("—")

    dora = page.locator(f"#mailboxes-table tr[data-user='{DORA}']")
    expect(dora).to_have_class("failing")
    cells = dora.locator("td")
    expect(cells.nth(4)).to_have_text(f"127.0.0.1:{ports['imaps']}")
    expect(cells.nth(5)).to_have_text("tls")
    expect(cells.nth(7)).to_have_text("never")
    expect(cells.nth(8)).to_have_text("0")
    expect(cells.nth(9)).to_contain_text("login refused")
    expect(cells.nth(9)).to_contain_text("Authentication failed")
    expect(cells.nth(10)).to_have_text(re.compile(f"^{WHEN}$"))
    expect(cells.nth(11)).to_have_text(re.compile(f"^{WHEN} \\(1 failed\\)$"))


def test_no_password_anywhere_in_the_page(page: Page, synced: tuple[ServerProcess, Env]) -> None:
    expect(page.locator("#mailboxes-table tbody tr")).to_have_count(2)
    html = page.content()
    assert "will@acme.test" in html  # the view is drawn: the check below can fail
    for secret in (*PASSWORDS.values(), WRONG, synced[1].key_file.read_text().strip()):
        assert secret not in html


def test_refresh_shows_a_mailbox_that_recovered(
    page: Page, synced: tuple[ServerProcess, Env]
) -> None:
    env = synced[1]
    dora = page.locator(f"#mailboxes-table tr[data-user='{DORA}']")
    expect(dora).to_have_class("failing")
    env.connect(DORA, "dora@acme.test", port="imaps", security="tls")  # the right password
    env.sync()
    page.click("#mb-refresh")
    expect(page.locator("#mailboxes-count")).to_have_text("2 with a server, 0 failing")
    expect(dora.locator("td").nth(9)).to_have_text("ok")
    expect(dora.locator("td").nth(7)).not_to_have_text("never")
