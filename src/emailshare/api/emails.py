"""Handlers of the emails of a record (docs/contract.md §12): parse, call one use case,
serialise. No rule lives here."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import routes, wire_emails
from emailshare.domain.errors import InvalidUrlPattern
from emailshare.service import emails
from emailshare.service.auth import Caller
from emailshare.service.emails import EmailSources

EMAILS_ROUTE = "/crm/{version}/{module}/{record_id}/Emails"
EMAIL_ROUTE = "/crm/{version}/{module}/{record_id}/Emails/{message_id}"
MESSAGE_ID = re.compile(r"[A-Za-z0-9]{1,200}")


def email_store(request: Request) -> EmailSources:
    found: EmailSources = request.app.state.email_store
    return found


async def _asked(request: Request) -> tuple[Caller, dict[str, list[str]]]:
    """What both handlers check and parse, in the contract's order (docs/contract.md §3): the
    method, the version, the caller; then the query's parameters, every value of each."""
    routes.require_get(request)
    routes.require_version(request.path_params["version"])
    who = await routes.caller(request)
    return who, {k: request.query_params.getlist(k) for k in request.query_params}


async def list_emails(request: Request) -> Response:
    """``GET /crm/{version}/{module}/{record_id}/Emails``; 204 with no body when empty."""
    who, params = await _asked(request)
    answer = await emails.list_emails(
        routes.store(request),
        email_store(request),
        who,
        request.path_params["module"],
        request.path_params["record_id"],
        params,
    )
    if not answer.items:
        return Response(status_code=204)
    return routes.ok(wire_emails.email_list(answer, who.org_id))


async def open_email(request: Request) -> Response:
    """``GET /crm/{version}/{module}/{record_id}/Emails/{message_id}``."""
    message_id = request.path_params["message_id"]
    if not MESSAGE_ID.fullmatch(message_id):  # part of the path's shape (check 1)
        raise InvalidUrlPattern()
    who, params = await _asked(request)
    opened = await emails.open_email(
        routes.store(request),
        email_store(request),
        who,
        request.path_params["module"],
        request.path_params["record_id"],
        message_id,
        params,
    )
    return routes.ok(wire_emails.one_email(opened))
