"""The SQLite store's version: what every cached answer is checked against. It must change with
every commit made by anyone, and only then."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from emailshare.storage import db as db_module
from emailshare.storage.db import SQLiteDatabase


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
    monkeypatch.setattr(db_module, "_MAX_WAL_INDEXES", len(db_module._WAL_INDEXES) + 1)

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
                async with db.transaction() as tx:  # our own commits count too
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
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        assert await db.version() != before
        await db.close()

    asyncio.run(main())
