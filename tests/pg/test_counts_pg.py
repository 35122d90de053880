"""``storage/counts.py`` on PostgreSQL: past the cap, ``pg_class.reltuples`` is the estimate."""

from __future__ import annotations

import asyncio

from tests.pgutil import Cluster, fresh_database
from tests.unit.storage.test_counts import check_counts


def test_counts_on_postgresql(cluster: Cluster) -> None:
    asyncio.run(check_counts(fresh_database(cluster.url)))
