"""PostgreSQL aborts one of two deadlocked transactions; ``run_in_transaction`` runs it again
and both commit (SQLSTATE 40P01; psycopg's DeadlockDetected is not a TransactionRollback
subclass, and such a deadlock used to be answered INTERNAL_ERROR), and the circuit breaker
stays closed: a deadlock is not an outage."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from emailshare.storage import migrate
from emailshare.storage.breaker import GuardedDatabase
from emailshare.storage.db import Tx, connect
from tests.pgutil import Cluster, fresh_database


def test_a_deadlocked_transaction_is_run_again(cluster: Cluster) -> None:
    async def main() -> None:
        db = await connect(fresh_database(cluster.url))
        assert isinstance(db, GuardedDatabase)
        await migrate.upgrade(db)  # run_in_transaction bumps the store_version row
        async with db.transaction(bump=False) as tx:
            await tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            await tx.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
        both = asyncio.Barrier(2)
        attempts = {1: 0, 2: 0}

        def crossing(first: int, second: int) -> Callable[[Tx], Awaitable[None]]:
            async def work(tx: Tx) -> None:
                attempts[first] += 1
                await tx.execute("UPDATE t SET v = v + 1 WHERE id = ?", (first,))
                if attempts[first] == 1:
                    await both.wait()  # each holds its first row: the second updates cross
                await tx.execute("UPDATE t SET v = v + 1 WHERE id = ?", (second,))

            return work

        await asyncio.gather(
            db.run_in_transaction(crossing(1, 2)),
            db.run_in_transaction(crossing(2, 1)),
        )
        assert sorted(attempts.values()) == [1, 2]  # one of them was run again
        assert await db.fetchall("SELECT v FROM t ORDER BY id") == [(2,), (2,)]
        assert not db.breaker.is_open
        await db.close()

    asyncio.run(main())
