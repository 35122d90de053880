"""The observing middleware: request ids, and each answer counted, logged and journalled.

``Observe`` wraps the whole Starlette app, *outside* Starlette's ``ServerErrorMiddleware``
(``api.app.App`` puts it there), so it sees every answer as the client gets it, the
``INTERNAL_ERROR`` that the error boundary sends for an unexpected exception included: that
answer carries the request id, is counted as a 500 and writes its request line like any
other. Handling the exception stays Starlette's and ``api.errors``'s; ``docs/observability.md``
shows the stack.

It runs on every request, so with logging off it does only what it must: take or make a
request id, return it in ``X-Request-Id``, and count the answer (``api.metrics``). Log lines
(``api.logs``) and the journal's captures (``api.journal``) are made only when asked for
(``--log-requests``, an answer of 500 or more, ``--admin-key``).
"""

from __future__ import annotations

import itertools
import os
import re
import time

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emailshare.api import journal, logs
from emailshare.api.hotpath import HotPath
from emailshare.api.logs import ORG_KEY
from emailshare.api.metrics import METRICS_KEY, Metrics
from emailshare.config import Settings

__all__ = ["ORG_KEY", "Observe"]

REQUEST_ID_HEADER = b"x-request-id"
# Letters, digits and ``-_.:``, at most 64: no log injection, and no room for a Zoho token
# (70 characters) should a client send one as its request id.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


_JSON = (b"content-type", b"application/json;charset=UTF-8")


def route_of(scope: Scope) -> str:
    """The route template that answered, or would have: a request refused before routing (a
    limit, a 429) is counted under the route it asked for. Unknown paths are ``unmatched``."""
    route = scope.get("route")
    if route is None:
        for candidate in scope["app"].routes:
            if candidate.matches(scope)[0] is Match.FULL:
                route = candidate
                break
    return str(getattr(route, "path", "unmatched"))


class Observe:
    """Outermost middleware: request id, metrics, and (when on) log lines and the request log.

    ``fast``, when given, may answer a request before anything else runs (the details
    endpoint's cache, ``api.hotpath``); such an answer is observed like any other.
    """

    def __init__(
        self, app: ASGIApp, settings: Settings, fast: HotPath | None = None, reraise: bool = False
    ) -> None:
        self.app = app
        self.reraise = reraise  # an in-process test asked to see crashes (create_app)
        self.fast = fast
        self.log_requests = settings.log_requests
        self.keep = bool(settings.admin_key)  # the journal exists for the admin API only
        self.metrics = Metrics()
        self._prefix = os.urandom(6).hex()  # unique per process; the counter within it
        self._next = itertools.count(1).__next__
        logs.ensure_logging()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                receive = self._watch_shutdown(receive)
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if _REQUEST_ID.fullmatch(value):
                    request_id = value.decode("ascii")
                break
        if request_id is None:
            request_id = f"{self._prefix}{self._next():010x}"
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        # The journal's capture (api.journal): only with the admin API on.
        cap = journal.Capture() if self.keep and journal.journalled(scope) else None
        if self.fast is not None and scope["method"] == "GET":
            answer = await self.fast.answer(scope, request_id, self.metrics)
            if answer is not None:
                status, body = answer
                length = (b"content-length", str(len(body)).encode("ascii"))
                headers = [length, _JSON, header]
                await send({"type": "http.response.start", "status": status, "headers": headers})
                if cap is not None:  # in the journal before the client has the whole answer
                    cap.headers = headers
                    cap.answer(body)
                    journal.remember(scope, request_id, start, status, cap)
                await send({"type": "http.response.body", "body": body})
                self._finish(scope, self.fast.route, request_id, status, start)
                return
        current, reset = logs.begin(request_id)
        scope[METRICS_KEY] = self.metrics
        status = 0  # no answer started yet
        finished = False
        if cap is not None:
            receive = cap.wrap(receive)

        async def sender(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
                if cap is not None:
                    cap.headers = message["headers"]
            else:
                finished = not message.get("more_body", False)
                if cap is not None:
                    cap.answer(message.get("body", b""))
                    if finished:
                        journal.remember(scope, request_id, start, status, cap)
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception:
            # Starlette's error boundary handled it (api.errors logged it, with this request's
            # id) and re-raised it for the server, which would log it a second time, without
            # the id. Its answer went out through ``sender``: stop here. An answer it could not
            # send (one had begun) is left to the server to cut off.
            if not finished:
                self._done(scope, current, status or 500, start, cap)
                raise
            if self.reraise:  # answered 500 already; the test in this process sees the crash
                self._done(scope, current, status, start, cap)
                raise
        finally:
            logs.end(reset)
        self._done(scope, current, status or 500, start, cap)

    def _watch_shutdown(self, receive: Receive) -> Receive:
        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.metrics.close()
            return message

        return watched

    def _done(
        self,
        scope: Scope,
        current: logs.Current,
        status: int,
        start: float,
        cap: journal.Capture | None,
    ) -> None:
        if current.store_error:
            self.metrics.store_errors += 1
        if cap is not None:  # an answer cut off, or none sent: kept all the same
            journal.remember(scope, current.id, start, status, cap)
        self._finish(scope, route_of(scope), current.id, status, start)

    def _finish(self, scope: Scope, route: str, request_id: str, status: int, start: float) -> None:
        seconds = time.perf_counter() - start
        metrics = self.metrics
        if metrics.state is None:
            metrics.state = scope["app"].state
        metrics.record(route, scope["method"], status, seconds)
        if self.log_requests or status >= 500:
            logs.request_line(scope, request_id, status, seconds)
