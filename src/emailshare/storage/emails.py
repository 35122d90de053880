"""Every SQL statement of the emails model (docs/contract.md §12), behind typed methods.

:class:`EmailStore` implements the ``service.emails.EmailReads`` port; the rows themselves
are written and read in ``storage.email_rows`` (re-exported here for importers).
Parameterised always; statements are assembled only from this module's constant fragments.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from emailshare.domain import emails as rules
from emailshare.domain.mail import EmailKind
from emailshare.domain.model import DataSharing, EmailSharing
from emailshare.domain.rules import MailboxFacts
from emailshare.storage.db import Database, Row
from emailshare.storage.email_rows import (
    COLUMNS,
    add_synced,
    email_of,
    insert_mail,
    marks,
    read_mail,
)

__all__ = ["EmailStore", "add_synced", "insert_mail", "read_mail"]


_KEY_COLUMNS = "e.org_id, e.message_id, e.time_epoch, e.mid_key"
_KEYS = f"SELECT {_KEY_COLUMNS} FROM emails e"
_LISTED = (
    f"SELECT {COLUMNS}, u.name, d.name,"
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
# The message ids of the mailbox emails that belong to a record by address: from the record's
# few addresses (CROSS JOIN makes SQLite start there; to PostgreSQL it is an inner join).
_ADDRESSED = (
    "SELECT DISTINCT a.message_id FROM record_addresses r CROSS JOIN email_addresses a"
    " WHERE a.org_id = r.org_id AND a.address_key = r.address_key"
    " AND r.org_id = ? AND r.record_id {target}"
)
_TARGET = {
    rules.Basis.OWN_ADDRESSES: "= ?",
    rules.Basis.CONTACTS_ADDRESSES: f"IN ({_ACCOUNT_CONTACTS})",
}
# A mailbox email ``e`` belongs to the record: the association (domain.emails.Basis).
_ASSOCIATION: dict[rules.Basis, str] = {
    **{b: f"e.message_id IN ({_ADDRESSED.format(target=t)})" for b, t in _TARGET.items()},
    rules.Basis.LINKED_DEAL: "e.linked_deal = ?",
}
_MAILBOX_FACTS = (
    "SELECT u.id, u.status, u.mailbox_protocol, u.mailbox_enabled, u.email_sharing,"
    " EXISTS (SELECT 1 FROM email_shares s"
    "   WHERE s.org_id = u.org_id AND s.record_id = ? AND s.user_id = u.id)"
    " FROM users u WHERE u.org_id = ?"
)


def _assoc_params(basis: rules.Basis, org_id: int, record_id: int) -> tuple[int, ...]:
    if basis is rules.Basis.CONTACTS_ADDRESSES:
        return (org_id, org_id, record_id)
    return (org_id, record_id) if basis is rules.Basis.OWN_ADDRESSES else (record_id,)


def _mailbox_source(
    basis: rules.Basis, org_id: int, record_id: int
) -> tuple[str, list[Any]] | None:
    """``FROM … WHERE …`` of the record's mailbox emails ``e``, and its parameters: from the
    record's addresses, probing the emails by id, or by the Deal they are linked to."""
    mailbox = "e.kind = 'mailbox'"
    if basis in _TARGET:
        found = _ADDRESSED.format(target=_TARGET[basis])
        sql = (
            f"FROM ({found}) m CROSS JOIN emails e"
            f" WHERE e.org_id = ? AND e.message_id = m.message_id AND {mailbox}"
        )
        return sql, [*_assoc_params(basis, org_id, record_id), org_id]
    if basis is rules.Basis.LINKED_DEAL:
        return f"FROM emails e WHERE e.org_id = ? AND e.linked_deal = ? AND {mailbox}", [
            org_id,
            record_id,
        ]
    return None


def _facts(row: Row, caller_id: int) -> MailboxFacts:
    return MailboxFacts(
        active=row[1] == "active",
        has_mailbox=row[2] is not None,
        mailbox_enabled=bool(row[3]),
        is_caller=int(row[0]) == caller_id,
        email_sharing=EmailSharing(row[4]),
        shared_this_record=bool(row[5]),
    )


def _listed(r: Row) -> rules.Listed:
    email = email_of(r)
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
        source = _mailbox_source(basis, org_id, record_id)
        if source is None:
            return {}
        # Two steps: the owners (few), then their facts; as one semi-join the planners may
        # walk every email of each user instead.
        # ``+e.owner_id``: not an index's column, so no planner serves the DISTINCT by walking
        # an index on owner_id (SQLite did, every email of the org, 0.3 s at 500k emails).
        found = await self.db.fetchall(f"SELECT DISTINCT +e.owner_id {source[0]}", source[1])
        owners = sorted(int(r[0]) for r in found)
        if not owners:
            return {}
        sql = f"{_MAILBOX_FACTS} AND u.id IN ({marks(owners)})"
        rows = await self.db.fetchall(sql, (record_id, org_id, *owners))
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
            "SELECT o.id, EXISTS (SELECT 1 FROM roles ro"
            "   JOIN roles rc ON rc.org_id = ro.org_id AND rc.id = ?"
            "   WHERE ro.org_id = o.org_id AND ro.id = o.role_id"
            "   AND rc.lo < ro.lo AND ro.lo <= rc.hi)"
            " FROM users o WHERE o.org_id = ? AND o.id IN (SELECT e.owner_id FROM emails e"
            f" WHERE e.org_id = ? AND e.record_id IN ({marks(record_ids)})"
            f" AND e.kind IN ({marks(kind_list)}))"
        )
        role = caller_role if caller_role is not None else -1
        params = (role, org_id, org_id, *record_ids, *kind_list)
        rows = await self.db.fetchall(sql, params)
        return {int(r[0]): bool(r[1]) for r in rows}

    async def page(
        self, org_id: int, query: rules.PageQuery, start: rules.Position | None, backwards: bool
    ) -> list[rules.Listed]:
        """Up to ``PER_PAGE + 1`` emails of ``query`` after ``start`` in newest-first order;
        ``backwards``: those at or before ``start``, nearest first."""
        # One SELECT per part (CRM emails of the records; mailbox emails of the record), each
        # served by its own index, joined by UNION ALL (a row is in one part only: its kind),
        # cut to a page, then read whole.
        parts: list[str] = []
        params: list[Any] = []
        keyset, keys = "", []
        if start is not None:
            newer = "e.time_epoch > ? OR (e.time_epoch = ? AND e.mid_key <= ?)"
            older = "e.time_epoch < ? OR (e.time_epoch = ? AND e.mid_key > ?)"
            keyset = f" AND ({newer if backwards else older})"
            keys = [start[0], start[0], start[1].encode("ascii")]
        kinds = sorted(k.value for k in query.crm_kinds)
        if kinds and query.crm_records and query.crm_owners != frozenset():
            part = (
                f"{_KEYS} WHERE e.org_id = ? AND e.record_id IN ({marks(query.crm_records)})"
                f" AND e.kind IN ({marks(kinds)})"
            )
            params += [org_id, *query.crm_records, *kinds]
            if query.crm_owners is not None:
                owners = sorted(query.crm_owners)
                part += f" AND e.owner_id IN ({marks(owners)})"
                params += owners
            parts.append(part + keyset)
            params += keys
        source = _mailbox_source(query.basis, org_id, query.record_id)
        if query.mailbox_owners and source is not None:
            owners = sorted(query.mailbox_owners)
            parts.append(
                f"SELECT {_KEY_COLUMNS} {source[0]} AND e.owner_id IN ({marks(owners)}){keyset}"
            )
            params += [*source[1], *owners, *keys]
        if not parts:
            return []
        order = "time_epoch, mid_key DESC" if backwards else "time_epoch DESC, mid_key"
        again = "e.time_epoch, e.mid_key DESC" if backwards else "e.time_epoch DESC, e.mid_key"
        sql = (
            f"WITH page AS (SELECT * FROM ({' UNION ALL '.join(parts)}) k"
            f" ORDER BY {order} LIMIT {rules.PER_PAGE + 1})"
            f" {_LISTED} JOIN page p ON p.org_id = e.org_id AND p.message_id = e.message_id"
            f" ORDER BY {again}"
        )
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
