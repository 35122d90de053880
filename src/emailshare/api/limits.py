"""Limits on what a request may be (sizes, encodings), refused with Zoho errors early.

Runs on every request before routing, so the common case costs a few length comparisons and
two byte scans done in C (``b"%" in``, ``isascii``); the decoding checks run only for a path
or query string that holds a percent escape or a non-ASCII byte. Bodies are bounded where
they are read (``api.body``). The decisions are documented in ``docs/reliability.md``.

What granian refuses itself, before any of this runs (a request line that is not HTTP, a
target that is not UTF-8, control bytes in a header, more than 100 headers, a head over its
buffer) is documented there too.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from emailshare.api.errors import error_response
from emailshare.domain.errors import InvalidData, InvalidUrlPattern, LimitExceeded, ZohoError

MAX_PATH = 2 * 1024  # bytes of the path as sent (percent escapes undecoded)
MAX_QUERY = 4 * 1024  # bytes of the query string as sent
MAX_HEADER = 8 * 1024  # bytes of one header, name and value
MAX_HEADERS = 32 * 1024  # bytes of all headers, names and values

# Characters no path or query value of the API holds: controls, and U+FFFD, which the server
# puts where a percent escape did not decode as UTF-8.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f\ufffd]")


def path_too_long() -> LimitExceeded:
    return LimitExceeded({"max_bytes": MAX_PATH}, "the request URL is too long")


def query_too_long() -> LimitExceeded:
    return LimitExceeded({"max_bytes": MAX_QUERY}, "the query string is too long")


def header_too_large() -> LimitExceeded:
    return LimitExceeded({"max_bytes": MAX_HEADER}, "a request header is too large")


def headers_too_large() -> LimitExceeded:
    return LimitExceeded({"max_bytes": MAX_HEADERS}, "the request headers are too large")


def query_not_text() -> InvalidData:
    return InvalidData({}, "the query string is not valid UTF-8 text")


def _query_is_text(query: bytes) -> bool:
    try:
        text = unquote_to_bytes(query).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _NOT_TEXT.search(text) is None


def refusal(scope: Scope) -> ZohoError | None:
    """The error that refuses this HTTP request outright, or None to let it through."""
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is None:  # optional in ASGI: measure the decoded path, and look into it
        raw_path = scope["path"].encode("utf-8", "surrogatepass")
        escaped = True
    else:
        escaped = b"%" in raw_path or not raw_path.isascii()
    if len(raw_path) > MAX_PATH:
        return path_too_long()
    query: bytes = scope["query_string"]
    if len(query) > MAX_QUERY:
        return query_too_long()
    total = 0
    for name, value in scope["headers"]:
        total += len(name) + len(value)
    # Only past MAX_HEADER in all can one header be over its own limit: look closer then.
    if total > MAX_HEADER and (error := _headers_refusal(scope["headers"], total)):
        return error
    # No name of the API holds a control character or an undecodable escape: such a path
    # names nothing, like any other unknown path.
    if escaped and _NOT_TEXT.search(scope["path"]):
        return InvalidUrlPattern()
    if (b"%" in query or not query.isascii()) and not _query_is_text(query):
        return query_not_text()
    return None


def _headers_refusal(headers: list[tuple[bytes, bytes]], total: int) -> ZohoError | None:
    if any(len(name) + len(value) > MAX_HEADER for name, value in headers):
        return header_too_large()
    if total > MAX_HEADERS:
        return headers_too_large()
    return None


class Limits:
    """ASGI middleware: a request over a limit gets its Zoho error before any routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (error := refusal(scope)) is not None:
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
