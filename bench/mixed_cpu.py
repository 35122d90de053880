"""CPU per request of a mixed stream called in-process: distinct details reads with one
share/unshare write in twenty, on a copy of a data set of ``bench/run.py`` (``gen
--requests-out`` and ``--writes-out`` lines). It shows what writes cost the reads around them
(docs/performance.md, "Writes empty only what they change"): each write used to empty every
cache of the worker, so the reads after it rebuilt the org's structures and callers.

    .venv/bin/python bench/mixed_cpu.py --data /work/benchdata/u100000-r1000000-o4 \\
        --db /tmp/mixed.db --seed 1

``--db`` is written to (shares): a copy, made from ``<data>.db`` when missing. CPU time
(``time.process_time``: the writes' fsync waits are not counted, nor other jobs' turns).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inprocess import scope  # noqa: E402
from emailshare.api.app import create_app  # noqa: E402
from emailshare.config import Settings  # noqa: E402

Message = MutableMapping[str, Any]


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


STATUSES: list[int] = []
WRITTEN: list[int] = []  # the writes' statuses


async def send(message: Message) -> None:
    if message["type"] == "http.response.start":
        STATUSES.append(message["status"])


async def run(db: Path, data: str, seed: int, reads: int, every: int) -> float:
    """CPU microseconds per request over ``reads`` distinct reads and a write every ``every``."""
    rnd = random.Random(seed)
    lines = rnd.sample(Path(data + ".tsv").read_text().splitlines(), reads + 500)
    writes = Path(data + ".writes.tsv").read_text().splitlines()
    app = create_app(Settings(db_url=f"sqlite:///{db}"))
    async with app.router.lifespan_context(app):
        for line in lines[:500]:  # warm: callers, the orgs' structures
            path, token = line.split("\t")
            await app(scope(path, token), receive, send)
        n, started = 0, time.process_time()
        for i, line in enumerate(lines[500:]):
            path, token = line.split("\t")
            await app(scope(path, token), receive, send)
            n += 1
            if i % every == every - 1:
                _, path, token = rnd.choice(writes).split("\t")
                STATUSES.clear()
                await app(scope(path, token, "POST"), receive, send)
                WRITTEN.extend(STATUSES)
                n += 1
        return (time.process_time() - started) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a data set's path, without .db/.tsv")
    parser.add_argument("--db", type=Path, required=True, help="the copy to write into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reads", type=int, default=5500)
    parser.add_argument("--every", type=int, default=19, help="reads between two writes")
    args = parser.parse_args(argv)
    if not args.db.exists():
        with sqlite3.connect(args.data + ".db") as src, sqlite3.connect(args.db) as dst:
            src.backup(dst)
    per = asyncio.run(run(args.db, args.data, args.seed, args.reads, args.every))
    done = sum(200 <= s < 300 for s in WRITTEN)
    print(
        f"{per:.1f} µs CPU per request (1 write in {args.every + 1}; {done}/{len(WRITTEN)} wrote)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
