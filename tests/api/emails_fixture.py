"""The emails test org (tests/data/emails.json) and the answers the contract gives for it,
built from the document's own values and docs/contract.md §§10.1, 12.4 and 12.5 - never from
the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EMAILS_FIXTURE = Path(__file__).parent.parent / "data" / "emails.json"
DOC: dict[str, Any] = json.loads(EMAILS_FIXTURE.read_text())
ORG = DOC["orgs"][0]
ORG_ID = ORG["id"]
USERS = {u["name"].split()[0]: u for u in ORG["users"]}
RECORDS = {r["name"]: r for r in ORG["records"]}
EMAILS = {e["message_id"]: e for e in ORG["emails"]}
CONTENT_TYPE = "application/json;charset=UTF-8"


def token(first_name: str) -> str:
    """The fixed full-scope token of the user with this first name."""
    uid = USERS[first_name]["id"]
    return str(
        next(
            t["access_token"]
            for t in ORG["tokens"]
            if t["user"] == uid and t["scopes"] == ["ZohoCRM.modules.ALL"]
        )
    )


def _user(uid: str) -> dict[str, Any]:
    return next(u for u in ORG["users"] if u["id"] == uid)


def _iso(text: str) -> str:
    return text.replace("Z", "+00:00")


def _status(e: dict[str, Any], sent: bool) -> list[dict[str, str]]:
    if "status" in e:
        return list(e["status"])
    kind = e["kind"]
    if kind == "mailbox":
        return [{"type": "sent" if sent else "received"}]
    return [{"type": kind}]


def _sent(e: dict[str, Any]) -> bool:
    if "sent" in e:
        return bool(e["sent"])
    if e["kind"] != "mailbox":
        return True
    box = _user(e["owner"])["mailbox"]["address"]
    return bool(e["from"]["email"].lower() == box.lower())


def _from(e: dict[str, Any]) -> dict[str, Any]:
    if "from" in e:
        return {"user_name": e["from"].get("user_name"), "email": e["from"]["email"]}
    owner = _user(e["owner"])
    return {"user_name": owner["name"], "email": owner["mailbox"]["address"]}


def _parties(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"user_name": p.get("user_name"), "email": p["email"]} for p in items]


def _linked(e: dict[str, Any]) -> dict[str, Any] | None:
    deal = e.get("linked_deal")
    if deal is None:
        return None
    name = next(r["name"] for r in ORG["records"] if r["id"] == deal)
    module_id = str(int(ORG_ID) // 10_000_000 * 10_000_000 + 2181)
    return {"id": deal, "name": name, "module": {"api_name": "Deals", "id": module_id}}


def _thread_attachment(e: dict[str, Any]) -> bool:
    if e.get("attachments"):
        return True
    thread = e.get("thread_id")
    return thread is not None and any(
        o.get("attachments")
        for o in ORG["emails"]
        if o["owner"] == e["owner"] and o.get("thread_id") == thread
    )


def item(message_id: str) -> dict[str, Any]:
    """One list entry: the 19 keys of docs/contract.md §12.4, in order."""
    e = EMAILS[message_id]
    sent = _sent(e)
    return {
        "cc": _parties(e["cc"]) if e.get("cc") else None,
        "has_thread_attachment": _thread_attachment(e),
        "summary": e.get("summary"),
        "owner": {"name": _user(e["owner"])["name"], "id": e["owner"]},
        "read": e.get("read", True),
        "subject": e.get("subject"),
        "message_id": message_id,
        "has_attachment": bool(e.get("attachments")),
        "source": e.get("source", "individual" if e["kind"] != "mailbox" else None),
        "sent": sent,
        "intent": e.get("intent"),
        "sentiment_info": e.get("sentiment_info"),
        "linked_record": _linked(e),
        "related_to_record": None,
        "emotion": e.get("emotion"),
        "from": _from(e),
        "to": _parties(e.get("to", [])),
        "time": _iso(e["time"]),
        "status": _status(e, sent),
    }


def one(message_id: str, caller: str) -> dict[str, Any]:
    """The one-email answer of docs/contract.md §12.5 for ``caller`` (a first name)."""
    e = EMAILS[message_id]
    sent = _sent(e)
    attachments = e.get("attachments")
    body: dict[str, Any] = {
        "attachments": (
            [{"size": str(a["size"]), "name": a["name"], "id": a["id"]} for a in attachments]
            if attachments
            else None
        ),
        "subject": e.get("subject"),
        "editable": e["kind"] == "draft" and e["owner"] == USERS[caller]["id"],
        "mail_format": e.get("mail_format", "html"),
        "intent": e.get("intent"),
        "content": e.get("content", ""),
        "sentiment_info": e.get("sentiment_info"),
        "sent_time": _iso(e["time"]),
        "thread_id": e.get("thread_id"),
        "emotion": e.get("emotion"),
        "reply_to": e.get("reply_to") or {"user_name": None, "email": ""},
        "from": _from(e),
        "to": _parties(e.get("to", [])),
    }
    if e.get("cc"):
        body["cc"] = _parties(e["cc"])
    body["status"] = _status(e, sent)
    return {"Emails": [body]}


def listing(
    ids: list[str], next_index: str | None = None, prev_index: str = "0", more: bool = False
) -> dict[str, Any]:
    return {
        "Emails": [item(m) for m in ids],
        "info": {
            "per_page": 10,
            "next_index": next_index,
            "count": len(ids),
            "prev_index": prev_index,
            "more_records": more,
        },
    }
