"""Handlers: parse the request, call one use case, serialise. No rule lives here."""

from __future__ import annotations

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from emailshare.api import wire
from emailshare.api.errors import status_of
from emailshare.api.limits import refusal
from emailshare.config import Settings
from emailshare.domain import scopes as scope_rules
from emailshare.domain.errors import (
    ApiNotSupported,
    InvalidData,
    InvalidRequestMethod,
    InvalidUrlPattern,
    ZohoError,
)
from emailshare.service import details
from emailshare.service.auth import Caller, authenticate, authenticate_token, bearer_token
from emailshare.service.tokens import token_hash
from emailshare.storage.repo import Store

DETAILS_ROUTE = "/crm/{version}/{module}/{record_id}/__emails_sharing_details"
DETAILS_VERSIONS = frozenset({"v4", "v5", "v6", "v7", "v8"})
OLD_VERSIONS = frozenset({"v2", "v2.1", "v3"})
ALL_VERSIONS = DETAILS_VERSIONS | OLD_VERSIONS


def ok(body: bytes, status: int = 200) -> Response:
    return Response(body, status, media_type=wire.CONTENT_TYPE)


def store(request: Request) -> Store:
    """The app's repository (opened in the lifespan)."""
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


async def cached_details(scope: Scope) -> tuple[int, bytes] | None:
    """The cached answer (status, body) to a plain ``GET`` of the details endpoint, or None.

    The hot path of the whole service: called by ``api.observe`` before Starlette routes the
    request, it answers from the per-worker answer cache exactly what :func:`sharing_details`
    would, and leaves anything else (a miss, a query string, a limit, any doubt) to it.
    """
    path: str = scope["path"]
    if scope["query_string"] or scope.get("root_path") or not path.endswith(_SUFFIX):
        return None
    parts = path.split("/")
    if len(parts) != 6 or parts[1] != "crm" or parts[2] not in DETAILS_VERSIONS:
        return None
    module, record = parts[3], parts[4]
    if not module or not record or refusal(scope) is not None:
        return None
    header = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            header = value
            break
    if header is None:
        return None
    state = scope["app"].state
    try:
        token = bearer_token(header.decode("latin-1"))
        await state.freshness.check()
        return from_cache(state, (token_hash(token), module, record), int(state.settings.clock()))
    except Exception:  # a bad header, the store down, no store yet: the full path answers
        return None


AnswerKey = tuple[str, str, str]  # token hash, module and record as written


def from_cache(state: State, key: AnswerKey, now: int) -> tuple[int, bytes] | None:
    """The cached (status, body) for ``key`` while its token lives, counted as a hit."""
    hit = state.answers.get(key)
    if hit is None or hit[0] <= now:
        return None
    state.freshness.hits += 1
    return hit[1], hit[2]


_SUFFIX = "/__emails_sharing_details"


async def sharing_details(request: Request) -> Response:
    """``GET /crm/{version}/{module}/{record_id}/__emails_sharing_details``."""
    _require_get(request)
    require_version(request.path_params["version"])
    # The answer depends only on the token, the module and record as written, and the store:
    # reuse it while the store has not changed at all (service.cache) and the token lives.
    state = request.app.state
    epoch = await state.freshness.check()
    token = bearer_token(request.headers.get("authorization"))
    hashed = token_hash(token)
    module, record = request.path_params["module"], request.path_params["record_id"]
    key = (hashed, module, record)
    t = now(request)
    hit = from_cache(state, key, t)
    if hit is not None:
        return ok(hit[1], hit[0])
    state.freshness.misses += 1
    who = await authenticate_token(store(request), token, hashed, t, state.callers)
    try:
        result = await details.sharing_details(
            store(request), who, module, record, state.public_sharers.get
        )
        status, body = 200, wire.sharing_details(result)
    except ZohoError as exc:
        status, body = status_of(exc), wire.error(exc)
    if state.freshness.epoch == epoch:  # nothing changed while computing
        # Kept as an exact-size copy: orjson's own buffer holds twice the bytes or more.
        state.answers.put(key, (who.expires_at, status, memoryview(body).tobytes()))
    return ok(body, status)


def _any_version(request: Request) -> None:
    if request.path_params["version"] not in ALL_VERSIONS:
        raise InvalidUrlPattern()


async def users(request: Request) -> Response:
    """``GET /crm/{v}/users?type=CurrentUser``: what the SDKs ask on a token's first use."""
    _require_get(request)
    _any_version(request)
    who = await caller(request)
    scope_rules.require_users_read(who.scopes)
    db = store(request)
    kind = request.query_params.get("type", "AllUsers")
    if kind == "CurrentUser":
        ids = [who.user_id]
    elif kind in ("AllUsers", "ActiveUsers"):
        ids = await db.org_user_ids(who.org_id)
    else:
        raise InvalidData({"param_name": "type"}, "invalid data")
    infos = [info for uid in ids[:200] if (info := await db.user_info(who.org_id, uid))]
    if kind == "ActiveUsers":
        infos = [i for i in infos if i.status == "active"]
    items = [wire.user(info, who.org_id) for info in infos]
    return ok(wire.users(items, page=1, per_page=200, more=len(ids) > 200))


async def org(request: Request) -> Response:
    """``GET /crm/{v}/org``: the caller's org, as Zoho's Org API shows it."""
    _require_get(request)
    _any_version(request)
    who = await caller(request)
    scope_rules.require_org_read(who.scopes)
    db = store(request)
    name = await db.org_name(who.org_id) or ""
    me = await db.user_info(who.org_id, who.user_id)
    return ok(wire.org(who.org_id, name, me.email if me else None))


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    _require_get(request)
    return ok(b'{"status":"ok"}')


async def readyz(request: Request) -> Response:
    """Readiness: the store answers a query."""
    _require_get(request)
    await store(request).org_name(0)
    return ok(b'{"status":"ready"}')
