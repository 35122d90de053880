"""The composition root: the one place that opens the concrete store and builds the services'
caches around it. ``api/app.py``'s lifespan calls :func:`open_services` (after any fork of
workers); nothing else in ``api`` imports ``storage`` (an import-linter contract holds it).
The command line and ``emailshare.testing`` open a bare store with :func:`open_store`."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

from emailshare.config import Settings
from emailshare.domain.numbers import parse_id
from emailshare.service.auth import CallerCache
from emailshare.service.cache import Freshness, Scope, ScopedCache
from emailshare.service.email_people import PeopleCache
from emailshare.service.emails import EmailSources
from emailshare.service.mailports import MailboxStore
from emailshare.service.orgview import OrgViews, Render
from emailshare.service.ports import JournalStore, Store
from emailshare.storage import migrate
from emailshare.storage.db import Database, connect, sqlite_path
from emailshare.storage.emails import EmailStore
from emailshare.storage.journal import JournalTable
from emailshare.storage.mailboxes import MailboxRepo
from emailshare.storage.repo import Store as SQLStore

# A cached details answer (keyed by token hash, module and record as written): the token's
# expiry, the status, the body and the caller's org.
AnswerCache = ScopedCache[tuple[str, str, str], tuple[int, int, bytes, int]]


@dataclass(frozen=True, slots=True)
class Services:
    """What the app serves from: the store (as the services' ports) and the per-worker caches,
    each forgetting, through ``freshness``, what a write changed (``service.cache``)."""

    store: Store
    email_store: EmailSources
    callers: CallerCache
    answers: AnswerCache
    freshness: Freshness
    org_views: OrgViews  # per-org structures of the details answers (service.orgview)
    journal_store: JournalStore
    mailbox_store: MailboxStore  # servers and sync state (docs/mailboxes.md)


def answer_weight(entry: tuple[int, int, bytes, int]) -> int:
    """The memory a cached answer holds: its body, plus its key's, entry's and scope's
    objects."""
    return len(entry[2]) + 768


def answer_scope(key: tuple[str, str, str], entry: tuple[int, int, bytes, int]) -> Scope:
    """A cached answer belongs to its caller's org and the record its path names (none when
    the path names no record: such an answer is forgotten with its org)."""
    return entry[3], parse_id(key[2])


@contextlib.asynccontextmanager
async def open_store(db_url: str, pool_size: int = 8) -> AsyncIterator[SQLStore]:
    """Open the store at ``db_url``, bring its schema up to date; close it on the way out."""
    db = await connect(db_url, pool_size=pool_size)
    try:
        await migrate.upgrade(db)
        yield SQLStore(db)
    finally:
        await db.close()


def journal_url(db_url: str) -> str | None:
    """Where a SQLite store keeps its request journal: a file of its own beside the store
    (``<store>.requests``; in memory for an in-memory store), so that the journal's commits
    never move the version the answer caches watch (every commit to the store's file does,
    ``storage.db``) nor make the store's reader drop its page cache. None on PostgreSQL,
    whose journal is the store's own ``journal`` table (its writes bump nothing)."""
    if not db_url.startswith("sqlite:"):
        return None
    path = sqlite_path(db_url)
    return "sqlite:///:memory:" if path == ":memory:" else f"sqlite:///{path}.requests"


@contextlib.asynccontextmanager
async def _journal_db(settings: Settings, store_db: Database) -> AsyncIterator[Database]:
    url = journal_url(settings.db_url) if settings.admin_key else None
    if url is None:
        yield store_db
        return
    for attempt in range(100):
        try:
            db = await connect(url)
            break
        except sqlite3.OperationalError:  # another worker is making the file this moment
            if attempt == 99:
                raise
            await asyncio.sleep(0.05)
    try:
        await migrate.upgrade(db)  # the same schema: only its journal tables are used
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, render: Render | None = None
) -> AsyncIterator[Services]:
    """Open the store named by the settings and build the caches around it. ``render`` spells
    an org's public sharers as the API answers them (``api.wire.rendered``), once per org view."""
    async with (
        open_store(settings.db_url, settings.pool_size) as store,
        _journal_db(settings, store.db) as journal_db,
    ):
        db = store.db
        callers: CallerCache = ScopedCache(
            settings.cache_size, scope=lambda _, caller: (caller.org_id, None)
        )
        answers: AnswerCache = ScopedCache(
            settings.cache_size, settings.cache_mb << 20, weigh=answer_weight, scope=answer_scope
        )
        # Kept whatever --cache-size says: a view is part of computing an answer, not a
        # cached answer (docs/performance.md), and as fresh as the caches.
        views = OrgViews(store, render)
        # The orgs' people of the emails calls (service.email_people): part of computing an
        # answer too, so kept whatever --cache-size says.
        emails = EmailStore(db)
        people = PeopleCache(emails, 64)
        freshness = Freshness(store, callers, answers, views, people)
        yield Services(
            store,
            EmailSources(emails, people.get),
            callers,
            answers,
            freshness,
            views,
            JournalTable(journal_db),
            MailboxRepo(db),
        )
