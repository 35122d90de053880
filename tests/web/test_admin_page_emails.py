"""The admin page's emails view in a real headless Chromium (as tests/web/test_admin_page.py):
for a caller and a record of tests/data/emails.json, why each email is or is not in the
record's Emails list (docs/admin.md), with the list ``type`` chosen on the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from emailshare.testing import ServerProcess, start_server
from tests.api.emails_fixture import EMAILS_FIXTURE, ORG_ID, USERS
from tests.conftest import db_url_for
from tests.web.test_admin_page import (  # noqa: F401 - browser: the shared Chromium fixture
    admin_page,
    browser,
)

KEY = "admin-page-emails-key"
LEAD = "900000000000002001"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("web-emails")
    srv = start_server(db_url=db_url_for(tmp), fixture=EMAILS_FIXTURE, args=["--admin-key", KEY])
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, admin_server: ServerProcess) -> Iterator[Page]:  # noqa: F811
    with admin_page(browser, admin_server.url, KEY) as opened:
        opened.click(f"button.org[data-org-id='{ORG_ID}']")
        yield opened


def test_the_emails_view_says_why_each_email_is_listed_or_not(page: Page) -> None:
    page.select_option("#caller", USERS["Bob"]["id"])
    page.click(f"#records-table tr[data-record-id='{LEAD}']")
    expect(page.locator("#emails-section")).to_be_visible()
    expect(page.locator("#emails-summary")).to_have_text("3 listed (type absent)")
    expect(page.locator("#emails-table tr.included")).to_have_count(3)
    listed = page.locator("#emails-table tr.included td:first-child")
    expect(listed).to_have_text(["1", "2", "3"])
    dan = page.locator("#emails-table tr[data-message-id='m3dan']")
    expect(dan).to_have_attribute("data-reason", "owner_not_shared")
    expect(dan).to_contain_text("the owner's email sharing is private")
    hidden = page.locator("#emails-table tr[data-message-id='c1dansent']")
    expect(hidden).to_have_attribute("data-reason", "crm_hidden")
    expect(hidden).to_contain_text("Emails data sharing is private")
    other = page.locator("#emails-table tr[data-message-id='m5bobc1']")
    expect(other).to_have_attribute("data-reason", "not_associated")
    expect(other).to_contain_text("no address of the record matches")
    expect(page.locator("#emails-table tr[data-message-id='c3bobdraft']")).to_have_attribute(
        "data-reason", "kind_not_in_type"
    )


def test_choosing_a_type_and_a_list_error(page: Page) -> None:
    page.select_option("#caller", USERS["Bob"]["id"])
    page.select_option("#record", LEAD)
    page.select_option("#email-type", "drafts")
    page.click("#explain-button")
    expect(page.locator("#emails-summary")).to_have_text("1 listed (type drafts)")
    draft = page.locator("#emails-table tr[data-message-id='c3bobdraft']")
    expect(draft).to_have_class("included")
    page.select_option("#email-type", "all_contacts_sent_crm_emails")  # not for a Lead
    page.click("#explain-button")
    expect(page.locator("#emails-summary")).to_have_attribute("data-error", "INVALID_DATA")
    expect(page.locator("#emails-table tbody tr")).to_have_count(0)


def test_a_caller_without_a_mailbox(page: Page) -> None:
    page.select_option("#caller", USERS["Eve"]["id"])
    page.click(f"#records-table tr[data-record-id='{LEAD}']")
    bob = page.locator("#emails-table tr[data-message-id='m1bob']")
    expect(bob).to_have_attribute("data-reason", "caller_no_mailbox")
    expect(bob).to_contain_text("only for a caller with an active, enabled mailbox")
