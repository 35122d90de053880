"""What the Emails calls cost (docs/emails.md, "What a list costs"; docs/performance.md, "Emails").

    .venv/bin/python bench/emails_list.py                       # SQLite, 20,000 emails
    .venv/bin/python bench/emails_list.py --db postgresql://…   # a PostgreSQL database
    .venv/bin/python bench/emails_list.py --emails 100000
    .venv/bin/python bench/emails_list.py --db sqlite:///set.db --lines set.emails.tsv --clock cpu

Without ``--lines``: one org of 5 users (public email sharing) and 50 Leads; the emails go
round the Leads, one in three sent from CRM, the others mailbox emails to the Lead's address.
Then, for one Lead (the org's emails / 50 of them): the first page and the 16th page (whose
``prev_index`` is computed too), in milliseconds per request over ``--requests`` requests each.

With ``--lines`` (the request lines of ``emailshare gen --emails-requests-out`` for the store
``--db``): the list and the one-email call, each request line once (shuffled, ``-n`` of each;
nothing repeats), called in process as ``bench/inprocess.py`` calls the details, best of
``--rounds`` passes in microseconds per request; ``--split`` adds where each pass's time went
(the store's statements, the org's people, the answer's serialisation; wall clock).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.inprocess import CLOCKS, Message, scope  # noqa: E402
from emailshare.api.app import create_app  # noqa: E402
from emailshare.config import Settings  # noqa: E402
from emailshare.testing import InProcess  # noqa: E402

ORG = "700000000000000001"
USERS = [f"70000000000000100{i}" for i in range(5)]
TOKEN = "1000." + "c" * 32 + "." + "d" * 32


def document(emails: int) -> dict[str, Any]:
    users = [
        {
            "id": u,
            "name": f"user {i}",
            "mailbox": {"protocol": "imap", "address": f"u{i}@bench.test"},
            "email_sharing": "public",
        }
        for i, u in enumerate(USERS)
    ]
    leads = [
        {
            "module": "Leads",
            "id": f"7000000000000020{i:02d}",
            "owner": USERS[0],
            "emails": [f"lead{i}@customer.test"],
        }
        for i in range(50)
    ]
    items = []
    for n in range(emails):
        lead = leads[n % 50]
        crm = n % 3 == 0
        item: dict[str, Any] = {
            "message_id": f"m{n}",
            "kind": "sent" if crm else "mailbox",
            "owner": USERS[n % 5],
            "to": [{"user_name": None, "email": lead["emails"][0]}],
            "subject": f"email {n}",
            "time": f"2024-01-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:"
            f"{n % 60:02d}+00:00",
        }
        if crm:
            item["record"] = {"module": "Leads", "id": lead["id"]}
        items.append(item)
    org = {
        "id": ORG,
        "name": "Bench",
        "data_sharing": {"Leads": "public"},
        "users": users,
        "records": leads,
        "emails": items,
        "tokens": [{"access_token": TOKEN, "user": USERS[1], "scopes": ["ZohoCRM.modules.ALL"]}],
    }
    return {"orgs": [org]}


def per_request(client: httpx.Client, path: str, params: dict[str, str], n: int) -> float:
    headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
    start = time.perf_counter()
    for _ in range(n):
        assert client.get(path, headers=headers, params=params).status_code == 200
    return (time.perf_counter() - start) / n * 1000


def one_lead(args: argparse.Namespace) -> None:
    db = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='emails-bench-')) / 'b.db'}"
    started = time.perf_counter()
    app = InProcess(fixture=document(args.emails), settings=Settings(db_url=db))
    app.start()
    print(f"loaded {args.emails} emails in {time.perf_counter() - started:.1f} s")
    try:
        with httpx.Client(transport=app.transport, base_url=app.url) as client:
            path = "/crm/v8/Leads/700000000000002007/Emails"
            headers = {"Authorization": f"Zoho-oauthtoken {TOKEN}"}
            index = None
            for _ in range(15):
                params: dict[str, str] = {"index": index} if index else {}
                index = client.get(path, headers=headers, params=params).json()["info"][
                    "next_index"
                ]
            assert index is not None, "fewer than 16 pages: give more --emails"
            first = per_request(client, path, {}, args.requests)
            deep = per_request(client, path, {"index": index}, args.requests)
        print(f"first page      {first:7.2f} ms/request")
        print(f"16th page       {deep:7.2f} ms/request")
    finally:
        app.stop()


# --- every request line once ---------------------------------------------------------------

Timings = dict[str, float]


def _timed(owner: Any, name: str, label: str, spent: Timings) -> None:
    """Wrap ``owner.name`` (a coroutine function or a plain one) to add its wall time to
    ``spent[label]``; left alone when ``owner`` has no such attribute (an older tree)."""
    inner = getattr(owner, name, None)
    if inner is None:
        return
    if asyncio.iscoroutinefunction(inner):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, timed_async)
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t0

    setattr(owner, name, timed)


def _instrument(spent: Timings) -> None:
    """Time the store's statements, the people's reads and the answers' serialisation."""
    from emailshare.api import emails as handlers
    from emailshare.api import wire_emails
    from emailshare.storage import db, repo

    for cls in (db.SQLiteDatabase, getattr(db, "PostgresDatabase", None)):
        if cls is not None:
            for name in ("fetchall", "fetchone"):
                _timed(cls, name, "store statements", spent)
    _timed(repo.Store, "record_access", "  of which record_access", spent)
    _timed(repo.Store, "token_owner", "  of which token_owner (caller cache miss)", spent)
    try:
        from emailshare.storage import emails as email_sql

        _timed(email_sql.EmailStore, "candidates", "  of which a page's candidates", spent)
        _timed(email_sql.EmailStore, "opened", "  of which one email", spent)
        _timed(email_sql, "email_of", "email rows to Email values", spent)
    except ImportError:
        pass
    _timed(wire_emails, "email_list", "answer serialised (wire_emails)", spent)
    _timed(wire_emails, "one_email", "answer serialised (wire_emails)", spent)
    _timed(handlers, "list_emails", "the handler, in all", spent)
    _timed(handlers, "open_email", "the handler, in all", spent)


def _lines(path: Path, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The list's lines and the one-email lines, each shuffled."""
    found = [line.split("\t") for line in path.read_text().splitlines() if line]
    random.Random(seed).shuffle(found)
    lists = [(p, t) for p, t in found if p.endswith("/Emails")]
    ones = [(p, t) for p, t in found if not p.endswith("/Emails")]
    return lists, ones


async def drive(app: Any, lines: list[tuple[str, str]], clock: Callable[[], float]) -> float:
    """Microseconds per request over ``lines``; every answer must be a 200 or a 204."""
    statuses: Counter[int] = Counter()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] += 1

    started = clock()
    for path, token in lines:
        await app(scope(path, token), receive, send)
    elapsed = clock() - started
    if set(statuses) - {200, 204}:
        raise SystemExit(f"answers other than 200 and 204: {dict(statuses)}")
    return elapsed / len(lines) * 1e6


async def every_line(args: argparse.Namespace) -> None:
    spent: Timings = {}
    if args.split:
        _instrument(spent)
    clock: Callable[[], float] = CLOCKS[args.clock]
    lists, ones = _lines(args.lines, args.seed)
    n, warm = args.n, args.warm
    if len(lists) < warm + n * args.rounds:
        raise SystemExit(f"{len(lists)} list lines: fewer than --warm + -n x --rounds")
    app = create_app(Settings(db_url=args.db))
    best: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        # Held-out lines first (as bench/run.py warms up): the orgs' people, the callers, the
        # file's pages; then each pass its own lines, so no request line is ever repeated.
        await drive(app, lists[:warm] + ones[:warm], clock)
        for r in range(args.rounds):
            cut = slice(warm + r * n, warm + (r + 1) * n)
            for name, lines in (("Emails list", lists[cut]), ("one email", ones[cut])):
                spent.clear()
                micros = await drive(app, lines, clock)
                best[name] = min(micros, best.get(name, micros))
                if args.split and r == args.rounds - 1:
                    print(f"  {name}, where the last pass went (wall µs/request):")
                    for label, seconds in spent.items():
                        print(f"    {label:<44} {seconds / len(lines) * 1e6:8.1f}")
    print(
        f"in-process, {args.db}, {n} list and {n} one-email lines a pass (after {warm}"
        f" of each held out), best of {args.rounds} ({args.clock} clock):"
    )
    for name, micros in best.items():
        print(f"  {name:<20} {micros:8.1f} µs/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=20_000)
    parser.add_argument("--db", help="store URL (default: a new SQLite file)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--lines", type=Path, help="gen's --emails-requests-out file for --db")
    parser.add_argument("-n", type=int, default=3_000, help="lines of each call a pass")
    parser.add_argument("--warm", type=int, default=10_000, help="held-out lines of each call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--split", action="store_true", help="where the time went")
    args = parser.parse_args()
    if args.lines is None:
        one_lead(args)
        return
    if args.db is None:
        parser.error("--lines needs the --db it was generated for")
    asyncio.run(every_line(args))


if __name__ == "__main__":
    main()
