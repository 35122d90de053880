"""Reads on PostgreSQL use one cursor per pooled connection again and again (a new cursor per
statement cost ~20 µs of CPU, docs/performance.md "PostgreSQL"), and a connection the server
dropped takes its cursor with it: its read is tried again on a new connection, and the
closed one is forgotten."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from emailshare.storage.db import connect
from emailshare.storage.postgres import PostgresDatabase
from tests.pgutil import Cluster, fresh_database


def test_reads_reuse_their_connections_cursor(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    cursor = psycopg.AsyncConnection.cursor

    def counted(self: psycopg.AsyncConnection[object], *args: object, **kwargs: object) -> object:
        made.append(self)
        return cursor(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(psycopg.AsyncConnection, "cursor", counted)
    url = fresh_database(cluster.url)

    async def main() -> None:
        db = await connect(url, pool_size=2)
        inner = db.inner  # type: ignore[attr-defined]
        assert isinstance(inner, PostgresDatabase)
        try:
            for n in range(20):
                assert await db.fetchone("SELECT ?::int", (n,)) == (n,)
            assert await db.fetchall("SELECT 1 UNION ALL SELECT 2") == [(1,), (2,)]
            # One per pooled connection, not one per read (the listener's own connection,
            # not pooled, makes its own for each heartbeat).
            pooled = [id(c) for c in made if c in inner._cursors]
            assert 1 <= len(pooled) <= 2, len(pooled)
            assert len(set(pooled)) == len(pooled)
            before = set(inner._cursors)

            with psycopg.connect(cluster.url, autocommit=True) as admin:  # drop them all
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND application_name = ''",
                    (url.rpartition("/")[2],),
                )
            await asyncio.sleep(0.2)
            for n in range(5):  # tried again on a new connection; no failure reaches us
                assert await db.fetchone("SELECT ?::int", (n,)) == (n,)
            assert not any(c.closed for c in inner._cursors)
            assert not before & set(inner._cursors)
        finally:
            await db.close()

    asyncio.run(main())
