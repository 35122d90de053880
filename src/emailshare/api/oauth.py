"""Handlers of Zoho Accounts' ``/oauth/v2/token`` and ``/oauth/v2/token/revoke``."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import body, routes, wire
from emailshare.config import Settings
from emailshare.domain.errors import InvalidClient, InvalidRequestMethod
from emailshare.domain.numbers import parse_int
from emailshare.service import oauth

MAX_FIELDS = 32


async def _params(request: Request) -> dict[str, str] | None:
    """Query and form fields (form wins); None for a JSON body, which Zoho refuses, and for a
    body that is not a readable form (both answer ``invalid_client``)."""
    if request.method != "POST":
        raise InvalidRequestMethod()
    params = dict(request.query_params)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        return None
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        declared = request.headers.get("content-length")
        if declared is None or parse_int(declared, 0, body.MAX_BODY) is None:
            await body.read_limited(request)  # refuses an oversized or unbounded body
        try:
            async with request.form(
                max_files=0, max_fields=MAX_FIELDS, max_part_size=8 * 1024
            ) as form:
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        except (HTTPException, MultiPartException, ValueError):
            return None  # not a form Zoho could read: as Zoho, the client is not recognised
    if any("\x00" in k or "\x00" in v for k, v in params.items()):
        return None  # no client id, secret, code or scope holds a NUL
    return params


def _api_domain(request: Request) -> str:
    """``serve --public-url`` when given, else the address this connection reached the server
    on (the ASGI ``server`` and ``scheme``, what the socket says). Never the ``Host`` header:
    a client could name any host there, and the SDKs send their next calls, and the token,
    to the ``api_domain`` they are given (docs/reliability.md "Trust")."""
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url
    scheme = request.scope.get("scheme", "http")
    host, port = request.scope.get("server") or ("127.0.0.1", None)
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


async def token(request: Request) -> Response:
    """Exchange a grant code, refresh token or client credentials for an access token.

    Errors are raised (``domain.errors.OAuthError``); ``api/errors.py`` writes their body."""
    params = await _params(request)
    if params is None:
        raise InvalidClient()
    issued = await oauth.exchange(routes.store(request), params, routes.now(request))
    answer: dict[str, object] = {"access_token": issued.access_token}
    if issued.refresh_token is not None:
        answer["refresh_token"] = issued.refresh_token
    answer.update(
        scope=issued.scope,
        api_domain=_api_domain(request),
        token_type="Bearer",
        expires_in=issued.expires_in,
    )
    return routes.ok(wire.oauth(answer))


async def revoke(request: Request) -> Response:
    """Revoke a refresh token and every access token made from it."""
    params = await _params(request) or dict(request.query_params)
    await oauth.revoke(routes.store(request), params.get("token", ""))
    return routes.ok(wire.oauth({"status": "success"}))
