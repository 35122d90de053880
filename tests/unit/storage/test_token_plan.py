"""The token's statement (``storage.repo._TOKEN_OWNER``), run on most requests at 1M records
(docs/performance.md, "The caller on a miss"): SQLite's plan is two unique searches, the
token by its hash, then its user by the org and id, and nothing is scanned. SQLite plans
without statistics, so a small store shows the plan a large one gets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emailshare.bootstrap import open_store
from emailshare.domain.tokens import token_hash
from emailshare.service import admin
from emailshare.storage import repo
from emailshare.storage.repo import Store
from tests import conftest

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'plans.db'}") as opened:
        await admin.load_file(opened, str(conftest.ACME_FIXTURE), int(time.time()))
        yield opened


async def test_the_token_statement_is_two_unique_searches(store: Store) -> None:
    rows = await store.db.fetchall(
        "EXPLAIN QUERY PLAN " + repo._TOKEN_OWNER, (token_hash("1000.x"),)
    )
    plan = [str(row[-1]) for row in rows]
    assert plan == [
        "SEARCH t USING INDEX sqlite_autoindex_access_tokens_1 (token_hash=?)",
        "SEARCH u USING INDEX sqlite_autoindex_users_1 (org_id=? AND id=?)",
    ], plan
