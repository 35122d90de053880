"""What the SQL modules of the store share: the read interface and the access-token insert."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from emailshare.storage.db import Params, Row, Tx

INSERT_ACCESS_TOKEN = (
    "INSERT INTO access_tokens (token_hash, org_id, user_id, scopes, expires_at,"
    " refresh_hash, client_id, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class Queryable(Protocol):
    """A database or an open transaction: both answer reads the same way."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...


async def insert_access_token(
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
        INSERT_ACCESS_TOKEN,
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
