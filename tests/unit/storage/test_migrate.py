"""Migrations on a real store (SQLite here; PostgreSQL too when ``EMAILSHARE_TEST_PG`` is set):
they apply on a fresh store and on one holding data, and leave no column that nothing reads; a
new SQLite store made from the image of an empty one holds exactly what they make."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from emailshare.domain.model import Org
from emailshare.storage import migrate
from emailshare.storage.db import Database, connect
from emailshare.storage.repo import Store
from tests.conftest import db_url_for
from tests.unit.storage.old_store import apply_migrations_before


async def _columns(db: Database, table: str) -> set[str]:
    if db.dialect == "sqlite":
        rows = await db.fetchall(f"SELECT name FROM pragma_table_info('{table}')")
    else:
        rows = await db.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,)
        )
    return {str(r[0]) for r in rows}


def test_orgs_keep_no_version_column(tmp_path: Path) -> None:
    # orgs.version was bumped on every share and read by nothing (the caches follow the
    # store's version): migration 0005 drops it, on both engines.
    async def run() -> set[str]:
        db = await connect(db_url_for(tmp_path))
        try:
            await migrate.upgrade(db)
            return await _columns(db, "orgs")
        finally:
            await db.close()

    assert asyncio.run(run()) == {"id", "name"}


def test_an_upgrade_keeps_the_orgs_loaded_before_it(tmp_path: Path) -> None:
    async def run() -> tuple[list[str], str | None]:
        db = await connect(db_url_for(tmp_path))
        try:
            # The store as the migrations before 0005 left it, holding an org.
            async with db.transaction(bump=False) as tx:
                await apply_migrations_before(tx, 5)
                await tx.execute(
                    "INSERT INTO orgs (id, name, version) VALUES (?, ?, ?)", (7, "Old", 1)
                )
            applied = await migrate.upgrade(db)
            await Store(db).replace_orgs([Org(8, "New")], 0)
            return applied, await Store(db).org_name(7)
        finally:
            await db.close()

    applied, name = asyncio.run(run())
    assert applied[0] == "0005_drop_org_version.sql"
    assert name == "Old"


# --- the image of an empty store: exactly what the migrations make --------------------------

Snapshot = tuple[list[tuple[object, ...]], dict[str, list[tuple[object, ...]]]]


async def _snapshot(db: Database) -> Snapshot:
    """Every schema object (its kind, name, table and SQL text) and every row of every table:
    everything a store holds but where it sits in the file."""
    schema = await db.fetchall(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    )
    tables = [str(r[1]) for r in schema if r[0] == "table"]
    rows = {t: sorted(await db.fetchall(f'SELECT * FROM "{t}"'), key=repr) for t in tables}
    return [tuple(r) for r in schema], rows


async def _one_by_one(tmp_path: Path) -> tuple[list[str], Snapshot]:
    # A new file store: upgrade applies each migration file in its own transaction.
    db = await connect(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    try:
        return await migrate.upgrade(db), await _snapshot(db)
    finally:
        await db.close()


def test_an_in_memory_store_is_made_exactly_as_the_migrations_make_one(tmp_path: Path) -> None:
    async def run() -> None:
        names, expected = await _one_by_one(tmp_path)
        assert names == [m.name for m in migrate.available()]
        db = await connect("sqlite:///:memory:")
        try:
            assert await migrate.upgrade(db) == names  # restored from the image at once
            assert await _snapshot(db) == expected
            assert await migrate.upgrade(db) == []
            # The connection's own settings hold on the restored database.
            assert await db.fetchone("PRAGMA foreign_keys") == (1,)
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                async with db.transaction() as tx:
                    await tx.execute(
                        "INSERT INTO data_sharing (org_id, module, level) VALUES (1, 'Leads', 'x')"
                    )
            await Store(db).replace_orgs([Org(8, "New")], 0)
            assert await Store(db).org_name(8) == "New"
        finally:
            await db.close()

    asyncio.run(run())


def test_a_seeded_file_is_exactly_what_the_migrations_make(tmp_path: Path) -> None:
    async def run() -> None:
        _, expected = await _one_by_one(tmp_path)
        path = tmp_path / "seeded" / "store.db"
        assert await migrate.seed_sqlite(path)
        assert not await migrate.seed_sqlite(path)  # a file that exists is left alone
        assert [p.name for p in path.parent.iterdir()] == ["store.db"]  # no scratch left
        db = await connect(f"sqlite:///{path}")
        try:
            assert await migrate.upgrade(db) == []  # every migration is recorded in it
            assert await _snapshot(db) == expected
            assert await db.fetchone("PRAGMA journal_mode") == ("wal",)
        finally:
            await db.close()

    asyncio.run(run())


def test_no_store_is_seeded_over_what_a_store_left(tmp_path: Path) -> None:
    # A WAL left by a store whose file is gone would be replayed into a new file: not ours.
    (tmp_path / "gone.db-wal").write_bytes(b"")
    assert not asyncio.run(migrate.seed_sqlite(tmp_path / "gone.db"))
    assert not (tmp_path / "gone.db").exists()


def test_the_image_follows_the_migrations_the_package_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built from whatever migrations exist, never a copy kept aside: one more file is in it.
    extra = migrate.Migration(9999, "9999_probe.sql", ("CREATE TABLE probe (id INTEGER)",))
    shipped = (*migrate.available(), extra)
    monkeypatch.setattr(migrate, "_shipped", lambda: shipped)

    async def run() -> tuple[list[str], object, object]:
        db = await connect("sqlite:///:memory:")
        try:
            names = await migrate.upgrade(db)
            probe = await db.fetchone("SELECT COUNT(*) FROM probe")
            recorded = await db.fetchone("SELECT name FROM schema_migrations WHERE version = 9999")
            return names, probe, recorded
        finally:
            await db.close()

    names, probe, recorded = asyncio.run(run())
    assert names[-1] == "9999_probe.sql"
    assert (probe, recorded) == ((0,), ("9999_probe.sql",))


def test_a_folder_without_hard_links_leaves_the_store_to_its_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise PermissionError("no hard links here")

    monkeypatch.setattr(os, "link", no_links)
    assert not asyncio.run(migrate.seed_sqlite(tmp_path / "store.db"))
    assert list(tmp_path.iterdir()) == []  # neither the store nor the scratch copy
