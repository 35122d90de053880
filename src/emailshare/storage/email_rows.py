"""Emails as rows: the one row writer (fixture loads, mailbox sync) and reader of the emails
table, and an org's email data written and read wholly (``storage.emails`` has the queries).
Parameterised always."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, Protocol

import orjson

from emailshare.domain import emails as rules
from emailshare.domain.email_reads import Pair, local_time
from emailshare.domain.mail import Attachment, Email, EmailKind, OrgMail, Party
from emailshare.domain.model import Org
from emailshare.storage.batch import insert_many
from emailshare.storage.db import Database, Params, Row, Tx


class Queryable(Protocol):
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


COLUMNS = (
    "e.message_id, e.kind, e.owner_id, e.record_id, e.linked_deal, e.thread_id, e.time_epoch,"
    " e.time_offset, e.from_name, e.from_email, e.to_json, e.cc_json, e.reply_to_json,"
    " e.subject, e.content, e.mail_format, e.sent, e.is_read, e.attachments_json,"
    " e.status_json, e.source, e.intent, e.sentiment_info, e.emotion, e.summary"
)


def marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _party(data: Any) -> Party:
    return Party(data["user_name"], data["email"])


def _json(text: str) -> Any:
    """Stored JSON text (written by ``json.dumps``), parsed by orjson, ~5 times faster; what
    orjson refuses and ``json`` reads (a lone surrogate's escape) is read by ``json``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _parties(text: str) -> tuple[Party, ...]:
    return () if text == "[]" else tuple(_party(p) for p in _json(text))


def pairs(text: str) -> tuple[Pair, ...]:
    """Stored parties (JSON text) as (display name, address) pairs."""
    return () if text == "[]" else tuple((p["user_name"], p["email"]) for p in _json(text))


def strings(text: str) -> tuple[str, ...]:
    """A stored JSON list of strings (an email's status) as a tuple."""
    return tuple(_json(text))


_KINDS = {k.value: k for k in EmailKind}


def email_of(r: Row) -> Email:
    """An email from its row (:data:`COLUMNS`); every list and one-email answer reads its
    emails here, so it spends as little as it can (docs/performance.md, "Emails")."""
    attachments = r[18]
    return Email(
        message_id=str(r[0]),
        kind=_KINDS[r[1]],
        owner=int(r[2]),
        record=None if r[3] is None else int(r[3]),
        linked_deal=None if r[4] is None else int(r[4]),
        thread_id=r[5],
        time=local_time(int(r[6]), int(r[7])),
        sender=Party(r[8], str(r[9])),
        to=_parties(r[10]),
        cc=_parties(r[11]),
        reply_to=None if r[12] is None else _party(_json(r[12])),
        subject=r[13],
        content=str(r[14]),
        mail_format=str(r[15]),
        sent=bool(r[16]),
        read=bool(r[17]),
        attachments=()
        if attachments == "[]"
        else tuple(Attachment(a["id"], a["name"], a["size"]) for a in _json(attachments)),
        status=strings(r[19]),
        source=r[20],
        intent=r[21],
        sentiment_info=r[22],
        emotion=r[23],
        summary=r[24],
    )


# --- whole orgs: fixture loads and the admin state -----------------------------------------


def _parties_json(parties: Iterable[Party]) -> str:
    return json.dumps([{"user_name": p.user_name, "email": p.email} for p in parties])


def email_row(org_id: int, position: int, e: Email) -> Params:
    """An email's row, in the column order of :data:`INSERT_EMAIL` (``position``: load order)."""
    offset = e.time.utcoffset() or timedelta()
    reply = None
    if e.reply_to is not None:
        reply = json.dumps({"user_name": e.reply_to.user_name, "email": e.reply_to.email})
    return (
        org_id,
        e.message_id,
        e.kind.value,
        e.owner,
        e.record,
        e.linked_deal,
        e.thread_id,
        e.epoch,
        offset // timedelta(minutes=1),
        e.sender.user_name,
        e.sender.email,
        _parties_json(e.to),
        _parties_json(e.cc),
        reply,
        e.subject,
        e.content,
        e.mail_format,
        int(e.sent),
        int(e.read),
        json.dumps([{"id": a.id, "name": a.name, "size": a.size} for a in e.attachments]),
        json.dumps(list(e.status)),
        e.source,
        e.intent,
        e.sentiment_info,
        e.emotion,
        e.summary,
        e.message_id.encode("ascii"),
        int(bool(e.attachments)),
        position,
    )


INSERT_EMAIL = (
    f"INSERT INTO emails (org_id, {COLUMNS.replace('e.', '')}, mid_key, has_attachment,"
    f" position) VALUES ({marks(range(29))})"
)


async def insert_mail(tx: Tx, org: Org) -> None:
    """Write an org's email data (its rows are gone: the org was just replaced)."""
    mail = org.mail
    await insert_many(
        tx,
        INSERT_RECORD_ADDRESS,
        [
            (org.id, rid, i, a, rules.address_key(a))
            for rid, found in mail.addresses.items()
            for i, a in enumerate(found)
        ],
    )
    await insert_many(
        tx,
        "INSERT INTO contact_accounts (org_id, contact_id, account_id) VALUES (?, ?, ?)",
        [(org.id, c, a) for c, a in mail.accounts.items()],
    )
    await insert_many(
        tx,
        "INSERT INTO deal_contacts (org_id, deal_id, contact_id, position) VALUES (?, ?, ?, ?)",
        [(org.id, d, c, i) for d, found in mail.contacts.items() for i, c in enumerate(found)],
    )
    await insert_many(
        tx,
        INSERT_EMAIL,
        [email_row(org.id, i, e) for i, e in enumerate(mail.emails)],
    )
    await insert_many(tx, INSERT_EMAIL_ADDRESS, address_rows(org.id, mail.emails))


def address_rows(org_id: int, emails: Iterable[Email]) -> list[Params]:
    """The ``email_addresses`` rows of mailbox emails (for :data:`INSERT_EMAIL_ADDRESS`)."""
    return [
        (org_id, key, e.message_id)
        for e in emails
        if e.kind is EmailKind.MAILBOX
        for key in sorted({rules.address_key(a) for a in e.addresses})
    ]


INSERT_RECORD_ADDRESS = (
    "INSERT INTO record_addresses (org_id, record_id, position, address, address_key)"
    " VALUES (?, ?, ?, ?, ?)"
)
INSERT_EMAIL_ADDRESS = (
    "INSERT INTO email_addresses (org_id, address_key, message_id) VALUES (?, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


async def read_mail(q: Queryable, org_id: int) -> OrgMail:
    """An org's email data as the domain holds it (emails in load order)."""
    addresses: dict[int, list[str]] = {}
    for rid, address in await q.fetchall(
        "SELECT record_id, address FROM record_addresses WHERE org_id = ?"
        " ORDER BY record_id, position",
        (org_id,),
    ):
        addresses.setdefault(int(rid), []).append(str(address))
    accounts = {
        int(c): int(a)
        for c, a in await q.fetchall(
            "SELECT contact_id, account_id FROM contact_accounts WHERE org_id = ?"
            " ORDER BY contact_id",
            (org_id,),
        )
    }
    contacts: dict[int, list[int]] = {}
    for d, c in await q.fetchall(
        "SELECT deal_id, contact_id FROM deal_contacts WHERE org_id = ? ORDER BY deal_id, position",
        (org_id,),
    ):
        contacts.setdefault(int(d), []).append(int(c))
    rows = await q.fetchall(
        f"SELECT {COLUMNS} FROM emails e WHERE e.org_id = ? ORDER BY e.position", (org_id,)
    )
    return OrgMail(
        {k: tuple(v) for k, v in addresses.items()},
        accounts,
        {k: tuple(v) for k, v in contacts.items()},
        tuple(email_of(r) for r in rows),
    )


async def add_synced(tx: Tx, org_id: int, email: Email) -> bool:
    """One mailbox email synced from a real mailbox (service.mailsync), unless its message id
    is stored already (the same message seen again); True when it is new."""
    if await tx.execute(INSERT_EMAIL + " ON CONFLICT DO NOTHING", email_row(org_id, 0, email)) != 1:
        return False
    await tx.executemany(
        "INSERT INTO email_addresses (org_id, address_key, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [
            (org_id, k, email.message_id)
            for k in sorted({rules.address_key(a) for a in email.addresses})
        ],
    )
    return True


_MAIL_TABLES = ("emails", "email_addresses", "record_addresses", "contact_accounts")


async def analyze_mail(db: Database) -> None:
    """Refresh PostgreSQL's statistics of the email tables after a load.

    PostgreSQL plans the emails queries from statistics, and a fresh load has none until
    autovacuum comes round: plans made without them walk whole tables (measured with
    bench/emails_list.py on a fresh database: 194 ms a page, 20 ms once analysed). SQLite plans
    without statistics, from the queries themselves (storage/emails.py says where to start), so
    it is left alone.
    """
    if db.dialect != "postgresql":
        return
    async with db.transaction(bump=False) as tx:
        for table in _MAIL_TABLES:  # constants of this module, never input
            await tx.execute(f"ANALYZE {table}")
