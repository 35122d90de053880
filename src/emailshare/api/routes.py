"""Handlers: parse the request, call one use case, serialise. No rule lives here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import answers, wire
from emailshare.api.answers import DETAILS_ROUTE as DETAILS_ROUTE  # the route's home is there
from emailshare.api.answers import DETAILS_VERSIONS
from emailshare.config import Settings
from emailshare.domain.errors import (
    ApiNotSupported,
    InvalidRequestMethod,
    InvalidUrlPattern,
)
from emailshare.service import admin, directory
from emailshare.service.auth import Caller, authenticate
from emailshare.service.ports import Store

OLD_VERSIONS = frozenset({"v2", "v2.1", "v3"})
ALL_VERSIONS = DETAILS_VERSIONS | OLD_VERSIONS


def ok(body: bytes, status: int = 200) -> Response:
    return Response(body, status, media_type=wire.CONTENT_TYPE)


def store(request: Request) -> Store:
    """The app's store, as the services' ports (built by ``emailshare.bootstrap``)."""
    found: Store = request.app.state.store
    return found


def now(request: Request) -> int:
    """Seconds since the epoch, by the settings' clock."""
    settings: Settings = request.app.state.settings
    return int(settings.clock())


def require_version(version: str) -> None:
    """Check 3 of docs/contract.md §3 for the record endpoints (details, emails): v4 to v8."""
    if version not in DETAILS_VERSIONS:
        if version in OLD_VERSIONS:
            raise ApiNotSupported({"supported_version": 4})
        raise InvalidUrlPattern()


def require_get(request: Request) -> None:
    """Check 2 of docs/contract.md §3: the method, after the path's shape."""
    _require_get(request)


def _require_get(request: Request) -> None:
    if request.method != "GET":
        raise InvalidRequestMethod()


async def caller(request: Request) -> Caller:
    """The authenticated caller of this request (check 4 of docs/contract.md §3)."""
    state = request.app.state
    await state.freshness.check()
    return await authenticate(
        store(request), request.headers.get("authorization"), now(request), state.callers
    )


async def sharing_details(request: Request) -> Response:
    """``GET /crm/{version}/{module}/{record_id}/__emails_sharing_details``."""
    _require_get(request)
    require_version(request.path_params["version"])
    state = request.app.state
    module, record = request.path_params["module"], request.path_params["record_id"]
    asked = await answers.lookup(state, request.headers.get("authorization"), module, record)
    status, body = asked.hit or await answers.compute(state, asked, module, record)
    return ok(body, status)


def _any_version(request: Request) -> None:
    if request.path_params["version"] not in ALL_VERSIONS:
        raise InvalidUrlPattern()


async def users(request: Request) -> Response:
    """``GET /crm/{v}/users?type=…&page=…&per_page=…``: the SDKs ask ``CurrentUser`` on a
    token's first use."""
    _require_get(request)
    _any_version(request)
    who = await caller(request)
    query = request.query_params
    found = await directory.list_users(
        store(request),
        who,
        query.get("type", "AllUsers"),
        query.get("page"),
        query.get("per_page"),
    )
    items = [wire.user(info, who.org_id) for info in found.users]
    return ok(wire.users(items, page=found.page, per_page=found.per_page, more=found.more))


async def org(request: Request) -> Response:
    """``GET /crm/{v}/org``: the caller's org, as Zoho's Org API shows it."""
    _require_get(request)
    _any_version(request)
    found = await directory.org_of(store(request), await caller(request))
    return ok(wire.org(found.id, found.name, found.primary_email))


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    _require_get(request)
    return ok(b'{"status":"ok"}')


async def readyz(request: Request) -> Response:
    """Readiness: the store answers a query."""
    _require_get(request)
    await admin.ready(store(request))
    return ok(b'{"status":"ready"}')
