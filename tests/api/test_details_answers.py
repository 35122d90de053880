"""The answers of ``GET …/__emails_sharing_details`` (docs/contract.md §§1, 5 and 6), over HTTP.

Who may read which record, and who is in ``share_from_users`` in which order, worked out by
hand from the contract's rules and the fixture's data; never copied from the server. The shared
``server`` holds ``tests/data/acme.json``; the cases it cannot show (an empty list, the cap of
50, case-fold ordering, the finer sharing and role rules) run on a server of this module's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import httpx
import pytest

from tests.conftest import Served, open_client, serve

CONTENT_TYPE = "application/json;charset=UTF-8"

SENT = "emails_sent_from_crm"
CONTACTS = "all_contacts_emails"
IMAP = "all_imap_shared_users"
ALL = "all_emails"

# docs/contract.md §1, verbatim.
SEED_ANSWER = (
    b'{"__emails_sharing_details":[{"available_types":["emails_sent_from_crm",'
    b'"all_contacts_emails","all_imap_shared_users","all_emails"],"share_from_users":['
    b'{"id":"412463000001213019","name":"Will Grandon","_type":"pop"},'
    b'{"id":"412463000000867017","name":"boyle","_type":"imap"}]}]}'
)

NO_PERMISSION = (
    b'{"code":"NO_PERMISSION","details":{"permissions":["Crm_Implied_View_Emails"]},'
    b'"message":"permission denied","status":"error"}'
)


class Entry(NamedTuple):
    """One ``share_from_users`` entry: id, name, ``_type``."""

    id: str
    name: str
    type: str


def answer(types: Sequence[str], users: Sequence[Entry]) -> bytes:
    """The success body of section 1: compact JSON, keys in the contract's order."""
    body = {
        "__emails_sharing_details": [
            {
                "available_types": list(types),
                "share_from_users": [{"id": u.id, "name": u.name, "_type": u.type} for u in users],
            }
        ]
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def details_path(module: str, record: str, version: str = "v8") -> str:
    return f"/crm/{version}/{module}/{record}/__emails_sharing_details"


def get(client: httpx.Client, token: str, module: str, record: str) -> httpx.Response:
    return client.get(
        details_path(module, record), headers={"Authorization": f"Zoho-oauthtoken {token}"}
    )


def assert_ok(response: httpx.Response, expected: bytes) -> None:
    assert (response.status_code, response.content) == (200, expected)
    assert response.headers["content-type"] == CONTENT_TYPE


def assert_no_permission(response: httpx.Response) -> None:
    assert (response.status_code, response.content) == (403, NO_PERMISSION)
    assert response.headers["content-type"] == CONTENT_TYPE


# --- tests/data/acme.json ------------------------------------------------------------------------

WILL_T = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
BOYLE_T = "1000.0000000000000000000000000000a002.00000000000000000000000000000002"
ADA_T = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
CARLA_T = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
NORA_T = "1000.0000000000000000000000000000a005.00000000000000000000000000000005"
PAT_T = "1000.0000000000000000000000000000a007.00000000000000000000000000000007"
WILL_LEADS_T = "1000.0000000000000000000000000000a009.00000000000000000000000000000009"
GINA_T = "1000.0000000000000000000000000000b001.00000000000000000000000000000b01"

# Acme's users who can ever appear: active, with an enabled mailbox.
WILL = Entry("412463000001213019", "Will Grandon", "pop")  # public, Sales Rep
BOYLE = Entry("412463000000867017", "boyle", "imap")  # public, Sales Rep
ADA = Entry("412463000000500001", "Ada Admin", "imap")  # private, administrator, CEO
CARLA = Entry("412463000000500002", "Carla Custom", "api")  # custom, Sales Manager
PAT = Entry("412463000000500006", "Pat Private", "imap")  # private, Sales Rep
GINA = Entry("512463000000000101", "Gina Globex", "imap")  # Globex's administrator

ZYLKER = "3652397000001790004"  # Accounts, owner Will
LEAD_BY_CARLA = "3652397000001790010"  # Leads, owner Carla, shared with Will, Carla shares
LEAD_BY_PAT = "3652397000001790011"  # Leads, owner Pat
PUBLIC_CONTACT = "3652397000001790020"  # Contacts (public_read_only), owner Pat
DEAL_BY_WILL = "3652397000001790030"  # Deals, owner Will
PROJECT_X = "3652397000001790040"  # Projects (custom), owner Carla, Carla shares
QUOTE = "3652397000001790050"  # Quotes (private by default), owner boyle
GLOBEX_LEAD = "5124630000001790001"  # Globex, Leads (public), owner Gina

WITH_CONTACTS = (SENT, CONTACTS, IMAP, ALL)
WITHOUT_CONTACTS = (SENT, IMAP, ALL)


@pytest.fixture(scope="module")
def client(server: Served) -> Iterator[httpx.Client]:
    with open_client(server, timeout=10.0) as c:
        yield c


def test_seed_request_gives_the_contracts_sample_byte_for_byte(client: httpx.Client) -> None:
    """Will owns Zylker; he (pop) first, then boyle (imap, public); Accounts adds contacts."""
    assert_ok(get(client, WILL_T, "Accounts", ZYLKER), SEED_ANSWER)


def test_seed_answer_is_built_the_way_the_answer_helper_builds_bodies() -> None:
    assert answer(WITH_CONTACTS, [WILL, BOYLE]) == SEED_ANSWER


@pytest.mark.parametrize(
    ("token", "module", "record", "types", "users"),
    [
        # Administrator: Ada may read Pat's private lead; she is first although private.
        pytest.param(
            ADA_T, "Leads", LEAD_BY_PAT, WITHOUT_CONTACTS, [ADA, BOYLE, WILL], id="administrator"
        ),
        pytest.param(
            ADA_T,
            "Accounts",
            ZYLKER,
            WITH_CONTACTS,
            [ADA, BOYLE, WILL],
            id="administrator-accounts",
        ),
        # Owner.
        pytest.param(WILL_T, "Deals", DEAL_BY_WILL, WITH_CONTACTS, [WILL, BOYLE], id="owner-deals"),
        pytest.param(
            PAT_T,
            "Leads",
            LEAD_BY_PAT,
            WITHOUT_CONTACTS,
            [PAT, BOYLE, WILL],
            id="owner-private-caller-first",
        ),
        pytest.param(BOYLE_T, "Quotes", QUOTE, WITHOUT_CONTACTS, [BOYLE, WILL], id="owner-quotes"),
        # Superior role: Carla (Sales Manager) above the Sales Reps Pat, Will and boyle.
        pytest.param(
            CARLA_T,
            "Leads",
            LEAD_BY_PAT,
            WITHOUT_CONTACTS,
            [CARLA, BOYLE, WILL],
            id="superior-role-leads",
        ),
        pytest.param(
            CARLA_T,
            "Accounts",
            ZYLKER,
            WITH_CONTACTS,
            [CARLA, BOYLE, WILL],
            id="superior-role-accounts",
        ),
        pytest.param(
            CARLA_T,
            "Quotes",
            QUOTE,
            WITHOUT_CONTACTS,
            [CARLA, BOYLE, WILL],
            id="superior-role-quotes",
        ),
        # Public module default: Contacts is public_read_only in Acme.
        pytest.param(
            BOYLE_T, "Contacts", PUBLIC_CONTACT, WITHOUT_CONTACTS, [BOYLE, WILL], id="public-module"
        ),
        pytest.param(
            WILL_T,
            "Contacts",
            PUBLIC_CONTACT,
            WITHOUT_CONTACTS,
            [WILL, BOYLE],
            id="public-module-will",
        ),
        # The caller without a mailbox is not in the list; the public sharers are.
        pytest.param(
            NORA_T,
            "Contacts",
            PUBLIC_CONTACT,
            WITHOUT_CONTACTS,
            [BOYLE, WILL],
            id="public-module-caller-without-mailbox",
        ),
        # Record share: Carla's lead is shared with Will; Carla shares her emails of it (custom).
        pytest.param(
            WILL_T,
            "Leads",
            LEAD_BY_CARLA,
            WITHOUT_CONTACTS,
            [WILL, BOYLE, CARLA],
            id="record-share-with-custom-sharer",
        ),
        pytest.param(
            WILL_LEADS_T,
            "leads",
            LEAD_BY_CARLA,
            WITHOUT_CONTACTS,
            [WILL, BOYLE, CARLA],
            id="record-share-narrow-scopes",
        ),
        # Custom module, and a custom sharer ordered among the public ones by case fold.
        pytest.param(
            ADA_T,
            "Projects",
            PROJECT_X,
            WITHOUT_CONTACTS,
            [ADA, BOYLE, CARLA, WILL],
            id="administrator-custom-module",
        ),
        pytest.param(
            ADA_T,
            "Leads",
            LEAD_BY_CARLA,
            WITHOUT_CONTACTS,
            [ADA, BOYLE, CARLA, WILL],
            id="administrator-custom-sharer",
        ),
        pytest.param(
            CARLA_T,
            "Projects",
            PROJECT_X,
            WITHOUT_CONTACTS,
            [CARLA, BOYLE, WILL],
            id="custom-sharer-as-caller-only-once",
        ),
        # Another org: only its own users.
        pytest.param(GINA_T, "Leads", GLOBEX_LEAD, WITHOUT_CONTACTS, [GINA], id="other-org"),
    ],
)
def test_acme_answers(
    client: httpx.Client,
    token: str,
    module: str,
    record: str,
    types: Sequence[str],
    users: Sequence[Entry],
) -> None:
    assert_ok(get(client, token, module, record), answer(types, users))


@pytest.mark.parametrize(
    ("token", "module", "record"),
    [
        pytest.param(PAT_T, "Accounts", ZYLKER, id="same-role-as-owner"),
        pytest.param(BOYLE_T, "Leads", LEAD_BY_PAT, id="same-role-leads"),
        pytest.param(BOYLE_T, "Deals", DEAL_BY_WILL, id="same-role-deals"),
        pytest.param(WILL_T, "Leads", LEAD_BY_PAT, id="peer-private-lead"),
        pytest.param(WILL_T, "Quotes", QUOTE, id="unnamed-module-defaults-to-private"),
        pytest.param(BOYLE_T, "Leads", LEAD_BY_CARLA, id="owner-above-caller"),
        pytest.param(WILL_T, "Projects", PROJECT_X, id="owner-above-caller-custom-module"),
        pytest.param(PAT_T, "Leads", LEAD_BY_CARLA, id="shared-with-another-user"),
        pytest.param(NORA_T, "Accounts", ZYLKER, id="caller-without-mailbox"),
    ],
)
def test_acme_callers_without_a_read_rule_get_no_permission(
    client: httpx.Client, token: str, module: str, record: str
) -> None:
    assert_no_permission(get(client, token, module, record))


def test_never_listed_inactive_deleted_disabled_no_mailbox_or_private_users(
    client: httpx.Client,
) -> None:
    """Ian, Dan and Dee are public but not eligible; Nora has no mailbox; Pat and Ada private."""
    ids = {
        u["id"]
        for u in get(client, WILL_T, "Leads", LEAD_BY_CARLA).json()["__emails_sharing_details"][0][
            "share_from_users"
        ]
    }
    for excluded in (
        "412463000000500004",
        "412463000000500007",
        "412463000000500005",
        "412463000000500003",
        PAT.id,
        ADA.id,
    ):
        assert excluded not in ids


# --- a server of our own: the cases acme.json cannot show ------------------------------------


def token_of(n: int) -> str:
    return f"1000.{n:032x}.{0xE000 + n:032x}"


def person(
    uid: str, name: str, protocol: str | None = "imap", sharing: str = "public", **extra: Any
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": uid, "name": name, "email_sharing": sharing, **extra}
    if protocol is not None:
        user["mailbox"] = {"protocol": protocol, "address": f"{uid}@example.test"}
    return user


# Case-fold ordering (section 6): after the caller, by str.casefold() compared by code point,
# then by numeric id. Users are listed in a shuffled order on purpose.
FOLD_ORG = "710000000000000001"
FOLD_CALLER = Entry("710000000000000099", "Zzz Caller", "pop")
FOLD_RECORD = "7100000000000000501"
FOLD_USERS: list[tuple[str, str]] = [
    ("710000000000000003", "Ω"),  # ω U+03C9
    ("710000000000000009", "SS"),  # ss
    ("710000000000000004", "é"),  # é U+00E9: after every ASCII letter
    ("710000000000000008", "Zed"),  # zed
    ("1000000000000000001", "Twin"),  # twin, the larger number but the smaller string
    ("710000000000000002", "st"),  # st
    ("710000000000000011", "ﬁ"),  # fi (the ligature folds to two letters)
    ("710000000000000001", "ss"),  # ss
    ("710000000000000013", "apple"),  # apple
    ("710000000000000007", "zed"),  # zed
    ("900000000000000001", "Twin"),  # twin
    ("710000000000000012", "E"),  # e
    ("710000000000000005", "ß"),  # ss
    ("710000000000000010", "fj"),  # fj
]
FOLD_EXPECTED_IDS = [
    FOLD_CALLER.id,
    "710000000000000013",  # apple
    "710000000000000012",  # e
    "710000000000000011",  # fi
    "710000000000000010",  # fj
    "710000000000000001",  # ss (ss)
    "710000000000000005",  # ss (ß)
    "710000000000000009",  # ss (SS)
    "710000000000000002",  # st
    "900000000000000001",  # twin
    "1000000000000000001",  # twin
    "710000000000000007",  # zed (zed)
    "710000000000000008",  # zed (Zed)
    "710000000000000004",  # é
    "710000000000000003",  # ω
]


def fold_org() -> dict[str, Any]:
    users = [person(FOLD_CALLER.id, FOLD_CALLER.name, "pop", "private")]
    users += [person(uid, name) for uid, name in FOLD_USERS]
    return {
        "id": FOLD_ORG,
        "name": "Fold",
        "users": users,
        "records": [{"module": "Leads", "id": FOLD_RECORD, "owner": FOLD_CALLER.id}],
        "tokens": [
            {"access_token": token_of(1), "user": FOLD_CALLER.id, "scopes": ["ZohoCRM.modules.ALL"]}
        ],
    }


# The cap of 50 (section 6): 55 public sharers p00..p54, 3 custom sharers of the record c0..c2
# and one (zz) that sorts last, 2 custom users who did not share (b0, b1), a private user (a0).
CAP_ORG = "720000000000000001"
CAP_CALLER = Entry("720000000000000999", "Cap Caller", "pop")
CAP_NO_MAILBOX = "720000000000000998"
CAP_RECORD = "7200000000000000501"
CAP_PUBLIC = [Entry(f"72000000000000{i:04d}", f"p{i:02d}", "imap") for i in range(55)]
CAP_CUSTOM = [Entry(f"72000000000001{i:04d}", f"c{i}", "api") for i in range(3)]
CAP_CUSTOM_LAST = Entry("720000000000020000", "zz", "api")


def cap_org() -> dict[str, Any]:
    users = [
        person(CAP_CALLER.id, CAP_CALLER.name, "pop", "public"),
        person(CAP_NO_MAILBOX, "Nomail Admin", None, "public", profile="administrator"),
    ]
    users += [person(u.id, u.name, "imap") for u in reversed(CAP_PUBLIC)]
    users += [person(u.id, u.name, "api", "custom") for u in [*CAP_CUSTOM, CAP_CUSTOM_LAST]]
    users += [
        person("720000000000030000", "b0", "imap", "custom"),
        person("720000000000030001", "b1", "imap", "custom"),
        person("720000000000030002", "a0", "imap", "private"),
    ]
    shared_by = [u.id for u in [*CAP_CUSTOM, CAP_CUSTOM_LAST]] + ["720000000000030002"]
    return {
        "id": CAP_ORG,
        "name": "Cap",
        "users": users,
        "records": [
            {
                "module": "Leads",
                "id": CAP_RECORD,
                "owner": CAP_CALLER.id,
                "emails_shared_by": shared_by,
            }
        ],
        "tokens": [
            {"access_token": token_of(2), "user": CAP_CALLER.id, "scopes": ["ZohoCRM.modules.ALL"]},
            {
                "access_token": token_of(3),
                "user": CAP_NO_MAILBOX,
                "scopes": ["ZohoCRM.modules.ALL"],
            },
        ],
    }


# The cap's boundary: which user takes the 50th place is decided by the case fold and then by
# the numeric id, exactly as the order is (a store that picks the 50 by another order fails).
EDGE_FOLD_ORG = "770000000000000001"
EDGE_TIE_ORG = "780000000000000001"
EDGE_FOLD_RECORD = "7700000000000000501"
EDGE_TIE_RECORD = "7800000000000000501"


def edge_org(
    org_id: str,
    prefix: str,
    record: str,
    token: int,
    contenders: list[dict[str, Any]],
    shared_by: list[str],
) -> dict[str, Any]:
    """An administrator without a mailbox, 49 public users m00..m48, then the contenders."""
    admin = f"{prefix}0999"
    users = [person(admin, "Admin Nobox", None, "public", profile="administrator")]
    users += [person(f"{prefix}{i:04d}", f"m{i:02d}") for i in range(49)]
    return {
        "id": org_id,
        "name": f"Edge {prefix}",
        "users": [*users, *contenders],
        "records": [
            {"module": "Leads", "id": record, "owner": admin, "emails_shared_by": shared_by}
        ],
        "tokens": [
            {"access_token": token_of(token), "user": admin, "scopes": ["ZohoCRM.modules.ALL"]}
        ],
    }


def edge_first_49(prefix: str) -> list[Entry]:
    return [Entry(f"{prefix}{i:04d}", f"m{i:02d}", "imap") for i in range(49)]


# "st" is listed (and numbered) first, but "ß" folds to "ss", which comes before "st".
EDGE_SHARP_S = Entry("770000000000002000", "ß", "imap")
EDGE_ST = Entry("770000000000001000", "st", "imap")
# Two users named "zed": the public one has the larger number but the smaller string; the
# custom sharer has the smaller number, so it takes the 50th place.
EDGE_ZED_PUBLIC = Entry("1000000000000000001", "zed", "imap")
EDGE_ZED_CUSTOM = Entry("900000000000000001", "zed", "api")


def edge_fold_org() -> dict[str, Any]:
    contenders = [person(EDGE_ST.id, EDGE_ST.name), person(EDGE_SHARP_S.id, EDGE_SHARP_S.name)]
    return edge_org(EDGE_FOLD_ORG, "77000000000000", EDGE_FOLD_RECORD, 7, contenders, [])


def edge_tie_org() -> dict[str, Any]:
    contenders = [
        person(EDGE_ZED_PUBLIC.id, "zed"),
        person(EDGE_ZED_CUSTOM.id, "zed", "api", "custom"),
    ]
    return edge_org(
        EDGE_TIE_ORG, "78000000000000", EDGE_TIE_RECORD, 8, contenders, [EDGE_ZED_CUSTOM.id]
    )


# Nobody to list: the caller has no mailbox (or a disabled one), and every other user is out for
# one reason, several of them although they "share" the records.
EMPTY_ORG = "730000000000000001"
EMPTY_CALLER = "730000000000000100"
DISABLED_CALLER = "730000000000000101"
EMPTY_RECORDS = {
    "Accounts": "7300000000000000501",
    "Leads": "7300000000000000502",
    "Deals": "7300000000000000503",
    "Projects": "7300000000000000504",
}


def empty_org() -> dict[str, Any]:
    disabled_box = {"protocol": "imap", "address": "x@example.test", "enabled": False}
    ineligible = [
        person("730000000000000200", "Private Sharer", "imap", "private"),
        person("730000000000000201", "Custom Unshared", "imap", "custom"),
        person("730000000000000202", "Custom Inactive", "imap", "custom", status="inactive"),
        person("730000000000000203", "Custom Deleted", "imap", "custom", status="deleted"),
        person("730000000000000204", "Custom No Mailbox", None, "custom"),
        person("730000000000000205", "Custom Disabled", None, "custom", mailbox=disabled_box),
        person("730000000000000206", "Public Inactive", "pop", "public", status="inactive"),
        person("730000000000000207", "Public Deleted", "pop", "public", status="deleted"),
        person("730000000000000208", "Public No Mailbox", None, "public"),
        person("730000000000000209", "Public Disabled", None, "public", mailbox=disabled_box),
    ]
    shared_by = [u["id"] for u in ineligible if u["id"] != "730000000000000201"]
    users = [
        person(EMPTY_CALLER, "Empty Caller", None, "public", profile="administrator"),
        person(
            DISABLED_CALLER,
            "Disabled Caller",
            None,
            "public",
            profile="administrator",
            mailbox=disabled_box,
        ),
        *ineligible,
    ]
    records = [
        {"module": m, "id": rid, "owner": EMPTY_CALLER, "emails_shared_by": shared_by}
        for m, rid in EMPTY_RECORDS.items()
    ]
    return {
        "id": EMPTY_ORG,
        "name": "Empty",
        "custom_modules": ["Projects"],
        "users": users,
        "records": records,
        "tokens": [
            {"access_token": token_of(4), "user": EMPTY_CALLER, "scopes": ["ZohoCRM.modules.ALL"]},
            {
                "access_token": token_of(5),
                "user": DISABLED_CALLER,
                "scopes": ["ZohoCRM.modules.ALL"],
            },
        ],
    }


# Custom sharing in detail: the caller shares too; a public user who is also in
# emails_shared_by appears once; a custom sharer of another record does not appear.
SHARE_ORG = "750000000000000001"
KIM = Entry("750000000000000100", "Kim Caller", "imap")  # custom, shares the record herself
PUB = Entry("750000000000000101", "Pub Shared", "pop")  # public and in emails_shared_by
CUS = Entry("750000000000000102", "cus shared", "api")  # custom, shares this record
OTHER = Entry("750000000000000103", "Cus Other", "imap")  # custom, shares the other record
SHARE_RECORD = "7500000000000000501"
OTHER_RECORD = "7500000000000000502"


def share_org() -> dict[str, Any]:
    users = [
        person(KIM.id, KIM.name, "imap", "custom"),
        person(PUB.id, PUB.name, "pop", "public"),
        person(CUS.id, CUS.name, "api", "custom"),
        person(OTHER.id, OTHER.name, "imap", "custom"),
        person("750000000000000104", "Priv Shared", "imap", "private"),
    ]
    return {
        "id": SHARE_ORG,
        "name": "Share",
        "users": users,
        "records": [
            {
                "module": "Leads",
                "id": SHARE_RECORD,
                "owner": KIM.id,
                "emails_shared_by": [KIM.id, PUB.id, CUS.id, "750000000000000104"],
            },
            {
                "module": "Leads",
                "id": OTHER_RECORD,
                "owner": KIM.id,
                "emails_shared_by": [OTHER.id],
            },
        ],
        "tokens": [
            {"access_token": token_of(6), "user": KIM.id, "scopes": ["ZohoCRM.modules.ALL"]}
        ],
    }


# Read rules in detail (section 5). Everyone's email sharing is private, so an answer lists
# only the caller. Roles: CEO <- VP <- Manager <- Rep, and Other Manager <- VP (a sibling).
RULES_ORG = "740000000000000001"
R_CEO, R_VP, R_MGR, R_REP, R_OTHER = (f"74000000000000100{i}" for i in range(1, 6))
CEO = Entry("740000000000000201", "Cora CEO", "imap")
VP = Entry("740000000000000202", "Vic VP", "api")
MGR = Entry("740000000000000203", "Max Manager", "pop")
REP = Entry("740000000000000204", "Rae Rep", "imap")
REP2 = Entry("740000000000000205", "Rob Rep", "imap")
OTHER_MGR = Entry("740000000000000206", "Oz Other", "pop")
NOROLE = Entry("740000000000000207", "Nell Norole", "imap")
NOROLE_OWNER = Entry("740000000000000208", "Nat Norole", "imap")
ROLELESS_ADMIN = Entry("740000000000000209", "Abe Admin", "api")
RULES_ROLES = {CEO: R_CEO, VP: R_VP, MGR: R_MGR, REP: R_REP, REP2: R_REP, OTHER_MGR: R_OTHER}
RULES_RECORDS = {
    "rep_lead": ("Leads", "7400000000000000501", REP, []),
    "norole_lead": ("Leads", "7400000000000000502", NOROLE_OWNER, []),
    "shared_lead": ("Leads", "7400000000000000503", REP, [REP2.id]),
    "mgr_lead": ("Leads", "7400000000000000504", MGR, []),
    "rw_contact": ("Contacts", "7400000000000000505", REP, []),
    "public_deal": ("Deals", "7400000000000000506", REP, []),
    "ro_invoice": ("Invoices", "7400000000000000507", REP, []),
    "default_quote": ("Quotes", "7400000000000000508", REP, []),
    "private_order": ("Sales_Orders", "7400000000000000509", REP, []),
}
RULES_CALLERS = [CEO, VP, MGR, REP, REP2, OTHER_MGR, NOROLE, NOROLE_OWNER, ROLELESS_ADMIN]


def rules_token(caller: Entry) -> str:
    return token_of(100 + RULES_CALLERS.index(caller))


def rules_org() -> dict[str, Any]:
    roles = [
        {"id": R_CEO, "name": "CEO", "reports_to": None},
        {"id": R_VP, "name": "VP", "reports_to": R_CEO},
        {"id": R_MGR, "name": "Manager", "reports_to": R_VP},
        {"id": R_REP, "name": "Rep", "reports_to": R_MGR},
        {"id": R_OTHER, "name": "Other Manager", "reports_to": R_VP},
    ]
    users = []
    for u in RULES_CALLERS:
        extra: dict[str, Any] = {}
        if u in RULES_ROLES:
            extra["role"] = RULES_ROLES[u]
        if u is ROLELESS_ADMIN:
            extra["profile"] = "administrator"
        users.append(person(u.id, u.name, u.type, "private", **extra))
    records = [
        {"module": m, "id": rid, "owner": owner.id, "shared_with": shared}
        for m, rid, owner, shared in RULES_RECORDS.values()
    ]
    return {
        "id": RULES_ORG,
        "name": "Rules",
        "roles": roles,
        "users": users,
        "records": records,
        "data_sharing": {
            "Leads": "private",
            "Contacts": "public_read_write",
            "Deals": "public",
            "Invoices": "public_read_only",
            "Sales_Orders": "private",
        },
        "tokens": [
            {"access_token": rules_token(u), "user": u.id, "scopes": ["ZohoCRM.modules.ALL"]}
            for u in RULES_CALLERS
        ],
    }


@pytest.fixture(scope="module")
def own(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("answers")
    fixture = tmp / "answers.json"
    doc = {
        "orgs": [
            fold_org(),
            cap_org(),
            empty_org(),
            share_org(),
            rules_org(),
            edge_fold_org(),
            edge_tie_org(),
        ]
    }
    fixture.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    srv = serve(request, tmp, fixture=fixture, db_url=f"sqlite:///{tmp}/x.db")
    try:
        with open_client(srv, timeout=10.0) as c:
            yield c
    finally:
        srv.stop()


def ordered_pairs(body: bytes) -> Any:
    """The body decoded with every object as its list of (key, value) pairs, order kept."""
    return json.loads(body, object_pairs_hook=list)


def test_case_fold_order_then_numeric_id_after_the_caller(own: httpx.Client) -> None:
    names = dict(FOLD_USERS)
    users = [FOLD_CALLER] + [Entry(uid, names[uid], "imap") for uid in FOLD_EXPECTED_IDS[1:]]
    response = get(own, token_of(1), "Leads", FOLD_RECORD)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    # Non-ASCII names: compare the decoded body, key order included, not its escaping.
    assert ordered_pairs(response.content) == ordered_pairs(answer(WITHOUT_CONTACTS, users))


def test_case_fold_expectation_is_the_contracts_rule() -> None:
    """The hand-written order above is what section 6's rule gives (a check of the test)."""
    by_rule = sorted(FOLD_USERS, key=lambda u: (u[1].casefold(), int(u[0])))
    assert [uid for uid, _ in by_rule] == FOLD_EXPECTED_IDS[1:]


def test_cap_of_50_keeps_the_caller_and_the_first_49_in_order(own: httpx.Client) -> None:
    # c0..c2 sort before p00..; the caller (public too) appears once, first; zz is cut.
    users = [CAP_CALLER, *CAP_CUSTOM, *CAP_PUBLIC[:46]]
    assert len(users) == 50
    assert_ok(get(own, token_of(2), "Leads", CAP_RECORD), answer(WITHOUT_CONTACTS, users))


def test_cap_of_50_without_a_caller_mailbox_keeps_the_first_50_others(own: httpx.Client) -> None:
    # The administrator without a mailbox: the caller (public) sorts among them but has none.
    users = [CAP_CALLER, *CAP_CUSTOM, *CAP_PUBLIC]
    users.sort(key=lambda u: (u.name.casefold(), int(u.id)))
    assert [u.name for u in users[:5]] == ["c0", "c1", "c2", "Cap Caller", "p00"]
    assert_ok(get(own, token_of(3), "Leads", CAP_RECORD), answer(WITHOUT_CONTACTS, users[:50]))


def test_cap_boundary_goes_to_the_first_by_case_fold(own: httpx.Client) -> None:
    users = [*edge_first_49("77000000000000"), EDGE_SHARP_S]
    response = get(own, token_of(7), "Leads", EDGE_FOLD_RECORD)
    assert response.status_code == 200
    assert ordered_pairs(response.content) == ordered_pairs(answer(WITHOUT_CONTACTS, users))


def test_cap_boundary_goes_to_the_smaller_numeric_id_on_a_name_tie(own: httpx.Client) -> None:
    users = [*edge_first_49("78000000000000"), EDGE_ZED_CUSTOM]
    assert_ok(get(own, token_of(8), "Leads", EDGE_TIE_RECORD), answer(WITHOUT_CONTACTS, users))


@pytest.mark.parametrize(
    ("module", "types"),
    [
        ("Accounts", [SENT, CONTACTS, ALL]),
        ("Deals", [SENT, CONTACTS, ALL]),
        ("Leads", [SENT, ALL]),
        ("Projects", [SENT, ALL]),
    ],
)
@pytest.mark.parametrize(
    "token", [token_of(4), token_of(5)], ids=["caller-without-mailbox", "caller-mailbox-disabled"]
)
def test_empty_list_drops_all_imap_shared_users(
    own: httpx.Client, token: str, module: str, types: list[str]
) -> None:
    assert_ok(get(own, token, module, EMPTY_RECORDS[module]), answer(types, []))


def test_empty_list_answer_is_still_an_array_of_one_object(own: httpx.Client) -> None:
    body = get(own, token_of(4), "Leads", EMPTY_RECORDS["Leads"]).json()
    assert body == {
        "__emails_sharing_details": [{"available_types": [SENT, ALL], "share_from_users": []}]
    }


def test_custom_sharing_caller_once_public_sharer_once_private_never(own: httpx.Client) -> None:
    # Kim first; then "cus shared" < "pub shared" by case fold; "Priv Shared" never.
    assert_ok(
        get(own, token_of(6), "Leads", SHARE_RECORD), answer(WITHOUT_CONTACTS, [KIM, CUS, PUB])
    )


def test_custom_sharer_appears_only_on_the_record_they_shared(own: httpx.Client) -> None:
    assert_ok(
        get(own, token_of(6), "Leads", OTHER_RECORD), answer(WITHOUT_CONTACTS, [KIM, OTHER, PUB])
    )


def _rules_types(module: str) -> tuple[str, ...]:
    return WITH_CONTACTS if module in ("Accounts", "Deals") else WITHOUT_CONTACTS


@pytest.mark.parametrize(
    ("caller", "record"),
    [
        pytest.param(REP, "rep_lead", id="owner"),
        pytest.param(MGR, "rep_lead", id="direct-superior"),
        pytest.param(VP, "rep_lead", id="two-levels-up"),
        pytest.param(CEO, "rep_lead", id="three-levels-up"),
        pytest.param(VP, "mgr_lead", id="superior-of-a-manager"),
        pytest.param(ROLELESS_ADMIN, "rep_lead", id="administrator-without-role"),
        pytest.param(ROLELESS_ADMIN, "norole_lead", id="administrator-owner-without-role"),
        pytest.param(NOROLE_OWNER, "norole_lead", id="owner-without-role"),
        pytest.param(REP2, "shared_lead", id="record-shared-with-caller"),
        pytest.param(NOROLE, "rw_contact", id="public-read-write-module"),
        pytest.param(NOROLE, "public_deal", id="public-module"),
        pytest.param(NOROLE, "ro_invoice", id="public-read-only-module"),
        pytest.param(REP2, "ro_invoice", id="public-read-only-module-peer"),
    ],
)
def test_read_rules_allow(own: httpx.Client, caller: Entry, record: str) -> None:
    module, rid, _, _ = RULES_RECORDS[record]
    assert_ok(get(own, rules_token(caller), module, rid), answer(_rules_types(module), [caller]))


@pytest.mark.parametrize(
    ("caller", "record"),
    [
        pytest.param(REP2, "rep_lead", id="same-role"),
        pytest.param(OTHER_MGR, "rep_lead", id="sibling-branch-manager"),
        pytest.param(NOROLE, "rep_lead", id="caller-without-role"),
        pytest.param(REP, "mgr_lead", id="subordinate-of-owner"),
        pytest.param(CEO, "norole_lead", id="owner-without-role-has-no-superior"),
        pytest.param(NOROLE, "shared_lead", id="shared-with-someone-else"),
        pytest.param(NOROLE, "default_quote", id="module-not-named-is-private"),
        pytest.param(NOROLE, "private_order", id="module-named-private"),
        pytest.param(REP2, "private_order", id="module-named-private-peer"),
    ],
)
def test_read_rules_deny(own: httpx.Client, caller: Entry, record: str) -> None:
    module, rid, _, _ = RULES_RECORDS[record]
    assert_no_permission(get(own, rules_token(caller), module, rid))
