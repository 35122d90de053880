"""What counting one request costs: ``prometheus-client`` called per request, or emailshare's
``api.metrics.Metrics.record`` (plain dicts, moved into ``prometheus-client`` once a second).

    .venv/bin/python bench/metrics_cost.py            # multiprocess mode, as under a server
    .venv/bin/python bench/metrics_cost.py --single   # one process, values in memory

Per request, as the server counts it: the requests counter of its (route, method, status), and
the duration histogram of its route. Best of ``--rounds`` runs, in microseconds of CPU time
per request (a busy machine disturbs it less than the wall clock; docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROUTE = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--single", action="store_true", help="not multiprocess mode")
    parser.add_argument("-n", type=int, default=100_000, help="requests per run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="emailshare-metrics-bench-") as directory:
        if not args.single:
            # Read once, when prometheus-client is first imported: so before any import of it.
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        from prometheus_client import CollectorRegistry, Counter, Histogram

        from emailshare.api.metrics import BOUNDS, Metrics

        registry = CollectorRegistry()
        requests = Counter("bench_requests", "-", ("route", "method", "status"), registry=registry)
        duration = Histogram("bench_seconds", "-", ("route",), buckets=BOUNDS, registry=registry)

        def direct() -> None:
            requests.labels(ROUTE, "GET", "200").inc()
            duration.labels(ROUTE).observe(0.00002)

        async def batched() -> float:
            metrics = Metrics()  # its once-a-second flush needs the running loop

            def record() -> None:
                metrics.record(ROUTE, "GET", 200, 0.00002)

            best = min(
                timeit.repeat(record, timer=time.process_time, number=args.n, repeat=args.rounds)
            )
            metrics.flush()
            return best

        rows = {
            "prometheus-client per request": min(
                timeit.repeat(direct, timer=time.process_time, number=args.n, repeat=args.rounds)
            ),
            "Metrics.record (dicts, flushed once a second)": asyncio.run(batched()),
        }
    mode = "one process" if args.single else "multiprocess mode"
    print(f"counting a request, {mode}, best of {args.rounds} x {args.n}:")
    for name, seconds in rows.items():
        print(f"  {name:<46} {seconds / args.n * 1e6:8.2f} µs/request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
