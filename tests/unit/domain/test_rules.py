"""The pure sharing rules (docs/contract.md §§5 and 6), every branch, called directly."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest

from emailshare.domain import rules
from emailshare.domain.model import (
    DataSharing,
    EmailSharing,
    Mailbox,
    Org,
    Profile,
    Protocol,
    Record,
    Role,
    Status,
    User,
)
from emailshare.domain.rules import ReadFacts, ReadRule, ShareDecision, ShareFromUser
from emailshare.domain.views import RecordAccess
from emailshare.service.fixtures import parse_fixture

ACME = Path(__file__).parents[2] / "data" / "acme.json"

SENT = "emails_sent_from_crm"
CONTACTS = "all_contacts_emails"
IMAP = "all_imap_shared_users"
ALL = "all_emails"


def facts(
    admin: bool = False,
    owner: bool = False,
    above: bool = False,
    sharing: DataSharing = DataSharing.PRIVATE,
    shared: bool = False,
) -> ReadFacts:
    return ReadFacts(
        caller_is_admin=admin,
        caller_is_owner=owner,
        caller_role_above_owner=above,
        module_sharing=sharing,
        shared_with_caller=shared,
    )


# --- read_rule ---------------------------------------------------------------------------------


def test_nobody_reads_a_private_record_without_a_rule() -> None:
    assert rules.read_rule(facts()) is None


@pytest.mark.parametrize(
    ("given", "rule"),
    [
        (facts(admin=True), ReadRule.ADMINISTRATOR),
        (facts(owner=True), ReadRule.OWNER),
        (facts(above=True), ReadRule.SUPERIOR_ROLE),
        (facts(sharing=DataSharing.PUBLIC_READ_ONLY), ReadRule.PUBLIC_MODULE),
        (facts(sharing=DataSharing.PUBLIC_READ_WRITE), ReadRule.PUBLIC_MODULE),
        (facts(sharing=DataSharing.PUBLIC), ReadRule.PUBLIC_MODULE),
        (facts(shared=True), ReadRule.RECORD_SHARE),
    ],
)
def test_each_rule_alone_lets_the_caller_read(given: ReadFacts, rule: ReadRule) -> None:
    assert rules.read_rule(given) is rule


@pytest.mark.parametrize("flags", list(itertools.product([False, True], repeat=5)))
def test_the_first_holding_rule_is_reported_in_contract_order(
    flags: tuple[bool, bool, bool, bool, bool],
) -> None:
    admin, owner, above, public, shared = flags
    sharing = DataSharing.PUBLIC if public else DataSharing.PRIVATE
    order = [
        ReadRule.ADMINISTRATOR,
        ReadRule.OWNER,
        ReadRule.SUPERIOR_ROLE,
        ReadRule.PUBLIC_MODULE,
        ReadRule.RECORD_SHARE,
    ]
    expected = next((rule for rule, on in zip(order, flags, strict=True) if on), None)
    assert rules.read_rule(facts(admin, owner, above, sharing, shared)) is expected


@pytest.mark.parametrize(
    ("level", "everyone"),
    [
        (DataSharing.PRIVATE, False),
        (DataSharing.PUBLIC_READ_ONLY, True),
        (DataSharing.PUBLIC_READ_WRITE, True),
        (DataSharing.PUBLIC, True),
    ],
)
def test_data_sharing_levels_that_let_everyone_read(level: DataSharing, everyone: bool) -> None:
    assert level.everyone_reads is everyone


# --- share_decision ----------------------------------------------------------------------------

CALLER_ID = 100
RECORD_SHARERS = frozenset({200})


def member(
    uid: int = 200,
    status: Status = Status.ACTIVE,
    protocol: Protocol | None = Protocol.IMAP,
    enabled: bool = True,
    sharing: EmailSharing = EmailSharing.PUBLIC,
) -> User:
    mailbox = None if protocol is None else Mailbox(protocol, "x@example.test", enabled)
    return User(
        uid, f"user {uid}", "x@example.test", status=status, mailbox=mailbox, email_sharing=sharing
    )


@pytest.mark.parametrize(
    ("user", "decision"),
    [
        # Eligibility comes first: status, then mailbox, then whether it is enabled.
        (member(status=Status.INACTIVE), ShareDecision.NOT_ACTIVE),
        (member(status=Status.DELETED), ShareDecision.NOT_ACTIVE),
        (member(CALLER_ID, status=Status.INACTIVE), ShareDecision.NOT_ACTIVE),
        (member(protocol=None), ShareDecision.NO_MAILBOX),
        (member(CALLER_ID, protocol=None), ShareDecision.NO_MAILBOX),
        (member(status=Status.INACTIVE, protocol=None), ShareDecision.NOT_ACTIVE),
        (member(enabled=False), ShareDecision.MAILBOX_DISABLED),
        (member(CALLER_ID, enabled=False), ShareDecision.MAILBOX_DISABLED),
        # The caller, whatever their sharing.
        (member(CALLER_ID, sharing=EmailSharing.PRIVATE), ShareDecision.CALLER),
        (member(CALLER_ID, sharing=EmailSharing.CUSTOM), ShareDecision.CALLER),
        (member(CALLER_ID, sharing=EmailSharing.PUBLIC), ShareDecision.CALLER),
        # Others by their sharing.
        (member(sharing=EmailSharing.PUBLIC), ShareDecision.PUBLIC),
        (member(300, sharing=EmailSharing.PUBLIC), ShareDecision.PUBLIC),
        (member(sharing=EmailSharing.CUSTOM), ShareDecision.CUSTOM_SHARED),
        (member(300, sharing=EmailSharing.CUSTOM), ShareDecision.CUSTOM_NOT_SHARED),
        (member(sharing=EmailSharing.PRIVATE), ShareDecision.PRIVATE),
        (member(300, sharing=EmailSharing.PRIVATE), ShareDecision.PRIVATE),
    ],
)
def test_share_decision(user: User, decision: ShareDecision) -> None:
    assert rules.share_decision(user, CALLER_ID, RECORD_SHARERS) is decision


@pytest.mark.parametrize("protocol", list(Protocol))
def test_every_mailbox_protocol_is_eligible(protocol: Protocol) -> None:
    assert rules.share_decision(member(protocol=protocol), CALLER_ID, RECORD_SHARERS).included


@pytest.mark.parametrize(
    ("decision", "included"),
    [
        (ShareDecision.CALLER, True),
        (ShareDecision.PUBLIC, True),
        (ShareDecision.CUSTOM_SHARED, True),
        (ShareDecision.NOT_ACTIVE, False),
        (ShareDecision.NO_MAILBOX, False),
        (ShareDecision.MAILBOX_DISABLED, False),
        (ShareDecision.PRIVATE, False),
        (ShareDecision.CUSTOM_NOT_SHARED, False),
    ],
)
def test_which_decisions_put_a_user_in_the_list(decision: ShareDecision, included: bool) -> None:
    assert decision.included is included


def test_every_decision_has_a_stated_inclusion() -> None:
    assert {d for d in ShareDecision if d.included} == {
        ShareDecision.CALLER,
        ShareDecision.PUBLIC,
        ShareDecision.CUSTOM_SHARED,
    }


# --- order_key and available_types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Will Grandon", "will grandon"),
        ("ß", "ss"),
        ("SS", "ss"),
        ("ﬁ", "fi"),
        ("É", "é"),
        ("Ω", "ω"),
    ],
)
def test_order_key_is_the_case_fold_then_the_numeric_id(name: str, key: str) -> None:
    assert rules.order_key(name, 7) == (key, 7)


def test_order_key_compares_by_code_point_then_numeric_id() -> None:
    names = [
        ("é", 1),
        ("E", 2),
        ("Zed", 4),
        ("zed", 3),
        ("ß", 9),
        ("SS", 5),
        ("ss", 7),
        ("st", 6),
        ("Twin", 10**18),
        ("Twin", 9 * 10**17),
    ]
    ordered = sorted(names, key=lambda n: rules.order_key(*n))
    assert ordered == [
        ("E", 2),
        ("SS", 5),
        ("ss", 7),
        ("ß", 9),
        ("st", 6),
        ("Twin", 9 * 10**17),
        ("Twin", 10**18),
        ("zed", 3),
        ("Zed", 4),
        ("é", 1),
    ]


@pytest.mark.parametrize(
    ("gathers", "anyone", "types"),
    [
        (False, False, [SENT, ALL]),
        (True, False, [SENT, CONTACTS, ALL]),
        (False, True, [SENT, IMAP, ALL]),
        (True, True, [SENT, CONTACTS, IMAP, ALL]),
    ],
)
def test_available_types_in_order_each_when_its_rule_holds(
    gathers: bool, anyone: bool, types: list[str]
) -> None:
    assert rules.available_types(gathers, anyone) == types


# --- assemble -------------------------------------------------------------------------------------


def sfu(uid: int, name: str, protocol: str = "imap") -> ShareFromUser:
    return ShareFromUser(uid, name, protocol)


def test_assemble_puts_the_caller_first_then_sorts_the_others() -> None:
    me = sfu(9, "Zzz", "pop")
    others = [sfu(3, "b"), sfu(2, "B"), sfu(1, "a"), sfu(4, "ä")]
    result = rules.assemble(me, others, gathers_contacts=False)
    assert list(result.share_from_users) == [me, sfu(1, "a"), sfu(2, "B"), sfu(3, "b"), sfu(4, "ä")]
    assert list(result.available_types) == [SENT, IMAP, ALL]


def test_assemble_without_caller_mailbox() -> None:
    result = rules.assemble(None, [sfu(2, "b"), sfu(1, "a")], gathers_contacts=True)
    assert list(result.share_from_users) == [sfu(1, "a"), sfu(2, "b")]
    assert list(result.available_types) == [SENT, CONTACTS, IMAP, ALL]


@pytest.mark.parametrize(
    ("gathers", "types"), [(True, [SENT, CONTACTS, ALL]), (False, [SENT, ALL])]
)
def test_assemble_nobody_drops_all_imap_shared_users(gathers: bool, types: list[str]) -> None:
    result = rules.assemble(None, [], gathers_contacts=gathers)
    assert list(result.share_from_users) == []
    assert list(result.available_types) == types


def test_assemble_caller_alone() -> None:
    me = sfu(1, "me")
    result = rules.assemble(me, [], gathers_contacts=False)
    assert list(result.share_from_users) == [me]
    assert list(result.available_types) == [SENT, IMAP, ALL]


def test_assemble_caps_at_50_with_the_caller() -> None:
    me = sfu(1000, "zzz")
    others = [sfu(i, f"u{i:03d}") for i in range(80, 0, -1)]
    result = rules.assemble(me, others, gathers_contacts=False)
    assert rules.MAX_SHARE_FROM_USERS == 50
    assert list(result.share_from_users) == [me] + [sfu(i, f"u{i:03d}") for i in range(1, 50)]


def test_assemble_caps_at_50_without_the_caller() -> None:
    others = [sfu(i, f"u{i:03d}") for i in range(80, 0, -1)]
    result = rules.assemble(None, others, gathers_contacts=False)
    assert list(result.share_from_users) == [sfu(i, f"u{i:03d}") for i in range(1, 51)]


def test_assemble_keeps_exactly_50() -> None:
    others = [sfu(i, f"u{i:03d}") for i in range(1, 50)]
    result = rules.assemble(sfu(1000, "me"), others, gathers_contacts=False)
    assert len(result.share_from_users) == 50


# --- the in-memory reference: read_facts, share_decisions, sharing_details ----------------------

CEO_ROLE, MGR_ROLE, REP_ROLE, OTHER_ROLE = 1, 2, 3, 4
ROLES = (
    Role(CEO_ROLE, "CEO"),
    Role(MGR_ROLE, "Manager", CEO_ROLE),
    Role(REP_ROLE, "Rep", MGR_ROLE),
    Role(OTHER_ROLE, "Other", CEO_ROLE),
)


def org_user(uid: int, role: int | None, profile: Profile = Profile.STANDARD) -> User:
    return User(
        uid,
        f"u{uid}",
        "x@example.test",
        profile=profile,
        role=role,
        mailbox=Mailbox(Protocol.IMAP, "x@example.test"),
    )


def small_org(data_sharing: dict[str, DataSharing] | None = None) -> Org:
    users = (
        org_user(10, CEO_ROLE),
        org_user(20, MGR_ROLE),
        org_user(30, REP_ROLE),
        org_user(31, REP_ROLE),
        org_user(40, OTHER_ROLE),
        org_user(50, None),
        org_user(60, None, Profile.ADMINISTRATOR),
    )
    records = (
        Record("Leads", 900, "by rep", owner=30, shared_with=frozenset({50})),
        Record("Leads", 901, "by roleless", owner=50),
        Record("Leads", 902, "ownerless", owner=999),
    )
    return Org(1, "Small", data_sharing or {}, (), ROLES, users, records)


def test_role_ancestors_nearest_first() -> None:
    org = small_org()
    assert org.role_ancestors(REP_ROLE) == [MGR_ROLE, CEO_ROLE]
    assert org.role_ancestors(CEO_ROLE) == []
    assert org.role_ancestors(None) == []
    assert org.role_ancestors(12345) == []


@pytest.mark.parametrize(
    ("caller", "record", "expected"),
    [
        (30, 900, facts(owner=True)),
        (20, 900, facts(above=True)),
        (10, 900, facts(above=True)),
        (31, 900, facts()),
        (40, 900, facts()),
        (50, 900, facts(shared=True)),
        (60, 900, facts(admin=True)),
        (10, 901, facts()),
        (50, 901, facts(owner=True)),
        (10, 902, facts()),
    ],
)
def test_read_facts_from_an_org(caller: int, record: int, expected: ReadFacts) -> None:
    org = small_org()
    user = org.user(caller)
    rec = org.record(record)
    assert user is not None
    assert rec is not None
    assert rules.read_facts(org, user, rec) == expected


def test_read_facts_carry_the_modules_data_sharing() -> None:
    org = small_org({"Leads": DataSharing.PUBLIC_READ_ONLY})
    user, rec = org.user(31), org.record(900)
    assert user is not None
    assert rec is not None
    assert rules.read_facts(org, user, rec).module_sharing is DataSharing.PUBLIC_READ_ONLY
    assert small_org().sharing_of("Leads") is DataSharing.PRIVATE


def acme_org() -> Org:
    return parse_fixture(json.loads(ACME.read_text()))[0]


def test_reference_sharing_details_reproduce_the_seed_answer() -> None:
    org = acme_org()
    will, zylker = org.user(412463000001213019), org.record(3652397000001790004)
    assert will is not None
    assert zylker is not None
    result = rules.sharing_details(org, will, zylker, gathers_contacts=True)
    assert list(result.available_types) == [SENT, CONTACTS, IMAP, ALL]
    assert list(result.share_from_users) == [
        sfu(412463000001213019, "Will Grandon", "pop"),
        sfu(412463000000867017, "boyle", "imap"),
    ]


def test_reference_share_decisions_cover_every_acme_user() -> None:
    org = acme_org()
    will, lead = org.user(412463000001213019), org.record(3652397000001790010)
    assert will is not None
    assert lead is not None
    assert rules.share_decisions(org, will, lead) == {
        412463000001213019: ShareDecision.CALLER,
        412463000000867017: ShareDecision.PUBLIC,
        412463000000500001: ShareDecision.PRIVATE,
        412463000000500002: ShareDecision.CUSTOM_SHARED,
        412463000000500003: ShareDecision.NO_MAILBOX,
        412463000000500004: ShareDecision.NOT_ACTIVE,
        412463000000500005: ShareDecision.MAILBOX_DISABLED,
        412463000000500006: ShareDecision.PRIVATE,
        412463000000500007: ShareDecision.NOT_ACTIVE,
    }


def test_reference_caller_without_mailbox_is_not_listed() -> None:
    org = acme_org()
    nora, contact = org.user(412463000000500003), org.record(3652397000001790020)
    assert nora is not None
    assert contact is not None
    result = rules.sharing_details(org, nora, contact, gathers_contacts=False)
    assert [u.id for u in result.share_from_users] == [412463000000867017, 412463000001213019]


def test_reference_custom_sharer_as_caller_is_listed_once_first() -> None:
    org = acme_org()
    carla, project = org.user(412463000000500002), org.record(3652397000001790040)
    assert carla is not None
    assert project is not None
    result = rules.sharing_details(org, carla, project, gathers_contacts=False)
    assert [(u.name, u.protocol) for u in result.share_from_users] == [
        ("Carla Custom", "api"),
        ("boyle", "imap"),
        ("Will Grandon", "pop"),
    ]


def test_reference_empty_answer() -> None:
    org = acme_org()
    nora, zylker = org.user(412463000000500003), org.record(3652397000001790004)
    assert nora is not None
    assert zylker is not None
    lonely = replace(org, users=(nora,))
    result = rules.sharing_details(lonely, nora, zylker, gathers_contacts=True)
    assert list(result.share_from_users) == []
    assert list(result.available_types) == [SENT, CONTACTS, ALL]


def test_access_read_rule_is_read_rule_of_the_same_facts() -> None:
    # access_read_rule gives the facts to the rule one by one (no ReadFacts made): every
    # combination decides as read_rule does.
    for admin, owner, above, sharing, shared in itertools.product(
        (False, True), (False, True), (False, True), list(DataSharing), (False, True)
    ):
        access = RecordAccess(7 if owner else 8, shared, above, sharing)
        facts = ReadFacts(admin, owner, above, sharing, shared)
        assert rules.access_read_rule(access, 7, admin) == rules.read_rule(facts)


def test_merged_is_the_stable_sort_of_its_ordered_lists() -> None:
    # A few inserted one by one (bisect) or many sorted: the same list, objects and order,
    # those of the first list before equal keys of the second (duplicates kept, as sorted).
    import random

    rnd = random.Random(7)
    for _ in range(300):
        pool = [ShareFromUser(rnd.randrange(20), rnd.choice("aAbBc"), "imap") for _ in range(60)]
        first = rules.ordered(pool[: rnd.randrange(0, 52)])
        second = rules.ordered(
            pool[52 : 52 + rnd.randrange(0, 9)]
            + rnd.sample(first, min(len(first), rnd.randrange(0, 3)))
        )
        for a, b in ((first, second), (tuple(first), second), (second, first)):
            got = rules.merged(a, b)
            want = sorted([*a, *b], key=lambda u: u.key)
            assert [id(u) for u in got] == [id(u) for u in want]
