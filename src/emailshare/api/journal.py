"""The request log of the admin API: each worker's last requests and the start of their answers.

Kept only when the admin API is on (``--admin-key``), in ``app.state.request_log`` (a bounded
deque the lifespan makes). An entry is kept raw, as cheaply as possible, and redacted and
formatted only when ``GET /__emailshare/requests`` reads it (:func:`logged_request`).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import Scope

from emailshare.api.logs import REDACTED, TOKEN, iso, redacted_path

RESPONSE_KEPT = 4096  # bytes of each answer kept in the request log
TOKEN_ENDPOINT = "/oauth/v2/token"
# Not kept: the admin API reading it, and probes, which would push out the requests worth seeing.
UNLOGGED_PREFIXES = ("/__emailshare/", "/metrics", "/healthz", "/readyz")


def remember(scope: Scope, request_id: str, status: int, seconds: float, body: bytes) -> None:
    """Keep this request and the first :data:`RESPONSE_KEPT` bytes of its answer."""
    if scope["path"].startswith(UNLOGGED_PREFIXES):
        return
    kept = getattr(scope["app"].state, "request_log", None)
    if kept is None:
        return
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


def _answer_text(path: str, raw: bytes) -> str:
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
    return TOKEN.sub(REDACTED, raw.decode("utf-8", "replace"))


def logged_request(entry: tuple[Any, ...]) -> dict[str, Any]:
    """A request log entry as the admin API shows it: secrets redacted, the answer as text."""
    request_id, started, method, path, query, status, seconds, body = entry
    return {
        "id": request_id,
        "time": iso(started),
        "method": method,
        "path": redacted_path({"path": path, "query_string": query}),
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "response": _answer_text(path, body[:RESPONSE_KEPT]),
    }
