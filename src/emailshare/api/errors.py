"""The one place that turns errors into HTTP: Zoho's status for each code, and its envelope.

Three envelopes, one per family of ``domain.errors``: Zoho CRM's ``{"code", "details",
"message", "status"}`` for a :class:`ZohoError`; Zoho Accounts' HTTP 200 ``{"error": code}``
for an :class:`OAuthError` (docs/contract.md §9); ``INTERNAL_ERROR`` for
:class:`StoreUnavailable` and anything unexpected, with no trace, SQL or path.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import wire
from emailshare.domain import errors as e

log = logging.getLogger("emailshare")

STATUS: dict[type[e.ZohoError], int] = {
    e.InvalidUrlPattern: 404,
    e.InvalidRequestMethod: 400,
    e.ApiNotSupported: 400,
    e.AuthenticationFailure: 401,
    e.InvalidToken: 401,
    e.OAuthScopeMismatch: 401,
    e.InvalidModule: 400,
    e.NotSupported: 400,
    e.InvalidData: 400,
    e.NoPermission: 403,
    e.NotAllowed: 400,
    e.AlreadyShared: 400,
    e.NotShared: 400,
    e.DuplicateData: 400,
    e.MandatoryNotFound: 400,
    e.LimitExceeded: 400,
    e.TooManyRequests: 429,
    e.InternalError: 500,
}


def status_of(exc: e.ZohoError) -> int:
    """Zoho's status for the error's code (a subclass, e.g. ``FixtureError``, as its base)."""
    status = STATUS.get(type(exc))
    if status is None:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    return status


def error_body(exc: e.ZohoError) -> tuple[int, bytes]:
    """Zoho's status and body for ``exc``, for an answer kept as bytes (the details cache)."""
    return status_of(exc), wire.error(exc)


def error_response(exc: e.ZohoError, headers: dict[str, str] | None = None) -> Response:
    status, body = error_body(exc)
    return Response(body, status, headers=headers, media_type=wire.CONTENT_TYPE)


def oauth_error_response(exc: e.OAuthError) -> Response:
    """Zoho Accounts answers its token endpoint's errors with HTTP 200 and ``{"error": code}``."""
    return Response(wire.oauth({"error": exc.code}), 200, media_type=wire.CONTENT_TYPE)


async def on_zoho_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.ZohoError)
    return error_response(exc)


async def on_oauth_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.OAuthError)
    return oauth_error_response(exc)


async def on_http_exception(_: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no route) becomes Zoho's ``INVALID_URL_PATTERN``."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(e.InvalidUrlPattern())
    if exc.status_code == 405:
        return error_response(e.InvalidRequestMethod())
    if 400 <= exc.status_code < 500:  # a request Starlette itself could not read
        return error_response(e.InvalidData({}, "the request could not be read"))
    return error_response(e.InternalError())


async def on_unexpected(_: Request, exc: Exception) -> Response:
    """Anything else: ``INTERNAL_ERROR``, logged here without the request's secrets."""
    if isinstance(exc, e.StoreUnavailable):
        log.warning("store unavailable: %s", exc)
    else:
        log.error("unexpected %s", type(exc).__name__, exc_info=exc)
    return error_response(e.InternalError())
