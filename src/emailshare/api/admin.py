"""The admin API under ``/__emailshare/``: off unless an admin key is configured.

It answers as if it did not exist (``INVALID_URL_PATTERN``) when off, and with
``AUTHENTICATION_FAILURE`` when the key is missing or wrong. The key is compared in constant
time and never logged.
"""

from __future__ import annotations

import hmac
import os
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emailshare.api import body, routes, wire
from emailshare.api.errors import error_response
from emailshare.config import Settings
from emailshare.domain.errors import (
    AuthenticationFailure,
    FixtureError,
    InvalidData,
    InvalidRequestMethod,
    InvalidUrlPattern,
)
from emailshare.service import admin
from emailshare.service.fixtures import parse_fixture, parse_text

MAX_FIXTURE = 16 * 1024 * 1024
HEADER = "x-emailshare-admin-key"


def _guard(request: Request, method: str) -> None:
    settings: Settings = request.app.state.settings
    if not settings.admin_key:
        raise InvalidUrlPattern()
    given = request.headers.get(HEADER, "")
    if not hmac.compare_digest(given.encode(), settings.admin_key.encode()):
        raise AuthenticationFailure()
    if request.method != method:
        raise InvalidRequestMethod()


async def load(request: Request) -> Response:
    """``POST /__emailshare/load``: a fixture document (JSON or YAML), all or nothing."""
    _guard(request, "POST")
    raw = await body.read_limited(request, MAX_FIXTURE)
    try:
        text = raw.decode("utf-8")
        orgs = parse_fixture(parse_text(text))
    except (UnicodeDecodeError, FixtureError) as exc:
        raise InvalidData({"reason": str(exc)[:500]}, "the fixture is invalid") from None
    await routes.store(request).replace_orgs(orgs, int(time.time()))
    summary = admin.summarise(orgs)
    return routes.ok(
        wire.dumps(
            {
                "status": "success",
                "orgs": summary.orgs,
                "users": summary.users,
                "records": summary.records,
                "tokens": summary.tokens,
            }
        )
    )


async def reset(request: Request) -> Response:
    """``POST /__emailshare/reset``: delete every org and everything in it."""
    _guard(request, "POST")
    await routes.store(request).delete_everything()
    return routes.ok(wire.dumps({"status": "success"}))


async def stats(request: Request) -> Response:
    """``GET /__emailshare/stats``: this worker's cache figures (for benchmarks)."""
    _guard(request, "GET")
    state = request.app.state
    fresh = state.freshness
    total = fresh.hits + fresh.misses
    return routes.ok(
        wire.dumps(
            {
                "pid": os.getpid(),
                "cache_hits": fresh.hits,
                "cache_misses": fresh.misses,
                "cache_hit_rate": round(fresh.hits / total, 4) if total else None,
                "cache_epoch": fresh.epoch,
                "answers_cached": len(state.answers),
                "callers_cached": len(state.callers),
            }
        )
    )


# --- SCAFFOLD (issue 7): filled in by the admin/explain/web work -------------------------


async def state(request: Request) -> Response:
    """``GET /__emailshare/state``: a dump of the store (orgs, users, records, shares)."""
    _guard(request, "GET")
    raise InvalidUrlPattern()


async def requests(request: Request) -> Response:
    """``GET /__emailshare/requests?limit=N``: the last N requests with their answers."""
    _guard(request, "GET")
    raise InvalidUrlPattern()


async def explain(request: Request) -> Response:
    """``GET /__emailshare/explain?caller=…&module=…&record=…``: why, rule by rule."""
    _guard(request, "GET")
    raise InvalidUrlPattern()


async def ui(scope: Scope, receive: Receive, send: Send) -> None:
    """The admin web page (static HTML + JS, no build step)."""
    response = error_response(InvalidUrlPattern())
    await response(scope, receive, send)
