"""The load and the measures of the store-outage tests (docs/reliability.md, "Store outages"):
readers and a writer on real sockets, a /readyz poller, every answer timed, and the server's
log read back line by line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import orjson

from tests.builders import auth

WILL = "1000.0000000000000000000000000000a001.00000000000000000000000000000001"
CARLA = "1000.0000000000000000000000000000a004.00000000000000000000000000000004"
ADA = "1000.0000000000000000000000000000a003.00000000000000000000000000000003"
SEED = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"
PAT_LEAD = "/crm/v8/Leads/3652397000001790011"
CARLA_ID = "412463000000500002"
INTERNAL = (
    b'{"code":"INTERNAL_ERROR","details":{},"message":"Internal Server Error","status":"error"}'
)
# The promise is 1 s (docs/reliability.md); the tests allow twice that on this shared 2-core
# machine, where a run can lose the CPU for hundreds of milliseconds.
BOUND = 1.0
ALLOWED = 2.0
# The promise: not-ready within 100 ms once the circuit is open; held with a margin for this
# shared machine (its median to 100 ms, its p99, the slowest of some 100 polls, to 300 ms).
READY_MEDIAN_ALLOWED = 0.1
READY_ALLOWED = 0.3
RECOVERY_ALLOWED = 3.0  # the promise: within 1 s of the store's return


@dataclass
class Answer:
    path: str
    sent: float
    seconds: float
    status: int
    body: bytes

    @property
    def served(self) -> bool:
        """The store answered: a 200, or the Zoho error that says an earlier write, answered
        INTERNAL_ERROR, had committed after all (the store went down between its commit and
        its answer; a 500 never says a write did not happen)."""
        return (
            self.status == 200
            or (self.status == 400 and b'"code":"ALREADY_SHARED"' in self.body)
            or (self.status == 400 and b'"code":"NOT_SHARED"' in self.body)
        )


@dataclass
class Seen:
    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shared: bool = False  # Carla's share of Pat's lead after the last acknowledged write


def _loop(
    url: str,
    seen: Seen,
    stop: threading.Event,
    send: Callable[[httpx.Client], httpx.Response],
    pause: float = 0.0,
) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set():
            time.sleep(pause)
            t0 = time.monotonic()
            try:
                r = send(c)
            except httpx.HTTPError as exc:
                seen.errors.append(repr(exc))
                continue
            seen.answers.append(
                Answer(r.url.path, t0, time.monotonic() - t0, r.status_code, r.content)
            )


def reader(url: str, seen: Seen, stop: threading.Event) -> None:
    _loop(url, seen, stop, lambda c: c.get(SEED, headers=auth(WILL)))


def readiness(url: str, seen: Seen, stop: threading.Event) -> None:
    _loop(url, seen, stop, lambda c: c.get("/readyz"), pause=0.05)


def writer(url: str, seen: Seen, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set():
            action = "unshare" if seen.shared else "share"
            t0 = time.monotonic()
            try:
                r = c.post(f"{PAT_LEAD}/actions/{action}_emails", headers=auth(CARLA))
            except httpx.HTTPError as exc:
                seen.errors.append(repr(exc))
                continue
            seen.answers.append(
                Answer(r.url.path, t0, time.monotonic() - t0, r.status_code, r.content)
            )
            if r.status_code == 200:
                seen.shared = action == "share"
            elif r.status_code == 400 and r.json()["code"] in ("ALREADY_SHARED", "NOT_SHARED"):
                # An earlier write answered INTERNAL_ERROR had committed (the store went down
                # between its commit and its answer): the store's state is known again.
                seen.shared = action == "share"
            time.sleep(0.01)


@dataclass
class Outage:
    """What a run measured: the outage's window and the answers in and around it."""

    seen: Seen
    down_at: float
    restoring_at: float  # when ``restore`` began: the store may answer from here on
    up_at: float  # when ``restore`` returned

    def during(self, path: str | None = None) -> list[Answer]:
        """Answers to requests sent while the store was down: from ``fail`` until ``restore``
        began (``pg_ctl start`` accepts connections before it returns, so a request sent while
        it runs may rightly be served)."""
        return [
            a
            for a in self.seen.answers
            if self.down_at <= a.sent <= self.restoring_at and (path is None or a.path == path)
        ]

    def api(self) -> list[Answer]:
        return [a for a in self.seen.answers if a.path != "/readyz"]


def run_load(
    url: str, fail: Callable[[], None], restore: Callable[[], None], *, down: float
) -> Outage:
    """Readers, a writer and a /readyz poller against ``url``; ``fail`` the store after 1 s,
    ``restore`` it ``down`` seconds later, keep the load 5 s more."""
    seen, stop = Seen(), threading.Event()
    threads = [threading.Thread(target=reader, args=(url, seen, stop)) for _ in range(6)]
    threads.append(threading.Thread(target=writer, args=(url, seen, stop)))
    threads.append(threading.Thread(target=readiness, args=(url, seen, stop)))
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        down_at = time.monotonic()
        fail()
        time.sleep(down)
        restoring_at = time.monotonic()
        restore()
        up_at = time.monotonic()
        time.sleep(5.0)
    finally:
        stop.set()
        for t in threads:
            t.join(40)
    return Outage(seen, down_at, restoring_at, up_at)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def check_outage(outage: Outage, *, reads_fail: bool = True) -> dict[str, float]:
    """The promises of docs/reliability.md, "Store outages", asserted; the figures returned.

    ``reads_fail``: the store cannot answer at all (PostgreSQL stopped), so every request
    fails and /readyz says not-ready; else only writes fail (SQLite's disk full), and reads and
    /readyz must go on being served."""
    seen = outage.seen
    assert seen.errors == [], seen.errors[:3]  # no dropped connection, no protocol error
    failed = [a for a in seen.answers if not a.served]
    assert all(a.status == 500 and a.body == INTERNAL for a in failed), {
        (a.status, a.body[:80]) for a in failed
    }
    during = [a for a in outage.during() if a.path != "/readyz"]
    noticed = [a for a in during if a.status == 500]
    assert noticed, "the outage was never noticed"
    settled = noticed[0].sent + ALLOWED  # from here on every request has met the outage
    failing = {a.path for a in noticed}
    if reads_fail:
        assert all(a.status == 500 for a in during if a.sent > settled)
    else:
        writes = {f"{PAT_LEAD}/actions/share_emails", f"{PAT_LEAD}/actions/unshare_emails"}
        assert failing <= writes, failing
        assert all(a.status == 200 for a in during if a.path == SEED), "a read failed"
    slowest = max(a.seconds for a in during)
    p99_during = p99([a.seconds for a in during])
    ready = [a for a in outage.during("/readyz") if a.sent > settled]
    assert ready, "no /readyz during the outage"
    expected = 500 if reads_fail else 200
    assert all(a.status == expected for a in ready), {a.status for a in ready}
    ready_p99 = p99([a.seconds for a in ready])
    ready_median = sorted(a.seconds for a in ready)[len(ready) // 2]
    # Recovery: when every kind of request that failed was served again.
    firsts = []
    for path in failing:
        back = [a for a in outage.api() if a.path == path and a.sent > outage.up_at and a.served]
        assert back, f"{path} never came back"
        firsts.append(min(a.sent + a.seconds for a in back))
    recovery = max(firsts) - outage.up_at
    figures = {
        "answers during": len(during),
        "failed during": len(noticed),
        "max s": slowest,
        "p99 s": p99_during,
        "readyz median s": ready_median,
        "readyz p99 s": ready_p99,
        "readyz max s": max(a.seconds for a in ready),
        "recovery s": recovery,
    }
    print("\nstore outage:", ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    assert slowest <= ALLOWED, f"an answer took {slowest:.2f} s during the outage"
    assert ready_median <= READY_MEDIAN_ALLOWED, f"/readyz took {ready_median:.3f} s (median)"
    assert ready_p99 <= READY_ALLOWED, f"/readyz took {ready_p99:.3f} s (p99)"
    assert recovery <= RECOVERY_ALLOWED, f"service came back {recovery:.2f} s after the store"
    late = [a for a in outage.api() if a.sent > outage.up_at + RECOVERY_ALLOWED]
    assert late, "no request in the last seconds"
    assert all(a.served for a in late), "still failing after the store returned"
    return figures


def check_log(log: str) -> int:
    """Every line the server wrote is one JSON object; the count of lines."""
    # What the command line prints for a person is not logging: before the server starts, the
    # report of ``--load``; once it answers, ``serve``'s banner (cli_serve.banner: a line
    # "emailshare: serving …" and indented ones).
    text = log.splitlines()
    first = next((i for i, line in enumerate(text) if line.startswith("{")), len(text))
    lines = [
        line
        for line in text[first:]
        if line.strip() and not line.startswith(("emailshare: serving ", "  "))
    ]
    assert lines, text[:5]
    assert '"logger":"_granian"' in lines[0], lines[0]
    bad = []
    for line in lines:
        try:
            if not isinstance(orjson.loads(line), dict):
                bad.append(line)
        except orjson.JSONDecodeError:
            bad.append(line)
    assert not bad, f"{len(bad)} of {len(lines)} log lines are not JSON: {bad[:3]}"
    without_id = [line for line in lines if '"request_id"' not in line]
    print(f"log: {len(lines)} lines, all JSON, {len(without_id)} without a request id")
    for line in without_id[:20]:
        print("  ", line[:300])
    return len(lines)


def shared_now(url: str) -> bool:
    """Whether the store holds Carla's share of Pat's lead."""
    r = httpx.get(f"{url}{PAT_LEAD}/__emails_sharing_details", headers=auth(ADA))
    ids = [u["id"] for u in r.json()["__emails_sharing_details"][0]["share_from_users"]]
    return CARLA_ID in ids
