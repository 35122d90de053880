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
import sys
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


# Checkpoints run off the commit path, on a thread and a connection of their own, once the WAL
# holds this many frames (SQLite's own wal_autocheckpoint, which would run them inside the
# committing connection's COMMIT, 40-110 ms at 1M records, is off on the writer). PASSIVE: they
# wait for no reader and no writer. Should they fall behind, the writer checkpoints itself once
# the WAL holds _CHECKPOINT_BOUND frames (~40 MB of 4 kB pages), before its next transaction.
_CHECKPOINT_FRAMES = 1000
_CHECKPOINT_BOUND = 10_000
# The wal-index header's mxFrame: the frames in the WAL (native byte order, walformat.html).
_MX_FRAME = slice(16, 20)

# Group commit: at most this many transactions share one SQLite transaction and its fsync.
# Each member's answer waits for the whole group's commit, and the other processes' writers
# for the group's write lock: the bound keeps both short (docs/performance.md, "Writes among
# the reads").
_GROUP_MAX = 16


class _Group:
    """Transactions of one process that share one SQLite transaction (``BEGIN IMMEDIATE`` once,
    a savepoint per member, ``COMMIT`` once): one write lock, one fsync. ``durable`` is settled
    once that commit is on disk (or failed): only then is any member answered."""

    __slots__ = ("broken", "durable", "ending", "members")

    def __init__(self, durable: asyncio.Future[None]) -> None:
        self.durable = durable
        self.members = 0  # members whose savepoint was released (to be committed)
        self.broken = False  # SQLite rolled the whole transaction back: every member fails
        self.ending = False  # no member may join: it is committed (or rolled back) next


def _settle(group: _Group, failure: BaseException | None) -> None:
    if group.durable.done():
        return
    if failure is None:
        group.durable.set_result(None)
    else:
        group.durable.set_exception(failure)


class SQLiteDatabase:
    """SQLite in WAL mode: readers never block the writer; every commit is fsynced.

    Two connections per store. Reads run on the reader, on the event loop: each is a few
    microseconds against a local file, less than a hop to a thread, and in autocommit mode each
    sees only what was committed. Transactions run on the writer, one at a time in this process
    (an ``asyncio.Lock`` held for the transaction's life). ``BEGIN IMMEDIATE``, which may wait
    up to 10 s for another process's write lock, and ``COMMIT``, which fsyncs, run on a thread
    of the store's own, so the loop keeps serving meanwhile (a ``BEGIN`` that needs no wait is
    taken on the loop: ``_begin_now``); the statements in between run on the loop (the write
    lock is held: none of them waits), as a thread hop per statement (~40 µs here) would add
    some 17 ms to a 200-id bulk share's 400 statements.

    Group commit: the transactions that queue for the writer while one runs join its SQLite
    transaction, each in a savepoint of its own (a failure rolls back that one alone), and the
    last of them commits them all with one ``COMMIT`` and one fsync. Each is answered only once
    that ``COMMIT`` has returned; a failed ``COMMIT`` fails every member, and none is kept.
    Checkpoints run on a thread and a connection of their own, not in a ``COMMIT``. (Why, and
    the figures: docs/performance.md, "Writes among the reads".)

    An in-memory store is one database per connection, so there the reader is the writer, a
    read waits while another task's transaction is open, and nothing is grouped.
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
        self._group: _Group | None = None  # the SQLite transaction open on the writer
        self._waiting = 0  # transactions waiting for the writer
        self._jobs = 0  # jobs sent to the writer's thread that the loop has not seen end
        # In memory a commit costs nothing and reads share the writer: nothing is grouped.
        self._group_max = 1 if self._shared else _GROUP_MAX
        self._closed = False
        self._own_commits = 0
        self._reader.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the WAL
        self._wal_index = self._map_wal_index()
        self._writers_fd = walindex.writers_fd(path) if self._wal_index is not None else None
        # Without the mapped header (no WAL, 32 stores mapped) SQLite checkpoints as it does.
        self._checkpointer: ThreadPoolExecutor | None = None
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpoint_pending = False
        self._checkpoint_due = False  # the WAL is past its bound: the writer checkpoints next
        self._checkpoint_frames, self._checkpoint_bound = _CHECKPOINT_FRAMES, _CHECKPOINT_BOUND
        self.checkpoints = 0  # checkpoints run by this store (either way)
        if self._wal_index is not None:
            self._writer.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = ThreadPoolExecutor(
                1, thread_name_prefix="emailshare-sqlite-checkpoint"
            )

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
        done = self._submit(job)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            done.add_done_callback(_retrieve)
            raise

    def _submit(self, job: Callable[[], T]) -> asyncio.Future[T]:
        """``job`` on the writer's thread, counted in ``_jobs`` until the loop hears it ended."""
        assert self._thread is not None
        done = asyncio.get_running_loop().run_in_executor(self._thread, job)
        self._jobs += 1
        done.add_done_callback(self._job_done)
        return done

    def _job_done(self, _: object) -> None:
        self._jobs -= 1

    def _queue(self, job: Callable[[], object]) -> None:
        """Run ``job`` on the writer's thread without waiting for it (a closed store has no
        transaction left to end: closing the writer rolled it back)."""
        if self._thread is None:
            job()
        elif not self._closed:
            self._submit(job).add_done_callback(_retrieve)

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

    def _begin_now(self) -> bool:
        """``_begin`` on the loop if it need not wait: the writer's thread idle, no writer of any
        process queued or writing (the flock free) and SQLite's write lock free (no busy wait).
        Saves the group a hop to the thread and back (1-5 ms on a loop busy with reads)."""
        if self._thread is None or self._writers_fd is None or self._jobs or self._closed:
            return False
        try:
            fcntl.flock(self._writers_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        try:
            self._writer.execute("PRAGMA busy_timeout=0")
            try:
                self._writer.execute("BEGIN IMMEDIATE")
            finally:
                self._writer.execute(f"PRAGMA busy_timeout={_WRITE_BUSY_MS}")
        except sqlite3.Error:
            try:
                if self._writer.in_transaction:  # begun, then the busy timeout not restored
                    self._writer.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            finally:
                self._unlock()
            return False
        return True

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
        except sqlite3.Error as exc:
            self._rollback()
            if isinstance(exc, sqlite3.OperationalError):
                raise StoreUnavailable(str(exc)) from exc
            raise
        self._unlock()
        self._own_commits += 1
        self._after_commit()

    def _wal_frames(self) -> int:
        index = self._wal_index
        return 0 if index is None else int.from_bytes(index[_MX_FRAME], sys.byteorder)

    def _after_commit(self) -> None:
        """On the writer's thread, after a commit: ask for a checkpoint if the WAL is long, or
        have one run next on this thread if it is past its bound (the checkpointer fell
        behind)."""
        if self._checkpointer is None or self._thread is None:
            return
        frames = self._wal_frames()
        if frames >= self._checkpoint_bound:
            self._checkpoint_due = True  # queued by the loop (_committed), before any BEGIN
        elif frames >= self._checkpoint_frames and not self._checkpoint_pending:
            self._checkpoint_pending = True
            try:
                self._checkpointer.submit(self._background_checkpoint)
            except RuntimeError:
                self._checkpoint_pending = False

    def _background_checkpoint(self) -> None:
        try:
            if self._checkpoint_conn is None:
                self._checkpoint_conn = _open(self._path, "synchronous=FULL")
            self._checkpoint(self._checkpoint_conn)
        finally:
            self._checkpoint_pending = False

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        # PASSIVE calls no busy handler: another process's checkpoint running, or any failure,
        # leaves it to the next commit past the threshold.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.checkpoints += 1

    def _close_checkpointer(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        # One writer per store: transactions of concurrent tasks never interleave on it. The
        # transactions that queue while one runs share its SQLite transaction and its commit,
        # each in a savepoint of its own (group commit: see _Group).
        self._waiting += 1
        try:
            await self._tx_lock.acquire()
        except BaseException:
            self._waiting -= 1
            self._close_idle_group()
            raise
        self._waiting -= 1
        try:
            group = await self._join()
            self._tx_task = asyncio.current_task()
            tx = _SQLiteTx(self._writer, self._off_loop)
            try:
                self._writer.execute("SAVEPOINT member")
                yield tx
                if bump or tx.notes:
                    await changes.append(tx, tx.notes, self.dialect)
                self._writer.execute("RELEASE member")
                group.members += 1
            except BaseException:
                if self._jobs:
                    # Cancelled while a job of its own still runs on the writer's thread (a
                    # bulk write): its savepoint is undone there, after it, and the group ends
                    # so that nothing else uses the writer before.
                    self._queue(self._undo_member_now)
                    group.ending = True
                else:
                    self._undo_member(group)
                raise
            finally:
                tx.end()
                self._tx_task = None
                if group.ending or group.members >= self._group_max or self._waiting == 0:
                    self._close(group)
            durable = group.durable
        finally:
            self._tx_lock.release()
        # Answered only once the commit that holds this transaction is on disk.
        await asyncio.shield(durable)

    async def _join(self) -> _Group:
        """The open group, or a new one: BEGIN IMMEDIATE on the writer's thread."""
        group = self._group
        if group is not None:
            return group
        try:
            if not self._begin_now():
                await self._off_loop(self._begin)
        except asyncio.CancelledError:
            # The thread rolls back (a BEGIN still waiting too, once it is through) before any
            # later job; a cancelled task need not wait for it.
            self._queue(self._rollback)
            raise
        group = self._group = _Group(asyncio.get_running_loop().create_future())
        group.durable.add_done_callback(_retrieve)  # its members may all have been cancelled
        return group

    def _undo_member(self, group: _Group) -> None:
        """Roll back a failed member's statements; if SQLite rolled back the whole transaction
        by itself (a full disk, an I/O error), every member of the group fails with it."""
        if not self._undo_member_now():
            group.broken = group.ending = True

    def _undo_member_now(self) -> bool:
        if self._writer.in_transaction:
            try:
                self._writer.execute("ROLLBACK TO member")
                self._writer.execute("RELEASE member")
                return True
            except sqlite3.Error:
                pass
        # Without its transaction the group's COMMIT fails, and every member with it.
        return False

    def _close(self, group: _Group) -> None:
        """End ``group``: commit it (on the writer's thread), or roll it back if no member
        succeeded or SQLite has rolled it back already; its members wait for ``durable``."""
        self._group = None
        if group.members == 0 or group.broken:
            self._queue(self._rollback)
            _settle(group, StoreUnavailable("the store rolled the transaction back"))
            return
        if self._closed:
            _settle(group, StoreUnavailable("the store is closed"))
            return
        if self._thread is None:  # in memory: nothing to wait for, and nothing is grouped
            try:
                self._commit()
            except Exception as exc:
                _settle(group, exc)
                return
            _settle(group, None)
            return
        self._submit(self._commit).add_done_callback(lambda job: self._committed(group, job))

    def _committed(self, group: _Group, job: asyncio.Future[None]) -> None:
        _settle(
            group, StoreUnavailable("the store is closed") if job.cancelled() else job.exception()
        )
        if self._checkpoint_due:
            self._checkpoint_due = False
            self._queue(lambda: self._checkpoint(self._writer))

    def _close_idle_group(self) -> None:
        """A task that gave up waiting for the writer may have been the one the open group was
        kept open for: close it if nobody else will."""
        group = self._group
        if group is not None and self._waiting == 0 and not self._tx_lock.locked():
            self._close(group)

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]], bump: bool = True) -> T:
        # SQLite serialises writers on its file lock (busy_timeout): no deadlock to retry.
        async with self.transaction(bump) as tx:
            return await work(tx)

    async def close(self) -> None:
        self._wal_index = None  # the mapping stays, for the process (see _WAL_INDEXES)
        if self._closed:
            return
        self._closed = True  # from here on no job is queued
        group, self._group = self._group, None
        if group is not None:  # closing the writer rolls it back
            _settle(group, StoreUnavailable("the store is closed"))
        if self._thread is not None:
            # Jobs queued already (a cancelled caller's rollback) end before the writer closes.
            drained = asyncio.get_running_loop().run_in_executor(self._thread, lambda: None)
            await asyncio.shield(drained)
            self._thread.shutdown(wait=False)
        if self._checkpointer is not None:
            # A checkpoint running ends first; its connection closes on its own thread.
            ended = asyncio.get_running_loop().run_in_executor(
                self._checkpointer, self._close_checkpointer
            )
            await asyncio.shield(ended)
            self._checkpointer.shutdown(wait=False)
        # SQLite closes a descriptor of its own only once no connection of the process holds
        # a lock on the file (os_unix.c: the "unused" descriptors), so closing one connection
        # while another lives keeps the other's locks.
        if self._reader is not self._writer:
            self._reader.close()
        self._writer.close()
