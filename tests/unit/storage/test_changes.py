"""The change log (``storage.changes``) read by ``service.cache.Freshness`` on a real SQLite
store: each write forgets only its scope; a reader that fell behind the pruned log, a batch too
large, or a kind it does not know forgets everything; a cache with only clear() is cleared."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emailshare.bootstrap import open_store
from emailshare.domain.changes import ALL, ORG, RECORD, TOKENS
from emailshare.service import cache as cache_module
from emailshare.service.cache import BoundedCache, Freshness, ScopedCache
from emailshare.storage import changes
from emailshare.storage.repo import Store

pytestmark = pytest.mark.anyio

Key = tuple[int, int | None]


def scoped() -> ScopedCache[Key, str]:
    return ScopedCache(100, scope=lambda key, _: key)


def fill(cache: BoundedCache[Key, str]) -> None:
    for key in [(1, 10), (1, 11), (1, None), (2, 10), (2, None)]:
        cache.put(key, "x")


def kept(cache: BoundedCache[Key, str]) -> set[Key]:
    keys = [(1, 10), (1, 11), (1, None), (2, 10), (2, None)]
    return {k for k in keys if cache.get(k) is not None}


async def write(store: Store, *notes: tuple[str, int | None, int | None]) -> None:
    async with store.db.transaction(bump=False) as tx:
        for kind, org_id, record_id in notes:
            tx.note(kind, org_id, record_id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with open_store(f"sqlite:///{tmp_path / 'c.db'}") as opened:
        yield opened


ALL_KEYS = {(1, 10), (1, 11), (1, None), (2, 10), (2, None)}


@pytest.mark.parametrize(
    ("notes", "left"),
    [
        ([(RECORD, 1, 10)], ALL_KEYS - {(1, 10)}),
        ([(RECORD, 1, 10), (RECORD, 2, 10)], ALL_KEYS - {(1, 10), (2, 10)}),
        ([(ORG, 1, None)], {(2, 10), (2, None)}),
        ([(TOKENS, 2, None)], {(1, 10), (1, 11), (1, None)}),
        ([(ALL, None, None)], set()),
        ([(RECORD, None, 5)], set()),  # a record of no org: everything, rather than guess
    ],
)
async def test_each_write_forgets_its_scope_only(
    store: Store, notes: list[tuple[str, int | None, int | None]], left: set[Key]
) -> None:
    answers, plain = scoped(), BoundedCache[Key, str](100)
    fresh = Freshness(store, answers, plain)
    await fresh.check()
    fill(answers)
    fill(plain)
    await write(store, *notes)
    epoch = fresh.epoch
    await fresh.check()
    assert kept(answers) == left
    assert kept(plain) == set()  # only clear(): cleared by any change
    assert fresh.epoch == epoch + 1  # a computation that straddled it is not kept


async def test_a_commit_that_notes_nothing_forgets_nothing(store: Store) -> None:
    answers = scoped()
    fresh = Freshness(store, answers)
    await fresh.check()
    fill(answers)
    async with store.db.transaction(bump=False) as tx:  # API-limit usage, say
        await tx.execute("INSERT INTO api_limit_orgs (org_id, touched) VALUES (7, 0)")
    epoch = fresh.epoch
    await fresh.check()
    assert (kept(answers), fresh.epoch) == (ALL_KEYS, epoch)


async def test_a_transaction_that_notes_nothing_but_bumps_forgets_everything(
    store: Store,
) -> None:
    answers = scoped()
    fresh = Freshness(store, answers)
    await fresh.check()
    fill(answers)
    async with store.db.transaction() as tx:  # a write that names no scope
        await tx.execute("INSERT INTO api_limit_orgs (org_id, touched) VALUES (8, 0)")
    await fresh.check()
    assert kept(answers) == set()


async def test_a_reader_that_missed_pruned_changes_forgets_everything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "KEEP", 5)
    monkeypatch.setattr(changes, "PRUNE_EVERY", 2)
    behind, current = scoped(), scoped()
    late, prompt = Freshness(store, behind), Freshness(store, current)
    await late.check()
    await prompt.check()
    fill(behind)
    fill(current)
    for _ in range(12):  # a record of org 1, twelve times: seqs pruned past ``late``'s
        await write(store, (RECORD, 1, 10))
        await prompt.check()
    rows = await store.db.fetchall("SELECT MIN(seq), COUNT(*) FROM changes")
    assert rows[0][1] <= 6, rows  # pruned
    await late.check()
    assert kept(current) == ALL_KEYS - {(1, 10)}  # it kept up: only the record forgotten
    assert kept(behind) == set()  # it could not tell what it missed: everything forgotten


async def test_more_changes_than_a_batch_forgets_everything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_CHANGES", 3)
    answers = scoped()
    fresh = Freshness(store, answers)
    await fresh.check()
    fill(answers)
    await write(store, (RECORD, 1, 10), (RECORD, 1, 11), (RECORD, 2, 10), (RECORD, 2, 11))
    await fresh.check()
    assert kept(answers) == set()
    fill(answers)  # and it goes on from the latest seq: the next record change is exact
    await write(store, (RECORD, 2, 10))
    await fresh.check()
    assert kept(answers) == ALL_KEYS - {(2, 10)}


async def test_a_kind_this_version_does_not_know_forgets_everything(store: Store) -> None:
    answers = scoped()
    fresh = Freshness(store, answers)
    await fresh.check()
    fill(answers)
    async with store.db.transaction(bump=False) as tx:  # a later version's kind, logged
        await tx.execute("UPDATE store_version SET version = version + 1 WHERE id = 1")
        await tx.execute(
            "INSERT INTO changes (seq, kind, org_id) SELECT version, 'mailbox', 1"
            " FROM store_version WHERE id = 1"
        )
    await fresh.check()
    assert kept(answers) == set()


def test_many_records_of_one_org_are_logged_as_the_org() -> None:
    many = [(RECORD, 1, r) for r in range(changes.RECORDS_PER_ORG + 1)]
    assert changes.narrowest([*many, (RECORD, 2, 5)]) == [(ORG, 1, None), (RECORD, 2, 5)]
    assert changes.narrowest([(RECORD, 1, 5), (ORG, 1, None)]) == [(ORG, 1, None)]
    assert changes.narrowest([(RECORD, 1, 5), (ALL, None, None)]) == [(ALL, None, None)]
