"""Zoho's field names and body shapes of the emails calls (docs/contract.md §§12.4, 12.5).

Key order is Zoho's samples'. Ids are digit strings; ``time`` is ISO 8601 with its offset,
whole seconds; booleans are JSON booleans.
"""

from __future__ import annotations

from typing import Any

from emailshare.api.wire import dumps
from emailshare.domain.email_reads import Head, Pair, head_of, local_time
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


def _pairs(pairs: tuple[Pair, ...]) -> list[dict[str, Any]]:
    return [{"user_name": name, "email": address} for name, address in pairs]


def head_item(h: Head, owner_name: str, org_id: int) -> dict[str, Any]:
    """One email of the list: the 19 keys of Zoho's sample, in its order, never ``content``."""
    linked = None
    if h.linked_deal is not None and h.linked_name is not None:
        linked = {
            "id": str(h.linked_deal),
            "name": h.linked_name,
            "module": {"api_name": "Deals", "id": module_id(org_id)},
        }
    return {
        "cc": _pairs(h.cc) if h.cc else None,
        "has_thread_attachment": h.thread_attachment,
        "summary": h.summary,
        "owner": {"name": owner_name, "id": str(h.owner)},
        "read": h.read,
        "subject": h.subject,
        "message_id": h.message_id,
        "has_attachment": h.has_attachment,
        "source": h.source,
        "sent": h.sent,
        "intent": h.intent,
        "sentiment_info": h.sentiment_info,
        "linked_record": linked,
        "related_to_record": None,
        "emotion": h.emotion,
        "from": {"user_name": h.sender[0], "email": h.sender[1]},
        "to": _pairs(h.to),
        "time": local_time(h.epoch, h.offset).isoformat(),
        "status": [{"type": s} for s in h.status],
    }


def list_item(item: Listed, org_id: int) -> dict[str, Any]:
    """A listed email of the in-memory reference (``domain.emails.listing``), as the list
    shows it: through :func:`head_item`, the one shape of a list's email."""
    return head_item(head_of(item), item.owner_name, org_id)


def email_list(answer: EmailList, org_id: int) -> bytes:
    return dumps(
        {
            "Emails": [head_item(h, name, org_id) for h, name in answer.items],
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
