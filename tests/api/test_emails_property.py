"""Property: the emails the server lists and opens equal the pure rules, on random orgs with emails.

The orgs come from ``tests/api/test_rules_property``'s generators (roles, users of every kind,
records, data sharing); on top of them this module draws record addresses (with ASCII and
non-ASCII case variants, which must and must not match), Contacts' Accounts, Deals' Contacts,
the ``Emails`` data-sharing level and emails of every kind, several at one instant written
with different offsets.

For every active user and every record they may read, and every ``type`` (with and without
``owner_id``), the server's pages, walked through ``next_index``, must list exactly what
``emailshare.domain.emails.listing`` lists, item bodies and ``info`` included; and opening
every email of the org through the record must answer what ``domain.emails.open_email`` says.
The rules are themselves held to ``oracle``: a naive reading of docs/contract.md §12.3 from the
generator's own values, not using ``emailshare.domain``.

SQLite, or PostgreSQL when ``EMAILSHARE_TEST_PG`` is set.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from emailshare.api import wire, wire_emails
from emailshare.domain import emails as rules
from emailshare.domain import rules as sharing_rules
from emailshare.domain.errors import ZohoError
from emailshare.domain.model import Org, Record, Status, User
from emailshare.service.emails import OpenedEmail
from emailshare.service.fixtures import parse_fixture
from tests.api.test_rules_property import (
    COMMON,
    GATHERS_CONTACTS,
    GenOrg,
    Live,
    document,
    gen_orgs,
    live,
    token_of,
)

__all__ = ["live"]  # the server fixture, shared with the sharing-details property test

ADDRESSES = (
    "a@x.test",
    "A@X.TEST",
    "b@x.test",
    "é@x.test",
    "É@x.test",
    "k@x.test",
    "\u212a@x.test",
)
TIMES = (
    "2024-05-01T10:00:00+00:00",
    "2024-05-01T15:30:00+05:30",  # the same instant as the first
    "2024-05-01T05:00:00-05:00",  # and again
    "2024-04-30T23:59:59+00:00",
    "2023-01-01T00:00:00+14:00",
)
KINDS = ("mailbox", "mailbox", "sent", "scheduled", "draft")
LEVELS = (None, "private", "public", "public_read_only")
TYPES = (
    None,
    "user_emails",
    "sent_from_crm",
    "scheduled_in_crm",
    "drafts",
    "all_contacts_sent_crm_emails",
    "all_contacts_draft_crm_emails",
)
_ORG_IDS = itertools.count(6_000_000_000_000_000_001)


@dataclass(frozen=True)
class MailPlan:
    level: str | None
    addresses: dict[int, tuple[str, ...]]  # record id -> addresses
    accounts: dict[int, int]  # contact -> account
    contacts: dict[int, tuple[int, ...]]  # deal -> contacts
    emails: tuple[dict[str, Any], ...]  # fixture entries


@st.composite
def gen_mail(draw: st.DrawFn, plan: GenOrg) -> MailPlan:
    by_module: dict[str, list[int]] = {}
    for r in plan.records:
        by_module.setdefault(r.module, []).append(r.id)
    addressed = [
        r
        for r in plan.records
        if r.module in ("Leads", "Contacts") or r.module in plan.custom_modules
    ]
    addresses = {
        r.id: tuple(draw(st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=2, unique=True)))
        for r in addressed
        if draw(st.booleans())
    }
    accounts = {}
    for c in by_module.get("Contacts", []):
        if by_module.get("Accounts") and draw(st.booleans()):
            accounts[c] = draw(st.sampled_from(by_module["Accounts"]))
    contacts = {}
    for d in by_module.get("Deals", []):
        if by_module.get("Contacts"):
            contacts[d] = tuple(
                draw(st.lists(st.sampled_from(by_module["Contacts"]), unique=True, max_size=2))
            )
    boxed = [u for u in plan.users if u.mailbox is not None]
    emails = []
    for n in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(KINDS))
        if kind == "mailbox" and not boxed:
            kind = "sent"
        owner = draw(st.sampled_from(boxed if kind == "mailbox" else plan.users))
        entry: dict[str, Any] = {
            "message_id": f"m{draw(st.sampled_from(('a', 'B', 'c')))}{n}",
            "kind": kind,
            "owner": str(owner.id),
            "time": draw(st.sampled_from(TIMES)),
            "from": {"user_name": None, "email": draw(st.sampled_from(ADDRESSES))},
            "to": [
                {"user_name": "T", "email": a}
                for a in draw(st.lists(st.sampled_from(ADDRESSES), max_size=2))
            ],
        }
        if draw(st.booleans()):
            entry["cc"] = [{"user_name": None, "email": draw(st.sampled_from(ADDRESSES))}]
        if kind != "mailbox":
            r = draw(st.sampled_from(plan.records))
            entry["record"] = {"module": r.module, "id": str(r.id)}
        if by_module.get("Deals") and draw(st.booleans()):
            entry["linked_deal"] = str(draw(st.sampled_from(by_module["Deals"])))
        if draw(st.booleans()):
            entry["thread_id"] = draw(st.sampled_from(("1", "2")))
        if draw(st.integers(0, 3)) == 0:
            entry["attachments"] = [{"id": "f1", "name": "f.txt", "size": 3}]
        emails.append(entry)
    return MailPlan(draw(st.sampled_from(LEVELS)), addresses, accounts, contacts, tuple(emails))


def mail_document(plan: GenOrg, mail: MailPlan, org_id: int) -> dict[str, Any]:
    doc = document(plan, org_id)
    org = doc["orgs"][0]
    if mail.level is not None:
        org["data_sharing"]["Emails"] = mail.level
    for r, gr in zip(org["records"], plan.records, strict=True):
        if gr.id in mail.addresses:
            r["emails"] = list(mail.addresses[gr.id])
        if gr.id in mail.accounts:
            r["account"] = str(mail.accounts[gr.id])
        if gr.id in mail.contacts:
            r["contacts"] = [str(c) for c in mail.contacts[gr.id]]
    org["emails"] = list(mail.emails)
    return doc


# --- the oracle: docs/contract.md §12.3 read naively ----------------------------------------


def _lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def oracle(
    plan: GenOrg, mail: MailPlan, caller_id: int, rec_id: int, type_: str | None, owner: int | None
) -> list[str] | str:
    """The message ids listed, newest first, or "403" for a colleague not shared."""
    users = {u.id: u for u in plan.users}
    records = {r.id: r for r in plan.records}
    caller, rec = users[caller_id], records[rec_id]

    def box_ok(u: Any) -> bool:
        return u.status == "active" and u.mailbox is not None and u.mailbox[1]

    s = {
        u.id
        for u in plan.users
        if box_ok(u)
        and (
            u.id == caller_id
            or u.email_sharing == "public"
            or (u.email_sharing == "custom" and u.id in rec.emails_shared_by)
        )
    }
    parents = {r.id: r.reports_to for r in plan.roles}

    def above(owner_id: int) -> bool:
        start = users[owner_id].role
        role = parents.get(start) if start is not None else None
        while role is not None:
            if role == caller.role:
                return True
            role = parents.get(role)
        return False

    level = mail.level or "public"

    def crm_ok(e: dict[str, Any]) -> bool:
        o = int(e["owner"])
        return level != "private" or o == caller_id or caller.profile == "administrator" or above(o)

    def readable(r: Any) -> bool:
        ds = {m: lv for m, _, lv in plan.data_sharing}.get(r.module, "private")
        return (
            caller.profile == "administrator"
            or caller.id == r.owner
            or above(r.owner)
            or ds != "private"
            or caller.id in r.shared_with
        )

    def mine(e: dict[str, Any]) -> bool:  # a mailbox email of the record
        if rec.module == "Deals":
            return e.get("linked_deal") == str(rec.id)
        if rec.module == "Accounts":
            sources = [
                c for c, a in mail.accounts.items() if a == rec.id and not records[c].deleted
            ]
        elif rec.module in ("Leads", "Contacts") or rec.module in plan.custom_modules:
            sources = [rec.id]
        else:
            return False
        wanted = {_lower(a) for c in sources for a in mail.addresses.get(c, ())}
        found = [
            e["from"]["email"],
            *(p["email"] for p in e["to"]),
            *(p["email"] for p in e.get("cc", [])),
        ]
        return any(_lower(a) in wanted for a in found)

    kinds = {
        None: ("sent", "scheduled"),
        "sent_from_crm": ("sent",),
        "scheduled_in_crm": ("scheduled",),
        "drafts": ("draft",),
        "user_emails": (),
        "all_contacts_sent_crm_emails": ("sent",),
        "all_contacts_draft_crm_emails": ("draft",),
    }[type_]
    if type_ and type_.startswith("all_contacts"):
        if rec.module == "Accounts":
            cs = [c for c, a in mail.accounts.items() if a == rec.id]
        else:
            cs = list(mail.contacts.get(rec.id, ()))
        on = {
            c
            for c in cs
            if not records[c].deleted and records[c].module == "Contacts" and readable(records[c])
        }
    else:
        on = {rec.id}
    with_mailbox = type_ == "user_emails" or (type_ is None and box_ok(caller))
    if type_ == "user_emails" and owner is not None and owner != caller_id and owner not in s:
        return "403"
    shown = []
    for e in mail.emails:
        if e["kind"] in kinds and int(e["record"]["id"]) in on and crm_ok(e):
            shown.append(e)
        elif e["kind"] == "mailbox" and with_mailbox and int(e["owner"]) in s and mine(e):
            one_owner = type_ == "user_emails" and owner is not None
            if not one_owner or int(e["owner"]) == owner:
                shown.append(e)
    shown.sort(key=lambda e: (-datetime.fromisoformat(e["time"]).timestamp(), e["message_id"]))
    return [e["message_id"] for e in shown]


def from_rules(
    org: Org, caller: User, record: Record, type_: str | None, owner: int | None
) -> list[rules.Listed] | ZohoError:
    spec = rules.type_spec(type_, record.module)
    assert spec is not None
    try:
        return rules.listing(org, caller, record, spec, owner)
    except ZohoError as exc:
        return exc


def _cases(org: Org, record: Record) -> list[tuple[str | None, int | None]]:
    types = [
        t
        for t in TYPES
        if not (t and t.startswith("all_contacts")) or record.module in GATHERS_CONTACTS
    ]
    cases: list[tuple[str | None, int | None]] = [(t, None) for t in types]
    return cases + [("user_emails", u.id) for u in org.users[:3]]


def _readable_pairs(org: Org) -> Iterator[tuple[int, User, Record]]:
    for index, caller in enumerate(org.users):
        if caller.status is not Status.ACTIVE:
            continue
        for record in org.records:
            if record.deleted:
                continue
            if sharing_rules.read_rule(sharing_rules.read_facts(org, caller, record)) is not None:
                yield index, caller, record


@settings(COMMON, max_examples=150)
@given(data=st.data(), plan=gen_orgs(max_users=6, max_records=5))
def test_rules_agree_with_oracle(data: st.DataObject, plan: GenOrg) -> None:
    mail = data.draw(gen_mail(plan))
    org = parse_fixture(mail_document(plan, mail, 1))[0]
    for _, caller, record in _readable_pairs(org):
        for type_, owner in _cases(org, record):
            got = from_rules(org, caller, record, type_, owner)
            shown = "403" if isinstance(got, ZohoError) else [x.email.message_id for x in got]
            want = oracle(plan, mail, caller.id, record.id, type_, owner)
            assert shown == want, (
                f"caller {caller.id} {record.module}/{record.id} type={type_} owner={owner}"
            )


def _walk(live: Live, token: str, path: str, params: dict[str, str]) -> tuple[int, list[Any]]:
    """Every page of a list through next_index: (status of the first, the bodies)."""
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    bodies: list[Any] = []
    response = live.client.get(path, params=params, headers=headers)
    status = response.status_code
    while response.status_code == 200:
        body = json.loads(response.content)
        bodies.append(body)
        nxt = body["info"]["next_index"]
        if nxt is None:
            break
        response = live.client.get(path, params={**params, "index": nxt}, headers=headers)
        assert response.status_code == 200, response.text
    return status, bodies


def expected_pages(org: Org, items: list[rules.Listed]) -> list[Any]:
    pages = [items[i : i + rules.PER_PAGE] for i in range(0, len(items), rules.PER_PAGE)]
    return [[wire_emails.list_item(x, org.id) for x in page] for page in pages]


@pytest.mark.timeout(600)
@settings(COMMON, max_examples=30)
@given(data=st.data(), plan=gen_orgs(max_users=6, max_records=5))
def test_server_lists_and_opens_what_the_rules_say(
    live: Live, data: st.DataObject, plan: GenOrg
) -> None:
    mail = data.draw(gen_mail(plan))
    org_id = next(_ORG_IDS)
    doc = mail_document(plan, mail, org_id)
    note(f"fixture: {json.dumps(doc, ensure_ascii=False)}")
    org = parse_fixture(doc)[0]
    live.load(org)
    for index, caller, record in _readable_pairs(org):
        token = token_of(org_id, index)
        path = f"/crm/v8/{record.module}/{record.id}/Emails"
        for type_, owner in _cases(org, record):
            params = {k: v for k, v in (("type", type_), ("owner_id", owner and str(owner))) if v}
            want = from_rules(org, caller, record, type_, owner)
            status, bodies = _walk(live, token, path, params)
            where = f"GET {path} {params} as {caller.id}"
            if isinstance(want, ZohoError):
                assert status == 403, where
                continue
            if not want:
                assert (status, bodies) == (204, []), where
                continue
            assert status == 200, where
            assert [b["Emails"] for b in bodies] == expected_pages(org, want), where
            assert [b["info"]["count"] for b in bodies] == [
                len(p) for p in expected_pages(org, want)
            ]
        for email in org.mail.emails:
            response = live.client.get(
                f"{path}/{email.message_id}", headers={"Authorization": f"Zoho-oauthtoken {token}"}
            )
            expected = opened_answer(org, caller, record, email.message_id)
            assert (response.status_code, response.content) == expected, (
                f"open {email.message_id} on {record.id} as {caller.id}"
            )


def opened_answer(org: Org, caller: User, record: Record, message_id: str) -> tuple[int, bytes]:
    """What ``rules.open_email`` says the one-email call answers: (status, body)."""
    try:
        opened = rules.open_email(org, caller, record, message_id, None)
    except ZohoError as exc:
        return (403 if exc.code == "NO_PERMISSION" else 400), wire.error(exc)
    editable = rules.editable(opened.email, caller.id)
    return 200, wire_emails.one_email(OpenedEmail(opened, editable))
