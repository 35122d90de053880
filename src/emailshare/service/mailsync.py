"""Syncing real mailboxes into mailbox emails (docs/contract.md §13; docs/mailboxes.md).

One pass visits every mailbox that names a server: takes its lease (one instance at a time),
opens a session, reads what is new — IMAP: INBOX and the sent folder, by UIDVALIDITY and UID;
POP3: by UIDL, never deleting — and stores it in batches, each batch one transaction with the
folder's progress, so a pass killed at any point resumes where its last commit left it. A
mailbox that fails records the error and is retried with backoff; the others go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from emailshare.domain.emails import address_key
from emailshare.domain.errors import FixtureError
from emailshare.domain.mail import Attachment, Email, EmailKind, Party, default_status
from emailshare.domain.mailserver import MailServer, SyncState
from emailshare.domain.model import Org
from emailshare.mail import vault
from emailshare.mail.parse import ParsedMail, Person, Skipped, parse
from emailshare.service.mailports import (
    Connector,
    FailureKind,
    Fetched,
    ImapSession,
    LeaseLost,
    Mailbox,
    MailboxFailure,
    MailboxStore,
    PopSession,
)

BATCH = 200
_log = logging.getLogger("emailshare.mailsync")
LEASE_TTL = 120
Progress = Callable[[Mailbox, int], None]


def instance_id() -> str:
    """This process's name in leases: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Outcome:
    """What one mailbox's pass did."""

    user_id: int
    address: str
    new: int = 0
    skipped: int = 0
    error: str | None = None
    busy: bool = False  # another instance holds its lease


@dataclass
class PassSummary:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.error)


@dataclass
class Syncer:
    """One pass over the mailboxes; ``due_only`` honours each failing mailbox's backoff."""

    store: MailboxStore
    connector: Connector
    key: vault.SecretKey | None
    owner: str = field(default_factory=instance_id)
    clock: Callable[[], float] = time.time
    batch: int = BATCH
    lease_ttl: int = LEASE_TTL

    async def run(
        self,
        user_id: int | None = None,
        *,
        due_only: bool = False,
        progress: Progress | None = None,
    ) -> PassSummary:
        summary = PassSummary()
        states = await self.store.states(user_id)
        if self.key is None:
            # The operator's mistake, not the mailboxes': refused before any is marked failing.
            for state in states:
                if await self.store.password_enc(state.org_id, state.user_id):
                    vault.require(None)
        for state in states:
            if due_only and state.next_try_at > self.clock():
                continue
            summary.outcomes.append(await self.one(state, progress))
        return summary

    async def one(self, state: SyncState, progress: Progress | None = None) -> Outcome:
        out = Outcome(state.user_id, state.address)
        org, uid = state.org_id, state.user_id
        if not await self.store.acquire(org, uid, self.owner, self._now(), self.lease_ttl):
            out.busy = True
            return out
        error: str | None = None
        try:
            box = await self._mailbox(state)
            if box.protocol == "pop":
                await self._pop(box, out, progress)
            else:
                await self._imap(box, out, progress)
        except MailboxFailure as exc:
            error = str(exc)
        except LeaseLost:
            out.busy = True
            return out
        except vault.SecretKeyError as exc:
            error = f"{FailureKind.KEY.value}: {exc}"
        except Exception as exc:  # a fault of ours or the store's: this mailbox only
            _log.exception("mailbox %s of org %s: sync failed", uid, org)
            error = f"{FailureKind.INTERNAL.value}: {type(exc).__name__}"
        out.error = error
        await self.store.finish(org, uid, self._now(), error)
        await self.store.release(org, uid, self.owner)
        return out

    def _now(self) -> int:
        return int(self.clock())

    def _lease(self) -> tuple[str, int]:
        return (self.owner, self._now() + self.lease_ttl)

    async def _mailbox(self, state: SyncState) -> Mailbox:
        enc = await self.store.password_enc(state.org_id, state.user_id)
        password = vault.require(self.key).decrypt(enc) if enc else None
        server = state.server
        server = type(server)(server.host, server.port, server.security, server.login, password)
        return Mailbox(state.org_id, state.user_id, state.protocol, state.address, server)

    async def _imap(self, box: Mailbox, out: Outcome, progress: Progress | None) -> None:
        session: ImapSession = await asyncio.to_thread(self.connector.imap, box.server)
        try:
            sent = await asyncio.to_thread(session.sent_folder)
            for folder in ("INBOX", *([sent] if sent else [])):
                await self._folder(box, session, folder, folder == sent, out, progress)
        finally:
            await asyncio.to_thread(session.close)

    async def _folder(
        self,
        box: Mailbox,
        session: ImapSession,
        folder: str,
        is_sent: bool,
        out: Outcome,
        progress: Progress | None,
    ) -> None:
        validity = await asyncio.to_thread(session.select, folder)
        known = await self.store.folder(box.org_id, box.user_id, folder)
        # A changed UIDVALIDITY voids the stored UIDs: read the folder again. The emails' ids
        # come from the messages, not the UIDs, so nothing already stored is stored twice.
        last = known[1] if known and known[0] == validity else 0
        uids = [u for u in await asyncio.to_thread(session.uids_after, last) if u > last]
        if not uids and (known is None or known[0] != validity):
            await self.store.write_imap(box, self._lease(), (folder, validity, last), [], [])
        for start in range(0, len(uids), self.batch):
            chunk = uids[start : start + self.batch]
            fetched = await asyncio.to_thread(session.fetch, chunk)
            emails, skipped = _parsed(box, fetched, is_sent)
            top = max(chunk)
            out.new += await self.store.write_imap(
                box, self._lease(), (folder, validity, top), emails, skipped
            )
            out.skipped += len(skipped)
            if progress:
                progress(box, len(chunk))

    async def _pop(self, box: Mailbox, out: Outcome, progress: Progress | None) -> None:
        session: PopSession = await asyncio.to_thread(self.connector.pop, box.server)
        try:
            seen = await self.store.pop_seen(box.org_id, box.user_id)
            todo = [(n, u) for n, u in await asyncio.to_thread(session.uidls) if u not in seen]
            for start in range(0, len(todo), self.batch):
                chunk = todo[start : start + self.batch]
                fetched = [
                    Fetched(0, await asyncio.to_thread(session.retrieve, n), None, True)
                    for n, _ in chunk
                ]
                emails, skipped = _parsed(box, fetched, False)
                uidls = [u for _, u in chunk]
                out.new += await self.store.write_pop(box, self._lease(), uidls, emails, skipped)
                out.skipped += len(skipped)
                if progress:
                    progress(box, len(chunk))
        finally:
            await asyncio.to_thread(session.close)


def _parsed(
    box: Mailbox, fetched: Sequence[Fetched], in_sent_folder: bool
) -> tuple[list[Email], list[Skipped]]:
    emails: list[Email] = []
    skipped: list[Skipped] = []
    now = datetime.now(UTC)
    for f in fetched:
        got = parse(f.raw, f.arrived or now)
        if isinstance(got, ParsedMail):
            emails.append(as_email(got, box, in_sent_folder, f.seen))
        else:
            skipped.append(got)
    return emails, skipped


def _party(p: Person) -> Party:
    return Party(p.name, p.address)


def as_email(mail: ParsedMail, box: Mailbox, in_sent_folder: bool, seen: bool) -> Email:
    """A parsed message as its owner's mailbox email (docs/contract.md §§10.1, 12.4): sent when
    it is in the sent folder or from the mailbox's own address; read when seen or sent."""
    sent = in_sent_folder or address_key(mail.sender.address) == address_key(box.address)
    return Email(
        message_id=mail.message_id(box.user_id),
        kind=EmailKind.MAILBOX,
        owner=box.user_id,
        time=mail.time,
        sender=_party(mail.sender),
        to=tuple(_party(p) for p in mail.to),
        cc=tuple(_party(p) for p in mail.cc),
        reply_to=_party(mail.reply_to) if mail.reply_to else None,
        thread_id=mail.thread_id,
        subject=mail.subject,
        content=mail.content,
        mail_format=mail.mail_format,
        sent=sent,
        read=seen or sent,
        attachments=tuple(Attachment(a.id, a.name, a.size) for a in mail.attachments),
        status=default_status(EmailKind.MAILBOX, sent),
    )


def seal(orgs: Sequence[Org], key: vault.SecretKey | None) -> list[Org]:
    """The orgs of a fixture with every mailbox password encrypted with ``key``, before
    anything is stored; a password and no key: refused, naming the place."""
    sealed = []
    for i, org in enumerate(orgs):
        users = []
        for j, u in enumerate(org.users):
            s = u.mailbox.server if u.mailbox else None
            if u.mailbox is not None and s is not None and s.password is not None:
                if key is None:
                    raise FixtureError(
                        f"$.orgs[{i}].users[{j}].mailbox.server.password: a mailbox password"
                        f" needs a secret key: {vault.HOW}"
                    )
                s = dataclasses.replace(s, password=None, password_enc=key.encrypt(s.password))
                u = dataclasses.replace(u, mailbox=dataclasses.replace(u.mailbox, server=s))
            users.append(u)
        sealed.append(dataclasses.replace(org, users=tuple(users)))
    return sealed


async def set_server(
    store: MailboxStore,
    key: vault.SecretKey | None,
    org_id: int,
    user_id: int,
    server: MailServer,
) -> bool:
    """Name a mailbox's server; its password is encrypted with ``key`` (refused without one)."""
    enc = vault.require(key).encrypt(server.password) if server.password is not None else None
    return await store.set_server(org_id, user_id, server, enc)


async def mailbox_states(store: MailboxStore, user_id: int | None = None) -> list[SyncState]:
    """Every mailbox with a server and how its syncing goes (``mailbox list``, the admin API):
    last sync, emails, last error and its time, the next try. Never a password."""
    return await store.states(user_id)
