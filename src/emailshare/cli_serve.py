"""``emailshare serve`` and ``emailshare demo``: claim the port, open and fill the store, run
granian, and say what is served (the store, what it holds, the URL, the next step) once the
server answers. The demo's temporary store goes when it stops unless ``--keep``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shlex
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

from emailshare import bootstrap, startup
from emailshare.config import Settings
from emailshare.domain.errors import FixtureError
from emailshare.mail import vault
from emailshare.service import admin
from emailshare.startup import Exit, Refused
from emailshare.storage.counts import Counts, counts

__all__ = ["counts"]
from emailshare.storage.db import redact
from emailshare.storage.repo import Store

T = TypeVar("T")

DEMO_USER = 412463000001213019
DEMO_RECORD = "3652397000001790004"
DEMO_SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def with_store(db_url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store, bring its schema up to date, run ``work``, close. The URL is checked
    first, so a bad one or a missing driver is said as such (startup.check_db_url)."""
    startup.check_db_url(db_url)

    async def run() -> T:
        async with bootstrap.open_store(db_url) as store:
            return await work(store)

    with startup.quiet_driver():
        return asyncio.run(run())


def store_counts(db_url: str) -> Counts:
    """What the store holds."""

    async def work(store: Store) -> Counts:
        return await counts(store.db)

    return with_store(db_url, work)


def prepare(
    db_url: str, fixture: str | None, key_file: str | None = None, say: bool = True
) -> None:
    """Open (and migrate) the store; load ``fixture`` into it when given (saying so unless
    not ``say``)."""

    async def work(store: Store) -> None:
        if fixture:
            key = vault.load_key(key_file)
            try:
                summary = await admin.load_file(store, fixture, int(time.time()), key)
            except FixtureError as exc:  # every fixture error names the file
                named = str(exc) if str(exc).startswith(fixture) else f"{fixture}: {exc}"
                hint = "" if ": cannot read: " in named else " (the format: docs/fixtures.md)"
                raise FixtureError(named + hint) from None
            if say:
                print(
                    f"loaded {fixture}: {summary.orgs} orgs, {summary.users} users, "
                    f"{summary.records} records, {summary.tokens} tokens",
                    flush=True,
                )

    with_store(db_url, work)


def _fresh_metrics_dir(path: Path) -> None:
    """Make the metrics directory, or empty one given (``--metrics-dir``) of a previous run's
    files: left there, they would be added to this run's counts."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def run_granian(settings: Settings, host: str, port: int, workers: int) -> None:
    """Run the ASGI app on granian; workers rebuild settings from the environment."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings, HTTP2Settings

    from emailshare.api import logs  # not api.metrics: prometheus-client must wait (below)

    # prometheus-client's multiprocess mode: each worker writes its values to files in a
    # directory of this server's own, added up by /metrics. It is chosen when the client is
    # imported, so the variable is set here, in the parent, before granian forks the workers
    # that import it; the directory goes when the server stops (docs/observability.md).
    metrics = settings.metrics_dir or tempfile.mkdtemp(prefix="emailshare-metrics-")
    _fresh_metrics_dir(Path(metrics))
    os.environ[MULTIPROC_ENV] = metrics
    os.environ.update(dataclasses.replace(settings, metrics_dir=metrics).to_env())
    try:
        Granian(
            "emailshare.api.app:create_app_from_env",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_access=False,
            log_dictconfig=logs.log_config(),
            backlog=2048,
            websockets=False,
            # A silent connection costs ~2 KB, not a worker's attention; heads past 64 KiB are
            # refused by granian itself (ours stop at 32 KiB). See docs/reliability.md.
            backpressure=8192,
            http1_settings=HTTP1Settings(max_buffer_size=65_536),
            http2_settings=HTTP2Settings(max_headers_size=65_536),
        ).serve()
    finally:
        if not settings.metrics_dir:
            shutil.rmtree(metrics, ignore_errors=True)


def base_url(host: str, port: int) -> str:
    """The URL a client on this machine calls."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    return f"http://{shown}:{port}"


def banner(db_url: str, held: Counts, url: str, admin_on: bool) -> list[str]:
    """What ``serve`` says once it answers: the store, what it holds, the URL, the next step."""
    lines = [
        f"emailshare: serving {redact(db_url)} ({held}) on {url}",
    ]
    if admin_on:
        lines.append(f"  admin page: {url}/__emailshare/ (its key: --admin-key)")
    if held.orgs == 0:
        lines.append(
            "  the store is empty: load an org with  emailshare example-fixture > my-org.json"
            f" && emailshare load --db {shlex.quote(db_url)} my-org.json"
        )
    else:
        lines.append(
            f"  next: emailshare token --db {shlex.quote(db_url)} --user USER_ID"
            " --scope ZohoCRM.modules.ALL  (USER_ID: a users[].id of your fixture; Ctrl-C stops)"
        )
    return lines


def serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    say: list[str],
    held: socket.socket | None = None,
) -> None:
    """Claim the port (unless ``held`` already), run the server, print ``say`` once it
    answers."""
    held = held or startup.claim_port(host, port)
    try:

        def tell() -> None:
            print("\n".join(say), flush=True)

        with startup.once_answering(host, port, tell):
            run_granian(settings, host, port, workers)
    finally:
        if held is not None:
            held.close()


def demo(host: str, port: int, db: str | None, admin_key: str | None, keep: bool) -> None:
    """Serve the demo org on a fresh temporary store (or ``db``), printing its curl once the
    server answers; the temporary store is removed at stop unless ``keep``."""
    folder = None if db else Path(tempfile.mkdtemp(prefix="emailshare-demo-"))
    db_url = db or f"sqlite:///{folder / 'demo.db' if folder else ''}"
    try:
        held = startup.claim_port(host, port)  # before anything is written or printed
        fixture = resources.files("emailshare") / "data" / "demo.json"
        with resources.as_file(fixture) as path:
            prepare(db_url, str(path), say=False)

        async def mint(store: Store) -> str:
            return await admin.issue_token(store, DEMO_USER, DEMO_SCOPES, 86400, int(time.time()))

        token = with_store(db_url, mint)
        announce_demo(port, db_url)
        url = base_url(host, port)
        call = f"{url}/crm/v8/Accounts/{DEMO_RECORD}/__emails_sharing_details"
        say = [
            f"emailshare demo: org 'Zylker Demo' ({store_counts(db_url)}) on {redact(db_url)}"
            + ("" if folder is None or keep else " (removed when the demo stops; --keep keeps it)"),
            f"serving on {url}" + (f"; admin page: {url}/__emailshare/" if admin_key else ""),
            "Try:",
            "",
            f"  curl -s {shlex.quote(call)} \\\n"
            f"    -H {shlex.quote('Authorization: Zoho-oauthtoken ' + token)}",
            "",
            f"(token for Will Grandon, scopes {' '.join(DEMO_SCOPES)}; Ctrl-C stops)",
        ]
        serve(Settings(db_url=db_url, admin_key=admin_key), host, port, 1, say, held)
    finally:
        forget_demo(port, db_url)
        if folder is not None and not keep:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder is not None:
            print(f"emailshare demo: the store is kept in {folder}", flush=True)


def demo_file(port: int) -> Path:
    """Where the demo serving ``port`` says which store it serves, for ``emailshare demo-token``
    (this user's only: the name carries the uid, and the file is written with mode 0600)."""
    return Path(tempfile.gettempdir()) / f"emailshare.demo-{os.getuid()}-{port}.json"


def announce_demo(port: int, db_url: str) -> None:
    """Write :func:`demo_file` for this demo (replacing a file a killed demo left behind)."""
    path = demo_file(port)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"db": db_url, "pid": os.getpid()}, out)


def forget_demo(port: int, db_url: str) -> None:
    """Remove :func:`demo_file` when it is this demo's (another demo may hold the port now)."""
    path = demo_file(port)
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("db") == db_url:
            path.unlink()
    except (OSError, ValueError):
        pass


def demo_token(port: int) -> str:
    """A fresh token for the demo's user (Will Grandon, the demo's scopes) from the store of
    the demo serving ``port``: what a reader pastes into the demo's curls, without copying it
    from the demo's output."""
    path = demo_file(port)
    try:
        if path.stat().st_uid != os.getuid():
            raise OSError("not this user's file")
        db_url = str(json.loads(path.read_text(encoding="utf-8"))["db"])
    except (OSError, ValueError, KeyError, TypeError):
        raise Refused(
            Exit.SETTING,
            f"no emailshare demo is running on port {port}: start one with "
            f"emailshare demo --port {port}",
        ) from None

    async def mint(store: Store) -> str:
        return await admin.issue_token(store, DEMO_USER, DEMO_SCOPES, 86400, int(time.time()))

    return with_store(db_url, mint)
