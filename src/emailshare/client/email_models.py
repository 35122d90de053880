"""What the emails calls return (docs/contract.md §§12.4 and 12.5): plain, typed, immutable
values. Ids are strings of digits, times timezone-aware ``datetime`` values, and every field
Zoho sent is also kept in ``raw``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Party:
    """A sender or recipient: Zoho's ``{"user_name", "email"}`` (either may be missing)."""

    user_name: str | None
    email: str | None


@dataclass(frozen=True)
class EmailOwner:
    """The user an email belongs to: Zoho's ``{"name", "id"}``."""

    id: str
    name: str


@dataclass(frozen=True)
class LinkedRecord:
    """The record (a Deal) an email is linked to."""

    id: str
    name: str | None
    module: str | None
    module_id: str | None


@dataclass(frozen=True)
class EmailStatus:
    """One entry of ``status``: its ``type`` (``sent``, ``received``, ``opened``...) and, for
    ``opened``/``bounced`` entries, the other keys Zoho sends, as sent."""

    type: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """An attachment of one email: its id, name and size in bytes."""

    id: str
    name: str
    size: int | None


@dataclass(frozen=True)
class EmailSummary:
    """One item of a record's emails list (``GET .../Emails``)."""

    message_id: str
    subject: str | None
    time: datetime | None
    owner: EmailOwner | None
    sender: Party | None
    to: list[Party]
    cc: list[Party]
    status: list[EmailStatus]
    sent: bool | None
    read: bool | None
    has_attachment: bool | None
    has_thread_attachment: bool | None
    source: str | None
    linked_record: LinkedRecord | None
    intent: str | None
    sentiment_info: str | None
    emotion: str | None
    summary: str | None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PageInfo:
    """``info`` of a list page: ``next_index`` is None on the last page; ``prev_index`` is
    ``"0"`` on the first two pages (docs/contract.md §12.4)."""

    per_page: int
    count: int
    more_records: bool
    next_index: str | None
    prev_index: str | None


@dataclass(frozen=True)
class EmailPage:
    """One page of a record's emails. An empty page (HTTP 204) has no emails and ``info``
    with ``count`` 0 and no next page."""

    emails: list[EmailSummary]
    info: PageInfo


@dataclass(frozen=True)
class EmailDetail:
    """One email with its content (``GET .../Emails/{message_id}``)."""

    subject: str | None
    content: str | None
    mail_format: str | None
    sender: Party | None
    to: list[Party]
    cc: list[Party]
    reply_to: Party | None
    sent_time: datetime | None
    thread_id: str | None
    editable: bool | None
    attachments: list[Attachment]
    status: list[EmailStatus]
    intent: str | None
    sentiment_info: str | None
    emotion: str | None
    raw: Mapping[str, Any] = field(default_factory=dict)
