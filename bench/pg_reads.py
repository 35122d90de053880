"""PostgreSQL's non-repeating reads over sockets beside SQLite's, with what each request costs
in CPU (docs/performance.md, "PostgreSQL reads"): the 1M set written into a throwaway cluster
as ``bench/run.py`` does it, then, round after round, one server per ``--src`` (a ``src``
folder put on the server's PYTHONPATH: the code before and after a change) and one on the
SQLite set, each fresh, warmed for 1 s on held-out lines, then driven by wrk (2 threads, 64
connections) over a slice of shuffled lines no other run sends. Each run prints req/s, p99,
non-2xx answers, socket errors and the CPU per request of the server's workers and of the
cluster's backends, read from ``/proc`` around the whole wrk process: the figure to compare.
wrk's req/s is not, on a busy machine, and it counts high with long request files: its
first thread sends while the next one is still reading its lines, before the clock starts
(a slice of 165,000 lines, as here and in ``bench/run.py``).

    .venv/bin/python bench/pg_reads.py --src /tmp/before/src --src $PWD/src --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    SETS,
    DataSet,
    Server,
    emailshare_cmd,
    page_cache,
    pg_dataset,
    run_wrk,
    split,
    worker_pids,
)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of ``pids`` so far (those gone count nothing)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", action="append", required=True, help="a src folder (repeat)")
    parser.add_argument("--sqlite-src", help="src folder of the SQLite row (default: the first)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg", nargs=2, metavar=("URL", "LINES"), help="a store of the 1M set and its lines"
    )
    args = parser.parse_args(argv)
    users, records, orgs = SETS["1M"]
    name = f"u{users}-r{records}-o{orgs}"
    sqlite_db = f"sqlite:///{args.data_dir / (name + '.db')}"
    tmp = Path(tempfile.mkdtemp(prefix="emailshare-pgreads-"))
    if args.pg:  # already made (by this command's own way: bench.run.pg_dataset)
        cluster, pg = None, DataSet(args.pg[0], Path(args.pg[1]), Path(args.pg[1]))
    else:
        cluster, pg = pg_dataset(tmp, users, records, orgs)
    try:
        import psycopg

        with psycopg.connect(pg.db) as conn:
            found = conn.execute("SHOW data_directory").fetchone()
        assert found is not None
        postmaster = int((Path(found[0]) / "postmaster.pid").read_text().split()[0])
        pg_cut = split(
            pg.requests.read_text().splitlines(), max(6, args.rounds * len(args.src)), 7, tmp / "pg"
        )
        lines = (args.data_dir / f"{name}.tsv").read_text().splitlines()
        sq_cut = split(lines, max(6, args.rounds), 7, tmp / "sqlite")
        rows = [(f"postgresql {src}", src, pg.db, pg_cut) for src in args.src]
        rows.append(("sqlite", args.sqlite_src or args.src[0], sqlite_db, sq_cut))
        for db in (pg.db, sqlite_db):
            page_cache(db)
        used: dict[str, int] = {}
        for r in range(args.rounds):
            for label, src, db, cut in rows:
                server = Server(emailshare_cmd(db), env={"PYTHONPATH": src})
                try:
                    run_wrk(server.url, cut.warm, 1.0)
                    workers = worker_pids(server.proc.pid)
                    backends = [postmaster, *children(postmaster)]
                    w0, b0 = cpu_seconds(workers), cpu_seconds(backends)
                    index = used[db] = used.get(db, -1) + 1
                    load = run_wrk(server.url, cut.slices[index], args.seconds)
                    backends = [postmaster, *children(postmaster)]
                    n = max(load.requests, 1)
                    row = {
                        "round": r + 1,
                        "row": label,
                        "req/s": round(load.requests_per_s),
                        "p99 ms": load.p99_ms,
                        "non-2xx": load.non_2xx,
                        "socket errors": load.errors,
                        "worker µs/request": round(1e6 * (cpu_seconds(workers) - w0) / n),
                        "backends µs/request": round(1e6 * (cpu_seconds(backends) - b0) / n)
                        if db == pg.db
                        else None,
                        "load": round(os.getloadavg()[0], 1),
                    }
                    print(json.dumps(row, ensure_ascii=False), flush=True)
                finally:
                    server.stop()
    finally:
        if cluster is not None:
            cluster.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
