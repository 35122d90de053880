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
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from emailshare.storage import walindex
from emailshare.storage.db import SQLiteDatabase, StoreUnavailable, Tx
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


# --- group commit -----------------------------------------------------------------------------
# Transactions that queue while one runs share its SQLite transaction and its one COMMIT (one
# fsync), each in a savepoint of its own; each is answered only once that COMMIT returned.


class Commits:
    """Counts the store's COMMITs; while ``hold`` is set, a COMMIT waits for ``go``."""

    def __init__(self, db: SQLiteDatabase, fail: bool = False) -> None:
        self.db, self.fail, self.count = db, fail, 0
        self.real = db._commit
        self.hold, self.go = False, threading.Event()
        db._commit = self  # type: ignore[method-assign]

    def __call__(self) -> None:
        self.count += 1
        if self.hold:
            assert self.go.wait(30)
        if self.fail:
            self.db._rollback()
            raise StoreUnavailable("disk I/O error")
        self.real()


async def queued_behind_one(
    db: SQLiteDatabase, *members: Callable[[Tx], Awaitable[None]]
) -> list[BaseException | None]:
    """Run ``members`` as transactions queued while a first one (writing 0) is open; the
    outcome of each (None: it returned)."""
    opened, release = asyncio.Event(), asyncio.Event()

    async def first(tx: Tx) -> None:
        await tx.execute("INSERT INTO t VALUES (0)")
        opened.set()
        await release.wait()

    async def run(work: Callable[[Tx], Awaitable[None]]) -> None:
        async with db.transaction(bump=False) as tx:
            await work(tx)

    tasks = [asyncio.create_task(run(first))]
    await opened.wait()
    tasks += [asyncio.create_task(run(m)) for m in members]
    for _ in range(5):
        await asyncio.sleep(0)  # every member is waiting for the writer now
    release.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    return list(done[1:])


def insert(x: int) -> Callable[[Tx], Awaitable[None]]:
    async def work(tx: Tx) -> None:
        await tx.execute("INSERT INTO t VALUES (?)", (x,))

    return work


def test_transactions_queued_behind_one_share_its_commit(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        commits = Commits(db)
        assert await queued_behind_one(db, *(insert(x) for x in range(1, 6))) == [None] * 5
        assert commits.count == 1  # six transactions, one COMMIT
        assert await rows(db) == [0, 1, 2, 3, 4, 5]
        await insert_alone(db, 6)
        assert commits.count == 2
        await db.close()

    asyncio.run(main())


async def insert_alone(db: SQLiteDatabase, x: int) -> None:
    async with db.transaction(bump=False) as tx:
        await tx.execute("INSERT INTO t VALUES (?)", (x,))


def test_a_failed_member_is_rolled_back_alone(path: Path) -> None:
    async def fails(tx: Tx) -> None:
        await tx.execute("INSERT INTO t VALUES (2)")
        raise Abort

    async def main() -> None:
        db = SQLiteDatabase(str(path))
        commits = Commits(db)
        outcome = await queued_behind_one(db, insert(1), fails, insert(3))
        assert outcome[0] is None
        assert isinstance(outcome[1], Abort)
        assert outcome[2] is None
        assert commits.count == 1
        assert await rows(db) == [0, 1, 3]
        await db.close()

    asyncio.run(main())


def test_no_member_is_answered_before_the_commit_that_holds_it_returned(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        commits = Commits(db)
        commits.hold = True
        group = asyncio.create_task(queued_behind_one(db, insert(1), insert(2)))
        for _ in range(40):
            await asyncio.sleep(0.005)
        assert commits.count == 1  # the group's COMMIT runs, held back
        assert not group.done()  # and no member has returned
        assert await rows(db) == []  # nor is any of them visible
        commits.go.set()
        assert await group == [None, None]
        assert await rows(db) == [0, 1, 2]
        await db.close()

    asyncio.run(main())


def test_a_failed_commit_fails_every_member_and_keeps_none(path: Path) -> None:
    async def main() -> None:
        db = SQLiteDatabase(str(path))
        commits = Commits(db, fail=True)
        outcome = await queued_behind_one(db, insert(1), insert(2))
        assert all(isinstance(o, StoreUnavailable) for o in outcome), outcome
        assert commits.count == 1
        assert await rows(db) == []
        commits.fail = False
        await insert_alone(db, 7)  # the writer and its locks are free again
        assert await rows(db) == [7]
        await db.close()

    asyncio.run(main())


def test_a_member_whose_failure_ends_the_transaction_fails_the_group(path: Path) -> None:
    # SQLite rolls the whole transaction back by itself on some errors (a full disk, an I/O
    # error): the members before it are lost with it, so they fail too; none is kept.
    async def ends_it(tx: Tx) -> None:
        await tx.execute("INSERT INTO t VALUES (2)")
        await tx.execute("ROLLBACK")
        raise Abort

    async def main() -> None:
        db = SQLiteDatabase(str(path))
        outcome = await queued_behind_one(db, insert(1), ends_it, insert(3))
        assert isinstance(outcome[0], StoreUnavailable), outcome
        assert isinstance(outcome[1], Abort)
        assert outcome[2] is None  # queued after the failure: a group of its own
        assert await rows(db) == [3]
        await db.close()

    asyncio.run(main())


# --- checkpoints ------------------------------------------------------------------------------
# SQLite's autocheckpoint runs inside the COMMIT that crosses its threshold (40-110 ms at 1M
# records, every writer of the store waiting): here a thread of the store's own checkpoints,
# and the writer only once the WAL is past its bound.


def test_checkpoints_run_off_the_commit_path(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The process may have mapped its 32 wal-index headers already (stores without one
    # checkpoint as SQLite does): this one is mapped.
    monkeypatch.setattr(walindex, "_MAX_WAL_INDEXES", 10**6)

    async def main() -> None:
        db = SQLiteDatabase(str(path))
        assert db._checkpointer is not None
        db._checkpoint_frames = 5
        where: list[str] = []
        real = db._checkpoint

        def checkpoint(conn: sqlite3.Connection) -> None:
            where.append("writer" if conn is db._writer else threading.current_thread().name)
            real(conn)

        db._checkpoint = checkpoint  # type: ignore[method-assign]
        for x in range(12):
            await insert_alone(db, x)
        for _ in range(200):
            if db.checkpoints:
                break
            await asyncio.sleep(0.01)
        assert db.checkpoints >= 1
        assert where
        assert all(w.startswith("emailshare-sqlite-checkpoint") for w in where), where
        assert db._writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        frames, restarted = db._wal_frames(), False
        for x in range(12, 60):  # the WAL, checkpointed, begins again
            await insert_alone(db, x)
            restarted, frames = restarted or db._wal_frames() < frames, db._wal_frames()
            if restarted:
                break
            await asyncio.sleep(0.01)
        assert restarted
        assert len(await rows(db)) == x + 1
        await db.close()

    asyncio.run(main())


def test_the_writer_checkpoints_itself_once_the_wal_is_past_its_bound(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The process may have mapped its 32 wal-index headers already (stores without one
    # checkpoint as SQLite does): this one is mapped.
    monkeypatch.setattr(walindex, "_MAX_WAL_INDEXES", 10**6)

    async def main() -> None:
        db = SQLiteDatabase(str(path))
        assert db._checkpointer is not None
        db._checkpoint_frames, db._checkpoint_bound = 10**9, 6  # the checkpointer never asked
        for x in range(20):
            await insert_alone(db, x)
            assert db._wal_frames() <= 8  # bounded: checkpointed, then begun again
        assert db.checkpoints >= 1
        await db.close()

    asyncio.run(main())


def test_a_begin_that_need_not_wait_runs_on_the_loop(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hop to the writer's thread and back costs 1-5 ms on a loop busy with reads: a BEGIN
    # that can take every lock at once takes them on the loop; one that must wait (another
    # process writing) still waits on the thread, the loop serving meanwhile. (It needs the
    # writers' flock, on the mapped wal-index: see the checkpoint tests.)
    monkeypatch.setattr(walindex, "_MAX_WAL_INDEXES", 10**6)

    async def main() -> None:
        db = SQLiteDatabase(str(path))
        on_thread: list[None] = []
        real = db._begin

        def begin() -> None:
            on_thread.append(None)
            real()

        db._begin = begin  # type: ignore[method-assign]
        await insert_alone(db, 1)
        assert on_thread == []
        holder = Holder(path)
        try:
            waiting = asyncio.create_task(insert_alone(db, 2))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            assert on_thread == [None]  # it waits for the lock on the thread
            await asyncio.to_thread(holder.commit)
            await waiting
        finally:
            holder.kill()
        await insert_alone(db, 3)
        assert len(on_thread) == 1
        assert await rows(db) == [-1, 1, 2, 3]
        await db.close()

    asyncio.run(main())
