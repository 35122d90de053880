"""The admin API under ``/__emailshare/``: off unless an admin key is configured.

It answers as if it did not exist (``INVALID_URL_PATTERN``) when off, and with
``AUTHENTICATION_FAILURE`` when the key is missing or wrong. The key is compared in constant
time and never logged.
"""

from __future__ import annotations

import hmac
import os
from datetime import UTC, datetime
from importlib import resources

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from emailshare.api import body, routes, wire
from emailshare.api.errors import error_body, error_response
from emailshare.config import Settings
from emailshare.domain.errors import (
    AuthenticationFailure,
    InvalidData,
    InvalidRequestMethod,
    InvalidUrlPattern,
    ZohoError,
)
from emailshare.domain.numbers import parse_id
from emailshare.service import admin, explain_emails, explain_layout, mailsync
from emailshare.service import explain as explaining
from emailshare.service.fixtures import limits, write_fixture
from emailshare.service.mailports import MailboxStore

MAX_FIXTURE = limits.DOCUMENT_BYTES.value  # one table of limits: service/fixtures/limits.py
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
    summary = await admin.load_document(routes.store(request), raw, routes.now(request))
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
    await admin.reset(routes.store(request))
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


# --- inspection: state, explain (the requests: api/admin_journal.py) ---------------------


def _param_error(name: str, message: str) -> InvalidData:
    return InvalidData({"param_name": name}, message)


def _id_param(request: Request, name: str) -> int | None:
    """An id from the query string: None when absent, ``INVALID_DATA`` naming it when bad."""
    text = request.query_params.get(name)
    if text is None:
        return None
    value = parse_id(text)
    if value is None:
        raise _param_error(name, f"{name} must be an id (1 to 19 digits)")
    return value


async def state(request: Request) -> Response:
    """``GET /__emailshare/state[?org=ID][&summary=1]``: the store's orgs, as a fixture document.

    With ``summary=1``, only each org's id, name and counts (for choosing one in a large
    store). Never any token or client secret: the store keeps only their hashes anyway.
    """
    _guard(request, "GET")
    org_id = _id_param(request, "org")
    if request.query_params.get("summary") in ("1", "true"):
        summaries = [
            {"id": str(o.id), "name": o.name, "users": o.users, "records": o.records}
            for o in await admin.org_summaries(routes.store(request), org_id)
        ]
        return routes.ok(wire.dumps({"orgs": summaries}))
    orgs = await admin.read_orgs(routes.store(request), org_id)
    return routes.ok(wire.dumps(write_fixture(orgs)))


def _when(epoch: int | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


async def mailboxes(request: Request) -> Response:
    """``GET /__emailshare/mailboxes[?user=ID]``: every mailbox with a real server and its
    sync state (docs/mailboxes.md, "What a failing mailbox looks like"); never a password."""
    _guard(request, "GET")
    user_id = _id_param(request, "user")
    store: MailboxStore = request.app.state.mailbox_store
    found = [
        {
            "org": str(s.org_id),
            "user": str(s.user_id),
            "protocol": s.protocol,
            "address": s.address,
            "server": {
                "host": s.server.host,
                "port": s.server.port,
                "security": s.server.security.value,
                "login": s.server.login,
            },
            "last_sync": _when(s.last_sync_at),
            "emails": s.message_count,
            "last_error": s.last_error,
            "last_error_at": _when(s.last_error_at),
            "failures": s.failures,
            "next_try": _when(s.next_try_at) if s.failures else None,
        }
        for s in await mailsync.mailbox_states(store, user_id)
    ]
    return routes.ok(orjson.dumps({"mailboxes": found}))


async def explain(request: Request) -> Response:
    """``GET /__emailshare/explain?caller=ID&record=ID[&module=M][&org=ID][&type=T]
    [&owner_id=U][&format=text]``.

    For the caller and the record: every check in order, whether the caller may read it and by
    which rule (with each fact), every user of the org in answer order with the rule that puts
    them in or leaves them out, and the exact answer the endpoint gives (status and body),
    all computed by the pure rules from the store's current data; then ``emails``: why each
    email is or is not in the record's Emails list for ``type``/``owner_id``.
    """
    _guard(request, "GET")
    caller_id = _id_param(request, "caller")
    if caller_id is None:
        raise _param_error("caller", "caller is required")
    record_text = request.query_params.get("record")
    if not record_text:
        raise _param_error("record", "record is required")
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "text"):
        raise _param_error("format", "format is json or text")
    org = await admin.caller_org(routes.store(request), caller_id, _id_param(request, "org"))
    exp = explaining.explain(org, caller_id, record_text, request.query_params.get("module"))
    if isinstance(exp.outcome, ZohoError):
        status, answer = error_body(exp.outcome)
    else:
        status, answer = 200, wire.sharing_details(exp.outcome)
    mail = _explain_emails(request, exp)
    if fmt == "text":
        text = explain_layout.as_text(exp, status, answer.decode())
        if mail is not None:
            text += "\n" + explain_emails.as_text(mail)
        return Response(text, media_type="text/plain; charset=utf-8")
    doc = explain_layout.as_document(exp, status, orjson.loads(answer))
    doc["emails"] = explain_emails.as_document(mail) if mail is not None else None
    return routes.ok(wire.dumps(doc))


def _explain_emails(
    request: Request, exp: explaining.Explanation
) -> explain_emails.EmailsExplanation | None:
    """Why each email is or is not in the record's Emails list (``type`` and ``owner_id`` as
    the list takes them); None when the sharing answer is already an error."""
    if isinstance(exp.outcome, ZohoError) or exp.record is None:
        return None
    owner_id = _id_param(request, "owner_id")
    type_ = request.query_params.get("type") or None
    return explain_emails.explain(exp.org, exp.caller, exp.record, type_, owner_id)


# --- the web page ---------------------------------------------------------------------------

UI_PREFIX = "/__emailshare/ui"
_WEB_FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "index.html": ("index.html", "text/html; charset=utf-8"),
    "app.js": ("app.js", "text/javascript; charset=utf-8"),
    "style.css": ("style.css", "text/css; charset=utf-8"),
}
_WEB_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
        " img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def _ui_file(scope: Scope) -> str:
    """The file name under the mount (``/__emailshare/ui/<name>``), or raise a 404."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    rest = path[len(root) :] if root and path.startswith(root) else path
    rest = rest.removeprefix(UI_PREFIX).removeprefix("/")
    if rest not in _WEB_FILES:
        raise InvalidUrlPattern()
    return rest


async def ui(scope: Scope, receive: Receive, send: Send) -> None:
    """The admin web page (static HTML, JS and CSS; no build step) at ``/__emailshare/ui/``.

    The files are served without the key once the admin API is on (they hold no data); the page
    asks for the key and sends it with every call to the data endpoints, which require it.
    """
    response: Response
    try:
        settings: Settings = Request(scope, receive).app.state.settings
        if not settings.admin_key:
            raise InvalidUrlPattern()
        name = _ui_file(scope)
        if scope["method"] not in ("GET", "HEAD"):
            raise InvalidRequestMethod()
        filename, media_type = _WEB_FILES[name]
        content = resources.files("emailshare.api").joinpath("web").joinpath(filename).read_bytes()
        response = Response(content, media_type=media_type, headers=_WEB_HEADERS)
    except ZohoError as exc:
        response = error_response(exc)
    await response(scope, receive, send)


async def ui_redirect(request: Request) -> Response:
    """``/__emailshare/ui`` to ``/__emailshare/ui/``: the page's links are relative to it.

    The ``Location`` is relative too, so that the page works behind a proxy's path prefix.
    """
    settings: Settings = request.app.state.settings
    if not settings.admin_key:
        raise InvalidUrlPattern()
    if request.method not in ("GET", "HEAD"):
        raise InvalidRequestMethod()
    return RedirectResponse("ui/", status_code=308)
