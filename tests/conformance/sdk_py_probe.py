"""Drive Zoho's official Python SDK against an emailshare server and print what it parsed.

Run this INSIDE an SDK virtualenv (``.venvs/sdk7/bin/python`` or ``.venvs/sdk8/bin/python``,
made by ``scripts/setup-python-sdks.sh``); it imports nothing from emailshare or pytest.

    python sdk_py_probe.py --url http://127.0.0.1:PORT --token 1000.x.y \
        --module Accounts --record-id 3652397000001790004 [--sdk 7|8]

or, letting the SDK get its access token from ``--url``/oauth/v2/token itself (nothing is
pre-seeded in its token store)::

    python sdk_py_probe.py --url ... --client-id ID --client-secret SECRET \
        --grant-token CODE [--redirect-url URI] --module ... --record-id ...
    python sdk_py_probe.py --url ... --client-id ID --client-secret SECRET \
        --refresh-token 1000.x.y --module ... --record-id ...

``--store DIR`` keeps the SDK's token file (``DIR/sdk_tokens.txt``) between runs; by default
it lives in the fresh temporary working directory and is removed at exit.

It prints exactly one JSON line on stdout (the SDK's own log goes to stderr):

* success (the SDK returned its ``ResponseWrapper``)::

    {"ok": true, "kind": "success", "available_types": [...],
     "share_from_users": [{"id": <int>, "name": "...", "_type": "..."}], ...}

  ``id`` is what ``ShareFromUser.get_id()`` returns: the SDK declares it ``Long`` and turns
  the wire's digit string into a Python ``int``.
* API error (the SDK returned its ``APIException``)::

    {"ok": false, "kind": "api_exception", "code": "...", "message": "...",
     "details": {...}, "status": "error", ...}

* anything else: ``kind`` is ``no_response`` (the SDK returned ``None``), ``no_object`` (an
  ``APIResponse`` without a parsed object, e.g. a body the SDK could not convert),
  ``unexpected_object`` or ``sdk_exception`` (the SDK raised).

Every line also carries ``sdk`` (distribution and version actually imported), ``http_status``
(when the SDK exposes it) and ``user_signature``: the ``email:zgid`` name the SDK derived on
first use of the token from ``GET /crm/{v}/users?type=CurrentUser`` and ``GET /crm/{v}/org``
(``null`` when those calls did not give it one).

With ``--grant-token`` or ``--refresh-token`` the line also has ``auth`` (``"grant_token"`` /
``"refresh_token"``) and, once ``Initializer.initialize`` resolved the token, ``token``: what
the SDK's ``OAuthToken`` then holds (``access_token``, ``refresh_token``, ``expires_in`` as the
SDK's epoch-milliseconds string, ``api_domain``). A token endpoint error surfaces as
``kind: "sdk_exception"`` with ``code: "INVALID TOKEN ERROR"`` and ``message`` = the
endpoint's ``error`` value (``OAuthToken.parse_response``).

The SDK is used as shipped, with default settings except: a custom ``Environment`` whose API
domain, accounts (token) URL and file-upload URL all point at ``--url``; an ``OAuthToken``
built from the given token(s) only (``OAuthToken(access_token=…)``, or
``OAuthToken(client_id=…, client_secret=…, grant_token=…, redirect_url=…)``, or
``OAuthToken(client_id=…, client_secret=…, refresh_token=…)``); and a ``FileStore`` in a fresh
temporary directory (or ``--store``), the temporary directory being also the working directory
(the SDK's default ``resource_path``), so nothing is written into the repository and no token
is reused between runs unless ``--store`` asks for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
from importlib import metadata
from typing import Any

DISTRIBUTIONS = {7: "zohocrmsdk7-0", 8: "zohocrmsdk8_0"}


def installed_sdk() -> tuple[int, str]:
    """Which official SDK this interpreter has: (major API version, 'dist version')."""
    found = []
    for major, dist in DISTRIBUTIONS.items():
        try:
            found.append((major, f"{dist} {metadata.version(dist)}"))
        except metadata.PackageNotFoundError:
            continue
    if len(found) != 1:
        raise SystemExit(f"expected exactly one Zoho CRM Python SDK in this venv, found {found}")
    return found[0]


def jsonable(value: Any) -> Any:
    """Turn what the SDK parsed (Choice, lists, dicts, ints...) into plain JSON values."""
    if hasattr(value, "get_value") and callable(value.get_value):  # zohocrmsdk Choice
        return jsonable(value.get_value())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def sdk(name: str) -> Any:
    """A module of the installed SDK: zohocrmsdk.src.com.zoho.<name>."""
    return importlib.import_module("zohocrmsdk.src.com.zoho." + name)


def probe(args: argparse.Namespace, major: int) -> dict[str, Any]:
    # Imported by name so that mypy (run from the project's venv, without the SDK) sees Any.
    OAuthToken = sdk("api.authenticator.oauth_token").OAuthToken
    FileStore = sdk("api.authenticator.store").FileStore
    DataCenter = sdk("crm.api.dc.data_center").DataCenter
    details_pkg = sdk("crm.api.email_sharing_details")
    APIException = details_pkg.APIException
    EmailSharingDetailsOperations = details_pkg.EmailSharingDetailsOperations
    ResponseWrapper = details_pkg.ResponseWrapper
    SDKException = sdk("crm.api.exception").SDKException
    Initializer = sdk("crm.api.initializer").Initializer

    url = args.url.rstrip("/")
    out: dict[str, Any] = {"user_signature": None}
    try:
        environment = DataCenter.Environment(url, url + "/oauth/v2/token", url)
        if args.grant_token is not None:
            out["auth"] = "grant_token"
            token = OAuthToken(
                client_id=args.client_id,
                client_secret=args.client_secret,
                grant_token=args.grant_token,
                redirect_url=args.redirect_url,
            )
        elif args.refresh_token is not None:
            out["auth"] = "refresh_token"
            token = OAuthToken(
                client_id=args.client_id,
                client_secret=args.client_secret,
                refresh_token=args.refresh_token,
            )
        else:
            token = OAuthToken(access_token=args.token)
        store = FileStore(os.path.join(args.store or os.getcwd(), "sdk_tokens.txt"))
        # Default settings otherwise: SDKConfig(), logger NOTSET, resource_path = cwd (temp dir).
        # initialize() runs token.generate_token(): with a grant or refresh token (and no usable
        # access token in the store) it first POSTs to <url>/oauth/v2/token; then, on first use
        # of the access token, GET /crm/{v}/users?type=CurrentUser and GET /crm/{v}/org
        # (Utility.get_user_name).
        Initializer.initialize(environment=environment, token=token, store=store)
        signature = token.get_user_signature()
        out["user_signature"] = signature.get_name() if signature is not None else None
        if "auth" in out:
            out["token"] = {
                "access_token": token.get_access_token(),
                "refresh_token": token.get_refresh_token(),
                "expires_in": token.get_expires_in(),
                "api_domain": token.get_api_domain(),
            }

        record_id = int(args.record_id)
        response = EmailSharingDetailsOperations(record_id, args.module).get_email_sharing_details()
    except SDKException as exc:
        out.update(
            ok=False,
            kind="sdk_exception",
            code=jsonable(exc.code),
            message=jsonable(exc.error_message),
            details=jsonable(exc.details),
            cause=repr(exc.cause) if exc.cause is not None else None,
        )
        return out

    if response is None:
        out.update(ok=False, kind="no_response")
        return out
    out["http_status"] = response.get_status_code()
    out["content_type"] = response.get_headers().get("Content-Type")
    obj = response.get_object()
    if obj is None:
        out.update(ok=False, kind="no_object", body=jsonable(response.get_response_json()))
    elif isinstance(obj, ResponseWrapper):
        # Same JSON key "__emails_sharing_details"; the getter is named differently.
        getter = "get_emailssharingdetails" if major == 7 else "get_emails_sharing_details"
        entries = getattr(obj, getter)() or []
        out.update(ok=True, kind="success", entries=len(entries))
        first = entries[0] if entries else None
        users = (first.get_share_from_users() if first is not None else None) or []
        out["available_types"] = jsonable(first.get_available_types()) if first else None
        out["share_from_users"] = [
            {"id": jsonable(u.get_id()), "name": u.get_name(), "_type": u.get_type()} for u in users
        ]
    elif isinstance(obj, APIException):
        out.update(
            ok=False,
            kind="api_exception",
            code=jsonable(obj.get_code()),
            message=jsonable(obj.get_message()),
            details=jsonable(obj.get_details()),
            status=jsonable(obj.get_status()),
        )
    else:
        out.update(ok=False, kind="unexpected_object", type=type(obj).__name__)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8000")
    tokens = parser.add_mutually_exclusive_group(required=True)
    tokens.add_argument("--token", help="access token")
    tokens.add_argument("--grant-token", help="grant code; needs --client-id/--client-secret")
    tokens.add_argument("--refresh-token", help="refresh token; needs --client-id/--client-secret")
    parser.add_argument("--client-id", help="OAuth client id (grant or refresh token)")
    parser.add_argument("--client-secret", help="OAuth client secret (grant or refresh token)")
    parser.add_argument("--redirect-url", help="the client's redirect URI (grant token)")
    parser.add_argument("--store", help="directory for the SDK's sdk_tokens.txt, kept after exit")
    parser.add_argument("--module", required=True, help="module API name, e.g. Accounts")
    parser.add_argument("--record-id", required=True, help="record id (the SDK takes an int)")
    parser.add_argument(
        "--sdk",
        type=int,
        choices=sorted(DISTRIBUTIONS),
        help="expected SDK major version (checked against this venv)",
    )
    args = parser.parse_args(argv)
    if args.token is None and (args.client_id is None or args.client_secret is None):
        parser.error("--grant-token and --refresh-token need --client-id and --client-secret")
    if args.token is not None and (args.client_id or args.client_secret or args.redirect_url):
        parser.error("--token (an access token) takes no client options")
    if args.store is not None:
        args.store = os.path.abspath(args.store)  # resolved before the chdir below

    major, dist = installed_sdk()
    if args.sdk is not None and args.sdk != major:
        raise SystemExit(f"--sdk {args.sdk} asked, but this venv has {dist}")

    workdir = tempfile.mkdtemp(prefix="emailshare-sdk-py-")
    old_cwd = os.getcwd()
    os.chdir(workdir)
    try:
        result = probe(args, major)
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(workdir, ignore_errors=True)
    result["sdk"] = dist
    sys.stdout.write(json.dumps(result, sort_keys=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
