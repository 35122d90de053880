"""A thin async database interface over sqlite3 (embedded default) and psycopg 3 (PostgreSQL).

SQL is written once with ``?`` placeholders; the PostgreSQL driver rewrites them to ``%s``.
SQLite reads run directly on the event loop (a few microseconds against a local file, far
cheaper than a thread hop); its transactions wait for locks and fsync on a thread of their own
(see ``SQLiteDatabase``). PostgreSQL uses psycopg's async connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import mmap
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from emailshare.domain.errors import StoreUnavailable as StoreUnavailable  # raised here
from emailshare.storage import changes, walindex
from emailshare.storage.walindex import WAL_INDEX_HEADER, wal_index_of

Row = tuple[Any, ...]
T = TypeVar("T")
Params = Sequence[Any]


class Tx(Protocol):
    """One transaction: statements run in it commit together or not at all."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    def note(self, kind: str, org_id: int | None = None, record_id: int | None = None) -> None:
        """Name a scope this transaction changes (``domain.changes``): logged at its commit
        (``storage.changes``), so caches forget only that scope."""
        ...


class Database(Protocol):
    dialect: str

    async def version(self) -> object:
        """An opaque value that changes whenever anything is committed to the store, by this
        process or any other. Equal values mean nothing changed in between."""
        ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...
    def transaction(self, bump: bool = True) -> contextlib.AbstractAsyncContextManager[Tx]:
        """One transaction. Its commit logs the scopes it noted (``Tx.note``); one that
        noted none logs "everything" unless ``bump`` is False (a write no cache depends on:
        API-limit usage, migrations, sync bookkeeping)."""
        ...

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        """Run ``work`` in one transaction; where the engine may abort a transaction for a
        deadlock or a serialisation conflict, run it again (``work`` must be repeatable)."""
        ...

    async def close(self) -> None: ...


def sqlite_path(url: str) -> str:
    """``sqlite:///relative.db`` or ``sqlite:////abs/path.db`` to a file path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r} (use sqlite:///path/to/file.db)")
    path = url[len("sqlite:///") :]
    if not path:
        raise ValueError("sqlite URL names no file")
    return path


def redact(url: str) -> str:
    """A database URL safe to print: the password is replaced."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


async def connect(url: str, *, pool_size: int = 8) -> Database:
    """Open the store named by ``url``: ``sqlite:///file`` or ``postgresql://…``, behind the
    circuit breaker (``storage.breaker``) that makes an outage fail fast."""
    from emailshare.storage.breaker import GuardedDatabase

    if url.startswith("sqlite:"):
        return GuardedDatabase(
            SQLiteDatabase(sqlite_path(url)), sqlite_outage, "SELECT COUNT(*) FROM sqlite_master"
        )
    if url.startswith(("postgresql://", "postgres://")):
        from emailshare.storage.postgres import PostgresDatabase, postgres_outage

        return GuardedDatabase(
            await PostgresDatabase.open(url, pool_size=pool_size), postgres_outage
        )
    raise ValueError(f"unsupported database URL {redact(url)!r}: use sqlite:/// or postgresql://")


# SQLite failures that leave the store able to answer: a lock held by another process (busy),
# a full disk or a read-only file (writes fail at once by themselves; reads still work).
_NOT_OUTAGES = ("locked", "busy", "full", "readonly", "read-only")


def sqlite_outage(exc: StoreUnavailable) -> bool:
    """Whether the failure means the store cannot answer reads (a file that cannot be opened
    or read, an I/O error): those open the circuit breaker."""
    cause = exc.__cause__
    if not isinstance(cause, sqlite3.DatabaseError):
        return False
    text = str(cause).lower()
    return not any(word in text for word in _NOT_OUTAGES)


class _SQLiteTx:
    """The statements of one SQLite transaction, usable only by the task that opened it and
    only until it ends: a transaction's isolation must not depend on its callers' manners."""

    __slots__ = ("_conn", "_off_loop", "_task", "notes")

    def __init__(
        self,
        conn: sqlite3.Connection,
        off_loop: Callable[[Callable[[], object]], Awaitable[object]],
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._task = asyncio.current_task()
        self._off_loop = off_loop
        self.notes: set[changes.Note] = set()

    def note(self, kind: str, org_id: int | None = None, record_id: int | None = None) -> None:
        self.notes.add((kind, org_id, record_id))

    def _checked(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is None:
            raise RuntimeError("this transaction has ended")
        if asyncio.current_task() is not self._task:
            raise RuntimeError("a transaction is used only by the task that opened it")
        return conn

    def end(self) -> None:
        self._conn = None

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._checked().execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        # Bulk loads: the rows are written on the writer's thread, the loop serves meanwhile.
        # The cursor is closed there too: returned, it would live on in the executor's future
        # (a reference cycle), and the collector freeing it on the loop later resets its
        # statement while the writer's thread runs the same cached statement again — SQLite's
        # "bad parameter or other API misuse" (seen syncing 3,000 messages, bench/mailsync.py).
        conn = self._checked()

        def write() -> None:
            conn.executemany(sql, rows).close()

        await self._off_loop(write)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._checked().execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self._checked().execute(sql, params).fetchall()


def _open(path: str, *pragmas: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=0, cached_statements=256
    )
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _retrieve(done: asyncio.Future[Any]) -> None:
    """Take the outcome of a job whose caller was cancelled, so that it is not reported."""
    if not done.cancelled():
        done.exception()


# How long a write waits for another connection's write lock (BEGIN IMMEDIATE), on the
# writer's thread; and how long a read waits, on the loop. In WAL mode a read takes no lock a
# writer holds: it waits only while another process recovers the WAL after a crash.
_WRITE_BUSY_MS = 10_000
_READ_BUSY_MS = 200
# The reader maps the database file (up to this many bytes) rather than copying its pages into
# SQLite's own page cache with a read() each: a cold record_details at 1M records costs 15-17 µs
# instead of 25-29 (docs/performance.md). The pages mapped are the page cache's, file-backed and
# shared by every worker and process: they count in a worker's RSS (RssFile) once touched, not in
# its private memory (RssAnon), and the kernel may drop them at any time. The writer copies.
# As much as SQLite maps: SQLITE_MAX_MMAP_SIZE (0x7fff0000, just under 2 GiB, in this build; a
# larger value is cut to it), so not the whole of the 3.5 GB set of 5M emails, but 60 % of its
# emails' pages against 29 % at 1 GiB: 9.1-9.3 -> 4.4-4.5 read syscalls a list request, the page
# statement alone 66-73 -> 57-61 µs (docs/performance.md, "Emails list"). Past it, pages are read.
_READ_MMAP = 0x7FFF0000


class SQLiteDatabase:
    """SQLite in WAL mode: readers never block the writer; every commit is fsynced.

    Two connections per store. Reads run on the reader, on the event loop: each is a few
    microseconds against a local file, less than a hop to a thread, and in autocommit mode each
    sees only what was committed. Transactions run on the writer, one at a time in this process
    (an ``asyncio.Lock`` held for the transaction's life). ``BEGIN IMMEDIATE``, which may wait
    up to 10 s for another process's write lock, and ``COMMIT``, which fsyncs, run on a thread
    of the store's own, so the loop keeps serving meanwhile; the statements in between run on
    the loop (the write lock is held: none of them waits), as a thread hop per statement
    (~40 µs here) would add some 17 ms to a 200-id bulk share's 400 statements. An in-memory
    store is one database per connection, so there the reader is the writer, and a read waits
    while another task's transaction is open.
    """

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._wal_index: mmap.mmap | None = None
        self._shared = path == ":memory:"
        if not self._shared:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # busy_timeout first: two workers opening a new file at once, one waits while the
        # other switches it to WAL ("database is locked" at start-up otherwise).
        pragmas = (f"busy_timeout={_WRITE_BUSY_MS}", "journal_mode=WAL", "synchronous=FULL")
        self._writer = _open(path, *pragmas, "foreign_keys=ON")
        self._reader = self._writer
        self._thread: ThreadPoolExecutor | None = None
        if not self._shared:
            self._reader = _open(
                path, f"busy_timeout={_READ_BUSY_MS}", "query_only=ON", f"mmap_size={_READ_MMAP}"
            )
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="emailshare-sqlite-writer")
        self._tx_lock = asyncio.Lock()
        self._tx_task: asyncio.Task[Any] | None = None  # the task whose transaction is open
        self._closed = False
        self._own_commits = 0
        self._reader.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the WAL
        self._wal_index = self._map_wal_index()
        self._writers_fd = walindex.writers_fd(path) if self._wal_index is not None else None

    def restore(self, image: bytes) -> bool:
        """Make a new in-memory store the database file ``image``; False for a file store."""
        if self._shared:
            self._writer.deserialize(image)
        return self._shared

    async def version(self) -> object:
        # Every request asks, so this is on the hot path. In WAL mode every commit, by any
        # connection of any process, rewrites the wal-index header in the shared-memory file
        # (`<db>-shm`): 48 bytes read through mmap, ~0.3 µs, where PRAGMA data_version costs ~6 µs.
        # The file stays in place while this store's connections are open (SQLite truncates or
        # removes it only when no connection holds it, and no connection can leave WAL mode
        # meanwhile). Without a mapping (``:memory:``, not in WAL mode, 32 stores mapped already):
        # the PRAGMA on the reader, which does not report the reader's own commits (an in-memory
        # store's), so they are counted apart (in both ways, for simplicity).
        index = self._wal_index
        if index is not None:
            return (index[:WAL_INDEX_HEADER], self._own_commits)
        try:
            row = self._reader.execute("PRAGMA data_version").fetchone()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return (row[0], self._own_commits)

    def _map_wal_index(self) -> mmap.mmap | None:
        if self._shared:
            return None
        mode = self._reader.execute("PRAGMA journal_mode").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            return None
        return wal_index_of(self._path)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        if self._shared:
            await self._wait_for_other_transactions()
        try:
            row: Row | None = self._reader.execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        if self._shared:
            await self._wait_for_other_transactions()
        try:
            return self._reader.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def _wait_for_other_transactions(self) -> None:
        # The in-memory store reads on the writer: not while another task's transaction is
        # open. The read itself does not await, so no transaction can begin before it is done.
        while self._tx_lock.locked() and self._tx_task is not asyncio.current_task():
            async with self._tx_lock:
                pass

    async def _off_loop(self, job: Callable[[], T]) -> T:
        """Run ``job`` on the writer's thread (inline for an in-memory store, where nothing
        waits). The thread takes jobs in order, and a job whose caller is cancelled still runs
        to its end before the next one: the writer is never used by two threads at once."""
        if self._thread is None:
            return job()
        if self._closed:
            raise StoreUnavailable("the store is closed")
        done = asyncio.get_running_loop().run_in_executor(self._thread, job)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            done.add_done_callback(_retrieve)
            raise

    def _queue(self, job: Callable[[], object]) -> None:
        """Run ``job`` on the writer's thread without waiting for it (a closed store has no
        transaction left to end: closing the writer rolled it back)."""
        if self._thread is None:
            job()
        elif not self._closed:
            done = asyncio.get_running_loop().run_in_executor(self._thread, job)
            done.add_done_callback(_retrieve)

    def _begin(self) -> None:
        # Writers of every process queue on a flock of the wal-index's kept descriptor first:
        # the kernel wakes the next one the moment the lock is free, where SQLite's busy
        # handler sleeps 1, 2, 5 ... 100 ms between tries (a mixed load's p99). BEGIN
        # IMMEDIATE stays the lock that counts; the flock only orders who asks.
        if self._writers_fd is not None:
            fcntl.flock(self._writers_fd, fcntl.LOCK_EX)
        try:
            self._writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._unlock()
            raise StoreUnavailable(str(exc)) from exc

    def _unlock(self) -> None:
        if self._writers_fd is not None:
            fcntl.flock(self._writers_fd, fcntl.LOCK_UN)

    def _rollback(self) -> None:
        try:
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")
        finally:
            self._unlock()

    def _commit(self) -> None:
        try:
            self._writer.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._rollback()
            raise StoreUnavailable(str(exc)) from exc
        self._unlock()
        self._own_commits += 1

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        # One writer per store: transactions of concurrent tasks never interleave on it.
        async with self._tx_lock:
            self._tx_task = asyncio.current_task()
            tx = _SQLiteTx(self._writer, self._off_loop)
            try:
                await self._off_loop(self._begin)
                yield tx
                if bump or tx.notes:
                    await changes.append(tx, tx.notes, self.dialect)
            except BaseException as exc:
                tx.end()
                if isinstance(exc, asyncio.CancelledError):
                    # The thread rolls back (a BEGIN still waiting too, once it is through)
                    # before any later job; a cancelled task need not wait for it.
                    self._queue(self._rollback)
                else:
                    await self._off_loop(self._rollback)
                raise
            finally:
                self._tx_task = None
            tx.end()
            await self._off_loop(self._commit)

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        # SQLite serialises writers on its file lock (busy_timeout): no deadlock to retry.
        async with self.transaction(bump) as tx:
            return await work(tx)

    async def close(self) -> None:
        self._wal_index = None  # the mapping stays, for the process (see _WAL_INDEXES)
        if self._closed:
            return
        self._closed = True  # from here on no job is queued
        if self._thread is not None:
            # Jobs queued already (a cancelled caller's rollback) end before the writer closes.
            drained = asyncio.get_running_loop().run_in_executor(self._thread, lambda: None)
            await asyncio.shield(drained)
            self._thread.shutdown(wait=False)
        # SQLite closes a descriptor of its own only once no connection of the process holds
        # a lock on the file (os_unix.c: the "unused" descriptors), so closing one connection
        # while another lives keeps the other's locks.
        if self._reader is not self._writer:
            self._reader.close()
        self._writer.close()
