"""Reading request bodies without letting their size cost memory."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from emailshare.domain.errors import InvalidData, LimitExceeded
from emailshare.domain.numbers import parse_int

MAX_BODY = 64 * 1024  # a 200-id bulk body is under 5 KiB
MAX_DEPTH = 32


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, refused with ``LIMIT_EXCEEDED`` as soon as it passes ``limit`` bytes.

    The body is kept on the request, so that ``request.form()`` or ``request.body()`` read it
    again afterwards instead of failing on a consumed stream. A body that breaks off (a
    malformed chunk, fewer bytes than declared) is ``INVALID_DATA``, not a server error.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (parse_int(declared) or 0) > limit:
        raise LimitExceeded({"max_bytes": limit}, "the request body is too large")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise LimitExceeded({"max_bytes": limit}, "the request body is too large")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidData({}, "the request body could not be read") from None
    data = b"".join(chunks)
    request._body = data  # Starlette's own cache of the body
    return data


def _depth_ok(raw: bytes) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return True  # cannot nest deeper than it has brackets (counted in C, not byte by byte)
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def parse_json(raw: bytes) -> Any:
    """Strict JSON (UTF-8, no NaN), nesting bounded before parsing; else ``INVALID_DATA``."""
    if not _depth_ok(raw):
        raise InvalidData({}, "the request body is nested too deeply")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidData({}, "the request body is not valid JSON") from None
