"""The admin API's explain says why each email is or is not in a record's Emails list
(docs/admin.md; docs/contract.md §12.3), on tests/data/emails.json.

The listed emails, in their places, are held equal to what the live list endpoint answers,
page after page, for every caller, record and ``type``; the reasons are checked against the
fixture's facts for one caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.emails_fixture import EMAILS_FIXTURE, ORG, USERS
from tests.conftest import Served, open_client, serve

KEY = "explain-emails-key"
HEADER = "X-Emailshare-Admin-Key"
LEAD = "900000000000002001"
TYPES = {
    "Accounts": [
        "all_contacts_sent_crm_emails",
        "all_contacts_scheduled_crm_emails",
        "all_contacts_draft_crm_emails",
    ],
    "Deals": ["all_contacts_sent_crm_emails"],
}
BASE_TYPES = [None, "sent_from_crm", "scheduled_in_crm", "drafts", "user_emails"]
FULL = {
    t["user"]: t["access_token"] for t in ORG["tokens"] if t["scopes"] == ["ZohoCRM.modules.ALL"]
}


@pytest.fixture(scope="module")
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("explain-emails")
    srv: Served = serve(request, tmp, fixture=EMAILS_FIXTURE, admin_key=KEY)
    with open_client(srv, timeout=30) as c:
        yield c
    srv.stop()


def explain(client: httpx.Client, caller: str, record: str, **params: str) -> dict[str, Any]:
    r = client.get(
        "/__emailshare/explain",
        params={"caller": caller, "record": record, **params},
        headers={HEADER: KEY},
    )
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def live_list(
    client: httpx.Client, caller: str, module: str, record: str, type_: str | None
) -> tuple[int, list[str] | dict[str, Any]]:
    """Every message id the endpoint lists, following next_index; or the error body."""
    ids: list[str] = []
    params: dict[str, str] = {"type": type_} if type_ else {}
    while True:
        r = client.get(
            f"/crm/v8/{module}/{record}/Emails",
            params=params,
            headers={"Authorization": f"Zoho-oauthtoken {FULL[caller]}"},
        )
        if r.status_code == 204:
            return 200, ids
        if r.status_code != 200:
            body: dict[str, Any] = r.json()
            return r.status_code, body
        body = r.json()
        ids += [e["message_id"] for e in body["Emails"]]
        if body["info"]["next_index"] is None:
            return 200, ids
        params["index"] = body["info"]["next_index"]


def test_listed_emails_are_the_live_list_for_every_caller_record_and_type(
    client: httpx.Client,
) -> None:
    checked = 0
    for caller in FULL:
        for record in ORG["records"]:
            module = record["module"]
            for type_ in BASE_TYPES + TYPES.get(module, []):
                params = {"type": type_} if type_ else {}
                doc = explain(client, caller, record["id"], **params)
                status, live = live_list(client, caller, module, record["id"], type_)
                if doc["answer"]["status"] != 200:  # the record itself is refused
                    assert doc["emails"] is None
                    continue
                mail = doc["emails"]
                if status != 200:
                    assert isinstance(live, dict)
                    assert mail["error"]["code"] == live["code"], (caller, record["id"], type_)
                    assert mail["listed"] is None
                    continue
                listed = sorted(
                    (e for e in mail["emails"] if e["listed"]), key=lambda e: e["position"]
                )
                assert [e["message_id"] for e in listed] == live, (caller, record["id"], type_)
                assert [e["position"] for e in listed] == list(range(1, len(live) + 1))
                assert mail["listed"] == len(live)
                assert all("otherwise" not in e["detail"] for e in mail["emails"])
                checked += 1
    assert checked > 100


def reasons(doc: dict[str, Any]) -> dict[str, tuple[bool, str, str]]:
    return {
        e["message_id"]: (e["listed"], e["reason"], e["detail"]) for e in doc["emails"]["emails"]
    }


def test_why_each_email_of_the_lead_is_or_is_not_listed_for_bob(client: httpx.Client) -> None:
    got = reasons(explain(client, USERS["Bob"]["id"], LEAD))
    assert got["m1bob"][:2] == (True, "mailbox_shared")
    assert got["m2carol"][:2] == (True, "mailbox_shared")
    assert "custom and they shared this record" in got["m2carol"][2]
    assert got["m3dan"][:2] == (False, "owner_not_shared")
    assert "Dan Private's mailbox: the owner's email sharing is private" in got["m3dan"][2]
    assert got["m4alice"][:2] == (False, "owner_not_shared")
    assert got["c1dansent"][:2] == (False, "crm_hidden")
    assert "Emails data sharing is private" in got["c1dansent"][2]
    assert got["c2bobsched"][:2] == (True, "crm_visible")
    assert got["c3bobdraft"][:2] == (False, "kind_not_in_type")
    assert got["m5bobc1"][:2] == (False, "not_associated")
    assert "no address of the record matches" in got["m5bobc1"][2]
    assert "c4bobc2" not in got  # a CRM email of another record is not about this one


def test_no_mailbox_and_types(client: httpx.Client) -> None:
    eve = reasons(explain(client, USERS["Eve"]["id"], LEAD))
    assert eve["m1bob"][:2] == (False, "caller_no_mailbox")
    assert reasons(explain(client, USERS["Eve"]["id"], LEAD, type="user_emails"))["m1bob"][0]
    drafts = reasons(explain(client, USERS["Bob"]["id"], LEAD, type="drafts"))
    assert drafts["c3bobdraft"][:2] == (True, "crm_visible")
    assert drafts["m1bob"][:2] == (False, "kind_not_in_type")
    own = reasons(
        explain(client, USERS["Bob"]["id"], LEAD, type="user_emails", owner_id=USERS["Carol"]["id"])
    )
    assert own["m2carol"][:2] == (True, "mailbox_shared")
    assert own["m1bob"][:2] == (False, "other_owner")


def test_list_errors_are_explained(client: httpx.Client) -> None:
    bad = explain(client, USERS["Bob"]["id"], LEAD, type="all_emails")["emails"]
    assert bad["error"]["code"] == "INVALID_DATA"
    assert bad["error"]["details"] == {"param_name": "type"}
    colleague = explain(
        client, USERS["Bob"]["id"], LEAD, type="user_emails", owner_id=USERS["Dan"]["id"]
    )["emails"]
    assert colleague["error"]["code"] == "NO_PERMISSION"
    assert colleague["emails"] == []


def test_explain_as_text_has_a_line_per_email(client: httpx.Client) -> None:
    r = client.get(
        "/__emailshare/explain",
        params={"caller": USERS["Bob"]["id"], "record": LEAD, "format": "text"},
        headers={HEADER: KEY},
    )
    assert r.status_code == 200
    text = r.text
    assert "emails (type absent): 3 listed" in text
    line = next(x for x in text.splitlines() if "m3dan" in x)
    assert "owner_not_shared" in line
    assert "private" in line
