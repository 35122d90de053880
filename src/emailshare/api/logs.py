"""JSON logging: one object per line, the request id in every line, no secret in any.

A request's id reaches every line written while it is answered through a context variable
that :class:`~emailshare.api.observe.Observe` sets (:func:`begin`). The request line itself
(``emailshare.request``) is written by :func:`request_line`, only when asked for
(``--log-requests``) or for an answer of 500 or more. ``docs/observability.md`` has the
format.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from typing import Any
from urllib.parse import unquote_plus

import orjson
from starlette.types import Scope

from emailshare.domain.errors import StoreUnavailable, ZohoError
from emailshare.domain.tokens import token_hash
from emailshare.service.auth import bearer_token

LOGGER = "emailshare"
log = logging.getLogger(LOGGER)
request_log = logging.getLogger("emailshare.request")

ORG_KEY = "emailshare.org_id"  # scope key: the caller's org, when a middleware learnt it
# Any Zoho-shaped token (access or refresh) that reaches a log line or the request log.
TOKEN = re.compile(r"1000\.[0-9a-f]{32}\.[0-9a-f]{32}")
REDACTED = "[redacted]"
SECRET_PARAMS = frozenset(
    {"token", "access_token", "refresh_token", "code", "client_secret", "password", "admin_key"}
)


class Current:
    """The request being answered, as logging sees it (through a context variable)."""

    __slots__ = ("id", "store_error")

    def __init__(self, request_id: str) -> None:
        self.id = request_id
        self.store_error = False  # set when the error boundary reported the store unavailable


_current: contextvars.ContextVar[Current | None] = contextvars.ContextVar(
    "emailshare_request", default=None
)


def begin(request_id: str) -> tuple[Current, contextvars.Token[Current | None]]:
    """Make ``request_id`` the id of every line logged from here on, until :func:`end`."""
    current = Current(request_id)
    return current, _current.set(current)


def end(token: contextvars.Token[Current | None]) -> None:
    _current.reset(token)


def iso(seconds: float) -> str:
    """A time as the logs and the request log write it: UTC, to the millisecond."""
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, request id (when in a request), the message or a
    request's fields, and the error. Anything shaped like a Zoho token is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"time": iso(record.created), "level": record.levelname.lower()}
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
        return TOKEN.sub(REDACTED, line)


def log_config() -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for a server: every line JSON on stdout, granian's own
    lines included, and every other library's (psycopg, psycopg_pool, asyncio, warnings)
    through the root logger at ``warning``, so none falls to ``logging.lastResort``'s plain
    text. A new dict each call: ``dictConfig`` consumes parts of what it is given."""
    handler = {"handlers": ["json"], "level": "INFO", "propagate": False}
    return {
        "root": {"handlers": ["json"], "level": "WARNING"},
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "emailshare.api.logs.JsonFormatter"}},
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


def ensure_logging() -> None:
    """JSON lines on stdout for emailshare's records, unless the host configured logging (a
    server given :func:`log_config`, or pytest): the app logs the same under any ASGI server.
    Either way the request's id is stamped on the ``emailshare`` logger's records; other
    libraries' lines reach the same JSON handler through the root logger."""
    logger = logging.getLogger(LOGGER)
    logger.addFilter(_REQUEST_TAP)  # a set: adding it twice keeps one
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        logging.captureWarnings(True)  # our server's config: warnings as JSON lines too
    if logger.handlers or root.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # Other libraries' warnings (psycopg_pool's, asyncio's, warnings.warn) as JSON too, not
    # logging.lastResort's plain text.
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)


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
    return TOKEN.sub(REDACTED, f"{path}?{'&'.join(parts)}")


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
    return None if hit is None else str(hit.org_id)


def request_line(scope: Scope, request_id: str, status: int, seconds: float) -> None:
    """The request's line: ``info``, or ``error`` for an answer of 500 or more."""
    fields = {
        "method": scope["method"],
        "path": redacted_path(scope),
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "org_id": _org_of(scope),
    }
    level = logging.ERROR if status >= 500 else logging.INFO
    request_log.log(level, "request", extra={"fields": fields, "request_id": request_id})
