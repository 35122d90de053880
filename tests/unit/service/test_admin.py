"""``service.admin``: the operator's use cases (load, reset, read back, readiness), on a fake
store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emailshare.domain.errors import FixtureError, InvalidData, StoreUnavailable
from emailshare.domain.model import Org, User
from emailshare.domain.views import OrgSummary
from emailshare.service import admin
from tests.unit.fakes import FakeStore
from tests.unit.service.org import ADMIN, ORG, OTHER_ORG, OUTSIDER, org, other_org

pytestmark = pytest.mark.anyio
NOW = 3_000_000
DOC = {
    "orgs": [
        {
            "id": "7",
            "name": "Seven",
            "users": [{"id": "70", "name": "Sev", "email": "sev@seven.test"}],
            "records": [{"module": "Leads", "id": "700", "name": "L", "owner": "70"}],
        }
    ]
}


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([org(), other_org()])


async def test_a_document_loads_and_is_summarised(store: FakeStore) -> None:
    summary = await admin.load_document(store, json.dumps(DOC).encode(), NOW)
    assert summary == admin.LoadSummary(orgs=1, users=1, records=1, tokens=0)
    assert [o.id for o in await admin.org_summaries(store)] == [7, ORG, OTHER_ORG]


async def test_a_file_loads_too(store: FakeStore, tmp_path: Path) -> None:
    path = tmp_path / "seven.json"
    path.write_text(json.dumps(DOC))
    assert (await admin.load_file(store, str(path), NOW)).orgs == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b'{"orgs": [{"id": "x"}]}', "orgs[0]"),
        (b"[", ""),
    ],
)
async def test_a_bad_document_changes_nothing(store: FakeStore, raw: bytes, reason: str) -> None:
    before = await admin.org_summaries(store)
    with pytest.raises(FixtureError) as exc:
        await admin.load_document(store, raw, NOW)
    assert reason in exc.value.reason
    assert exc.value.code == "INVALID_DATA"
    assert await admin.org_summaries(store) == before


async def test_reset_empties_the_store(store: FakeStore) -> None:
    await admin.reset(store)
    assert await admin.org_summaries(store) == []
    assert await admin.read_orgs(store) == []


async def test_summaries_of_every_org_or_the_one_named(store: FakeStore) -> None:
    assert await admin.org_summaries(store, OTHER_ORG) == [OrgSummary(OTHER_ORG, "Globex", 1, 1)]
    assert await admin.org_summaries(store, 999) == []


async def test_orgs_read_back_whole_without_clients_or_tokens(store: FakeStore) -> None:
    (found,) = await admin.read_orgs(store, ORG)
    assert found.users == org().users
    assert found.clients == ()
    assert [o.id for o in await admin.read_orgs(store)] == [ORG, OTHER_ORG]


async def test_reading_an_org_that_is_not_there_is_invalid_data(store: FakeStore) -> None:
    with pytest.raises(InvalidData) as exc:
        await admin.read_orgs(store, 999)
    assert (exc.value.message, exc.value.details) == ("no such org", {"param_name": "org"})


async def test_the_callers_org_is_found_by_the_caller_or_named(store: FakeStore) -> None:
    assert (await admin.caller_org(store, ADMIN, None)).id == ORG
    assert (await admin.caller_org(store, OUTSIDER, OTHER_ORG)).id == OTHER_ORG


async def test_a_caller_in_no_org_or_in_several_must_be_told_apart(store: FakeStore) -> None:
    with pytest.raises(InvalidData) as exc:
        await admin.caller_org(store, 424242, None)
    assert exc.value.details == {"param_name": "caller"}
    twin = Org(40, "Twin", users=(User(ADMIN, "Ada Twin", "ada@twin.test"),))
    await store.replace_orgs([twin], NOW)
    with pytest.raises(InvalidData) as exc:
        await admin.caller_org(store, ADMIN, None)
    assert exc.value.details == {"param_name": "org"}
    with pytest.raises(InvalidData) as exc:
        await admin.caller_org(store, ADMIN, 999)
    assert exc.value.message == "no such org"


async def test_readiness_is_the_stores_answer(store: FakeStore) -> None:
    await admin.ready(store)
    store.down = True
    with pytest.raises(StoreUnavailable):
        await admin.ready(store)
