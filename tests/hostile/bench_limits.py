"""Micro-benchmark of api.limits on the hot path (not a test: no timing is asserted anywhere).

    .venv/bin/python -m tests.hostile.bench_limits

Prints the cost of ``refusal(scope)`` for a typical request, and of a request through the
``Limits`` middleware against the same trivial app without it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.types import Message, Receive, Scope, Send

from emailshare.api.limits import Limits, refusal

TOKEN = b"Zoho-oauthtoken 1000.0000000000000000000000000000a001.00000000000000000000000000000001"
PATH = "/crm/v8/Accounts/3652397000001790004/__emails_sharing_details"


def typical_scope(path: str = PATH, query: bytes = b"") -> Scope:
    """What granian hands over for a request of an official SDK."""
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", TOKEN),
            (b"user-agent", b"Zoho Python SDK/8.0"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"connection", b"keep-alive"),
        ],
    }


def per_call_ns(fn: Callable[[], object], n: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / n)
    return best


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    return None


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


def per_request_ns(app: Callable[[Scope, Receive, Send], object], scope: Scope, n: int) -> float:
    async def run() -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter_ns()
            for _ in range(n):
                await app(scope, _receive, _send)  # type: ignore[misc]
            best = min(best, (time.perf_counter_ns() - start) / n)
        return best

    return asyncio.run(run())


def main() -> None:
    n = 200_000
    scope = typical_scope()
    print(f"refusal(typical scope):            {per_call_ns(lambda: refusal(scope), n):7.0f} ns")
    escaped = typical_scope("/crm/v8/L%C3%A9ads/3652397000001790004/__emails_sharing_details")
    print(f"refusal(path with an escape):      {per_call_ns(lambda: refusal(escaped), n):7.0f} ns")
    users = typical_scope("/crm/v8/users", b"type=CurrentUser&")
    print(f"refusal(users?type=CurrentUser&):  {per_call_ns(lambda: refusal(users), n):7.0f} ns")
    bare = per_request_ns(_app, scope, n)
    wrapped = per_request_ns(Limits(_app), scope, n)
    print(f"trivial ASGI app:                  {bare:7.0f} ns/request")
    print(f"the same behind Limits:            {wrapped:7.0f} ns/request (+{wrapped - bare:.0f})")


if __name__ == "__main__":
    main()
