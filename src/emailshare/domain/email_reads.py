"""What the emails use cases and the store say to each other (the ``service.emails.EmailReads``
port): plain values, no SQL, no wire spelling. The rules that read them are in
``domain.emails`` and ``domain.rules``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from emailshare.domain.emails import Basis, Listed, MailboxScope, Position
from emailshare.domain.mail import Email, EmailKind, Party
from emailshare.domain.model import DataSharing, EmailSharing
from emailshare.domain.roles import Span


@dataclass(frozen=True, slots=True)
class Selection:
    """What one list may hold, as the store selects it: CRM emails of ``crm_kinds`` made on
    ``crm_records``, and the mailbox emails that belong to ``record_id`` by ``basis`` as
    ``mailbox`` says. Which of them the caller sees is decided row by row."""

    record_id: int
    basis: Basis
    crm_kinds: frozenset[EmailKind]
    crm_records: tuple[int, ...]
    mailbox: MailboxScope


@dataclass(frozen=True, slots=True)
class Bound:
    """Where a run of a list's emails starts: after ``position`` in newest-first order, or
    (``backwards``) before it, nearest first, ``position`` itself included when ``inclusive``."""

    position: Position
    backwards: bool = False
    inclusive: bool = False


@dataclass(frozen=True, slots=True)
class Hidden:
    """Owners whose emails the caller does not see, found on earlier rows: their CRM emails,
    their mailbox emails of the record. The store leaves them out."""

    crm: frozenset[int] = frozenset()
    mailbox: frozenset[int] = frozenset()


Pair = tuple[str | None, str]  # a party: display name (maybe none) and address


class Head(NamedTuple):
    """An email of a list, as the store reads it and the list shows it: its columns as plain
    values (``kind`` an ``EmailKind`` value; ``offset`` minutes east of UTC; parties as
    pairs), then what the store read beside it: the linked Deal's name (None: none, or gone),
    whether it or an email of its owner's thread has attachments, and, for a mailbox email,
    whether its owner shared the record's emails. A tuple: a page's rows become these at a
    fraction of an ``Email``'s cost (a frozen dataclass of 23 fields, ~5 µs to build)."""

    message_id: str
    kind: str
    owner: int
    linked_deal: int | None
    epoch: int
    offset: int
    sender: Pair
    to: tuple[Pair, ...]
    cc: tuple[Pair, ...]
    subject: str | None
    sent: bool
    read: bool
    has_attachment: bool
    status: tuple[str, ...]
    source: str | None
    intent: str | None
    sentiment_info: str | None
    emotion: str | None
    summary: str | None
    linked_name: str | None
    thread_attachment: bool
    owner_shared: bool

    @property
    def position(self) -> Position:
        return (self.epoch, self.message_id)


Item = tuple[Head, str]  # a listed email, and its owner's name ("" when no user)


def _pairs(parties: tuple[Party, ...]) -> tuple[Pair, ...]:
    return tuple((p.user_name, p.email) for p in parties)


def head_of(item: Listed) -> Head:
    """A listed email (the in-memory reference's) as a :class:`Head`: one shape for the wire."""
    e = item.email
    offset = e.time.utcoffset() or timedelta()
    return Head(
        e.message_id,
        e.kind.value,
        e.owner,
        e.linked_deal,
        e.epoch,
        offset // timedelta(minutes=1),
        (e.sender.user_name, e.sender.email),
        _pairs(e.to),
        _pairs(e.cc),
        e.subject,
        e.sent,
        e.read,
        bool(e.attachments),
        e.status,
        e.source,
        e.intent,
        e.sentiment_info,
        e.emotion,
        e.summary,
        item.linked_name,
        item.thread_attachment,
        False,
    )


_ZONES: dict[int, timezone] = {}  # by minutes east of UTC: whole minutes within a day, bounded


def local_time(epoch: int, offset: int) -> datetime:
    """The instant ``epoch`` in the fixed offset of ``offset`` minutes east of UTC."""
    zone = _ZONES.get(offset)
    if zone is None:
        zone = _ZONES[offset] = timezone(timedelta(minutes=offset))
    return datetime.fromtimestamp(epoch, zone)


@dataclass(frozen=True, slots=True)
class Found:
    """One email as the store reads it for the one-email call: whole, with what :class:`Head`
    holds beside a listed email."""

    email: Email
    linked_name: str | None
    thread_attachment: bool
    owner_shared: bool


@dataclass(frozen=True, slots=True)
class Person:
    """A user of the org as the emails calls need them: the name an email shows, what the
    mailbox decision reads, and their role (None: none)."""

    name: str
    active: bool
    has_mailbox: bool
    mailbox_enabled: bool
    email_sharing: EmailSharing
    role: int | None


@dataclass(frozen=True, slots=True)
class People:
    """An org's users by id, its roles' spans by id, and its ``Emails`` data sharing: the same
    for every record, so read once and kept (``service.email_people``)."""

    users: Mapping[int, Person]
    spans: Mapping[int, Span]
    emails_sharing: DataSharing

    def above(self, role: int | None, other: int | None) -> bool:
        """Whether ``role`` is above ``other`` (``domain.roles.Span.above``)."""
        mine = self.spans.get(role) if role is not None else None
        theirs = self.spans.get(other) if other is not None else None
        return mine is not None and theirs is not None and mine.above(theirs)
