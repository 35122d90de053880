"""The bulk writer (``storage/bulk.py``) and the snapshot reader (``storage/snapshot.py``) are
inverses on a real store: random valid orgs (``tests/org_strategies.py``) written with
``Store.replace_orgs`` read back equal, users, roles and records in id order, without the
clients and tokens the store keeps only as hashes (those are checked by their hashes).

SQLite by default; PostgreSQL when ``EMAILSHARE_TEST_PG`` is set (``tests.conftest``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from emailshare.domain.model import Org
from emailshare.domain.tokens import secret_matches, token_hash
from emailshare.storage import batch, bulk, migrate, snapshot
from emailshare.storage.db import connect
from emailshare.storage.repo import Store
from tests import conftest
from tests.org_strategies import documents

NOW = 1_750_000_000


def as_stored(org: Org) -> Org:
    """What the snapshot gives back of ``org``: ids in order, no clients or tokens."""
    return dataclasses.replace(
        org,
        custom_modules=tuple(sorted(org.custom_modules)),
        roles=tuple(sorted(org.roles, key=lambda r: r.id)),
        users=tuple(sorted(org.users, key=lambda u: u.id)),
        records=tuple(sorted(org.records, key=lambda r: r.id)),
        clients=(),
        tokens=(),
    )


async def round_trip(db_url: str, orgs: list[Org]) -> None:
    db = await connect(db_url, pool_size=1)
    try:
        await migrate.upgrade(db)
        store = Store(db)
        await store.delete_everything()
        await store.replace_orgs(orgs, NOW)
        await store.replace_orgs(orgs, NOW)  # a reload replaces each org wholly
        for org in orgs:
            assert await snapshot.read_org(db, org.id) == as_stored(org)
            tokens = await db.fetchall(
                "SELECT token_hash, user_id, scopes, expires_at FROM access_tokens"
                " WHERE org_id = ?",
                (org.id,),
            )
            assert sorted(tokens) == sorted(
                (token_hash(t.access_token), t.user, " ".join(t.scopes), NOW + t.expires_in)
                for t in org.tokens
            )
            clients = await db.fetchall(
                "SELECT client_id, secret_hash, redirect_uri FROM oauth_clients WHERE org_id = ?",
                (org.id,),
            )
            assert sorted((c[0], c[2]) for c in clients) == sorted(
                (c.client_id, c.redirect_uri) for c in org.clients
            )
            secrets = {c.client_id: c.client_secret for c in org.clients}
            for client_id, stored, _ in clients[:1]:  # scrypt, salted: matched (one: ~0.1 s)
                assert secret_matches(stored, secrets[client_id])
        summaries = await snapshot.list_orgs(db)
        assert [(s.id, s.users, s.records) for s in summaries] == sorted(
            (o.id, len(o.users), len(o.records)) for o in orgs
        )
    finally:
        await db.close()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the module (on PostgreSQL, one fresh database)."""
    return conftest.db_url_for(tmp_path_factory.mktemp("bulk"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orgs=documents())
def test_orgs_written_in_bulk_read_back_equal(db_url: str, orgs: list[Org]) -> None:
    asyncio.run(round_trip(db_url, orgs))


def test_insert_many_writes_in_batches_and_reports_each(tmp_path: Path) -> None:
    async def run() -> list[tuple[int, str]]:
        db = await connect(f"sqlite:///{tmp_path / 'b.db'}", pool_size=1)
        seen: list[tuple[int, str]] = []
        try:
            await migrate.upgrade(db)
            async with db.transaction() as tx:
                await tx.execute(bulk.INSERT_ORG, (1, "Org"))
                written = await batch.insert_many(
                    tx,
                    bulk.INSERT_ROLE,
                    ((1, 10 + i, f"Role {i}", None, i, i) for i in range(batch.BATCH + 5)),
                    lambda n, label: seen.append((n, label)),
                    "roles",
                )
            assert written == batch.BATCH + 5
            [(count,)] = await db.fetchall("SELECT COUNT(*) FROM roles")
            assert count == batch.BATCH + 5
        finally:
            await db.close()
        return seen

    assert asyncio.run(run()) == [(batch.BATCH, "roles"), (5, "roles")]
