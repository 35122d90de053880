"""The admin page's request journal in a real headless Chromium (as tests/web/test_admin_page.py):
the list refreshes by itself, a row opens to the whole exchange, "Explain this request" shows
the explain view of that very request, the filters, clearing; and the explain form's module."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from emailshare.testing import ServerProcess, start_server
from tests.builders import ACME_ID
from tests.conftest import ACME_FIXTURE, db_url_for
from tests.web.test_admin_page import (  # noqa: F401 - browser: the shared Chromium fixture
    LEAD_BY_CARLA,
    WILL,
    WILL_TOKEN,
    admin_page,
    browser,
)

KEY = "admin-page-journal-key"
DETAILS = f"/crm/v8/Leads/{LEAD_BY_CARLA}/__emails_sharing_details"
AUTH = {"Authorization": f"Zoho-oauthtoken {WILL_TOKEN}"}


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("web-journal")
    srv = start_server(db_url=db_url_for(tmp), fixture=ACME_FIXTURE, args=["--admin-key", KEY])
    yield srv
    srv.stop()


@pytest.fixture
def page(browser: Browser, admin_server: ServerProcess) -> Iterator[Page]:  # noqa: F811
    admin_server.clear_requests()
    with admin_page(browser, admin_server.url, KEY) as opened:
        expect(opened.locator("#requests-count")).to_contain_text("0 shown")
        yield opened


def test_the_list_refreshes_and_a_row_opens_to_the_whole_exchange(
    page: Page, admin_server: ServerProcess
) -> None:
    live = httpx.get(admin_server.url + DETAILS, headers={**AUTH, "X-Request-Id": "web-details"})
    assert live.status_code == 200
    details = page.locator("#requests-table tr[data-request-id='web-details']")
    expect(details).to_be_visible()  # no click: the list refreshed itself
    expect(details).to_contain_text(WILL)
    details.click()
    expect(page.locator("#exchange-line")).to_have_text(f"GET {DETAILS}")
    expect(page.locator("#exchange-status")).to_have_text("HTTP 200")
    expect(page.locator("#exchange-meta")).to_contain_text(f"caller {WILL} of org {ACME_ID}")
    expect(page.locator("#exchange-request-headers")).to_contain_text("Zoho-oauthtoken [redacted]")
    expect(page.locator("#exchange-request-headers")).not_to_contain_text(WILL_TOKEN)
    expect(page.locator("#exchange-response-headers")).to_contain_text("web-details")
    expect(page.locator("#exchange-response-body")).to_have_text(live.text)

    page.click("#exchange-explain")
    expect(page.locator("#explain-title")).to_have_text("Will Grandon → Leads “Lead by Carla”")
    expect(page.locator("#module")).to_have_value("Leads")
    expect(page.locator("#caller")).to_have_value(WILL)
    expect(page.locator("#answer-body")).to_have_text(live.text)  # that very answer


def test_an_emails_request_explains_with_its_module_and_type(
    page: Page, admin_server: ServerProcess
) -> None:
    path = f"/crm/v8/leads/{LEAD_BY_CARLA}/Emails"
    httpx.get(
        admin_server.url + path,
        params={"type": "drafts"},
        headers={**AUTH, "X-Request-Id": "web-emails"},
    )
    page.locator("#requests-table tr[data-request-id='web-emails']").click()
    page.click("#exchange-explain")
    expect(page.locator("#module")).to_have_value("leads")  # as the URL wrote it
    expect(page.locator("#email-type")).to_have_value("drafts")
    expect(page.locator("#explain")).to_be_visible()
    expect(page.locator("#emails-summary")).to_contain_text("type drafts")


def test_the_filters_and_clearing(page: Page, admin_server: ServerProcess) -> None:
    httpx.get(admin_server.url + DETAILS, headers={**AUTH, "X-Request-Id": "web-ok"})
    httpx.get(admin_server.url + DETAILS, headers={"X-Request-Id": "web-401"})
    httpx.post(admin_server.url + DETAILS, headers={**AUTH, "X-Request-Id": "web-post"})
    rows = page.locator("#requests-table tbody tr")
    expect(rows).to_have_count(3)
    page.fill("#rq-status", "4xx")
    page.press("#rq-status", "Enter")
    expect(rows).to_have_count(2)
    page.select_option("#rq-method", "POST")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-request-id", "web-post")
    page.fill("#rq-status", "")
    page.select_option("#rq-method", "")
    page.fill("#rq-caller", WILL)
    page.press("#rq-caller", "Enter")
    expect(rows).to_have_count(2)
    page.fill("#rq-caller", "")
    page.fill("#rq-path", "/crm/v8/Accounts/")
    page.press("#rq-path", "Enter")
    expect(rows).to_have_count(0)
    page.fill("#rq-path", "sharing_details")  # not a prefix: a substring
    page.press("#rq-path", "Enter")
    expect(rows).to_have_count(3)
    page.click("#rq-clear")
    expect(rows).to_have_count(0)
    assert admin_server.requests() == []


def test_the_explain_form_takes_the_urls_module(page: Page) -> None:
    page.click(f"button.org[data-org-id='{ACME_ID}']")
    page.select_option("#caller", WILL)
    page.select_option("#record", LEAD_BY_CARLA)
    expect(page.locator("#module")).to_have_value("Leads")
    page.fill("#module", "leads")
    page.click("#explain-button")
    expect(page.locator("#answer-status")).to_have_text("HTTP 200")
    page.fill("#module", "Contacts")  # the record is a Lead: not found in Contacts
    page.click("#explain-button")
    expect(page.locator("#answer-status")).to_have_text("HTTP 400 INVALID_DATA")
    page.fill("#module", "Nonsense")
    page.click("#explain-button")
    expect(page.locator("#answer-status")).to_have_text("HTTP 400 INVALID_MODULE")
