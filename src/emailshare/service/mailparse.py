"""Messages to mailbox emails, in worker processes when a pass has many (docs/mailboxes.md,
"Speed").

Parsing is CPU work for the standard library's ``email`` package, about 0.4-0.6 ms a message:
a first sync of 10,000 messages spends most of its time there, in one core, while the
download and the store wait. With many messages to read, a pass parses them in a process
pool sized to the machine's cores (``os.cpu_count()``), each batch split between the workers,
while the next batch downloads and the previous one is stored (``Syncer._pipeline``). Few
messages (an incremental pass, a test) are parsed in the process itself: starting the workers
costs more than they would save.

Workers are started with ``spawn``: the syncing process has threads (the store's writer, the
sessions' network calls), which a forked child must not inherit. What crosses to a worker is
the messages' bytes and the mailbox's owner id and address, never its server or password.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

from emailshare.domain.emails import address_key
from emailshare.domain.mail import Attachment, Email, EmailKind, Party, default_status
from emailshare.domain.mailserver import Mailbox
from emailshare.mail.parse import ParsedMail, Person, Skipped, parse
from emailshare.service.mailports import Fetched

_log = logging.getLogger("emailshare.mailsync")
Owner = tuple[int, str]  # the mailbox's user id and address: all a worker needs of it
Parsed = tuple[list[Email], list[Skipped]]
POOL_MIN = 1500  # messages in a pass from which worker processes pay for their start


def _party(p: Person) -> Party:
    return Party(p.name, p.address)


def as_email(mail: ParsedMail, box: Mailbox | Owner, in_sent_folder: bool, seen: bool) -> Email:
    """A parsed message as its owner's mailbox email (docs/contract.md §§10.1, 12.4): sent when
    it is in the sent folder or from the mailbox's own address; read when seen or sent."""
    user_id, address = (box.user_id, box.address) if isinstance(box, Mailbox) else box
    sent = in_sent_folder or address_key(mail.sender.address) == address_key(address)
    return Email(
        message_id=mail.message_id(user_id),
        kind=EmailKind.MAILBOX,
        owner=user_id,
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


def parse_batch(owner: Owner, fetched: Sequence[Fetched], in_sent_folder: bool) -> Parsed:
    """Every message of a batch as an email, or skipped with its reason (in a worker, or not)."""
    emails: list[Email] = []
    skipped: list[Skipped] = []
    now = datetime.now(UTC)
    for f in fetched:
        got = parse(f.raw, f.arrived or now)
        if isinstance(got, ParsedMail):
            emails.append(as_email(got, owner, in_sent_folder, f.seen))
        else:
            skipped.append(got)
    return emails, skipped


def _ready() -> None:
    """A worker's first job: it has imported this module, so it is ready to parse."""


class Parser:
    """Parses batches in the process, or in a pool of workers once a pass has many messages;
    ``close`` ends the workers (``Syncer.run`` does, after each pass)."""

    def __init__(self, workers: int | None = None, pool_min: int = POOL_MIN) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.pool_min = pool_min
        self._pool: Executor | None = None

    def prepare(self, messages: int) -> None:
        """``messages`` are about to be parsed: start the workers now if they pay (their
        start then overlaps the first download)."""
        if self._pool is not None or messages < self.pool_min or self.workers < 2:
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        for _ in range(self.workers):
            pool.submit(_ready)
        self._pool = pool

    async def parse(self, owner: Owner, fetched: Sequence[Fetched], in_sent_folder: bool) -> Parsed:
        """The batch's emails and skipped messages, in the batch's order."""
        pool = self._pool
        if pool is None or len(fetched) < 2:
            return parse_batch(owner, fetched, in_sent_folder)
        loop = asyncio.get_running_loop()
        size = -(-len(fetched) // self.workers)
        parts = [fetched[i : i + size] for i in range(0, len(fetched), size)]
        try:
            done = await asyncio.gather(
                *(loop.run_in_executor(pool, parse_batch, owner, p, in_sent_folder) for p in parts)
            )
        except BrokenProcessPool:
            # A worker died (killed, or the program's main module cannot be imported again
            # without running it: multiprocessing's "safe importing of main module"). Parsing
            # goes on here; the pass does not fail for it.
            _log.warning("mail parsing workers stopped; parsing in the syncing process")
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return parse_batch(owner, fetched, in_sent_folder)
        return [e for d in done for e in d[0]], [s for d in done for s in d[1]]

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
