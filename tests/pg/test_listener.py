"""PostgreSQL's change signal (``storage.postgres.Listener``): a write by another instance is
known from its notification, with no round trip per version; a commit whose notification never
came is known within the stated bound (``STALENESS``); and when the listener's connection
drops, versions are probed (exact) until it is back, and the caches catch up from the log.
Reader and writer share this host's counter (``storage.hostsignal``), so the seq the listener
heard is what is checked."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from emailshare.domain.changes import RECORD
from emailshare.service.cache import Freshness, ScopedCache
from emailshare.storage import migrate, postgres
from emailshare.storage.breaker import GuardedDatabase
from emailshare.storage.db import Database, connect
from emailshare.storage.postgres import LISTENER_NAME, STALENESS, PostgresDatabase
from emailshare.storage.repo import Store
from tests.pgutil import Cluster, fresh_database


def inner(db: Database) -> PostgresDatabase:
    assert isinstance(db, GuardedDatabase)
    pg = db.inner
    assert isinstance(pg, PostgresDatabase)
    assert pg.listener is not None
    return pg


async def share(db: Database, org_id: int, record_id: int) -> None:
    async with db.transaction(bump=False) as tx:
        tx.note(RECORD, org_id, record_id)


async def seen_within(db: Database, seq: int, bound: float) -> float:
    """How long ``db`` took to report ``seq`` (or later) as its version, failing past ``bound``."""
    t0 = time.monotonic()
    while True:
        version = await db.version()  # (the listener's seq, the host's counter) or a probe's
        known = version[0] if isinstance(version, tuple) else version
        assert isinstance(known, int)
        if known >= seq:
            return time.monotonic() - t0
        assert time.monotonic() - t0 < bound, f"seq {seq} unseen after {bound} s"
        await asyncio.sleep(0.005)


async def latest(db: Database) -> int:
    row = await db.fetchone("SELECT version FROM store_version WHERE id = 1")
    assert row is not None
    return int(row[0])


def test_versions_follow_notifications_and_survive_a_dropped_listener(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database(cluster.url)
    # A dropped listener comes back after 3 s here, not 0.5 s: time enough to see it probe.
    monkeypatch.setattr(postgres, "RECONNECT_DELAY", 3.0)

    async def main() -> None:
        reader, writer = await connect(url), await connect(url)
        await migrate.upgrade(writer)
        listener = inner(reader).listener
        assert listener is not None
        assert await listener.wait_live(10)
        answers: ScopedCache[tuple[int, int], str] = ScopedCache(10, scope=lambda k, _: k)
        fresh = Freshness(Store(reader), answers)
        await fresh.check()

        # A write by another instance: its notification moves the version, no probe asked.
        answers.put((1, 10), "a")
        answers.put((1, 11), "b")
        await share(writer, 1, 10)
        await seen_within(reader, await latest(writer), STALENESS)
        await fresh.check()
        assert (answers.get((1, 10)), answers.get((1, 11))) == (None, "b")

        # A change logged by hand, notifying nobody: the heartbeat finds it in time.
        async with await psycopg.AsyncConnection.connect(url) as raw, raw.transaction():
            await raw.execute("UPDATE store_version SET version = version + 1 WHERE id = 1")
            await raw.execute(
                "INSERT INTO changes (seq, kind, org_id, record_id)"
                " SELECT version, 'record', 2, 20 FROM store_version WHERE id = 1"
            )
        await seen_within(reader, await latest(writer), STALENESS)

        # The listener's connection dropped: the next versions are probes, exact at once.
        drops = listener.drops
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as raw:
            await raw.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (LISTENER_NAME,),
            )
        t0 = time.monotonic()
        while listener.live:
            assert time.monotonic() - t0 < STALENESS, "the drop went unnoticed"
            await asyncio.sleep(0.005)
        assert listener.drops == drops + 1
        answers.put((1, 10), "a")
        await share(writer, 1, 10)
        assert await reader.version() == await latest(writer)  # a probe: no wait
        assert not listener.live
        await fresh.check()
        assert (answers.get((1, 10)), answers.get((1, 11))) == (None, "b")

        # Back again: notifications, not probes, once more.
        assert await listener.wait_live(10)
        answers.put((1, 10), "a")
        await share(writer, 1, 10)
        await seen_within(reader, await latest(writer), STALENESS)
        await fresh.check()
        assert (answers.get((1, 10)), answers.get((1, 11))) == (None, "b")
        await reader.close()
        await writer.close()

    asyncio.run(main())
