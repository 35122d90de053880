"""Observability: request ids, structured JSON logs, Prometheus metrics, the request log.

SCAFFOLD (issue 7): pass-through until filled in.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from emailshare.config import Settings
from emailshare.domain.errors import InvalidUrlPattern


class Observe:
    """Outermost middleware."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def metrics(request: Request) -> Response:
    """``GET /metrics`` in Prometheus' text format."""
    raise InvalidUrlPattern()
