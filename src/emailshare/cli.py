"""The ``emailshare`` command: serve, load, token, demo, migrate."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

from emailshare import bootstrap, cli_mail
from emailshare.config import DEFAULT_DB, Settings
from emailshare.domain.errors import FixtureError
from emailshare.mail import vault
from emailshare.service import admin, oauth
from emailshare.service.fixtures import parse_id
from emailshare.storage import migrate
from emailshare.storage.db import StoreUnavailable, connect, redact
from emailshare.storage.repo import Store

T = TypeVar("T")

DEMO_USER = 412463000001213019
DEMO_RECORD = "3652397000001790004"
DEMO_SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.users.READ", "ZohoCRM.org.READ")


def _with_store(db_url: str, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the store, bring its schema up to date, run ``work``, close."""

    async def run() -> T:
        async with bootstrap.open_store(db_url) as store:
            return await work(store)

    return asyncio.run(run())


def _user_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Zoho id (1 to 19 digits)")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError("workers must be from 1 to 64")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emailshare", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def db_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            default=DEFAULT_DB,
            help="sqlite:///path.db (default: ./emailshare.db) or postgresql://…",
        )

    serve = sub.add_parser("serve", help="serve the API")
    db_opt(serve)
    serve.add_argument("--load", metavar="FILE", help="load this fixture before serving")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--workers", type=_workers, default=1)
    serve.add_argument("--public-url", help="the api_domain handed out with tokens")
    serve.add_argument(
        "--cache-size",
        type=int,
        default=20_000,
        help="answers kept per worker, never stale (0: no cache)",
    )
    serve.add_argument(
        "--cache-mb",
        type=int,
        default=64,
        help="memory for the answers kept per worker, MiB (default: 64)",
    )
    serve.add_argument(
        "--admin-key",
        default=os.environ.get("EMAILSHARE_ADMIN_KEY"),
        help="turn the admin API on, guarded by this key (default: $EMAILSHARE_ADMIN_KEY)",
    )
    serve.add_argument("--log-requests", action="store_true", help="one JSON log line per request")
    serve.add_argument(
        "--metrics-dir", help="folder where workers leave metrics (default: a temporary one)"
    )
    serve.add_argument(
        "--pool-size", type=int, default=8, help="PostgreSQL connections per worker (1-100)"
    )
    serve.add_argument(
        "--request-log-size",
        type=int,
        default=200,
        help="requests each worker keeps for the admin API",
    )
    serve.add_argument(
        "--credits-per-day",
        type=int,
        default=0,
        help="emulate Zoho's API credit budget per org over a rolling 24 h (0: off)",
    )
    serve.add_argument(
        "--max-concurrent",
        type=int,
        default=0,
        help="emulate Zoho's concurrent-request limit per org (0: off)",
    )
    cli_mail.serve_options(serve)

    load = sub.add_parser("load", help="load a fixture (JSON or YAML) into the store")
    db_opt(load)
    load.add_argument("file")
    cli_mail.key_option(load)

    token = sub.add_parser("token", help="print a new access token for a user")
    db_opt(token)
    token.add_argument("--user", type=_user_id, required=True)
    token.add_argument("--org", type=_user_id, help="the org, when the user id is in several")
    token.add_argument("--scope", action="append", required=True, dest="scopes")
    token.add_argument("--expires-in", type=int, default=3600)

    demo = sub.add_parser("demo", help="serve a demo org and print a ready-to-paste curl")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8000)
    demo.add_argument("--db", help="store for the demo (default: a fresh temporary SQLite file)")

    client = sub.add_parser("client", help="manage OAuth clients")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    client_add = client_sub.add_parser("add", help="register a client; prints its id and secret")
    db_opt(client_add)
    client_add.add_argument("--name", required=True)
    client_add.add_argument("--redirect-uri")

    grant = sub.add_parser("grant", help="print a single-use grant code (valid 120 s)")
    db_opt(grant)
    grant.add_argument("--client", required=True)
    grant.add_argument("--user", type=_user_id, required=True)
    grant.add_argument("--org", type=_user_id, help="the org, when the user id is in several")
    grant.add_argument("--scope", action="append", required=True, dest="scopes")
    grant.add_argument("--issued-at", type=int, help=argparse.SUPPRESS)  # tests of expiry

    gen = sub.add_parser("gen", help="write a synthetic data set into the store")
    db_opt(gen)
    gen.add_argument("--orgs", type=int, default=1)
    gen.add_argument("--users", type=int, required=True, help="users in all (split over orgs)")
    gen.add_argument("--records", type=int, required=True, help="records in all")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument(
        "--requests-out",
        metavar="FILE",
        help="write '<path>\\t<token>' per readable request (tokens in clear!)",
    )
    gen.add_argument("--no-progress", action="store_true")

    mig = sub.add_parser("migrate", help="create or upgrade the store's schema")
    db_opt(mig)
    cli_mail.add_commands(sub)
    return parser


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _fresh_metrics_dir(path: Path) -> None:
    """Make the metrics directory, or empty one given (``--metrics-dir``) of a previous run's
    files: left there, they would be added to this run's counts."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
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


def _prepare(db_url: str, fixture: str | None, key_file: str | None = None) -> None:
    async def work(store: Store) -> None:
        if fixture:
            key = vault.load_key(key_file)
            summary = await admin.load_file(store, fixture, int(time.time()), key)
            print(
                f"loaded {fixture}: {summary.orgs} orgs, {summary.users} users, "
                f"{summary.records} records, {summary.tokens} tokens",
                flush=True,
            )

    _with_store(db_url, work)


def _demo(args: argparse.Namespace) -> None:
    db_url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='emailshare-demo-')) / 'demo.db'}"
    fixture = resources.files("emailshare") / "data" / "demo.json"
    with resources.as_file(fixture) as path:
        _prepare(db_url, str(path))

    async def mint(store: Store) -> str:
        return await admin.issue_token(store, DEMO_USER, DEMO_SCOPES, 86400, int(time.time()))

    token = _with_store(db_url, mint)
    base = f"http://{args.host}:{args.port}"
    url = f"{base}/crm/v8/Accounts/{DEMO_RECORD}/__emails_sharing_details"
    print("emailshare demo: org 'Zylker Demo' on", redact(db_url), flush=True)
    print("Try:\n", flush=True)
    print(
        f"  curl -s {shlex.quote(url)} \\\n"
        f"    -H {shlex.quote('Authorization: Zoho-oauthtoken ' + token)}\n",
        flush=True,
    )
    print(f"(token for Will Grandon, scopes {' '.join(DEMO_SCOPES)}; Ctrl-C stops)", flush=True)
    serve(Settings(db_url=db_url), args.host, args.port, 1)


def _gen(args: argparse.Namespace) -> None:
    from emailshare import synth

    async def work(store: Store) -> synth.GenSummary:
        out = open(args.requests_out, "w", encoding="utf-8") if args.requests_out else None  # noqa: SIM115
        try:
            return await synth.generate(
                store,
                orgs=args.orgs,
                users=args.users,
                records=args.records,
                seed=args.seed,
                requests_out=out,
                progress=not args.no_progress,
            )
        finally:
            if out is not None:
                out.close()

    s = _with_store(args.db, work)
    print(
        f"generated {s.orgs} orgs, {s.users} users, {s.records} records, "
        f"{s.requests} request lines in {s.seconds:.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "run"):  # the commands of cli_mail
            return int(args.run(args))
        if args.command == "serve":
            _prepare(args.db, args.load, args.secret_key_file)
            settings = Settings(
                db_url=args.db,
                public_url=args.public_url,
                admin_key=args.admin_key,
                cache_size=max(0, args.cache_size),
                cache_mb=max(0, args.cache_mb),
                log_requests=args.log_requests,
                pool_size=min(100, max(1, args.pool_size)),
                metrics_dir=args.metrics_dir,
                request_log_size=max(0, args.request_log_size),
                credits_per_day=max(0, args.credits_per_day),
                max_concurrent=max(0, args.max_concurrent),
            )
            with cli_mail.background_sync(args):
                serve(settings, args.host, args.port, args.workers)
        elif args.command == "load":
            _prepare(args.db, args.file, args.secret_key_file)
        elif args.command == "token":
            scopes = [s for text in args.scopes for s in oauth.split_scopes(text)]

            async def mint(store: Store) -> str:
                return await admin.issue_token(
                    store, args.user, scopes, args.expires_in, int(time.time()), args.org
                )

            print(_with_store(args.db, mint))
        elif args.command == "client":

            async def add(store: Store) -> oauth.NewClient:
                return await oauth.add_client(store, args.name, args.redirect_uri)

            made = _with_store(args.db, add)
            print(f"client_id: {made.client_id}\nclient_secret: {made.client_secret}")
        elif args.command == "grant":

            async def code(store: Store) -> str:
                scopes = [s for text in args.scopes for s in oauth.split_scopes(text)]
                issued_at = args.issued_at if args.issued_at is not None else int(time.time())
                return await oauth.issue_grant(
                    store, args.client, args.user, scopes, issued_at, args.org
                )

            print(_with_store(args.db, code))
        elif args.command == "gen":
            _gen(args)
        elif args.command == "demo":
            _demo(args)
        elif args.command == "migrate":

            async def upgrade() -> list[str]:
                db = await connect(args.db)
                try:
                    return await migrate.upgrade(db)
                finally:
                    await db.close()

            names = asyncio.run(upgrade())
            print("applied: " + (", ".join(names) if names else "nothing (up to date)"))
    except FixtureError as exc:
        print(f"emailshare: {exc}", file=sys.stderr)
        return 2
    except (StoreUnavailable, ValueError, OSError) as exc:
        print(f"emailshare: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
