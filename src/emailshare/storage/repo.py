"""Every SQL statement emailshare runs, behind typed methods. Parameterised, always."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import DataSharing, Org
from emailshare.service.tokens import token_hash
from emailshare.storage.db import Database, Params, Row, Tx
from emailshare.storage.email_rows import insert_mail
from emailshare.storage.mailboxes import insert_servers


class Queryable(Protocol):
    """A database or an open transaction: both answer reads the same way."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


def name_key(name: str) -> bytes:
    """The stored sort key: UTF-8 of the case fold, whose byte order is code point order."""
    return name.casefold().encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """An access token's row joined with its user: everything authentication needs."""

    token_hash: str
    org_id: int
    user_id: int
    scopes: str
    expires_at: int
    status: str
    profile: str
    role_id: int | None
    name: str
    mailbox_protocol: str | None
    mailbox_enabled: bool
    email_sharing: str


@dataclass(frozen=True, slots=True)
class RecordAccess:
    owner_id: int
    shared_with_caller: bool
    caller_role_above_owner: bool
    module_sharing: DataSharing


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    email: str
    status: str
    profile: str
    role_id: int | None
    role_name: str | None


_TOKEN_OWNER = (
    "SELECT t.token_hash, t.org_id, t.user_id, t.scopes, t.expires_at, u.status, u.profile,"
    " u.role_id, u.name, u.mailbox_protocol, u.mailbox_enabled, u.email_sharing"
    " FROM access_tokens t JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id"
    " WHERE t.token_hash = ?"
)

_RECORD_ACCESS = (
    "SELECT r.owner_id,"
    " EXISTS (SELECT 1 FROM record_shares s"
    "   WHERE s.org_id = r.org_id AND s.record_id = r.id AND s.user_id = ?),"
    " EXISTS (SELECT 1 FROM users o JOIN role_ancestors a"
    "   ON a.org_id = o.org_id AND a.role_id = o.role_id"
    "   WHERE o.org_id = r.org_id AND o.id = r.owner_id AND a.ancestor_id = ?),"
    " (SELECT d.level FROM data_sharing d WHERE d.org_id = r.org_id AND d.module = r.module)"
    " FROM records r WHERE r.org_id = ? AND r.id = ? AND r.module = ? AND r.deleted = 0"
)

# The org's users whose mailbox every caller may read, in answer order (the partial index
# users_public_by_name serves it). 51 are enough for any caller, who may be one of them and is
# listed apart; the same rows serve every record of the org.
_PUBLIC_SHARERS = (
    "SELECT id, name, mailbox_protocol FROM users"
    " WHERE org_id = ? AND email_sharing = 'public' AND status = 'active'"
    " AND mailbox_enabled = 1 AND mailbox_protocol IS NOT NULL"
    " ORDER BY name_key, id LIMIT 51"
)

# The custom sharers of one record. CROSS JOIN makes SQLite start from the record's few email
# shares rather than the org's users (without statistics it may pick the latter); to
# PostgreSQL it is a plain inner join.
_CUSTOM_SHARERS = (
    "SELECT u.id, u.name, u.mailbox_protocol FROM email_shares e CROSS JOIN users u"
    " WHERE u.org_id = e.org_id AND u.id = e.user_id AND e.org_id = ? AND e.record_id = ?"
    " AND u.email_sharing = 'custom' AND u.status = 'active' AND u.mailbox_enabled = 1"
    " AND u.mailbox_protocol IS NOT NULL"
    " ORDER BY u.name_key, u.id LIMIT 51"
)

Sharer = tuple[int, str, str]  # id, name, mailbox protocol


class Store:
    """The repository: reads for the hot path and whole-org writes for fixtures."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads ------------------------------------------------------------------------------

    async def token_owner(self, hashed: str) -> TokenOwner | None:
        row = await self.db.fetchone(_TOKEN_OWNER, (hashed,))
        if row is None:
            return None
        return TokenOwner(
            row[0],
            int(row[1]),
            int(row[2]),
            row[3],
            int(row[4]),
            row[5],
            row[6],
            None if row[7] is None else int(row[7]),
            row[8],
            row[9],
            bool(row[10]),
            row[11],
        )

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

    async def public_sharers(self, org_id: int) -> list[Sharer]:
        """The first 51 public sharers of the org, in answer order."""
        rows = await self.db.fetchall(_PUBLIC_SHARERS, (org_id,))
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def custom_sharers(self, org_id: int, record_id: int) -> list[Sharer]:
        """The first 51 custom sharers who shared this record's emails, in answer order."""
        rows = await self.db.fetchall(_CUSTOM_SHARERS, (org_id, record_id))
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def user_info(self, org_id: int, user_id: int) -> UserInfo | None:
        row = await self.db.fetchone(
            "SELECT u.id, u.name, u.email, u.status, u.profile, u.role_id, r.name FROM users u"
            " LEFT JOIN roles r ON r.org_id = u.org_id AND r.id = u.role_id"
            " WHERE u.org_id = ? AND u.id = ?",
            (org_id, user_id),
        )
        if row is None:
            return None
        return UserInfo(
            int(row[0]),
            row[1],
            row[2],
            row[3],
            row[4],
            None if row[5] is None else int(row[5]),
            row[6],
        )

    async def org_name(self, org_id: int) -> str | None:
        row = await self.db.fetchone("SELECT name FROM orgs WHERE id = ?", (org_id,))
        return None if row is None else str(row[0])

    async def user_orgs(self, user_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT org_id FROM users WHERE id = ? ORDER BY org_id", (user_id,)
        )
        return [int(r[0]) for r in rows]

    async def org_user_ids(self, org_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT id FROM users WHERE org_id = ? ORDER BY id", (org_id,)
        )
        return [int(r[0]) for r in rows]

    # --- writes -----------------------------------------------------------------------------

    async def add_access_token(
        self, token: str, org_id: int, user_id: int, scopes: Sequence[str], expires_at: int
    ) -> None:
        async with self.db.transaction() as tx:
            await _insert_access_token(tx, token_hash(token), org_id, user_id, scopes, expires_at)

    async def delete_everything(self) -> None:
        """Remove every org (and, by cascade, everything in it), every OAuth client and all
        API-limit usage."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM oauth_clients")
            await tx.execute("DELETE FROM orgs")
            for table in ("api_credits", "api_inflight", "api_limit_orgs"):
                await tx.execute(f"DELETE FROM {table}")  # API-limit usage starts afresh

    async def replace_orgs(self, orgs: Sequence[Org], now: int) -> None:
        """Load orgs, replacing any org with the same id wholly; all or nothing."""
        async with self.db.transaction() as tx:
            for index, org in enumerate(orgs):
                await _check_foreign_claims(tx, org, index)
                await tx.execute("DELETE FROM orgs WHERE id = ?", (org.id,))
                await _insert_org(tx, org, now)


async def record_access(
    q: Queryable, org_id: int, module: str, record_id: int, caller_id: int, caller_role: int | None
) -> RecordAccess | None:
    """The facts that decide whether the caller may read a live record of this org and module."""
    role = caller_role if caller_role is not None else -1
    row = await q.fetchone(_RECORD_ACCESS, (caller_id, role, org_id, record_id, module))
    if row is None:
        return None
    return RecordAccess(
        int(row[0]),
        bool(row[1]),
        bool(row[2]),
        DataSharing(row[3]) if row[3] else DataSharing.PRIVATE,
    )


async def add_email_share(tx: Tx, org_id: int, record_id: int, user_id: int) -> bool:
    """Turn the user's email share of the record on; False when it already was."""
    return (
        await tx.execute(
            "INSERT INTO email_shares (org_id, record_id, user_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (org_id, record_id, user_id),
        )
        == 1
    )


async def remove_email_share(tx: Tx, org_id: int, record_id: int, user_id: int) -> bool:
    """Turn the user's email share of the record off; False when it was not on."""
    return (
        await tx.execute(
            "DELETE FROM email_shares WHERE org_id = ? AND record_id = ? AND user_id = ?",
            (org_id, record_id, user_id),
        )
        == 1
    )


async def bump_org_version(tx: Tx, org_id: int) -> None:
    """Mark the org changed, so per-process caches of its answers know to refresh."""
    await tx.execute("UPDATE orgs SET version = version + 1 WHERE id = ?", (org_id,))


async def _insert_access_token(
    tx: Tx,
    hashed: str,
    org_id: int,
    user_id: int,
    scopes: Sequence[str],
    expires_at: int,
    refresh_hash: str | None = None,
    client_id: str | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO access_tokens (token_hash, org_id, user_id, scopes, expires_at,"
        " refresh_hash, client_id, seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            hashed,
            org_id,
            user_id,
            " ".join(scopes),
            expires_at,
            refresh_hash,
            client_id,
            time.time_ns(),
        ),
    )


async def _check_foreign_claims(tx: Tx, org: Org, index: int) -> None:
    """Client ids and tokens are global: refuse ones another org already holds."""
    for i, client in enumerate(org.clients):
        row = await tx.fetchone(
            "SELECT org_id FROM oauth_clients WHERE client_id = ?", (client.client_id,)
        )
        if row is not None and row[0] is not None and int(row[0]) != org.id:
            raise FixtureError(
                f"$.orgs[{index}].clients[{i}].client_id: already used by another org"
            )
    for i, tok in enumerate(org.tokens):
        row = await tx.fetchone(
            "SELECT org_id FROM access_tokens WHERE token_hash = ?", (token_hash(tok.access_token),)
        )
        if row is not None and int(row[0]) != org.id:
            raise FixtureError(
                f"$.orgs[{index}].tokens[{i}].access_token: already used by another org"
            )


async def _many(tx: Tx, sql: str, rows: Iterable[Params]) -> None:
    batch = list(rows)
    if batch:
        await tx.executemany(sql, batch)


async def _insert_org(tx: Tx, org: Org, now: int) -> None:
    await tx.execute(
        "INSERT INTO orgs (id, name, version) VALUES (?, ?, ?)", (org.id, org.name, now)
    )
    await _many(
        tx,
        "INSERT INTO data_sharing (org_id, module, level) VALUES (?, ?, ?)",
        [(org.id, m, lvl.value) for m, lvl in org.data_sharing.items()],
    )
    await _many(
        tx,
        "INSERT INTO custom_modules (org_id, name_fold, api_name) VALUES (?, ?, ?)",
        [(org.id, m.casefold(), m) for m in org.custom_modules],
    )
    await _many(
        tx,
        "INSERT INTO roles (org_id, id, name, reports_to) VALUES (?, ?, ?, ?)",
        [(org.id, r.id, r.name, r.reports_to) for r in org.roles],
    )
    await _many(
        tx,
        "INSERT INTO role_ancestors (org_id, role_id, ancestor_id) VALUES (?, ?, ?)",
        [(org.id, r.id, a) for r in org.roles for a in org.role_ancestors(r.id)],
    )
    await _many(
        tx,
        "INSERT INTO users (org_id, id, name, name_key, email, status, profile, role_id,"
        " mailbox_protocol, mailbox_address, mailbox_enabled, email_sharing)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                org.id,
                u.id,
                u.name,
                name_key(u.name),
                u.email,
                u.status.value,
                u.profile.value,
                u.role,
                u.mailbox.protocol.value if u.mailbox else None,
                u.mailbox.address if u.mailbox else None,
                1 if (u.mailbox and u.mailbox.enabled) else 0,
                u.email_sharing.value,
            )
            for u in org.users
        ],
    )
    await _many(
        tx,
        "INSERT INTO records (org_id, id, module, name, owner_id, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(org.id, r.id, r.module, r.name, r.owner, int(r.deleted)) for r in org.records],
    )
    await _many(
        tx,
        "INSERT INTO record_shares (org_id, record_id, user_id) VALUES (?, ?, ?)",
        [(org.id, r.id, uid) for r in org.records for uid in sorted(r.shared_with)],
    )
    await _many(
        tx,
        "INSERT INTO email_shares (org_id, record_id, user_id) VALUES (?, ?, ?)",
        [(org.id, r.id, uid) for r in org.records for uid in sorted(r.emails_shared_by)],
    )
    for c in org.clients:
        await tx.execute("DELETE FROM oauth_clients WHERE client_id = ?", (c.client_id,))
    await _many(
        tx,
        "INSERT INTO oauth_clients (client_id, org_id, name, secret_hash, redirect_uri)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (c.client_id, org.id, c.client_id, token_hash(c.client_secret), c.redirect_uri)
            for c in org.clients
        ],
    )
    for t in org.tokens:
        await _insert_access_token(
            tx, token_hash(t.access_token), org.id, t.user, t.scopes, now + t.expires_in
        )
    await insert_mail(tx, org)
    await insert_servers(tx, org)
