"""Limits on what a request may be (sizes, encodings), refused with Zoho errors early.

SCAFFOLD (issue 6): pass-through until filled in.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class Limits:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
