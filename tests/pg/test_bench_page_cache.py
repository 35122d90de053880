"""bench/run.py reads a PostgreSQL store into the cache before its rows (docs/performance.md,
"How it is measured"): with pg_prewarm, every table and index of the schema."""

from __future__ import annotations

import psycopg
from bench.run import page_cache

from tests.pgutil import Cluster, fresh_database

COUNT_BUFFERS = (
    "SELECT c.relname, count(b.bufferid), pg_relation_size(c.oid) / 8192 FROM pg_class c"
    " LEFT JOIN pg_buffercache b ON b.relfilenode = pg_relation_filenode(c.oid)"
    " AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " WHERE c.relname IN ('t', 't_pkey') GROUP BY c.relname, c.oid ORDER BY c.relname"
)


def test_page_cache_prewarms_every_relation(cluster: Cluster) -> None:
    db = fresh_database(cluster.url)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_buffercache")
        conn.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)")
        conn.execute("INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 20000) i")
    cluster.stop()
    cluster.start()  # shared buffers empty
    with psycopg.connect(db, autocommit=True) as conn:
        before = conn.execute(COUNT_BUFFERS).fetchall()
    done = page_cache(db)
    assert done["method"] == "pg_prewarm (buffer) of every table and index", done
    assert done["mb"] > 4, done  # 20,000 rows of 200 bytes, and their index
    with psycopg.connect(db, autocommit=True) as conn:
        after = conn.execute(COUNT_BUFFERS).fetchall()
    assert [name for name, _, _ in after] == ["t", "t_pkey"]
    assert all(held < pages for _, held, pages in before), before
    assert all(held == pages for _, held, pages in after), after
