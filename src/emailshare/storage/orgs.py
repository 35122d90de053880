"""Whole-org writes: an org of a fixture document inserted table by table, in one transaction
(``Store.replace_orgs``)."""

from __future__ import annotations

from collections.abc import Iterable

from emailshare.domain.errors import FixtureError
from emailshare.domain.model import Org
from emailshare.domain.tokens import token_hash
from emailshare.storage.common import insert_access_token
from emailshare.storage.db import Params, Tx
from emailshare.storage.email_rows import insert_mail
from emailshare.storage.mailboxes import insert_servers


def name_key(name: str) -> bytes:
    """The stored sort key: UTF-8 of the case fold, whose byte order is code point order."""
    return name.casefold().encode("utf-8", "surrogatepass")


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


async def _many(tx: Tx, sql: str, rows: Iterable[Params]) -> None:
    batch = list(rows)
    if batch:
        await tx.executemany(sql, batch)


async def insert_org(tx: Tx, org: Org, now: int) -> None:
    await tx.execute("INSERT INTO orgs (id, name) VALUES (?, ?)", (org.id, org.name))
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
        await insert_access_token(
            tx, token_hash(t.access_token), org.id, t.user, t.scopes, now + t.expires_in
        )
    await insert_mail(tx, org)
    await insert_servers(tx, org)
