"""Mailbox sync speed against a local Dovecot (docs/mailboxes.md, docs/performance.md).

    .venv/bin/python bench/mailsync.py                  # 10,000 messages
    .venv/bin/python bench/mailsync.py --messages 300   # a smoke run

Fills one mailbox (written into the maildir, then indexed by Dovecot before anything is timed),
then times, in the same run: a bare ``imaplib`` loop fetching every message (``UID FETCH`` of
``BODY.PEEK[]`` in batches of 200, the limit: what any sync must at least do), emailshare's first
sync of the mailbox into a fresh SQLite store (fetch, parse, store), and an incremental pass
with nothing new. Targets: the first sync within 2x the bare fetch; the incremental pass under
0.2 s. The bare fetch runs before and after the sync, and the faster run is the limit.

A second reference, beside it: the same bare loop that also parses each message the
straightforward way with the standard library's ``email`` package under ``policy.default`` (the
parser issue 13 requires) and reads what a sync needs (the addresses, subject and date, the
body, the attachments' names and sizes). It shows what that parser costs by itself, so the first
sync can be judged against it (docs/mailboxes.md, "Speed").
"""

from __future__ import annotations

import argparse
import asyncio
import email
import imaplib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dovecot import Dovecot  # noqa: E402

from emailshare.domain.mailserver import MailServer, Security  # noqa: E402
from emailshare.mail import vault  # noqa: E402
from emailshare.mail.clients import Clients  # noqa: E402
from emailshare.mail.connect import ClientSettings  # noqa: E402
from emailshare.service import mailsync  # noqa: E402
from emailshare.storage import migrate  # noqa: E402
from emailshare.storage.db import connect  # noqa: E402
from emailshare.storage.mailboxes import MailboxRepo  # noqa: E402
from emailshare.storage.repo import Store  # noqa: E402
from emailshare.testing import fixture_orgs  # noqa: E402

LOGIN, PASSWORD = "will@acme.test", "bench-pw"
ORG, USER = 1, 2


def message(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {i} <c{i % 500}@client.test>"
    msg["To"] = "Will <will@acme.test>"
    msg["Subject"] = f"Offre n°{i} — suivi"
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0100"
    msg["Message-ID"] = f"<bench-{i}@client.test>"
    msg.set_content("Bonjour,\n" + "texte " * 300)
    msg.add_alternative("<p>Bonjour</p>" + "<p>texte</p>" * 100, subtype="html")
    return msg.as_bytes()


def read_with_stdlib(raw: bytes) -> None:
    """What any sync built on the stdlib parser must do with a message, and no more."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "References"):
        _ = msg[name]
    body = msg.get_body(("html", "plain"))
    if body is not None:
        _ = body.get_content()
    for part in msg.iter_attachments():
        _ = (part.get_filename(), len(part.get_payload(decode=True) or b""))


def bare_fetch(server: Dovecot, parse: Callable[[bytes], None] | None = None) -> tuple[float, int]:
    """Seconds for imaplib to fetch every message of the INBOX (and, given ``parse``, to pass
    each one to it), and how many it got."""
    started = time.perf_counter()
    conn = imaplib.IMAP4("127.0.0.1", server.ports["imap"])
    conn.login(LOGIN, PASSWORD)
    conn.select("INBOX", readonly=True)
    _, data = conn.uid("SEARCH", "UID", "1:*")
    uids = [int(u) for u in data[0].split()]
    got = 0
    for start in range(0, len(uids), 200):
        chunk = ",".join(map(str, uids[start : start + 200]))
        _, items = conn.uid("FETCH", chunk, "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        for item in items:
            if isinstance(item, tuple):
                got += 1
                if parse is not None:
                    parse(item[1])
    conn.logout()
    return time.perf_counter() - started, got


async def emailshare_passes(server: Dovecot, db_url: str) -> tuple[float, int, float, int]:
    """(seconds, new emails) of the first sync and of an incremental pass with nothing new."""
    doc = {
        "orgs": [
            {
                "id": str(ORG),
                "name": "Bench",
                "users": [
                    {
                        "id": str(USER),
                        "name": "Will",
                        "mailbox": {"protocol": "imap", "address": LOGIN},
                    }
                ],
            }
        ]
    }
    db = await connect(db_url)
    try:
        await migrate.upgrade(db)
        await Store(db).replace_orgs(fixture_orgs(json.dumps(doc)), int(time.time()))
        key = vault.SecretKey(vault.new_key())
        repo = MailboxRepo(db)
        port = server.ports["imap"]
        server_settings = MailServer("127.0.0.1", port, Security.NONE, LOGIN, PASSWORD)
        await mailsync.set_server(repo, key, ORG, USER, server_settings)
        syncer = mailsync.Syncer(repo, Clients(ClientSettings()), key)
        started = time.perf_counter()
        first = await syncer.run()
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await syncer.run()
        again_s = time.perf_counter() - started
        return first_s, first.new, again_s, again.new
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    server = Dovecot.create({LOGIN: PASSWORD})
    try:
        server.start()
        for i in range(args.messages):
            server.deliver(LOGIN, message(i))
        bare_fetch(server)  # Dovecot indexes the maildir: not part of anyone's time
        bare_before, got = bare_fetch(server)
        assert got == args.messages, got
        with tempfile.TemporaryDirectory(prefix="emailshare-bench-mail-") as tmp:
            first_s, first_new, again_s, again_new = asyncio.run(
                emailshare_passes(server, f"sqlite:///{tmp}/bench.db")
            )
        bare_after, _ = bare_fetch(server)
        parsed_s, _ = bare_fetch(server, read_with_stdlib)
    finally:
        server.destroy()
    assert first_new == args.messages, first_new
    assert again_new == 0, again_new
    bare = min(bare_before, bare_after)
    ratio = first_s / bare
    n = args.messages
    print(
        "| messages | bare imaplib fetch | emailshare first sync | ratio | incremental pass"
        " | bare fetch + stdlib parse | first sync / that |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {n} | {bare:.2f} s ({n / bare:,.0f} msg/s) | {first_s:.2f} s ({n / first_s:,.0f}"
        f" msg/s) | {ratio:.2f}x (target <= 2) | {again_s * 1000:.0f} ms (target <= 200)"
        f" | {parsed_s:.2f} s ({n / parsed_s:,.0f} msg/s) | {first_s / parsed_s:.2f}x |"
    )
    print(
        json.dumps(
            {
                "messages": n,
                "bare_s": bare,
                "first_sync_s": first_s,
                "ratio": ratio,
                "incremental_s": again_s,
                "bare_fetch_parse_s": parsed_s,
                "ratio_to_fetch_parse": first_s / parsed_s,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
