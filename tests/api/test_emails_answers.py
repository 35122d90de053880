"""The emails of a record (docs/contract.md §§12.3-12.5) over HTTP, on tests/data/emails.json.

Which emails each caller sees is worked out by hand from the contract's rules and the
fixture's data (the comments say why); the bodies are built from the document's own values.
Runs on SQLite, or PostgreSQL when ``EMAILSHARE_TEST_PG`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import conftest
from tests.api.emails_fixture import (
    CONTENT_TYPE,
    EMAILS_FIXTURE,
    RECORDS,
    listing,
    one,
    token,
)

LEAD = RECORDS["Lead One"]["id"]
ACCOUNT = RECORDS["Customer Inc"]["id"]
CONTACT1 = RECORDS["Contact One"]["id"]
DEAL = RECORDS["Big Deal"]["id"]
PROJECT = RECORDS["Project P"]["id"]


@pytest.fixture(scope="module")
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("emails")
    server = conftest.serve(request, tmp, fixture=EMAILS_FIXTURE)
    try:
        with conftest.open_client(server, timeout=30.0) as c:
            yield c
    finally:
        server.stop()


def get(client: httpx.Client, who: str, path: str, **params: str) -> httpx.Response:
    return client.get(
        f"/crm/v8/{path}", params=params, headers={"Authorization": f"Zoho-oauthtoken {token(who)}"}
    )


def ordered(value: Any) -> Any:
    """JSON as nested (key, value) pairs, so that key order is compared too."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def assert_body(response: httpx.Response, expected: dict[str, Any], status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == CONTENT_TYPE
    got = json.loads(response.content, object_pairs_hook=list)
    assert got == ordered(expected)


# Lead One: Bob owns it; Carol (custom sharing) shared her emails of it; Dan and Alice have
# private sharing. ``Emails`` data sharing is private: a CRM email shows to its owner, to
# users whose role is above the owner's (Carol, a Manager, over the Reps Bob and Dan) and to
# the administrator (Alice). Newest first by instant: c2 (Apr 1), c1 (Mar 5), m4, m3, m2, m1.
THREE_CALLERS = [
    # Bob: S = {Bob, Carol}; CRM: his own scheduled c2 only (Dan is a Rep like him).
    ("Bob", ["c2bobsched", "m2carol", "m1bob"]),
    # Carol: S = {Carol, Bob (public)}; CRM: c2 and c1 (both owners report to her role).
    ("Carol", ["c2bobsched", "c1dansent", "m2carol", "m1bob"]),
    # Dan: S = {Dan, Bob, Carol}; CRM: his own c1.
    ("Dan", ["c1dansent", "m3dan", "m2carol", "m1bob"]),
    # Alice, administrator: every CRM email; S = {Alice, Bob, Carol} (Dan's sharing is private).
    ("Alice", ["c2bobsched", "c1dansent", "m4alice", "m2carol", "m1bob"]),
]


@pytest.mark.parametrize(("who", "ids"), THREE_CALLERS)
def test_callers_see_different_emails_of_one_record(
    client: httpx.Client, who: str, ids: list[str]
) -> None:
    assert_body(get(client, who, f"Leads/{LEAD}/Emails"), listing(ids))


def test_no_mailbox_and_no_visible_crm_email_is_204(client: httpx.Client) -> None:
    # Eve has no mailbox (no mailbox part without a type) and owns no CRM email.
    response = get(client, "Eve", f"Leads/{LEAD}/Emails")
    assert (response.status_code, response.content) == (204, b"")


def test_user_emails_without_a_mailbox_of_ones_own(client: httpx.Client) -> None:
    # type=user_emails lists S's mailbox emails even when the caller has no mailbox.
    assert_body(
        get(client, "Eve", f"Leads/{LEAD}/Emails", type="user_emails"),
        listing(["m2carol", "m1bob"]),
    )


@pytest.mark.parametrize(
    ("type_", "ids"),
    [
        ("sent_from_crm", ["c1dansent"]),
        ("scheduled_in_crm", ["c2bobsched"]),
        ("drafts", ["c3bobdraft"]),
    ],
)
def test_crm_types(client: httpx.Client, type_: str, ids: list[str]) -> None:
    assert_body(get(client, "Alice", f"Leads/{LEAD}/Emails", type=type_), listing(ids))


def test_owner_id_narrows_user_emails(client: httpx.Client) -> None:
    carol = "900000000000001003"
    assert_body(
        get(client, "Bob", f"Leads/{LEAD}/Emails", type="user_emails", owner_id=carol),
        listing(["m2carol"]),
    )
    # Ignored on other types.
    assert_body(
        get(client, "Bob", f"Leads/{LEAD}/Emails", owner_id=carol),
        listing(["c2bobsched", "m2carol", "m1bob"]),
    )


def test_owner_id_of_a_colleague_not_shared(client: httpx.Client) -> None:
    dan = "900000000000001004"
    assert_body(
        get(client, "Bob", f"Leads/{LEAD}/Emails", type="user_emails", owner_id=dan),
        {
            "code": "NO_PERMISSION",
            "details": {},
            "message": "Your colleague has not provided viewing permissions for the email"
            " messages related to this record.",
            "status": "error",
        },
        403,
    )


def test_account_gathers_its_contacts_mailbox_emails(client: httpx.Client) -> None:
    # Customer Inc's Contacts are Contact One (c1@) and Contact Two; Bob's m5 went to c1@.
    assert_body(get(client, "Bob", f"Accounts/{ACCOUNT}/Emails"), listing(["m5bobc1"]))


def test_all_contacts_types_of_an_account(client: httpx.Client) -> None:
    # CRM emails on the Account's Contacts: Alice sees both; Bob only his own (Emails private).
    assert_body(
        get(client, "Alice", f"Accounts/{ACCOUNT}/Emails", type="all_contacts_sent_crm_emails"),
        listing(["c5danc1", "c4bobc2"]),
    )
    assert_body(
        get(client, "Bob", f"Accounts/{ACCOUNT}/Emails", type="all_contacts_sent_crm_emails"),
        listing(["c4bobc2"]),
    )


def test_deal_has_the_emails_linked_to_it(client: httpx.Client) -> None:
    assert_body(get(client, "Carol", f"Deals/{DEAL}/Emails"), listing(["m5bobc1"]))


def test_contact_and_custom_module(client: httpx.Client) -> None:
    assert_body(get(client, "Dan", f"Contacts/{CONTACT1}/Emails"), listing(["c5danc1", "m5bobc1"]))
    response = get(client, "Bob", f"Projects/{PROJECT}/Emails")
    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.parametrize("version", ["v4", "v5", "v6", "v7", "v8"])
def test_every_version(client: httpx.Client, version: str) -> None:
    response = client.get(
        f"/crm/{version}/Leads/{LEAD}/Emails",
        headers={"Authorization": f"Zoho-oauthtoken {token('Bob')}"},
    )
    assert_body(response, listing(["c2bobsched", "m2carol", "m1bob"]))


@pytest.mark.parametrize(
    ("who", "message_id"),
    [("Bob", "m2carol"), ("Alice", "c1dansent"), ("Bob", "c3bobdraft"), ("Carol", "c3bobdraft")],
)
def test_one_email(client: httpx.Client, who: str, message_id: str) -> None:
    response = get(client, who, f"Leads/{LEAD}/Emails/{message_id}", owner_id="900000000000001003")
    if message_id != "m2carol":
        response = get(client, who, f"Leads/{LEAD}/Emails/{message_id}")
    assert_body(response, one(message_id, who))


def test_one_email_of_the_account_through_its_contact(client: httpx.Client) -> None:
    assert_body(get(client, "Alice", f"Accounts/{ACCOUNT}/Emails/c5danc1"), one("c5danc1", "Alice"))
    assert_body(get(client, "Bob", f"Accounts/{ACCOUNT}/Emails/m5bobc1"), one("m5bobc1", "Bob"))
