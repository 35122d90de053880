"""One command for emailshare's speed and memory, as ratios to a baseline measured in the
same run (see docs/performance.md).

    .venv/bin/python bench/run.py            # the full run (about 10 minutes)
    .venv/bin/python bench/run.py --smoke    # a few seconds: proves the harness works

It generates (or reuses) the data sets with ``emailshare gen``, starts emailshare (2 workers)
and the baseline (``bench/baseline_app.py``, the same Starlette-on-granian stack returning
the seed's bytes), warms each up, then drives them in turn with wrk at 64 connections over
the same request lines, in rounds, and prints the median run's req/s, p50, p99, peak RSS per
worker, the ratios and the targets they meet. Results
go to ``bench/results/`` with the machine's description.
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
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from emailshare.testing import free_port, stop_group, wait_for_port  # noqa: E402

ADMIN_KEY = "bench-admin-key"


@dataclass
class Load:
    """What wrk measured for one server and one request file."""

    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    peak_rss_mb: list[float] = field(default_factory=list)
    cache_hit_rate: float | None = None
    runs_per_s: list[int] = field(default_factory=list)  # every round's req/s
    runs_p99_ms: list[float] = field(default_factory=list)  # every round's p99


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


def run_wrk(url: str, requests_file: Path, seconds: float, connections: int = 64) -> Load:
    """wrk -t2 at ``connections`` connections; the request lines decide paths and tokens."""
    env = {**os.environ, "REQUESTS_FILE": str(requests_file)}
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
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        "",
        rps,
        p50,
        p99,
        int(non2xx.group(1)) if non2xx else 0,
        sum(int(g) for g in errs.groups()) if errs else 0,
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


class Server:
    """A server process (its own process group) on a free port."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)  # noqa: SIM115
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [c.replace("{port}", str(self.port)) for c in cmd],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, 60, self.proc)
        # The port accepts before granian's workers run: wait for a real answer.
        deadline = time.monotonic() + 60
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

    def rss(self) -> list[float]:
        """Each worker's peak RSS, MB."""
        peaks = (rss_kb(p) for p in worker_pids(self.proc.pid))
        return [round(kb[1] / 1024, 1) for kb in peaks if kb is not None]

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
        "--admin-key",
        ADMIN_KEY,
    ]
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


def dataset(
    data_dir: Path, db_url: str | None, users: int, records: int, orgs: int
) -> tuple[str, Path]:
    """Generate (or reuse) a SQLite data set, or write one into ``db_url``."""
    name = f"u{users}-r{records}-o{orgs}"
    requests = data_dir / f"{name}.tsv"
    if db_url is None:
        path = data_dir / f"{name}.db"
        db_url = f"sqlite:///{path}"
        if path.exists() and requests.exists() and _sqlite_ok(path):
            print(f"  reusing {path.name} (delete it to time its generation)", flush=True)
            return db_url, requests
        for p in data_dir.glob(f"{name}.db*"):
            p.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
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
            "--no-progress",
        ],
        check=True,
    )
    return db_url, requests


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


def cache_counts(server: Server) -> tuple[int, int] | None:
    """The whole server's cache hits and misses so far, from ``/metrics`` (None: no cache)."""
    time.sleep(1.1)  # workers share their counts at most once a second
    try:
        text = httpx.get(server.url + "/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    found = dict(re.findall(r"^emailshare_cache_(hits|misses)_total (\d+)$", text, re.M))
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
    """One server driven over one request file, measured in every round."""

    key: str
    name: str
    server: Server
    requests: Path
    cached: bool
    runs: list[Load] = field(default_factory=list)
    counts: tuple[int, int] | None = None  # cache hits and misses before the first round


def warm_up(c: Contender, seconds: float) -> None:
    """One short run; for a cached server, runs until the caches answer 99 % of a run (the
    steady state), for at most a minute."""
    step, passes = (1.0, 3) if seconds < 2 else (2.0, 30)
    before = cache_counts(c.server) if c.cached else None
    for _ in range(passes if before is not None else 1):
        run_wrk(c.server.url, c.requests, step if c.cached else max(1.0, seconds / 4))
        if before is None:
            break
        after = cache_counts(c.server)
        rate, before = hit_rate(before, after), after
        if rate is None or rate >= 0.99:
            break
    c.counts = before


def rounds(contenders: list[Contender], seconds: float, repeat: int) -> dict[str, Load]:
    """Every contender once per round, rounds one after the other: a drift of the machine's
    speed touches them all alike. Each result is the run of median req/s."""
    for c in contenders:
        warm_up(c, seconds)
    for r in range(repeat):
        for c in contenders:
            load = run_wrk(c.server.url, c.requests, seconds)
            c.runs.append(load)
            print(
                f"  [{r + 1}/{repeat}] {c.name:<34} {load.requests_per_s:>9.0f} req/s  "
                f"p50 {load.p50_ms:6.2f} ms  p99 {load.p99_ms:6.2f} ms",
                flush=True,
            )
    out: dict[str, Load] = {}
    for c in contenders:
        ordered = sorted(c.runs, key=lambda load: load.requests_per_s)
        load = ordered[len(ordered) // 2]
        load.name = c.name
        load.runs_per_s = [round(run.requests_per_s) for run in c.runs]
        load.runs_p99_ms = [run.p99_ms for run in c.runs]
        load.non_2xx = sum(run.non_2xx for run in c.runs)
        load.errors = sum(run.errors for run in c.runs)
        load.peak_rss_mb = c.server.rss()
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
    subprocess.run(
        [sys.executable, "-m", "emailshare", "load", "--db", db, str(fixture)],
        check=True,
        capture_output=True,
    )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and fast: the suite's check")
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk duration per run")
    parser.add_argument(
        "--working-set", type=int, default=10_000, help="distinct request lines driven per run"
    )
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--results-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL store")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of runs; each figure is the median run"
    )
    args = parser.parse_args(argv)
    small = (200, 2_000) if args.smoke else (1_000, 10_000)
    large = None if args.smoke else (100_000, 1_000_000)
    seconds = 1.0 if args.smoke else args.seconds
    tmp = Path(tempfile.mkdtemp(prefix="emailshare-bench-"))
    results: dict[str, Any] = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "smoke": args.smoke,
        "seconds": seconds,
        "working_set": args.working_set,
        "loads": {},
    }
    loads: dict[str, Load] = {}
    ensure_wrk()

    print("== data sets", flush=True)
    t0 = time.monotonic()
    small_db, small_req = dataset(args.data_dir, None, *small, orgs=2)
    print(f"  {small[1]} records ready ({time.monotonic() - t0:.1f}s)", flush=True)
    sets = [("10k", small_db, small_req)]
    if large:
        t0 = time.monotonic()
        reused = (args.data_dir / f"u{large[0]}-r{large[1]}-o4.db").exists()
        large_db, large_req = dataset(args.data_dir, None, *large, orgs=4)
        if not reused:
            results["gen_1m_seconds"] = round(time.monotonic() - t0, 1)
        print(f"  {large[1]} records ready ({time.monotonic() - t0:.1f}s)", flush=True)
        sets.append(("1M", large_db, large_req))

    servers: list[Server] = []
    cluster = None
    try:
        pg_db: tuple[str, Path] | None = None
        if not args.no_pg and not args.smoke:
            cluster, pg_db = pg_dataset(tmp, *large or small, orgs=4 if large else 2)

        def start(cmd: list[str]) -> Server:
            server = Server(cmd)
            servers.append(server)
            return server

        print("== servers (2 workers each)", flush=True)
        contenders: list[Contender] = []
        base = start(baseline_cmd())
        for label, db, req in sets:
            ws = working_set(req, args.working_set, 7, tmp / f"ws-{label}.tsv")
            srv = start(emailshare_cmd(db))
            if label == sets[-1][0]:
                results["ready_seconds"] = round(srv.ready_after(), 3)
            contenders += [
                Contender(f"baseline@{label}", f"baseline ({label} lines)", base, ws, False),
                Contender(f"emailshare@{label}", f"emailshare sqlite {label}", srv, ws, True),
                Contender(
                    f"emailshare-nocache@{label}",
                    f"emailshare sqlite {label}, no cache",
                    start(emailshare_cmd(db, cache=0)),
                    ws,
                    False,
                ),
            ]
        if pg_db is not None:
            label = sets[-1][0]
            ws = working_set(pg_db[1], args.working_set, 7, tmp / "ws-pg.tsv")
            srv = start(emailshare_cmd(pg_db[0]))
            contenders.append(
                Contender(f"emailshare-pg@{label}", f"emailshare postgres {label}", srv, ws, True)
            )
        repeat = 1 if args.smoke else args.repeat
        print(f"== load (wrk, 64 connections; warm-up, then {repeat} rounds)", flush=True)
        loads.update(rounds(contenders, seconds, repeat))
        # Last, as it writes: a write empties the caches the rounds above relied on.
        small_srv = next(c.server for c in contenders if c.key == "emailshare@10k")
        results["bulk_share_p50_ms"] = round(
            bulk_share_p50(small_srv.url, small_db, tmp, 10 if args.smoke else 100), 2
        )
    finally:
        for server in servers:
            server.stop()
        if cluster is not None:
            cluster.destroy()

    results["loads"] = {k: asdict(v) for k, v in loads.items()}
    results["ratios"] = ratios(loads)
    results["targets"] = targets(results)
    write(args.results_dir, results)
    return 0


def pg_dataset(tmp: Path, users: int, records: int, orgs: int) -> tuple[Any, tuple[str, Path]]:
    """A throwaway PostgreSQL cluster holding the data set (tests/pgutil: initdb, pg_ctl)."""
    from tests.pgutil import Cluster, fresh_database

    print("== PostgreSQL store", flush=True)
    cluster = Cluster.create()
    cluster.start()
    try:
        db = fresh_database(cluster.url)
        t0 = time.monotonic()
        _, req = dataset(tmp, db, users, records, orgs=orgs)
        print(f"  {records} records into PostgreSQL ({time.monotonic() - t0:.1f}s)", flush=True)
        # Vacuumed now, or autovacuum does it for the next minutes, on the cores being measured.
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
    except BaseException:
        cluster.destroy()
        raise
    return cluster, (db, req)


def ratios(loads: dict[str, Load]) -> dict[str, float]:
    """Every ratio whose two sides were measured in this run."""
    rps = {key: load.requests_per_s for key, load in loads.items()}
    pairs = {
        "emailshare/baseline@10k": ("emailshare@10k", "baseline@10k"),
        "emailshare/baseline@1M": ("emailshare@1M", "baseline@1M"),
        "nocache/baseline@10k": ("emailshare-nocache@10k", "baseline@10k"),
        "nocache/baseline@1M": ("emailshare-nocache@1M", "baseline@1M"),
        "1M/10k": ("emailshare@1M", "emailshare@10k"),
        "nocache 1M/10k": ("emailshare-nocache@1M", "emailshare-nocache@10k"),
        "postgres/sqlite@10k": ("emailshare-pg@10k", "emailshare@10k"),
        "postgres/sqlite@1M": ("emailshare-pg@1M", "emailshare@1M"),
    }
    return {
        name: round(rps[top] / rps[bottom], 3)
        for name, (top, bottom) in pairs.items()
        if rps.get(top) and rps.get(bottom)
    }


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    r, loads = results["ratios"], results["loads"]
    big = "1M" if "emailshare@1M" in loads else "10k"
    checks: dict[str, dict[str, Any]] = {}

    def check(name: str, value: Any, ok: bool | None) -> None:
        checks[name] = {"value": value, "met": ok}

    ratio = r.get(f"emailshare/baseline@{big}")
    check(f"emailshare >= 0.7 x baseline ({big})", ratio, None if ratio is None else ratio >= 0.7)
    p99 = loads.get(f"emailshare@{big}", {}).get("p99_ms")
    check(f"p99 <= 15 ms ({big})", p99, None if p99 is None else p99 <= 15)
    scale = r.get("1M/10k")
    check("1M within 10% of 10k", scale, None if scale is None else scale >= 0.9)
    rss = max(loads.get(f"emailshare@{big}", {}).get("peak_rss_mb") or [0])
    check(f"peak RSS per worker <= 150 MB ({big})", rss, rss <= 150)
    pg = r.get(f"postgres/sqlite@{big}")
    check("postgres >= 0.5 x sqlite", pg, None if pg is None else pg >= 0.5)
    bulk = results.get("bulk_share_p50_ms")
    check("200-id bulk share p50 <= 20 ms", bulk, None if bulk is None else bulk <= 20)
    ready = results.get("ready_seconds")
    check("serve ready <= 1.5 s", ready, None if ready is None else ready <= 1.5)
    gen = results.get("gen_1m_seconds")
    check("gen 100k users, 1M records <= 60 s", gen, None if gen is None else gen <= 60)
    return checks


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
        "| run | req/s (median) | every round | p50 ms | p99 ms | peak RSS/worker MB | non-2xx |"
        " errors | cache hits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for load in results["loads"].values():
        lines.append(
            f"| {load['name']} | {load['requests_per_s']:.0f} | {load.get('runs_per_s')} | "
            f"{load['p50_ms']:.2f} | "
            f"{load['p99_ms']:.2f} | {load['peak_rss_mb']} | {load['non_2xx']} | "
            f"{load['errors']} | {load.get('cache_hit_rate')} |"
        )
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results["ratios"].items()]
    lines += ["", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {k} | {v['value']} | {v['met']} |" for k, v in results["targets"].items()]
    for key in ("gen_1m_seconds", "bulk_share_p50_ms", "ready_seconds"):
        if key in results:
            lines.append(f"\n{key}: {results[key]}")
    text = "\n".join(lines) + "\n"
    (results_dir / f"{stamp}-{kind}.md").write_text(text)
    if not results["smoke"]:
        (results_dir / "latest.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
