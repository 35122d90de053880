"""Zoho's API limits, emulated: credits per org per rolling 24 h, concurrent requests per org.

Installed by ``app.middleware()`` only when a limit is configured (``--credits-per-day``,
``--max-concurrent``), so it costs nothing otherwise. Counts live in the store (through
``service.limits``), shared by every worker of every instance. What costs a credit, what
Zoho answers and why the concurrency count is store-backed: ``docs/limits.md``.
"""

from __future__ import annotations

import logging
import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emailshare.api.errors import error_response
from emailshare.api.observe import ORG_KEY
from emailshare.config import Settings
from emailshare.domain.errors import StoreUnavailable, TooManyRequests, ZohoError
from emailshare.service import limits
from emailshare.service.auth import authenticate

log = logging.getLogger("emailshare.ratelimit")

CREDITS_HEADER = b"x-api-credits-remaining"
CHARGED_PREFIX = "/crm/"  # Zoho CRM's API; OAuth, health, metrics and admin cost nothing


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            text: str = value.decode("latin-1")
            return text
    return None


class RateLimit:
    """ASGI middleware: charge the caller's org, refuse with 429 ``TOO_MANY_REQUESTS``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.policy = limits.LimitPolicy(settings.credits_per_day, settings.max_concurrent)
        self.concurrent = settings.max_concurrent
        self.clock = settings.clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CHARGED_PREFIX):
            await self.app(scope, receive, send)
            return
        header = _authorization(scope)
        if header is None:  # unauthenticated: the handler answers 401, nothing is charged
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        now = int(self.clock())
        slot = os.urandom(9).hex() if self.concurrent else None
        try:
            await state.freshness.check()
            caller = await authenticate(state.store, header, now, state.callers)
            org_id = caller.org_id
            scope[ORG_KEY] = org_id
            admission = await limits.admit(state.store, self.policy, org_id, now, slot)
        except ZohoError:  # a bad token: the handler answers it, nothing is charged
            await self.app(scope, receive, send)
            return
        except StoreUnavailable as exc:
            # The limits are an emulation, not a protection: let the request through, where
            # the handler meets the same outage and answers INTERNAL_ERROR.
            log.warning("limits not counted, store unavailable: %s", exc)
            await self.app(scope, receive, send)
            return
        extra: list[tuple[bytes, bytes]] = []
        shown = limits.credits_shown(self.policy, admission)
        if shown is not None:
            extra.append((CREDITS_HEADER, str(shown).encode()))
        if not admission.admitted:
            headers = {k.decode(): v.decode() for k, v in extra}
            headers["Retry-After"] = str(admission.retry_after or 1)
            await error_response(TooManyRequests(), headers)(scope, receive, send)
            return
        try:
            if extra:
                await self.app(scope, receive, _with_headers(send, extra))
            else:
                await self.app(scope, receive, send)
        finally:
            if slot is not None:
                try:
                    await limits.release(state.store, org_id, slot)
                except StoreUnavailable as exc:  # the lease frees the slot soon enough
                    log.warning("slot not released, store unavailable: %s", exc)


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return sender
