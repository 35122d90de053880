"""How much a store holds, for ``serve`` and ``demo`` to say at start and ``token`` to say
when it is empty."""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.storage.db import Database


@dataclass(frozen=True)
class Counts:
    """Rows of the store's main tables."""

    orgs: int
    users: int
    records: int
    emails: int

    def __str__(self) -> str:
        return f"{self.orgs} orgs, {self.users} users, {self.records} records, {self.emails} emails"


_SQL = (
    "SELECT (SELECT COUNT(*) FROM orgs), (SELECT COUNT(*) FROM users),"
    " (SELECT COUNT(*) FROM records), (SELECT COUNT(*) FROM emails)"
)


async def counts(db: Database) -> Counts:
    """The store's orgs, users, records and emails (its schema up to date)."""
    row = await db.fetchone(_SQL)
    assert row is not None
    return Counts(*(int(v) for v in row))
