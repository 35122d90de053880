"""The client's emails calls against a real emailshare server (docs/contract.md §12), sync and
async: one page, every page through ``iter_emails``/``aiter_emails``, one email, the 204, the
errors. Expected values come from tests/conformance/emails_org.py and the contract."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emailshare.client import (
    AsyncClient,
    Attachment,
    Client,
    EmailDetail,
    EmailOwner,
    EmailPage,
    EmailStatus,
    EmailSummary,
    Party,
    ZohoAPIError,
)
from emailshare.testing import ServerProcess, start_server
from tests.conformance import emails_org as org
from tests.conftest import db_url_for


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server loaded with the paging org."""
    folder = tmp_path_factory.mktemp("client-emails")
    server = start_server(db_url=db_url_for(folder), fixture=org.write(Path(folder)))
    yield server
    server.stop()


class Emails:
    """The emails calls of either client, behind one synchronous surface."""

    def __init__(self, kind: str, url: str, user: str) -> None:
        self.kind = kind
        self.sync = Client(api_domain=url, access_token=org.token(user))
        self.runner = asyncio.Runner()
        self.aio = AsyncClient(api_domain=url, access_token=org.token(user))

    def page(self, record: str = org.LEAD, **kw: Any) -> EmailPage:
        if self.kind == "sync":
            return self.sync.list_emails("Leads", record, **kw)
        return self.runner.run(self.aio.list_emails("Leads", record, **kw))

    def all(self, record: str = org.LEAD, module: str = "Leads", **kw: Any) -> list[EmailSummary]:
        if self.kind == "sync":
            return list(self.sync.iter_emails(module, record, **kw))

        async def collect() -> list[EmailSummary]:
            return [e async for e in self.aio.aiter_emails(module, record, **kw)]

        return self.runner.run(collect())

    def one(self, message_id: str, record: str = org.LEAD, **kw: Any) -> EmailDetail:
        if self.kind == "sync":
            return self.sync.get_email("Leads", record, message_id, **kw)
        return self.runner.run(self.aio.get_email("Leads", record, message_id, **kw))

    def close(self) -> None:
        self.sync.close()
        self.runner.run(self.aio.aclose())
        self.runner.close()


@pytest.fixture(params=["sync", "async"])
def as_user(request: pytest.FixtureRequest, srv: ServerProcess) -> Iterator[Any]:
    made: list[Emails] = []

    def make(user: str = org.WILL_ID) -> Emails:
        made.append(Emails(request.param, srv.url, user))
        return made[-1]

    yield make
    for e in made:
        e.close()


def test_first_page(as_user: Any) -> None:
    page = as_user().page()
    expected = org.default_list(org.WILL_ID)
    assert [e.message_id for e in page.emails] == expected[:10]
    info = page.info
    assert (info.per_page, info.count, info.more_records, info.prev_index) == (10, 10, True, "0")
    assert info.next_index is not None
    assert int(info.next_index, 16) >= 0  # lowercase hex
    assert info.next_index == info.next_index.lower()


def test_every_page_once_in_order(as_user: Any) -> None:
    for user in (org.WILL_ID, org.CARLA_ID, org.PAT_ID):
        got = [e.message_id for e in as_user(user).all()]
        assert got == org.default_list(user), user
    assert len(org.default_list(org.WILL_ID)) > 20  # three pages at least


def test_second_page_follows_next_index(as_user: Any) -> None:
    api = as_user()
    first = api.page()
    second = api.page(index=first.info.next_index)
    assert [e.message_id for e in second.emails] == org.default_list(org.WILL_ID)[10:20]
    assert second.info.prev_index == "0"
    third = api.page(index=second.info.next_index)
    assert third.info.prev_index == first.info.next_index


def test_fields_are_parsed(as_user: Any) -> None:
    rich = next(e for e in as_user().all() if e.message_id == org.RICH)
    offset = timedelta(hours=5, minutes=30)
    assert rich.time == datetime.fromisoformat("2024-02-01T10:15:30+05:30")
    assert rich.time is not None
    assert rich.time.utcoffset() == offset
    assert rich.owner == EmailOwner(id=org.WILL_ID, name="Will Grandon")
    assert rich.sender == Party("Lead Person", org.ADDRESS)
    assert rich.to == [Party("Will Grandon", "will@acme.test")]
    assert rich.cc == [Party(None, "cc@customer.test")]
    assert rich.status == [EmailStatus("received")]
    assert (rich.sent, rich.read, rich.has_attachment) == (False, False, True)
    assert rich.linked_record is not None
    assert rich.linked_record.id == org.DEAL
    assert (rich.linked_record.name, rich.linked_record.module) == ("Big Deal", "Deals")
    assert (rich.intent, rich.sentiment_info, rich.emotion) == ("purchase", "positive", "gratitude")
    assert rich.summary == "Asks for a quote."
    plain = next(e for e in as_user().all() if e.message_id == org.message_id(0))
    assert (plain.cc, plain.linked_record, plain.source) == ([], None, None)
    assert "content" not in plain.raw


def test_one_email(as_user: Any) -> None:
    one = as_user().one(org.RICH)
    assert one.content == "<div>please quote</div>"
    assert one.mail_format == "html"
    assert one.attachments == [Attachment("72daf06349c51ce66", "quote.pdf", 24792)]
    assert one.thread_id == "777000111"
    assert one.reply_to == Party("Lead Desk", "desk@customer.test")
    assert one.sent_time == datetime.fromisoformat("2024-02-01T10:15:30+05:30")
    assert one.editable is False
    assert one.cc == [Party(None, "cc@customer.test")]
    assert list(one.raw)[-1] == "status"


def test_types_and_owner(as_user: Any) -> None:
    api = as_user()
    assert [e.message_id for e in api.all(type="drafts")] == [f"draft{'0' * 26}1"]
    boyle = [e for e in api.all(type="user_emails", owner_id=org.BOYLE_ID)]
    assert boyle
    assert {e.owner.id for e in boyle if e.owner} == {org.BOYLE_ID}
    colleague = api.one(org.message_id(1), owner_id=org.BOYLE_ID)  # Boyle's, shared
    assert colleague.subject == "Mailbox email 1"


def test_nothing_to_list_is_an_empty_page(as_user: Any) -> None:
    api = as_user()
    page = (
        api.sync.list_emails("Deals", org.DEAL, type="drafts")
        if api.kind == "sync"
        else api.runner.run(api.aio.list_emails("Deals", org.DEAL, type="drafts"))
    )
    assert page.emails == []
    assert (page.info.count, page.info.next_index, page.info.more_records) == (0, None, False)
    assert api.all(org.DEAL, "Deals", type="drafts") == []


def _error(call: Any) -> ZohoAPIError:
    with pytest.raises(ZohoAPIError) as caught:
        call()
    return caught.value


def test_errors(as_user: Any) -> None:
    api = as_user()
    bad_type = _error(lambda: api.page(type="all_emails"))
    assert (bad_type.status, bad_type.code, bad_type.details) == (
        400,
        "INVALID_DATA",
        {"param_name": "type"},
    )
    forged = _error(lambda: api.page(index="abc123"))
    assert (forged.code, forged.details) == ("INVALID_DATA", {"param_name": "index"})
    colleague = _error(lambda: api.page(type="user_emails", owner_id=org.CARLA_ID))
    assert (colleague.status, colleague.code, colleague.details) == (403, "NO_PERMISSION", {})
    assert colleague.message.startswith("Your colleague has not provided viewing permissions")
    other_box = _error(lambda: api.one(org.message_id(1)))  # Boyle's, no owner_id given
    assert (other_box.status, other_box.code) == (403, "NO_PERMISSION")
    assert other_box.message == (
        "Do not have any email with this message id in user configured email account"
    )
    unknown = _error(lambda: api.one("nosuchmessage"))
    assert (unknown.status, unknown.code, unknown.details) == (
        400,
        "INVALID_DATA",
        {"resource_path_index": 3},
    )
