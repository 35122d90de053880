"""Reading request bodies without letting their size cost memory."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from emailshare.domain.errors import InvalidData, LimitExceeded

MAX_BODY = 64 * 1024  # a 200-id bulk body is under 5 KiB
MAX_DEPTH = 32


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, refused with ``LIMIT_EXCEEDED`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded({"max_bytes": limit}, "the request body is too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitExceeded({"max_bytes": limit}, "the request body is too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _depth_ok(raw: bytes) -> bool:
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
