"""The hot path: a details answer, cached or computed, sent before Starlette routes the request.

A plain helper, not a middleware: ``api.observe.Observe`` asks it first, once it has the
request's id and before anything else runs (as a middleware inside Starlette's error boundary
it cost ~2 µs more per answer, and Starlette's routing, request and response objects ~30 µs
more per computed answer, docs/performance.md). A plain ``GET`` of the details endpoint is
answered from the worker's cache (``api.answers.lookup``) or computed (``api.answers.compute``):
the same two functions the handler calls, so the answer is the handler's byte for byte, and
``Observe`` sends, counts and logs it like any answer. Anything else (a query string, a request
a limit refuses, a token that is not live, any doubt) goes on to the full path, which answers
it.

A lookup that fails unexpectedly is logged (a warning, with the request's id) and counted
(``emailshare_hot_path_errors_total``), and the request goes on to the full path. Failures the
full path answers and reports itself are not: a header with no token (``AUTHENTICATION_FAILURE``),
a token that is not live (``INVALID_TOKEN``) and the store unavailable (logged and counted as a
store error there).
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from emailshare.api import answers
from emailshare.api.limits import refusal
from emailshare.api.metrics import Metrics
from emailshare.domain.errors import StoreUnavailable, ZohoError

log = logging.getLogger("emailshare")


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
    header = authorization(scope)
    return None if header is None else (module, record, header)


def authorization(scope: Scope) -> bytes | None:
    """The request's first ``Authorization`` header, as Starlette's headers read it."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value)
    return None


def fell_back(what: str, exc: Exception, metrics: Metrics | None, request_id: str | None) -> None:
    """Report a fast path's unexpected failure (a warning with its trace, one more
    ``emailshare_hot_path_errors_total``) before the full path answers the request."""
    extra = {} if request_id is None else {"request_id": request_id}
    log.warning(
        "%s failed (%s); the full path answers", what, type(exc).__name__, exc_info=exc, extra=extra
    )
    if metrics is not None:
        metrics.hot_path_errors += 1


class HotPath:
    """Details answers, for :class:`~emailshare.api.observe.Observe` to send."""

    route = answers.DETAILS_ROUTE  # what its answers are counted under

    async def answer(
        self, scope: Scope, request_id: str, metrics: Metrics
    ) -> tuple[int, bytes] | None:
        """The (status, body) for this request, cached or computed, or None: the full path
        answers it."""
        try:
            target = _target(scope)
            if target is None:
                return None
            module, record, header = target
            state = scope["app"].state
            found = await answers.lookup(state, header.decode("latin-1"), module, record)
            if found.hit is not None:
                return found.hit
            return await answers.compute(state, found, module, record)
        except (ZohoError, StoreUnavailable):  # the full path answers and reports these
            return None
        except Exception as exc:
            fell_back("hot path lookup", exc, metrics, request_id)
            return None
