"""An org with enough emails on one Lead to page through (docs/contract.md §§10.1, 12), for the
clients' tests: emailshare's own client (tests/client/test_emails*.py) and Zoho's official SDKs
(tests/conformance/test_sdk_emails.py). Written as a fixture document, so that the server
loads it as any user's data; the expected answers are derived from this document and the
contract, never from the server.

Callers: Will (public imap mailbox, the record's owner), Boyle (public pop mailbox), Carla
(custom sharing, has not shared this Lead), Pat (no mailbox). The Lead ``LEAD`` has
``MAILBOX_COUNT`` mailbox emails (owners cycling Will, Boyle, Carla), ``SENT_COUNT`` CRM
emails sent by Will, one scheduled and one draft; the richest email (``RICH``) has cc,
attachments, a linked Deal and the AI fields.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ORG_ID = "730000000000000001"
WILL_ID = "730000000000001001"
BOYLE_ID = "730000000000001002"
CARLA_ID = "730000000000001003"
PAT_ID = "730000000000001004"
LEAD = "730000000000002001"
DEAL = "730000000000002002"
ADDRESS = "lead@customer.test"
MAILBOX_COUNT = 30
SENT_COUNT = 4
RICH = "rich0000000000000000000000000001"
SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ"]
NAMES = {WILL_ID: "Will Grandon", BOYLE_ID: "boyle", CARLA_ID: "Carla Custom", PAT_ID: "Pat"}
BOXES = {WILL_ID: "will@acme.test", BOYLE_ID: "boyle@acme.test", CARLA_ID: "carla@acme.test"}
START = datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC)


def token(user_id: str) -> str:
    """The fixed access token of a user (with the users and org scopes the SDKs need)."""
    return f"1000.{'7' * 28}{user_id[-4:]}.{'e' * 32}"


def message_id(n: int) -> str:
    return f"mb{n:030d}"


def _time(n: int) -> str:
    """Email n's time; a +05:30 offset on odd n, so that offsets are parsed, not assumed."""
    t = START + timedelta(hours=n)
    if n % 2:
        return t.astimezone(datetime.strptime("+0530", "%z").tzinfo).isoformat()
    return t.isoformat()


def mailbox_owner(n: int) -> str:
    return (WILL_ID, BOYLE_ID, CARLA_ID)[n % 3]


def _mailbox_email(n: int) -> dict[str, Any]:
    owner = mailbox_owner(n)
    incoming = n % 2 == 0
    party = {"user_name": NAMES[owner], "email": BOXES[owner]}
    lead = {"user_name": "Lead Person", "email": ADDRESS.upper() if n % 5 == 0 else ADDRESS}
    return {
        "message_id": message_id(n),
        "kind": "mailbox",
        "owner": owner,
        "from": lead if incoming else party,
        "to": [party if incoming else lead],
        "subject": f"Mailbox email {n}",
        "content": f"<p>body {n}</p>",
        "time": _time(n),
        "thread_id": str(5000 + n),
    }


def document() -> dict[str, Any]:
    """The fixture document."""
    users = [
        {
            "id": uid,
            "name": NAMES[uid],
            "email": BOXES.get(uid, "pat@acme.test"),
            **(
                {"mailbox": {"protocol": "pop" if uid == BOYLE_ID else "imap", "address": box}}
                if (box := BOXES.get(uid))
                else {}
            ),
            "email_sharing": "custom" if uid == CARLA_ID else "public",
        }
        for uid in NAMES
    ]
    emails = [_mailbox_email(n) for n in range(MAILBOX_COUNT)]
    for n in range(SENT_COUNT):
        emails.append(
            {
                "message_id": f"crm{n:029d}",
                "kind": "sent",
                "owner": WILL_ID,
                "record": {"module": "Leads", "id": LEAD},
                "from": {"user_name": NAMES[WILL_ID], "email": BOXES[WILL_ID]},
                "to": [{"user_name": "Lead Person", "email": ADDRESS}],
                "subject": f"Sent from CRM {n}",
                "content": f"<div>crm {n}</div>",
                "time": _time(100 + n),
            }
        )
    for kind in ("scheduled", "draft"):
        emails.append(
            {
                "message_id": f"{kind}{'0' * (32 - len(kind) - 1)}1",
                "kind": kind,
                "owner": WILL_ID,
                "record": {"module": "Leads", "id": LEAD},
                "from": {"user_name": NAMES[WILL_ID], "email": BOXES[WILL_ID]},
                "to": [{"user_name": "Lead Person", "email": ADDRESS}],
                "subject": f"A {kind} email",
                "time": _time(200),
            }
        )
    emails.append(
        {
            "message_id": RICH,
            "kind": "mailbox",
            "owner": WILL_ID,
            "linked_deal": DEAL,
            "from": {"user_name": "Lead Person", "email": ADDRESS},
            "to": [{"user_name": NAMES[WILL_ID], "email": BOXES[WILL_ID]}],
            "cc": [{"user_name": None, "email": "cc@customer.test"}],
            "reply_to": {"user_name": "Lead Desk", "email": "desk@customer.test"},
            "subject": "Quote, with attachment",
            "content": "<div>please quote</div>",
            "mail_format": "html",
            "time": "2024-02-01T10:15:30+05:30",
            "read": False,
            "thread_id": "777000111",
            "attachments": [{"id": "72daf06349c51ce66", "name": "quote.pdf", "size": 24792}],
            "intent": "purchase",
            "sentiment_info": "positive",
            "emotion": "gratitude",
            "summary": "Asks for a quote.",
        }
    )
    return {
        "orgs": [
            {
                "id": ORG_ID,
                "name": "Paging Org",
                "data_sharing": {"Leads": "public_read_only", "Deals": "public_read_only"},
                "users": users,
                "records": [
                    {
                        "module": "Leads",
                        "id": LEAD,
                        "name": "Lead Person",
                        "owner": WILL_ID,
                        "emails": [ADDRESS],
                    },
                    {"module": "Deals", "id": DEAL, "name": "Big Deal", "owner": WILL_ID},
                ],
                "emails": emails,
                "tokens": [{"access_token": token(u), "user": u, "scopes": SCOPES} for u in NAMES],
            }
        ]
    }


def write(directory: Path) -> Path:
    """The document as a JSON file in ``directory``."""
    path = directory / "emails_paging.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    return path


def mailbox_ids_seen_by(caller: str) -> list[str]:
    """The mailbox emails of LEAD in the default list for ``caller``, newest first
    (docs/contract.md §12.3: owners in share_from_users; Carla has not shared this Lead)."""
    readable = {WILL_ID, BOYLE_ID} | ({CARLA_ID} if caller == CARLA_ID else set())
    if caller not in BOXES:
        return []
    ids = [(START + timedelta(hours=n), message_id(n)) for n in range(MAILBOX_COUNT)]
    ids = [x for x in ids if mailbox_owner(int(x[1][2:])) in readable]
    ids.append((datetime.fromisoformat("2024-02-01T10:15:30+05:30"), RICH))
    return [m for _, m in sorted(ids, key=lambda x: (-x[0].timestamp(), x[1]))]


def default_list(caller: str) -> list[str]:
    """Every message id of LEAD's default list (no ``type``) for ``caller``: Will's sent and
    scheduled CRM emails and the mailbox emails of :func:`mailbox_ids_seen_by`, newest first."""
    crm = [(START + timedelta(hours=100 + n), f"crm{n:029d}") for n in range(SENT_COUNT)]
    crm.append((START + timedelta(hours=200), f"scheduled{'0' * 22}1"))
    box = mailbox_ids_seen_by(caller)
    times = {message_id(n): START + timedelta(hours=n) for n in range(MAILBOX_COUNT)}
    times[RICH] = datetime.fromisoformat("2024-02-01T10:15:30+05:30")
    everything = crm + [(times[m], m) for m in box]
    return [m for _, m in sorted(everything, key=lambda x: (-x[0].timestamp(), x[1]))]
