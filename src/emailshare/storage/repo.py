"""Every SQL statement emailshare runs, behind typed methods. Parameterised, always.

:class:`Store` implements every port the services declare (``service.ports``), structurally:
this package imports nothing from ``service`` or ``api`` (an import-linter contract holds it).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from emailshare.domain.changes import ALL, ORG, RECORD, ChangeBatch
from emailshare.domain.model import DataSharing, Org
from emailshare.domain.rules import ShareFromUser
from emailshare.domain.tokens import token_hash
from emailshare.domain.views import (
    Admission,
    OAuthClient,
    OrgSummary,
    RecordAccess,
    TokenOwner,
    UserInfo,
)
from emailshare.storage import bulk, changes, limits, oauth, snapshot
from emailshare.storage import orgs as orgs_sql
from emailshare.storage.common import Queryable, insert_access_token
from emailshare.storage.db import Database, Row, Tx
from emailshare.storage.email_rows import analyze_mail

T = TypeVar("T")


_TOKEN_OWNER = (
    "SELECT t.token_hash, t.org_id, t.user_id, t.scopes, t.expires_at, u.status, u.profile,"
    " u.role_id, u.name, u.mailbox_protocol, u.mailbox_enabled, u.email_sharing"
    " FROM access_tokens t JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id"
    " WHERE t.token_hash = ?"
)


# What decides whether the caller (its id, then its role) may read a live record of the org and
# module (its org, id and module): shared with the caller, the caller's role above the owner's,
# the module's data sharing. Written once; _RECORD_ACCESS and _RECORD_DETAILS both read it.
# ``caller`` and ``role`` are SQL of this file's own (a parameter or a column), never input.
def _read_facts(caller: str, role: str) -> str:
    return (
        " r.owner_id,"
        " EXISTS (SELECT 1 FROM record_shares s"
        f"   WHERE s.org_id = r.org_id AND s.record_id = r.id AND s.user_id = {caller}),"
        " EXISTS (SELECT 1 FROM users o"
        "   JOIN roles ro ON ro.org_id = o.org_id AND ro.id = o.role_id"
        f"   JOIN roles rc ON rc.org_id = o.org_id AND rc.id = {role}"
        "   WHERE o.org_id = r.org_id AND o.id = r.owner_id AND rc.lo < ro.lo AND ro.lo <= rc.hi),"
        " (SELECT d.level FROM data_sharing d WHERE d.org_id = r.org_id AND d.module = r.module)"
    )


_READ_FACTS = _read_facts("?", "?")


# A live record of the org and module, by id: ``org`` the org's SQL (a parameter or a column),
# ``joined`` a table to read first (``"me CROSS JOIN "``), both of this file's own.
def _live_record(org: str, joined: str = "") -> str:
    return (
        f" FROM {joined}records r"
        f" WHERE r.org_id = {org} AND r.id = ? AND r.module = ? AND r.deleted = 0"
    )


_LIVE_RECORD = _live_record("?")

_RECORD_ACCESS = "SELECT" + _READ_FACTS + _LIVE_RECORD

# The org's users whose mailbox every caller may read, in answer order (the partial index
# users_public_by_name serves it). 51 are enough for any caller, who may be one of them and is
# listed apart; the same rows serve every record of the org.
_PUBLIC_SHARERS = (
    "SELECT id, name, mailbox_protocol FROM users"
    " WHERE org_id = ? AND email_sharing = 'public' AND status = 'active'"
    " AND mailbox_enabled = 1 AND mailbox_protocol IS NOT NULL"
    " ORDER BY name_key, id LIMIT 51"
)


# A record's first 51 custom sharers in answer order (its id a parameter), as the subquery
# ``c``: ``org`` the org's SQL and ``joined`` a table read first, as in _live_record.
def _custom_sharers(org: str, joined: str = "") -> str:
    return (
        f" (SELECT u.id, u.name, u.mailbox_protocol FROM {joined}email_shares e CROSS JOIN users u"
        f"  WHERE e.org_id = {org} AND e.record_id = ? AND u.org_id = e.org_id AND u.id = e.user_id"
        "  AND u.email_sharing = 'custom' AND u.status = 'active' AND u.mailbox_enabled = 1"
        "  AND u.mailbox_protocol IS NOT NULL"
        "  ORDER BY u.name_key, u.id LIMIT 51) AS c"
    )


# A record's reading facts (as _RECORD_ACCESS) and its first 51 custom sharers in answer order,
# in one statement (the details endpoint's one read per request): the first branch is the
# record's row (kind 0; none when there is no such live record), the second the custom sharers
# (kind 1). The sharers' CROSS JOIN makes SQLite start from the record's few email shares
# rather than the org's users (without statistics it may pick the latter); to PostgreSQL it is a
# plain inner join. The branches' rows come in no promised order; the kind tells them apart.
_RECORD_DETAILS = (
    "SELECT 0,"
    + _READ_FACTS
    + ", NULL, NULL"
    + _LIVE_RECORD
    + " UNION ALL SELECT 1, c.id, NULL, NULL, NULL, c.name, c.mailbox_protocol FROM"
    + _custom_sharers("?")
)

# The token's row (as _TOKEN_OWNER) and the record's details (as _RECORD_DETAILS, for the
# org, id and role of that token's user) in one statement: a details miss whose caller is not
# kept, one round trip instead of two. ``me`` is the token's row, read once (a CTE used more
# than once is materialised by both engines) and the outer loop of each branch (SQLite: the
# CROSS JOINs). Kind 2 is the token's row (columns 1-12), kinds 0 and 1 as _RECORD_DETAILS's
# (columns 13-18); no token, no rows at all. The same text for both engines.
_NULLS_12 = ", NULL" * 12
_TOKEN_DETAILS = (
    "WITH me AS (" + _TOKEN_OWNER + ")"
    " SELECT 2, token_hash, org_id, user_id, scopes, expires_at, status, profile, role_id, name,"
    " mailbox_protocol, mailbox_enabled, email_sharing, NULL, NULL, NULL, NULL, NULL, NULL"
    " FROM me"
    " UNION ALL SELECT 0"
    + _NULLS_12
    + ","
    + _read_facts("me.user_id", "COALESCE(me.role_id, -1)")
    + ", NULL, NULL"
    + _live_record("me.org_id", "me CROSS JOIN ")
    + " UNION ALL SELECT 1"
    + _NULLS_12
    + ", c.id, NULL, NULL, NULL, c.name, c.mailbox_protocol FROM"
    + _custom_sharers("me.org_id", "me CROSS JOIN ")
)

_USER_INFO = (
    "SELECT u.id, u.name, u.email, u.status, u.profile, u.role_id, r.name FROM users u"
    " LEFT JOIN roles r ON r.org_id = u.org_id AND r.id = u.role_id"
)

# One page of the org's users in id order: the primary key (org_id, id) serves the order, so
# a page reads its rows and no more (docs/contract-decisions.md, Users and org).
_USERS_PAGE = _USER_INFO + " WHERE u.org_id = ? ORDER BY u.id LIMIT ? OFFSET ?"
_ACTIVE_USERS_PAGE = (
    _USER_INFO + " WHERE u.org_id = ? AND u.status = 'active' ORDER BY u.id LIMIT ? OFFSET ?"
)


def _user_info(row: Row) -> UserInfo:
    return UserInfo(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        None if row[5] is None else int(row[5]),
        row[6],
    )


def _sharers(rows: list[Row]) -> list[ShareFromUser]:
    return [ShareFromUser(int(r[0]), str(r[1]), str(r[2])) for r in rows]


class ShareTransaction:
    """The ``ShareTx`` port over one open transaction."""

    __slots__ = ("_tx",)

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def record_access(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> RecordAccess | None:
        return await record_access(self._tx, org_id, module, record_id, caller_id, caller_role)

    async def add_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        return await add_email_share(self._tx, org_id, record_id, user_id)

    async def remove_email_share(self, org_id: int, record_id: int, user_id: int) -> bool:
        return await remove_email_share(self._tx, org_id, record_id, user_id)


class Store:
    """The repository: every port of ``service.ports`` over one :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def version(self) -> object:
        return await self.db.version()

    async def changes_after(self, seq: int, limit: int) -> ChangeBatch:
        return await changes.after(self.db, seq, limit)

    async def ping(self) -> None:
        await self.org_name(0)  # one indexed read: the store answers queries

    # --- reads ------------------------------------------------------------------------------

    async def token_owner(self, hashed: str) -> TokenOwner | None:
        row = await self.db.fetchone(_TOKEN_OWNER, (hashed,))
        return None if row is None else _token_owner(row, 0)

    async def token_and_details(
        self, hashed: str, module: str, record_id: int
    ) -> tuple[TokenOwner | None, tuple[RecordAccess, list[ShareFromUser]] | None]:
        """``token_owner`` and, for that token's user, ``record_details``: one statement."""
        rows = await self.db.fetchall(_TOKEN_DETAILS, (hashed, record_id, module, record_id))
        owner: TokenOwner | None = None
        access: RecordAccess | None = None
        customs: list[ShareFromUser] = []
        for row in rows:
            kind = row[0]
            if kind == 2:
                owner = _token_owner(row, 1)
            elif kind == 0:
                access = _record_access(row[13:17])
            else:
                customs.append(ShareFromUser(int(row[13]), str(row[17]), str(row[18])))
        return owner, None if access is None else (access, customs)

    async def custom_module(self, org_id: int, name: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT api_name FROM custom_modules WHERE org_id = ? AND name_fold = ?",
            (org_id, name.casefold()),
        )
        return None if row is None else str(row[0])

    async def record_access(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> RecordAccess | None:
        return await record_access(self.db, org_id, module, record_id, caller_id, caller_role)

    async def public_sharers(self, org_id: int) -> list[ShareFromUser]:
        """The first 51 public sharers of the org, in answer order."""
        return _sharers(await self.db.fetchall(_PUBLIC_SHARERS, (org_id,)))

    async def record_details(
        self, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
    ) -> tuple[RecordAccess, list[ShareFromUser]] | None:
        """The reading facts of a live record and the first 51 custom sharers (in answer order)
        who shared its emails, listed in no particular order; None when there is no such
        record. One statement."""
        role = caller_role if caller_role is not None else -1
        rows = await self.db.fetchall(
            _RECORD_DETAILS, (caller_id, role, org_id, record_id, module, org_id, record_id)
        )
        access: RecordAccess | None = None
        customs: list[ShareFromUser] = []
        for row in rows:
            if row[0] == 0:
                access = _record_access(row[1:5])
            else:
                customs.append(ShareFromUser(int(row[1]), str(row[5]), str(row[6])))
        if access is None:
            return None
        return access, customs

    async def user_info(self, org_id: int, user_id: int) -> UserInfo | None:
        row = await self.db.fetchone(
            _USER_INFO + " WHERE u.org_id = ? AND u.id = ?", (org_id, user_id)
        )
        return None if row is None else _user_info(row)

    async def users_page(
        self, org_id: int, *, active_only: bool, offset: int, limit: int
    ) -> list[UserInfo]:
        sql = _ACTIVE_USERS_PAGE if active_only else _USERS_PAGE
        return [_user_info(r) for r in await self.db.fetchall(sql, (org_id, limit, offset))]

    async def org_name(self, org_id: int) -> str | None:
        row = await self.db.fetchone("SELECT name FROM orgs WHERE id = ?", (org_id,))
        return None if row is None else str(row[0])

    async def user_orgs(self, user_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT org_id FROM users WHERE id = ? ORDER BY org_id", (user_id,)
        )
        return [int(r[0]) for r in rows]

    async def list_orgs(self) -> list[OrgSummary]:
        return await snapshot.list_orgs(self.db)

    async def read_org(self, org_id: int) -> Org | None:
        return await snapshot.read_org(self.db, org_id)

    async def oauth_client(self, client_id: str) -> OAuthClient | None:
        return await oauth.client(self.db, client_id)

    # --- writes -----------------------------------------------------------------------------

    async def in_share_transaction(self, work: Callable[[ShareTransaction], Awaitable[T]]) -> T:
        # Each share or unshare notes its record (add_email_share, remove_email_share); a request
        # that changed nothing logs nothing.
        return await self.db.run_in_transaction(lambda tx: work(ShareTransaction(tx)), bump=False)

    @contextlib.asynccontextmanager
    async def oauth_transaction(self) -> AsyncIterator[oauth.OAuthTransaction]:
        # Only deleted access tokens matter to a cache: ``oauth`` notes those (a new token is
        # in no cache, and an expired one is refused by every cache by itself).
        async with self.db.transaction(bump=False) as tx:
            yield oauth.OAuthTransaction(tx)

    async def admit(
        self,
        org_id: int,
        now: int,
        *,
        credits_per_day: int,
        cost: int,
        max_concurrent: int,
        slot: str | None,
    ) -> Admission:
        return await limits.admit(
            self.db,
            org_id,
            now,
            credits_per_day=credits_per_day,
            cost=cost,
            max_concurrent=max_concurrent,
            slot=slot,
        )

    async def release(self, org_id: int, slot: str) -> None:
        await limits.release(self.db, org_id, slot)

    async def add_access_token(
        self, token: str, org_id: int, user_id: int, scopes: Sequence[str], expires_at: int
    ) -> None:
        async with self.db.transaction(bump=False) as tx:  # a new token is in no cache
            await insert_access_token(tx, token_hash(token), org_id, user_id, scopes, expires_at)

    async def delete_everything(self) -> None:
        """Remove every org (and, by cascade, everything in it), every OAuth client and all
        API-limit usage."""
        async with self.db.transaction() as tx:
            tx.note(ALL)
            await tx.execute("DELETE FROM oauth_clients")
            await tx.execute("DELETE FROM orgs")
            for table in ("api_credits", "api_inflight", "api_limit_orgs"):
                await tx.execute(f"DELETE FROM {table}")  # API-limit usage starts afresh

    async def replace_orgs(self, orgs: Sequence[Org], now: int) -> None:
        """Load orgs, replacing any org with the same id wholly; all or nothing."""
        async with self.db.transaction() as tx:
            await orgs_sql.check_foreign_claims(tx, orgs)
            for org in orgs:
                tx.note(ORG, org.id)
                await bulk.replace_org(tx, org, now)
        if any(org.mail.emails for org in orgs):
            await analyze_mail(self.db)


async def record_access(
    q: Queryable, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
) -> RecordAccess | None:
    """The facts that decide whether the caller may read a live record of this org and module."""
    role = caller_role if caller_role is not None else -1
    row = await q.fetchone(_RECORD_ACCESS, (caller_id, role, org_id, record_id, module))
    return None if row is None else _record_access(row)


def _token_owner(row: Row, at: int) -> TokenOwner:
    """A token's row as ``_TOKEN_OWNER`` reads it, from column ``at`` of ``row``."""
    return TokenOwner(
        row[at],
        int(row[at + 1]),
        int(row[at + 2]),
        row[at + 3],
        int(row[at + 4]),
        row[at + 5],
        row[at + 6],
        None if row[at + 7] is None else int(row[at + 7]),
        row[at + 8],
        row[at + 9],
        bool(row[at + 10]),
        row[at + 11],
    )


def _record_access(row: Row) -> RecordAccess:
    """The facts of a row ``(owner_id, shared with caller, role above owner, level)``."""
    return RecordAccess(
        int(row[0]),
        bool(row[1]),
        bool(row[2]),
        DataSharing(row[3]) if row[3] else DataSharing.PRIVATE,
    )


async def add_email_share(tx: Tx, org_id: int, record_id: int, user_id: int) -> bool:
    """Turn the user's email share of the record on; False when it already was."""
    added = (
        await tx.execute(
            "INSERT INTO email_shares (org_id, record_id, user_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (org_id, record_id, user_id),
        )
        == 1
    )
    if added:
        tx.note(RECORD, org_id, record_id)
    return added


async def remove_email_share(tx: Tx, org_id: int, record_id: int, user_id: int) -> bool:
    """Turn the user's email share of the record off; False when it was not on."""
    removed = (
        await tx.execute(
            "DELETE FROM email_shares WHERE org_id = ? AND record_id = ? AND user_id = ?",
            (org_id, record_id, user_id),
        )
        == 1
    )
    if removed:
        tx.note(RECORD, org_id, record_id)
    return removed
