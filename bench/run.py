"""One command for emailshare's speed and memory, as ratios to a baseline measured in the
same run (see docs/performance.md, "How it is measured").

    .venv/bin/python bench/run.py --seconds 15   # the full run
    .venv/bin/python bench/run.py --smoke        # about a minute: proves the harness works

It generates (or reuses) the data sets with ``emailshare gen`` (details, share and emails
request lines), starts emailshare (2 workers each) and the baseline (``bench/baseline_app.py``,
the same Starlette-on-granian stack returning the seed's bytes), and drives them with wrk at
64 connections, in interleaved rounds. The headline rows do not repeat: details reads over
every request line of each data set, shuffled and cut into one disjoint slice per run, after
a warm-up on held-out lines; a mixed load of 95 % reads and 5 % share/unshare writes; the same
two on PostgreSQL; the Emails list and one-email calls over their own lines. The repeated
working set is one labelled row. Every row reports req/s, p50, p99, peak RSS per worker,
non-2xx answers, socket errors and its cache hit rate; then the ratios, the per-test cost of
a fresh in-process store, and the targets they meet. Results go to ``bench/results/`` with
the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from emailshare.storage.db import redact  # noqa: E402
from emailshare.testing import free_port, stop_group, wait_for_port  # noqa: E402


@dataclass
class Load:
    """What wrk measured for one server and one request file."""

    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    # Per worker, MB: VmHWM (the kernel's peak RSS: private pages and every mapped file page
    # touched, the store's shared mapping included), and the peaks of RssAnon (the worker's
    # private memory, what the 150 MB target is judged on) and RssFile sampled during the runs.
    peak_rss_mb: list[float] = field(default_factory=list)
    peak_anon_mb: list[float] = field(default_factory=list)
    peak_file_mb: list[float] = field(default_factory=list)
    cache_hit_rate: float | None = None
    runs_per_s: list[int] = field(default_factory=list)  # every round's req/s
    runs_p99_ms: list[float] = field(default_factory=list)  # every round's p99
    requests: int = 0  # requests the median run sent
    lines_per_run: int = 0  # distinct request lines each run draws from
    write_share: float = 0.0  # the share of writes asked for
    writes: int = 0  # share/unshare writes the median run sent


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def _ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("s"):
        return value * 1000
    return value


def run_wrk(
    url: str,
    requests_file: Path,
    seconds: float,
    writes_file: Path | None = None,
    write_share: float = 0.0,
    connections: int = 64,
) -> Load:
    """wrk -t2 at ``connections`` connections; the request lines decide paths and tokens
    (bench/requests.lua), and the share lines of ``writes_file`` are sent instead of a read
    with probability ``write_share``."""
    env = {
        **os.environ,
        "REQUESTS_FILE": str(requests_file),
        "WRITES_FILE": str(writes_file) if writes_file else "",
        "WRITE_SHARE": str(write_share),
        "WRK_THREADS": "2",
    }
    out = subprocess.run(
        [
            ensure_wrk(),
            "-t2",
            f"-c{connections}",
            f"-d{max(1, int(seconds))}s",
            "--latency",
            "-s",
            str(BENCH / "requests.lua"),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    table = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+[a-z]+)\s*$", out, re.M))
    if set(table) != {"50", "99"}:
        raise RuntimeError(f"wrk printed no latency distribution:\n{out}")
    p50, p99 = _ms(table["50"]), _ms(table["99"])
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sent = re.search(r"^\s*(\d+) requests in", out, re.M)
    wrote = re.search(r"^Writes sent: (\d+)$", out, re.M)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        "",
        rps,
        p50,
        p99,
        int(non2xx.group(1)) if non2xx else 0,
        sum(int(g) for g in errs.groups()) if errs else 0,
        requests=int(sent.group(1)) if sent else 0,
        writes=int(wrote.group(1)) if wrote else 0,
    )


def worker_pids(pid: int) -> list[int]:
    """The child processes of ``pid`` (a server's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a process in kB: its resident memory now and at its peak so far."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


MEMORY_FIELDS = ("RssAnon", "RssFile", "VmHWM")


def memory_kb(pid: int) -> dict[str, int] | None:
    """A process's RssAnon (private memory), RssFile (mapped file pages) and VmHWM (peak RSS)
    in kB, from /proc/PID/status."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = dict(re.findall(r"^(\w+):\s+(\d+) kB$", text, re.M))
    if not all(k in found for k in MEMORY_FIELDS):
        return None
    return {k: int(found[k]) for k in MEMORY_FIELDS}


SAMPLE_EVERY_S = 0.25


class MemorySampler:
    """A thread that samples every worker of ``servers`` every quarter second while the rows
    run, keeping each worker's peaks (``Server.peaks``): VmHWM is a peak by itself, RssAnon
    and RssFile are only ever what they are now."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="bench-memory", daemon=True)

    def sample(self) -> None:
        for server in self.servers:
            server.sample()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_S):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()


START_WAIT_S = 300  # how long a server may take to answer its first /healthz


class Server:
    """A server process (its own process group) on a free port."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)  # noqa: SIM115
        self.started = time.monotonic()
        self.peaks: dict[int, dict[str, int]] = {}  # worker pid -> MEMORY_FIELDS' peaks, kB
        self.proc = subprocess.Popen(
            [c.replace("{port}", str(self.port)) for c in cmd],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        # serve opens the store before it listens (and, until its count was capped at 100,000
        # rows a table, counted the 5M emails: 60 s once on a cold page cache, the disk still
        # writing back the PostgreSQL load); the wait is kept generous for slow disks.
        wait_for_port("127.0.0.1", self.port, START_WAIT_S, self.proc)
        # The port accepts before granian's workers run: wait for a real answer.
        deadline = time.monotonic() + START_WAIT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)

    def ready_after(self, path: str = "/readyz") -> float:
        """Seconds from spawn until ``path`` answers 200."""
        while True:
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.005)

    def sample(self) -> None:
        """Take each worker's memory now into its peaks."""
        for pid in worker_pids(self.proc.pid):
            now = memory_kb(pid)
            if now is not None:
                peak = self.peaks.setdefault(pid, now)
                for k, v in now.items():
                    peak[k] = max(peak[k], v)

    def memory(self, name: str) -> list[float]:
        """Each worker's peak of ``name`` (one of MEMORY_FIELDS) so far, MB, in pid order."""
        self.sample()
        return [round(self.peaks[p][name] / 1024, 1) for p in sorted(self.peaks)]

    def stop(self) -> None:
        stop_group(self.proc, timeout=15)


def emailshare_cmd(db: str, workers: int = 2, cache: int | None = None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "emailshare",
        "serve",
        "--db",
        db,
        "--port",
        "{port}",
        "--workers",
        str(workers),
    ]
    # No --admin-key: serve as it is by default, with no admin API and no request journal
    # (whose batches, when the journal lived in the store's own file, emptied every cache).
    if cache is not None:
        cmd += ["--cache-size", str(cache)]
    return cmd


def baseline_cmd(workers: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--workers",
        str(workers),
        "--port",
        "{port}",
        "--no-ws",
        "--factory",
        "--working-dir",
        str(BENCH),
        "baseline_app:create_app",
    ]


@dataclass(frozen=True)
class DataSet:
    """A data set made by ``emailshare gen`` and its request files."""

    db: str
    requests: Path  # details reads, "<path>\t<token>"
    writes: Path  # share lines, "POST\t<path>\t<token>" (gen --writes-out)
    emails: Path | None = None  # Emails list and one-email reads (gen --emails-requests-out)


def dataset(
    data_dir: Path,
    db_url: str | None,
    users: int,
    records: int,
    orgs: int,
    emails_per_record: int = 0,
) -> DataSet:
    """Generate (or reuse) a SQLite data set, or write one into ``db_url``."""
    name = f"u{users}-r{records}-o{orgs}" + (f"-e{emails_per_record}" if emails_per_record else "")
    requests = data_dir / f"{name}.tsv"
    writes = data_dir / f"{name}.writes.tsv"
    emails = data_dir / f"{name}.emails.tsv" if emails_per_record else None
    files = [requests, writes, *([emails] if emails else [])]
    if db_url is None:
        path = data_dir / f"{name}.db"
        db_url = f"sqlite:///{path}"
        if path.exists() and all(f.exists() for f in files) and _sqlite_ok(path):
            print(f"  reusing {path.name} (delete it to time its generation)", flush=True)
            return DataSet(db_url, requests, writes, emails)
        for p in data_dir.glob(f"{name}.db*"):
            p.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "emailshare",
        "gen",
        "--db",
        db_url,
        "--orgs",
        str(orgs),
        "--users",
        str(users),
        "--records",
        str(records),
        "--requests-out",
        str(requests),
        "--writes-out",
        str(writes),
        "--no-progress",
    ]
    if emails is not None:
        cmd += ["--emails-per-record", str(emails_per_record), "--emails-requests-out", str(emails)]
    subprocess.run(cmd, check=True)
    return DataSet(db_url, requests, writes, emails)


def _sqlite_ok(path: Path) -> bool:
    try:
        with sqlite3.connect(path) as conn:
            count: int = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            return count > 0
    except sqlite3.Error:
        return False


def working_set(requests: Path, size: int, seed: int, out: Path) -> Path:
    """A fixed-size random sample of request lines: the same for every server compared."""
    lines = requests.read_text().splitlines()
    rnd = random.Random(seed)
    sample = lines if len(lines) <= size else rnd.sample(lines, size)
    out.write_text("\n".join(sample) + "\n")
    return out


def fresh_copy(db: str, out: Path) -> str:
    """A copy of a SQLite data set (sqlite3's backup API), for the mixed load to write into:
    the kept data set stays as gen made it, so every run's writes start from the same state."""
    if not db.startswith("sqlite:///"):
        return db  # PostgreSQL: the run's own throwaway database
    out.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db.removeprefix("sqlite:///")) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{out}"


READ_CHUNK = 1 << 20


def _fincore_mb(paths: list[Path]) -> float | None:
    """How much of ``paths`` the page cache holds now (util-linux fincore), MB; None
    without fincore."""
    tool = shutil.which("fincore")
    if tool is None or not paths:
        return None
    done = subprocess.run(
        [tool, "--bytes", "--noheadings", "--output", "RES", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return None
    return round(sum(int(x) for x in done.stdout.split()) / 1e6, 1)


def page_cache(db: str) -> dict[str, Any]:
    """Read a store's files once into the kernel's page cache, as a long-running server has
    them (docs/performance.md, "How it is measured"): for SQLite the database file and its
    WAL (and shared-memory index), read sequentially; for PostgreSQL every table and index of
    the schema with pg_prewarm (or, without it, a sequential scan of every table). What was
    read, how, and in how long, for the results. No request line is sent."""
    t0 = time.monotonic()
    if db.startswith("sqlite:///"):
        path = Path(db.removeprefix("sqlite:///"))
        named = [path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))]
        files = [p for p in named if p.exists()]
        read = 0
        for p in files:
            with p.open("rb", buffering=0) as f:
                while chunk := f.read(READ_CHUNK):
                    read += len(chunk)
        return {
            "store": path.name,
            "method": "read " + " ".join(p.name for p in files),
            "mb": round(read / 1e6, 1),
            "seconds": round(time.monotonic() - t0, 2),
            "resident_mb": _fincore_mb(files),
        }
    import psycopg

    with psycopg.connect(db, autocommit=True) as conn:
        relations = "c.relkind IN ('r', 'i', 't') AND n.nspname = current_schema()"
        size = conn.execute(
            "SELECT COALESCE(sum(pg_relation_size(c.oid)), 0) FROM pg_class c"
            f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {relations}"
        ).fetchone()
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            conn.execute(
                "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c"
                f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {relations}"
            )
            method = "pg_prewarm (buffer) of every table and index"
        except psycopg.Error:
            tables = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'SELECT count(*) FROM "{table}"')
            method = "a sequential scan of every table (no pg_prewarm)"
    return {
        "store": "postgresql",
        "method": method,
        "mb": round(int(size[0] if size else 0) / 1e6, 1),
        "seconds": round(time.monotonic() - t0, 2),
        "resident_mb": None,
    }


@dataclass(frozen=True)
class Split:
    """A request file shuffled and cut in two: warm-up lines, and the measured lines in
    disjoint slices, one per run, so no run replays a line another run (or the warm-up) sent."""

    warm: Path
    slices: list[Path]
    lines_per_slice: int


def split(lines: list[str], parts: int, seed: int, out: Path) -> Split:
    """``lines`` shuffled; 1 % of them (100 to 10,000) held out for the warm-up; the rest in
    ``parts`` slices."""
    if not lines:
        raise SystemExit(f"no request lines for {out.name}")
    order = list(lines)
    random.Random(seed).shuffle(order)
    held = min(10_000, max(100, len(order) // 100), len(order) // 2)
    warm, rest = order[:held], order[held:]
    out.mkdir(parents=True, exist_ok=True)
    (out / "warm.tsv").write_text("\n".join(warm) + "\n")
    slices = []
    for i in range(parts):
        path = out / f"slice{i}.tsv"
        path.write_text("\n".join(rest[i::parts]) + "\n")
        slices.append(path)
    return Split(out / "warm.tsv", slices, len(rest) // parts)


def cache_counts(server: Server) -> tuple[int, int] | None:
    """The whole server's cache hits and misses so far, from ``/metrics`` (None: no cache)."""
    time.sleep(1.1)  # workers share their counts at most once a second
    try:
        text = httpx.get(server.url + "/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    found = dict(re.findall(r"^emailshare_cache_(hits|misses)_total (\d+)(?:\.0)?$", text, re.M))
    if set(found) != {"hits", "misses"}:
        return None
    return int(found["hits"]), int(found["misses"])


def hit_rate(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None:
        return None
    hits, misses = after[0] - before[0], after[1] - before[1]
    return round(hits / (hits + misses), 4) if hits + misses else None


@dataclass
class Contender:
    """One server driven over its request lines, measured in every round.

    ``slices[r]`` are round r's read lines (one slice: every round the same, the repeated
    working set); ``writes[r]`` its share lines, sent instead of a read with probability
    ``write_share``. ``warm``: the lines of the warm-up (None: no warm-up); ``repeat_warm``:
    warm up by replaying the measured lines until the caches answer 99 % (the repeated row)."""

    key: str
    name: str
    server: Server
    slices: list[Path]
    warm: Path | None
    lines_per_run: int
    cached: bool = True
    writes: list[Path] | None = None
    write_share: float = 0.0
    repeat_warm: bool = False
    store: str | None = None  # the store's URL, read into the page cache first (None: none)
    runs: list[Load] = field(default_factory=list)
    counts: tuple[int, int] | None = None  # cache hits and misses before the first round


def warm_up(c: Contender, seconds: float) -> None:
    """A short run over the warm-up lines (never the measured ones), or, for the repeated
    working set, runs over it until the caches answer 99 % of a run, for at most a minute."""
    if c.repeat_warm:
        step, passes = (1.0, 3) if seconds < 2 else (2.0, 30)
        before = cache_counts(c.server)
        for _ in range(passes):
            run_wrk(c.server.url, c.slices[0], step)
            after = cache_counts(c.server)
            rate, before = hit_rate(before, after), after
            if rate is None or rate >= 0.99:
                break
    elif c.warm is not None:
        run_wrk(c.server.url, c.warm, 1.0)
    c.counts = cache_counts(c.server) if c.cached else None


def rounds(
    contenders: list[Contender], seconds: float, repeat: int, cached: dict[str, dict[str, Any]]
) -> dict[str, Load]:
    """Every contender once per round, rounds one after the other: a drift of the machine's
    speed touches them all alike. Each result is the run of median req/s; non-2xx answers
    and socket errors are the sums over every run. First, each store not yet in ``cached``
    is read into the page cache (what it took goes into ``cached``, keyed by its URL)."""
    for c in contenders:
        if c.store is not None and redact(c.store) not in cached:
            cached[redact(c.store)] = done = page_cache(c.store)
            print(
                f"  page cache: {done['store']}: {done['method']}, {done['mb']} MB in "
                f"{done['seconds']} s (resident after: {done['resident_mb']} MB)",
                flush=True,
            )
    servers = list({id(c.server): c.server for c in contenders}.values())
    with MemorySampler(servers):
        for c in contenders:
            warm_up(c, seconds)
        for r in range(repeat):
            for c in contenders:
                writes = c.writes[r % len(c.writes)] if c.writes else None
                load = run_wrk(
                    c.server.url, c.slices[r % len(c.slices)], seconds, writes, c.write_share
                )
                c.runs.append(load)
                print(
                    f"  [{r + 1}/{repeat}] {c.name:<44} {load.requests_per_s:>8.0f} req/s  "
                    f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms  "
                    f"non-2xx {load.non_2xx}",
                    flush=True,
                )
    out: dict[str, Load] = {}
    for c in contenders:
        ordered = sorted(c.runs, key=lambda load: load.requests_per_s)
        load = ordered[len(ordered) // 2]
        load.name = c.name
        load.lines_per_run = c.lines_per_run
        load.write_share = c.write_share
        load.runs_per_s = [round(run.requests_per_s) for run in c.runs]
        load.runs_p99_ms = [run.p99_ms for run in c.runs]
        load.non_2xx = sum(run.non_2xx for run in c.runs)
        load.errors = sum(run.errors for run in c.runs)
        load.peak_rss_mb = c.server.memory("VmHWM")
        load.peak_anon_mb = c.server.memory("RssAnon")
        load.peak_file_mb = c.server.memory("RssFile")
        if c.cached:
            load.cache_hit_rate = hit_rate(c.counts, cache_counts(c.server))
        out[c.key] = load
    return out


def bulk_share_p50(base_url: str, db: str, tmp: Path, n: int) -> float:
    """p50 latency of a 200-id bulk share/unshare, sequential, on a keep-alive connection."""
    org = 6_100_000_000_000
    member = org + 100
    token = f"1000.{org:032x}.{1:032x}"
    ids = [str(org + 10_000 + i) for i in range(200)]
    doc = {
        "orgs": [
            {
                "id": str(org),
                "name": "Bulk",
                "data_sharing": {"Leads": "public_read_only"},
                "users": [
                    {"id": str(org + 1), "name": "Owner"},
                    {
                        "id": str(member),
                        "name": "Member",
                        "email_sharing": "custom",
                        "mailbox": {"protocol": "imap", "address": "m@x.test"},
                    },
                ],
                "records": [{"module": "Leads", "id": i, "owner": str(org + 1)} for i in ids],
                "tokens": [
                    {
                        "access_token": token,
                        "user": str(member),
                        "scopes": ["ZohoCRM.modules.ALL"],
                        "expires_in": 86400,
                    }
                ],
            }
        ]
    }
    fixture = tmp / "bulk.json"
    fixture.write_text(json.dumps(doc))
    for attempt in range(5):  # the server may hold the store's write lock a moment
        done = subprocess.run(
            [sys.executable, "-m", "emailshare", "load", "--db", db, str(fixture)],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            break
        print(f"  load for the bulk share failed ({done.stderr.strip()}); again", flush=True)
        time.sleep(1 + attempt)
    else:
        raise SystemExit("emailshare load failed: " + done.stderr)
    times = []
    with httpx.Client(base_url=base_url, timeout=30) as c:
        for i in range(n):
            action = "share" if i % 2 == 0 else "unshare"
            t0 = time.perf_counter()
            r = c.post(
                f"/crm/v8/Leads/actions/{action}_emails",
                headers={"Authorization": f"Zoho-oauthtoken {token}"},
                json={"ids": ids},
            )
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return statistics.median(times)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    import granian
    import starlette

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "granian": granian.__version__,
        "starlette": starlette.__version__,
        "wrk": "wrk -t2 -c64 --latency",
    }


SETS = {"10k": (1_000, 10_000, 2), "1M": (100_000, 1_000_000, 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and fast: the suite's check")
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk duration per run")
    parser.add_argument(
        "--working-set", type=int, default=10_000, help="lines of the repeated working set row"
    )
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL store")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of runs; each figure is the median run"
    )
    parser.add_argument(
        "--emails-records", type=int, default=1_000_000, help="records of the emails data set"
    )
    parser.add_argument(
        "--emails-per-record", type=int, default=5, help="emails on each of its records"
    )
    parser.add_argument("--write-share", type=float, default=0.05, help="writes in the mixed load")
    args = parser.parse_args(argv)
    sets = {"10k": (200, 2_000, 2)} if args.smoke else dict(SETS)
    mail_set = (
        (100, 500, 1, 4)
        if args.smoke
        else (max(1, args.emails_records // 10), args.emails_records, 4, args.emails_per_record)
    )
    seconds = 1.0 if args.smoke else args.seconds
    repeat = 1 if args.smoke else args.repeat
    tmp = Path(tempfile.mkdtemp(prefix="emailshare-bench-"))
    results: dict[str, Any] = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "smoke": args.smoke,
        "seconds": seconds,
        "repeat": repeat,
        "working_set": args.working_set,
        "write_share": args.write_share,
        "loads": {},
    }
    loads: dict[str, Load] = {}
    ensure_wrk()

    print("== data sets", flush=True)
    data: dict[str, DataSet] = {}
    for label, (users, records, orgs) in sets.items():
        t0 = time.monotonic()
        reused = (args.data_dir / f"u{users}-r{records}-o{orgs}.db").exists()
        data[label] = dataset(args.data_dir, None, users, records, orgs)
        if label == "1M" and not reused:
            results["gen_1m_seconds"] = round(time.monotonic() - t0, 1)
        print(f"  {records} records ready ({time.monotonic() - t0:.1f}s)", flush=True)
    t0 = time.monotonic()
    mail = dataset(args.data_dir, None, *mail_set)
    results["emails_set"] = {"records": mail_set[1], "emails": mail_set[1] * mail_set[3]}
    print(f"  {mail_set[1] * mail_set[3]} emails ready ({time.monotonic() - t0:.1f}s)")
    big = list(sets)[-1]

    servers: list[Server] = []
    cluster = None
    try:
        pg: DataSet | None = None
        if not args.no_pg and not args.smoke:
            cluster, pg = pg_dataset(tmp, *sets[big])

        def start(cmd: list[str]) -> Server:
            server = Server(cmd)
            servers.append(server)
            return server

        print("== servers (2 workers each)", flush=True)
        reads: list[Contender] = []  # phase 1: nothing is written
        mixed: list[Contender] = []  # phase 2: 95 % reads, 5 % share/unshare writes
        base = start(baseline_cmd())
        mixed_dbs: dict[str, str] = {}

        def details(label: str, ds: DataSet, store: str) -> None:
            # 2 x repeat disjoint slices: the reads rows' rounds, then the mixed rows' rounds.
            cut = split(ds.requests.read_text().splitlines(), 2 * repeat, 7, tmp / store)
            w = ds.writes.read_text().splitlines()
            wcut = split(w, repeat, 11, tmp / f"{store}-writes")
            srv = start(emailshare_cmd(ds.db))
            if store == f"sqlite-{big}":
                results["ready_seconds"] = round(srv.ready_after(), 3)
            name = f"emailshare {store.replace('-', ' ')}"
            if store.startswith("sqlite"):
                reads.append(
                    Contender(
                        f"baseline@{label}",
                        f"baseline ({label} lines)",
                        base,
                        cut.slices[:repeat],
                        cut.warm,
                        cut.lines_per_slice,
                        cached=False,
                    )
                )
            kind = "" if store.startswith("sqlite") else "-pg"
            reads.append(
                Contender(
                    f"emailshare{kind}@{label}",
                    f"{name}, reads, no repeats",
                    srv,
                    cut.slices[:repeat],
                    cut.warm,
                    cut.lines_per_slice,
                    store=ds.db,
                )
            )
            mixed_dbs[label + kind] = fresh_copy(ds.db, tmp / f"{store}-mixed.db")
            mixed.append(
                Contender(
                    f"emailshare{kind}-mixed@{label}",
                    f"{name}, mixed {1 - args.write_share:.0%}/{args.write_share:.0%} writes",
                    start(emailshare_cmd(mixed_dbs[label + kind])),
                    cut.slices[repeat:],
                    cut.warm,
                    cut.lines_per_slice,
                    writes=wcut.slices,
                    write_share=args.write_share,
                    store=mixed_dbs[label + kind],
                )
            )

        for label, ds in data.items():
            details(label, ds, f"sqlite-{label}")
        if pg is not None:
            details(big, pg, f"postgres-{big}")
        ws = working_set(data[big].requests, args.working_set, 7, tmp / "ws.tsv")
        ws_lines = len(ws.read_text().splitlines())
        reads.append(
            Contender(
                f"emailshare-repeated@{big}",
                f"emailshare sqlite {big}, REPEATED {ws_lines}-line working set",
                start(emailshare_cmd(data[big].db)),
                [ws],
                None,
                ws_lines,
                repeat_warm=True,
                store=data[big].db,
            )
        )
        assert mail.emails is not None
        every = mail.emails.read_text().splitlines()
        for key, name, lines in (
            (
                "emails-list",
                "Emails list",
                [x for x in every if x.split("\t")[0].endswith("/Emails")],
            ),
            (
                "one-email",
                "one email",
                [x for x in every if not x.split("\t")[0].endswith("/Emails")],
            ),
        ):
            cut = split(lines, repeat, 13, tmp / key)
            reads.append(
                Contender(
                    f"emailshare-{key}@emails",
                    f"emailshare sqlite, {name}, no repeats",
                    start(emailshare_cmd(mail.db)),
                    cut.slices,
                    cut.warm,
                    cut.lines_per_slice,
                    store=mail.db,
                )
            )
        print(f"== reads (wrk, 64 connections; warm-up, then {repeat} rounds)", flush=True)
        cached: dict[str, dict[str, Any]] = {}
        results["page_cache"] = cached
        loads.update(rounds(reads, seconds, repeat, cached))
        print(f"== mixed load ({args.write_share:.0%} writes; {repeat} rounds)", flush=True)
        loads.update(rounds(mixed, seconds, repeat, cached))
        # Last, as it writes: a write empties the caches the rounds above relied on.
        small_srv = next(c.server for c in mixed if c.key == "emailshare-mixed@10k")
        results["bulk_share_p50_ms"] = round(
            bulk_share_p50(small_srv.url, mixed_dbs["10k"], tmp, 10 if args.smoke else 100), 2
        )
    finally:
        for server in servers:
            server.stop()
        if cluster is not None:
            cluster.destroy()

    from bench.inprocess import per_test_cost

    fresh, one = per_test_cost(5 if args.smoke else 30)
    results["per_test_fresh_ms"] = round(fresh, 2)
    results["per_test_request_ms"] = round(one, 2)
    results["loads"] = {k: asdict(v) for k, v in loads.items()}
    results["ratios"] = ratios(results["loads"], big)
    results["targets"] = targets(results, big)
    write(args.results_dir, results)
    return 0


def pg_dataset(tmp: Path, users: int, records: int, orgs: int) -> tuple[Any, DataSet]:
    """A throwaway PostgreSQL cluster holding the data set (tests/pgutil: initdb, pg_ctl)."""
    from tests.pgutil import Cluster, fresh_database

    print("== PostgreSQL store", flush=True)
    cluster = Cluster.create()
    cluster.start()
    try:
        db = fresh_database(cluster.url)
        t0 = time.monotonic()
        ds = dataset(tmp, db, users, records, orgs=orgs)
        print(f"  {records} records into PostgreSQL ({time.monotonic() - t0:.1f}s)", flush=True)
        # Vacuumed now, or autovacuum does it for the next minutes, on the cores being measured.
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
    except BaseException:
        cluster.destroy()
        raise
    return cluster, ds


def ratios(loads: dict[str, Any], big: str) -> dict[str, float]:
    """Every ratio whose two sides were measured in this run."""
    rps = {key: load["requests_per_s"] for key, load in loads.items()}
    pairs = {}
    for label in ("10k", "1M"):
        for row in ("emailshare", "emailshare-mixed", "emailshare-pg", "emailshare-pg-mixed"):
            pairs[f"{row}/baseline@{label}"] = (f"{row}@{label}", f"baseline@{label}")
        pairs[f"postgres/sqlite@{label}"] = (f"emailshare-pg@{label}", f"emailshare@{label}")
        pairs[f"postgres/sqlite mixed@{label}"] = (
            f"emailshare-pg-mixed@{label}",
            f"emailshare-mixed@{label}",
        )
    pairs["1M/10k"] = ("emailshare@1M", "emailshare@10k")
    pairs[f"REPEATED working set/baseline@{big}"] = (
        f"emailshare-repeated@{big}",
        f"baseline@{big}",
    )
    pairs["emails list/baseline"] = ("emailshare-emails-list@emails", f"baseline@{big}")
    pairs["one email/baseline"] = ("emailshare-one-email@emails", f"baseline@{big}")
    return {
        name: round(rps[top] / rps[bottom], 3)
        for name, (top, bottom) in pairs.items()
        if rps.get(top) and rps.get(bottom)
    }


def targets(results: dict[str, Any], big: str) -> dict[str, dict[str, Any]]:
    """issue 14's targets, each with its value in this run (met: None when not measured)."""
    r, loads = results["ratios"], results["loads"]
    checks: dict[str, dict[str, Any]] = {}

    def at_least(name: str, value: Any, bound: float) -> None:
        checks[name] = {"value": value, "met": None if value is None else value >= bound}

    def at_most(name: str, value: Any, bound: float) -> None:
        checks[name] = {"value": value, "met": None if value is None else value <= bound}

    def p99(key: str) -> Any:
        return loads.get(key, {}).get("p99_ms")

    at_least(
        f"reads, no repeats >= 0.7 x baseline ({big})", r.get(f"emailshare/baseline@{big}"), 0.7
    )
    at_most(f"reads, no repeats p99 <= 15 ms ({big})", p99(f"emailshare@{big}"), 15)
    at_least(f"mixed >= 0.5 x baseline ({big})", r.get(f"emailshare-mixed/baseline@{big}"), 0.5)
    at_most(f"mixed p99 <= 20 ms ({big})", p99(f"emailshare-mixed@{big}"), 20)
    at_least("postgres reads >= 0.5 x sqlite", r.get(f"postgres/sqlite@{big}"), 0.5)
    at_most("postgres reads p99 <= 25 ms", p99(f"emailshare-pg@{big}"), 25)
    emails = results["emails_set"]["emails"]
    at_least(f"emails list >= 0.5 x baseline ({emails} emails)", r.get("emails list/baseline"), 0.5)
    at_most("emails list p99 <= 20 ms", p99("emailshare-emails-list@emails"), 20)
    at_least("1M within 10% of 10k (reads, no repeats)", r.get("1M/10k"), 0.9)
    # Judged on the private memory (docs/performance.md, "How it is measured", memory): VmHWM
    # also counts the store's mapped pages, which every worker shares and the kernel may drop.
    anon = max(loads.get(f"emailshare@{big}", {}).get("peak_anon_mb") or [0])
    at_most(f"private memory (peak RssAnon) per worker <= 150 MB ({big})", anon, 150)
    fresh = results.get("per_test_fresh_ms")  # emailshare_app's store, teardown included
    at_most("fresh in-process store, first answer, teardown <= 20 ms", fresh, 20)
    at_most("200-id bulk share p50 <= 20 ms", results.get("bulk_share_p50_ms"), 20)
    at_most("serve ready <= 1.5 s", results.get("ready_seconds"), 1.5)
    at_most("gen 100k users, 1M records <= 60 s", results.get("gen_1m_seconds"), 60)
    every = sum(load["non_2xx"] + load["errors"] for load in loads.values())
    checks["every answer 2xx, no socket errors (all rows)"] = {"value": every, "met": every == 0}
    return checks


def _memory(load: dict[str, Any]) -> str:
    """Each worker's "RssAnon / RssFile / VmHWM" peaks."""
    anon, file = load.get("peak_anon_mb", []), load.get("peak_file_mb", [])
    triples = zip(anon, file, load["peak_rss_mb"], strict=False)
    return ", ".join(f"{a:.0f} / {f:.0f} / {h:.0f}" for a, f, h in triples)


def write(results_dir: Path, results: dict[str, Any]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kind = "smoke" if results["smoke"] else "full"
    (results_dir / f"{stamp}-{kind}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# emailshare benchmark ({kind}, {results['when']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()),
        "",
        "| run | req/s (median) | every round | p50 ms | p99 ms | per worker, MB: RssAnon peak"
        " / RssFile peak / VmHWM | non-2xx | errors | cache hits | lines per run |"
        " requests (writes) in the median run |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for load in results["loads"].values():
        lines.append(
            f"| {load['name']} | {load['requests_per_s']:.0f} | {load.get('runs_per_s')} | "
            f"{load['p50_ms']:.2f} | "
            f"{load['p99_ms']:.2f} | {_memory(load)} | {load['non_2xx']} | "
            f"{load['errors']} | {load.get('cache_hit_rate')} | {load.get('lines_per_run')} | "
            f"{load.get('requests')} ({load.get('writes')}) |"
        )
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results["ratios"].items()]
    lines += ["", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {k} | {v['value']} | {v['met']} |" for k, v in results["targets"].items()]
    for key in (
        "gen_1m_seconds",
        "bulk_share_p50_ms",
        "ready_seconds",
        "per_test_fresh_ms",
        "per_test_request_ms",
        "emails_set",
    ):
        if key in results:
            lines.append(f"\n{key}: {results[key]}")
    lines += ["", "Page cache, before the rows of each store (read once, no request sent):", ""]
    lines += ["| store | how | MB | s | resident after, MB |", "|---|---|---|---|---|"]
    lines += [
        f"| {v['store']} | {v['method']} | {v['mb']} | {v['seconds']} | {v['resident_mb']} |"
        for v in results.get("page_cache", {}).values()
    ]
    text = "\n".join(lines) + "\n"
    (results_dir / f"{stamp}-{kind}.md").write_text(text)
    if not results["smoke"]:
        (results_dir / "latest.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
