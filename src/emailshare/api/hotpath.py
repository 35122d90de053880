"""The hot path: a cached details answer sent before Starlette routes the request.

The first user middleware (inside Starlette's error boundary, inside ``api.observe``, which
gives the answer its request id, counts and logs it): a plain ``GET`` of the details endpoint
whose answer is in the worker's cache (``api.answers.lookup``, the same lookup the handler
makes) is answered here, exactly as the handler would answer it. Anything else (a miss, a
query string, a request a limit refuses, any doubt) goes on to the full path, which answers it.

A lookup that fails unexpectedly is logged (a warning, with the request's id) and counted
(``emailshare_hot_path_errors_total``), and the request goes on to the full path. Failures the
full path answers and reports itself are not: a header with no token (``AUTHENTICATION_FAILURE``)
and the store unavailable (logged and counted as a store error there).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from emailshare.api import answers
from emailshare.api.limits import refusal
from emailshare.api.metrics import METRICS_KEY, Metrics
from emailshare.domain.errors import ZohoError
from emailshare.storage.db import StoreUnavailable

ROUTE_KEY = "emailshare.route"  # scope key: the route template of an answer sent unrouted
log = logging.getLogger("emailshare")

_JSON = (b"content-type", b"application/json;charset=UTF-8")


def _target(scope: Scope) -> tuple[str, str, bytes] | None:
    """Module, record and ``Authorization`` header of a plain ``GET`` of the details endpoint
    that no limit refuses; None for anything else."""
    path: str = scope["path"]
    if scope["query_string"] or scope.get("root_path") or not path.endswith(answers.DETAILS_SUFFIX):
        return None
    parts = path.split("/")
    if len(parts) != 6 or parts[1] != "crm" or parts[2] not in answers.DETAILS_VERSIONS:
        return None
    module, record = parts[3], parts[4]
    if not module or not record or refusal(scope) is not None:
        return None
    for name, value in scope["headers"]:
        if name == b"authorization":
            return module, record, value
    return None


class HotPath:
    """Answers cached details requests unrouted; passes every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = await self.cached(scope)
            if answer is not None:
                status, body = answer
                scope[ROUTE_KEY] = answers.DETAILS_ROUTE
                length = (b"content-length", str(len(body)).encode("ascii"))
                await send(
                    {"type": "http.response.start", "status": status, "headers": [length, _JSON]}
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def cached(self, scope: Scope) -> tuple[int, bytes] | None:
        """The cached (status, body) for this request, or None: the full path answers it."""
        target = _target(scope)
        if target is None:
            return None
        module, record, header = target
        try:
            found = await answers.lookup(
                scope["app"].state, header.decode("latin-1"), module, record
            )
        except (ZohoError, StoreUnavailable):  # the full path answers and reports these
            return None
        except Exception as exc:
            log.warning(
                "hot path lookup failed (%s); the full path answers",
                type(exc).__name__,
                exc_info=exc,
            )
            metrics = scope.get(METRICS_KEY)
            if isinstance(metrics, Metrics):
                metrics.hot_path_errors += 1
            return None
        return found.hit
