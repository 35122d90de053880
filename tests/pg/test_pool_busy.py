"""A busy pool is a queue, not an outage (docs/reliability.md, "Overload"): when every pooled
connection is out serving statements the store answers, a request waits its turn past the
pool's 0.5 s instead of failing and opening the circuit breaker; when the store has answered
nothing for a second, the wait still fails after 0.5 s, as an outage. Real PostgreSQL, a pool
of one connection held by a statement that takes a while."""

from __future__ import annotations

import asyncio
import time

import pytest

from emailshare.domain.errors import StoreUnavailable
from emailshare.storage import postgres
from emailshare.storage.breaker import GuardedDatabase
from emailshare.storage.db import connect
from tests.pgutil import Cluster, fresh_database


async def _hold(db: GuardedDatabase, seconds: float, held: asyncio.Event) -> None:
    async with db.transaction(bump=False) as tx:  # the pool's only connection
        held.set()
        await tx.fetchone(f"SELECT pg_sleep({seconds})")


def test_a_request_waits_for_a_busy_pool_and_fails_fast_on_a_silent_one(
    cluster: Cluster,
) -> None:
    async def main() -> None:
        db = await connect(fresh_database(cluster.url), pool_size=1)
        assert isinstance(db, GuardedDatabase)
        try:
            assert await db.fetchone("SELECT 1") == (1,)  # the store answers
            held = asyncio.Event()
            holder = asyncio.create_task(
                _hold(db, 0.8, held)
            )  # past the pool timeout, within ANSWERING
            await held.wait()
            started = time.monotonic()
            assert await db.fetchone("SELECT 2") == (2,)  # waited its turn
            waited = time.monotonic() - started
            assert waited > postgres.POOL_TIMEOUT, waited
            await holder
            assert await db.fetchone("SELECT 3") == (3,)  # and the breaker stayed closed

            await asyncio.sleep(postgres.ANSWERING + 0.1)  # nothing answered for a while
            held = asyncio.Event()
            holder = asyncio.create_task(_hold(db, 1.5, held))
            await held.wait()
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await db.fetchone("SELECT 4")
            assert time.monotonic() - started < 1.0
            await holder
        finally:
            await db.close()

    asyncio.run(main())


def test_a_committed_transaction_counts_as_the_store_answering(cluster: Cluster) -> None:
    """After a silence, a write alone (no read) tells the store answers: a request behind a
    held pool waits its turn rather than fail as an outage."""

    async def main() -> None:
        db = await connect(fresh_database(cluster.url), pool_size=1)
        assert isinstance(db, GuardedDatabase)
        try:
            await asyncio.sleep(postgres.ANSWERING + 0.1)  # nothing answered for a while
            async with db.transaction(bump=False) as tx:  # answered, and committed
                await tx.execute("SELECT 1")
            held = asyncio.Event()
            holder = asyncio.create_task(_hold(db, 0.8, held))
            await held.wait()
            started = time.monotonic()
            assert await db.fetchone("SELECT 2") == (2,)  # waited its turn
            assert time.monotonic() - started > postgres.POOL_TIMEOUT
            await holder
            assert not db.breaker.is_open
        finally:
            await db.close()

    asyncio.run(main())


def test_more_requests_than_connections_queue_in_arrival_order(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that exceeds the pool is a queue, however long, while the store answers: every
    request is served, none fails or opens the breaker, and each in its turn (first come,
    first served). Before, a request whose 0.5 s wait ran out joined the pool's queue again
    at its end every 0.1 s (overtaken by every later arrival: the bench's p99 of 1.2 s) and
    failed as an outage after BUSY_WAIT (5 s; 0.8 here), opening the breaker."""
    monkeypatch.setattr(postgres, "BUSY_WAIT", 0.8, raising=False)

    async def main() -> None:
        db = await connect(fresh_database(cluster.url), pool_size=1)
        assert isinstance(db, GuardedDatabase)
        try:
            assert await db.fetchone("SELECT 1") == (1,)
            served: list[int] = []

            async def ask(n: int) -> None:
                assert await db.fetchone("SELECT ?::int FROM pg_sleep(0.1)", (n,)) == (n,)
                served.append(n)

            first = [asyncio.create_task(ask(n)) for n in range(16)]
            await asyncio.sleep(postgres.POOL_TIMEOUT + 0.15)  # the first waits ran out
            late = asyncio.create_task(ask(16))
            await asyncio.gather(*first, late)  # 1.7 s of statements on one connection
            assert served == list(range(17))
            assert not db.breaker.is_open
        finally:
            await db.close()

    asyncio.run(main())
