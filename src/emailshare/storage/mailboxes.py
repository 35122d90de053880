"""Every SQL statement of mailbox syncing (migration 0010): it implements the
``service.mailports.MailboxStore`` port (without importing it). Parameterised always.

Synced messages become rows of the emails table (``add_batch``, a batch at a time;
docs/contract.md §12): one per (org, message id), and the message id is derived from the
mailbox's owner and the message (``ParsedMail.message_id``), so a message is stored once per
mailbox, whichever folder, pass or instance sees it again.
"""

from __future__ import annotations

from collections.abc import Sequence

from emailshare.domain.changes import ORG
from emailshare.domain.errors import FixtureError, LeaseLost
from emailshare.domain.mail import Email
from emailshare.domain.mailserver import KEY_HOW, Mailbox, MailServer, Security, SyncState
from emailshare.domain.model import Org
from emailshare.mail.parse import Skipped
from emailshare.storage.db import Database, Row, Tx
from emailshare.storage.email_rows import (
    INSERT_EMAIL,
    INSERT_EMAIL_ADDRESS,
    address_rows,
    email_row,
    marks,
)

_STATE = (
    "SELECT s.org_id, s.user_id, u.mailbox_protocol, u.mailbox_address, s.host, s.port,"
    " s.security, s.login, s.last_sync_at, s.message_count, s.last_error, s.last_error_at,"
    " s.failures, s.next_try_at"
    " FROM mailbox_servers s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id"
    " WHERE u.mailbox_protocol IN ('imap', 'pop') AND u.mailbox_enabled = 1"
    " AND u.status = 'active'"
)


def _state(r: Row) -> SyncState:
    server = MailServer(str(r[4]), int(r[5]), Security(r[6]), str(r[7]))
    return SyncState(
        org_id=int(r[0]),
        user_id=int(r[1]),
        protocol=str(r[2]),
        address=str(r[3] or ""),
        server=server,
        last_sync_at=None if r[8] is None else int(r[8]),
        message_count=int(r[9]),
        last_error=r[10],
        last_error_at=None if r[11] is None else int(r[11]),
        failures=int(r[12]),
        next_try_at=int(r[13]),
    )


_ASKED = 500  # message ids per "which are stored already" query


async def add_batch(tx: Tx, org_id: int, emails: Sequence[Email]) -> int:
    """A batch of synced or imported mailbox emails, each unless its message id is stored
    already (the same message seen again, in this batch too); the count of new ones.

    A handful of statements per batch, whatever its size: the ids stored already asked in
    one query per 500, then the new emails and their addresses each one ``executemany``
    (a statement per email and one more for its addresses cost about 1 ms a message).
    """
    if emails:
        tx.note(ORG, org_id)  # the org's emails changed (storage.changes)
    unique: dict[str, Email] = {}
    for e in emails:
        unique.setdefault(e.message_id, e)
    ids = list(unique)
    for start in range(0, len(ids), _ASKED):
        part = ids[start : start + _ASKED]
        rows = await tx.fetchall(
            f"SELECT message_id FROM emails WHERE org_id = ? AND message_id IN ({marks(part)})",
            (org_id, *part),
        )
        for (mid,) in rows:
            unique.pop(str(mid), None)
    new = list(unique.values())
    if new:
        # ON CONFLICT: an import-mail running meanwhile may have stored one since.
        rows_ = [email_row(org_id, 0, e) for e in new]
        await tx.executemany(INSERT_EMAIL + " ON CONFLICT DO NOTHING", rows_)
        await tx.executemany(INSERT_EMAIL_ADDRESS, address_rows(org_id, new))
    return len(new)


async def insert_servers(tx: Tx, org: Org) -> None:
    """The servers a fixture names (its org was just replaced); a password only sealed."""
    rows = []
    for u in org.users:
        s = u.mailbox.server if u.mailbox else None
        if s is None:
            continue
        if s.password is not None and s.password_enc is None:
            raise FixtureError(f"user {u.id}: a mailbox password needs a secret key: {KEY_HOW}")
        rows.append((org.id, u.id, s.host, s.port, s.security.value, s.login, s.password_enc))
    if rows:
        await tx.executemany(
            "INSERT INTO mailbox_servers (org_id, user_id, host, port, security, login,"
            " password_enc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


class MailboxRepo:
    """The mailbox servers, their sync state and the emails syncing writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_server(
        self, org_id: int, user_id: int, server: MailServer, password_enc: str | None
    ) -> bool:
        async with self.db.transaction() as tx:
            tx.note(ORG, org_id)  # a mailbox of the org
            user = await tx.fetchone(
                "SELECT 1 FROM users WHERE org_id = ? AND id = ?"
                " AND mailbox_protocol IN ('imap', 'pop')",
                (org_id, user_id),
            )
            if user is None:
                return False
            await tx.execute(
                "INSERT INTO mailbox_servers (org_id, user_id, host, port, security, login,"
                " password_enc) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (org_id, user_id) DO UPDATE SET host = excluded.host,"
                " port = excluded.port, security = excluded.security, login = excluded.login,"
                " password_enc = COALESCE(excluded.password_enc, mailbox_servers.password_enc),"
                " failures = 0, next_try_at = 0",
                (
                    org_id,
                    user_id,
                    server.host,
                    server.port,
                    server.security.value,
                    server.login,
                    password_enc,
                ),
            )
        return True

    async def users_of(self, user_id: int) -> list[tuple[int, str | None]]:
        """(org, mailbox protocol) of every user with this id (ids may repeat across orgs)."""
        rows = await self.db.fetchall(
            "SELECT org_id, mailbox_protocol FROM users WHERE id = ? ORDER BY org_id", (user_id,)
        )
        return [(int(r[0]), r[1]) for r in rows]

    async def mailboxes_of(self, user_id: int) -> list[tuple[int, str | None, str]]:
        """(org, mailbox protocol, mailbox address) of every user with this id."""
        rows = await self.db.fetchall(
            "SELECT org_id, mailbox_protocol, mailbox_address FROM users WHERE id = ?"
            " ORDER BY org_id",
            (user_id,),
        )
        return [(int(r[0]), r[1], str(r[2] or "")) for r in rows]

    async def add_emails(
        self, org_id: int, user_id: int, emails: Sequence[Email], skipped: Sequence[Skipped]
    ) -> int:
        """Imported messages (no server, no lease), in one transaction; the new ones' count."""

        async def work(tx: Tx) -> int:
            new = await add_batch(tx, org_id, emails)
            if skipped:
                await tx.executemany(
                    "INSERT INTO mailbox_skipped (org_id, user_id, message_key, reason)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(org_id, user_id, s.key[:500], s.reason) for s in skipped],
                )
            return new

        return await self.db.run_in_transaction(work, bump=False)  # add_batch notes

    async def states(self, user_id: int | None = None) -> list[SyncState]:
        if user_id is None:
            rows = await self.db.fetchall(_STATE + " ORDER BY s.org_id, s.user_id")
        else:
            rows = await self.db.fetchall(
                _STATE + " AND s.user_id = ? ORDER BY s.org_id", (user_id,)
            )
        return [_state(r) for r in rows]

    async def password_enc(self, org_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT password_enc FROM mailbox_servers WHERE org_id = ? AND user_id = ?",
            (org_id, user_id),
        )
        return None if row is None or row[0] is None else str(row[0])

    async def acquire(self, org_id: int, user_id: int, owner: str, now: int, ttl: int) -> bool:
        # One statement decides: two instances racing both run it, one sees a row updated.
        async with self.db.transaction(bump=False) as tx:
            n = await tx.execute(
                "UPDATE mailbox_servers SET lease_owner = ?, lease_until = ?"
                " WHERE org_id = ? AND user_id = ? AND (lease_until < ? OR lease_owner = ?)",
                (owner, now + ttl, org_id, user_id, now, owner),
            )
        return n == 1

    async def release(self, org_id: int, user_id: int, owner: str) -> None:
        async with self.db.transaction(bump=False) as tx:
            await tx.execute(
                "UPDATE mailbox_servers SET lease_owner = NULL, lease_until = 0"
                " WHERE org_id = ? AND user_id = ? AND lease_owner = ?",
                (org_id, user_id, owner),
            )

    async def folder(self, org_id: int, user_id: int, folder: str) -> tuple[int, int] | None:
        row = await self.db.fetchone(
            "SELECT uidvalidity, last_uid FROM mailbox_folders"
            " WHERE org_id = ? AND user_id = ? AND folder = ?",
            (org_id, user_id, folder),
        )
        return None if row is None else (int(row[0]), int(row[1]))

    async def pop_seen(self, org_id: int, user_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT uidl FROM mailbox_pop_seen WHERE org_id = ? AND user_id = ?",
            (org_id, user_id),
        )
        return {str(r[0]) for r in rows}

    async def write_imap(
        self,
        box: Mailbox,
        lease: tuple[str, int],
        folder: tuple[str, int, int],
        emails: Sequence[Email],
        skipped: Sequence[Skipped],
    ) -> int:
        async def work(tx: Tx) -> int:
            new = await self._write(tx, box, lease, emails, skipped)
            await tx.execute(
                "INSERT INTO mailbox_folders (org_id, user_id, folder, uidvalidity, last_uid)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (org_id, user_id, folder) DO UPDATE"
                " SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
                (box.org_id, box.user_id, *folder),
            )
            return new

        return await self.db.run_in_transaction(work, bump=False)  # add_batch notes

    async def write_pop(
        self,
        box: Mailbox,
        lease: tuple[str, int],
        uidls: Sequence[str],
        emails: Sequence[Email],
        skipped: Sequence[Skipped],
    ) -> int:
        async def work(tx: Tx) -> int:
            new = await self._write(tx, box, lease, emails, skipped)
            if uidls:
                await tx.executemany(
                    "INSERT INTO mailbox_pop_seen (org_id, user_id, uidl) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(box.org_id, box.user_id, u) for u in uidls],
                )
            return new

        return await self.db.run_in_transaction(work, bump=False)  # add_batch notes

    async def _write(
        self,
        tx: Tx,
        box: Mailbox,
        lease: tuple[str, int],
        emails: Sequence[Email],
        skipped: Sequence[Skipped],
    ) -> int:
        # Fencing: the batch is written only while this instance still holds the lease.
        held = await tx.execute(
            "UPDATE mailbox_servers SET lease_until = ?"
            " WHERE org_id = ? AND user_id = ? AND lease_owner = ?",
            (lease[1], box.org_id, box.user_id, lease[0]),
        )
        if held != 1:
            raise LeaseLost
        new = await add_batch(tx, box.org_id, emails)
        if skipped:
            await tx.executemany(
                "INSERT INTO mailbox_skipped (org_id, user_id, message_key, reason)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(box.org_id, box.user_id, s.key[:500], s.reason) for s in skipped],
            )
        if new:
            await tx.execute(
                "UPDATE mailbox_servers SET message_count = message_count + ?"
                " WHERE org_id = ? AND user_id = ?",
                (new, box.org_id, box.user_id),
            )
        return new

    async def finish(self, org_id: int, user_id: int, now: int, error: str | None) -> None:
        from emailshare.domain.mailserver import backoff

        async with self.db.transaction(bump=False) as tx:
            if error is None:
                await tx.execute(
                    "UPDATE mailbox_servers SET last_sync_at = ?, last_error = NULL,"
                    " failures = 0, next_try_at = 0 WHERE org_id = ? AND user_id = ?",
                    (now, org_id, user_id),
                )
                return
            row = await tx.fetchone(
                "SELECT failures FROM mailbox_servers WHERE org_id = ? AND user_id = ?",
                (org_id, user_id),
            )
            failures = (int(row[0]) if row else 0) + 1
            await tx.execute(
                "UPDATE mailbox_servers SET last_error = ?, last_error_at = ?, failures = ?,"
                " next_try_at = ? WHERE org_id = ? AND user_id = ?",
                (error[:500], now, failures, now + backoff(failures), org_id, user_id),
            )
