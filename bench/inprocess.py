"""Per-request cost of the ASGI apps called in-process: no sockets, no server, no wrk.

    .venv/bin/python bench/inprocess.py                 # the 10k data set of bench/run.py
    .venv/bin/python bench/inprocess.py --set 1M        # the 1M one (generated when missing)

It tells where the time goes inside one worker (docs/performance.md): the baseline's route,
emailshare's ``/healthz`` through the whole middleware stack, a details answer computed from the
store (each request line once, cache on: the answer is a miss, the org's public sharers
and repeated callers hit), the same answers from the cache (the hot path), and every answer
computed with the cache off. ``--admin-key`` turns the admin API on, and with it the request
journal (its writes included: the pass yields to the loop every 50 requests, as a server
does between requests, so the journal's batches are written meanwhile, and the last batch is
written inside the pass). Best of ``--rounds`` passes, in microseconds per request;
``--clock cpu`` times the process's CPU time instead of the wall clock, which a machine busy
with other jobs disturbs less (a pass descheduled is not counted).

Last, the per-test cost (:func:`per_test_cost`, on the wall clock): what a test pays for a
fresh :class:`emailshare.testing.InProcess` store as the pytest plugin's ``emailshare_app``
makes it, from nothing to nothing (the small fixture read and loaded, the app started, its
first answer, the teardown), the same on ``InProcess``'s default temporary file, and the time
of one more request (``bench/run.py`` reports the first and the last).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.baseline_app import create_app as create_baseline  # noqa: E402
from bench.run import BENCH, dataset  # noqa: E402
from emailshare.api.app import create_app  # noqa: E402
from emailshare.config import Settings  # noqa: E402
from emailshare.testing import InProcess  # noqa: E402

try:
    from emailshare.testing.store import validated_orgs
except ImportError:  # the code before it (a before-and-after run): how the plugin did it then
    from emailshare.testing import fixture_orgs as validated_orgs  # type: ignore[assignment]

Message = MutableMapping[str, Any]
App = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]
SETS = {"10k": (1_000, 10_000, 2), "1M": (100_000, 1_000_000, 4)}


def scope(path: str, token: str, method: str = "GET") -> dict[str, Any]:
    """An HTTP request's ASGI scope, as granian gives it, with the token's header."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Zoho-oauthtoken {token}".encode())],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
    }


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


async def drive(
    app: App, lines: list[tuple[str, str]], clock: Callable[[], float] = time.perf_counter
) -> float:
    """Microseconds per request over ``lines``; every answer must be a 200."""
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    journal = getattr(getattr(app, "state", None), "journal", None)
    started = clock()
    for n, (path, token) in enumerate(lines):
        await app(scope(path, token), receive, send)
        if journal is not None and n % 50 == 49:
            await asyncio.sleep(0)  # the loop runs its timers: the journal's batches
    if journal is not None:
        await journal.flush()
    elapsed = clock() - started
    if any(status != 200 for status in statuses):
        raise SystemExit(f"{sum(s != 200 for s in statuses)} answers were not 200")
    return elapsed / len(lines) * 1e6


async def emailshare(
    db: str, cache: int, runs: list[Callable[[App], Awaitable[float]]], admin_key: str | None
) -> list[float]:
    app = create_app(Settings(db_url=db, cache_size=cache, admin_key=admin_key))
    async with app.router.lifespan_context(app):
        return [await run(app) for run in runs]


SMALL_ORG = 6_200_000_000_000
SMALL_TOKEN = f"1000.{SMALL_ORG:032x}.{2:032x}"


def small_fixture() -> dict[str, Any]:
    """A test's fixture: one org, three users, five Leads, the caller's token."""
    org = SMALL_ORG
    users = [
        {
            "id": str(org + 1 + i),
            "name": f"User {i}",
            "email_sharing": "public",
            "mailbox": {"protocol": "imap", "address": f"u{i}@small.test"},
        }
        for i in range(3)
    ]
    return {
        "orgs": [
            {
                "id": str(org),
                "name": "Small",
                "data_sharing": {"Leads": "public_read_only"},
                "users": users,
                "records": [
                    {"module": "Leads", "id": str(org + 100 + i), "owner": str(org + 1)}
                    for i in range(5)
                ],
                "tokens": [
                    {
                        "access_token": SMALL_TOKEN,
                        "user": str(org + 2),
                        "scopes": ["ZohoCRM.modules.ALL"],
                        "expires_in": 86400,
                    }
                ],
            }
        ]
    }


#: The stores :func:`per_test_cost` can start: the pytest plugin's ``emailshare_app`` (SQLite in
#: memory, the admin API and its request journal on, as the plugin runs it) and
#: :class:`~emailshare.testing.InProcess` as it is by default (a temporary SQLite file).
PER_TEST_STORES = ("plugin", "file")


def _fresh(store: str, fixture: dict[str, Any]) -> InProcess:
    if store == "plugin":  # what emailshare_app does for a test with a fixture marker
        orgs = validated_orgs(fixture)  # the plugin reads and validates the document first
        settings = Settings(db_url="sqlite:///:memory:", admin_key=secrets.token_hex(16))
        return InProcess(fixture=orgs, settings=settings)
    return InProcess(fixture=fixture)


def per_test_cost(n: int, store: str = "plugin") -> tuple[float, float]:
    """Median ms over ``n`` fresh stores: (what a test pays, from nothing to nothing: the
    fixture read and validated, a new store, the app and its lifespan started, the fixture
    written, the first details answer, and the teardown (lifespan shutdown, store closed,
    loop stopped); one more request to the same store, not counted in the first). ``store``
    is one of :data:`PER_TEST_STORES`. Every answer must be a 200."""
    fixture = small_fixture()
    path = f"/crm/v8/Leads/{SMALL_ORG + 100}/__emails_sharing_details"
    headers = {"Authorization": f"Zoho-oauthtoken {SMALL_TOKEN}"}
    fresh: list[float] = []
    one: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        with _fresh(store, fixture) as app:
            first = app.client.get(path, headers=headers)
            t1 = time.perf_counter()
            again = app.client.get(path.replace("100/", "101/"), headers=headers)
            t2 = time.perf_counter()
        t3 = time.perf_counter()
        if first.status_code != 200 or again.status_code != 200:
            raise SystemExit(f"per-test cost: answers {first.status_code}, {again.status_code}")
        fresh.append((t1 - t0 + t3 - t2) * 1000)
        one.append((t2 - t1) * 1000)
    return statistics.median(fresh), statistics.median(one)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=sorted(SETS), default="10k")
    parser.add_argument("-n", type=int, default=5_000, help="request lines per pass")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument("--admin-key", default=None, help="turn the admin API (and journal) on")
    parser.add_argument("--fresh", type=int, default=20, help="fresh stores for the per-test cost")
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]
    ds = dataset(args.data_dir, None, *SETS[args.set])
    db, requests = ds.db, ds.requests
    lines = [
        (path, token)
        for path, token in (
            line.split("\t") for line in requests.read_text().splitlines()[: args.n]
        )
    ]
    health = [("/healthz", "-")] * len(lines)
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(value, best.get(name, value))

    for _ in range(args.rounds):
        keep("baseline route (static body)", await drive(create_baseline(), lines, clock))
        computed, cached, healthz = await emailshare(
            db,
            20_000,
            [
                lambda app: drive(app, lines, clock),  # first pass: every answer computed
                lambda app: drive(app, lines, clock),  # second pass: every answer cached
                lambda app: drive(app, health, clock),
            ],
            args.admin_key,
        )
        keep("emailshare /healthz (whole middleware stack)", healthz)
        keep("details, computed (answer cache miss)", computed)
        keep("details, cached (the hot path)", cached)
        [uncached] = await emailshare(db, 0, [lambda app: drive(app, lines, clock)], args.admin_key)
        keep("details, cache off (everything read)", uncached)
    print(
        f"in-process, {args.set} data set, {len(lines)} request lines, best of {args.rounds}"
        f" ({args.clock} clock{', admin API and journal on' if args.admin_key else ''}):"
    )
    for name, micros in best.items():
        print(f"  {name:<46} {micros:8.1f} µs/request")
    fresh, one = await asyncio.to_thread(per_test_cost, args.fresh)
    on_file, _ = await asyncio.to_thread(per_test_cost, args.fresh, "file")
    print(
        f"per-test cost, median of {args.fresh} fresh stores, wall clock, from nothing to"
        " nothing (target <= 20 ms):"
    )
    print(f"  emailshare_app: fixture, store, first answer, teardown {fresh:8.2f} ms")
    print(f"  the same on InProcess's default temporary file       {on_file:8.2f} ms")
    print(f"  one more request to it                               {one:8.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
