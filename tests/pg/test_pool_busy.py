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
