"""``service.details``: checks 5 to 8 of docs/contract.md §3 in their order, then the answer
of §6, on a fake store."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from emailshare.domain import rules
from emailshare.domain.errors import (
    InvalidData,
    InvalidModule,
    NoPermission,
    NotSupported,
    OAuthScopeMismatch,
    invalid_record_path,
    no_read_permission,
)
from emailshare.domain.rules import ShareFromUser
from emailshare.service.details import Views, answer, sharing_details
from emailshare.service.orgview import NOT_RENDERED, OrgView, Rendered
from tests.unit.fakes import FakeStore
from tests.unit.service.org import (
    ACCOUNT,
    ADMIN,
    CONTACT,
    LEAD,
    MANAGER,
    NOMAIL,
    ORG,
    PEER,
    PROJECT,
    REP,
    caller,
    org,
    other_org,
    same_error,
)

pytestmark = pytest.mark.anyio
SENT, CONTACTS, IMAP, ALL = (
    "emails_sent_from_crm",
    "all_contacts_emails",
    "all_imap_shared_users",
    "all_emails",
)
ADA = ShareFromUser(ADMIN, "Ada Admin", "imap")
MAX = ShareFromUser(MANAGER, "Max Manager", "pop")
RITA = ShareFromUser(REP, "Rita Rep", "imap")
PAT = ShareFromUser(PEER, "Pat Peer", "imap")


@pytest.fixture
def store() -> FakeStore:
    return FakeStore([org(), other_org()])


async def test_the_caller_first_then_the_public_sharers(store: FakeStore) -> None:
    """REP on her lead: her own mailbox, then Ada (public); Gus is public but inactive."""
    answer = await sharing_details(store, caller(REP), "Leads", str(LEAD))
    assert answer == rules.SharingDetails([SENT, IMAP, ALL], [RITA, ADA])


async def test_custom_sharers_of_the_record_join_in_name_order(store: FakeStore) -> None:
    """Max shared the project's emails (custom); he sorts after Ada, after the caller Pat."""
    answer = await sharing_details(store, caller(ADMIN), "Projects", str(PROJECT))
    assert answer.share_from_users == [ADA, MAX]
    answer = await sharing_details(store, caller(REP), "projects", str(PROJECT))
    assert answer.share_from_users == [RITA, ADA, MAX]


async def test_the_caller_appears_once_even_when_a_sharer(store: FakeStore) -> None:
    answer = await sharing_details(store, caller(ADMIN), "Leads", str(LEAD))
    assert answer.share_from_users == [ADA]


async def test_a_caller_without_a_mailbox_is_not_listed(store: FakeStore) -> None:
    """NOMAIL may read the contact (public_read_only), and has no mailbox of her own."""
    answer = await sharing_details(store, caller(NOMAIL), "Contacts", str(CONTACT))
    assert answer == rules.SharingDetails([SENT, IMAP, ALL], [ADA])


async def test_accounts_gather_their_contacts_emails(store: FakeStore) -> None:
    answer = await sharing_details(store, caller(REP), "Accounts", str(ACCOUNT))
    assert answer.available_types == [SENT, CONTACTS, IMAP, ALL]


def views_of(publics: Sequence[ShareFromUser], asked: list[int]) -> Views:
    """Org views holding ``publics`` for every org; the orgs asked for are noted in ``asked``."""

    async def view(org_id: int) -> OrgView:
        asked.append(org_id)
        return OrgView(org_id, tuple(publics), frozenset(u.id for u in publics), NOT_RENDERED)

    return view


async def test_public_sharers_come_from_the_org_view(store: FakeStore) -> None:
    asked: list[int] = []
    answer = await sharing_details(store, caller(REP), "Leads", str(LEAD), views_of([PAT], asked))
    assert (answer.share_from_users, asked) == ([RITA, PAT], [ORG])


async def test_the_caller_is_never_listed_twice(store: FakeStore) -> None:
    """Ada is a public sharer of the org's view and the caller: first, and once."""
    answer = await sharing_details(
        store, caller(ADMIN), "Leads", str(LEAD), views_of([ADA, PAT], [])
    )
    assert answer.share_from_users == [ADA, PAT]


async def test_no_sharer_at_all_leaves_out_the_shared_users_type(store: FakeStore) -> None:
    views = views_of([], [])
    answer = await sharing_details(store, caller(NOMAIL), "Contacts", str(CONTACT), views)
    assert answer == rules.SharingDetails([SENT, ALL], [])


async def test_the_org_views_sharers_and_renderings_come_with_the_answer(
    store: FakeStore,
) -> None:
    rendered = Rendered((b"pat",), b"pat", (0, 3))

    async def view(org_id: int) -> OrgView:
        return OrgView(org_id, (PAT,), frozenset({PEER}), rendered)

    found = await answer(store, caller(REP), "Leads", str(LEAD), view)
    assert found.details.share_from_users == [RITA, PAT]
    assert (found.publics, found.rendered) == ((PAT,), rendered)


# --- the checks, in order: module (5), scopes (6), record id (7), permission (8) -----------


async def test_an_unknown_module_comes_before_the_scopes(store: FakeStore) -> None:
    with pytest.raises(InvalidModule) as exc:
        await sharing_details(store, caller(REP, ()), "Nope", "x")
    same_error(exc, InvalidModule({"resource_path_index": 0}))


async def test_an_unsupported_module_is_not_supported(store: FakeStore) -> None:
    with pytest.raises(NotSupported):
        await sharing_details(store, caller(REP), "Tasks", str(LEAD))


@pytest.mark.parametrize(
    "granted",
    [
        (),
        ("ZohoCRM.modules.leads.READ",),  # no emails read
        ("ZohoCRM.modules.emails.READ",),  # no module read
        ("ZohoCRM.modules.contacts.ALL", "ZohoCRM.modules.emails.ALL"),  # another module's
    ],
)
async def test_scopes_come_before_the_record_id(store: FakeStore, granted: tuple[str, ...]) -> None:
    with pytest.raises(OAuthScopeMismatch):
        await sharing_details(store, caller(REP, granted), "Leads", "not-an-id")


@pytest.mark.parametrize(
    "granted",
    [
        ("ZohoCRM.modules.leads.READ", "ZohoCRM.modules.emails.READ"),
        ("zohocrm.MODULES.read", "ZohoCRM.modules.EMAILS.all"),  # any case
    ],
)
async def test_a_module_read_and_an_emails_read_suffice(
    store: FakeStore, granted: tuple[str, ...]
) -> None:
    answer = await sharing_details(store, caller(REP, granted), "Leads", str(LEAD))
    assert answer.share_from_users[0] == RITA


async def test_custom_modules_take_the_custom_scope(store: FakeStore) -> None:
    granted = ("ZohoCRM.modules.custom.READ", "ZohoCRM.modules.emails.READ")
    answer = await sharing_details(store, caller(REP, granted), "Projects", str(PROJECT))
    assert answer.share_from_users[0] == RITA
    with pytest.raises(OAuthScopeMismatch):
        await sharing_details(
            store,
            caller(REP, ("ZohoCRM.modules.leads.READ", "ZohoCRM.modules.emails.READ")),
            "Projects",
            str(PROJECT),
        )


@pytest.mark.parametrize("record", ["abc", "0", "1" * 20, "999999", "2000"])
async def test_a_bad_or_unknown_record_comes_before_the_permission(
    store: FakeStore, record: str
) -> None:
    """NOMAIL may read none of these: the id is checked first (2000 is another org's)."""
    with pytest.raises(InvalidData) as exc:
        await sharing_details(store, caller(NOMAIL), "Leads", record)
    same_error(exc, invalid_record_path())


async def test_a_record_the_caller_may_not_read_is_no_permission(store: FakeStore) -> None:
    with pytest.raises(NoPermission) as exc:
        await sharing_details(store, caller(NOMAIL), "Leads", str(LEAD))
    same_error(exc, no_read_permission())
