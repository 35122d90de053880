"""Drive the official Python SDK's ``EmailRelatedRecordsOperations`` against an emailshare server
(docs/contract.md §12) and print what it parsed, as one JSON line on stdout.

Run INSIDE an SDK virtualenv (``.venvs/sdk7/bin/python`` or ``.venvs/sdk8/bin/python``); it
imports nothing from emailshare or pytest, and initialises the SDK as ``sdk_py_probe.py`` does
(its ``sdk`` and ``jsonable`` helpers are reused by path)::

    python sdk_py_emails_probe.py --url URL --token TOKEN --module Leads --record-id ID \
        [--type T] [--owner-id ID] [--index I] [--all] [--message MESSAGE_ID]

Without ``--message``: ``get_emails_related_records`` (one page from ``--index``, or with
``--all`` every page, following ``info.get_next_index()`` through
``GetEmailsRelatedRecordsParam.index``); with it: ``get_emails_related_record``. Output:

* list: ``{"ok": true, "pages": [{"http_status", "emails": [...], "info": {...}} | {"http_status":
  204, "empty": true}]}``; one email: ``{"ok": true, "http_status", "emails": [...]}``;
* API error: ``{"ok": false, "kind": "api_exception", "code", "message", "details", "status",
  "http_status"}``; anything else: ``kind`` ``no_response``/``sdk_exception``.

Each value is what the SDK's getter returns, made JSON: ``Long`` ids as ints (``{"int": n}``,
so a test sees the type), ``DateTime`` as ``{"datetime": isoformat()}``, Choices by value.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

_SPEC = importlib.util.spec_from_file_location(
    "sdk_py_probe", Path(__file__).with_name("sdk_py_probe.py")
)
assert _SPEC is not None
assert _SPEC.loader is not None
base = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(base)


def value(v: Any) -> Any:
    """A getter's value as JSON that keeps its Python type visible."""
    if isinstance(v, bool) or v is None or isinstance(v, str | float):
        return v
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return base.jsonable(v)


def party(p: Any) -> Any:
    return None if p is None else {"user_name": p.get_user_name(), "email": p.get_email()}


def email(e: Any) -> dict[str, Any]:
    owner = e.get_owner()
    linked = e.get_linked_record()
    module = linked.get_module() if linked is not None else None
    attachments = e.get_attachments()
    return {
        "message_id": e.get_message_id(),
        "subject": e.get_subject(),
        "time": value(e.get_time()),
        "sent_time": value(e.get_sent_time()),
        "owner": None if owner is None else {"id": value(owner.get_id()), "name": owner.get_name()},
        "from": party(e.get_from()),
        "to": None if e.get_to() is None else [party(p) for p in e.get_to()],
        "cc": None if e.get_cc() is None else [party(p) for p in e.get_cc()],
        "reply_to": party(e.get_reply_to()),
        "status": [{"type": s.get_type()} for s in e.get_status() or []],
        "sent": e.get_sent(),
        "read": e.get_read(),
        "has_attachment": e.get_has_attachment(),
        "has_thread_attachment": e.get_has_thread_attachment(),
        "editable": e.get_editable(),
        "source": e.get_source(),
        "linked_record": None
        if linked is None
        else {
            "id": value(linked.get_id()),
            "name": linked.get_name(),
            "module": None
            if module is None
            else {"api_name": module.get_api_name(), "id": value(module.get_id())},
        },
        "attachments": None
        if attachments is None
        else [{"id": a.get_id(), "name": a.get_name(), "size": a.get_size()} for a in attachments],
        "thread_id": e.get_thread_id(),
        "content": e.get_content(),
        "mail_format": e.get_mail_format(),
        "intent": value(e.get_intent()),
        "sentiment_info": value(e.get_sentiment_info()),
        "emotion": e.get_emotion(),
        "summary": e.get_summary(),
    }


def read(response: Any, pkg: Any) -> dict[str, Any]:
    if response is None:
        return {"ok": False, "kind": "no_response"}
    status = response.get_status_code()
    obj = response.get_object()
    if isinstance(obj, pkg.ResponseWrapper):
        info = obj.get_info()
        return {
            "http_status": status,
            "emails": [email(e) for e in obj.get_emails() or []],
            "info": None
            if info is None
            else {
                "per_page": info.get_per_page(),
                "count": info.get_count(),
                "next_index": info.get_next_index(),
                "prev_index": info.get_prev_index(),
                "more_records": info.get_more_records(),
            },
        }
    if isinstance(obj, pkg.APIException):
        return {
            "ok": False,
            "kind": "api_exception",
            "http_status": status,
            "code": base.jsonable(obj.get_code()),
            "message": base.jsonable(obj.get_message()),
            "details": base.jsonable(obj.get_details()),
            "status": base.jsonable(obj.get_status()),
        }
    return {"http_status": status, "empty": True}


def probe(args: argparse.Namespace) -> dict[str, Any]:
    sdk = base.sdk
    pkg = sdk("crm.api.email_related_records")
    ParameterMap = sdk("crm.api.parameter_map").ParameterMap
    SDKException = sdk("crm.api.exception").SDKException
    url = args.url.rstrip("/")
    try:
        environment = sdk("crm.api.dc.data_center").DataCenter.Environment(
            url, url + "/oauth/v2/token", url
        )
        sdk("crm.api.initializer").Initializer.initialize(
            environment=environment,
            token=sdk("api.authenticator.oauth_token").OAuthToken(access_token=args.token),
            store=sdk("api.authenticator.store").FileStore(
                os.path.join(os.getcwd(), "sdk_tokens.txt")
            ),
        )
        owner = int(args.owner_id) if args.owner_id is not None else None
        ops = pkg.EmailRelatedRecordsOperations(int(args.record_id), args.module, args.type, owner)
        if args.message is not None:
            one = read(ops.get_emails_related_record(args.message), pkg)
            return one if one.get("ok") is False else {"ok": True, **one}
        pages: list[dict[str, Any]] = []
        index = args.index
        while True:
            params = ParameterMap()
            if index is not None:
                params.add(pkg.GetEmailsRelatedRecordsParam.index, index)
            page = read(ops.get_emails_related_records(params), pkg)
            if page.get("ok") is False:
                return page
            pages.append(page)
            info = page.get("info") or {}
            index = info.get("next_index")
            if not args.all or index is None or info.get("more_records") is not True:
                return {"ok": True, "pages": pages}
            if len(pages) > 50:
                return {"ok": False, "kind": "too_many_pages"}
    except SDKException as exc:
        return {
            "ok": False,
            "kind": "sdk_exception",
            "code": base.jsonable(exc.code),
            "message": base.jsonable(exc.error_message),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    for name in ("--url", "--token", "--module", "--record-id"):
        parser.add_argument(name, required=True)
    for name in ("--type", "--owner-id", "--index", "--message"):
        parser.add_argument(name)
    parser.add_argument("--all", action="store_true")
    args = parser.parse_args()
    _, dist = base.installed_sdk()
    workdir = tempfile.mkdtemp(prefix="emailshare-sdk-emails-")
    old = os.getcwd()
    os.chdir(workdir)
    try:
        result = probe(args)
    finally:
        os.chdir(old)
        shutil.rmtree(workdir, ignore_errors=True)
    result["sdk"] = dist
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
