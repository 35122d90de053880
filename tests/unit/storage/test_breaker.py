"""storage.breaker: the first outage opens the circuit, calls then fail at once without reaching
the store, one probe at a time closes it when the store answers again; failures that are not
outages leave it closed. The engines' classifiers, on the errors the drivers raise."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from emailshare.domain.errors import StoreUnavailable
from emailshare.storage.breaker import GuardedDatabase
from emailshare.storage.db import Params, Row, SQLiteDatabase, T, Tx, sqlite_outage
from emailshare.storage.postgres import postgres_outage


def failure(cause: BaseException) -> StoreUnavailable:
    """A StoreUnavailable as the engines raise it: ``from`` the driver's error."""
    try:
        raise StoreUnavailable(str(cause)) from cause
    except StoreUnavailable as exc:
        return exc


class Switchable:
    """A real in-memory SQLite store that can be made to fail as an engine fails: every call
    raises ``fault`` (when set) before reaching it. Counts calls and concurrent ones."""

    dialect = "sqlite"

    def __init__(self) -> None:
        self.real = SQLiteDatabase(":memory:")
        self.fault: BaseException | None = None
        self.calls = 0
        self.running = 0
        self.most_running = 0
        self.delay = 0.0

    async def _enter(self) -> None:
        self.calls += 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(self.delay)
            if self.fault is not None:
                raise failure(self.fault)
        finally:
            self.running -= 1

    async def version(self) -> object:
        await self._enter()
        return await self.real.version()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        await self._enter()
        return await self.real.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        await self._enter()
        return await self.real.fetchall(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        await self._enter()
        async with self.real.transaction(bump) as tx:
            yield tx

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        await self._enter()
        return await self.real.run_in_transaction(work, bump)

    async def close(self) -> None:
        await self.real.close()


UNREADABLE = sqlite3.OperationalError("unable to open database file")


def test_the_first_outage_opens_calls_fail_at_once_and_one_probe_closes_it() -> None:
    async def main() -> None:
        inner = Switchable()
        db = GuardedDatabase(inner, sqlite_outage)
        assert await db.fetchone("SELECT 1") == (1,)
        inner.fault = UNREADABLE
        inner.delay = 0.05  # each probe takes a while: probes must not pile up
        with pytest.raises(StoreUnavailable):
            await db.fetchone("SELECT 1")
        assert db.breaker.is_open
        before = inner.calls
        t0 = time.monotonic()
        for _ in range(200):  # open: none reaches the store, none waits
            with pytest.raises(StoreUnavailable, match="circuit open"):
                await db.fetchall("SELECT 1")
            with pytest.raises(StoreUnavailable, match="circuit open"):
                await db.version()
            with pytest.raises(StoreUnavailable, match="circuit open"):
                async with db.transaction():
                    pass
        assert time.monotonic() - t0 < 0.5
        assert inner.calls == before
        await asyncio.sleep(0.7)  # about three probes, every 200 ms, one at a time
        assert 2 <= inner.calls - before <= 4, inner.calls - before
        assert inner.most_running == 1
        assert db.breaker.is_open
        inner.fault = None
        t0 = time.monotonic()
        while db.breaker.is_open:
            await asyncio.sleep(0.01)
        assert time.monotonic() - t0 < 0.5  # the next probe closes it
        assert await db.fetchone("SELECT 2") == (2,)
        assert db.breaker.trips == 1
        await db.close()

    asyncio.run(main())


def test_failures_that_are_not_outages_leave_it_closed() -> None:
    async def main() -> None:
        inner = Switchable()
        db = GuardedDatabase(inner, sqlite_outage)
        for fault in (
            sqlite3.OperationalError("database is locked"),
            sqlite3.OperationalError("database or disk is full"),
            sqlite3.OperationalError("attempt to write a readonly database"),
        ):
            inner.fault = fault
            with pytest.raises(StoreUnavailable):
                await db.run_in_transaction(lambda tx: tx.execute("SELECT 1"))
            assert not db.breaker.is_open, fault
        inner.fault = None
        # bump=False: a store without its schema, so no change log to write
        assert await db.run_in_transaction(lambda tx: tx.fetchone("SELECT 3"), False) == (3,)
        await db.close()

    asyncio.run(main())


def test_closing_the_store_stops_the_prober() -> None:
    async def main() -> None:
        inner = Switchable()
        db = GuardedDatabase(inner, sqlite_outage)
        inner.fault = UNREADABLE
        with pytest.raises(StoreUnavailable):
            await db.version()
        await db.close()
        calls = inner.calls
        await asyncio.sleep(0.5)
        assert inner.calls == calls  # no probe after close

    asyncio.run(main())


def test_sqlite_outages_on_the_errors_sqlite_raises(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as unopenable:
        sqlite3.connect(tmp_path / "missing" / "x.db").execute("SELECT 1")
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError) as junk:
        sqlite3.connect(tmp_path / "junk.db").execute("SELECT * FROM sqlite_master")
    assert sqlite_outage(failure(unopenable.value))
    assert sqlite_outage(failure(junk.value))
    assert not sqlite_outage(failure(sqlite3.OperationalError("database is locked")))
    assert not sqlite_outage(failure(sqlite3.OperationalError("database or disk is full")))
    assert not sqlite_outage(StoreUnavailable("the store is closed"))  # no driver error


def test_postgres_outages_on_psycopgs_errors() -> None:
    assert postgres_outage(failure(psycopg.OperationalError("connection refused")))
    assert postgres_outage(failure(psycopg.InterfaceError("the connection is closed")))
    assert postgres_outage(failure(PoolTimeout("couldn't get a connection after 0.50 sec")))
    assert not postgres_outage(failure(psycopg.errors.SerializationFailure("conflict")))
    assert not postgres_outage(failure(psycopg.errors.DeadlockDetected("deadlock")))
    assert not postgres_outage(failure(psycopg.errors.QueryCanceled("timeout")))
    assert not postgres_outage(failure(ValueError("bad")))
