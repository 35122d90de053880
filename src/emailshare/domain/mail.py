"""The emails of an org as plain values (docs/contract.md §§10.1 and 12): what fixtures
describe, what the store keeps and what the pure rules of ``domain.emails`` read.

Records keep their own shape (``domain.model.Record``); what emails need of them (addresses,
a Contact's Account, a Deal's Contacts) is kept here, by record id, so the sharing model and
the email model stay apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EmailKind(StrEnum):
    """Mailbox emails are synced from a user's mailbox; the others were made in CRM."""

    MAILBOX = "mailbox"
    SENT = "sent"
    SCHEDULED = "scheduled"
    DRAFT = "draft"

    @property
    def from_crm(self) -> bool:
        return self is not EmailKind.MAILBOX


CRM_KINDS = frozenset({EmailKind.SENT, EmailKind.SCHEDULED, EmailKind.DRAFT})

# The ``type`` of a ``status`` entry (Zoho's; ``opened`` and ``bounced`` carry more in Zoho).
STATUS_TYPES = ("sent", "received", "scheduled", "draft", "opened", "bounced")


@dataclass(frozen=True, slots=True)
class Party:
    """A sender or recipient: a display name (maybe none) and an address."""

    user_name: str | None
    email: str


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class Email:
    """One stored email. ``time`` is timezone-aware, whole seconds, in the offset given."""

    message_id: str
    kind: EmailKind
    owner: int
    time: datetime
    sender: Party
    to: tuple[Party, ...] = ()
    cc: tuple[Party, ...] = ()
    reply_to: Party | None = None
    record: int | None = None  # the record a CRM email was made on
    linked_deal: int | None = None
    thread_id: str | None = None
    subject: str | None = None
    content: str = ""
    mail_format: str = "html"
    sent: bool = True
    read: bool = True
    attachments: tuple[Attachment, ...] = ()
    status: tuple[str, ...] = ()
    source: str | None = None
    intent: str | None = None
    sentiment_info: str | None = None
    emotion: str | None = None
    summary: str | None = None

    @property
    def epoch(self) -> int:
        """The instant, in seconds since the epoch: what newest-first ordering compares."""
        return int(self.time.timestamp())

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of ``from``, ``to`` and ``cc``: what associates it with records."""
        return (self.sender.email, *(p.email for p in self.to), *(p.email for p in self.cc))


def default_status(kind: EmailKind, sent: bool) -> tuple[str, ...]:
    """The ``status`` of an email that names none: its kind, or sent / received."""
    if kind is EmailKind.MAILBOX:
        return ("sent",) if sent else ("received",)
    return ("draft",) if kind is EmailKind.DRAFT else (kind.value,)


@dataclass(frozen=True, slots=True)
class OrgMail:
    """An org's emails and what associates them with records.

    ``addresses``: record id -> its addresses, Email first (Leads, Contacts, custom modules).
    ``accounts``: Contact id -> its Account id. ``contacts``: Deal id -> its Contact ids.
    """

    addresses: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    accounts: Mapping[int, int] = field(default_factory=dict)
    contacts: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    emails: tuple[Email, ...] = ()

    def email(self, message_id: str) -> Email | None:
        return next((e for e in self.emails if e.message_id == message_id), None)
