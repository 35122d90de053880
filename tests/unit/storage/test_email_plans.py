"""The emails statements start from the record, never from the org: SQLite's plan of every
statement ``storage.emails`` runs for a list or one email (each association basis, each part,
a keyset bound, owners left out) searches each table by more than its org.

The plan is the regression's signature: a list of a Deal once cost 0.3 s at 500k emails when
SQLite served ``SELECT DISTINCT owner_id`` by walking the org's emails along emails_by_thread,
``SEARCH e USING INDEX emails_by_thread (org_id=?)``. SQLite plans without statistics, so a
small store shows the plans a large one gets."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emailshare.bootstrap import open_store
from emailshare.domain import emails as rules
from emailshare.domain.email_reads import Bound, Hidden, Selection
from emailshare.domain.mail import EmailKind
from emailshare.service import admin
from emailshare.storage.db import Params, Row
from emailshare.storage.emails import EmailStore
from emailshare.storage.repo import Store
from tests.api.emails_fixture import EMAILS_FIXTURE, ORG_ID, RECORDS, USERS

pytestmark = pytest.mark.anyio
ORG = int(ORG_ID)
_ORG_ONLY = re.compile(r"\((?:org_id=\?)\)")


class Recording:
    """The store's database, recording every statement read through it."""

    def __init__(self, store: Store) -> None:
        self.inner = store.db
        self.dialect = store.db.dialect
        self.statements: list[tuple[str, Params]] = []

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        self.statements.append((sql, params))
        return await self.inner.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        self.statements.append((sql, params))
        return await self.inner.fetchone(sql, params)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'plans.db'}") as opened:
        await admin.load_document(opened, EMAILS_FIXTURE.read_bytes(), int(time.time()))
        yield opened


def _records() -> list[tuple[int, str]]:
    return [(int(r["id"]), r["module"]) for r in RECORDS.values()]


KINDS = frozenset({EmailKind.SENT, EmailKind.SCHEDULED})


def _pages() -> list[tuple[int, rules.Basis, Selection]]:
    """Each record, its association basis and the selection of a page of its mailbox emails."""
    found = []
    for record_id, module in _records():
        basis = rules.association_basis(module)
        scope = rules.MailboxScope(True, None)
        found.append((record_id, basis, Selection(record_id, basis, KINDS, (record_id,), scope)))
    return found


async def test_every_emails_statement_starts_from_the_record(store: Store) -> None:
    recording = Recording(store)
    emails = EmailStore(recording)  # type: ignore[arg-type]  # a Database that records
    owner = int(USERS["Bob"]["id"])
    for record_id, module in _records():
        basis = rules.association_basis(module)
        for scope in (rules.MailboxScope(True, None), rules.MailboxScope(True, owner)):
            selection = Selection(record_id, basis, KINDS, (record_id,), scope)
            for bound in (
                None,
                Bound((1_700_000_000, "m1"), backwards=False),
                Bound((1_700_000_000, "m1"), backwards=True, inclusive=True),
                Bound((1_700_000_000, "m1"), backwards=True),
            ):
                for hidden in (Hidden(), Hidden(frozenset({owner}), frozenset({owner}))):
                    await emails.candidates(ORG, selection, bound, 11, hidden)
        await emails.opened(ORG, "m1bob", basis, record_id)
    plans = {}
    for sql, params in recording.statements:
        rows = await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, params)
        plans[sql] = [str(r[3]) for r in rows]
    assert len(plans) > 10
    for sql, plan in plans.items():
        scans = [p for p in plan if p.startswith("SCAN ") and p.split()[1] in {"e", "t", "u"}]
        by_org = [p for p in plan if _ORG_ONLY.search(p)]
        assert (scans, by_org) == ([], []), f"{plan}\n{sql}"


async def test_a_thread_s_attachments_are_one_probe_of_the_emails_that_have_any(
    store: Store,
) -> None:
    """has_thread_attachment searches only the emails with attachments (migration 0015): the
    index of every email by thread read each email of the thread from the table."""
    recording = Recording(store)
    emails = EmailStore(recording)  # type: ignore[arg-type]  # a Database that records
    for record_id, basis, selection in _pages():
        await emails.candidates(ORG, selection, None, 11, Hidden())
        await emails.opened(ORG, "m1bob", basis, record_id)
    threads = set()
    for sql, params in recording.statements:
        for row in await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, params):
            if str(row[3]).startswith("SEARCH t "):
                threads.add(str(row[3]))
    assert threads == {
        "SEARCH t USING INDEX emails_thread_attachments (org_id=? AND owner_id=? AND thread_id=?)"
    }


async def test_a_page_is_cut_on_its_keys_then_each_email_left_read_by_its_key(
    store: Store,
) -> None:
    """The parts of a page carry only the keys that order them through the sorts and the cut;
    each email left is then read once by its primary key (before, all 22 columns a list shows
    went through both sorts: 404.5k -> 372.3k instructions a Lead's page at 500k emails,
    docs/performance.md, "Emails list")."""
    recording = Recording(store)
    emails = EmailStore(recording)  # type: ignore[arg-type]  # a Database that records
    for _, _, selection in _pages():
        for bound in (None, Bound((1_700_000_000, "m1"), backwards=True, inclusive=True)):
            await emails.candidates(ORG, selection, bound, 11, Hidden())
    assert recording.statements
    for sql, params in recording.statements:
        plan = [str(r[3]) for r in await store.db.fetchall("EXPLAIN QUERY PLAN " + sql, params)]
        assert "SCAN c" in plan, f"{plan}\n{sql}"
        after_cut = plan[plan.index("SCAN c") + 1]
        assert after_cut == (
            "SEARCH k USING INDEX sqlite_autoindex_emails_1 (org_id=? AND message_id=?)"
        ), f"{plan}\n{sql}"
