"""The SQL of the request journal (migration 0011): entries written in batches, read filtered.

:class:`JournalTable` implements ``service.ports.JournalStore``. One table for every worker of
every instance on the store (on SQLite, in a file of its own beside the store:
``bootstrap.journal_url``). Its writes do not bump the store's version (``bump=False``), so
they never empty the answer caches (docs/observability.md, "The request journal").
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from emailshare.domain.journal import Headers, JournalEntry, JournalQuery
from emailshare.storage.db import Database, Row

_COLUMNS = (
    "seq, request_id, started_us, method, path, query, status, duration_us, user_id, org_id,"
    " request_headers, request_body, request_size, response_headers, response_body,"
    " response_size, server"
)
_INSERT = f"INSERT INTO journal ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
_TAKE_SEQ = "UPDATE journal_seq SET last = last + ? WHERE id = 1 RETURNING last"
_TRIM = "DELETE FROM journal WHERE seq <= ?"
_SELECT = f"SELECT {_COLUMNS} FROM journal"


def _headers(text: str) -> Headers:
    return tuple((str(k), str(v)) for k, v in orjson.loads(text))


def _entry(row: Row) -> JournalEntry:
    return JournalEntry(
        request_id=row[1],
        started=int(row[2]) / 1e6,
        method=row[3],
        path=row[4],
        query=row[5],
        status=int(row[6]),
        duration=int(row[7]) / 1e6,
        user_id=None if row[8] is None else int(row[8]),
        org_id=None if row[9] is None else int(row[9]),
        request_headers=_headers(row[10]),
        request_body=row[11],
        request_size=int(row[12]),
        response_headers=_headers(row[13]),
        response_body=row[14],
        response_size=int(row[15]),
        server=row[16],
        seq=int(row[0]),
    )


def _row(seq: int, e: JournalEntry) -> tuple[object, ...]:
    return (
        seq,
        e.request_id,
        round(e.started * 1e6),
        e.method,
        e.path,
        e.query,
        e.status,
        round(e.duration * 1e6),
        e.user_id,
        e.org_id,
        orjson.dumps(e.request_headers).decode(),
        e.request_body,
        e.request_size,
        orjson.dumps(e.response_headers).decode(),
        e.response_body,
        e.response_size,
        e.server,
    )


class JournalTable:
    """The ``JournalStore`` port over one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_entries(self, entries: Sequence[JournalEntry], keep: int) -> None:
        """Write ``entries`` in one transaction, then keep only the newest ``keep``."""
        if not entries:
            return
        async with self.db.transaction(bump=False) as tx:
            rows = await tx.fetchall(_TAKE_SEQ, (len(entries),))
            last = int(rows[0][0])
            first = last - len(entries) + 1
            await tx.executemany(_INSERT, [_row(first + i, e) for i, e in enumerate(entries)])
            await tx.execute(_TRIM, (last - keep,))

    async def clear_entries(self) -> int:
        """Delete every entry; how many there were."""
        async with self.db.transaction(bump=False) as tx:
            return await tx.execute("DELETE FROM journal")

    async def entry(self, request_id: str) -> JournalEntry | None:
        """The newest entry with this request id (a client may send the same id twice)."""
        row = await self.db.fetchone(
            _SELECT + " WHERE request_id = ? ORDER BY seq DESC LIMIT 1", (request_id,)
        )
        return None if row is None else _entry(row)

    async def entries(self, q: JournalQuery) -> list[JournalEntry]:
        """The newest ``q.limit`` entries that match ``q``, oldest first."""
        where: list[str] = []
        params: list[object] = []
        if q.path_prefix is not None:
            where.append("substr(path, 1, ?) = ?")
            params += [len(q.path_prefix), q.path_prefix]
        if q.path_contains is not None:
            find = "strpos(path, ?)" if self.db.dialect == "postgresql" else "instr(path, ?)"
            where.append(f"{find} > 0")
            params.append(q.path_contains)
        equal: tuple[tuple[str, object], ...] = (  # our own column names, never the caller's
            ("method", q.method),
            ("status", q.status),
            ("user_id", q.user_id),
            ("org_id", q.org_id),
        )
        for column, value in equal:
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.status_class is not None:
            where.append("status >= ? AND status < ?")
            params += [q.status_class * 100, q.status_class * 100 + 100]
        if q.since is not None:
            where.append("started_us >= ?")
            params.append(round(q.since * 1e6))
        if q.after is not None:
            started_us = round(q.after[0] * 1e6)
            where.append("(started_us > ? OR (started_us = ? AND seq > ?))")
            params += [started_us, started_us, q.after[1]]
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY started_us DESC, seq DESC LIMIT ?"
        params.append(q.limit)
        rows = await self.db.fetchall(sql, params)
        return [_entry(r) for r in reversed(rows)]
