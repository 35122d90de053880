"""Rows inserted in batches: one parameterised INSERT, ``executemany`` per :data:`BATCH` rows.

The one batching loop of the storage layer: whole orgs (``bulk``), their email rows
(``email_rows``) and ``emailshare gen`` (``synth_emails``) all insert through
:func:`insert_many`, on SQLite and PostgreSQL alike (psycopg pipelines an ``executemany``), so
memory stays bounded and a progress callback can follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from emailshare.storage.db import Params, Tx

#: Rows per ``executemany``: large enough to amortise the call, small enough to bound memory.
BATCH = 50_000

#: Called after each batch with the number of rows written and what they are ("users", ...).
Progress = Callable[[int, str], None]


async def insert_many(
    tx: Tx, sql: str, rows: Iterable[Params], progress: Progress | None = None, label: str = ""
) -> int:
    """Insert ``rows`` with ``sql`` (one parameterised INSERT), :data:`BATCH` rows per
    ``executemany``; the number of rows written."""
    written = 0
    it: Iterator[Params] = iter(rows)
    while batch := list(islice(it, BATCH)):
        await tx.executemany(sql, batch)
        written += len(batch)
        if progress is not None:
            progress(len(batch), label)
    return written
