"""A store as an older release left it, for the tests of the migrations that upgrade one."""

from __future__ import annotations

from emailshare.storage import migrate
from emailshare.storage.db import Tx


async def apply_migrations_before(tx: Tx, version: int) -> None:
    """Create ``schema_migrations`` and apply (and record) every migration before ``version``,
    as the releases before it did: the store that migration ``version`` then upgrades."""
    await tx.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
    )
    for m in migrate.available():
        if m.version < version:
            for statement in m.statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (m.version, m.name),
            )
