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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from emailshare.domain.errors import FixtureError
from emailshare.domain.mail import Email
from emailshare.domain.mailserver import MailServer, SyncState
from emailshare.domain.model import Org
from emailshare.mail import vault
from emailshare.mail.parse import Skipped
from emailshare.service.mailparse import Parser
from emailshare.service.mailparse import as_email as as_email  # import-mail's too
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

BATCH = 500  # messages per FETCH and per transaction
_log = logging.getLogger("emailshare.mailsync")
LEASE_TTL = 120
Progress = Callable[[Mailbox, int], None]
_C = TypeVar("_C")


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
    parser: Parser = field(default_factory=Parser)

    async def run(
        self,
        user_id: int | None = None,
        *,
        due_only: bool = False,
        progress: Progress | None = None,
    ) -> PassSummary:
        try:
            return await self._run(user_id, due_only, progress)
        finally:
            self.parser.close()

    async def _run(
        self, user_id: int | None, due_only: bool, progress: Progress | None
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
        chunks = [uids[i : i + self.batch] for i in range(0, len(uids), self.batch)]

        async def store(chunk: list[int], emails: list[Email], skipped: list[Skipped]) -> None:
            top = max(chunk)
            out.new += await self.store.write_imap(
                box, self._lease(), (folder, validity, top), emails, skipped
            )
            out.skipped += len(skipped)
            if progress:
                progress(box, len(chunk))

        await self._pipeline(
            box, chunks, lambda chunk: session.fetch(chunk), is_sent, len(uids), store
        )

    async def _pipeline(
        self,
        box: Mailbox,
        chunks: Sequence[Sequence[_C]],
        fetch: Callable[[Sequence[_C]], list[Fetched]],
        is_sent: bool,
        total: int,
        store: Callable[[list[_C], list[Email], list[Skipped]], Awaitable[None]],
    ) -> None:
        """Fetch, parse and store the batches in three stages at once: while batch i is
        parsed (in worker processes when there are many), batch i+1 downloads (on a thread:
        the session's one connection, so fetches never overlap each other) and batch i-1 is
        stored. Batches are stored in order, each in its own transaction."""
        if not chunks:
            return
        owner = (box.user_id, box.address)
        self.parser.prepare(total)
        fetching = asyncio.ensure_future(asyncio.to_thread(fetch, chunks[0]))
        stored: asyncio.Future[None] | None = None
        try:
            for i, chunk in enumerate(chunks):
                fetched = await fetching
                if i + 1 < len(chunks):
                    fetching = asyncio.ensure_future(asyncio.to_thread(fetch, chunks[i + 1]))
                parsing = asyncio.ensure_future(self.parser.parse(owner, fetched, is_sent))
                if stored is not None:
                    await stored
                emails, skipped = await parsing
                stored = asyncio.ensure_future(store(list(chunk), emails, skipped))
            if stored is not None:
                await stored
                stored = None
        finally:
            # A failed stage: the session must be idle before it is closed, and nothing
            # stored after the failure.
            for task in (fetching, stored):
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)

    async def _pop(self, box: Mailbox, out: Outcome, progress: Progress | None) -> None:
        session: PopSession = await asyncio.to_thread(self.connector.pop, box.server)
        try:
            seen = await self.store.pop_seen(box.org_id, box.user_id)
            todo = [(n, u) for n, u in await asyncio.to_thread(session.uidls) if u not in seen]
            chunks = [todo[i : i + self.batch] for i in range(0, len(todo), self.batch)]

            def fetch(chunk: Sequence[tuple[int, str]]) -> list[Fetched]:
                return [Fetched(0, session.retrieve(n), None, True) for n, _ in chunk]

            async def store(
                chunk: list[tuple[int, str]], emails: list[Email], skipped: list[Skipped]
            ) -> None:
                uidls = [u for _, u in chunk]
                out.new += await self.store.write_pop(box, self._lease(), uidls, emails, skipped)
                out.skipped += len(skipped)
                if progress:
                    progress(box, len(chunk))

            await self._pipeline(box, chunks, fetch, False, len(todo), store)
        finally:
            await asyncio.to_thread(session.close)


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
