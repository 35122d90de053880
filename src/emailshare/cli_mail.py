"""The mailbox commands of ``emailshare`` (docs/mailboxes.md): ``secret-key``, ``mailbox set``,
``mailbox list``, ``sync``, ``import-mail``, and ``serve --sync-every``. Registered on cli.py's
parser by ``add_commands`` (each sets ``run``, which cli.main calls) and ``serve_options``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from emailshare import options
from emailshare.domain.mailserver import MailServer, Security, SyncState
from emailshare.domain.numbers import parse_id, parse_int
from emailshare.mail import files, vault
from emailshare.mail.clients import Clients
from emailshare.mail.connect import ClientSettings
from emailshare.service import mailsync
from emailshare.service.mailimport import Importer, ImportSummary
from emailshare.service.mailports import Mailbox
from emailshare.storage import migrate
from emailshare.storage.db import connect
from emailshare.storage.mailboxes import MailboxRepo

T = TypeVar("T")


def _with_repo(db_url: str, work: Callable[[MailboxRepo], Awaitable[T]]) -> T:
    async def run() -> T:
        db = await connect(db_url)
        try:
            await migrate.upgrade(db)
            return await work(MailboxRepo(db))
        finally:
            await db.close()

    return asyncio.run(run())


def _id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Zoho id (1 to 19 digits)")
    return value


def _port(text: str) -> int:
    value = parse_int(text, 1, 65535)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def _positive(text: str) -> int:
    value = parse_int(text, 1, 100_000_000)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 100000000")
    return value


def key_option(p: argparse.ArgumentParser) -> None:
    """``--secret-key-file``: every command that reads or writes mailbox passwords has it."""
    p.add_argument(
        "--secret-key-file",
        metavar="PATH",
        help=f"the key mailbox passwords are encrypted with (default: ${vault.ENV})",
    )


def client_options(p: argparse.ArgumentParser) -> None:
    """How emailshare talks to mail servers: the CA to verify them with, the timeout."""
    options.add(p, ["--mail-ca-file", "--mail-timeout"])  # EMAILSHARE_MAIL_* too


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the mailbox commands to ``emailshare``'s subcommands."""

    def db_opt(p: argparse.ArgumentParser) -> None:
        options.add(p, ["--db"])  # EMAILSHARE_DB too (emailshare.options)

    key = sub.add_parser("secret-key", help="print a new key for mailbox passwords")
    key.set_defaults(run=_secret_key)

    mailbox = sub.add_parser("mailbox", help="connect users' mailboxes to real mail servers")
    msub = mailbox.add_subparsers(dest="mailbox_command", required=True)
    mset = msub.add_parser("set", help="name a user's IMAP or POP3 server")
    db_opt(mset)
    key_option(mset)
    mset.add_argument("--user", type=_id, required=True)
    mset.add_argument("--org", type=_id, help="the org, when the user id is in several")
    mset.add_argument("--host", required=True)
    mset.add_argument("--port", type=_port, required=True)
    mset.add_argument("--security", choices=[s.value for s in Security], default="tls")
    mset.add_argument("--login", required=True)
    pw = mset.add_mutually_exclusive_group()
    pw.add_argument("--password-file", metavar="PATH", help="a file holding the password")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    mset.set_defaults(run=_mailbox_set)
    mlist = msub.add_parser("list", help="mailboxes with a server: last sync, emails, last error")
    db_opt(mlist)
    mlist.add_argument("--user", type=_id)
    mlist.set_defaults(run=_mailbox_list)

    imp = sub.add_parser("import-mail", help="add .eml files, an mbox or a Maildir to a mailbox")
    db_opt(imp)
    imp.add_argument("--user", type=_id, required=True)
    imp.add_argument("--org", type=_id, help="the org, when the user id is in several")
    imp.add_argument("path", help="an .eml file, a folder of them, an mbox file or a Maildir")
    imp.set_defaults(run=_import_mail)

    sync = sub.add_parser("sync", help="sync every mailbox with a server once")
    db_opt(sync)
    key_option(sync)
    client_options(sync)
    sync.add_argument("--user", type=_id, help="only this user's mailbox")
    sync.add_argument("--no-progress", action="store_true")
    sync.add_argument(
        "--every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep syncing, a pass every SECONDS (failing mailboxes on their backoff)",
    )
    # For tests of crashes and takeovers: small commits, short leases.
    sync.add_argument("--batch", type=_positive, default=mailsync.BATCH, help=argparse.SUPPRESS)
    sync.add_argument(
        "--lease-seconds", type=_positive, default=mailsync.LEASE_TTL, help=argparse.SUPPRESS
    )
    sync.set_defaults(run=_sync)


def _import_mail(args: argparse.Namespace) -> int:
    path = Path(args.path)

    async def work(repo: MailboxRepo) -> ImportSummary | str:
        found = [m for m in await repo.mailboxes_of(args.user) if args.org in (None, m[0])]
        if len(found) != 1:
            return "no such user" if not found else "the user is in several orgs: give --org"
        org_id, protocol, address = found[0]
        if protocol is None:
            return "the user has no mailbox (fixture: users[].mailbox)"
        return await Importer(repo, org_id, args.user, address).run(files.messages(path))

    result = _with_repo(args.db, work)
    if isinstance(result, str):
        print(f"emailshare: user {args.user}: {result}", file=sys.stderr)
        return 1
    print(
        f"imported {args.path}: {result.read} messages, {result.new} new emails,"
        f" {result.read - result.new - result.skipped} stored already, {result.skipped} skipped"
    )
    return 0


def _secret_key(args: argparse.Namespace) -> int:
    print(vault.new_key())
    return 0


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    return None


def _mailbox_set(args: argparse.Namespace) -> int:
    password = _password(args)
    key = vault.load_key(args.secret_key_file)
    if password is not None:
        vault.require(key)  # refused before the store is touched
    server = MailServer(args.host, args.port, Security(args.security), args.login, password)

    async def work(repo: MailboxRepo) -> str | None:
        orgs = [o for o, proto in await repo.users_of(args.user) if args.org in (None, o)]
        if len(orgs) != 1:
            return "no such user" if not orgs else "the user is in several orgs: give --org"
        if not await mailsync.set_server(repo, key, orgs[0], args.user, server):
            return "the user has no imap or pop mailbox (fixture: users[].mailbox.protocol)"
        return None

    problem = _with_repo(args.db, work)
    if problem:
        print(f"emailshare: user {args.user}: {problem}", file=sys.stderr)
        return 1
    print(f"mailbox of user {args.user}: {server.security.value}://{server.host}:{server.port}")
    return 0


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def describe(s: SyncState) -> str:
    """One mailbox as ``mailbox list`` prints it."""
    line = (
        f"{s.user_id}  {s.protocol} {s.address}  {s.server.security.value}://"
        f"{s.server.host}:{s.server.port}  last sync {_when(s.last_sync_at)}"
        f"  {s.message_count} emails"
    )
    if s.last_error:
        line += f"  last error {_when(s.last_error_at)}: {s.last_error}"
        line += f" (retry after {_when(s.next_try_at)})"
    return line


def _mailbox_list(args: argparse.Namespace) -> int:
    async def work(repo: MailboxRepo) -> list[SyncState]:
        return await repo.states(args.user)

    states = _with_repo(args.db, work)
    for s in states:
        print(describe(s))
    if not states:
        print("no mailbox has a server (emailshare mailbox set …)")
    return 0


class _Bar:
    """A one-line progress counter on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.start = enabled, time.monotonic()
        self.counts: dict[str, int] = {}

    def __call__(self, box: Mailbox, n: int) -> None:
        self.counts[box.address] = self.counts.get(box.address, 0) + n
        if self.enabled:
            done = sum(self.counts.values())
            sys.stderr.write(
                f"\r{box.address}: {self.counts[box.address]} read, {done} in all"
                f" ({time.monotonic() - self.start:.1f}s)   "
            )
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled and self.counts:
            sys.stderr.write("\n")


def _sync(args: argparse.Namespace) -> int:
    key = vault.load_key(args.secret_key_file)
    clients = Clients(ClientSettings(args.mail_ca_file, args.mail_timeout))
    bar = _Bar(not args.no_progress and sys.stderr.isatty())
    started = time.monotonic()

    async def work(repo: MailboxRepo) -> mailsync.PassSummary:
        syncer = mailsync.Syncer(
            repo, clients, key, batch=max(1, args.batch), lease_ttl=max(1, args.lease_seconds)
        )
        return await syncer.run(args.user, progress=bar)

    if args.every:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

        async def forever(repo: MailboxRepo) -> None:
            await _loop(mailsync.Syncer(repo, clients, key), args.every)

        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, _stop)
            _with_repo(args.db, forever)
        return 0
    summary = _with_repo(args.db, work)
    bar.finish()
    for o in summary.outcomes:
        state = "busy (another instance syncs it)" if o.busy else o.error or "ok"
        print(f"{o.user_id} {o.address}: {o.new} new, {o.skipped} skipped, {state}")
    print(
        f"synced {len(summary.outcomes)} mailboxes: {summary.new} new emails,"
        f" {summary.failed} failed, in {time.monotonic() - started:.1f}s"
    )
    return 1 if summary.failed else 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_options(p: argparse.ArgumentParser) -> None:
    """``serve``'s options for syncing in the background."""
    options.add(p, ["--sync-every"])  # EMAILSHARE_SYNC_EVERY too
    key_option(p)
    client_options(p)


@contextlib.contextmanager
def background_sync(args: argparse.Namespace) -> Iterator[None]:
    """While the server runs: one sync loop for the server (not one per worker), a child
    process running ``emailshare sync --every SECONDS``. A process, not a thread of the
    serving process: granian forks its workers from that process, and an SQLite connection
    open across a fork corrupts SQLite's own lock bookkeeping in the child."""
    if not args.sync_every or args.sync_every <= 0:
        yield
        return
    vault.load_key(args.secret_key_file)  # a bad key file stops serve before it starts
    cmd = [sys.executable, "-m", "emailshare", "sync", "--db", args.db, "--no-progress"]
    cmd += ["--every", str(args.sync_every), "--mail-timeout", str(args.mail_timeout)]
    if args.secret_key_file:
        cmd += ["--secret-key-file", args.secret_key_file]
    if args.mail_ca_file:
        cmd += ["--mail-ca-file", args.mail_ca_file]
    loop = subprocess.Popen(cmd)
    try:
        yield
    finally:
        loop.terminate()
        try:
            loop.wait(10)
        except subprocess.TimeoutExpired:
            loop.kill()
            loop.wait()


async def _loop(syncer: mailsync.Syncer, every: float) -> None:
    """Passes ``every`` seconds apart, failing mailboxes on their backoff, until stopped."""
    log = logging.getLogger("emailshare.mailsync")
    while True:
        try:
            summary = await syncer.run(due_only=True)
            if summary.new or summary.failed:
                log.info(
                    "sync pass: %d mailboxes, %d new emails, %d failed",
                    len(summary.outcomes),
                    summary.new,
                    summary.failed,
                )
        except Exception as exc:  # the store away: try again next time
            log.warning("sync pass failed: %s", type(exc).__name__)
        await asyncio.sleep(every)
