"""Zoho's field names and body shapes of the emails calls (docs/contract.md §§12.4, 12.5).

Key order is Zoho's samples'. Ids are digit strings; ``time`` is ISO 8601 with its offset,
whole seconds; booleans are JSON booleans.
"""

from __future__ import annotations

from typing import Any

from emailshare.api.wire import dumps
from emailshare.domain.emails import Listed
from emailshare.domain.mail import Email, Party
from emailshare.service.emails import EmailList, OpenedEmail

_NO_REPLY_TO = {"user_name": None, "email": ""}


def module_id(org_id: int) -> str:
    """The Deals module's id in an org [model]: the org id's leading digits, then 2181, as
    Zoho's module ids look (``3652397000000002181``); always a positive 64-bit value."""
    return str(org_id // 10_000_000 * 10_000_000 + 2181)


def _party(p: Party) -> dict[str, Any]:
    return {"user_name": p.user_name, "email": p.email}


def _parties(parties: tuple[Party, ...]) -> list[dict[str, Any]]:
    return [_party(p) for p in parties]


def _status(e: Email) -> list[dict[str, Any]]:
    return [{"type": s} for s in e.status]


def _linked(item: Listed, org_id: int) -> dict[str, Any] | None:
    e = item.email
    if e.linked_deal is None or item.linked_name is None:
        return None
    return {
        "id": str(e.linked_deal),
        "name": item.linked_name,
        "module": {"api_name": "Deals", "id": module_id(org_id)},
    }


def list_item(item: Listed, org_id: int) -> dict[str, Any]:
    """One email of the list: the 19 keys of Zoho's sample, in its order, never ``content``."""
    e = item.email
    return {
        "cc": _parties(e.cc) if e.cc else None,
        "has_thread_attachment": item.thread_attachment,
        "summary": e.summary,
        "owner": {"name": item.owner_name, "id": str(e.owner)},
        "read": e.read,
        "subject": e.subject,
        "message_id": e.message_id,
        "has_attachment": bool(e.attachments),
        "source": e.source,
        "sent": e.sent,
        "intent": e.intent,
        "sentiment_info": e.sentiment_info,
        "linked_record": _linked(item, org_id),
        "related_to_record": None,
        "emotion": e.emotion,
        "from": _party(e.sender),
        "to": _parties(e.to),
        "time": e.time.isoformat(),
        "status": _status(e),
    }


def email_list(answer: EmailList, org_id: int) -> bytes:
    return dumps(
        {
            "Emails": [list_item(i, org_id) for i in answer.items],
            "info": {
                "per_page": 10,
                "next_index": answer.next_index,
                "count": len(answer.items),
                "prev_index": answer.prev_index,
                "more_records": answer.more_records,
            },
        }
    )


def one_email(opened: OpenedEmail) -> bytes:
    """The one-email answer: the 14 keys of Zoho's sample; ``cc`` after ``to`` when any."""
    e = opened.listed.email
    body: dict[str, Any] = {
        "attachments": (
            [{"size": str(a.size), "name": a.name, "id": a.id} for a in e.attachments]
            if e.attachments
            else None
        ),
        "subject": e.subject,
        "editable": opened.editable,
        "mail_format": e.mail_format,
        "intent": e.intent,
        "content": e.content,
        "sentiment_info": e.sentiment_info,
        "sent_time": e.time.isoformat(),
        "thread_id": e.thread_id,
        "emotion": e.emotion,
        "reply_to": _party(e.reply_to) if e.reply_to else dict(_NO_REPLY_TO),
        "from": _party(e.sender),
        "to": _parties(e.to),
    }
    if e.cc:
        body["cc"] = _parties(e.cc)
    body["status"] = _status(e)
    return dumps({"Emails": [body]})
