"""The emails part of ``emailshare gen`` (``--emails-per-record N``, ``--emails-requests-out``).

For an org that ``synth`` has just written, :func:`write_emails` gives every record an address
when its module has addresses (Leads, Contacts, custom modules; docs/contract.md §12.3) and
``N`` emails: about 60% mailbox emails (from or to the record's address, owned by an active
user with a mailbox; on a Deal, linked to it), the rest CRM emails made on the record (sent,
scheduled, draft). Emails are made and written a batch at a time, never held all at once, so
millions fit in a small, flat memory. ``requests_out`` gets ``<path>\\t<token>`` lines for calls
the caller may make: the record's list (``…/Emails``) and one of its CRM emails
(``…/Emails/{message_id}``), both as the record's owner, who always reads the record and sees
the CRM emails they sent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice
from typing import IO

from emailshare.domain import emails as rules
from emailshare.domain.mail import Email, EmailKind, Party
from emailshare.domain.model import Org, Record, Status, User
from emailshare.storage import batch, email_rows
from emailshare.storage.db import Database

_KINDS = (EmailKind.MAILBOX,) * 12 + (EmailKind.SENT,) * 5 + (EmailKind.SCHEDULED, EmailKind.DRAFT)
_OFFSETS = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-5)))
_START = datetime(2024, 1, 1, tzinfo=UTC)
_SUBJECTS = ("Quote", "Follow-up", "Meeting", "Invoice", "Re: proposal", "Question", "Thanks")


PER_TRANSACTION = 250_000  # emails written in one transaction


@dataclass(frozen=True)
class EmailsPlan:
    """What ``gen`` was asked for: emails per record, and where the request lines go."""

    per_record: int
    requests_out: IO[str] | None = None


@dataclass(frozen=True)
class EmailsSummary:
    emails: int
    requests: int


def record_address(record: Record) -> str:
    """The one address gen gives an addressed record."""
    return f"r{record.id}@customers.test"


def _emails_of(
    rnd: random.Random,
    users: dict[int, User],
    record: Record,
    per_record: int,
    senders: list[tuple[int, str, str]],
) -> Iterator[Email]:
    addressed = rules.has_addresses(record.module)
    deal = record.module == "Deals"
    customer = Party("Customer " + str(record.id % 997), record_address(record))
    for i in range(per_record):
        # The first is always a sent CRM email of the record's owner: the one-email request.
        kind = rnd.choice(_KINDS) if i else EmailKind.SENT
        when = (_START + timedelta(seconds=rnd.randrange(63_072_000))).astimezone(
            rnd.choice(_OFFSETS)
        )
        message_id = f"{record.id:x}{i:05x}"
        subject = f"{rnd.choice(_SUBJECTS)} {i}"
        if kind is EmailKind.MAILBOX and senders and (addressed or deal):
            uid, name, box = rnd.choice(senders)
            me = Party(name, box)
            outgoing = rnd.random() < 0.5
            yield Email(
                message_id=message_id,
                kind=kind,
                owner=uid,
                time=when,
                sender=me if outgoing else customer,
                to=(customer if outgoing else me,),
                linked_deal=record.id if deal else None,
                thread_id=str(record.id % 1_000_000_007 + i // 3),
                subject=subject,
                content=f"<p>{subject}</p>",
                sent=outgoing,
                read=rnd.random() < 0.8,
                status=("sent",) if outgoing else ("received",),
            )
            continue
        if kind is EmailKind.MAILBOX:
            kind = EmailKind.SENT
        sender = users.get(record.owner if i == 0 or not senders else rnd.choice(senders)[0])
        yield Email(
            message_id=message_id,
            kind=kind,
            owner=sender.id if sender else record.owner,
            time=when,
            sender=Party(sender.name, sender.email) if sender else customer,
            to=(customer,),
            record=record.id,
            subject=subject,
            content=f"<div>{subject}</div>",
            status=("draft",) if kind is EmailKind.DRAFT else (kind.value,),
            source="individual",
        )


async def write_emails(
    db: Database,
    org: Org,
    per_record: int,
    rnd: random.Random,
    requests_out: IO[str] | None,
    progress: batch.Progress | None = None,
) -> EmailsSummary:
    """Give ``org``'s records (already written) addresses and ``per_record`` emails each,
    written through the bulk API a batch at a time, :data:`PER_TRANSACTION` emails to a
    transaction (one transaction of millions of rows grows SQLite's WAL without bound and
    slows every write); request lines go to ``requests_out``."""
    if per_record <= 0:
        return EmailsSummary(0, 0)
    senders = [
        (u.id, u.name, u.mailbox.address)
        for u in org.users
        if u.status is Status.ACTIVE and u.mailbox is not None and u.mailbox.enabled
    ]
    tokens = {t.user: t.access_token for t in org.tokens}
    users = {u.id: u for u in org.users}
    addressed = (
        (org.id, r.id, 0, record_address(r), rules.address_key(record_address(r)))
        for r in org.records
        if rules.has_addresses(r.module)
    )
    async with db.transaction() as tx:
        await batch.insert_many(
            tx, email_rows.INSERT_RECORD_ADDRESS, addressed, progress, "addresses"
        )
    lines = 0

    def every() -> Iterator[Email]:
        nonlocal lines
        for record in org.records:
            yield from _emails_of(rnd, users, record, per_record, senders)
            token = tokens.get(record.owner)
            if requests_out is not None and token is not None:
                path = f"/crm/v8/{record.module}/{record.id}/Emails"
                requests_out.write(f"{path}\t{token}\n{path}/{record.id:x}00000\t{token}\n")
                lines += 2

    written = 0
    emails = every()
    while True:
        async with db.transaction() as tx:
            for _ in range(PER_TRANSACTION // batch.BATCH):
                chunk = list(islice(emails, batch.BATCH))
                if not chunk:
                    return EmailsSummary(written, lines)
                rows = (email_rows.email_row(org.id, written + i, e) for i, e in enumerate(chunk))
                await batch.insert_many(tx, email_rows.INSERT_EMAIL, rows, progress, "emails")
                found = email_rows.address_rows(org.id, chunk)
                await batch.insert_many(tx, email_rows.INSERT_EMAIL_ADDRESS, found)
                written += len(chunk)
