"""How much a store holds, for ``serve`` and ``demo`` to say at start and ``token`` to say
when it is empty.

Cheap on any store (docs/operations.md, "Configuration"): each table is counted exactly up
to ``CAP`` rows, which walks at most that many entries of its smallest index. A table past
it is given by the store's own estimate, said as "about": PostgreSQL's ``pg_class.reltuples``
(kept by ANALYZE and autovacuum), SQLite's ``sqlite_stat1`` when someone ran ANALYZE; with no
estimate, or one no bigger than the cap, by "more than" the cap. A full ``COUNT(*)`` of a 5M
email store read from a cold page cache took 60 s before the server listened.
"""

from __future__ import annotations

from dataclasses import dataclass

from emailshare.storage.db import Database

TABLES = ("orgs", "users", "records", "emails")
CAP = 100_000  # rows counted exactly per table


@dataclass(frozen=True)
class Counts:
    """Rows of the store's main tables: exact, but for the tables in ``about`` (the store's
    estimate) and ``more_than`` (the figure is the cap, which the table holds more rows than)."""

    orgs: int
    users: int
    records: int
    emails: int
    about: frozenset[str] = frozenset()
    more_than: frozenset[str] = frozenset()

    def __str__(self) -> str:
        def said(table: str) -> str:
            prefix = (
                "about " if table in self.about else "more than " if table in self.more_than else ""
            )
            return f"{prefix}{getattr(self, table)} {table}"

        return ", ".join(said(t) for t in TABLES)


# Constants of this module, never input.
_SQL = "SELECT " + ", ".join(
    f"(SELECT COUNT(*) FROM (SELECT 1 FROM {t} LIMIT ?) AS {t}_rows)" for t in TABLES
)


async def counts(db: Database, cap: int = CAP) -> Counts:
    """The store's orgs, users, records and emails (its schema up to date), exact up to
    ``cap`` rows a table, estimated past it."""
    row = await db.fetchone(_SQL, (cap + 1,) * len(TABLES))
    assert row is not None
    held = {t: int(v) for t, v in zip(TABLES, row, strict=True)}
    past = [t for t in TABLES if held[t] > cap]
    about, more_than = set(), set()
    guessed = await _estimates(db, past) if past else {}
    for table in past:
        guess = guessed.get(table, 0)
        if guess > cap:
            held[table] = guess
            about.add(table)
        else:
            held[table] = cap
            more_than.add(table)
    return Counts(**held, about=frozenset(about), more_than=frozenset(more_than))


async def _estimates(db: Database, tables: list[str]) -> dict[str, int]:
    """The store's own estimate of each table's rows, where it keeps one."""
    marks = ", ".join("?" * len(tables))
    if db.dialect == "postgresql":
        rows = await db.fetchall(
            "SELECT c.relname, c.reltuples FROM pg_class c"
            f" WHERE c.relname IN ({marks}) AND c.relkind = 'r' AND pg_table_is_visible(c.oid)",
            tuple(tables),
        )
        return {str(name): int(n) for name, n in rows if n is not None and n >= 0}
    if await db.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'") is None:
        return {}
    rows = await db.fetchall(
        f"SELECT tbl, stat FROM sqlite_stat1 WHERE tbl IN ({marks})", tuple(tables)
    )
    found: dict[str, int] = {}
    for name, stat in rows:  # "<rows> <rows per key> ...": the first is the index's rows
        first = str(stat).split(" ", 1)[0]
        if first.isdigit():
            found[str(name)] = max(found.get(str(name), 0), int(first))
    return found
