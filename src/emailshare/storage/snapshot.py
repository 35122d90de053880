"""Whole orgs read back from the store, as the domain's :class:`Org` (for the admin API).

The hot path never reads a whole org; the admin API does, to dump the state and to explain an
answer with the pure rules. One statement per table, parameterised, in the SQL both stores
share. Token and client material is never read: an org comes back without ``clients`` and
``tokens``.
"""

from __future__ import annotations

from collections import defaultdict

from emailshare.domain.mailserver import MailServer, Security
from emailshare.domain.model import (
    DataSharing,
    EmailSharing,
    Mailbox,
    Org,
    Profile,
    Protocol,
    Record,
    Role,
    Status,
    User,
)
from emailshare.domain.views import OrgSummary
from emailshare.storage.common import Queryable
from emailshare.storage.db import Row
from emailshare.storage.email_rows import read_mail

_ORGS = (
    "SELECT o.id, o.name,"
    " (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id),"
    " (SELECT COUNT(*) FROM records r WHERE r.org_id = o.id)"
    " FROM orgs o ORDER BY o.id"
)

_USERS = (
    "SELECT u.id, u.name, u.email, u.status, u.profile, u.role_id, u.mailbox_protocol,"
    " u.mailbox_address, u.mailbox_enabled, u.email_sharing, s.host, s.port, s.security, s.login"
    " FROM users u LEFT JOIN mailbox_servers s ON s.org_id = u.org_id AND s.user_id = u.id"
    " WHERE u.org_id = ? ORDER BY u.id"
)


async def list_orgs(q: Queryable) -> list[OrgSummary]:
    """Every org in the store, by id, with its number of users and records."""
    rows = await q.fetchall(_ORGS)
    return [OrgSummary(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]


async def read_org(q: Queryable, org_id: int) -> Org | None:
    """The org with everything in it (roles, users, records and their shares), or None.

    Users, roles and records come in id order, emails in load order; ``clients`` and
    ``tokens`` stay empty.
    """
    row = await q.fetchone("SELECT id, name FROM orgs WHERE id = ?", (org_id,))
    if row is None:
        return None
    sharing = {
        str(m): DataSharing(lvl)
        for m, lvl in await q.fetchall(
            "SELECT module, level FROM data_sharing WHERE org_id = ? ORDER BY module", (org_id,)
        )
    }
    custom = tuple(
        str(r[0])
        for r in await q.fetchall(
            "SELECT api_name FROM custom_modules WHERE org_id = ? ORDER BY api_name", (org_id,)
        )
    )
    roles = tuple(
        Role(int(r[0]), str(r[1]), None if r[2] is None else int(r[2]))
        for r in await q.fetchall(
            "SELECT id, name, reports_to FROM roles WHERE org_id = ? ORDER BY id", (org_id,)
        )
    )
    users = tuple(_user(r) for r in await q.fetchall(_USERS, (org_id,)))
    shared_with = await _pairs(q, "record_shares", org_id)
    emails_shared_by = await _pairs(q, "email_shares", org_id)
    records = tuple(
        Record(
            module=str(r[1]),
            id=int(r[0]),
            name=str(r[2]),
            owner=int(r[3]),
            shared_with=frozenset(shared_with.get(int(r[0]), ())),
            emails_shared_by=frozenset(emails_shared_by.get(int(r[0]), ())),
            deleted=bool(r[4]),
        )
        for r in await q.fetchall(
            "SELECT id, module, name, owner_id, deleted FROM records WHERE org_id = ? ORDER BY id",
            (org_id,),
        )
    )
    mail = await read_mail(q, org_id)
    return Org(int(row[0]), str(row[1]), sharing, custom, roles, users, records, mail=mail)


async def _pairs(q: Queryable, table: str, org_id: int) -> dict[int, list[int]]:
    # ``table`` is one of two constants of this module, never input.
    assert table in ("record_shares", "email_shares")
    found: dict[int, list[int]] = defaultdict(list)
    for record_id, user_id in await q.fetchall(
        f"SELECT record_id, user_id FROM {table} WHERE org_id = ? ORDER BY record_id, user_id",
        (org_id,),
    ):
        found[int(record_id)].append(int(user_id))
    return found


def _user(r: Row) -> User:
    protocol, address, enabled = r[6], r[7], r[8]
    mailbox = None
    if protocol is not None:
        # A mailbox's server without its password, which never leaves the store.
        server = None if r[10] is None else MailServer(r[10], int(r[11]), Security(r[12]), r[13])
        mailbox = Mailbox(Protocol(protocol), str(address or ""), bool(enabled), server)
    return User(
        id=int(r[0]),
        name=str(r[1]),
        email=str(r[2]),
        status=Status(r[3]),
        profile=Profile(r[4]),
        role=None if r[5] is None else int(r[5]),
        mailbox=mailbox,
        email_sharing=EmailSharing(r[9]),
    )
