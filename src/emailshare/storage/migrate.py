"""Schema migrations: numbered SQL files, applied in order, the same files for both stores.

Each file runs in one transaction with its version row, so a failed migration leaves the
schema as it was. On PostgreSQL an advisory lock keeps concurrent instances from racing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from emailshare.storage.db import Database

_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_ADVISORY_KEY = 0x656D61696C  # "email"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def available() -> list[Migration]:
    """Every migration shipped with the package, oldest first."""
    found: list[Migration] = []
    for entry in resources.files("emailshare.storage.migrations").iterdir():
        match = _NAME.fullmatch(entry.name)
        if not match:
            continue
        body = _strip_comments(entry.read_text(encoding="utf-8"))
        statements = tuple(s.strip() for s in body.split(";") if s.strip())
        found.append(Migration(int(match.group(1)), entry.name, statements))
    return sorted(found, key=lambda m: m.version)


async def applied(db: Database) -> set[int]:
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    return {int(r[0]) for r in rows}


async def upgrade(db: Database) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    async with db.transaction(bump=False) as tx:
        if db.dialect == "postgresql":
            await tx.execute("SELECT pg_advisory_xact_lock(?)", (_ADVISORY_KEY,))
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
    done: list[str] = []
    for migration in available():
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
