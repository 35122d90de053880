"""Migration 0013 numbers the roles of a store loaded before it, from the closure it replaces,
exactly as a load numbers them now (domain.roles.number_roles); and afterwards the store has
no closure left. SQLite here; PostgreSQL too when ``EMAILSHARE_TEST_PG`` is set."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from emailshare.domain.model import Org, Role
from emailshare.domain.roles import number_roles
from emailshare.storage import migrate
from emailshare.storage.db import connect
from tests.conftest import db_url_for
from tests.unit.storage.old_store import apply_migrations_before


def forest(seed: int, size: int) -> list[Role]:
    """``size`` roles of random ids, each reporting to an earlier one or to nobody."""
    rnd = random.Random(seed)
    ids = rnd.sample(range(1, 10**9), size)
    roles = [
        Role(rid, f"r{rid}", rnd.choice([None, *ids[:i]]) if i else None)
        for i, rid in enumerate(ids)
    ]
    rnd.shuffle(roles)
    return roles


ORGS = {100 + seed: forest(seed, size) for seed, size in enumerate((1, 2, 7, 30, 60, 120))}
ORGS[200] = [Role(i, f"c{i}", i - 1 if i > 1 else None) for i in range(1, 301)]  # a chain


def test_migration_0013_numbers_old_stores_as_loads_do(tmp_path: Path) -> None:
    async def run() -> dict[int, dict[int, tuple[int, int]]]:
        db = await connect(db_url_for(tmp_path))
        try:
            async with db.transaction(bump=False) as tx:
                await apply_migrations_before(tx, 13)
                # The rows the loader wrote before: the roles and their closure.
                for org_id, roles in ORGS.items():
                    await tx.execute("INSERT INTO orgs (id, name) VALUES (?, ?)", (org_id, "o"))
                    org = Org(org_id, "o", roles=tuple(roles))
                    for r in roles:
                        await tx.execute(
                            "INSERT INTO roles (org_id, id, name, reports_to) VALUES (?, ?, ?, ?)",
                            (org_id, r.id, r.name, r.reports_to),
                        )
                        for a in org.role_ancestors(r.id):
                            await tx.execute(
                                "INSERT INTO role_ancestors (org_id, role_id, ancestor_id)"
                                " VALUES (?, ?, ?)",
                                (org_id, r.id, a),
                            )
            assert "0013_role_spans.sql" in await migrate.upgrade(db)
            found: dict[int, dict[int, tuple[int, int]]] = {}
            for org_id in ORGS:
                rows = await db.fetchall("SELECT id, lo, hi FROM roles WHERE org_id = ?", (org_id,))
                found[org_id] = {int(r[0]): (int(r[1]), int(r[2])) for r in rows}
            with pytest.raises(Exception, match="role_ancestors"):
                await db.fetchall("SELECT COUNT(*) FROM role_ancestors")
            return found
        finally:
            await db.close()

    found = asyncio.run(run())
    for org_id, roles in ORGS.items():
        want = {rid: (s.lo, s.hi) for rid, s in number_roles(roles).items()}
        assert found[org_id] == want, org_id
