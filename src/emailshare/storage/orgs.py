"""What a whole-org load checks before writing: client ids and tokens are global, so no org
may take ones another org holds (``Store.replace_orgs``; the rows go in by ``storage.bulk``)."""

from __future__ import annotations

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import Org
from emailshare.domain.tokens import token_hash
from emailshare.storage.db import Tx


async def check_foreign_claims(tx: Tx, org: Org, index: int) -> None:
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
