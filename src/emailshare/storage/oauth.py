"""SQL of the OAuth store: clients, grant codes, refresh and access tokens (hashes only)."""

from __future__ import annotations

import time

from emailshare.domain.changes import TOKENS
from emailshare.domain.views import Grant, OAuthClient
from emailshare.storage.common import Queryable, insert_access_token
from emailshare.storage.db import Tx

MAX_ACCESS_PER_REFRESH = 15
MAX_REFRESH_PER_USER = 20
MAX_ACCESS_PER_CLIENT_ORG = 15  # client-credentials tokens (no refresh token) per client and org
MAX_GRANT_CODES_PER_USER = 10  # unused grant codes per client, org and user
PURGE_BATCH = 64  # expired rows removed per token write: more than each write adds

_PURGE_ACCESS = (
    "DELETE FROM access_tokens WHERE token_hash IN (SELECT token_hash FROM access_tokens"
    " WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)"
)
_PURGE_CODES = (
    "DELETE FROM grant_codes WHERE code_hash IN (SELECT code_hash FROM grant_codes"
    " WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)"
)


async def client(q: Queryable, client_id: str) -> OAuthClient | None:
    row = await q.fetchone(
        "SELECT client_id, org_id, secret_hash, redirect_uri"
        " FROM oauth_clients WHERE client_id = ?",
        (client_id,),
    )
    if row is None:
        return None
    return OAuthClient(row[0], None if row[1] is None else int(row[1]), row[2], row[3])


async def add_client(
    tx: Tx,
    client_id: str,
    name: str,
    secret_hash: str,
    redirect_uri: str | None,
    org_id: int | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO oauth_clients (client_id, org_id, name, secret_hash,"
        " redirect_uri) VALUES (?, ?, ?, ?, ?)",
        (client_id, org_id, name, secret_hash, redirect_uri),
    )


async def purge_expired(tx: Tx, now: int) -> None:
    """Remove up to ``PURGE_BATCH`` expired access tokens and as many expired grant codes.

    Run by every token write, so expired rows never pile up: each write adds one row and may
    remove 64. A bounded batch in expiry order keeps each write's cost flat and makes
    concurrent purges take their row locks in one order (no deadlock on PostgreSQL).
    """
    await tx.execute(_PURGE_ACCESS, (now, PURGE_BATCH))
    await tx.execute(_PURGE_CODES, (now, PURGE_BATCH))


async def add_grant_code(
    tx: Tx, code_hash: str, client_id: str, org_id: int, user_id: int, scopes: str, expires_at: int
) -> None:
    """Store a grant code; past 10 unused ones of the client for the user, the oldest die."""
    await purge_expired(tx, int(time.time()))
    await tx.execute(
        "INSERT INTO grant_codes (code_hash, client_id, org_id, user_id, scopes,"
        " expires_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code_hash, client_id, org_id, user_id, scopes, expires_at, time.time_ns()),
    )
    where = "client_id = ? AND org_id = ? AND user_id = ?"
    cutoff = await tx.fetchone(
        "SELECT seq FROM grant_codes WHERE " + where + " ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (client_id, org_id, user_id, MAX_GRANT_CODES_PER_USER - 1),
    )
    if cutoff is not None:
        await tx.execute(
            "DELETE FROM grant_codes WHERE " + where + " AND seq < ?",
            (client_id, org_id, user_id, cutoff[0]),
        )


async def take_grant_code(tx: Tx, code_hash: str) -> Grant | None:
    """Fetch and delete a grant code: single use, even under concurrent exchanges."""
    row = await tx.fetchone(
        "SELECT client_id, org_id, user_id, scopes, expires_at"
        " FROM grant_codes WHERE code_hash = ?",
        (code_hash,),
    )
    if row is None:
        return None
    if await tx.execute("DELETE FROM grant_codes WHERE code_hash = ?", (code_hash,)) != 1:
        return None
    return Grant(row[0], int(row[1]), int(row[2]), row[3], int(row[4]))


async def refresh_grant(q: Queryable, refresh_hash: str) -> Grant | None:
    row = await q.fetchone(
        "SELECT client_id, org_id, user_id, scopes FROM refresh_tokens WHERE token_hash = ?",
        (refresh_hash,),
    )
    if row is None:
        return None
    return Grant(row[0], int(row[1]), int(row[2]), row[3], None)


async def add_refresh_token(tx: Tx, refresh_hash: str, grant: Grant, now: int) -> None:
    """Store a refresh token; the user's oldest beyond the 20 newest are revoked."""
    await tx.execute(
        "INSERT INTO refresh_tokens (token_hash, client_id, org_id, user_id, scopes,"
        " created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            refresh_hash,
            grant.client_id,
            grant.org_id,
            grant.user_id,
            grant.scopes,
            now,
            time.time_ns(),
        ),
    )
    cutoff = await tx.fetchone(
        "SELECT seq FROM refresh_tokens WHERE org_id = ? AND user_id = ?"
        " ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (grant.org_id, grant.user_id, MAX_REFRESH_PER_USER - 1),
    )
    if cutoff is not None:
        old = await tx.fetchall(
            "SELECT token_hash FROM refresh_tokens WHERE org_id = ? AND user_id = ? AND seq < ?",
            (grant.org_id, grant.user_id, cutoff[0]),
        )
        for (hashed,) in old:
            await revoke_refresh(tx, hashed)


async def add_access_token(
    tx: Tx, access_hash: str, grant: Grant, expires_at: int, refresh_hash: str | None, now: int
) -> None:
    """Store an access token; past 15 for its refresh token, or (a client-credentials token,
    without one) for its client and org, the oldest die. Expired rows are purged first."""
    await purge_expired(tx, now)
    await insert_access_token(
        tx,
        access_hash,
        grant.org_id,
        grant.user_id,
        grant.scopes.split(),
        expires_at,
        refresh_hash,
        grant.client_id,
    )
    if refresh_hash is None:
        await _cap_client_tokens(tx, grant.client_id, grant.org_id)
        return
    cutoff = await tx.fetchone(
        "SELECT seq FROM access_tokens WHERE refresh_hash = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (refresh_hash, MAX_ACCESS_PER_REFRESH - 1),
    )
    if cutoff is not None:
        deleted = await tx.execute(
            "DELETE FROM access_tokens WHERE refresh_hash = ? AND seq < ?",
            (refresh_hash, cutoff[0]),
        )
        if deleted:
            tx.note(TOKENS, grant.org_id)


async def _cap_client_tokens(tx: Tx, client_id: str, org_id: int) -> None:
    """Keep the newest ``MAX_ACCESS_PER_CLIENT_ORG`` client-credentials tokens of a client in
    an org (the index ``access_tokens_by_client`` serves both statements)."""
    where = "client_id = ? AND org_id = ? AND refresh_hash IS NULL"
    cutoff = await tx.fetchone(
        "SELECT seq FROM access_tokens WHERE " + where + " ORDER BY seq DESC LIMIT 1 OFFSET ?",
        (client_id, org_id, MAX_ACCESS_PER_CLIENT_ORG - 1),
    )
    if cutoff is not None:
        deleted = await tx.execute(
            "DELETE FROM access_tokens WHERE " + where + " AND seq < ?",
            (client_id, org_id, cutoff[0]),
        )
        if deleted:
            tx.note(TOKENS, org_id)


async def revoke_refresh(tx: Tx, refresh_hash: str) -> bool:
    """Delete a refresh token and every access token made from it (a change to the tokens of
    its org: the caches forget its callers and answers, ``storage.changes``)."""
    row = await tx.fetchone(
        "SELECT org_id FROM refresh_tokens WHERE token_hash = ?", (refresh_hash,)
    )
    if row is None:
        return False
    if await tx.execute("DELETE FROM access_tokens WHERE refresh_hash = ?", (refresh_hash,)):
        tx.note(TOKENS, int(row[0]))
    return await tx.execute("DELETE FROM refresh_tokens WHERE token_hash = ?", (refresh_hash,)) == 1


async def revoke_access(tx: Tx, access_hash: str) -> bool:
    row = await tx.fetchone("SELECT org_id FROM access_tokens WHERE token_hash = ?", (access_hash,))
    if row is None:
        return False
    tx.note(TOKENS, int(row[0]))
    return await tx.execute("DELETE FROM access_tokens WHERE token_hash = ?", (access_hash,)) == 1


async def first_admin(q: Queryable, org_id: int) -> int | None:
    """The org's active administrator with the lowest id: who a client-credentials token acts as."""
    row = await q.fetchone(
        "SELECT id FROM users WHERE org_id = ? AND profile = 'administrator'"
        " AND status = 'active' ORDER BY id LIMIT 1",
        (org_id,),
    )
    return None if row is None else int(row[0])


async def org_exists(q: Queryable, org_id: int) -> bool:
    return await q.fetchone("SELECT 1 FROM orgs WHERE id = ?", (org_id,)) is not None


class OAuthTransaction:
    """The ``OAuthTx`` port over one open transaction."""

    __slots__ = ("_tx",)

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def take_grant_code(self, code_hash: str) -> Grant | None:
        return await take_grant_code(self._tx, code_hash)

    async def refresh_grant(self, refresh_hash: str) -> Grant | None:
        return await refresh_grant(self._tx, refresh_hash)

    async def add_refresh_token(self, refresh_hash: str, grant: Grant, now: int) -> None:
        await add_refresh_token(self._tx, refresh_hash, grant, now)

    async def add_access_token(
        self, access_hash: str, grant: Grant, expires_at: int, refresh_hash: str | None, now: int
    ) -> None:
        await add_access_token(self._tx, access_hash, grant, expires_at, refresh_hash, now)

    async def revoke_refresh(self, refresh_hash: str) -> bool:
        return await revoke_refresh(self._tx, refresh_hash)

    async def revoke_access(self, access_hash: str) -> bool:
        return await revoke_access(self._tx, access_hash)

    async def org_exists(self, org_id: int) -> bool:
        return await org_exists(self._tx, org_id)

    async def first_admin(self, org_id: int) -> int | None:
        return await first_admin(self._tx, org_id)

    async def add_client(
        self, client_id: str, name: str, secret_hash: str, redirect_uri: str | None
    ) -> None:
        await add_client(self._tx, client_id, name, secret_hash, redirect_uri)

    async def rehash_client_secret(self, client_id: str, old_hash: str, new_hash: str) -> None:
        await self._tx.execute(
            "UPDATE oauth_clients SET secret_hash = ? WHERE client_id = ? AND secret_hash = ?",
            (new_hash, client_id, old_hash),
        )

    async def add_grant_code(
        self,
        code_hash: str,
        client_id: str,
        org_id: int,
        user_id: int,
        scopes: str,
        expires_at: int,
    ) -> None:
        await add_grant_code(self._tx, code_hash, client_id, org_id, user_id, scopes, expires_at)
