"""PostgreSQL through psycopg 3's async pool (imported only when a postgresql:// URL is used).

The store's version (what the caches check on every request) costs no round trip: a listener,
one dedicated connection, ``LISTEN``s for the seq every write transaction notifies at its
commit (``storage.changes``), and answers a heartbeat (the latest seq, read on it) every
``HEARTBEAT`` seconds; so a commit is known to every instance as soon as its notification
arrives, and ``STALENESS`` seconds after it at worst. The processes of one host also share a
counter bumped before a write is acknowledged (``storage.hostsignal``): between them, a write
is seen by the very next request. A heartbeat not answered within ``HEARTBEAT`` or a dropped
connection stops the listener: until it is back, each version is a probe (one round trip,
shared by the requests that wait for it), exact as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import lru_cache

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from emailshare.domain.errors import StoreUnavailable
from emailshare.storage import changes
from emailshare.storage.db import Params, Row, T, Tx
from emailshare.storage.hostsignal import HostSignal

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
# A busy pool is not a dead store: requests wait for a connection in one queue, first come
# first served (``_Turns``), as long as the store answers. When a request has waited
# POOL_TIMEOUT and the store answered a statement (a read, or a transaction's commit) within
# the last ANSWERING seconds, every connection is out serving requests (a load of more
# requests than connections): it keeps its place and waits on (docs/reliability.md,
# "Overload"). That is checked every BUSY_SLICE, and the wait ends as an outage as soon as a
# statement failed since the last answer (a store that went away: within about one slice) or
# nothing was answered for ANSWERING seconds (a store that hangs).
ANSWERING = 1.0
BUSY_SLICE = 0.1
# With a turn, a connection is normally ready at once; one being made again (after one was
# lost) is waited for as long as BUSY_WAIT while the store answers others, then it fails.
BUSY_WAIT = 5.0
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
    __slots__ = ("_conn", "notes")

    def __init__(self, conn: psycopg.AsyncConnection[Row]) -> None:
        self._conn = conn
        self.notes: set[changes.Note] = set()

    def note(self, kind: str, org_id: int | None = None, record_id: int | None = None) -> None:
        self.notes.add((kind, org_id, record_id))

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


# The listener's heartbeat: every HEARTBEAT seconds it reads the latest seq on its connection,
# and must have the answer within HEARTBEAT more; so a commit whose notification never came
# is known, or the listener stopped (and versions probed), within STALENESS seconds.
HEARTBEAT = 0.2
STALENESS = 2 * HEARTBEAT
RECONNECT_DELAY = 0.5  # between attempts to bring a dropped listener back
LISTENER_NAME = "emailshare-listener"  # its application_name, as pg_stat_activity shows it


class Listener:
    """The latest seq committed, as notifications and heartbeats tell it (``live``), on one
    connection of its own; reconnects itself while the store is open."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.latest = 0
        self.live = False
        self.drops = 0  # times the connection was lost or a heartbeat late (for tests)
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=LISTENER_NAME)

    async def wait_live(self, timeout: float) -> bool:
        """Whether the listener is live, waiting up to ``timeout`` seconds for it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self.live

    def heard(self, seq: int) -> None:
        self.latest = max(self.latest, seq)

    async def _run(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=CONNECT_TIMEOUT,
                    application_name=LISTENER_NAME,
                )
            except Exception:
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            try:
                async with conn:
                    await conn.execute("LISTEN " + changes.CHANNEL)
                    await self._beat(conn)  # after LISTEN: nothing committed since is missed
                    self.live = True
                    self._up.set()
                    while True:
                        async for notify in conn.notifies(timeout=HEARTBEAT):
                            self.heard(int(notify.payload))
                        await asyncio.wait_for(self._beat(conn), HEARTBEAT)
            except Exception:  # noqa: S110 - dropped or late: probe until it is back
                pass
            finally:
                if self.live:
                    self.drops += 1
                self.live = False
                self._up.clear()
            await asyncio.sleep(RECONNECT_DELAY)

    async def _beat(self, conn: psycopg.AsyncConnection[Row]) -> None:
        cur = await conn.execute("SELECT version FROM store_version WHERE id = 1")
        row = await cur.fetchone()
        self.heard(0 if row is None else int(row[0]))

    async def close(self) -> None:
        task, self._task = self._task, None
        self.live = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Turns:
    """Turns at the pool's connections, one per connection, handed out first come, first
    served. psycopg_pool's own queue gives up a request's place when its ``timeout`` runs out,
    so a request that waited on had to join it again at its end (overtaken by every later
    arrival); a waiter here keeps its place however long it waits, and leaves only when
    ``give_up`` says so, or when cancelled."""

    __slots__ = ("_free", "_waiting")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def take(self, give_up: Callable[[float], bool]) -> None:
        """A turn; ``give_up(seconds waited)`` is asked when the wait runs long (after
        POOL_TIMEOUT, then every BUSY_SLICE) and ends it with ``PoolTimeout`` when true."""
        if self._free and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        started = time.monotonic()
        timeout = POOL_TIMEOUT
        try:
            while True:
                await asyncio.wait((turn,), timeout=timeout)  # never cancels the turn
                if turn.done():
                    return
                waited = time.monotonic() - started
                if give_up(waited):
                    raise PoolTimeout(f"no connection after {waited:.2f} s")
                timeout = BUSY_SLICE
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.give()  # handed a turn while leaving: pass it on
            else:
                turn.cancel()  # give() skips it
            raise

    def give(self) -> None:
        """Hand the turn to the first waiter still waiting, or back to the free ones."""
        waiting = self._waiting
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self,
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]],
        listener: Listener | None = None,
        host: HostSignal | None = None,
    ) -> None:
        self._pool = pool
        self._turns = _Turns(pool.max_size)
        # A read's cursor, kept per connection and used again by every read on it: a new
        # cursor per statement (what ``conn.execute`` makes) cost ~20 µs of CPU more
        # (docs/performance.md, "PostgreSQL"). A cursor holds its connection, so no weak
        # mapping: connections the pool closed are dropped when a new one is first used.
        self._cursors: dict[psycopg.AsyncConnection[Row], psycopg.AsyncCursor[Row]] = {}
        self._answered = -ANSWERING  # monotonic time of the last statement the store answered
        self._failed = -ANSWERING  # ... and of the last one that failed on its connection
        self._next_probe: asyncio.Future[object] | None = None  # not sent yet: joinable
        self._probing: asyncio.Task[None] | None = None
        self.listener = listener
        self._host = host

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
        listener = Listener(url)
        listener.start()  # versions are probed until it is live
        try:
            host: HostSignal | None = HostSignal(url)
        except OSError:  # no private place for it: notifications alone, with their bound
            host = None
        return cls(pool, listener, host)

    async def version(self) -> object:
        """The latest seq committed (``storage.changes``): the listener's, while it is live;
        else the ``store_version`` row, read by a probe sent after the caller asked.

        Probes are shared: callers that arrive while one probe is in flight wait for the next,
        which is sent as soon as that one returns and answers all of them. One round trip
        serves a whole batch of requests, and none is answered with a version read before it
        arrived.
        """
        listener = self.listener
        if listener is not None and listener.live:
            host = self._host
            return listener.latest if host is None else (listener.latest, host.read())
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
                    seq = 0 if row is None else int(row[0])
                    if self.listener is not None:
                        self.listener.heard(seq)
                    probe.set_result(seq)
        finally:
            self._probing = None

    def _silent(self, waited: float) -> bool:
        """Whether a request that has waited ``waited`` seconds for its turn stops: the store
        answered nothing for ANSWERING seconds, or a statement failed since its last answer
        (an outage). Otherwise it is a queue, and the request waits on."""
        return waited >= POOL_TIMEOUT and self._outage()

    def _outage(self) -> bool:
        """The store answered nothing for ANSWERING seconds, or a statement failed since its
        last answer: a wait for a connection ends (``PoolTimeout``, the breaker's outage)."""
        return time.monotonic() - self._answered > ANSWERING or self._failed >= self._answered

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        """A pooled connection, once it is this request's turn (``_Turns``: first come,
        first served, for as long as the store answers others; after POOL_TIMEOUT with no
        answer for ANSWERING seconds, or a failure since the last, ``PoolTimeout``: the
        breaker's outage). A connection is then normally ready at once; one being made again
        is waited for past POOL_TIMEOUT, up to BUSY_WAIT, while the store answers others."""
        await self._turns.take(self._silent)
        try:
            try:
                conn = await self._pool.getconn(POOL_TIMEOUT)
            except PoolTimeout:
                deadline = time.monotonic() + BUSY_WAIT
                while True:
                    if self._outage():
                        raise
                    left = deadline - time.monotonic()
                    try:
                        conn = await self._pool.getconn(min(BUSY_SLICE, max(left, 0.001)))
                        break
                    except PoolTimeout:
                        if time.monotonic() >= deadline:
                            raise
            try:
                # Not ``async with conn``: in autocommit its commit or rollback does nothing but
                # take the connection's lock (a transaction ends by its own block), and the
                # pool rolls back whatever is left open when it takes the connection back.
                yield conn
            finally:
                await self._pool.putconn(conn)
        finally:
            self._turns.give()

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
                async with self._connection() as conn:
                    cur = self._cursors.get(conn)
                    if cur is None:  # a new connection: forget those the pool closed since
                        cursors = {c: k for c, k in self._cursors.items() if not c.closed}
                        cur = cursors[conn] = conn.cursor()
                        self._cursors = cursors
                    await cur.execute(to_pg(sql), params)
                    if one:
                        row = await cur.fetchone()
                        found = [] if row is None else [row]
                    else:
                        found = await cur.fetchall()
                    self._answered = time.monotonic()
                    return found
            except (PoolTimeout, TimeoutError) as exc:  # no connection in time: never retried
                raise StoreUnavailable(type(exc).__name__) from exc
            except _ERRORS as exc:
                self._failed = time.monotonic()
                if attempt == 2 or self._pool.closed:
                    raise StoreUnavailable(type(exc).__name__) from exc
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        seq = None
        try:
            async with self._connection() as conn, conn.transaction():
                tx = _PgTx(conn)
                yield tx
                if bump or tx.notes:  # logged and notified at the commit (storage.changes)
                    seq = await changes.append(tx, tx.notes, self.dialect)
        except (*_ERRORS, TimeoutError) as exc:
            if isinstance(exc, _ERRORS):
                self._failed = time.monotonic()
            raise StoreUnavailable(type(exc).__name__) from exc
        self._answered = time.monotonic()  # committed: the store answers (a busy pool's wait)
        if seq is not None:  # the next request of any worker of this host sees it
            if self._host is not None:
                self._host.bump()
            if self.listener is not None:
                self.listener.heard(seq)

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        for attempt in range(_ATTEMPTS):
            try:
                async with self.transaction(bump) as tx:
                    return await work(tx)
            except StoreUnavailable as exc:
                if not _rolled_back(exc.__cause__) or attempt == _ATTEMPTS - 1:
                    raise
            # PostgreSQL aborted this transaction for a deadlock or a serialisation conflict
            # with another one, which went through: wait a moment and run it again.
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.close()
        if self._host is not None:
            self._host.close()
            self._host = None
        await self._pool.close()
