"""The admin API's request journal: ``/__emailshare/requests`` and ``/__emailshare/requests/{id}``.

Guarded like the rest of the admin API (``api/admin.py``): absent without an admin key,
``AUTHENTICATION_FAILURE`` without the right one. The entries come from the store's journal,
which every worker of every instance writes (``service/journal.py``); docs/admin.md has the
parameters and docs/observability.md what is kept and what is redacted.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emailshare.api import admin, routes
from emailshare.api.logs import iso
from emailshare.domain.errors import InvalidUrlPattern
from emailshare.domain.journal import JournalEntry
from emailshare.service.journal import Journal

# A request the explain view can explain: details, the record's emails, a record's share action.
_EXPLAINABLE = re.compile(
    r"/crm/[^/]+/(?P<module>[^/]+)/(?P<record>[^/]+)"
    r"/(?P<kind>__emails_sharing_details|Emails|actions/(?:un)?share_emails)"
)


def _journal(request: Request) -> Journal:
    found: Journal = request.app.state.journal
    return found


def explain_params(e: JournalEntry) -> dict[str, str] | None:
    """The ``/__emailshare/explain`` parameters that explain this request, when it has a
    caller and is one the explain view covers; else None."""
    if e.user_id is None or e.org_id is None:
        return None
    found = _EXPLAINABLE.fullmatch(e.path)
    if found is None:
        return None
    params = {
        "caller": str(e.user_id),
        "org": str(e.org_id),
        "module": found["module"],
        "record": found["record"],
    }
    if found["kind"] == "Emails":
        for name, value in parse_qsl(e.query):
            if name in ("type", "owner_id"):
                params[name] = value
    return params


def entry_doc(e: JournalEntry) -> dict[str, Any]:
    """An entry as the admin API shows it (docs/admin.md); ids are digit strings."""
    return {
        "id": e.request_id,
        "time": iso(e.started),
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "url": e.path + (f"?{e.query}" if e.query else ""),
        "status": e.status,
        "duration_ms": round(e.duration * 1000, 3),
        "user_id": None if e.user_id is None else str(e.user_id),
        "org_id": None if e.org_id is None else str(e.org_id),
        "request_headers": [list(h) for h in e.request_headers],
        "request_body": e.request_body,
        "request_size": e.request_size,
        "response_headers": [list(h) for h in e.response_headers],
        "response_body": e.response_body,
        "response_size": e.response_size,
        "server": e.server,
        "explain": explain_params(e),
    }


async def requests(request: Request) -> Response:
    """``GET /__emailshare/requests?…``: the newest entries matching the filters, oldest
    first. ``DELETE /__emailshare/requests``: clear the journal."""
    admin._guard(request, "DELETE" if request.method == "DELETE" else "GET")
    journal = _journal(request)
    if request.method == "DELETE":
        cleared = await journal.clear()
        return routes.ok(orjson.dumps({"status": "success", "deleted": cleared}))
    found = await journal.entries(request.query_params)
    doc = {
        "requests": [entry_doc(e) for e in found],
        "kept": journal.keep,
        "dropped": journal.dropped,
        "pid": os.getpid(),
    }
    return routes.ok(orjson.dumps(doc))


async def request_entry(request: Request) -> Response:
    """``GET /__emailshare/requests/{request_id}``: one entry (the newest with that id)."""
    admin._guard(request, "GET")
    request_id = request.path_params["request_id"]
    found = await _journal(request).entry(request_id)
    if found is None:
        raise InvalidUrlPattern({"id": request_id}, "no request with this id in the journal")
    return routes.ok(orjson.dumps(entry_doc(found)))
