"""Whole orgs written in bulk: every row an org is made of, inserted with ``executemany``.

The one place that turns domain values into rows. Loading (``Store.replace_orgs``: fixtures,
the admin API, the test helpers) and ``emailshare gen`` (synthetic data sets of a million
records) both write through :func:`replace_org`. Rows go in batches through
``storage/batch.insert_many``, so memory stays bounded and a progress callback can follow.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from emailshare.domain.model import Org
from emailshare.domain.roles import Span, number_roles
from emailshare.domain.tokens import secret_hash, token_hash
from emailshare.storage.batch import Progress, insert_many
from emailshare.storage.common import INSERT_ACCESS_TOKEN
from emailshare.storage.db import Database, Params, Tx
from emailshare.storage.email_rows import insert_mail
from emailshare.storage.mailboxes import insert_servers

INSERT_ORG = "INSERT INTO orgs (id, name) VALUES (?, ?)"
INSERT_DATA_SHARING = "INSERT INTO data_sharing (org_id, module, level) VALUES (?, ?, ?)"
INSERT_CUSTOM_MODULE = "INSERT INTO custom_modules (org_id, name_fold, api_name) VALUES (?, ?, ?)"
INSERT_ROLE = "INSERT INTO roles (org_id, id, name, reports_to, lo, hi) VALUES (?, ?, ?, ?, ?, ?)"
# A role reached from no root (a cycle: the parser refuses it) is above and below no role.
_UNREACHED = Span(-1, -2, 0)
INSERT_USER = (
    "INSERT INTO users (org_id, id, name, name_key, email, status, profile, role_id,"
    " mailbox_protocol, mailbox_address, mailbox_enabled, email_sharing)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_RECORD = (
    "INSERT INTO records (org_id, id, module, name, owner_id, deleted) VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_RECORD_SHARE = "INSERT INTO record_shares (org_id, record_id, user_id) VALUES (?, ?, ?)"
INSERT_EMAIL_SHARE = "INSERT INTO email_shares (org_id, record_id, user_id) VALUES (?, ?, ?)"
INSERT_CLIENT = (
    "INSERT INTO oauth_clients (client_id, org_id, name, secret_hash, redirect_uri)"
    " VALUES (?, ?, ?, ?, ?)"
)


def name_key(name: str) -> bytes:
    """The stored sort key: UTF-8 of the case fold, whose byte order is code point order."""
    return name.casefold().encode("utf-8", "surrogatepass")


# The stored hash this process made for a client's secret, by client id and the secret's
# SHA-256: reloading a fixture (test suites do it all the time) reuses it instead of paying
# one scrypt a client again, and the client's secret stays verified in the token endpoint's
# cache. Each client still gets a salt of its own. Bounded: the oldest go first.
_HASHED: dict[tuple[str, str], str] = {}
MAX_HASHED = 4096


def _client_hash(client_id: str, secret: str) -> str:
    key = (client_id, token_hash(secret))
    found = _HASHED.get(key)
    if found is None:
        if len(_HASHED) >= MAX_HASHED:
            del _HASHED[next(iter(_HASHED))]
        found = _HASHED[key] = secret_hash(secret)
    return found


async def replace_org(tx: Tx, org: Org, now: int, progress: Progress | None = None) -> None:
    """Write ``org`` wholly in ``tx``, replacing the org of its id and everything in it.

    Fixed tokens expire ``expires_in`` seconds after ``now``. Client secrets and tokens are
    stored as hashes only. Checking that no other org holds the org's client ids and tokens is
    the caller's job (``Store.replace_orgs``, with ``storage.orgs.check_foreign_claims``). The
    org's emails and mailbox servers are written by their own modules (``email_rows``,
    ``mailboxes``).
    """
    # The org's old rows go by cascade, which for a large org takes a while: executemany runs
    # on the store's writer thread (SQLite), so the loop serves meanwhile.
    await tx.executemany("DELETE FROM orgs WHERE id = ?", [(org.id,)])
    await tx.execute(INSERT_ORG, (org.id, org.name))
    o = org.id
    spans = number_roles(org.roles)
    await insert_many(
        tx, INSERT_DATA_SHARING, ((o, m, lvl.value) for m, lvl in org.data_sharing.items())
    )
    await insert_many(tx, INSERT_CUSTOM_MODULE, ((o, m.casefold(), m) for m in org.custom_modules))
    await insert_many(
        tx,
        INSERT_ROLE,
        (
            (o, r.id, r.name, r.reports_to, span.lo, span.hi)
            for r in org.roles
            for span in (spans.get(r.id, _UNREACHED),)
        ),
    )
    users = (
        (
            o,
            u.id,
            u.name,
            name_key(u.name),
            u.email,
            u.status.value,
            u.profile.value,
            u.role,
            None if u.mailbox is None else u.mailbox.protocol.value,
            None if u.mailbox is None else u.mailbox.address,
            1 if u.mailbox is not None and u.mailbox.enabled else 0,
            u.email_sharing.value,
        )
        for u in org.users
    )
    await insert_many(tx, INSERT_USER, users, progress, "users")
    await insert_many(
        tx,
        INSERT_ACCESS_TOKEN,
        _token_rows(org, now),
        progress,
        "tokens",
    )
    await insert_many(
        tx,
        INSERT_RECORD,
        ((o, r.id, r.module, r.name, r.owner, 1 if r.deleted else 0) for r in org.records),
        progress,
        "records",
    )
    await insert_many(
        tx,
        INSERT_RECORD_SHARE,
        ((o, r.id, uid) for r in org.records if r.shared_with for uid in sorted(r.shared_with)),
        progress,
        "record shares",
    )
    await insert_many(
        tx,
        INSERT_EMAIL_SHARE,
        (
            (o, r.id, uid)
            for r in org.records
            if r.emails_shared_by
            for uid in sorted(r.emails_shared_by)
        ),
        progress,
        "email shares",
    )
    for c in org.clients:
        # A client id is global: the org's own earlier client of that id goes.
        await tx.execute("DELETE FROM oauth_clients WHERE client_id = ?", (c.client_id,))
    await insert_many(
        tx,
        INSERT_CLIENT,
        (
            (
                c.client_id,
                o,
                c.client_id,
                _client_hash(c.client_id, c.client_secret),
                c.redirect_uri,
            )
            for c in org.clients
        ),
    )
    await insert_mail(tx, org)
    await insert_servers(tx, org)


def _token_rows(org: Org, now: int) -> Iterator[Params]:
    # ``seq`` orders an org's tokens by issue; fixed tokens take consecutive values.
    seq = time.time_ns()
    for i, t in enumerate(org.tokens):
        yield (
            token_hash(t.access_token),
            org.id,
            t.user,
            " ".join(t.scopes),
            now + t.expires_in,
            None,
            None,
            seq + i,
        )


async def analyze(db: Database) -> None:
    """Fresh planner statistics after a large load (PostgreSQL; SQLite needs none here)."""
    if db.dialect == "postgresql":
        async with db.transaction(bump=False) as tx:
            await tx.execute("ANALYZE")
