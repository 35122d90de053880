"""A thin async database interface over sqlite3 (embedded default) and psycopg 3 (PostgreSQL).

SQL is written once with ``?`` placeholders; the PostgreSQL driver rewrites them to ``%s``.
SQLite calls run directly on the event loop: each is a few microseconds against a local file,
far cheaper than a thread hop. PostgreSQL uses psycopg's async connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from emailshare.domain.errors import StoreUnavailable as StoreUnavailable  # raised here

Row = tuple[Any, ...]
T = TypeVar("T")
Params = Sequence[Any]


class Tx(Protocol):
    """One transaction: statements run in it commit together or not at all."""

    async def execute(self, sql: str, params: Params = ()) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


class Database(Protocol):
    dialect: str

    async def version(self) -> object:
        """An opaque value that changes whenever anything is committed to the store, by this
        process or any other. Equal values mean nothing changed in between."""
        ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...
    def transaction(self, bump: bool = True) -> contextlib.AbstractAsyncContextManager[Tx]: ...

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
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
    """Open the store named by ``url``: ``sqlite:///file`` or ``postgresql://…``."""
    if url.startswith("sqlite:"):
        return SQLiteDatabase(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from emailshare.storage.postgres import PostgresDatabase

        return await PostgresDatabase.open(url, pool_size=pool_size)
    raise ValueError(f"unsupported database URL {redact(url)!r}: use sqlite:/// or postgresql://")


class _SQLiteTx:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


# The wal-index header (https://www.sqlite.org/walformat.html, "the WAL-index header"): its
# first copy, 48 bytes, holds the change counter every commit bumps.
_WAL_INDEX_HEADER = 48
# Mapped wal-index headers, one per shared-memory file, per process. Their descriptors (ours
# and the one mmap keeps) are never closed: closing any descriptor of a file drops every POSIX
# lock the process holds on it, SQLite's own included. Bounded, for processes (test suites)
# that open many stores; past the bound, stores use the PRAGMA.
_WAL_INDEXES: dict[tuple[int, int], mmap.mmap] = {}
_KEPT_FDS: list[int] = []
_MAX_WAL_INDEXES = 32


def _wal_index_of(path: str) -> mmap.mmap | None:
    """The mapped wal-index header of the store at ``path`` (in WAL mode, open), or None."""
    shm = f"{path}-shm"
    try:
        st = os.stat(shm)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino)
    found = _WAL_INDEXES.get(key)
    if found is not None or len(_WAL_INDEXES) >= _MAX_WAL_INDEXES:
        return found
    if st.st_size < _WAL_INDEX_HEADER:
        return None
    try:
        fd = os.open(shm, os.O_RDONLY)
    except OSError:
        return None
    _KEPT_FDS.append(fd)  # never closed: see above
    try:
        index = mmap.mmap(fd, _WAL_INDEX_HEADER, prot=mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    _WAL_INDEXES[key] = index
    return index


class SQLiteDatabase:
    """SQLite in WAL mode: readers never block the writer; every commit is fsynced."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._wal_index: mmap.mmap | None = None
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0, cached_statements=256
        )
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            "busy_timeout=10000",
        ):
            self._conn.execute(f"PRAGMA {pragma}")
        self._write_lock = asyncio.Lock()
        self._own_commits = 0
        self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # opens the WAL
        self._wal_index = self._map_wal_index()

    async def version(self) -> object:
        # Every request asks, so this is on the hot path. In WAL mode every commit, by any
        # connection of any process, rewrites the wal-index header in the shared-memory file
        # (`<db>-shm`): 48 bytes read through mmap, ~0.3 µs, where PRAGMA data_version costs
        # ~6 µs. The file stays in place while this connection is open (SQLite truncates or
        # removes it only when no connection holds it, and no connection can leave WAL mode
        # meanwhile). Without a mapping (``:memory:``, not in WAL mode, 32 stores mapped
        # already): the PRAGMA, which does not report our own commits, so they are counted
        # apart (in both ways, for simplicity).
        index = self._wal_index
        if index is not None:
            return (index[:_WAL_INDEX_HEADER], self._own_commits)
        try:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return (row[0], self._own_commits)

    def _map_wal_index(self) -> mmap.mmap | None:
        if self._path == ":memory:":
            return None
        mode = self._conn.execute("PRAGMA journal_mode").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            return None
        return _wal_index_of(self._path)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        try:
            row: Row | None = self._conn.execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    @contextlib.asynccontextmanager
    async def transaction(self, bump: bool = True) -> AsyncIterator[Tx]:
        # One connection per process: transactions of concurrent requests must not interleave.
        async with self._write_lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(str(exc)) from exc
            try:
                yield _SQLiteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._conn.execute("ROLLBACK")
                raise StoreUnavailable(str(exc)) from exc
            self._own_commits += 1

    async def run_in_transaction(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        # SQLite serialises writers on its file lock (busy_timeout): no deadlock to retry.
        async with self.transaction() as tx:
            return await work(tx)

    async def close(self) -> None:
        self._wal_index = None  # the mapping stays, for the process (see _WAL_INDEXES)
        self._conn.close()
