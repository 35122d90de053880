"""PostgreSQL through psycopg 3's async pool (imported only when a postgresql:// URL is used)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import lru_cache

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from emailshare.domain.errors import StoreUnavailable
from emailshare.storage.db import Params, Row, T, Tx

_ATTEMPTS = 5


@lru_cache(maxsize=512)
def to_pg(sql: str) -> str:
    """Rewrite ``?`` placeholders to psycopg's ``%s`` (our SQL has no literal ? or %)."""
    if "%" in sql:
        raise ValueError("SQL for PostgreSQL must not contain '%'")
    return sql.replace("?", "%s")


_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)
# Failures that are not an outage: the server answered, and aborted or refused one statement.
# By SQLSTATE: psycopg's classes for class 40 (deadlock 40P01, serialisation failure 40001)
# are siblings of TransactionRollback (40000), not its subclasses.
_ROLLED_BACK = "40"  # the transaction was rolled back: run it again
_NOT_OUTAGES = ("55P03", "57014")  # lock not available, query cancelled (a timeout)


def _rolled_back(cause: BaseException | None) -> bool:
    """Whether PostgreSQL aborted the transaction for a deadlock or a serialisation conflict."""
    return str(getattr(cause, "sqlstate", None) or "").startswith(_ROLLED_BACK)


# How long a request waits for a pooled connection (psycopg_pool's ``timeout``): the bound on a
# request's wait before the circuit breaker opens (docs/reliability.md, "Store outages").
POOL_TIMEOUT = 0.5
# libpq's connect timeout (psycopg enforces 2 s at least); connections are made by the pool's
# workers, never while a request waits, so this does not add to a request's wait.
CONNECT_TIMEOUT = 2


def postgres_outage(exc: StoreUnavailable) -> bool:
    """Whether the failure means PostgreSQL cannot answer (refused or reset connection, pool
    timeout, server shutting down): those open the circuit breaker."""
    cause = exc.__cause__
    if _rolled_back(cause) or getattr(cause, "sqlstate", None) in _NOT_OUTAGES:
        return False
    return isinstance(cause, (*_ERRORS, TimeoutError))


class _PgTx:
    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.AsyncConnection[Row]) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cur = await self._conn.execute(to_pg(sql), params)
        return cur.rowcount

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        async with self._conn.cursor() as cur:
            await cur.executemany(to_pg(sql), rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        cur = await self._conn.execute(to_pg(sql), params)
        return await cur.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cur = await self._conn.execute(to_pg(sql), params)
        return await cur.fetchall()


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]]) -> None:
        self._pool = pool
        self._next_probe: asyncio.Future[object] | None = None  # not sent yet: joinable
        self._probing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 8) -> PostgresDatabase:
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=POOL_TIMEOUT,
            reconnect_timeout=0,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
        )
        try:
            await pool.open(wait=True, timeout=10.0)
        except Exception as exc:
            await pool.close()
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {type(exc).__name__}") from exc
        return cls(pool)

    async def version(self) -> object:
        """The ``store_version`` row, read by a probe sent after the caller asked.

        Every request asks, so probes are shared: callers that arrive while one probe is in
        flight wait for the next, which is sent as soon as that one returns and answers all
        of them. One round trip serves a whole batch of requests, and none is answered with
        a version read before it arrived.
        """
        probe = self._next_probe
        if probe is None:
            probe = self._next_probe = asyncio.get_running_loop().create_future()
            if self._probing is None:
                self._probing = asyncio.create_task(self._probe())
        return await asyncio.shield(probe)

    async def _probe(self) -> None:
        try:
            while (probe := self._next_probe) is not None:
                self._next_probe = None  # later callers wait for the next probe
                try:
                    row = await self.fetchone("SELECT version FROM store_version WHERE id = 1")
                except Exception as exc:  # each waiting caller gets it
                    probe.set_exception(exc)
                    # Callers that arrived meanwhile get it too, rather than a second wait
                    # for the pool (an outage's answer within one pool timeout, not two).
                    later, self._next_probe = self._next_probe, None
                    if later is not None:
                        later.set_exception(exc)
                else:
                    probe.set_result(None if row is None else row[0])
        finally:
            self._probing = None

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._read(sql, params, one=True)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._read(sql, params, one=False)

    async def _read(self, sql: str, params: Params, *, one: bool) -> list[Row]:
        # A connection the server dropped (a restart) is found on use, not by a check before
        # each use (a round trip more per query): the pool throws it away and a read, which
        # changes nothing, is tried once more on another connection.
        for attempt in (1, 2):
            try:
                async with self._pool.connection() as conn:
                    cur = await conn.execute(to_pg(sql), params)
                    if one:
                        row = await cur.fetchone()
                        return [] if row is None else [row]
                    return await cur.fetchall()
            except (PoolTimeout, TimeoutError) as exc:  # no connection in time: never retried
                raise StoreUnavailable(type(exc).__name__) from exc
            except _ERRORS as exc:
                if attempt == 2 or self._pool.closed:
                    raise StoreUnavailable(type(exc).__name__) from exc
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield _PgTx(conn)
                if bump:  # every instance's caches see the change on their next request
                    await conn.execute(
                        "UPDATE store_version SET version = version + 1 WHERE id = 1"
                    )
        except (*_ERRORS, TimeoutError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        for attempt in range(_ATTEMPTS):
            try:
                async with self.transaction() as tx:
                    return await work(tx)
            except StoreUnavailable as exc:
                if not _rolled_back(exc.__cause__) or attempt == _ATTEMPTS - 1:
                    raise
            # PostgreSQL aborted this transaction for a deadlock or a serialisation conflict
            # with another one, which went through: wait a moment and run it again.
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._pool.close()
