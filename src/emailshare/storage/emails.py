"""Every SQL statement of the emails model (docs/contract.md §12), behind typed methods.

:class:`EmailStore` implements the ``service.emails.EmailReads`` port; ``insert_mail`` and
``read_mail`` write and read an org's email data wholly (fixture loads, the admin state).
Parameterised always; statements are assembled only from this module's constant fragments.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol

from emailshare.domain import emails as rules
from emailshare.domain.mail import Attachment, Email, EmailKind, OrgMail, Party
from emailshare.domain.model import DataSharing, EmailSharing, Org
from emailshare.domain.rules import MailboxFacts
from emailshare.storage.db import Database, Params, Row, Tx


class Queryable(Protocol):
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


_COLUMNS = (
    "e.message_id, e.kind, e.owner_id, e.record_id, e.linked_deal, e.thread_id, e.time_epoch,"
    " e.time_offset, e.from_name, e.from_email, e.to_json, e.cc_json, e.reply_to_json,"
    " e.subject, e.content, e.mail_format, e.sent, e.is_read, e.attachments_json,"
    " e.status_json, e.source, e.intent, e.sentiment_info, e.emotion, e.summary"
)
_LISTED = (
    f"SELECT {_COLUMNS}, u.name, d.name,"
    " EXISTS (SELECT 1 FROM emails t WHERE t.org_id = e.org_id AND t.owner_id = e.owner_id"
    "   AND t.thread_id = e.thread_id AND t.has_attachment = 1)"
    " FROM emails e LEFT JOIN users u ON u.org_id = e.org_id AND u.id = e.owner_id"
    " LEFT JOIN records d ON d.org_id = e.org_id AND d.id = e.linked_deal AND d.deleted = 0"
)
# The live Contacts of an Account, of a Deal.
_ACCOUNT_CONTACTS = (
    "SELECT c.contact_id FROM contact_accounts c JOIN records r"
    " ON r.org_id = c.org_id AND r.id = c.contact_id AND r.deleted = 0"
    " WHERE c.org_id = ? AND c.account_id = ?"
)
_DEAL_CONTACTS = (
    "SELECT c.contact_id FROM deal_contacts c JOIN records r"
    " ON r.org_id = c.org_id AND r.id = c.contact_id AND r.deleted = 0 AND r.module = 'Contacts'"
    " WHERE c.org_id = ? AND c.deal_id = ?"
)
# A mailbox email ``e`` belongs to the record: the association (domain.emails.Basis).
_BY_ADDRESS = (
    "EXISTS (SELECT 1 FROM email_addresses a JOIN record_addresses r"
    " ON r.org_id = a.org_id AND r.address_key = a.address_key"
    " WHERE a.org_id = e.org_id AND a.message_id = e.message_id AND r.record_id {target})"
)
_ASSOCIATION: dict[rules.Basis, str] = {
    rules.Basis.OWN_ADDRESSES: _BY_ADDRESS.format(target="= ?"),
    rules.Basis.CONTACTS_ADDRESSES: _BY_ADDRESS.format(target=f"IN ({_ACCOUNT_CONTACTS})"),
    rules.Basis.LINKED_DEAL: "e.linked_deal = ?",
}
_MAILBOX_FACTS = (
    "SELECT u.id, u.status, u.mailbox_protocol, u.mailbox_enabled, u.email_sharing,"
    " EXISTS (SELECT 1 FROM email_shares s"
    "   WHERE s.org_id = u.org_id AND s.record_id = ? AND s.user_id = u.id)"
    " FROM users u WHERE u.org_id = ?"
)


def _assoc_params(basis: rules.Basis, org_id: int, record_id: int) -> tuple[int, ...]:
    return (org_id, record_id) if basis is rules.Basis.CONTACTS_ADDRESSES else (record_id,)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _facts(row: Row, caller_id: int) -> MailboxFacts:
    return MailboxFacts(
        active=row[1] == "active",
        has_mailbox=row[2] is not None,
        mailbox_enabled=bool(row[3]),
        is_caller=int(row[0]) == caller_id,
        email_sharing=EmailSharing(row[4]),
        shared_this_record=bool(row[5]),
    )


def _party(data: Any) -> Party:
    return Party(data["user_name"], data["email"])


def _email(r: Row) -> Email:
    offset = timezone(timedelta(minutes=int(r[7])))
    return Email(
        message_id=str(r[0]),
        kind=EmailKind(r[1]),
        owner=int(r[2]),
        record=None if r[3] is None else int(r[3]),
        linked_deal=None if r[4] is None else int(r[4]),
        thread_id=r[5],
        time=datetime.fromtimestamp(int(r[6]), UTC).astimezone(offset),
        sender=Party(r[8], str(r[9])),
        to=tuple(_party(p) for p in json.loads(r[10])),
        cc=tuple(_party(p) for p in json.loads(r[11])),
        reply_to=None if r[12] is None else _party(json.loads(r[12])),
        subject=r[13],
        content=str(r[14]),
        mail_format=str(r[15]),
        sent=bool(r[16]),
        read=bool(r[17]),
        attachments=tuple(Attachment(a["id"], a["name"], a["size"]) for a in json.loads(r[18])),
        status=tuple(json.loads(r[19])),
        source=r[20],
        intent=r[21],
        sentiment_info=r[22],
        emotion=r[23],
        summary=r[24],
    )


def _listed(r: Row) -> rules.Listed:
    email = _email(r)
    return rules.Listed(email, str(r[25] or ""), r[26], bool(r[27]) or bool(email.attachments))


class EmailStore:
    """The emails model's reads (the ``service.emails.EmailReads`` port)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._secret: bytes | None = None

    async def paging_secret(self) -> bytes:
        """This store's key for signing page tokens: made once, kept in the store, so every
        worker and instance of the store accepts the tokens of the others."""
        if self._secret is None:
            async with self.db.transaction(bump=False) as tx:
                await tx.execute(
                    "INSERT INTO store_secrets (name, secret) VALUES ('email_index', ?)"
                    " ON CONFLICT DO NOTHING",
                    (secrets.token_hex(32),),
                )
                row = await tx.fetchone(
                    "SELECT secret FROM store_secrets WHERE name = 'email_index'"
                )
            assert row is not None
            self._secret = bytes.fromhex(str(row[0]))
        return self._secret

    async def emails_sharing(self, org_id: int) -> DataSharing:
        row = await self.db.fetchone(
            "SELECT level FROM data_sharing WHERE org_id = ? AND module = ?",
            (org_id, rules.EMAILS_SHARING),
        )
        return DataSharing(row[0]) if row else rules.DEFAULT_EMAILS_SHARING

    async def user_exists(self, org_id: int, user_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM users WHERE org_id = ? AND id = ?", (org_id, user_id)
        )
        return row is not None

    async def contacts(self, org_id: int, record_id: int, module: str) -> list[int]:
        """The live Contacts of an Account or a Deal, by id (none for other modules)."""
        sql = {"Accounts": _ACCOUNT_CONTACTS, "Deals": _DEAL_CONTACTS}.get(module)
        if sql is None:
            return []
        rows = await self.db.fetchall(sql + " ORDER BY c.contact_id", (org_id, record_id))
        return [int(r[0]) for r in rows]

    async def mailbox_owners(
        self, org_id: int, record_id: int, basis: rules.Basis, caller_id: int
    ) -> dict[int, MailboxFacts]:
        """The owners of the record's mailbox emails, with what decides reading them."""
        assoc = _ASSOCIATION.get(basis)
        if assoc is None:
            return {}
        sql = (
            f"{_MAILBOX_FACTS} AND u.id IN (SELECT e.owner_id FROM emails e"
            f" WHERE e.org_id = ? AND e.kind = 'mailbox' AND {assoc})"
        )
        params = (record_id, org_id, org_id, *_assoc_params(basis, org_id, record_id))
        rows = await self.db.fetchall(sql, params)
        return {int(r[0]): _facts(r, caller_id) for r in rows}

    async def mailbox_facts(
        self, org_id: int, user_id: int, record_id: int, caller_id: int
    ) -> MailboxFacts | None:
        row = await self.db.fetchone(f"{_MAILBOX_FACTS} AND u.id = ?", (record_id, org_id, user_id))
        return None if row is None else _facts(row, caller_id)

    async def crm_owners(
        self,
        org_id: int,
        record_ids: Sequence[int],
        kinds: Iterable[EmailKind],
        caller_role: int | None,
    ) -> dict[int, bool]:
        """The owners of these records' CRM emails of these kinds: is the caller's role
        above the owner's?"""
        kind_list = sorted(k.value for k in kinds)
        if not record_ids or not kind_list:
            return {}
        sql = (
            "SELECT DISTINCT e.owner_id, EXISTS (SELECT 1 FROM users o JOIN role_ancestors a"
            " ON a.org_id = o.org_id AND a.role_id = o.role_id"
            " WHERE o.org_id = e.org_id AND o.id = e.owner_id AND a.ancestor_id = ?)"
            f" FROM emails e WHERE e.org_id = ? AND e.kind IN ({_marks(kind_list)})"
            f" AND e.record_id IN ({_marks(record_ids)})"
        )
        role = caller_role if caller_role is not None else -1
        rows = await self.db.fetchall(sql, (role, org_id, *kind_list, *record_ids))
        return {int(r[0]): bool(r[1]) for r in rows}

    async def page(
        self, org_id: int, query: rules.PageQuery, start: rules.Position | None, backwards: bool
    ) -> list[rules.Listed]:
        """Up to ``PER_PAGE + 1`` emails of ``query`` after ``start`` in newest-first order;
        ``backwards``: those at or before ``start``, nearest first."""
        parts: list[str] = []
        params: list[Any] = [org_id]
        kinds = sorted(k.value for k in query.crm_kinds)
        if kinds and query.crm_records and query.crm_owners != frozenset():
            part = f"(e.kind IN ({_marks(kinds)}) AND e.record_id IN ({_marks(query.crm_records)})"
            params += [*kinds, *query.crm_records]
            if query.crm_owners is not None:
                owners = sorted(query.crm_owners)
                part += f" AND e.owner_id IN ({_marks(owners)})"
                params += owners
            parts.append(part + ")")
        assoc = _ASSOCIATION.get(query.basis)
        if query.mailbox_owners and assoc is not None:
            owners = sorted(query.mailbox_owners)
            parts.append(f"(e.kind = 'mailbox' AND e.owner_id IN ({_marks(owners)}) AND {assoc})")
            params += [*owners, *_assoc_params(query.basis, org_id, query.record_id)]
        if not parts:
            return []
        sql = f"{_LISTED} WHERE e.org_id = ? AND ({' OR '.join(parts)})"
        if start is not None:
            if backwards:
                sql += " AND (e.time_epoch > ? OR (e.time_epoch = ? AND e.mid_key <= ?))"
            else:
                sql += " AND (e.time_epoch < ? OR (e.time_epoch = ? AND e.mid_key > ?))"
            params += [start[0], start[0], start[1].encode("ascii")]
        order = "e.time_epoch, e.mid_key DESC" if backwards else "e.time_epoch DESC, e.mid_key"
        sql += f" ORDER BY {order} LIMIT {rules.PER_PAGE + 1}"
        return [_listed(r) for r in await self.db.fetchall(sql, params)]

    async def email(self, org_id: int, message_id: str) -> rules.Listed | None:
        row = await self.db.fetchone(
            f"{_LISTED} WHERE e.org_id = ? AND e.message_id = ?", (org_id, message_id)
        )
        return None if row is None else _listed(row)

    async def associated(
        self, org_id: int, message_id: str, basis: rules.Basis, record_id: int
    ) -> bool:
        """Whether the mailbox email belongs to the record (domain.emails.associated)."""
        assoc = _ASSOCIATION.get(basis)
        if assoc is None:
            return False
        row = await self.db.fetchone(
            f"SELECT 1 FROM emails e WHERE e.org_id = ? AND e.message_id = ? AND {assoc}",
            (org_id, message_id, *_assoc_params(basis, org_id, record_id)),
        )
        return row is not None


# --- whole orgs: fixture loads and the admin state -----------------------------------------


def _parties(parties: Iterable[Party]) -> str:
    return json.dumps([{"user_name": p.user_name, "email": p.email} for p in parties])


def _email_row(org_id: int, position: int, e: Email) -> Params:
    """An email's row, in the column order of ``_INSERT``."""
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
        _parties(e.to),
        _parties(e.cc),
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


_INSERT = (
    f"INSERT INTO emails (org_id, {_COLUMNS.replace('e.', '')}, mid_key, has_attachment,"
    f" position) VALUES ({_marks(range(29))})"
)


async def _many(tx: Tx, sql: str, rows: list[Params]) -> None:
    if rows:
        await tx.executemany(sql, rows)


async def insert_mail(tx: Tx, org: Org) -> None:
    """Write an org's email data (its rows are gone: the org was just replaced)."""
    mail = org.mail
    await _many(
        tx,
        "INSERT INTO record_addresses (org_id, record_id, position, address, address_key)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (org.id, rid, i, a, rules.address_key(a))
            for rid, found in mail.addresses.items()
            for i, a in enumerate(found)
        ],
    )
    await _many(
        tx,
        "INSERT INTO contact_accounts (org_id, contact_id, account_id) VALUES (?, ?, ?)",
        [(org.id, c, a) for c, a in mail.accounts.items()],
    )
    await _many(
        tx,
        "INSERT INTO deal_contacts (org_id, deal_id, contact_id, position) VALUES (?, ?, ?, ?)",
        [(org.id, d, c, i) for d, found in mail.contacts.items() for i, c in enumerate(found)],
    )
    await _many(
        tx,
        _INSERT,
        [_email_row(org.id, i, e) for i, e in enumerate(mail.emails)],
    )
    await _many(
        tx,
        "INSERT INTO email_addresses (org_id, address_key, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [
            (org.id, key, e.message_id)
            for e in mail.emails
            if e.kind is EmailKind.MAILBOX
            for key in sorted({rules.address_key(a) for a in e.addresses})
        ],
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
        f"SELECT {_COLUMNS} FROM emails e WHERE e.org_id = ? ORDER BY e.position", (org_id,)
    )
    return OrgMail(
        {k: tuple(v) for k, v in addresses.items()},
        accounts,
        {k: tuple(v) for k, v in contacts.items()},
        tuple(_email(r) for r in rows),
    )


async def add_synced(tx: Tx, org_id: int, email: Email) -> bool:
    """One mailbox email synced from a real mailbox (service.mailsync), unless its message id
    is stored already (the same message seen again); True when it is new."""
    if await tx.execute(_INSERT + " ON CONFLICT DO NOTHING", _email_row(org_id, 0, email)) != 1:
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
