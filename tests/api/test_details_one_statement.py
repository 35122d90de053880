"""A details miss whose caller is not kept reads its token and the record in ONE statement
(``details.caller_and_read``, ``Store.token_and_details``); every answer must be the bytes the
two-statement path gives (``authenticate_token``, then ``details.answer`` reading the record).

Both paths run on the same store (SQLite, or PostgreSQL under EMAILSHARE_TEST_PG) for every
(token, module, record) of generated orgs (``test_rules_property``'s builders) and of the
shared acme fixture: live, expired, unscoped, unknown and malformed tokens, active and
inactive users, each org's records and the other org's, deleted and unknown ones, custom
sharers, standard, custom and unsupported modules, unparsable ids; callers kept and not.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, note, settings

from emailshare.api import wire
from emailshare.api.errors import error_body
from emailshare.domain.errors import ZohoError
from emailshare.domain.model import Org
from emailshare.domain.tokens import token_hash
from emailshare.service import details
from emailshare.service.auth import Caller, CallerCache, authenticate_token
from emailshare.service.fixtures import parse_fixture
from emailshare.storage import migrate
from emailshare.storage.db import Database, connect
from emailshare.storage.repo import Store
from tests import conftest
from tests.api.test_rules_property import COMMON, GenOrg, gen_orgs, parse_plan, token_of

Result = tuple[str, int, bytes]  # where it failed ("auth" or "answer"), status, body


class Counting(Store):
    """The store, counting the statements of the three reads in question."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.calls: list[str] = []

    async def token_owner(self, hashed: str) -> Any:
        self.calls.append("token_owner")
        return await super().token_owner(hashed)

    async def record_details(self, *args: Any) -> Any:
        self.calls.append("record_details")
        return await super().record_details(*args)

    async def token_and_details(self, hashed: str, module: str, record_id: int) -> Any:
        self.calls.append("token_and_details")
        return await super().token_and_details(hashed, module, record_id)


async def two_statements(
    store: Store, token: str, module: str, record: str, now: int, cache: CallerCache
) -> Result:
    """The path before: the token's statement, then the record's."""
    try:
        who = await authenticate_token(store, token, token_hash(token), now, cache)
    except ZohoError as exc:
        return ("auth", *error_body(exc))
    return await _answer(store, who, module, record, None)


async def one_statement(
    store: Store, token: str, module: str, record: str, now: int, cache: CallerCache
) -> Result:
    """The path of ``answers.compute``."""
    try:
        who, read = await details.caller_and_read(
            store, token, token_hash(token), now, cache, module, record
        )
    except ZohoError as exc:
        return ("auth", *error_body(exc))
    return await _answer(store, who, module, record, read)


async def _answer(
    store: Store, who: Caller, module: str, record: str, read: details.Read | None
) -> Result:
    try:
        found = await details.answer(store, who, module, record, None, read)
    except ZohoError as exc:
        status, body = error_body(exc)
        return "answer", status, bytes(body)
    return "answer", 200, wire.sharing_details(found.details, found.publics, found.rendered)


class Live:
    def __init__(self, runner: asyncio.Runner, store: Counting) -> None:
        self.runner = runner
        self.store = store


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    runner = asyncio.Runner()
    try:
        db = runner.run(connect(conftest.db_url_for(tmp_path_factory.mktemp("one")), pool_size=2))
        try:
            runner.run(migrate.upgrade(db))
            store = Counting(db)
            runner.run(store.replace_orgs(parse_fixture(conftest.acme()), int(time.time())))
            yield Live(runner, store)
        finally:
            runner.run(db.close())
    finally:
        runner.close()


_ORG_IDS = itertools.count(7_100_000_000_000_000_001)
_NOW = int(time.time())
# A scope set that may not read any module's details (docs/contract.md §4).
_UNSCOPED = ["ZohoCRM.users.READ"]


def _acme_tokens() -> list[str]:
    return [t["access_token"] for o in conftest.acme()["orgs"] for t in o["tokens"]]


def _acme_records() -> list[tuple[str, str]]:
    return [(r["module"], r["id"]) for o in conftest.acme()["orgs"] for r in o["records"]]


def compare(live: Live, org: Org, plan: GenOrg) -> int:
    """Every case through both paths, each with a fresh caller cache then a kept caller; the
    number of cases the one statement served."""
    store, run = live.store, live.runner.run
    org_id = org.id
    tokens = [token_of(org_id, i) for i in range(len(org.users))]
    for i, user in enumerate(org.users):
        for n, (scopes, expires) in enumerate(
            ((_UNSCOPED, _NOW + 3600), (["ZohoCRM.modules.ALL"], _NOW - 1))
        ):
            token = f"1000.{org_id:032x}.{(1 << 120) + i * 2 + n:032x}"
            run(store.add_access_token(token, org_id, user.id, scopes, expires))
            tokens.append(token)
    tokens += [
        *_acme_tokens()[:3],
        f"1000.{org_id:032x}.{(1 << 125):032x}",  # of Zoho's shape, unknown
        "not-a-token",
    ]
    targets = [(gr.url_module, gr.text) for gr in plan.records]
    targets += [(gr.url_module.lower(), str(gr.id)) for gr in plan.records[:2]]
    targets += [
        *_acme_records()[:4],
        ("Leads", "999999999999"),  # no such record
        ("Contacts", "12x"),  # not an id
        ("Deals", "1"),  # a standard module this API does not serve
        ("NoSuchModule", "1"),
    ]
    targets += [(name, "1") for name in plan.custom_modules[:1]]
    served = 0
    for token in tokens:
        for module, record in targets:
            answers = []
            for path in (two_statements, one_statement):
                cache: CallerCache = CallerCache(100)
                store.calls.clear()
                first = run(path(store, token, module, record, _NOW, cache))
                if path is one_statement and store.calls == ["token_and_details"]:
                    served += 1
                kept = cache.get(token_hash(token))
                again = run(path(store, token, module, record, _NOW, cache))  # a kept caller
                answers.append((first, kept, again))
            note(f"{token} {module}/{record}")
            assert answers[0] == answers[1]
    return served


@settings(COMMON, max_examples=15)
@given(plan=gen_orgs())
def test_one_statement_answers_as_two(live: Live, plan: GenOrg) -> None:
    org = parse_plan(plan, next(_ORG_IDS))
    live.runner.run(live.store.replace_orgs([org], _NOW))
    assert compare(live, org, plan) > 0  # acme's live tokens on its records, at least


def test_one_statement_a_miss(live: Live) -> None:
    """An uncached caller, a standard module, a valid id: one statement, no other read; a
    kept caller, a custom module or an unparsable id: the reads as before."""
    store, run = live.store, live.runner.run
    token = _acme_tokens()[0]
    module, record = _acme_records()[0]
    cache: CallerCache = CallerCache(100)
    for case, expected in (
        ((module, record), ["token_and_details"]),
        (("Contacts", "12x"), ["token_owner"]),
        (("NoSuchModule", "1"), ["token_owner"]),
    ):
        store.calls.clear()
        run(one_statement(store, token, *case, _NOW, CallerCache(100)))
        assert store.calls == expected, case
    run(one_statement(store, token, module, record, _NOW, cache))
    store.calls.clear()
    run(one_statement(store, token, module, record, _NOW, cache))
    assert store.calls == ["record_details"]
