"""Zoho's API limits, emulated: credits per org per rolling 24 h, concurrent requests per org.

SCAFFOLD (issue 6): pass-through until filled in. Only installed when a limit is configured.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from emailshare.config import Settings


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
