"""``service.sharing``: share_emails / unshare_emails, one record and bulk (docs/contract.md §8),
on a fake store whose transactions roll back."""

from __future__ import annotations

from typing import Any

import pytest

from emailshare.domain.errors import (
    AlreadyShared,
    InvalidData,
    InvalidModule,
    NoPermission,
    NotAllowed,
    NotShared,
    NotSupported,
    OAuthScopeMismatch,
    ZohoError,
    invalid_record_path,
    no_read_permission,
)
from emailshare.service.sharing import Action, Outcome, share_many, share_one
from tests.unit.fakes import FakeStore
from tests.unit.service.org import (
    ADMIN,
    CONTACT,
    DELETED,
    LEAD,
    LEAD2,
    MANAGER,
    NOMAIL,
    ORG,
    OTHER_LEAD,
    PEER,
    PROJECT,
    REP,
    caller,
    error_of,
    org,
    other_org,
    same_error,
)

pytestmark = pytest.mark.anyio
SHARE, UNSHARE = Action.SHARE, Action.UNSHARE
BAD_ID = "The id given seems to be invalid"


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([org(), other_org()])


def shared(store: FakeStore) -> set[tuple[int, int]]:
    return {(record, user) for o, record, user in store.state.shares if o == ORG}


async def test_share_then_unshare_one_record(store: FakeStore) -> None:
    assert await share_one(store, caller(REP), "Leads", str(LEAD), SHARE) == str(LEAD)
    assert (LEAD, REP) in shared(store)
    assert await share_one(store, caller(REP), "leads", "0" + str(LEAD), UNSHARE) == str(LEAD)
    assert (LEAD, REP) not in shared(store)
    assert store.commits == 2


async def test_sharing_twice_is_already_shared_and_changes_nothing(store: FakeStore) -> None:
    await share_one(store, caller(REP), "Contacts", str(CONTACT), SHARE)
    before, commits = shared(store), store.commits
    with pytest.raises(AlreadyShared) as exc:
        await share_one(store, caller(REP), "Contacts", str(CONTACT), SHARE)
    same_error(exc, AlreadyShared({"id": str(CONTACT)}))
    assert (shared(store), store.commits) == (before, commits)


async def test_unsharing_what_is_not_shared_is_not_shared(store: FakeStore) -> None:
    with pytest.raises(NotShared) as exc:
        await share_one(store, caller(REP), "Leads", str(LEAD), UNSHARE)
    same_error(exc, NotShared({"id": str(LEAD)}))
    assert exc.value.message == "Emails are not  shared to the colleagues already"  # two spaces


async def test_custom_modules_take_shares(store: FakeStore) -> None:
    with pytest.raises(AlreadyShared):  # Max shared the project in the fixture
        await share_one(store, caller(MANAGER), "Projects", str(PROJECT), SHARE)
    assert await share_one(store, caller(MANAGER), "Projects", str(PROJECT), UNSHARE)


@pytest.mark.parametrize("module", ["Accounts", "Deals", "Tasks"])
async def test_modules_without_email_shares_are_not_supported(
    store: FakeStore, module: str
) -> None:
    with pytest.raises(NotSupported) as exc:
        await share_one(store, caller(REP), module, str(LEAD), SHARE)
    same_error(exc, NotSupported({"resource_path_index": 0}))


async def test_an_unknown_module_is_invalid_module(store: FakeStore) -> None:
    with pytest.raises(InvalidModule):
        await share_one(store, caller(REP), "Nope", str(LEAD), SHARE)


@pytest.mark.parametrize(
    ("granted", "allowed"),
    [
        (("ZohoCRM.modules.ALL",), True),
        (("ZohoCRM.modules.leads.ALL",), True),
        (("zohocrm.modules.LEADS.create",), True),
        (("ZohoCRM.modules.leads.READ",), False),
        (("ZohoCRM.modules.READ", "ZohoCRM.modules.emails.ALL"), False),
        (("ZohoCRM.modules.contacts.ALL",), False),
    ],
)
async def test_scopes_needed_to_share(
    store: FakeStore, granted: tuple[str, ...], allowed: bool
) -> None:
    if allowed:
        assert await share_one(store, caller(REP, granted), "Leads", str(LEAD), SHARE)
    else:
        with pytest.raises(OAuthScopeMismatch):
            await share_one(store, caller(REP, granted), "Leads", "not-an-id", SHARE)


@pytest.mark.parametrize("record", ["x", "0", "1" * 20, str(DELETED), str(OTHER_LEAD), "4242"])
async def test_a_bad_or_unknown_record_in_the_path(store: FakeStore, record: str) -> None:
    with pytest.raises(InvalidData) as exc:
        await share_one(store, caller(REP), "Leads", record, SHARE)
    same_error(exc, invalid_record_path())


async def test_a_record_the_caller_may_not_read_is_403_first(store: FakeStore) -> None:
    """NOMAIL may not read the lead: that is said before that she has no mailbox."""
    with pytest.raises(NoPermission) as exc:
        await share_one(store, caller(NOMAIL), "Leads", str(LEAD), SHARE)
    same_error(exc, no_read_permission())


async def test_a_caller_without_a_mailbox_is_not_allowed(store: FakeStore) -> None:
    with pytest.raises(NotAllowed) as exc:
        await share_one(store, caller(NOMAIL), "Contacts", str(CONTACT), SHARE)
    same_error(exc, NotAllowed({}, "Email Configuration does not exist"))


@pytest.mark.parametrize("who", [ADMIN, PEER])  # public and private sharing
async def test_a_caller_whose_sharing_is_not_custom_is_not_allowed(
    store: FakeStore, who: int
) -> None:
    with pytest.raises(NotAllowed) as exc:
        await share_one(store, caller(who), "Leads", str(LEAD), SHARE)
    same_error(exc, NotAllowed())
    assert exc.value.message == "User did not enable custom sharing"
    assert shared(store) == {(PROJECT, MANAGER)}


# --- bulk ---------------------------------------------------------------------------------


def outcomes(found: list[Outcome]) -> list[tuple[str, Any]]:
    return [(o.record_id, None if o.error is None else error_of(o.error)) for o in found]


async def test_bulk_answers_each_id_in_the_order_given(store: FakeStore) -> None:
    ids: list[Any] = [str(CONTACT), LEAD, "x", True, 1.5, {"a": 1}, str(LEAD), "4242"]
    found = await share_many(store, caller(REP), "Leads", ids, SHARE)
    bad = ("INVALID_DATA", BAD_ID)
    assert outcomes(found) == [
        (str(CONTACT), ("INVALID_DATA", BAD_ID, {"id": str(CONTACT)})),  # a contact, not a lead
        (str(LEAD), None),
        ("x", (*bad, {"id": "x"})),
        ("true", (*bad, {"id": "true"})),
        ("1.5", (*bad, {"id": "1.5"})),
        ('{"a":1}', (*bad, {"id": '{"a":1}'})),
        (str(LEAD), ("DUPLICATE_DATA", "Duplicate Data", {"id": str(LEAD)})),
        ("4242", (*bad, {"id": "4242"})),
    ]
    assert shared(store) == {(PROJECT, MANAGER), (LEAD, REP)}


async def test_bulk_per_id_permission_mailbox_and_state_errors(store: FakeStore) -> None:
    await share_one(store, caller(MANAGER), "Leads", str(LEAD), SHARE)
    found = await share_many(store, caller(MANAGER), "Leads", [str(LEAD)], SHARE)
    assert outcomes(found) == [
        (str(LEAD), ("ALREADY_SHARED", AlreadyShared.message, {"id": str(LEAD)}))
    ]
    found = await share_many(store, caller(NOMAIL), "Leads", [str(LEAD)], SHARE)
    assert outcomes(found) == [(str(LEAD), error_of(no_read_permission()))]
    found = await share_many(store, caller(NOMAIL), "Contacts", [str(CONTACT)], SHARE)
    assert outcomes(found) == [
        (str(CONTACT), ("NOT_ALLOWED", "Email Configuration does not exist", {}))
    ]
    found = await share_many(store, caller(REP), "Contacts", [CONTACT], UNSHARE)
    assert outcomes(found) == [
        (str(CONTACT), ("NOT_SHARED", NotShared.message, {"id": str(CONTACT)}))
    ]


async def test_bulk_module_and_scope_errors_are_raised_for_the_whole_request(
    store: FakeStore,
) -> None:
    with pytest.raises(NotSupported):
        await share_many(store, caller(REP), "Accounts", [str(LEAD)], SHARE)
    with pytest.raises(OAuthScopeMismatch):
        await share_many(store, caller(REP, ("ZohoCRM.modules.leads.READ",)), "Leads", [], SHARE)


async def test_bulk_writes_commit_together(store: FakeStore) -> None:
    found = await share_many(store, caller(REP), "Leads", [str(LEAD), "x"], SHARE)
    assert [o.error is None for o in found] == [True, False]
    assert (LEAD, REP) in shared(store)
    assert store.commits == 1


async def test_a_store_failure_rolls_the_whole_request_back(store: FakeStore) -> None:
    """The fake's transaction undoes the first write when a later one raises."""
    original = store.add_email_share
    calls: list[int] = []

    async def failing(org_id: int, record_id: int, user_id: int) -> bool:
        calls.append(record_id)
        if len(calls) == 2:
            raise ZohoError()
        return await original(org_id, record_id, user_id)

    store.add_email_share = failing  # type: ignore[method-assign]
    with pytest.raises(ZohoError):
        await share_many(store, caller(REP), "Leads", [str(LEAD), str(LEAD2)], SHARE)
    assert shared(store) == {(PROJECT, MANAGER)}
