"""What a whole-org load checks before writing: client ids and tokens are global, so no org
may take ones another org, or the operator, holds (``Store.replace_orgs``; the rows go in by
``storage.bulk``)."""

from __future__ import annotations

from collections.abc import Sequence

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import Org
from emailshare.domain.tokens import token_hash
from emailshare.storage.db import Tx


async def check_foreign_claims(tx: Tx, orgs: Sequence[Org]) -> None:
    """Refuse a document whose client ids or tokens are held by anyone but the org naming
    them: another org, or no org at all (a client made by ``emailshare client add`` serves
    every org; taking it over would give it a new secret and end every token it issued).

    Run for every org of the document before any row is written, so a refusal changes
    nothing. One indexed read per client and token: linear in the document."""
    for index, org in enumerate(orgs):
        for i, client in enumerate(org.clients):
            row = await tx.fetchone(
                "SELECT org_id FROM oauth_clients WHERE client_id = ?", (client.client_id,)
            )
            if row is not None and (row[0] is None or int(row[0]) != org.id):
                holder = (
                    "made by `emailshare client add` and shared by every org"
                    if row[0] is None
                    else "held by another org"
                )
                raise FixtureError(
                    f"$.orgs[{index}].clients[{i}].client_id: the OAuth client"
                    f" {client.client_id!r} is {holder}"
                )
        for i, tok in enumerate(org.tokens):
            row = await tx.fetchone(
                "SELECT org_id FROM access_tokens WHERE token_hash = ?",
                (token_hash(tok.access_token),),
            )
            if row is not None and int(row[0]) != org.id:
                raise FixtureError(
                    f"$.orgs[{index}].tokens[{i}].access_token: already used by another org"
                )
