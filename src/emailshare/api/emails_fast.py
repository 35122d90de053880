"""The emails calls answered before routing: a plain ``GET …/{module}/{record_id}/Emails`` or
``…/Emails/{message_id}``, without a query string, runs the use case the handlers run
(``api.emails``) without Starlette's routing, request and response objects (docs/performance.md,
"Emails list").

A middleware just inside ``api.observe.Observe``, outside Starlette's error boundary (as the
details' hot path, ``api.hotpath``, which Observe asks before it): Observe observes these answers
like any other (request id, metrics under the route that would have answered, ``scope["route"]``
as the router sets it). Its answers are the handlers' byte for byte: the same use cases, the
same wire functions, the same headers. Anything else goes on to Starlette, and so does every
request a limit refuses (``api.limits.refusal``) or whose answer is an error (a Zoho error, the
store unavailable, anything unexpected, which is logged and counted first): the full path
computes it again and answers and reports it as always, so an error costs two runs and never
differs. Off when credits or concurrency limits are on (``api.app.outer_middleware``).
"""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from emailshare.api import emails as handlers
from emailshare.api import wire, wire_emails
from emailshare.api.answers import DETAILS_VERSIONS
from emailshare.api.hotpath import authorization, fell_back
from emailshare.api.limits import refusal
from emailshare.api.metrics import METRICS_KEY
from emailshare.domain.errors import StoreUnavailable, ZohoError
from emailshare.service import emails
from emailshare.service.auth import authenticate

_JSON_HEADER = (b"content-type", wire.CONTENT_TYPE.encode("latin-1"))
_SUFFIX = "Emails"


def target(scope: Scope) -> tuple[str, str, str | None] | None:
    """Module, record and message id (None: the list) of a plain ``GET`` of an emails call
    that the router would send to ``api.emails``; None for anything else."""
    if scope["query_string"] or scope.get("root_path"):
        return None
    parts = scope["path"].split("/")
    n = len(parts)
    if n not in (6, 7) or parts[5] != _SUFFIX or parts[0] or parts[1] != "crm":
        return None
    if parts[2] not in DETAILS_VERSIONS or not parts[3] or not parts[4]:
        return None
    if refusal(scope) is not None:
        return None
    if n == 6:
        # /crm/{version}/{module}/actions/Emails is the bulk actions' route, listed before.
        return None if parts[4] == "actions" else (parts[3], parts[4], None)
    message_id = parts[6]
    return (parts[3], parts[4], message_id) if handlers.MESSAGE_ID.fullmatch(message_id) else None


async def _send(send: Send, status: int, body: bytes) -> None:
    """The answer as Starlette's ``Response`` sends it: a 204 has neither length nor type."""
    headers = []
    if status != 204:
        headers = [(b"content-length", str(len(body)).encode("ascii")), _JSON_HEADER]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EmailsFast:
    """ASGI middleware: the emails calls' plain ``GET`` answered unrouted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: tuple[Route, Route] | None = None

    def _route(self, scope: Scope, one: bool) -> Route:
        if self._routes is None:
            found = {r.path: r for r in scope["app"].routes if isinstance(r, Route)}
            self._routes = (found[handlers.EMAILS_ROUTE], found[handlers.EMAIL_ROUTE])
        return self._routes[one]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            asked = target(scope)
            if asked is not None:
                answer = await self._answer(scope, *asked)
                if answer is not None:
                    scope["route"] = self._route(scope, asked[2] is not None)
                    await _send(send, *answer)
                    return
        await self.app(scope, receive, send)

    async def _answer(
        self, scope: Scope, module: str, record: str, message_id: str | None
    ) -> tuple[int, bytes] | None:
        """(status, body) as the handler answers, or None: the router answers this one."""
        state = scope["app"].state
        try:
            await state.freshness.check()
            header = authorization(scope)
            who = await authenticate(
                state.store,
                None if header is None else header.decode("latin-1"),
                int(state.settings.clock()),
                state.callers,
            )
            if message_id is None:
                found = await emails.list_emails(
                    state.store, state.email_store, who, module, record, {}
                )
                if not found.items:
                    return 204, b""
                return 200, wire_emails.email_list(found, who.org_id)
            opened = await emails.open_email(
                state.store, state.email_store, who, module, record, message_id, {}
            )
            return 200, wire_emails.one_email(opened)
        except (ZohoError, StoreUnavailable):  # the full path answers and reports these
            return None
        except Exception as exc:  # its request id is the log context's (Observe set it)
            fell_back("emails fast path", exc, scope.get(METRICS_KEY), None)
            return None
