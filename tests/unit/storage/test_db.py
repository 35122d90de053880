"""The SQLite store (``storage/db.py``).

Its version, what every cached answer is checked against, must change with every commit made by
anyone, and only then. Under concurrency, a transaction is isolated from every other task of its
process whatever it awaits, and a write waiting for another process's lock leaves the event loop
serving. These stores have no schema, so their transactions log no change (``bump=False``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from emailshare.storage import walindex
from emailshare.storage.db import SQLiteDatabase, StoreUnavailable
from emailshare.testing import AsyncInProcess
from tests.builders import auth, sharing_org


def other_process_commits(path: Path, n: int) -> None:
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        f"for i in range({n}): c.execute('INSERT INTO t VALUES (?)', (i,))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


@pytest.mark.parametrize("wal_index", [True, False], ids=["wal-index", "pragma"])
def test_every_commit_by_anyone_changes_the_version_and_nothing_else_does(
    tmp_path: Path, wal_index: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for one more mapping, whatever this test process opened before.
    monkeypatch.setattr(walindex, "_MAX_WAL_INDEXES", len(walindex._WAL_INDEXES) + 1)

    async def main() -> None:
        path = tmp_path / "v.db"
        db = SQLiteDatabase(str(path))
        assert db._wal_index is not None  # WAL mode on a local file: the fast way is taken
        if not wal_index:
            db._wal_index = None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("CREATE TABLE t (x INTEGER)")
        seen = [await db.version()]
        assert await db.version() == seen[-1]  # nothing written: the same version
        other.execute("SELECT COUNT(*) FROM t").fetchone()
        assert await db.version() == seen[-1]  # a read is not a change
        for i in range(60):
            if i % 20 == 0:  # the WAL restarts from its beginning after a full checkpoint
                other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if i % 3 == 0:
                other_process_commits(path, 1)
            elif i % 3 == 1:
                other.execute("INSERT INTO t VALUES (?)", (i,))
            else:
                async with db.transaction(bump=False) as tx:  # our own commits count too
                    await tx.execute("INSERT INTO t VALUES (?)", (i,))
            now = await db.version()
            assert now != seen[-1], f"commit {i} went unseen"
            assert await db.version() == now
            seen.append(now)
        other.close()
        await db.close()

    asyncio.run(main())


def test_an_in_memory_store_falls_back_to_the_pragma() -> None:
    async def main() -> None:
        db = SQLiteDatabase(":memory:")
        assert db._wal_index is None
        before = await db.version()
        async with db.transaction(bump=False) as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        assert await db.version() != before
        await db.close()

    asyncio.run(main())


# --- concurrency ---------------------------------------------------------------------------

# Another process: takes SQLite's write lock on the file, says so, and keeps it (with a row
# written in it) until told to commit on its stdin (or for 60 s at most).
_HOLDER = """
import signal, sqlite3, sys
signal.alarm(60)
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO t VALUES (-1)")
print("locked", flush=True)
sys.stdin.readline()
c.execute("COMMIT")
"""


class Holder:
    """Another process holding the store's write lock until :meth:`commit`."""

    def __init__(self, path: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline() == "locked\n"

    def commit(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write("commit\n")
        self._proc.stdin.flush()
        assert self._proc.wait(30) == 0

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    db = tmp_path / "store.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.close()
    return db


class Abort(Exception):
    """Raised in a transaction to roll it back."""


async def rows(db: SQLiteDatabase) -> list[int]:
    return [int(r[0]) for r in await db.fetchall("SELECT x FROM t ORDER BY x")]


@pytest.mark.parametrize("memory", [False, True], ids=["file", "memory"])
def test_a_transaction_that_awaits_is_isolated_from_other_tasks(path: Path, memory: bool) -> None:
    async def main() -> None:
        db = SQLiteDatabase(":memory:" if memory else str(path))
        if memory:
            async with db.transaction(bump=False) as tx:
                await tx.execute("CREATE TABLE t (x INTEGER)")
        written, release = asyncio.Event(), asyncio.Event()

        async def uncommitted() -> None:
            async with db.transaction(bump=False) as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                written.set()
                await release.wait()  # other tasks run while this transaction is open
                raise Abort

        async def committed() -> None:
            async with db.transaction(bump=False) as tx:
                await tx.execute("INSERT INTO t VALUES (2)")

        first = asyncio.create_task(uncommitted())
        await written.wait()
        read = asyncio.create_task(rows(db))
        second = asyncio.create_task(committed())
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert not second.done()  # its transaction waits for the open one
        if not memory:
            assert read.done()  # a read of a file store waits for no transaction
        release.set()
        with pytest.raises(Abort):
            await first
        await second
        assert 1 not in await read  # never sees another task's uncommitted row
        assert await rows(db) == [2]  # nor commits it
        await db.close()

    asyncio.run(main())


def test_a_transaction_is_used_only_by_its_task_and_only_while_open(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        async with db.transaction(bump=False) as tx:
            with pytest.raises(RuntimeError, match="only by the task that opened it"):
                await asyncio.create_task(tx.execute("INSERT INTO t VALUES (1)"))
            await tx.execute("INSERT INTO t VALUES (2)")
        with pytest.raises(RuntimeError, match="has ended"):
            await tx.execute("INSERT INTO t VALUES (3)")
        assert await rows(db) == [2]
        await db.close()

    asyncio.run(main())


def test_the_loop_serves_reads_while_a_write_waits_for_another_process(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        holder = Holder(path)
        try:
            done: list[str] = []

            async def write() -> None:
                async with db.transaction(bump=False) as tx:
                    await tx.execute("INSERT INTO t VALUES (1)")
                done.append("write")

            writing = asyncio.create_task(write())
            await asyncio.sleep(0.05)  # the write is waiting for the lock by now
            assert await rows(db) == []  # the holder's row is not committed yet
            done.append("read")
            assert not writing.done()
            await asyncio.to_thread(holder.commit)
            await writing
            assert done == ["read", "write"]
            assert await rows(db) == [-1, 1]
        finally:
            holder.kill()
        await db.close()

    asyncio.run(main())


def test_a_write_cancelled_while_waiting_for_the_lock_leaves_nothing(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        holder = Holder(path)
        try:

            async def write(x: int) -> None:
                async with db.transaction(bump=False) as tx:
                    await tx.execute("INSERT INTO t VALUES (?)", (x,))

            waiting = asyncio.create_task(write(1))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await asyncio.to_thread(holder.commit)
            await write(2)  # the cancelled BEGIN was rolled back: the writer is free
            assert await rows(db) == [-1, 2]
        finally:
            holder.kill()
        await db.close()

    asyncio.run(main())


def test_a_store_closed_refuses_transactions(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        await db.close()
        with pytest.raises(StoreUnavailable):
            async with db.transaction(bump=False) as tx:
                await tx.execute("INSERT INTO t VALUES (1)")

    asyncio.run(main())


def test_healthz_and_reads_are_answered_while_a_share_waits_for_another_process(
    tmp_path: Path,
) -> None:
    org = sharing_org(8_000_000_000_000, 1, 1)
    path = tmp_path / "app.db"
    record = org.record_ids[0]

    async def main() -> None:
        async with AsyncInProcess(fixture=org.doc, db_url=f"sqlite:///{path}") as app:
            token = auth(org.member_tokens[0])
            details = f"/crm/v8/Leads/{record}/__emails_sharing_details"
            assert (await app.client.get(details, headers=token)).status_code == 200
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("CREATE TABLE t (x INTEGER)")
            conn.close()
            holder = Holder(path)
            try:
                share = asyncio.create_task(
                    app.client.post(f"/crm/v8/Leads/{record}/actions/share_emails", headers=token)
                )
                await asyncio.sleep(0.05)  # the share is waiting for the lock by now
                assert (await app.client.get("/healthz")).status_code == 200
                assert (await app.client.get(details, headers=token)).status_code == 200
                assert not share.done()
                await asyncio.to_thread(holder.commit)
                answer = await share
            finally:
                holder.kill()
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"][0]["code"] == "SUCCESS"

    asyncio.run(main())
