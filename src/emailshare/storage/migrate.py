"""Schema migrations: numbered SQL files, applied in order, the same files for both stores.

Each file runs in one transaction with its version row, so a failed migration leaves the
schema as it was. On PostgreSQL an advisory lock keeps concurrent instances from racing.

A store that has every migration already costs one read (:func:`upgrade` looks before it
locks anything). A brand-new SQLite file can instead be made from :func:`sqlite_image`: the
bytes of an empty store that this runner migrated once in this process, from whatever
migration files the package holds (:func:`seed_sqlite`; tests/unit/storage/test_migrate.py
holds its schema and rows equal to a store migrated one file at a time).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emailshare.storage.db import Database, SQLiteDatabase

_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_ADVISORY_KEY = 0x656D61696C  # "email"
_HAS_TABLE = {
    "sqlite": "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    "postgresql": "SELECT COUNT(*) FROM information_schema.tables"
    " WHERE table_schema = current_schema() AND table_name = ?",
}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


@functools.cache
def _shipped() -> tuple[Migration, ...]:
    # The package's files do not change while it runs: read and split them once per process.
    found: list[Migration] = []
    for entry in resources.files("emailshare.storage.migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if not match:
            continue
        body = _strip_comments(entry.read_text(encoding="utf-8"))
        statements = tuple(s.strip() for s in body.split(";") if s.strip())
        found.append(Migration(int(match.group(1)), entry.name, statements))
    return tuple(sorted(found, key=lambda m: m.version))


def available() -> list[Migration]:
    """Every migration shipped with the package, oldest first."""
    return list(_shipped())


async def applied(db: Database) -> set[int]:
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    return {int(r[0]) for r in rows}


async def _up_to_date(db: Database) -> bool:
    """Whether every shipped migration is recorded already: two reads, no lock, no
    transaction (migrations are only ever added, so what is recorded stays applied)."""
    has_table = await db.fetchone(_HAS_TABLE[db.dialect], ("schema_migrations",))
    if has_table is None or not has_table[0]:
        return False
    return {m.version for m in _shipped()} <= await applied(db)


async def upgrade(db: Database) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    if await _up_to_date(db):
        return []
    if await _restored(db):
        return [m.name for m in _shipped()]
    return await _migrate_one_by_one(db)


async def _migrate_one_by_one(db: Database) -> list[str]:
    async with db.transaction(bump=False) as tx:
        if db.dialect == "postgresql":
            await tx.execute("SELECT pg_advisory_xact_lock(?)", (_ADVISORY_KEY,))
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
    done: list[str] = []
    for migration in _shipped():
        async with db.transaction(bump=False) as tx:
            if db.dialect == "postgresql":
                await tx.execute("SELECT pg_advisory_xact_lock(?)", (_ADVISORY_KEY,))
            row = await tx.fetchone(
                "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
            )
            if row is not None:
                continue
            for statement in migration.statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
            done.append(migration.name)
    return done


# --- a new SQLite store from the image of an empty one -----------------------------------------

# Per process, per set of shipped migrations: the image in rollback-journal mode (what an
# in-memory store is made from) and in WAL mode (what a new file is made from).
_IMAGES: dict[tuple[Migration, ...], tuple[bytes, bytes]] = {}


async def sqlite_image(*, wal: bool = False) -> bytes:
    """The file of an empty SQLite store with every shipped migration applied.

    Built once per process (and again if the shipped migrations differ): :func:`upgrade` runs
    on a scratch in-memory store, which ``VACUUM INTO`` then writes out as a file, so the
    image is exactly what the migrations make, rows such as ``store_version``'s included.
    ``wal``: the file in WAL mode, as the store opens it (an in-memory store cannot be).
    """
    key = _shipped()
    found = _IMAGES.get(key)
    if found is None:  # two loops building at once build the same bytes: either is kept
        found = _IMAGES.setdefault(key, await _build_images())
    return found[1] if wal else found[0]


async def _build_images() -> tuple[bytes, bytes]:
    scratch = SQLiteDatabase(":memory:")
    with tempfile.TemporaryDirectory(prefix="emailshare-image-") as folder:
        path = Path(folder) / "image.db"
        try:
            await _migrate_one_by_one(scratch)
            await scratch.fetchall("VACUUM INTO ?", (str(path),))
        finally:
            await scratch.close()
        plain = path.read_bytes()
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("PRAGMA synchronous=OFF")  # read back at once, never opened again
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
        return plain, path.read_bytes()


async def _restored(db: Database) -> bool:
    """Make a new in-memory SQLite store (no table yet) from :func:`sqlite_image`."""
    inner = getattr(db, "inner", db)  # storage.breaker.GuardedDatabase wraps the store
    if not isinstance(inner, SQLiteDatabase):
        return False
    row = await db.fetchone("SELECT COUNT(*) FROM sqlite_master")
    return row is not None and row[0] == 0 and inner.restore(await sqlite_image())


async def seed_sqlite(path: str | os.PathLike[str]) -> bool:
    """Make a new SQLite store file at ``path`` from :func:`sqlite_image`, if none is there.

    Only where no store file (nor a WAL, shared-memory or journal file left by one) exists:
    the image is written beside it and linked into place, which fails if another process
    made the file meanwhile (then it is that process's). The store's own :func:`upgrade`
    then finds every migration applied. False when nothing was made: a file was there, or the
    folder takes no hard link (the store then makes its file and migrates it, as ever).
    """
    target = Path(path)
    if any(Path(f"{target}{end}").exists() for end in ("", "-wal", "-shm", "-journal")):
        return False
    image = await sqlite_image(wal=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(image)
        os.link(scratch, target)  # never replaces a file that appeared meanwhile
    except OSError:  # FileExistsError among them
        return False
    finally:
        os.unlink(scratch)
    return True
