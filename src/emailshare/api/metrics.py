"""Prometheus metrics through ``prometheus-client``, added up over every worker of a server.

Each worker counts a request in plain dicts (~0.3 µs; a ``prometheus-client`` counter and
histogram cost ~5 µs in its multiprocess mode, ``docs/performance.md``) and moves the counts
into ``prometheus-client``'s values at most once a second, before each scrape and when it
stops. In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, which ``emailshare serve`` sets up
before granian starts its workers) those values live in the files of that directory, and
``/metrics``, whichever worker answers it, adds up every file with ``MultiProcessCollector``.
A lone process (the app in tests) keeps them in memory.
"""

from __future__ import annotations

import asyncio
import glob
import os
from bisect import bisect_left
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from starlette.requests import Request
from starlette.responses import Response

from emailshare.domain.errors import InvalidRequestMethod, InvalidUrlPattern
from emailshare.domain.numbers import parse_int

METRICS_KEY = "emailshare.metrics"  # scope key: this app's Metrics, for the endpoint
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str | None:
    """The directory the workers of this server share, when ``prometheus-client`` was imported
    in multiprocess mode (it decides once, at import, from ``PROMETHEUS_MULTIPROC_DIR``)."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        return None
    return os.environ.get(MULTIPROC_ENV)


class Metrics:
    """One app's counts: cheap to record, moved into ``prometheus-client`` in batches."""

    def __init__(self) -> None:
        self.directory = multiprocess_dir()
        self.registry = CollectorRegistry(auto_describe=True)
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        registry = self.registry
        self._requests = Counter(
            "emailshare_requests",
            "Requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self._duration = Histogram(
            "emailshare_request_duration_seconds",
            "Time to answer, by route template.",
            ("route",),
            buckets=BOUNDS,
            registry=registry,
        )
        self._totals = {
            name: Counter(f"emailshare_{name}", text, registry=registry)
            for name, text in (
                ("cache_hits", "Answers served from a worker's cache."),
                ("cache_misses", "Answers computed from the store."),
                ("store_errors", "Requests answered INTERNAL_ERROR: the store was unavailable."),
                ("hot_path_errors", "Hot path lookups that failed unexpectedly (then routed)."),
            )
        }
        processes = Gauge(
            "emailshare_processes",
            "Worker processes whose counts are included.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        processes.set(1)
        # Counted since the last flush: (route, method, status) -> n; route -> bucket counts
        # (one per bound, then +Inf) and their sum; and the plain totals.
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.store_errors = 0
        self.hot_path_errors = 0
        self.state: Any = None  # the app's state (cache figures), known from the first request
        self._moved = {"cache_hits": 0, "cache_misses": 0}  # cache figures flushed so far
        self._flush_pending = False

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answer (on every request: a few dict updates, nothing else)."""
        key = (route, method if method in METHODS else "OTHER", status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        counts = self.buckets.get(route)
        if counts is None:
            counts = self.buckets[route] = [0] * (len(BOUNDS) + 1)
            self.sums[route] = 0.0
        counts[bisect_left(BOUNDS, seconds)] += 1
        self.sums[route] += seconds
        if self.directory is not None and not self._flush_pending:
            self._flush_pending = True  # the siblings' scrapes see it within a second
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Move the counts recorded since the last flush into ``prometheus-client``."""
        self._flush_pending = False
        requests, self.requests = self.requests, {}
        for (route, method, status), n in requests.items():
            self._requests.labels(route, method, str(status)).inc(n)
        buckets, sums, self.buckets, self.sums = self.buckets, self.sums, {}, {}
        for route, counts in buckets.items():
            child = self._duration.labels(route)
            # prometheus-client has no bulk observe: add to its per-bucket values (not
            # cumulative in 0.x, summed at exposition) and its sum directly.
            for value, n in zip(child._buckets, counts, strict=True):
                if n:
                    value.inc(n)
            child._sum.inc(sums[route])
        moved = {"store_errors": self.store_errors, "hot_path_errors": self.hot_path_errors}
        self.store_errors = self.hot_path_errors = 0
        fresh = getattr(self.state, "freshness", None)
        for name in ("cache_hits", "cache_misses"):
            now = int(getattr(fresh, name.removeprefix("cache_"), 0))
            moved[name] = now - self._moved[name] if now >= self._moved[name] else now
            self._moved[name] = now
        for name, n in moved.items():
            if n:
                self._totals[name].inc(n)

    def render(self) -> bytes:
        """The whole server's metrics in Prometheus' text format (this worker's up to now)."""
        self.flush()
        if self.directory is None:
            return generate_latest(self.registry)
        _forget_dead_workers(self.directory)
        everyone = CollectorRegistry()
        multiprocess.MultiProcessCollector(everyone, self.directory)  # type: ignore[no-untyped-call]
        return generate_latest(everyone)

    def close(self) -> None:
        """On the worker's way out: keep its counts (counters never go down), drop it from
        ``emailshare_processes``."""
        self.flush()
        if self.directory is not None:
            multiprocess.mark_process_dead(os.getpid(), self.directory)  # type: ignore[no-untyped-call]


def _forget_dead_workers(directory: str) -> None:
    """Mark dead the workers that exited without saying so (killed): their live gauges go."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = os.path.basename(path).rsplit("_", 1)[-1].removesuffix(".db")
        if parse_int(pid) is None:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, someone else's: not ours to judge
            continue


async def endpoint(request: Request) -> Response:
    """``GET /metrics`` in Prometheus' text format: the whole server, every worker added up."""
    if request.method != "GET":
        raise InvalidRequestMethod()
    found = request.scope.get(METRICS_KEY)
    if not isinstance(found, Metrics):
        raise InvalidUrlPattern()
    return Response(found.render(), media_type=PROMETHEUS_TYPE)
