"""What ``serve`` says a store holds (``storage/counts.py``): exact up to the cap a table,
then the store's own estimate ("about"), or the cap ("more than"); never a full count.

SQLite by default; PostgreSQL when ``EMAILSHARE_TEST_PG`` is set (``tests.conftest``), and
always in tests/pg/test_counts_pg.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from emailshare.service import admin
from emailshare.storage import migrate
from emailshare.storage.counts import Counts, counts
from emailshare.storage.db import connect
from emailshare.storage.repo import Store
from tests import conftest

NOW = 1_750_000_000


async def check_counts(db_url: str) -> None:
    """acme.json (2 orgs, 10 users, 8 records, no emails) counted under every cap."""
    db = await connect(db_url, pool_size=1)
    try:
        await migrate.upgrade(db)
        await admin.load_file(Store(db), str(conftest.ACME_FIXTURE), NOW)
        exact = await counts(db)
        assert exact == Counts(2, 10, 8, 0)
        assert str(exact) == "2 orgs, 10 users, 8 records, 0 emails"
        assert await counts(db, cap=10) == exact  # a table at the cap is still exact
        if db.dialect == "sqlite":  # no statistics until ANALYZE: the cap, as a floor
            floor = await counts(db, cap=5)
            assert str(floor) == "2 orgs, more than 5 users, more than 5 records, 0 emails"
            assert floor.users == 5
        async with db.transaction(bump=False) as tx:
            await tx.execute("ANALYZE")
        estimated = await counts(db, cap=5)
        assert str(estimated) == "2 orgs, about 10 users, about 8 records, 0 emails"
        assert estimated.about == {"users", "records"}
        # Only the tables past the cap are estimated.
        assert str(await counts(db, cap=9)) == "2 orgs, about 10 users, 8 records, 0 emails"
    finally:
        await db.close()


def test_counts_are_exact_to_the_cap_then_estimated(tmp_path: Path) -> None:
    asyncio.run(check_counts(conftest.db_url_for(tmp_path)))
