"""Observability: request ids, structured JSON logs, Prometheus metrics, the request log.

``Observe`` is the outermost middleware and runs on every request, so with logging off it does
only what it must: take or make a request id, return it in ``X-Request-Id``, and count the
answer in plain per-process dicts (a few microseconds; ``docs/observability.md`` has the
measurements). Log lines, the org lookup, path redaction and the request log for the admin API
are built only when asked for (``--log-requests``, an error, ``--admin-key``).

Metrics of several worker processes: each worker writes its counts to a file of its own in a
directory shared by the workers of one server, at most once a second; ``/metrics``, whichever
worker answers it, adds up every file, so a scrape sees the whole server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import itertools
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emailshare.config import Settings
from emailshare.domain.errors import InvalidRequestMethod, InvalidUrlPattern, ZohoError
from emailshare.service.auth import bearer_token
from emailshare.service.tokens import token_hash
from emailshare.storage.db import StoreUnavailable

LOGGER = "emailshare"
request_log = logging.getLogger("emailshare.request")

OBSERVE_KEY = "emailshare.observe"  # scope key: the Observe of this app, for the endpoint
ORG_KEY = "emailshare.org_id"  # scope key: the caller's org, when a middleware learnt it
REQUEST_ID_HEADER = b"x-request-id"
# Letters, digits and ``-_.:``, at most 64: no log injection, and no room for a Zoho token
# (70 characters) should a client send one as its request id.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")
# Any Zoho-shaped token (access or refresh) that reaches a log line or the request log.
_TOKEN = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
REDACTED = "[redacted]"
SECRET_PARAMS = frozenset(
    {"token", "access_token", "refresh_token", "code", "client_secret", "password", "admin_key"}
)
TOKEN_ENDPOINT = "/oauth/v2/token"
RESPONSE_KEPT = 4096  # bytes of each answer kept in the request log
# Not kept in the request log: the admin API reading it, and probes.
UNLOGGED_PREFIXES = ("/__emailshare/", "/metrics", "/healthz", "/readyz")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
BOUNDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# --- logging -----------------------------------------------------------------------------------


class _Current:
    """The request being answered, as logging sees it (through a context variable)."""

    __slots__ = ("id", "store_error")

    def __init__(self, request_id: str) -> None:
        self.id = request_id
        self.store_error = False


_current: contextvars.ContextVar[_Current | None] = contextvars.ContextVar(
    "emailshare_request", default=None
)


def _iso(seconds: float) -> str:
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, request id (when in a request), the message or a
    request's fields, and the error. Anything shaped like a Zoho token is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": _iso(record.created), "level": record.levelname.lower()}
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            current = _current.get()
            request_id = current.id if current is not None else None
        if request_id is not None:
            out["request_id"] = request_id
        out["logger"] = record.name
        out["message"] = record.getMessage()
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            out["trace"] = self.formatException(record.exc_info)
        line = orjson.dumps(out, default=str).decode("utf-8")
        return _TOKEN.sub(REDACTED, line)


def log_config() -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for a server: every line JSON on stdout, granian's own
    lines included. A new dict each call: ``dictConfig`` consumes parts of what it is given."""
    handler = {"handlers": ["json"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "emailshare.api.observe.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            LOGGER: dict(handler),
            "_granian": dict(handler),
            "granian.access": dict(handler),
        },
    }


def ensure_logging() -> None:
    """JSON lines on stdout for emailshare's records, unless the host configured logging (a
    server given :func:`log_config`, or pytest): the app logs the same under any ASGI server."""
    logger = logging.getLogger(LOGGER)
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class _RequestTap(logging.Filter):
    """On the ``emailshare`` logger, where the error boundary (``api.errors``) logs: stamps each
    record with the request's id when it is made (a handler may format it later, elsewhere),
    and marks the request when the store was reported unavailable, for the metrics."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _current.get()
        if current is not None:
            record.request_id = current.id
            args = record.args
            if isinstance(args, tuple) and any(isinstance(a, StoreUnavailable) for a in args):
                current.store_error = True
        return True


_REQUEST_TAP = _RequestTap()


def redacted_path(scope: Scope) -> str:
    """The path and query string, with the values of secret parameters replaced."""
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if not query:
        return path
    parts = []
    for pair in query.decode("latin-1").split("&"):
        name, eq, _ = pair.partition("=")
        if eq and unquote_plus(name).lower() in SECRET_PARAMS:
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(pair)
    return _TOKEN.sub(REDACTED, f"{path}?{'&'.join(parts)}")


def _org_of(scope: Scope) -> str | None:
    """The caller's org id (a digit string, as Zoho writes ids) when known: from a middleware,
    or the callers cache (no query)."""
    org: int | None = scope.get(ORG_KEY)
    if org is not None:
        return str(org)
    header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    callers = getattr(scope["app"].state, "callers", None)
    if header is None or callers is None:
        return None
    try:
        token = bearer_token(header.decode("latin-1"))
    except ZohoError:
        return None
    hit = callers.get(token_hash(token))
    return None if hit is None else str(hit[0].org_id)


def _route_of(scope: Scope) -> str:
    """The route template that answered, or would have: a request refused before routing (a
    limit, a 429) is counted under the route it asked for. Unknown paths are ``unmatched``."""
    route = scope.get("route")
    if route is None:
        for candidate in scope["app"].routes:
            if candidate.matches(scope)[0] is Match.FULL:
                route = candidate
                break
    return str(getattr(route, "path", "unmatched"))


def _answer_text(path: str, chunks: list[bytes]) -> str:
    raw = b"".join(chunks)[:RESPONSE_KEPT]
    if path == TOKEN_ENDPOINT:  # its answers are tokens
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return REDACTED
        if isinstance(body, dict):
            for key in ("access_token", "refresh_token"):
                if key in body:
                    body[key] = REDACTED
            return orjson.dumps(body).decode("utf-8")
        return REDACTED
    return _TOKEN.sub(REDACTED, raw.decode("utf-8", "replace"))


# --- metrics -----------------------------------------------------------------------------------


def _start_ticks(pid: int) -> str:
    """When a process started (Linux clock ticks), so that a reused pid names a new directory."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def metrics_dir(settings: Settings) -> Path | None:
    """Where the workers of this server share their counts; None for a lone process.

    A ``metrics_dir`` setting wins. Otherwise workers started by a server process (granian)
    use a directory named after that parent process, which all its workers share.
    """
    configured = getattr(settings, "metrics_dir", None)
    if configured:
        path = Path(configured)
    else:
        parent = multiprocessing.parent_process()
        if parent is None or parent.pid is None:
            return None
        name = f"emailshare-metrics-{parent.pid}-{_start_ticks(parent.pid)}"
        path = Path(tempfile.gettempdir()) / name
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_uid != os.getuid():  # someone else's directory: share nothing
            return None
    except OSError:
        return None
    return path


Snapshot = dict[str, Any]


class Metrics:
    """This process's counts, kept in plain dicts; shared with sibling workers through files."""

    def __init__(self, directory: Path | None) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.buckets: dict[str, list[int]] = {}  # per route: one count per bound, then +Inf
        self.sums: dict[str, float] = {}
        self.store_errors = 0
        self.state: Any = None  # the app's state (cache figures), known from the first request
        self.directory = directory
        self.path = None if directory is None else directory / f"{os.getpid()}.json"
        self._flush_pending = False

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in METHODS else "OTHER", status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        counts = self.buckets.get(route)
        if counts is None:
            counts = self.buckets[route] = [0] * (len(BOUNDS) + 1)
            self.sums[route] = 0.0
        counts[bisect_left(BOUNDS, seconds)] += 1
        self.sums[route] += seconds
        if self.path is not None and not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def snapshot(self) -> Snapshot:
        fresh = getattr(self.state, "freshness", None) if self.state is not None else None
        return {
            "requests": [[r, m, s, n] for (r, m, s), n in self.requests.items()],
            "latency": [[r, counts, self.sums[r]] for r, counts in self.buckets.items()],
            "store_errors": self.store_errors,
            "cache_hits": getattr(fresh, "hits", 0),
            "cache_misses": getattr(fresh, "misses", 0),
        }

    def flush(self) -> None:
        """Write this process's counts for its siblings (atomically: write, then rename)."""
        self._flush_pending = False
        if self.path is None:
            return
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_bytes(orjson.dumps(self.snapshot()))
            os.replace(temporary, self.path)
        except OSError as exc:
            logging.getLogger(LOGGER).warning("metrics not shared: %s", exc)

    def close(self) -> None:
        """Remove this process's file (and the directory, after the last worker): a server's
        workers stop only when it stops, so its counts are not needed any more."""
        if self.path is None or self.directory is None:
            return
        for path in (self.path, self.path.with_suffix(".tmp")):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: other workers still run
            self.directory.rmdir()
        self.path = None

    def gather(self) -> list[Snapshot]:
        """Every worker's counts: this one's as they are now, the others' as last written."""
        if self.directory is None:
            return [self.snapshot()]
        self.flush()
        found = []
        for path in self.directory.glob("*.json"):
            try:
                found.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue  # a worker's file being replaced or gone: its next write counts
        return found

    def render(self) -> bytes:
        """The whole server's counts in Prometheus' text exposition format."""
        return exposition(self.gather())


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(snapshots: list[Snapshot]) -> bytes:
    """Add up the snapshots of several processes; write them as Prometheus text."""
    requests: dict[tuple[str, str, int], int] = {}
    buckets: dict[str, list[int]] = {}
    sums: dict[str, float] = {}
    totals = {"store_errors": 0, "cache_hits": 0, "cache_misses": 0}
    for snap in snapshots:
        for route, method, status, n in snap.get("requests", ()):
            key = (route, method, int(status))
            requests[key] = requests.get(key, 0) + int(n)
        for route, counts, total in snap.get("latency", ()):
            mine = buckets.setdefault(route, [0] * (len(BOUNDS) + 1))
            for i, n in enumerate(counts[: len(mine)]):
                mine[i] += int(n)
            sums[route] = sums.get(route, 0.0) + float(total)
        for name in totals:
            totals[name] += int(snap.get(name, 0))
    out = [
        "# HELP emailshare_requests_total Requests answered, by route template, method and status.",
        "# TYPE emailshare_requests_total counter",
    ]
    for (route, method, status), n in sorted(requests.items()):
        labels = f'route="{_label(route)}",method="{method}",status="{status}"'
        out.append(f"emailshare_requests_total{{{labels}}} {n}")
    out += [
        "# HELP emailshare_request_duration_seconds Time to answer, by route template.",
        "# TYPE emailshare_request_duration_seconds histogram",
    ]
    for route in sorted(buckets):
        name, counts, running = _label(route), buckets[route], 0
        for bound, n in zip((*BOUNDS, "+Inf"), counts, strict=True):
            running += n
            le = bound if isinstance(bound, str) else repr(bound)
            out.append(
                f'emailshare_request_duration_seconds_bucket{{route="{name}",le="{le}"}} {running}'
            )
        out.append(f'emailshare_request_duration_seconds_sum{{route="{name}"}} {sums[route]!r}')
        out.append(f'emailshare_request_duration_seconds_count{{route="{name}"}} {running}')
    for name, text in (
        ("cache_hits", "Answers served from a worker's cache."),
        ("cache_misses", "Answers computed from the store."),
        ("store_errors", "Requests answered INTERNAL_ERROR because the store was unavailable."),
    ):
        out += [
            f"# HELP emailshare_{name}_total {text}",
            f"# TYPE emailshare_{name}_total counter",
            f"emailshare_{name}_total {totals[name]}",
        ]
    out += [
        "# HELP emailshare_processes Worker processes whose counts are included.",
        "# TYPE emailshare_processes gauge",
        f"emailshare_processes {len(snapshots)}",
    ]
    return ("\n".join(out) + "\n").encode("utf-8")


# --- the middleware ------------------------------------------------------------------------------


FastAnswer = Callable[[Scope], Awaitable[tuple[int, bytes] | None]]
"""Answers a request from a cache without routing it: ``(status, JSON body)``, or None."""

_JSON = (b"content-type", b"application/json;charset=UTF-8")


class Observe:
    """Outermost middleware: request id, metrics, and (when on) log lines and the request log.

    ``fast``, when given, may answer a request before anything else runs (the details
    endpoint's cache, ``api.routes.cached_details``); such an answer is observed like any
    other, under ``fast_route``.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        fast: FastAnswer | None = None,
        fast_route: str = "",
    ) -> None:
        self.app = app
        self.fast, self.fast_route = fast, fast_route
        self.log_requests = settings.log_requests
        self.keep = bool(settings.admin_key)  # the request log exists for the admin API only
        self.metrics = Metrics(metrics_dir(settings))
        self._prefix = os.urandom(6).hex()  # unique per process; the counter within it
        self._next = itertools.count(1).__next__
        ensure_logging()
        logging.getLogger(LOGGER).addFilter(_REQUEST_TAP)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                receive = self._watch_shutdown(receive)
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if _REQUEST_ID.fullmatch(value):
                    request_id = value.decode("ascii")
                break
        if request_id is None:
            request_id = f"{self._prefix}{self._next():010x}"
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        if self.fast is not None and scope["method"] == "GET":
            answer = await self.fast(scope)
            if answer is not None:
                status, body = answer
                length = (b"content-length", str(len(body)).encode("ascii"))
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [length, _JSON, header],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                self._finish(scope, self.fast_route, request_id, status, start, body)
                return
        current = _Current(request_id)
        reset = _current.set(current)
        scope[OBSERVE_KEY] = self
        chunks: list[bytes] | None = [] if self.keep else None
        status = 0  # no answer started yet

        async def sender(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            elif chunks is not None and sum(map(len, chunks)) < RESPONSE_KEPT:
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            handler = scope["app"].exception_handlers.get(Exception)
            if status or handler is None:  # an answer began: Starlette's boundary closes it
                self._done(scope, current, status or 500, start, chunks)
                raise
            # The app's own handler of the unexpected (api.errors: INTERNAL_ERROR, logged with
            # this request's id), answered here rather than outside so that it has the id too.
            answer = handler(Request(scope, receive), exc)
            if inspect.isawaitable(answer):
                answer = await answer
            await answer(scope, receive, sender)
        self._done(scope, current, status or 500, start, chunks)
        _current.reset(reset)

    def _watch_shutdown(self, receive: Receive) -> Receive:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.metrics.close()
            return message

        return watched

    def _done(
        self, scope: Scope, current: _Current, status: int, start: float, chunks: list[bytes] | None
    ) -> None:
        if current.store_error:
            self.metrics.store_errors += 1
        body = None if chunks is None else b"".join(chunks)
        self._finish(scope, _route_of(scope), current.id, status, start, body)

    def _finish(
        self,
        scope: Scope,
        route: str,
        request_id: str,
        status: int,
        start: float,
        body: bytes | None,
    ) -> None:
        seconds = time.perf_counter() - start
        metrics = self.metrics
        if metrics.state is None:
            metrics.state = scope["app"].state
        metrics.record(route, scope["method"], status, seconds)
        if self.log_requests or status >= 500:
            self._log(scope, request_id, status, seconds)
        if self.keep and not scope["path"].startswith(UNLOGGED_PREFIXES):
            self._remember(scope, request_id, status, seconds, body or b"")

    def _log(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        fields = {
            "method": scope["method"],
            "path": redacted_path(scope),
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "org_id": _org_of(scope),
        }
        level = logging.ERROR if status >= 500 else logging.INFO
        request_log.log(level, "request", extra={"fields": fields, "request_id": request_id})

    def _remember(
        self, scope: Scope, request_id: str, status: int, seconds: float, body: bytes
    ) -> None:
        kept = getattr(scope["app"].state, "request_log", None)
        if kept is None:
            return
        # Kept raw, as cheaply as possible: ``logged_request`` formats and redacts an entry
        # when the admin API reads it.
        kept.append(
            (
                request_id,
                time.time() - seconds,
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status,
                seconds,
                body[:RESPONSE_KEPT],
            )
        )


def logged_request(entry: tuple[Any, ...]) -> dict[str, Any]:
    """A request log entry as the admin API shows it: secrets redacted, the answer as text."""
    request_id, started, method, path, query, status, seconds, body = entry
    return {
        "id": request_id,
        "time": _iso(started),
        "method": method,
        "path": redacted_path({"path": path, "query_string": query}),
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "response": _answer_text(path, [body]),
    }


async def metrics(request: Request) -> Response:
    """``GET /metrics`` in Prometheus' text format: the whole server, every worker added up."""
    if request.method != "GET":
        raise InvalidRequestMethod()
    observer = request.scope.get(OBSERVE_KEY)
    if not isinstance(observer, Observe):
        raise InvalidUrlPattern()
    return Response(observer.metrics.render(), media_type=PROMETHEUS_TYPE)
