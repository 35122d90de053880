"""Handlers of ``POST /crm/v8/{module}[/{record_id}]/actions/(share|unshare)_emails``."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import body, routes, wire
from emailshare.domain.errors import (
    ApiNotSupported,
    InvalidRequestMethod,
    InvalidUrlPattern,
    LimitExceeded,
    MandatoryNotFound,
)
from emailshare.service import sharing
from emailshare.service.sharing import MAX_BULK_IDS, Action

SHARE_VERSION = "v8"


def _action(request: Request) -> Action:
    """Path shape, method and version, in the contract's order of checks."""
    try:
        action = Action(request.path_params["action"])
    except ValueError:
        raise InvalidUrlPattern() from None
    if request.method != "POST":
        raise InvalidRequestMethod()
    version = request.path_params["version"]
    if version != SHARE_VERSION:
        if version in routes.ALL_VERSIONS:
            raise ApiNotSupported({"supported_version": 8})
        raise InvalidUrlPattern()
    return action


async def share_one(request: Request) -> Response:
    """One record, named in the path; any body is ignored."""
    action = _action(request)
    caller = await routes.caller(request)
    record_id = await sharing.share_one(
        routes.store(request),
        caller,
        request.path_params["module"],
        request.path_params["record_id"],
        action,
    )
    return routes.ok(wire.action_result([sharing.Outcome(record_id, None)], action))


async def share_many(request: Request) -> Response:
    """Up to 200 records from ``{"ids": [...]}``; 200 all done, 207 some, 400 none."""
    action = _action(request)
    caller = await routes.caller(request)
    payload = body.parse_json(await body.read_limited(request))
    ids = payload.get("ids") if isinstance(payload, Mapping) else None
    if not isinstance(ids, list) or not ids:
        raise MandatoryNotFound({"api_name": "ids"})
    if len(ids) > MAX_BULK_IDS:
        raise LimitExceeded(
            {"api_name": "ids", "limit": MAX_BULK_IDS}, "the number of ids exceeds the limit"
        )
    outcomes = await sharing.share_many(
        routes.store(request), caller, request.path_params["module"], ids, action
    )
    failed = [o for o in outcomes if o.error is not None]
    if not failed:
        status = 200
    elif len(failed) < len(outcomes):
        status = 207
    else:
        status = 400
    return routes.ok(wire.action_result(outcomes, action), status)
