"""The SQLite reader maps as much of the store as SQLite will (``storage/db.py``, _READ_MMAP).

At 5M emails the store is 3.5 GB; a reader mapping 1 GiB of it read the rest with a pread
each: 9.1-9.3 read syscalls a list request against 4.4-4.5 with the largest map SQLite allows
(docs/performance.md, "Emails list"). SQLite cuts a larger request to its compile-time maximum,
SQLITE_MAX_MMAP_SIZE, so the test asks SQLite what that maximum is.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from emailshare.storage.db import SQLiteDatabase


def _largest_map(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"PRAGMA mmap_size={1 << 62}").fetchone()[0])
    finally:
        conn.close()


def test_the_reader_maps_as_much_of_the_file_as_sqlite_allows_and_the_writer_none(
    tmp_path: Path,
) -> None:
    db = SQLiteDatabase(str(tmp_path / "m.db"))
    try:
        largest = _largest_map(tmp_path / "m.db")
        assert largest >= 1 << 30  # this build maps files (0 would mean it cannot)
        assert db._reader.execute("PRAGMA mmap_size").fetchone()[0] == largest
        assert db._writer.execute("PRAGMA mmap_size").fetchone()[0] == 0
    finally:
        asyncio.run(db.close())
