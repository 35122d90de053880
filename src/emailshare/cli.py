"""The emailshare command line (docs/operations.md lists every setting and exit status)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from importlib import metadata, resources
from typing import cast

from emailshare import cli_mail, cli_serve, options, startup
from emailshare.config import Settings
from emailshare.domain.errors import FixtureError
from emailshare.domain.numbers import parse_id
from emailshare.service import admin, oauth
from emailshare.startup import Exit, Refused
from emailshare.storage import migrate
from emailshare.storage.db import connect
from emailshare.storage.repo import Store

DEMO_USER = cli_serve.DEMO_USER
DEMO_RECORD = cli_serve.DEMO_RECORD
DEMO_SCOPES = cli_serve.DEMO_SCOPES
# src/emailshare/data/NAME.json; acme and emails are tests/data's too (docs/oauth.md, client.md)
EXAMPLES = ("demo", "acme", "emails")

DESCRIPTION = """\
A local, stateful stand-in for Zoho CRM's email-sharing API.

commands:
  demo            serve a demo org on a temporary store and print a ready-to-paste curl
  serve           serve the API from a store (--load a fixture first)
  example-fixture print an example fixture to start your own org from
  load            load a fixture (JSON or YAML) into the store
  token           print a new access token for a user
  client add      register an OAuth client; grant: print a grant code for it
  migrate         create or upgrade the store's schema
  gen             write a synthetic data set into the store
  secret-key, mailbox, import-mail, sync   users' mailboxes: servers, mail files

Every setting has an environment variable (emailshare serve --help; docs/operations.md)."""


def _user_id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Zoho id (1 to 19 digits)")
    return value


def _version() -> str:
    try:
        return metadata.version("emailshare")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "unknown (not installed)"


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on their own exit status (startup.Exit.USAGE)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(Exit.USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="emailshare",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"emailshare {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_opt(p: argparse.ArgumentParser) -> None:
        options.add(p, ["--db"])

    serve = sub.add_parser("serve", help="serve the API")
    options.add(serve, options.SERVE)
    serve.add_argument("--load", metavar="FILE", help="load this fixture before serving")
    cli_mail.serve_options(serve)

    load = sub.add_parser("load", help="load a fixture (JSON or YAML) into the store")
    db_opt(load)
    load.add_argument("file")
    cli_mail.key_option(load)

    token = sub.add_parser("token", help="print a new access token for a user")
    db_opt(token)
    token.add_argument("--user", type=_user_id, required=True, help="the user's id")
    token.add_argument("--org", type=_user_id, help="the org, when the user id is in several")
    token.add_argument(
        "--scope",
        action="append",
        required=True,
        dest="scopes",
        help="a scope; repeat it, or give several comma-separated (ZohoCRM.modules.ALL,…)",
    )
    token.add_argument(
        "--expires-in", type=options.seconds, default=3600, help="seconds (default: %(default)s)"
    )

    demo = sub.add_parser("demo", help="serve a demo org and print a ready-to-paste curl")
    options.add(demo, ["--host", "--port", "--admin-key", "--keep"])
    demo.add_argument(
        "--db",
        dest="demo_db",
        metavar="DB",
        help="store for the demo (default: a fresh temporary SQLite file; EMAILSHARE_DB is "
        "not read, so the demo never writes into your store)",
    )

    demo_token = sub.add_parser(
        "demo-token", help="print a fresh token for the demo's user, from the running demo"
    )
    options.add(demo_token, ["--port"])

    example = sub.add_parser(
        "example-fixture", help="print an example fixture (JSON) to start your own org from"
    )
    example.add_argument(
        "name",
        nargs="?",
        default="demo",
        choices=EXAMPLES,
        help="demo: the demo org (default); acme: orgs with an OAuth client; emails: emails",
    )

    client = sub.add_parser("client", help="manage OAuth clients")
    client_sub = client.add_subparsers(dest="client_command", required=True)
    client_add = client_sub.add_parser("add", help="register a client; prints its id and secret")
    db_opt(client_add)
    client_add.add_argument("--name", required=True, help="the client's name")
    client_add.add_argument("--redirect-uri", help="where grants are sent (default: none)")

    grant = sub.add_parser("grant", help="print a single-use grant code (valid 120 s)")
    db_opt(grant)
    grant.add_argument("--client", required=True, help="the client id (emailshare client add)")
    grant.add_argument("--user", type=_user_id, required=True, help="the user's id")
    grant.add_argument("--org", type=_user_id, help="the org, when the user id is in several")
    grant.add_argument(
        "--scope", action="append", required=True, dest="scopes", help="a scope; repeatable"
    )
    grant.add_argument(
        "--issued-at", type=options.timestamp, help=argparse.SUPPRESS
    )  # tests of expiry

    gen = sub.add_parser("gen", help="write a synthetic data set into the store")
    db_opt(gen)
    gen.add_argument("--orgs", type=options.count, default=1, help="orgs (default: %(default)s)")
    gen.add_argument(
        "--users", type=options.count, required=True, help="users in all (split over orgs)"
    )
    gen.add_argument("--records", type=options.count, required=True, help="records in all")
    gen.add_argument(
        "--seed", type=options.count, default=1, help="random seed (default: %(default)s)"
    )
    gen.add_argument(
        "--requests-out",
        metavar="FILE",
        help="write '<path>\\t<token>' per readable request (tokens in clear!)",
    )
    gen.add_argument(
        "--writes-out",
        metavar="FILE",
        help="write 'POST\\t<path>\\t<token>' per share the record's owner may make (tokens!)",
    )
    gen.add_argument(
        "--emails-per-record",
        type=options.count,
        default=0,
        metavar="N",
        help="emails on every record",
    )
    gen.add_argument(
        "--emails-requests-out",
        metavar="FILE",
        help="write '<path>\\t<token>' per Emails list and one-email call (tokens in clear!)",
    )
    gen.add_argument("--no-progress", action="store_true", help="no progress line")

    mig = sub.add_parser("migrate", help="create or upgrade the store's schema")
    db_opt(mig)
    cli_mail.add_commands(cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub))
    return parser


def _gen(args: argparse.Namespace) -> None:
    from emailshare import synth, synth_emails

    async def work(store: Store) -> synth.GenSummary:
        out = open(args.requests_out, "w", encoding="utf-8") if args.requests_out else None  # noqa: SIM115
        mail_out = writes = None
        if args.writes_out:
            writes = open(args.writes_out, "w", encoding="utf-8")  # noqa: SIM115
        if args.emails_requests_out:
            mail_out = open(args.emails_requests_out, "w", encoding="utf-8")  # noqa: SIM115
        plan = None
        if args.emails_per_record > 0 or mail_out is not None:
            plan = synth_emails.EmailsPlan(max(0, args.emails_per_record), mail_out)
        try:
            return await synth.generate(
                store,
                orgs=args.orgs,
                users=args.users,
                records=args.records,
                seed=args.seed,
                requests_out=out,
                progress=not args.no_progress,
                emails=plan,
                writes_out=writes,
            )
        finally:
            for f in (out, mail_out, writes):
                if f is not None:
                    f.close()

    s = cli_serve.with_store(args.db, work)
    print(
        f"generated {s.orgs} orgs, {s.users} users, {s.records} records, "
        f"{s.requests} request lines, {s.emails} emails, {s.email_requests} emails request "
        f"lines in {s.seconds:.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a start-up failure is one line on stderr and its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    options.resolve(parser, args)
    if getattr(args, "admin_key", None) is None and getattr(args, "admin_key_file", None):
        args.admin_key = args.admin_key_file  # the key the file held (options.key_file)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except Exception as exc:
        failure = startup.classify(exc, getattr(args, "db", None) or getattr(args, "demo_db", None))
        if failure is None:
            raise
        print(f"emailshare: {failure.line}", file=sys.stderr, flush=True)
        return failure.status


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        db_url=args.db,
        public_url=args.public_url,
        admin_key=args.admin_key,
        cache_size=args.cache_size,
        cache_mb=args.cache_mb,
        log_requests=args.log_requests,
        pool_size=args.pool_size,
        metrics_dir=args.metrics_dir,
        request_log_size=args.request_log_size,
        credits_per_day=args.credits_per_day,
        max_concurrent=args.max_concurrent,
    )


def _serve(args: argparse.Namespace) -> None:
    settings = _settings(args)
    startup.check_db_url(args.db)
    held = startup.claim_port(args.host, args.port)  # before the store is touched
    cli_serve.prepare(args.db, args.load, args.secret_key_file)
    url = cli_serve.base_url(args.host, args.port)
    say = cli_serve.banner(args.db, cli_serve.store_counts(args.db), url, bool(args.admin_key))
    with cli_mail.background_sync(args):
        cli_serve.serve(settings, args.host, args.port, args.workers, say, held)


def _token(args: argparse.Namespace) -> None:
    scopes = [s for text in args.scopes for s in oauth.split_scopes(text)]

    async def mint(store: Store) -> str:
        if (await cli_serve.counts(store.db)).users == 0:
            raise Refused(
                Exit.SETTING,
                f"the store {args.db} is empty (no users): load an org first, e.g. "
                "emailshare example-fixture > my-org.json && "
                f"emailshare load --db {args.db} my-org.json",
            )
        return await admin.issue_token(
            store, args.user, scopes, args.expires_in, int(time.time()), args.org
        )

    print(cli_serve.with_store(args.db, mint))


def _example(args: argparse.Namespace) -> None:
    doc = resources.files("emailshare") / "data" / f"{args.name}.json"
    sys.stdout.write(doc.read_text(encoding="utf-8"))


def _run(args: argparse.Namespace) -> int:
    try:
        return _dispatch(args)
    except FixtureError as exc:
        if args.command in ("token", "grant", "client"):  # no such user or client
            raise Refused(Exit.SETTING, startup.one_line(exc)) from None
        raise


def _dispatch(args: argparse.Namespace) -> int:
    if hasattr(args, "run"):  # the commands of cli_mail
        return int(args.run(args))
    if args.command == "serve":
        _serve(args)
    elif args.command == "load":
        cli_serve.prepare(args.db, args.file, args.secret_key_file)
    elif args.command == "token":
        _token(args)
    elif args.command == "example-fixture":
        _example(args)
    elif args.command == "client":

        async def add(store: Store) -> oauth.NewClient:
            return await oauth.add_client(store, args.name, args.redirect_uri)

        made = cli_serve.with_store(args.db, add)
        print(f"client_id: {made.client_id}\nclient_secret: {made.client_secret}")
    elif args.command == "grant":

        async def code(store: Store) -> str:
            scopes = [s for text in args.scopes for s in oauth.split_scopes(text)]
            issued_at = args.issued_at if args.issued_at is not None else int(time.time())
            return await oauth.issue_grant(
                store, args.client, args.user, scopes, issued_at, args.org
            )

        print(cli_serve.with_store(args.db, code))
    elif args.command == "gen":
        _gen(args)
    elif args.command == "demo-token":
        print(cli_serve.demo_token(args.port))
    elif args.command == "demo":
        cli_serve.demo(args.host, args.port, args.demo_db, args.admin_key, args.keep)
    elif args.command == "migrate":
        startup.check_db_url(args.db)

        async def upgrade() -> list[str]:
            db = await connect(args.db)
            try:
                return await migrate.upgrade(db)
            finally:
                await db.close()

        with startup.quiet_driver():
            names = asyncio.run(upgrade())
        print("applied: " + (", ".join(names) if names else "nothing (up to date)"))
    return Exit.OK
