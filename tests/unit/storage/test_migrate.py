"""Migrations on a real store (SQLite here; PostgreSQL too when ``EMAILSHARE_TEST_PG`` is set):
they apply on a fresh store and on one holding data, and leave no column that nothing reads."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
