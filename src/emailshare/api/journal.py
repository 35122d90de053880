"""The request journal's capture: each exchange as the client sent and got it, redacted.

On only with the admin API (``--admin-key``). ``Observe`` (``api/observe.py``) gives each
journalled request a :class:`Capture`, which keeps the first :data:`KEPT` bytes of the request
body as the app reads it and of the answer as it is sent, and hands it to the worker's
``service.journal.Journal`` (``app.state.journal``) before the answer's last bytes go out, as
a raw tuple: nothing is formatted on the request's path. :func:`shape`, called by the
journal's writer off that path, turns a capture into a ``domain.journal.JournalEntry`` with
every secret redacted (docs/observability.md, "The request journal"):

- headers: ``Authorization`` (its scheme kept), ``Proxy-Authorization``, ``Cookie``,
  ``Set-Cookie`` and the admin key's header, and anything shaped like a Zoho token anywhere;
- the query string and form bodies: the values of :data:`~emailshare.api.logs.SECRET_PARAMS`;
- the token endpoint's answers: ``access_token`` and ``refresh_token``.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope

from emailshare.api.logs import REDACTED, TOKEN, redacted_path
from emailshare.domain.errors import ZohoError
from emailshare.domain.journal import Headers, JournalEntry
from emailshare.domain.tokens import token_hash
from emailshare.service.auth import bearer_token

KEPT = 4096  # bytes of each request body and of each answer kept
TOKEN_ENDPOINT = "/oauth/v2/token"
# Not kept: the admin API reading it, and probes, which would push out the requests worth seeing.
UNLOGGED_PREFIXES = ("/__emailshare/", "/metrics", "/healthz", "/readyz")
# Header values never kept (their names are); X-Emailshare-Admin-Key is api/admin.py's HEADER.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-emailshare-admin-key"}
)
_FORM = "application/x-www-form-urlencoded"


def journalled(scope: Scope) -> bool:
    """Whether this request goes in the journal (the admin API and probes do not)."""
    path: str = scope["path"]
    return not path.startswith(UNLOGGED_PREFIXES)


class Capture:
    """What one request sent and got, its first bytes, as it passes through ``Observe``."""

    __slots__ = ("headers", "kept", "request", "request_size", "response", "response_size")

    def __init__(self) -> None:
        self.request = b""
        self.request_size = 0
        self.response = b""
        self.response_size = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.kept = False

    def wrap(self, receive: Receive) -> Receive:
        """``receive``, keeping the body's first bytes as the app reads them."""

        async def received() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                self.request_size += len(chunk)
                if len(self.request) < KEPT:
                    self.request += chunk[: KEPT - len(self.request)]
            return message

        return received

    def answer(self, chunk: bytes) -> None:
        self.response_size += len(chunk)
        if len(self.response) < KEPT:
            self.response += chunk[: KEPT - len(self.response)]


def remember(scope: Scope, request_id: str, start: float, status: int, cap: Capture) -> None:
    """Hand the capture to the worker's journal (a tuple appended; shaped later)."""
    if cap.kept:
        return
    cap.kept = True
    journal = getattr(scope["app"].state, "journal", None)
    if journal is None:
        return
    seconds = time.perf_counter() - start
    journal.add(
        (
            request_id,
            time.time() - seconds,
            seconds,
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            scope["headers"],
            status,
            cap,
        )
    )


# --- shaping, off the request's path -----------------------------------------------------------


def _redacted_query(query: bytes) -> str:
    return redacted_path({"path": "", "query_string": query}).removeprefix("?")


def _headers(raw: list[tuple[bytes, bytes]]) -> Headers:
    out = []
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        if name in SECRET_HEADERS:
            scheme, space, _ = value.partition(" ")
            value = f"{scheme} {REDACTED}" if name.endswith("authorization") and space else REDACTED
        out.append((name, TOKEN.sub(REDACTED, value)))
    return tuple(out)


def _header(raw: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    return next((v.decode("latin-1") for k, v in raw if k.lower() == name), None)


def _request_text(raw: bytes, headers: list[tuple[bytes, bytes]]) -> str:
    encoding = _header(headers, b"content-encoding")
    if encoding and encoding.strip().lower() != "identity":
        return f"[{encoding.strip()}-encoded body]" if raw else ""
    kind = (_header(headers, b"content-type") or "").split(";")[0].strip().lower()
    if kind == _FORM:
        return _redacted_query(raw)
    return TOKEN.sub(REDACTED, raw.decode("utf-8", "replace"))


def _answer_text(path: str, raw: bytes) -> str:
    if path == TOKEN_ENDPOINT:  # its answers are tokens
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return REDACTED if raw else ""
        if isinstance(body, dict):
            for key in ("access_token", "refresh_token"):
                if key in body:
                    body[key] = REDACTED
            return orjson.dumps(body).decode("utf-8")
        return REDACTED
    return TOKEN.sub(REDACTED, raw.decode("utf-8", "replace"))


def _token_hash(headers: list[tuple[bytes, bytes]]) -> str | None:
    header = _header(headers, b"authorization")
    if header is None:
        return None
    try:
        return token_hash(bearer_token(header))
    except ZohoError:
        return None


def shape(raw: tuple[Any, ...]) -> tuple[JournalEntry, str | None]:
    """A capture as the journal keeps it, redacted; and the hash of its token (for its caller)."""
    request_id, started, seconds, method, path, query, headers, status, cap = raw
    entry = JournalEntry(
        request_id=request_id,
        started=started,
        method=method,
        path=TOKEN.sub(REDACTED, path),
        query=_redacted_query(query),
        status=status,
        duration=seconds,
        user_id=None,
        org_id=None,
        request_headers=_headers(headers),
        request_body=_request_text(cap.request, headers),
        request_size=cap.request_size,
        response_headers=_headers(cap.headers),
        response_body=_answer_text(path, cap.response),
        response_size=cap.response_size,
        server=f"{socket.gethostname()}:{os.getpid()}",
    )
    return entry, _token_hash(headers)
