"""Zoho's emails bodies (docs/contract.md §§12.4, 12.5) read into the client's values.

Tolerant where Zoho's sources disagree, as :mod:`.wire` is: ids as strings or numbers,
``cc``/``attachments`` as ``null`` or a list, ``info`` absent (the one-email answer), a
``status`` entry with more keys than ``type``. A ``time`` that is not ISO 8601 is a
:class:`~emailshare.client.wire.ShapeError` (reported as an unexpected response), never a
silently missing value: Zoho's own Python SDKs drop the whole answer in that case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emailshare.client.email_models import (
    Attachment,
    EmailDetail,
    EmailOwner,
    EmailPage,
    EmailStatus,
    EmailSummary,
    LinkedRecord,
    PageInfo,
    Party,
)
from emailshare.client.wire import ShapeError, _list, _object, id_text
from emailshare.domain.numbers import parse_int

EMAILS_KEY = "Emails"
PER_PAGE = 10


def _opt_text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if value is True or value is False:
        return bool(value)
    if value in ("true", "false"):
        return bool(value == "true")
    raise ShapeError(f"{key} must be a boolean, not {value!r}")


def _opt_id(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else id_text(value)


def _time(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{key} must be an ISO 8601 string, not {value!r}")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ShapeError(f"{key} is not an ISO 8601 time: {value!r}") from exc


def _party(value: Any, what: str) -> Party | None:
    if value is None:
        return None
    obj = _object(value, what)
    return Party(user_name=_opt_text(obj, "user_name"), email=_opt_text(obj, "email"))


def _parties(obj: Mapping[str, Any], key: str) -> list[Party]:
    found = (_party(item, f"an entry of {key}") for item in _list(obj.get(key), key))
    return [p for p in found if p is not None]


def _owner(value: Any) -> EmailOwner | None:
    if value is None:
        return None
    obj = _object(value, "owner")
    return EmailOwner(id=id_text(obj.get("id")), name=_opt_text(obj, "name") or "")


def _linked(value: Any) -> LinkedRecord | None:
    if value is None:
        return None
    obj = _object(value, "linked_record")
    module = obj.get("module")
    mod = _object(module, "linked_record.module") if module is not None else {}
    return LinkedRecord(
        id=id_text(obj.get("id")),
        name=_opt_text(obj, "name"),
        module=_opt_text(mod, "api_name"),
        module_id=_opt_id(mod, "id"),
    )


def _statuses(obj: Mapping[str, Any]) -> list[EmailStatus]:
    out = []
    for item in _list(obj.get("status"), "status"):
        entry = _object(item, "a status entry")
        extra = {k: v for k, v in entry.items() if k != "type"}
        out.append(EmailStatus(type=_opt_text(entry, "type") or "", extra=extra))
    return out


def _attachments(obj: Mapping[str, Any]) -> list[Attachment]:
    out = []
    for item in _list(obj.get("attachments"), "attachments"):
        entry = _object(item, "an attachment")
        size = entry.get("size")
        out.append(
            Attachment(
                id=_opt_text(entry, "id") or "",
                name=_opt_text(entry, "name") or "",
                size=parse_int(str(size)) if isinstance(size, int | str) else None,
            )
        )
    return out


def summary(item: Any) -> EmailSummary:
    """One item of the list answer."""
    obj = _object(item, "an Emails entry")
    message_id = _opt_text(obj, "message_id")
    if not message_id:
        raise ShapeError("an Emails entry has no message_id")
    return EmailSummary(
        message_id=message_id,
        subject=_opt_text(obj, "subject"),
        time=_time(obj, "time"),
        owner=_owner(obj.get("owner")),
        sender=_party(obj.get("from"), "from"),
        to=_parties(obj, "to"),
        cc=_parties(obj, "cc"),
        status=_statuses(obj),
        sent=_opt_bool(obj, "sent"),
        read=_opt_bool(obj, "read"),
        has_attachment=_opt_bool(obj, "has_attachment"),
        has_thread_attachment=_opt_bool(obj, "has_thread_attachment"),
        source=_opt_text(obj, "source"),
        linked_record=_linked(obj.get("linked_record")),
        intent=_opt_text(obj, "intent"),
        sentiment_info=_opt_text(obj, "sentiment_info"),
        emotion=_opt_text(obj, "emotion"),
        summary=_opt_text(obj, "summary"),
        raw=dict(obj),
    )


def _int(obj: Mapping[str, Any], key: str, default: int) -> int:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = parse_int(value) if isinstance(value, str) else None
    if parsed is not None:
        return parsed
    raise ShapeError(f"info.{key} must be an integer, not {value!r}")


def page(body: Any) -> EmailPage:
    """The list answer; a 204 (no body) is an empty last page."""
    if body is None:
        return EmailPage([], PageInfo(PER_PAGE, 0, False, None, None))
    outer = _object(body, "the body")
    if EMAILS_KEY not in outer:
        raise ShapeError(f"no {EMAILS_KEY} in the body")
    emails = [summary(item) for item in _list(outer[EMAILS_KEY], EMAILS_KEY)]
    info = _object(outer.get("info") or {}, "info")
    more = _opt_bool(info, "more_records")
    next_index = _opt_text(info, "next_index")
    return EmailPage(
        emails,
        PageInfo(
            per_page=_int(info, "per_page", PER_PAGE),
            count=_int(info, "count", len(emails)),
            more_records=bool(more) if more is not None else next_index is not None,
            next_index=next_index,
            prev_index=_opt_text(info, "prev_index"),
        ),
    )


def detail(body: Any) -> EmailDetail:
    """The one-email answer: the first (only) entry of ``Emails``."""
    outer = _object(body, "the body")
    entries = _list(outer.get(EMAILS_KEY), EMAILS_KEY)
    if not entries:
        raise ShapeError(f"{EMAILS_KEY} holds no email")
    obj = _object(entries[0], "an Emails entry")
    return EmailDetail(
        subject=_opt_text(obj, "subject"),
        content=_opt_text(obj, "content"),
        mail_format=_opt_text(obj, "mail_format"),
        sender=_party(obj.get("from"), "from"),
        to=_parties(obj, "to"),
        cc=_parties(obj, "cc"),
        reply_to=_party(obj.get("reply_to"), "reply_to"),
        sent_time=_time(obj, "sent_time"),
        thread_id=_opt_id(obj, "thread_id"),
        editable=_opt_bool(obj, "editable"),
        attachments=_attachments(obj),
        status=_statuses(obj),
        intent=_opt_text(obj, "intent"),
        sentiment_info=_opt_text(obj, "sentiment_info"),
        emotion=_opt_text(obj, "emotion"),
        raw=dict(obj),
    )
