"""``service.records``: a record as a URL names it (docs/contract.md §§2, 5), on a fake store."""

from __future__ import annotations

import pytest

from emailshare.domain import rules
from emailshare.domain.errors import (
    InvalidData,
    InvalidModule,
    NoPermission,
    NotSupported,
    ZohoError,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.modules import Module
from emailshare.service import records
from tests.unit.fakes import FakeStore
from tests.unit.service.org import (
    ADMIN,
    CONTACT,
    DELETED,
    LEAD,
    MANAGER,
    NOMAIL,
    ORG,
    OTHER_LEAD,
    OTHER_ORG,
    PEER,
    PROJECT,
    REP,
    caller,
    org,
    other_org,
    same_error,
)

pytestmark = pytest.mark.anyio
LEADS = Module("Leads", custom=False)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([org(), other_org()])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Leads", Module("Leads", custom=False)),
        ("sales_orders", Module("Sales_Orders", custom=False)),
        ("Projects", Module("Projects", custom=True)),
        ("PROJECTS", Module("Projects", custom=True)),  # any case; the org's spelling kept
    ],
)
async def test_modules_resolve_standard_or_the_orgs_custom(
    store: FakeStore, name: str, expected: Module
) -> None:
    assert await records.resolve_module(store, ORG, name) == expected


async def test_an_unsupported_standard_module_is_not_supported(store: FakeStore) -> None:
    with pytest.raises(NotSupported) as exc:
        await records.resolve_module(store, ORG, "Tasks")
    same_error(exc, NotSupported({"resource_path_index": 0}))


@pytest.mark.parametrize("name", ["Nope", "Projects" + "x" * 100])
async def test_an_unknown_module_is_invalid_module(store: FakeStore, name: str) -> None:
    with pytest.raises(InvalidModule) as exc:
        await records.resolve_module(store, ORG, name)
    same_error(exc, InvalidModule({"resource_path_index": 0}))


async def test_another_orgs_custom_module_is_invalid_module(store: FakeStore) -> None:
    with pytest.raises(InvalidModule):
        await records.resolve_module(store, OTHER_ORG, "Projects")


@pytest.mark.parametrize(("text", "value"), [("42", 42), ("042", 42), ("9" * 18, int("9" * 18))])
def test_record_ids_are_digit_strings(text: str, value: int) -> None:
    assert records.record_id_of(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "1.5", " 1", "1" * 20, str(2**63)])
def test_a_malformed_record_id_is_invalid_data_for_the_path(text: str) -> None:
    with pytest.raises(InvalidData) as exc:
        records.record_id_of(text)
    same_error(exc, invalid_record_path())


@pytest.mark.parametrize(
    ("who", "record", "module", "rule"),
    [
        (ADMIN, LEAD, "Leads", rules.ReadRule.ADMINISTRATOR),
        (REP, LEAD, "Leads", rules.ReadRule.OWNER),
        (MANAGER, LEAD, "Leads", rules.ReadRule.SUPERIOR_ROLE),
        (PEER, CONTACT, "Contacts", rules.ReadRule.PUBLIC_MODULE),
        (PEER, LEAD, "Leads", rules.ReadRule.RECORD_SHARE),
        (REP, PROJECT, "Projects", rules.ReadRule.OWNER),
    ],
)
async def test_each_read_rule_lets_the_caller_read(
    store: FakeStore, who: int, record: int, module: str, rule: rules.ReadRule
) -> None:
    found = await records.require_readable(store, caller(who), Module(module, False), record)
    assert found is rule


async def test_a_caller_no_rule_lets_read_gets_no_permission(store: FakeStore) -> None:
    """NOMAIL has REP's role, not one above it: Leads are private and nothing is shared."""
    with pytest.raises(NoPermission) as exc:
        await records.require_readable(store, caller(NOMAIL), LEADS, LEAD)
    same_error(exc, no_read_permission())
    assert not await records.readable(store, caller(NOMAIL), LEADS, LEAD)


@pytest.mark.parametrize(
    ("module", "record"),
    [
        (LEADS, DELETED),  # deleted
        (LEADS, 999_999),  # no such record
        (LEADS, OTHER_LEAD),  # another org's: told apart from nothing
        (Module("Contacts", False), LEAD),  # the record, in another module
    ],
)
async def test_a_record_that_is_not_there_is_invalid_data(
    store: FakeStore, module: Module, record: int
) -> None:
    with pytest.raises(InvalidData) as exc:
        await records.require_readable(store, caller(ADMIN), module, record)
    same_error(exc, invalid_record_path())
    assert not await records.readable(store, caller(ADMIN), module, record)


async def test_the_missing_error_can_be_the_callers(store: FakeStore) -> None:
    """Bulk shares name the id in the body instead of the path's index."""
    mine = InvalidData({"id": "999"}, "The id given seems to be invalid")
    with pytest.raises(ZohoError) as exc:
        await records.require_readable(store, caller(ADMIN), LEADS, 999, mine)
    assert exc.value is mine


async def test_readable_is_true_when_a_rule_holds(store: FakeStore) -> None:
    assert await records.readable(store, caller(PEER), LEADS, LEAD)
