"""Every SQL statement of the emails model (docs/contract.md §12), behind typed methods.

:class:`EmailStore` implements the ``service.emails.EmailReads`` port; the rows themselves
are written and read in ``storage.email_rows`` (re-exported here for importers).
Parameterised always; statements are assembled only from this module's constant fragments.

What a request costs (docs/emails.md, "What a list costs"): a page is one statement
(:meth:`EmailStore.candidates`), one email one statement (:meth:`EmailStore.opened`); the org's
users, roles and ``Emails`` data sharing are read once per org (:meth:`EmailStore.people`) and
kept by the service.
"""

from __future__ import annotations

import secrets
from typing import Any

from emailshare.domain import email_reads as reads
from emailshare.domain import emails as rules
from emailshare.domain.model import DataSharing, EmailSharing, Status
from emailshare.domain.roles import Span
from emailshare.storage.db import Database, Row
from emailshare.storage.email_rows import (
    COLUMNS,
    add_synced,
    email_of,
    insert_mail,
    marks,
    pairs,
    read_mail,
    strings,
)

__all__ = ["EmailStore", "add_synced", "insert_mail", "read_mail"]


# What a list shows of an email (domain.email_reads.Head, in its order), never ``content``.
_HEAD_COLUMNS = (
    "message_id, kind, owner_id, linked_deal, time_epoch, time_offset, from_name, from_email,"
    " to_json, cc_json, subject, sent, is_read, has_attachment, status_json, source, intent,"
    " sentiment_info, emotion, summary"
)
# A part's rows: only what orders them and finds them again. The page is cut to its few rows
# on these three columns; then each row left is read once, by its key (``candidates``).
_PART_COLUMNS = "e.message_id, e.time_epoch, e.mid_key"
_HEAD = ", ".join(f"k.{c}" for c in _HEAD_COLUMNS.split(", "))
# Beside an email ``k`` (of org ?): whether it or an email of the same owner and thread has
# attachments; for a mailbox email, whether its owner shared record ? (a record-level email
# share). CASE reads only what the row needs, in both stores.
_FACTS = (
    " CASE WHEN k.has_attachment = 1 THEN TRUE"
    "   WHEN k.thread_id IS NOT NULL THEN EXISTS (SELECT 1 FROM emails t"
    "   WHERE t.org_id = ? AND t.owner_id = k.owner_id AND t.thread_id = k.thread_id"
    "   AND t.has_attachment = 1) ELSE FALSE END,"
    " CASE WHEN k.kind = 'mailbox' THEN EXISTS (SELECT 1 FROM email_shares s"
    "   WHERE s.org_id = ? AND s.record_id = ? AND s.user_id = k.owner_id) ELSE FALSE END"
)
_DEAL = " LEFT JOIN records d ON d.org_id = ? AND d.id = k.linked_deal AND d.deleted = 0"
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
# Whether the email ``k`` belongs to the record: the association (domain.emails.Basis).
_ASSOCIATION: dict[rules.Basis, str] = {
    **{b: f"k.message_id IN ({_ADDRESSED.format(target=t)})" for b, t in _TARGET.items()},
    rules.Basis.LINKED_DEAL: "k.linked_deal = ?",
}
# Keyset bounds in newest-first order (time descending, then message id), each led by a range
# on time_epoch that the indexes' (…, time_epoch DESC, mid_key) tails serve: strictly older
# than a position; at or newer than it; strictly newer.
_OLDER = " AND e.time_epoch <= ? AND (e.time_epoch < ? OR e.mid_key > ?)"
_NEWER_OR_AT = " AND e.time_epoch >= ? AND (e.time_epoch > ? OR e.mid_key <= ?)"
_NEWER = " AND e.time_epoch >= ? AND (e.time_epoch > ? OR e.mid_key < ?)"
_USERS = (
    "SELECT id, name, status, mailbox_protocol, mailbox_enabled, email_sharing, role_id"
    " FROM users WHERE org_id = ?"
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


def _not_in(values: frozenset[int]) -> tuple[str, list[int]]:
    """`` AND +e.owner_id NOT IN (…)``: ``+`` keeps the planners off indexes led by owner_id
    (SQLite would walk the org's emails along emails_by_thread)."""
    if not values:
        return "", []
    found = sorted(values)
    return f" AND +e.owner_id NOT IN ({marks(found)})", found


def _found(r: Row) -> reads.Found:
    """An email's ``COLUMNS``, then the Deal's name and ``_FACTS``."""
    return reads.Found(email_of(r), r[25], bool(r[26]), bool(r[27]))


def _head(r: Row) -> reads.Head:
    """``_HEAD_COLUMNS``, then the Deal's name and ``_FACTS``."""
    return reads.Head(
        str(r[0]),
        str(r[1]),
        int(r[2]),
        r[3],
        int(r[4]),
        int(r[5]),
        (r[6], str(r[7])),
        pairs(r[8]),
        pairs(r[9]),
        r[10],
        bool(r[11]),
        bool(r[12]),
        bool(r[13]),
        strings(r[14]),
        r[15],
        r[16],
        r[17],
        r[18],
        r[19],
        r[20],
        bool(r[21]),
        bool(r[22]),
    )


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

    async def people(self, org_id: int) -> reads.People:
        """The org's users, its roles' spans and its ``Emails`` data sharing (3 statements)."""
        users = {
            int(r[0]): reads.Person(
                str(r[1]),
                r[2] == Status.ACTIVE,
                r[3] is not None,
                bool(r[4]),
                EmailSharing(r[5]),
                None if r[6] is None else int(r[6]),
            )
            for r in await self.db.fetchall(_USERS, (org_id,))
        }
        spans = {
            int(r[0]): Span(int(r[1]), int(r[2]), 0)
            for r in await self.db.fetchall(
                "SELECT id, lo, hi FROM roles WHERE org_id = ?", (org_id,)
            )
        }
        row = await self.db.fetchone(
            "SELECT level FROM data_sharing WHERE org_id = ? AND module = ?",
            (org_id, rules.EMAILS_SHARING),
        )
        level = DataSharing(row[0]) if row else rules.DEFAULT_EMAILS_SHARING
        return reads.People(users, spans, level)

    async def contacts(self, org_id: int, record_id: int, module: str) -> list[int]:
        """The live Contacts of an Account or a Deal, by id (none for other modules)."""
        sql = {"Accounts": _ACCOUNT_CONTACTS, "Deals": _DEAL_CONTACTS}.get(module)
        if sql is None:
            return []
        rows = await self.db.fetchall(sql + " ORDER BY c.contact_id", (org_id, record_id))
        return [int(r[0]) for r in rows]

    async def shared(self, org_id: int, record_id: int, user_id: int) -> bool:
        """Whether the user shared the record's emails (a record-level email share)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM email_shares WHERE org_id = ? AND record_id = ? AND user_id = ?",
            (org_id, record_id, user_id),
        )
        return row is not None

    async def candidates(
        self,
        org_id: int,
        selection: reads.Selection,
        bound: reads.Bound | None,
        limit: int,
        hidden: reads.Hidden,
    ) -> list[reads.Head]:
        """Up to ``limit`` emails of ``selection`` past ``bound`` in its direction (newest
        first, or nearest first backwards); those of the owners in ``hidden`` left out.

        One statement: a SELECT per part (the CRM emails of the records; the mailbox emails of
        the record), each served by its own index, joined by UNION ALL (a row is in one part
        only: its kind), cut to ``limit`` on the keys that order them (``_PART_COLUMNS``), then
        each email left read by its primary key, with the Deal's name and ``_FACTS``. Sorting
        the keys alone, not the 22 columns a list shows, costs less than reading the few rows
        left a second time (docs/performance.md, "Emails list").
        """
        parts: list[str] = []
        params: list[Any] = []
        keyset, keys = "", []
        backwards = bound is not None and bound.backwards
        if bound is not None:
            keyset = _OLDER if not backwards else _NEWER_OR_AT if bound.inclusive else _NEWER
            keys = [bound.position[0], bound.position[0], bound.position[1].encode("ascii")]
        kinds = sorted(k.value for k in selection.crm_kinds)
        if kinds and selection.crm_records:
            skip, skipped = _not_in(hidden.crm)
            parts.append(
                f"SELECT {_PART_COLUMNS} FROM emails e WHERE e.org_id = ?"
                f" AND e.record_id IN ({marks(selection.crm_records)})"
                f" AND e.kind IN ({marks(kinds)}){skip}{keyset}"
            )
            params += [org_id, *selection.crm_records, *kinds, *skipped, *keys]
        source = _mailbox_source(selection.basis, org_id, selection.record_id)
        if selection.mailbox.listed and source is not None:
            only, owner = "", []
            if selection.mailbox.owner is not None:
                only, owner = " AND +e.owner_id = ?", [selection.mailbox.owner]
            skip, skipped = _not_in(hidden.mailbox)
            parts.append(f"SELECT {_PART_COLUMNS} {source[0]}{only}{skip}{keyset}")
            params += [*source[1], *owner, *skipped, *keys]
        if not parts:
            return []
        order = "time_epoch, mid_key DESC" if backwards else "time_epoch DESC, mid_key"
        sql = (
            f"WITH c AS (SELECT * FROM ({' UNION ALL '.join(parts)}) x"
            f" ORDER BY {order} LIMIT ?)"
            f" SELECT {_HEAD}, d.name,{_FACTS} FROM c CROSS JOIN emails k{_DEAL}"
            " WHERE k.org_id = ? AND k.message_id = c.message_id"
            f" ORDER BY c.{order.replace(', ', ', c.')}"
        )
        params += [limit, org_id, org_id, selection.record_id, org_id, org_id]
        return [_head(r) for r in await self.db.fetchall(sql, params)]

    async def opened(
        self, org_id: int, message_id: str, basis: rules.Basis, record_id: int
    ) -> tuple[reads.Found, bool] | None:
        """One email of the org with what decides whether the caller sees it on the record,
        and whether it belongs to the record as a mailbox email does (by ``basis``); one
        statement."""
        assoc = _ASSOCIATION.get(basis)
        belongs = f"CASE WHEN k.kind = 'mailbox' THEN {assoc} ELSE FALSE END" if assoc else "FALSE"
        row = await self.db.fetchone(
            f"SELECT {COLUMNS.replace('e.', 'k.')}, d.name,{_FACTS}, {belongs}"
            f" FROM emails k{_DEAL} WHERE k.org_id = ? AND k.message_id = ?",
            (
                org_id,
                org_id,
                record_id,
                *(_assoc_params(basis, org_id, record_id) if assoc else ()),
                org_id,
                org_id,
                message_id,
            ),
        )
        return None if row is None else (_found(row), bool(row[28]))
