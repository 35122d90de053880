"""The change log (migration 0014): written by every write transaction, read by the caches.

A transaction notes the scopes it changes (``Tx.note``: a record of an org, an org, an org's
tokens, everything); just before it commits, :func:`append` bumps ``store_version`` and writes
one row per scope under the bumped value, its seq. The bump takes the row's lock until the
commit, so writers take seqs in commit order with no gaps, and a reader that has seen seq ``s``
finds everything newer as the rows after ``s`` (:func:`after`). On PostgreSQL the same
statement sends ``NOTIFY emailshare_changes, '<seq>'``, delivered at commit
(``storage.postgres``'s listener).

Pruning keeps the last ``KEEP`` seqs: every ``PRUNE_EVERY``-th writer deletes what is older.
A reader that comes back after more than ``KEEP`` writes finds its next seq gone and forgets
everything rather than guess (``ChangeBatch.changes`` None).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from emailshare.domain.changes import ALL, KINDS, ORG, RECORD, Change, ChangeBatch

if TYPE_CHECKING:
    from emailshare.storage.common import Queryable
    from emailshare.storage.db import Tx

CHANNEL = "emailshare_changes"
KEEP = 10_000  # seqs kept in the log
PRUNE_EVERY = 500  # one writer in this many prunes
RECORDS_PER_ORG = 64  # a transaction changing more records of one org notes the org

Note = tuple[str, int | None, int | None]  # kind, org id, record id

_BUMP = "UPDATE store_version SET version = version + 1 WHERE id = 1 RETURNING version"
_INSERT = "INSERT INTO changes (seq, kind, org_id, record_id) VALUES (?, ?, ?, ?)"
_PRUNE = "DELETE FROM changes WHERE seq <= ?"
# PostgreSQL: bump, log and notify in one round trip.
_PG_APPEND = (
    "WITH v AS (" + _BUMP + "),"
    " i AS (INSERT INTO changes (seq, kind, org_id, record_id)"
    " SELECT v.version, c.kind, c.org_id, c.record_id FROM v, unnest("
    "CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[])) AS c(kind, org_id, record_id))"
    " SELECT version, pg_notify('" + CHANNEL + "', CAST(version AS TEXT)) FROM v"
)
# The latest seq and the log's rows after the reader's: one statement, one row at least.
_AFTER = (
    "SELECT v.version, c.seq, c.kind, c.org_id, c.record_id FROM store_version v"
    " LEFT JOIN changes c ON c.seq > ? WHERE v.id = 1 ORDER BY c.seq LIMIT ?"
)


def narrowest(notes: Iterable[Note]) -> list[Note]:
    """The scopes to log for a transaction's notes: everything if any note says so (or names
    no org), an org rather than its records when it is noted itself or has more than
    ``RECORDS_PER_ORG`` of them; in a stable order."""
    orgs: set[int] = set()
    records: dict[int, set[int]] = {}
    kept: set[Note] = set()
    for kind, org_id, record_id in notes:
        if kind == ALL or org_id is None or kind not in KINDS:
            return [(ALL, None, None)]
        if kind == RECORD:
            if record_id is None:
                orgs.add(org_id)
            else:
                records.setdefault(org_id, set()).add(record_id)
        elif kind == ORG:
            orgs.add(org_id)
        else:
            kept.add((kind, org_id, None))
    for org_id, ids in records.items():
        if len(ids) > RECORDS_PER_ORG:
            orgs.add(org_id)
        elif org_id not in orgs:
            kept.update((RECORD, org_id, r) for r in ids)
    kept.update((ORG, o, None) for o in orgs)
    kept = {n for n in kept if n[0] == ORG or n[1] not in orgs}
    return sorted(kept, key=lambda n: (n[0], n[1] or 0, n[2] or 0))


async def append(tx: Tx, notes: Iterable[Note], dialect: str) -> int:
    """Log the transaction's scopes (everything when it noted none) under a new seq; the seq.
    Run last in the transaction: the bump holds ``store_version``'s lock until the commit."""
    rows = narrowest(notes) or [(ALL, None, None)]
    if dialect == "postgresql":
        kinds, orgs, records = (list(column) for column in zip(*rows, strict=True))
        found = await tx.fetchall(_PG_APPEND, (kinds, orgs, records))
        seq = int(found[0][0])
    else:
        found = await tx.fetchall(_BUMP)
        seq = int(found[0][0])
        if len(rows) == 1:
            await tx.execute(_INSERT, (seq, *rows[0]))
        else:
            await tx.executemany(_INSERT, [(seq, *row) for row in rows])
    if seq % PRUNE_EVERY == 0 and seq > KEEP:
        await tx.execute(_PRUNE, (seq - KEEP,))
    return seq


async def after(q: Queryable, seq: int, limit: int) -> ChangeBatch:
    """The changes committed after ``seq``, at most ``limit`` rows; ``changes`` None when they
    cannot be told exactly: more rows than ``limit``, ``seq``'s successor pruned, or the log
    behind ``seq`` (the store replaced by an older one)."""
    rows = await q.fetchall(_AFTER, (seq, limit + 1))
    latest = int(rows[0][0])
    if latest <= seq:
        return ChangeBatch(latest, () if latest == seq else None)
    if len(rows) > limit or rows[0][1] is None or int(rows[0][1]) != seq + 1:
        return ChangeBatch(latest, None)
    return ChangeBatch(
        latest,
        tuple(
            Change(
                int(r[1]),
                str(r[2]),
                None if r[3] is None else int(r[3]),
                None if r[4] is None else int(r[4]),
            )
            for r in rows
        ),
    )


async def latest(q: Queryable) -> int:
    """The seq of the last change committed."""
    row = await q.fetchone("SELECT version FROM store_version WHERE id = 1")
    return 0 if row is None else int(row[0])
